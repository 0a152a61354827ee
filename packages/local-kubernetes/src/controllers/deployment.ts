// deployment-controller, as kube-controller-manager 1.32 runs it (pkg/controller/deployment): the
// new ReplicaSet is the one whose template equals the Deployment's (ignoring pod-template-hash),
// created as <deploy>-<hash> when none does; revisions are max(old)+1 (a rollback to an old
// template gives its ReplicaSet the next revision and a revision-history); RollingUpdate scales the
// new ReplicaSet up within maxSurge and the old ones down within maxUnavailable as pods become
// available; Recreate scales the old ones to 0 and waits for their pods to go; paused Deployments
// only scale; the Progressing condition measures progressDeadlineSeconds from the last progress.
import type { Change, KObject } from '../store.js';
import { jsonEqual, timestamp } from '../store.js';
import { computeHash } from './hash.js';
import { scaledValue, type LabelSelector } from './labels.js';
import { isTerminal, type Condition } from './pods.js';
import type { PodTemplate } from './podtemplate.js';
import { replicasOf } from './replicaset.js';
import { controllerOf, keyOf, modify, omitZero, ownerRef, splitKey, type Runtime } from './runtime.js';
import { T } from './types.js';

const NAME = 'deployment';
const COMPONENT = 'deployment-controller';
export const REVISION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
const DESIRED = 'deployment.kubernetes.io/desired-replicas';
const MAX = 'deployment.kubernetes.io/max-replicas';
const HASH = 'pod-template-hash';
/** Annotations not copied from a Deployment to its ReplicaSets. */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  DESIRED,
  MAX,
  'deprecated.deployment.rollback.to',
]);

interface DeploymentSpec {
  replicas?: number;
  selector?: LabelSelector;
  template?: PodTemplate;
  strategy?: {
    type?: string;
    rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
  };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number;
  paused?: boolean;
}

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: Condition[];
  collisionCount?: number;
}

const specOf = (d: KObject) => (d.spec ?? {}) as DeploymentSpec;
const dStatusOf = (d: KObject) => (d.status ?? {}) as DeploymentStatus;
const rsStatus = (rs: KObject) =>
  (rs.status ?? {}) as {
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    observedGeneration?: number;
  };
const revisionOf = (rs: KObject) => Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0;
const isRolling = (d: KObject) => (specOf(d).strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
const deadlineOf = (d: KObject) => specOf(d).progressDeadlineSeconds ?? 600;
const hasDeadline = (d: KObject) => deadlineOf(d) !== 2147483647;
const sum = (rss: KObject[], f: (rs: KObject) => number) => rss.reduce((n, rs) => n + f(rs), 0);
const specReplicas = (rss: KObject[]) => sum(rss, (rs) => replicasOf(rs));
const byCreation = (a: KObject, b: KObject) =>
  Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp) ||
  a.metadata.name.localeCompare(b.metadata.name);

