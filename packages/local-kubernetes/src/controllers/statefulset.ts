// statefulset-controller: pods <name>-0 … <name>-(N-1), created in order (OrderedReady: each only
// when the ones before it are Running and Ready; Parallel: all at once) and removed from the highest
// ordinal; the template's history in ControllerRevisions (<name>-<hash>, pods labelled
// controller-revision-hash); RollingUpdate replaces pods from the highest ordinal down to
// spec.updateStrategy.rollingUpdate.partition, one at a time, each once all are Ready; OnDelete
// replaces only pods someone deletes. Status: currentRevision/updateRevision and their counts.
import type { Change, KObject } from '../store.js';
import { gracefulDelete } from './deletion.js';
import { isAvailable, isReady, isTerminal, statusOf as podStatusOf } from './pods.js';
import { podFromTemplate } from './podtemplate.js';
import { currentRevision, dataHash, truncateHistory } from './revisions.js';
import { controllerOf, keyOf, modify, omitZero, splitKey, type Runtime } from './runtime.js';
import { T } from './types.js';

const NAME = 'statefulset';
const COMPONENT = 'statefulset-controller';
const REVISION_LABEL = 'controller-revision-hash';

interface StsSpec {
  replicas?: number;
  serviceName?: string;
  podManagementPolicy?: string;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
}

interface StsStatus {
  currentRevision?: string;
  updateRevision?: string;
  collisionCount?: number;
  [k: string]: unknown;
}

export function startStatefulSetController(rt: Runtime): (change: Change) => void {
  rt.register(NAME, (key) => sync(rt, key));
  return (change) => {
    if (change.resource === 'statefulsets.apps' && change.type !== 'DELETED')
      rt.enqueue(NAME, keyOf(change.object));
    else if (change.resource === 'pods') {
      const owner = controllerOf(change.object);
      if (owner?.kind === 'StatefulSet')
        rt.enqueue(NAME, `${change.object.metadata.namespace}/${owner.name}`);
    }
  };
}

const ordinalOf = (set: KObject, pod: KObject) => {
  const match = new RegExp(`^${set.metadata.name.replace(/[.]/g, '\\.')}-(\\d+)$`).exec(pod.metadata.name);
  return match ? Number(match[1]) : -1;
};

const runningAndReady = (pod: KObject) =>
  podStatusOf(pod).phase === 'Running' && isReady(pod) && !pod.metadata.deletionTimestamp;

