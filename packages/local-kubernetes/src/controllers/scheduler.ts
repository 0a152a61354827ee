// default-scheduler: binds each pending pod to a node that has room for what it requests (cpu,
// memory, pod count) and matches its nodeSelector / required node affinity, preferring the least
// requested node. A pod that fits nowhere stays Pending with PodScheduled False Unschedulable and a
// FailedScheduling event in 1.32's words; it is tried again when pods go away or nodes change, and
// every 5 minutes (the scheduler's podMaxInUnschedulablePodsDuration).
import type { Change, KObject } from '../store.js';
import { timestamp } from '../store.js';
import { matches } from './labels.js';
import {
  isTerminal,
  requestsOf,
  setCondition,
  specOf,
  statusOf,
  type Condition,
  type NodeSelectorTerm,
} from './pods.js';
import { bytes, milliCpu, parseQuantity } from './quantity.js';
import { keyOf, splitKey, type Runtime } from './runtime.js';
import { T } from './types.js';

const NAME = 'scheduler';
const UNSCHEDULABLE_RETRY_MS = 5 * 60 * 1000;

export function startScheduler(rt: Runtime): (change: Change) => void {
  const unschedulable = new Set<string>();
  rt.register(NAME, (key) => schedule(rt, key, unschedulable));
  const retryAll = () => {
    for (const key of unschedulable) rt.enqueue(NAME, key);
  };
  return (change) => {
    if (change.resource === 'nodes') return retryAll();
    if (change.resource !== 'pods') return;
    const pod = change.object;
    if (change.type === 'DELETED' || isTerminal(pod)) {
      unschedulable.delete(keyOf(pod));
      if (specOf(pod).nodeName) retryAll();
      return;
    }
    // An unschedulable pod is tried again on the events above, not on its own status writes.
    if (!specOf(pod).nodeName && !pod.metadata.deletionTimestamp && !unschedulable.has(keyOf(pod)))
      rt.enqueue(NAME, keyOf(pod));
  };
}

function nodeAffinityMatches(node: KObject, pod: KObject): boolean {
  const spec = specOf(pod);
  if (spec.nodeSelector && !matches({ matchLabels: spec.nodeSelector }, node.metadata.labels)) return false;
  const terms: NodeSelectorTerm[] =
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length === 0) return true;
  // Terms are ORed; within a term, expressions and fields are ANDed.
  return terms.some(
    (term) =>
      matches({ matchExpressions: term.matchExpressions ?? [] }, node.metadata.labels) &&
      matches({ matchExpressions: term.matchFields ?? [] }, { 'metadata.name': node.metadata.name }),
  );
}

function schedule(rt: Runtime, key: string, unschedulable: Set<string>): void {
  const [namespace, name] = splitKey(key);
  const pod = rt.store.get(T.pods, namespace, name);
  if (!pod || specOf(pod).nodeName || pod.metadata.deletionTimestamp || isTerminal(pod)) {
    unschedulable.delete(key);
    return;
  }
  const nodes = rt.store.list(T.nodes);
  const pods = rt.store.list(T.pods).filter((p) => specOf(p).nodeName && !isTerminal(p));
  const wanted = requestsOf(pod);
  const reasons = new Map<string, number>();
  let unresolvable = 0;
  const fits: Array<{ node: KObject; score: number }> = [];
  for (const node of nodes) {
    if (!nodeAffinityMatches(node, pod)) {
      reasons.set(
        "node(s) didn't match Pod's node affinity/selector",
        (reasons.get("node(s) didn't match Pod's node affinity/selector") ?? 0) + 1,
      );
      unresolvable++;
      continue;
    }
    const allocatable = ((node.status as { allocatable?: Record<string, string> }).allocatable ??
      {}) as Record<string, string>;
    const onNode = pods.filter((p) => specOf(p).nodeName === node.metadata.name);
    const used = onNode.reduce(
      (sum, p) => {
        const r = requestsOf(p);
        return { cpu: sum.cpu + r.cpu, memory: sum.memory + r.memory };
      },
      { cpu: 0, memory: 0 },
    );
    const capacity = {
      cpu: milliCpu(allocatable.cpu),
      memory: bytes(allocatable.memory),
      pods: parseQuantity(allocatable.pods) || 110,
    };
    const failed: string[] = [];
    if (onNode.length + 1 > capacity.pods) failed.push('Too many pods');
    if (wanted.cpu > 0 && used.cpu + wanted.cpu > capacity.cpu) failed.push('Insufficient cpu');
    if (wanted.memory > 0 && used.memory + wanted.memory > capacity.memory)
      failed.push('Insufficient memory');
    for (const reason of failed) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    if (failed.length > 0) continue;
    // LeastAllocated: the node with the most room left after this pod, then the fewest pods.
    const score =
      (capacity.cpu ? (used.cpu + wanted.cpu) / capacity.cpu : 0) +
      (capacity.memory ? (used.memory + wanted.memory) / capacity.memory : 0) +
      onNode.length / capacity.pods;
    fits.push({ node, score });
  }
  const now = timestamp(rt.now());
  const conditions = (statusOf(pod).conditions ?? []) as Condition[];
  if (fits.length > 0) {
    fits.sort((a, b) => a.score - b.score || a.node.metadata.name.localeCompare(b.node.metadata.name));
    const node = fits[0]!.node;
    unschedulable.delete(key);
    rt.cancelKeyed(`${NAME}/${key}`);
    // The binding: spec.nodeName and PodScheduled True, as the pods/binding subresource writes them.
    const bound = rt.store.update(T.pods, { ...pod, spec: { ...specOf(pod), nodeName: node.metadata.name } });
    rt.store.update(
      T.pods,
      {
        ...bound,
        status: {
          ...statusOf(bound),
          phase: statusOf(bound).phase ?? 'Pending',
          conditions: setCondition(conditions, {
            type: 'PodScheduled',
            status: 'True',
            lastProbeTime: null,
            lastTransitionTime: now,
          }),
        },
      },
      { subresource: 'status' },
    );
    rt.events.record(bound, {
      type: 'Normal',
      reason: 'Scheduled',
      message: `Successfully assigned ${namespace}/${name} to ${node.metadata.name}`,
      component: 'default-scheduler',
    });
    return;
  }
  const histogram = (counts: Map<string, number>) =>
    [...counts].map(([reason, count]) => `${count} ${reason}`).sort();
  const preemption = new Map<string, number>();
  if (unresolvable) preemption.set('Preemption is not helpful for scheduling', unresolvable);
  if (nodes.length - unresolvable)
    preemption.set('No preemption victims found for incoming pod', nodes.length - unresolvable);
  const message =
    nodes.length === 0
      ? 'no nodes available to schedule pods'
      : `0/${nodes.length} nodes are available: ${histogram(reasons).join(', ')}. ` +
        `preemption: 0/${nodes.length} nodes are available: ${histogram(preemption).join(', ')}.`;
  rt.store.update(
    T.pods,
    {
      ...pod,
      status: {
        ...statusOf(pod),
        phase: 'Pending',
        conditions: setCondition(conditions, {
          type: 'PodScheduled',
          status: 'False',
          lastProbeTime: null,
          lastTransitionTime: now,
          reason: 'Unschedulable',
          message,
        }),
      },
    },
    { subresource: 'status' },
  );
  rt.events.record(pod, {
    type: 'Warning',
    reason: 'FailedScheduling',
    message,
    component: 'default-scheduler',
  });
  unschedulable.add(key);
  rt.afterKeyed(`${NAME}/${key}`, UNSCHEDULABLE_RETRY_MS, () => rt.enqueue(NAME, key));
}
