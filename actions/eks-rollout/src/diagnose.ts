// Why a rollout fails: the decision to stop early from a new pod's container states (pure), and
// the diagnosis gathered once it has failed — waiting reasons, last terminations, events, the last
// log lines of the crashing container. Everything here that came from the cluster is outside text:
// it is printed through info() and fence, and escaped in the job summary.
import type { KubeObject, KubernetesClient } from '@aws-containers/core';
import { record } from './manifests.js';

interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode?: number; reason?: string; message?: string; signal?: number };
}

export interface ContainerStatus {
  name: string;
  image?: string;
  ready?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

/** The statuses of a pod's init containers and containers. */
export function containerStatuses(pod: KubeObject): Array<ContainerStatus & { init: boolean }> {
  const status = record(pod.status);
  const pick = (v: unknown, init: boolean) =>
    (Array.isArray(v) ? (v as ContainerStatus[]) : []).map((c) => ({ ...c, init }));
  return [...pick(status?.initContainerStatuses, true), ...pick(status?.containerStatuses, false)];
}

/** A pull error that will not go away by waiting: the image or the right to pull it is missing. */
const UNPULLABLE =
  /not ?found|manifest unknown|name unknown|does not exist|pull access denied|unauthorized|forbidden|access denied|invalid reference|repository .* not found/i;

/** Why a new pod makes its rollout fail now, or undefined while it may still come up. */
export interface PodFailure {
  pod: string;
  container: string;
  reason: string;
  /** One line for a person; the cluster's message is outside text. */
  message: string;
  /** The container crashed: its previous logs are worth reading. */
  crashed: boolean;
}

/**
 * The decision to stop waiting for a pod (pure): a container waiting with an image that cannot be
 * pulled (ErrImagePull or ImagePullBackOff whose message says so, or InvalidImageName), in
 * CrashLoopBackOff having restarted more than `maxRestarts` times, or CreateContainerConfigError
 * (a missing ConfigMap, Secret or key: the kubelet retries, but nothing in the rollout will add it).
 * `seenUnpullable` holds `pod/container` keys already judged unpullable (ImagePullBackOff's own
 * message only says "Back-off pulling image").
 */
export function podFailure(
  pod: KubeObject,
  maxRestarts: number,
  seenUnpullable: Set<string> = new Set(),
): PodFailure | undefined {
  const name = pod.metadata.name;
  for (const c of containerStatuses(pod)) {
    const waiting = c.state?.waiting;
    const reason = waiting?.reason ?? '';
    const message = waiting?.message ?? '';
    const key = `${name}/${c.name}`;
    if (reason === 'ErrImagePull' || reason === 'ImagePullBackOff' || reason === 'InvalidImageName') {
      if (reason === 'InvalidImageName' || UNPULLABLE.test(message) || seenUnpullable.has(key)) {
        seenUnpullable.add(key);
        return {
          pod: name,
          container: c.name,
          reason,
          message: `the image ${c.image ?? ''} of container ${c.name} cannot be pulled: ${message || reason}`,
          crashed: false,
        };
      }
    }
    if (reason === 'CreateContainerConfigError') {
      return {
        pod: name,
        container: c.name,
        reason,
        message: `container ${c.name} cannot be created: ${message || reason}`,
        crashed: false,
      };
    }
    if (reason === 'CrashLoopBackOff' && (c.restartCount ?? 0) > maxRestarts) {
      const last = c.lastState?.terminated;
      return {
        pod: name,
        container: c.name,
        reason,
        message: `container ${c.name} keeps crashing: ${c.restartCount ?? 0} restarts (more than max-restarts ${maxRestarts})${last ? `, last ${terminationText(last)}` : ''}`,
        crashed: true,
      };
    }
  }
  return undefined;
}

export function terminationText(t: NonNullable<ContainerState['terminated']>): string {
  return `exit code ${t.exitCode ?? '?'}${t.reason ? ` (${t.reason})` : ''}${t.signal ? `, signal ${t.signal}` : ''}`;
}

/** One container's state in a line: `web: waiting CrashLoopBackOff (restarts 4; last exit code 1 (Error))`. */
export function containerLine(c: ContainerStatus & { init?: boolean }): string {
  const state = c.state ?? {};
  const now = state.waiting
    ? `waiting ${state.waiting.reason ?? ''}${state.waiting.message ? `: ${state.waiting.message}` : ''}`
    : state.terminated
      ? `terminated, ${terminationText(state.terminated)}`
      : state.running
        ? `running${c.ready ? ', ready' : ', not ready'}`
        : 'no state yet';
  const last = c.lastState?.terminated ? `; last ${terminationText(c.lastState.terminated)}` : '';
  return `${c.init ? 'init ' : ''}${c.name}: ${now} (restarts ${c.restartCount ?? 0}${last})`;
}

export interface Diagnosis {
  workload: string;
  /** `pod: container line` for each new pod's containers. */
  containers: string[];
  /** `Type Reason (object): message ×count`, oldest first. */
  events: string[];
  /** The last log lines of crashed containers (previous=true), keyed `pod/container`. */
  logs: Array<{ container: string; lines: string }>;
}

export interface DiagnoseRequest {
  client: KubernetesClient;
  signal: AbortSignal;
  namespace: string;
  /** `Deployment/web`. */
  workload: string;
  /** The workload, its new ReplicaSet and pods: their events are gathered. */
  objects: KubeObject[];
  pods: KubeObject[];
  maxRestarts: number;
  tailLines?: number;
}

const MAX_EVENTS = 30;

/** Gathers the diagnosis of a failed rollout. Each read that fails leaves its part out, with a line saying so. */
export async function diagnose(request: DiagnoseRequest): Promise<Diagnosis> {
  const { client, signal, namespace } = request;
  const diagnosis: Diagnosis = { workload: request.workload, containers: [], events: [], logs: [] };
  for (const pod of request.pods) {
    for (const c of containerStatuses(pod))
      diagnosis.containers.push(`${pod.metadata.name} ${containerLine(c)}`);
  }
  const uids = new Set([...request.objects, ...request.pods].map((o) => o.metadata.uid).filter(Boolean));
  try {
    const events = await client.list({ group: '', version: 'v1', plural: 'events', namespace }, { signal });
    diagnosis.events = events.items
      .filter((e) => uids.has(record(e.involvedObject)?.uid as string))
      .sort((a, b) => eventTime(a).localeCompare(eventTime(b)))
      .slice(-MAX_EVENTS)
      .map(eventLine);
  } catch (error) {
    if (signal.aborted) throw error;
    diagnosis.events = [
      `(the events could not be read: ${error instanceof Error ? error.message : String(error)})`,
    ];
  }
  for (const pod of request.pods) {
    for (const c of containerStatuses(pod)) {
      const crashed = c.lastState?.terminated !== undefined || c.state?.terminated !== undefined;
      if (!crashed) continue;
      try {
        const lines = await client.logs(
          {
            group: '',
            version: 'v1',
            plural: 'pods',
            namespace,
            name: pod.metadata.name,
            subresource: 'log',
          },
          {
            signal,
            container: c.name,
            previous: c.state?.terminated === undefined,
            tailLines: request.tailLines ?? 20,
          },
        );
        diagnosis.logs.push({ container: `${pod.metadata.name}/${c.name}`, lines: lines.trimEnd() });
      } catch (error) {
        if (signal.aborted) throw error;
        diagnosis.logs.push({
          container: `${pod.metadata.name}/${c.name}`,
          lines: `(no logs: ${error instanceof Error ? error.message : String(error)})`,
        });
      }
      break;
    }
    if (diagnosis.logs.length >= 3) break;
  }
  return diagnosis;
}

function eventTime(e: KubeObject): string {
  return String(
    e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? record(e.metadata)?.creationTimestamp ?? '',
  );
}

function eventLine(e: KubeObject): string {
  const involved = record(e.involvedObject);
  const count = typeof e.count === 'number' && e.count > 1 ? ` ×${e.count}` : '';
  return `${String(e.type ?? '')} ${String(e.reason ?? '')} (${String(involved?.kind ?? '')}/${String(involved?.name ?? '')}): ${String(e.message ?? '')}${count}`;
}

/** The diagnosis as log text (to print through info(), which fences it). */
export function diagnosisText(d: Diagnosis): string {
  const parts = [`Diagnosis of ${d.workload}:`];
  if (d.containers.length > 0)
    parts.push('  Containers of the new pods:', ...d.containers.map((l) => `    ${l}`));
  if (d.events.length > 0) parts.push('  Recent events:', ...d.events.map((l) => `    ${l}`));
  for (const log of d.logs) {
    parts.push(
      `  Last log lines of ${log.container} (previous run):`,
      ...log.lines.split('\n').map((l) => `    ${l}`),
    );
  }
  return parts.join('\n');
}