function sync(rt: Runtime, key: string): void {
  const [namespace, name] = splitKey(key);
  const set = rt.store.get(T.statefulsets, namespace, name);
  if (!set || set.metadata.deletionTimestamp) return;
  const spec = (set.spec ?? {}) as StsSpec;
  const previous = (set.status ?? {}) as StsStatus;
  const replicas = spec.replicas ?? 1;
  const ordered = (spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
  const onDelete = spec.updateStrategy?.type === 'OnDelete';
  const partition = spec.updateStrategy?.rollingUpdate?.partition ?? 0;
  const event = (reason: string, message: string) =>
    rt.events.record(set, { type: 'Normal', reason, message, component: COMPONENT });

  const update = currentRevision(rt, set, dataHash(set, previous.collisionCount));
  const updateRevision = update.metadata.name;
  const currentRev = previous.currentRevision ?? updateRevision;
  const pods = () =>
    rt.store
      .list(T.pods, namespace)
      .filter((p) => controllerOf(p)?.uid === set.metadata.uid)
      .sort((a, b) => ordinalOf(set, a) - ordinalOf(set, b));
  const createPod = (ordinal: number) => {
    // Pods below the partition keep the current revision's template (as the real controller does).
    const revisionName = ordinal < partition && !onDelete ? currentRev : updateRevision;
    const revision = rt.store.get(T.controllerrevisions, namespace, revisionName) ?? update;
    const template = (revision.data as { spec: { template: Record<string, unknown> } }).spec.template;
    const { $patch: _replace, ...podTemplate } = template;
    const podName = `${name}-${ordinal}`;
    rt.store.create(
      T.pods,
      podFromTemplate(
        podTemplate,
        set,
        { name: podName },
        {
          labels: {
            [REVISION_LABEL]: revisionName,
            'statefulset.kubernetes.io/pod-name': podName,
            'apps.kubernetes.io/pod-index': String(ordinal),
          },
          spec: { hostname: podName, ...(spec.serviceName ? { subdomain: spec.serviceName } : {}) } as object,
        },
      ),
    );
    event('SuccessfulCreate', `create Pod ${podName} in StatefulSet ${name} successful`);
  };
  const deletePod = (pod: KObject) => {
    gracefulDelete(rt.store, rt.host.clock, namespace!, pod.metadata.name);
    event('SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${name} successful`);
  };

  let all = pods();
  const byOrdinal = new Map(all.map((p) => [ordinalOf(set, p), p]));
  let blocked = false;
  // Failed pods are replaced; missing ones created in order.
  for (let i = 0; i < replicas && !blocked; i++) {
    const pod = byOrdinal.get(i);
    if (pod && isTerminal(pod) && !pod.metadata.deletionTimestamp) {
      deletePod(pod);
      if (ordered) blocked = true;
      continue;
    }
    if (!pod) {
      createPod(i);
      if (ordered) blocked = true;
      continue;
    }
    if (ordered && !runningAndReady(pod)) blocked = true;
  }
  // Scale down: the highest ordinal first, one at a time in order, once the others are healthy.
  const condemned = all.filter((p) => ordinalOf(set, p) >= replicas).reverse();
  if (!blocked && condemned.length) {
    if (!ordered) condemned.filter((p) => !p.metadata.deletionTimestamp).forEach(deletePod);
    else if (!condemned.some((p) => p.metadata.deletionTimestamp)) deletePod(condemned[0]!);
    blocked = ordered;
  }
  // RollingUpdate: from the highest ordinal to the partition, one pod at a time when all are ready.
  all = pods();
  if (!blocked && !onDelete) {
    const inRange = all.filter((p) => ordinalOf(set, p) < replicas);
    const allHealthy = inRange.length === replicas && inRange.every(runningAndReady);
    for (const pod of [...inRange].reverse()) {
      if (ordinalOf(set, pod) < partition) break;
      if (pod.metadata.labels?.[REVISION_LABEL] === updateRevision) continue;
      if (allHealthy) deletePod(pod);
      break;
    }
  }
  // Status.
  // Status counts every pod that exists, terminating ones included (as the real controller does).
  all = pods();
  const now = rt.now();
  const live = all;
  const status: StsStatus = {
    observedGeneration: set.metadata.generation ?? 1,
    replicas: live.length,
    readyReplicas: live.filter(isReady).length,
    availableReplicas: live.filter((p) => isAvailable(p, spec.minReadySeconds ?? 0, now)).length,
    currentReplicas: live.filter((p) => p.metadata.labels?.[REVISION_LABEL] === currentRev).length,
    updatedReplicas: live.filter((p) => p.metadata.labels?.[REVISION_LABEL] === updateRevision).length,
    currentRevision: currentRev,
    updateRevision,
    collisionCount: previous.collisionCount ?? 0,
  };
  // completeRollingUpdate: every pod updated and ready → the update revision becomes current.
  if (
    !onDelete &&
    status.updatedReplicas === replicas &&
    status.readyReplicas === replicas &&
    status.replicas === replicas
  ) {
    status.currentRevision = updateRevision;
    status.currentReplicas = status.updatedReplicas;
  }
  modify(
    rt,
    T.statefulsets,
    namespace,
    name,
    (o) => void (o.status = omitZero(status, ['replicas', 'collisionCount'])),
    {
      subresource: 'status',
    },
  );
  const inUse = new Set([
    status.currentRevision!,
    updateRevision,
    ...all.map((p) => p.metadata.labels?.[REVISION_LABEL] ?? ''),
  ]);
  truncateHistory(rt, set, inUse, spec.revisionHistoryLimit ?? 10);
}
