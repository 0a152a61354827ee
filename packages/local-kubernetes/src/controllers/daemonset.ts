// daemonset-controller: one pod per node (pinned by required node affinity on metadata.name, as the
// real controller does, and scheduled by the scheduler), labelled controller-revision-hash (the
// template's hash) and pod-template-generation; ControllerRevisions <name>-<hash> keep the history.
// RollingUpdate: with maxSurge 0, old pods are deleted — the unavailable ones first, then up to
// maxUnavailable nodes without an available pod at a time — and replaced; with maxSurge, the new pod
// starts beside the old one, which goes once the new one is available. OnDelete replaces only what
// someone deletes.
import type { Change, KObject } from '../store.js';
import { gracefulDelete } from './deletion.js';
import { computeHash } from './hash.js';
import { scaledValue } from './labels.js';
import { availableAt, isAvailable, isReady, isTerminal } from './pods.js';
import { podFromTemplate, templateOf } from './podtemplate.js';
import { currentRevision, truncateHistory } from './revisions.js';
import { controllerOf, keyOf, modify, omitZero, splitKey, type Runtime } from './runtime.js';
import { T } from './types.js';

const NAME = 'daemonset';
const COMPONENT = 'daemonset-controller';
const HASH_LABEL = 'controller-revision-hash';

interface DsSpec {
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  updateStrategy?: {
    type?: string;
    rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string };
  };
}

/** The tolerations the controller adds to every daemon pod (so node conditions do not evict them). */
const DAEMON_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

export function startDaemonSetController(rt: Runtime): (change: Change) => void {
  rt.register(NAME, (key) => sync(rt, key));
  return (change) => {
    if (change.resource === 'daemonsets.apps' && change.type !== 'DELETED')
      rt.enqueue(NAME, keyOf(change.object));
    else if (change.resource === 'nodes')
      for (const ds of rt.store.list(T.daemonsets)) rt.enqueue(NAME, keyOf(ds));
    else if (change.resource === 'pods') {
      const owner = controllerOf(change.object);
      if (owner?.kind === 'DaemonSet') rt.enqueue(NAME, `${change.object.metadata.namespace}/${owner.name}`);
    }
  };
}

/** The node a daemon pod is pinned to. */
const targetNode = (pod: KObject) =>
  (
    pod.spec as {
      nodeName?: string;
      affinity?: {
        nodeAffinity?: {
          requiredDuringSchedulingIgnoredDuringExecution?: {
            nodeSelectorTerms?: Array<{ matchFields?: Array<{ values?: string[] }> }>;
          };
        };
      };
    }
  ).affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]
    ?.matchFields?.[0]?.values?.[0] ?? (pod.spec as { nodeName?: string }).nodeName;

