// Following a workload's rollout with watches (the workload, a Deployment's ReplicaSets, the pods),
// by kubectl's status rules, stopping as soon as the verdict is decidable: done,
// ProgressDeadlineExceeded, or a new pod that cannot come up (see podFailure); otherwise at the
// deadline.
import type { KubeObject, KubernetesClient, ResourceRef, RolloutStatus } from '@aws-containers/core';
import { podFailure, type PodFailure } from './diagnose.js';
import { WORKLOAD_KINDS, record, type WorkloadKind } from './manifests.js';

export type FollowState = 'COMPLETED' | 'FAILED' | 'TIMED_OUT' | 'CANCELLED';

export interface FollowResult {
  state: FollowState;
  /** kubectl's last sentence, or why it failed. */
  message: string;
  failure?: PodFailure;
  /** The workload as last seen. */
  object: KubeObject;
  /** The ReplicaSet of a Deployment's current revision, when seen. */
  newReplicaSet?: KubeObject;
  /** The pods of the new revision as last seen. */
  pods: KubeObject[];
}

export interface FollowRequest {
  client: KubernetesClient;
  /** The step's signal: aborting it ends the follow as CANCELLED. */
  signal: AbortSignal;
  kind: WorkloadKind;
  namespace: string;
  name: string;
  timeoutMs: number;
  maxRestarts: number;
  /** kubectl's rule for the workload's kind (core). */
  status: (object: KubeObject) => RolloutStatus;
  /** Each new kubectl sentence, as it changes. */
  onProgress?: (message: string) => void;
  /** Counts the watch events and the calls, for the summary. */
  stats?: { events: number; calls: number };
  /** A warning for a person (core.warning, fenced): a pod unschedulable for longer than a minute. */
  onWarning?: (message: string) => void;
  /** How long a new pod may stay unschedulable before the warning; default one minute. */
  unschedulableWarnMs?: number;
  /** Milliseconds, for the unschedulable timer; default performance.now. */
  now?: () => number;
  /**
   * Asked once, beside the watches, with the images of the workload's pod template: why one of
   * them cannot be pulled (ECR DescribeImages says it is not there), or undefined. A reason ends
   * the follow FAILED without waiting for a pod to fail pulling it.
   */
  missingImage?: (images: string[], signal: AbortSignal) => Promise<string | undefined>;
}

/** The images of a workload's pod template, init containers first (pure). */
export function templateImages(workload: KubeObject): string[] {
  const podSpec = record(record(record(workload.spec)?.template)?.spec);
  const images: string[] = [];
  for (const list of [podSpec?.initContainers, podSpec?.containers]) {
    if (!Array.isArray(list)) continue;
    for (const c of list as Array<{ image?: unknown }>) if (typeof c.image === 'string') images.push(c.image);
  }
  return images;
}

/** Why a pod cannot be scheduled (PodScheduled False, Unschedulable), or undefined (pure). */
export function unschedulableMessage(pod: KubeObject): string | undefined {
  const conditions = record(pod.status)?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  const c = (conditions as Array<{ type?: string; status?: string; reason?: string; message?: string }>).find(
    (x) => x.type === 'PodScheduled' && x.status === 'False' && x.reason === 'Unschedulable',
  );
  return c ? (c.message ?? 'Unschedulable') : undefined;
}

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

export function revisionOf(object: KubeObject | undefined): string | undefined {
  return object?.metadata.annotations?.[REVISION_ANNOTATION];
}

/** `a=b,c=d` from a selector's matchLabels (matchExpressions are left to the owner check). */
export function labelSelectorOf(deployment: KubeObject): string | undefined {
  const labels = record(record(record(deployment.spec)?.selector)?.matchLabels);
  if (!labels) return undefined;
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length > 0 ? parts.join(',') : undefined;
}

const workloadsRef = (kind: WorkloadKind, namespace: string, name?: string): ResourceRef => ({
  group: 'apps',
  version: 'v1',
  plural: WORKLOAD_KINDS[kind].plural,
  namespace,
  ...(name && { name }),
});

/** The pods of a StatefulSet's or DaemonSet's update revision (pure). */
export function updatedPods(
  kind: WorkloadKind,
  object: KubeObject,
  pods: readonly KubeObject[],
): KubeObject[] {
  const owned = pods.filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === object.metadata.uid));
  if (kind === 'statefulset') {
    const update = record(object.status)?.updateRevision;
    return owned.filter(
      (p) => update !== undefined && p.metadata.labels?.['controller-revision-hash'] === update,
    );
  }
  if (kind === 'daemonset') {
    const generation = String(object.metadata.generation ?? '');
    return owned.filter((p) => p.metadata.labels?.['pod-template-generation'] === generation);
  }
  return owned;
}

