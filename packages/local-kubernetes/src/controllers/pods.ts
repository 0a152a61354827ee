// What controllers read of pods: readiness, availability (ready for minReadySeconds), whether a pod
// still counts (not terminal, not being deleted), and what it asks of a node.
import type { KObject } from '../store.js';
import { bytes, milliCpu } from './quantity.js';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastProbeTime?: string | null;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  imagePullPolicy?: string;
  env?: Array<{
    name: string;
    value?: string;
    valueFrom?: Record<string, { name?: string; key?: string; optional?: boolean }>;
  }>;
  envFrom?: Array<{
    configMapRef?: { name: string; optional?: boolean };
    secretRef?: { name: string; optional?: boolean };
  }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}

export interface Probe {
  initialDelaySeconds?: number;
  periodSeconds?: number;
  failureThreshold?: number;
  httpGet?: { port?: number | string; path?: string };
  tcpSocket?: { port?: number | string };
  exec?: { command?: string[] };
}

export interface PodSpec {
  containers: Container[];
  nodeName?: string;
  restartPolicy?: string;
  terminationGracePeriodSeconds?: number;
  nodeSelector?: Record<string, string>;
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
    };
  };
}

export interface NodeSelectorTerm {
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
  matchFields?: Array<{ key: string; operator: string; values?: string[] }>;
}

export interface PodStatus {
  phase?: string;
  conditions?: Condition[];
  containerStatuses?: Array<{ name: string; ready?: boolean; restartCount?: number }>;
  [k: string]: unknown;
}

export const specOf = (pod: KObject) => (pod.spec ?? { containers: [] }) as PodSpec;
export const statusOf = (pod: KObject) => (pod.status ?? {}) as PodStatus;

export const conditionOf = (object: KObject, type: string) =>
  ((object.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).find(
    (c) => c.type === type,
  );

export const isTerminal = (pod: KObject) => ['Succeeded', 'Failed'].includes(statusOf(pod).phase ?? '');

/** Counted by its controller: not finished, not being deleted (FilterActivePods). */
export const isActive = (pod: KObject) => !isTerminal(pod) && !pod.metadata.deletionTimestamp;

export const isReady = (pod: KObject) => conditionOf(pod, 'Ready')?.status === 'True';

/** podutil.IsPodAvailable: Ready for at least minReadySeconds. */
export function isAvailable(pod: KObject, minReadySeconds: number, now: number): boolean {
  const ready = conditionOf(pod, 'Ready');
  if (ready?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : now;
  return since + minReadySeconds * 1000 <= now;
}

/** When a Ready pod becomes available (for a requeue), or undefined. */
export function availableAt(pod: KObject, minReadySeconds: number): number | undefined {
  const ready = conditionOf(pod, 'Ready');
  if (ready?.status !== 'True' || !ready.lastTransitionTime) return undefined;
  return Date.parse(ready.lastTransitionTime) + minReadySeconds * 1000;
}

/** The cpu (millicores) and memory (bytes) a pod requests: requests, or limits where requests are unset. */
export function requestsOf(pod: KObject): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const c of specOf(pod).containers ?? []) {
    const requests = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
    cpu += milliCpu(requests.cpu);
    memory += bytes(requests.memory);
  }
  return { cpu, memory };
}

/** Sets a condition as the controllers' SetCondition helpers do: same status keeps lastTransitionTime. */
export function setCondition(conditions: Condition[], next: Condition): Condition[] {
  const current = conditions.find((c) => c.type === next.type);
  if (current && current.status === next.status && current.lastTransitionTime)
    next = { ...next, lastTransitionTime: current.lastTransitionTime };
  return [...conditions.filter((c) => c.type !== next.type), next];
}
