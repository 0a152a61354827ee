// replicaset-controller: keeps spec.replicas pods (named <rs>-<5 chars>, labelled and owned as the
// template says), deleting the least useful first when scaling down (unscheduled, pending, not
// ready, most recently ready, most restarted, newest), and reports replicas, fullyLabeledReplicas,
// readyReplicas, availableReplicas (ready for minReadySeconds) and observedGeneration.
import type { Change, KObject } from '../store.js';
import { gracefulDelete } from './deletion.js';
import { matches, type LabelSelector } from './labels.js';
import { availableAt, conditionOf, isActive, isAvailable, isReady, specOf, statusOf } from './pods.js';
import { podFromTemplate, templateOf } from './podtemplate.js';
import { controllerOf, keyOf, omitZero, splitKey, type Runtime } from './runtime.js';
import { T } from './types.js';

const NAME = 'replicaset';

interface RsSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector?: LabelSelector;
}

export const rsSpecOf = (rs: KObject) => (rs.spec ?? {}) as RsSpec;
export const replicasOf = (object: KObject) =>
  (object.spec as { replicas?: number } | undefined)?.replicas ?? 1;

/** The pods an owner controls (its controller reference). */
export const podsOwnedBy = (rt: Runtime, owner: KObject) =>
  rt.store.list(T.pods, owner.metadata.namespace).filter((p) => controllerOf(p)?.uid === owner.metadata.uid);

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** controller.ActivePods' order: the first are deleted first. */
export function deletionOrder(a: KObject, b: KObject): number {
  const assigned = (p: KObject) => (specOf(p).nodeName ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const phase = (p: KObject) => PHASE_RANK[statusOf(p).phase ?? 'Pending'] ?? 0;
  if (phase(a) !== phase(b)) return phase(a) - phase(b);
  const ready = (p: KObject) => (isReady(p) ? 1 : 0);
  if (ready(a) !== ready(b)) return ready(a) - ready(b);
  if (isReady(a) && isReady(b)) {
    const since = (p: KObject) => Date.parse(conditionOf(p, 'Ready')?.lastTransitionTime ?? '') || 0;
    if (since(a) !== since(b)) return since(b) - since(a);
  }
  const restarts = (p: KObject) =>
    (statusOf(p).containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  return (
    Date.parse(b.metadata.creationTimestamp) - Date.parse(a.metadata.creationTimestamp) ||
    b.metadata.name.localeCompare(a.metadata.name)
  );
}

export function startReplicaSetController(rt: Runtime): (change: Change) => void {
  rt.register(NAME, (key) => sync(rt, key));
  return (change) => {
    if (change.resource === 'replicasets.apps') rt.enqueue(NAME, keyOf(change.object));
    if (change.resource === 'pods') {
      const owner = controllerOf(change.object);
      if (owner?.kind === 'ReplicaSet') rt.enqueue(NAME, `${change.object.metadata.namespace}/${owner.name}`);
    }
  };
}

function sync(rt: Runtime, key: string): void {
  const [namespace, name] = splitKey(key);
  const rs = rt.store.get(T.replicasets, namespace, name);
  if (!rs) return;
  const spec = rsSpecOf(rs);
  const wanted = replicasOf(rs);
  const active = podsOwnedBy(rt, rs).filter(isActive);
  if (!rs.metadata.deletionTimestamp) {
    const diff = active.length - wanted;
    if (diff < 0) {
      for (let i = 0; i < -diff; i++) {
        const pod = rt.store.create(
          T.pods,
          podFromTemplate(templateOf(rs), rs, { generateName: `${name}-` }),
        );
        rt.events.record(rs, {
          type: 'Normal',
          reason: 'SuccessfulCreate',
          message: `Created pod: ${pod.metadata.name}`,
          component: 'replicaset-controller',
        });
      }
    } else if (diff > 0) {
      for (const pod of [...active].sort(deletionOrder).slice(0, diff)) {
        gracefulDelete(rt.store, rt.host.clock, namespace!, pod.metadata.name);
        rt.events.record(rs, {
          type: 'Normal',
          reason: 'SuccessfulDelete',
          message: `Deleted pod: ${pod.metadata.name}`,
          component: 'replicaset-controller',
        });
      }
    }
  }
  // Status counts the pods as they were before this sync's creations and deletions (as the real
  // controller does); the pods' own changes bring it up to date.
  const now = rt.now();
  const minReady = spec.minReadySeconds ?? 0;
  const templateLabels = templateOf(rs).metadata?.labels ?? {};
  const status = omitZero(
    {
      ...(rs.status as Record<string, unknown> | undefined),
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) => matches({ matchLabels: templateLabels }, p.metadata.labels))
        .length,
      readyReplicas: active.filter(isReady).length,
      availableReplicas: active.filter((p) => isAvailable(p, minReady, now)).length,
      observedGeneration: rs.metadata.generation ?? 1,
    },
    ['replicas'],
  );
  rt.store.update(T.replicasets, { ...rs, status }, { subresource: 'status' });
  // A pod that is ready but not yet available becomes available on the clock, not on a change.
  const pending = active
    .filter((p) => isReady(p) && !isAvailable(p, minReady, now))
    .map((p) => availableAt(p, minReady) ?? now);
  if (pending.length)
    rt.afterKeyed(`${NAME}/${key}`, Math.max(0, Math.min(...pending) - now), () => rt.enqueue(NAME, key));
}