export async function followWorkload(request: FollowRequest): Promise<FollowResult> {
  const { client, namespace, name, maxRestarts, kind } = request;
  const stats = request.stats ?? { events: 0, calls: 0 };
  const inner = new AbortController();
  const onAbort = () => inner.abort(request.signal.reason);
  if (request.signal.aborted) onAbort();
  else request.signal.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    inner.abort(new Error('timeout'));
  }, request.timeoutMs);
  const signal = inner.signal;

  let workload: KubeObject = await client.get(workloadsRef(kind, namespace, name), { signal });
  stats.calls++;
  const pods = new Map<string, KubeObject>();
  const replicaSets = new Map<string, KubeObject>();
  const unpullable = new Set<string>();
  let lastMessage = '';
  let verdict: Omit<FollowResult, 'object' | 'pods' | 'newReplicaSet'> | undefined;
  let settle: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => (settle = resolve));

  const conclude = (v: NonNullable<typeof verdict>) => {
    if (verdict) return;
    verdict = v;
    settle();
    inner.abort(new Error('verdict'));
  };

  const newReplicaSet = (): KubeObject | undefined => {
    const revision = revisionOf(workload);
    return [...replicaSets.values()].find(
      (rs) =>
        revisionOf(rs) === revision &&
        rs.metadata.ownerReferences?.some((o) => o.uid === workload.metadata.uid),
    );
  };
  const newPods = (): KubeObject[] => {
    if (kind !== 'deployment') return updatedPods(kind, workload, [...pods.values()]);
    const rs = newReplicaSet();
    if (!rs) return [];
    return [...pods.values()].filter((p) =>
      p.metadata.ownerReferences?.some((o) => o.uid === rs.metadata.uid),
    );
  };

  const judgeWorkload = () => {
    const status = request.status(workload);
    if (status.message !== lastMessage) {
      lastMessage = status.message;
      request.onProgress?.(status.message);
    }
    if (status.failed) conclude({ state: 'FAILED', message: status.failed });
    else if (status.done) conclude({ state: 'COMPLETED', message: status.message });
  };
  const now = request.now ?? (() => performance.now());
  const warnAfter = request.unschedulableWarnMs ?? 60_000;
  const unschedulableSince = new Map<string, number>();
  const warned = new Set<string>();
  const checkScheduling = () => {
    for (const pod of newPods()) {
      const why = unschedulableMessage(pod);
      const key = pod.metadata.name;
      if (!why) {
        unschedulableSince.delete(key);
        continue;
      }
      const since = unschedulableSince.get(key) ?? now();
      unschedulableSince.set(key, since);
      if (now() - since >= warnAfter && !warned.has(key)) {
        warned.add(key);
        request.onWarning?.(
          `pod ${key} of ${kind} ${name} is not scheduled after ${Math.round((now() - since) / 1000)} s: ${why}`,
        );
      }
    }
  };
  const schedulingTimer = setInterval(checkScheduling, Math.min(5000, Math.max(100, warnAfter / 4)));
  schedulingTimer.unref();
  const judgePods = () => {
    checkScheduling();
    for (const pod of newPods()) {
      const failure = podFailure(pod, maxRestarts, unpullable);
      if (failure) {
        conclude({ state: 'FAILED', message: `${failure.pod}: ${failure.message}`, failure });
        return;
      }
    }
  };

  const selector = labelSelectorOf(workload);
  const rsRef: ResourceRef = { group: 'apps', version: 'v1', plural: 'replicasets', namespace };
  const podsRef: ResourceRef = { group: '', version: 'v1', plural: 'pods', namespace };

  const watchWorkload = async () => {
    for await (const event of client.watch(workloadsRef(kind, namespace), {
      signal,
      fieldSelector: `metadata.name=${name}`,
      resourceVersion: workload.metadata.resourceVersion,
    })) {
      stats.events++;
      if (event.type === 'DELETED') {
        conclude({ state: 'FAILED', message: `${kind} "${name}" was deleted during the rollout` });
        return;
      }
      if (event.type === 'BOOKMARK') continue;
      workload = event.object;
      judgeWorkload();
      judgePods();
    }
  };
  const watchList = async (ref: ResourceRef, into: Map<string, KubeObject>, onChange: () => void) => {
    const listed = await client.list(ref, { signal, ...(selector && { labelSelector: selector }) });
    stats.calls++;
    for (const item of listed.items) into.set(item.metadata.name, item);
    onChange();
    for await (const event of client.watch(ref, {
      signal,
      ...(selector && { labelSelector: selector }),
      resourceVersion: listed.resourceVersion,
    })) {
      stats.events++;
      if (event.type === 'BOOKMARK') continue;
      if (event.type === 'DELETED') into.delete(event.object.metadata.name);
      else into.set(event.object.metadata.name, event.object);
      onChange();
    }
  };

  const checkImages = async () => {
    const missing = await request.missingImage?.(templateImages(workload), signal);
    if (missing) conclude({ state: 'FAILED', message: missing });
  };

  judgeWorkload();
  const loops = [
    checkImages(),
    watchWorkload(),
    watchList(rsRef, replicaSets, judgePods),
    watchList(podsRef, pods, judgePods),
  ];
  const loopError = Promise.all(
    loops.map((loop) =>
      loop.catch((error: unknown) => {
        if (!signal.aborted) throw error;
      }),
    ),
  );
  try {
    await Promise.race([
      settled,
      loopError.then(() => settled),
      signal.aborted ? Promise.resolve() : abortPromise(signal),
    ]);
  } finally {
    clearTimeout(timer);
    clearInterval(schedulingTimer);
    request.signal.removeEventListener('abort', onAbort);
    if (!inner.signal.aborted) inner.abort(new Error('done'));
    // Cancelled: the step ends at once, without waiting for the watches to wind down.
    if (!request.signal.aborted) await Promise.allSettled(loops);
  }
  const result = { object: workload, newReplicaSet: newReplicaSet(), pods: newPods() };
  if (verdict) return { ...verdict, ...result };
  if (request.signal.aborted) return { state: 'CANCELLED', message: lastMessage, ...result };
  if (timedOut) {
    return {
      state: 'TIMED_OUT',
      message: `timeout after ${Math.round(request.timeoutMs / 1000)} s: ${lastMessage}`,
      ...result,
    };
  }
  return { state: 'FAILED', message: lastMessage || 'the watches ended', ...result };
}

function abortPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