function sync(rt: Runtime, key: string): void {
  const [namespace, name] = splitKey(key);
  const ds = rt.store.get(T.daemonsets, namespace, name);
  if (!ds || ds.metadata.deletionTimestamp) return;
  const spec = (ds.spec ?? {}) as DsSpec;
  const previous = (ds.status ?? {}) as { collisionCount?: number };
  const hash = computeHash(templateOf(ds), previous.collisionCount);
  currentRevision(rt, ds, hash);
  const now = rt.now();
  const minReady = spec.minReadySeconds ?? 0;
  const event = (reason: string, message: string) =>
    rt.events.record(ds, { type: 'Normal', reason, message, component: COMPONENT });
  const nodes = rt.store.list(T.nodes);
  const owned = () =>
    rt.store.list(T.pods, namespace).filter((p) => controllerOf(p)?.uid === ds.metadata.uid);
  const create = (node: string) => {
    const template = templateOf(ds);
    const pod = rt.store.create(
      T.pods,
      podFromTemplate(
        template,
        ds,
        { generateName: `${name}-` },
        {
          labels: { [HASH_LABEL]: hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) },
          spec: {
            affinity: {
              ...(template.spec?.affinity ?? {}),
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [
                    { matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] },
                  ],
                },
              },
            },
            tolerations: [
              ...((template.spec as { tolerations?: object[] } | undefined)?.tolerations ?? []),
              ...DAEMON_TOLERATIONS,
            ],
          } as object,
        },
      ),
    );
    event('SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
  };
  const remove = (pod: KObject) => {
    gracefulDelete(rt.store, rt.host.clock, namespace!, pod.metadata.name);
    event('SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
  };
  const onNode = (node: string) =>
    owned().filter((p) => targetNode(p) === node && !p.metadata.deletionTimestamp);
  const isNew = (p: KObject) => p.metadata.labels?.[HASH_LABEL] === hash;

  // One pod per node: create where missing, replace failed ones.
  for (const node of nodes) {
    const pods = onNode(node.metadata.name);
    for (const p of pods.filter(isTerminal)) remove(p);
    if (
      pods.filter((p) => !isTerminal(p)).length === 0 &&
      !owned().some((p) => targetNode(p) === node.metadata.name && p.metadata.deletionTimestamp)
    )
      create(node.metadata.name);
  }
  // Rolling update.
  if ((spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
    const desired = nodes.length;
    const ru = spec.updateStrategy?.rollingUpdate;
    const surge = scaledValue(ru?.maxSurge, desired, true, 0);
    const maxUnavailable = surge > 0 ? 0 : Math.max(1, scaledValue(ru?.maxUnavailable, desired, true, 1));
    if (surge > 0) {
      let surging = nodes.filter(
        (n) => onNode(n.metadata.name).some(isNew) && onNode(n.metadata.name).some((p) => !isNew(p)),
      ).length;
      for (const node of nodes) {
        const pods = onNode(node.metadata.name);
        const fresh = pods.find(isNew);
        const old = pods.filter((p) => !isNew(p));
        if (!old.length) continue;
        if (fresh && isAvailable(fresh, minReady, now)) old.forEach(remove);
        else if (!fresh && surging < surge) {
          create(node.metadata.name);
          surging++;
        }
      }
    } else {
      const unavailableNodes = nodes.filter(
        (n) => !onNode(n.metadata.name).some((p) => isAvailable(p, minReady, now)),
      ).length;
      let budget = maxUnavailable - unavailableNodes;
      for (const node of nodes) {
        const old = onNode(node.metadata.name).filter((p) => !isNew(p));
        if (!old.length) continue;
        if (old.every((p) => !isAvailable(p, minReady, now))) old.forEach(remove);
        else if (budget > 0) {
          old.forEach(remove);
          budget--;
        }
      }
    }
  }
  const pods = owned().filter((p) => !p.metadata.deletionTimestamp && !isTerminal(p));
  const scheduledNodes = new Set(pods.map(targetNode));
  const perNode = (test: (p: KObject) => boolean) =>
    nodes.filter((n) => pods.some((p) => targetNode(p) === n.metadata.name && test(p))).length;
  const available = perNode((p) => isAvailable(p, minReady, now));
  const status = {
    currentNumberScheduled: nodes.filter((n) => scheduledNodes.has(n.metadata.name)).length,
    numberMisscheduled: 0,
    desiredNumberScheduled: nodes.length,
    numberReady: perNode(isReady),
    observedGeneration: ds.metadata.generation ?? 1,
    updatedNumberScheduled: perNode(isNew),
    numberAvailable: available,
    numberUnavailable: nodes.length - available,
    ...(previous.collisionCount ? { collisionCount: previous.collisionCount } : {}),
  };
  modify(
    rt,
    T.daemonsets,
    namespace,
    name,
    (o) =>
      void (o.status = omitZero(status, [
        'currentNumberScheduled',
        'numberMisscheduled',
        'desiredNumberScheduled',
        'numberReady',
      ])),
    { subresource: 'status' },
  );
  const soon = pods
    .map((p) => (isReady(p) && !isAvailable(p, minReady, now) ? availableAt(p, minReady) : undefined))
    .filter((t): t is number => t !== undefined);
  if (soon.length)
    rt.afterKeyed(`${NAME}/${key}`, Math.max(0, Math.min(...soon) - now), () => rt.enqueue(NAME, key));
  const live = new Set([
    `${name}-${hash}`,
    ...owned().map((p) => `${name}-${p.metadata.labels?.[HASH_LABEL]}`),
  ]);
  truncateHistory(rt, ds, live, spec.revisionHistoryLimit ?? 10);
}