/** ResolveFenceposts: surge rounds up, unavailable down, both 0 → unavailable 1. */
export function fenceposts(d: KObject): { surge: number; unavailable: number } {
  const replicas = replicasOf(d);
  const ru = specOf(d).strategy?.rollingUpdate;
  const surge = scaledValue(ru?.maxSurge, replicas, true, '25%');
  let unavailable = scaledValue(ru?.maxUnavailable, replicas, false, '25%');
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

const maxSurge = (d: KObject) => (isRolling(d) ? fenceposts(d).surge : 0);
function maxUnavailable(d: KObject): number {
  const replicas = replicasOf(d);
  if (!isRolling(d) || replicas === 0) return 0;
  return Math.min(fenceposts(d).unavailable, replicas);
}

/** EqualIgnoreHash: templates equal once pod-template-hash is taken out of their labels. */
function equalIgnoreHash(a: PodTemplate | undefined, b: PodTemplate | undefined): boolean {
  const strip = (t: PodTemplate | undefined) => {
    const copy = structuredClone(t ?? {});
    if (copy.metadata?.labels) {
      delete copy.metadata.labels[HASH];
      if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
    }
    return copy;
  };
  return jsonEqual(strip(a), strip(b));
}

function newCondition(type: string, status: string, reason: string, message: string, now: number): Condition {
  const t = timestamp(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/** SetDeploymentCondition: same status and reason → unchanged; same status → keeps lastTransitionTime. */
function setCondition(status: DeploymentStatus, condition: Condition): void {
  const conditions = status.conditions ?? [];
  const current = conditions.find((c) => c.type === condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  if (current && current.status === condition.status)
    condition = { ...condition, lastTransitionTime: current.lastTransitionTime };
  status.conditions = [...conditions.filter((c) => c.type !== condition.type), condition];
}

const getCondition = (status: DeploymentStatus, type: string) =>
  status.conditions?.find((c) => c.type === type);
const removeCondition = (status: DeploymentStatus, type: string) => {
  status.conditions = (status.conditions ?? []).filter((c) => c.type !== type);
};

export function startDeploymentController(rt: Runtime): (change: Change) => void {
  rt.register(NAME, (key) => syncDeployment(rt, key));
  return (change) => {
    if (change.resource === 'deployments.apps') {
      if (change.type === 'DELETED') rt.cancelKeyed(`${NAME}/${keyOf(change.object)}`);
      else rt.enqueue(NAME, keyOf(change.object));
    } else if (change.resource === 'replicasets.apps') {
      const owner = controllerOf(change.object);
      if (owner?.kind === 'Deployment') rt.enqueue(NAME, `${change.object.metadata.namespace}/${owner.name}`);
    } else if (change.resource === 'pods' && change.type === 'DELETED') {
      // Recreate waits for the old pods to be gone: a deleted pod wakes its Deployment.
      const rsRef = controllerOf(change.object);
      if (rsRef?.kind !== 'ReplicaSet') return;
      const rs = rt.store.get(T.replicasets, change.object.metadata.namespace, rsRef.name);
      const owner = rs && controllerOf(rs);
      if (owner?.kind === 'Deployment') rt.enqueue(NAME, `${change.object.metadata.namespace}/${owner.name}`);
    }
  };
}

class DeploymentSync {
  constructor(
    readonly rt: Runtime,
    public d: KObject,
  ) {}

  get ns() {
    return this.d.metadata.namespace!;
  }

  ownedReplicaSets(): KObject[] {
    return this.rt.store
      .list(T.replicasets, this.ns)
      .filter((rs) => controllerOf(rs)?.uid === this.d.metadata.uid)
      .sort(byCreation);
  }

  event(reason: string, message: string, type: 'Normal' | 'Warning' = 'Normal') {
    this.rt.events.record(this.d, { type, reason, message, component: COMPONENT });
  }

  writeStatus(status: DeploymentStatus): void {
    const current = this.rt.store.get(T.deployments, this.ns, this.d.metadata.name);
    if (!current) return;
    this.d = this.rt.store.update(T.deployments, { ...current, status }, { subresource: 'status' });
  }

  /** FindNewReplicaSet and the revisions (getAllReplicaSetsAndSyncRevision). */
  replicaSets(create: boolean): { newRS: KObject | undefined; oldRSs: KObject[] } {
    const all = this.ownedReplicaSets();
    const template = specOf(this.d).template;
    let newRS = all.find((rs) => equalIgnoreHash((rs.spec as { template?: PodTemplate }).template, template));
    const oldRSs = all.filter((rs) => rs !== newRS);
    const newRevision = String(Math.max(0, ...oldRSs.map(revisionOf)) + 1);
    if (newRS) newRS = this.syncExisting(newRS, newRevision);
    else if (create) newRS = this.createNew(oldRSs, newRevision);
    return { newRS, oldRSs };
  }

  /** SetNewReplicaSetAnnotations; returns whether anything changed. */
  annotate(d: KObject, rs: KObject, newRevision: string, exists: boolean): boolean {
    const annotations = (rs.metadata.annotations ??= {});
    let changed = false;
    for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
      if (NOT_COPIED.has(k) || annotations[k] === v) continue;
      annotations[k] = v;
      changed = true;
    }
    const had = annotations[REVISION];
    const oldRevision = Number(had ?? 0) || 0;
    if (oldRevision < Number(newRevision)) {
      annotations[REVISION] = newRevision;
      changed = true;
      if (had !== undefined) {
        const history = annotations[REVISION_HISTORY];
        annotations[REVISION_HISTORY] = history ? `${history},${had}` : had;
      }
    }
    if (!exists) {
      annotations[DESIRED] = String(replicasOf(d));
      annotations[MAX] = String(replicasOf(d) + maxSurge(d));
      changed = true;
    }
    return changed;
  }

  syncExisting(rs: KObject, newRevision: string): KObject {
    const rt = this.rt;
    const copy = structuredClone(rs);
    const annotationsChanged = this.annotate(this.d, copy, newRevision, true);
    const minReady = specOf(this.d).minReadySeconds ?? 0;
    const minReadyChanged = ((copy.spec as { minReadySeconds?: number }).minReadySeconds ?? 0) !== minReady;
    if (minReadyChanged) (copy.spec as { minReadySeconds?: number }).minReadySeconds = minReady;
    if (annotationsChanged || minReadyChanged) rs = rt.store.update(T.replicasets, copy);
    this.setDeploymentRevision(rs.metadata.annotations?.[REVISION]);
    const status = structuredClone(dStatusOf(this.d));
    if (hasDeadline(this.d) && !getCondition(status, 'Progressing')) {
      setCondition(
        status,
        newCondition(
          'Progressing',
          'True',
          'FoundNewReplicaSet',
          `Found new replica set "${rs.metadata.name}"`,
          rt.now(),
        ),
      );
      this.writeStatus(status);
    }
    return rs;
  }

  setDeploymentRevision(revision: string | undefined): void {
    if (revision === undefined || this.d.metadata.annotations?.[REVISION] === revision) return;
    const updated = modify(this.rt, T.deployments, this.ns, this.d.metadata.name, (d) => {
      d.metadata.annotations = { ...(d.metadata.annotations ?? {}), [REVISION]: revision };
    });
    if (updated) this.d = updated;
  }

  createNew(oldRSs: KObject[], newRevision: string): KObject | undefined {
    const rt = this.rt;
    const d = this.d;
    const spec = specOf(d);
    const collisionCount = dStatusOf(d).collisionCount;
    const hash = computeHash(spec.template ?? {}, collisionCount);
    const template = structuredClone(spec.template ?? {});
    template.metadata = {
      ...(template.metadata ?? {}),
      labels: { ...(template.metadata?.labels ?? {}), [HASH]: hash },
    };
    const selector = structuredClone(spec.selector ?? { matchLabels: spec.template?.metadata?.labels ?? {} });
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH]: hash };
    const name = `${d.metadata.name}-${hash}`;
    const rs: KObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace: this.ns,
        labels: { ...(template.metadata.labels ?? {}) },
        ownerReferences: [ownerRef(d)],
      } as KObject['metadata'],
      spec: { replicas: 0, minReadySeconds: spec.minReadySeconds ?? 0, selector, template },
    };
    const replicas = this.newRSReplicas([...oldRSs, rs], rs);
    (rs.spec as { replicas: number }).replicas = replicas;
    this.annotate(d, rs, newRevision, false);
    const existing = rt.store.get(T.replicasets, this.ns, name);
    if (existing) {
      // A hash collision (a ReplicaSet of that name with another template): count it and try again.
      const status = structuredClone(dStatusOf(d));
      status.collisionCount = (status.collisionCount ?? 0) + 1;
      this.writeStatus(status);
      rt.enqueue(NAME, keyOf(d));
      return undefined;
    }
    const created = rt.store.create(T.replicasets, rs as Parameters<typeof rt.store.create>[1]);
    if (replicas > 0) this.event('ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${replicas}`);
    this.setDeploymentRevision(newRevision);
    if (hasDeadline(this.d)) {
      const status = structuredClone(dStatusOf(this.d));
      setCondition(
        status,
        newCondition(
          'Progressing',
          'True',
          'NewReplicaSetCreated',
          `Created new replica set "${name}"`,
          rt.now(),
        ),
      );
      this.writeStatus(status);
    }
    return created;
  }

  /** NewRSNewReplicas. */
  newRSReplicas(allRSs: KObject[], newRS: KObject): number {
    const replicas = replicasOf(this.d);
    if (!isRolling(this.d)) return replicas;
    const current = specReplicas(allRSs);
    const maxTotal = replicas + maxSurge(this.d);
    if (current >= maxTotal) return replicasOf(newRS);
    const up = Math.min(maxTotal - current, replicas - replicasOf(newRS));
    return replicasOf(newRS) + up;
  }

  /** scaleReplicaSetAndRecordEvent. */
  scale(rs: KObject, to: number): boolean {
    const from = replicasOf(rs);
    const desired = String(replicasOf(this.d));
    const max = String(replicasOf(this.d) + maxSurge(this.d));
    const annotationsNeedUpdate =
      rs.metadata.annotations?.[DESIRED] !== desired || rs.metadata.annotations?.[MAX] !== max;
    if (from === to && !annotationsNeedUpdate) return false;
    modify(this.rt, T.replicasets, this.ns, rs.metadata.name, (o) => {
      (o.spec as { replicas: number }).replicas = to;
      o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [DESIRED]: desired, [MAX]: max };
    });
    if (from !== to)
      this.event(
        'ScalingReplicaSet',
        `Scaled ${from < to ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`,
      );
    return from !== to;
  }

  // --- RollingUpdate ---

  rolling(): void {
    const { newRS, oldRSs } = this.replicaSets(true);
    if (!newRS) return;
    const allRSs = [...oldRSs, newRS];
    if (this.reconcileNew(allRSs, newRS)) return this.syncRolloutStatus();
    if (
      this.reconcileOld(
        allRSs,
        oldRSs.filter((rs) => replicasOf(rs) > 0),
        newRS,
      )
    )
      return this.syncRolloutStatus();
    if (this.complete(dStatusOf(this.d))) this.cleanup(oldRSs);
    this.syncRolloutStatus();
  }

  reconcileNew(allRSs: KObject[], newRS: KObject): boolean {
    const replicas = replicasOf(this.d);
    if (replicasOf(newRS) === replicas) return false;
    if (replicasOf(newRS) > replicas) return this.scale(newRS, replicas);
    return this.scale(newRS, this.newRSReplicas(allRSs, newRS));
  }

  reconcileOld(allRSs: KObject[], oldRSs: KObject[], newRS: KObject): boolean {
    if (specReplicas(oldRSs) === 0) return false;
    const allPods = specReplicas(allRSs);
    const minAvailable = replicasOf(this.d) - maxUnavailable(this.d);
    const newUnavailable = replicasOf(newRS) - (rsStatus(newRS).availableReplicas ?? 0);
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // cleanupUnhealthyReplicas: old pods that are not available go first.
    let cleaned = 0;
    const remaining: KObject[] = [];
    for (const rs of [...oldRSs].sort(byCreation)) {
      const available = rsStatus(rs).availableReplicas ?? 0;
      if (cleaned >= maxScaledDown || replicasOf(rs) === 0 || replicasOf(rs) === available) {
        remaining.push(rs);
        continue;
      }
      const down = Math.min(maxScaledDown - cleaned, replicasOf(rs) - available);
      this.scale(rs, replicasOf(rs) - down);
      cleaned += down;
      remaining.push(this.rt.store.get(T.replicasets, this.ns, rs.metadata.name) ?? rs);
    }
    // scaleDownOldReplicaSetsForRollingUpdate: within maxUnavailable of what is available.
    const available = sum([...remaining, newRS], (rs) => rsStatus(rs).availableReplicas ?? 0);
    let scaledDown = 0;
    if (available > minAvailable) {
      const total = available - minAvailable;
      for (const rs of remaining.sort(byCreation)) {
        if (scaledDown >= total) break;
        if (replicasOf(rs) === 0) continue;
        const down = Math.min(replicasOf(rs), total - scaledDown);
        this.scale(rs, replicasOf(rs) - down);
        scaledDown += down;
      }
    }
    return cleaned + scaledDown > 0;
  }

  // --- Recreate ---

  recreate(): void {
    let { newRS, oldRSs } = this.replicaSets(false);
    const active = oldRSs.filter((rs) => replicasOf(rs) > 0);
    let scaled = false;
    for (const rs of active) scaled = this.scale(rs, 0) || scaled;
    if (scaled) return this.syncRolloutStatus();
    // oldPodsRunning: any pod of an old ReplicaSet that has not finished (terminating ones count).
    const oldUids = new Set(oldRSs.map((rs) => rs.metadata.uid));
    const running = this.rt.store
      .list(T.pods, this.ns)
      .some((p) => oldUids.has(controllerOf(p)?.uid ?? '') && !isTerminal(p));
    if (running) return this.syncRolloutStatus();
    if (!newRS) ({ newRS, oldRSs } = this.replicaSets(true));
    if (newRS) this.scale(newRS, replicasOf(this.d));
    if (this.complete(dStatusOf(this.d))) this.cleanup(oldRSs);
    this.syncRolloutStatus();
  }

  // --- paused and scaling (sync) ---

  sync(): void {
    const { newRS, oldRSs } = this.replicaSets(false);
    this.proportionalScale(newRS, oldRSs);
    if (specOf(this.d).paused) this.cleanup(oldRSs);
    const fresh = this.ownedReplicaSets();
    const freshNew = newRS && fresh.find((rs) => rs.metadata.uid === newRS.metadata.uid);
    const status = this.calculateStatus(fresh, freshNew);
    if (!jsonEqual(status, dStatusOf(this.d))) this.writeStatus(status);
  }

  isScalingEvent(): boolean {
    const replicas = String(replicasOf(this.d));
    return this.ownedReplicaSets().some(
      (rs) =>
        replicasOf(rs) > 0 &&
        rs.metadata.annotations?.[DESIRED] !== undefined &&
        rs.metadata.annotations[DESIRED] !== replicas,
    );
  }

  /** dc.scale: one active ReplicaSet takes the new size; several share it in proportion. */
  proportionalScale(newRS: KObject | undefined, oldRSs: KObject[]): void {
    const replicas = replicasOf(this.d);
    const all = newRS ? [...oldRSs, newRS] : oldRSs;
    const active = all.filter((rs) => replicasOf(rs) > 0);
    if (active.length <= 1) {
      const target = active[0] ?? newRS ?? [...oldRSs].sort(byCreation).at(-1);
      if (target && replicasOf(target) !== replicas) this.scale(target, replicas);
      return;
    }
    if (
      newRS &&
      replicasOf(newRS) === replicas &&
      newRS.metadata.annotations?.[DESIRED] === String(replicas) &&
      (rsStatus(newRS).availableReplicas ?? 0) === replicas
    ) {
      for (const rs of oldRSs) if (replicasOf(rs) > 0) this.scale(rs, 0);
      return;
    }
    if (!isRolling(this.d)) return;
    const allowed = replicas > 0 ? replicas + maxSurge(this.d) : 0;
    const toAdd = allowed - specReplicas(active);
    if (toAdd === 0) {
      // Nothing to add, but every active ReplicaSet takes the new size annotations (or this would
      // be a scaling event forever, and the rollout would never move again).
      for (const rs of active) this.scale(rs, replicasOf(rs));
      return;
    }
    // Larger first (newer first on ties) when adding; smaller/older first when removing.
    const sorted = [...active].sort((a, b) =>
      toAdd > 0
        ? replicasOf(b) - replicasOf(a) || -byCreation(a, b)
        : replicasOf(b) - replicasOf(a) || byCreation(a, b),
    );
    let added = 0;
    const sizes = new Map<KObject, number>();
    for (const rs of sorted) {
      const annotated = Number(rs.metadata.annotations?.[MAX] ?? dStatusOf(this.d).replicas ?? 0) || 0;
      const fraction =
        replicas === 0
          ? -replicasOf(rs)
          : annotated
            ? Math.round((replicasOf(rs) * allowed) / annotated) - replicasOf(rs)
            : 0;
      const proportion = toAdd > 0 ? Math.min(fraction, toAdd - added) : Math.max(fraction, toAdd - added);
      sizes.set(rs, replicasOf(rs) + proportion);
      added += proportion;
    }
    const first = sorted[0]!;
    sizes.set(first, Math.max(0, (sizes.get(first) ?? 0) + (toAdd - added)));
    for (const [rs, size] of sizes) this.scale(rs, Math.max(0, size));
  }

  // --- status ---

  calculateStatus(allRSs: KObject[], newRS: KObject | undefined): DeploymentStatus {
    const available = sum(allRSs, (rs) => rsStatus(rs).availableReplicas ?? 0);
    const total = specReplicas(allRSs);
    const previous = dStatusOf(this.d);
    const status: DeploymentStatus = {
      observedGeneration: this.d.metadata.generation ?? 1,
      replicas: sum(allRSs, (rs) => rsStatus(rs).replicas ?? 0),
      updatedReplicas: newRS ? (rsStatus(newRS).replicas ?? 0) : 0,
      readyReplicas: sum(allRSs, (rs) => rsStatus(rs).readyReplicas ?? 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
      conditions: structuredClone(previous.conditions ?? []),
      ...(previous.collisionCount !== undefined ? { collisionCount: previous.collisionCount } : {}),
    };
    const now = this.rt.now();
    if (available >= replicasOf(this.d) - maxUnavailable(this.d))
      setCondition(
        status,
        newCondition(
          'Available',
          'True',
          'MinimumReplicasAvailable',
          'Deployment has minimum availability.',
          now,
        ),
      );
    else
      setCondition(
        status,
        newCondition(
          'Available',
          'False',
          'MinimumReplicasUnavailable',
          'Deployment does not have minimum availability.',
          now,
        ),
      );
    return omitZero(status as Record<string, unknown>) as DeploymentStatus;
  }

  /** DeploymentComplete. */
  complete(status: DeploymentStatus): boolean {
    const replicas = replicasOf(this.d);
    return (
      (status.updatedReplicas ?? 0) === replicas &&
      (status.replicas ?? 0) === replicas &&
      (status.availableReplicas ?? 0) === replicas &&
      (status.observedGeneration ?? 0) >= (this.d.metadata.generation ?? 1)
    );
  }

  /** syncRolloutStatus: the Progressing condition, and a requeue at the deadline while in progress. */
  syncRolloutStatus(): void {
    const rt = this.rt;
    const all = this.ownedReplicaSets();
    const template = specOf(this.d).template;
    const newRS = all.find((rs) =>
      equalIgnoreHash((rs.spec as { template?: PodTemplate }).template, template),
    );
    const status = this.calculateStatus(all, newRS);
    const old = dStatusOf(this.d);
    const now = rt.now();
    if (!hasDeadline(this.d)) removeCondition(status, 'Progressing');
    const current = getCondition(status, 'Progressing');
    const completed =
      status.replicas === status.updatedReplicas && current?.reason === 'NewReplicaSetAvailable';
    if (hasDeadline(this.d) && !completed) {
      const rsName = newRS?.metadata.name;
      const progressed =
        (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
        (status.replicas ?? 0) - (status.updatedReplicas ?? 0) <
          (old.replicas ?? 0) - (old.updatedReplicas ?? 0) ||
        (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
        (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
      if (this.complete(status)) {
        const message = rsName
          ? `ReplicaSet "${rsName}" has successfully progressed.`
          : `Deployment "${this.d.metadata.name}" has successfully progressed.`;
        setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetAvailable', message, now));
      } else if (progressed) {
        const message = rsName
          ? `ReplicaSet "${rsName}" is progressing.`
          : `Deployment "${this.d.metadata.name}" is progressing.`;
        const condition = newCondition('Progressing', 'True', 'ReplicaSetUpdated', message, now);
        // Every progress moves lastUpdateTime (the deadline counts from it); lastTransitionTime stays.
        if (current) {
          if (current.status === 'True') condition.lastTransitionTime = current.lastTransitionTime;
          removeCondition(status, 'Progressing');
        }
        setCondition(status, condition);
      } else if (this.timedOut(current, now)) {
        const message = rsName
          ? `ReplicaSet "${rsName}" has timed out progressing.`
          : `Deployment "${this.d.metadata.name}" has timed out progressing.`;
        setCondition(status, newCondition('Progressing', 'False', 'ProgressDeadlineExceeded', message, now));
      }
    }
    if (!jsonEqual(status, old)) this.writeStatus(status);
    this.requeueStuck(getCondition(status, 'Progressing'), status, now);
  }

  timedOut(condition: Condition | undefined, now: number): boolean {
    if (!condition) return false;
    if (condition.reason === 'ProgressDeadlineExceeded') return true;
    if (condition.reason === 'NewReplicaSetAvailable') return false;
    const from = Date.parse(condition.lastUpdateTime ?? '');
    return from + deadlineOf(this.d) * 1000 <= now;
  }

  requeueStuck(condition: Condition | undefined, status: DeploymentStatus, now: number): void {
    const id = `${NAME}/${keyOf(this.d)}`;
    if (
      !hasDeadline(this.d) ||
      !condition ||
      ['NewReplicaSetAvailable', 'ProgressDeadlineExceeded'].includes(condition.reason ?? '') ||
      this.complete(status)
    ) {
      this.rt.cancelKeyed(id);
      return;
    }
    if (condition.reason === 'DeploymentPaused') return this.rt.cancelKeyed(id);
    const at = Date.parse(condition.lastUpdateTime ?? '') + deadlineOf(this.d) * 1000;
    const key = keyOf(this.d);
    // Due already (cannot be: timedOut agrees) would spin; the real controller rate-limits that requeue.
    this.rt.afterKeyed(id, at > now ? at - now : 1000, () => this.rt.enqueue(NAME, key));
  }

  /** cleanupDeployment: old ReplicaSets beyond revisionHistoryLimit, oldest revisions first, only when scaled to 0. */
  cleanup(oldRSs: KObject[]): void {
    const limit = specOf(this.d).revisionHistoryLimit ?? 10;
    const fresh = oldRSs
      .map((rs) => this.rt.store.get(T.replicasets, this.ns, rs.metadata.name))
      .filter((rs): rs is KObject => !!rs && !rs.metadata.deletionTimestamp);
    const diff = fresh.length - limit;
    if (diff <= 0) return;
    fresh.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of fresh.slice(0, diff)) {
      if (
        (rsStatus(rs).replicas ?? 0) !== 0 ||
        replicasOf(rs) !== 0 ||
        (rs.metadata.generation ?? 1) > (rsStatus(rs).observedGeneration ?? 0)
      )
        continue;
      this.rt.store.delete(T.replicasets, this.ns, rs.metadata.name);
    }
  }

  /** checkPausedConditions. */
  checkPaused(): void {
    if (!hasDeadline(this.d)) return;
    const status = structuredClone(dStatusOf(this.d));
    const current = getCondition(status, 'Progressing');
    if (current?.reason === 'ProgressDeadlineExceeded') return;
    const pausedShown = current?.reason === 'DeploymentPaused';
    const now = this.rt.now();
    if (specOf(this.d).paused && !pausedShown) {
      setCondition(
        status,
        newCondition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused', now),
      );
      this.writeStatus(status);
    } else if (!specOf(this.d).paused && pausedShown) {
      setCondition(
        status,
        newCondition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed', now),
      );
      this.writeStatus(status);
    }
  }
}

function syncDeployment(rt: Runtime, key: string): void {
  const [namespace, name] = splitKey(key);
  const d = rt.store.get(T.deployments, namespace, name);
  if (!d) return;
  const s = new DeploymentSync(rt, d);
  if (d.metadata.deletionTimestamp) {
    const all = s.ownedReplicaSets();
    const template = specOf(d).template;
    const newRS = all.find((rs) =>
      equalIgnoreHash((rs.spec as { template?: PodTemplate }).template, template),
    );
    const status = s.calculateStatus(all, newRS);
    if (!jsonEqual(status, dStatusOf(d))) s.writeStatus(status);
    return;
  }
  s.checkPaused();
  if (specOf(s.d).paused) return s.sync();
  if (s.isScalingEvent()) return s.sync();
  if (isRolling(s.d)) s.rolling();
  else s.recreate();
}
