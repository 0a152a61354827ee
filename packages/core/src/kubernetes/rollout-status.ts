// `kubectl rollout status`'s rules, sentence for sentence (kubectl 1.32,
// k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go), on the objects the API returns: the
// action reaches kubectl's verdict on the same object kubectl would see. kubectl's trailing
// newlines are left out.
import type { KubeObject, RolloutStatus } from './types.js';

interface DeploymentLike extends KubeObject {
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>;
  };
}

interface StatefulSetLike extends KubeObject {
  spec?: {
    replicas?: number;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  };
  status?: {
    observedGeneration?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    currentReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
  };
}

interface DaemonSetLike extends KubeObject {
  spec?: { updateStrategy?: { type?: string } };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
  };
}

/** kubectl's deploymentutil.TimedOutReason. */
export const PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
const ONLY_ROLLING_UPDATE = 'rollout status is only available for RollingUpdate strategy type';

const waiting = (message: string): RolloutStatus => ({ done: false, message });
const failed = (message: string): RolloutStatus => ({ done: false, message, failed: message });

/**
 * A Deployment's rollout by kubectl's rules. `revision`: the revision the caller expects
 * (`kubectl rollout status --revision`); another one running is a failure, as in kubectl.
 */
export function deploymentRolloutStatus(object: KubeObject, revision?: number): RolloutStatus {
  const d = object as DeploymentLike;
  const name = d.metadata.name;
  const status = d.status ?? {};
  if (revision !== undefined && revision > 0) {
    const annotation = d.metadata.annotations?.[REVISION_ANNOTATION];
    const running = annotation === undefined || annotation === '' ? 0 : Number(annotation);
    if (!Number.isInteger(running)) {
      return failed(`cannot get the revision of deployment ${JSON.stringify(name)}`);
    }
    if (running !== revision) {
      return failed(`desired revision (${revision}) is different from the running revision (${running})`);
    }
  }
  if ((d.metadata.generation ?? 0) <= (status.observedGeneration ?? 0)) {
    const progressing = status.conditions?.find((c) => c.type === 'Progressing');
    if (progressing?.reason === PROGRESS_DEADLINE_EXCEEDED) {
      return failed(`deployment ${JSON.stringify(name)} exceeded its progress deadline`);
    }
    const updated = status.updatedReplicas ?? 0;
    const replicas = d.spec?.replicas;
    if (replicas !== undefined && updated < replicas) {
      return waiting(
        `Waiting for deployment ${JSON.stringify(name)} rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`,
      );
    }
    if ((status.replicas ?? 0) > updated) {
      return waiting(
        `Waiting for deployment ${JSON.stringify(name)} rollout to finish: ${(status.replicas ?? 0) - updated} old replicas are pending termination...`,
      );
    }
    if ((status.availableReplicas ?? 0) < updated) {
      return waiting(
        `Waiting for deployment ${JSON.stringify(name)} rollout to finish: ${status.availableReplicas ?? 0} of ${updated} updated replicas are available...`,
      );
    }
    return { done: true, message: `deployment ${JSON.stringify(name)} successfully rolled out` };
  }
  return waiting('Waiting for deployment spec update to be observed...');
}

/**
 * A StatefulSet's rollout by kubectl's rules. OnDelete: kubectl answers "done" with an error (it
 * cannot follow it), so done and failed are both set, with its sentence.
 */
export function statefulSetRolloutStatus(object: KubeObject): RolloutStatus {
  const s = object as StatefulSetLike;
  const strategy = s.spec?.updateStrategy;
  const status = s.status ?? {};
  // The API server defaults the type to RollingUpdate; absent means an undefaulted object.
  if ((strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') {
    return { done: true, message: ONLY_ROLLING_UPDATE, failed: ONLY_ROLLING_UPDATE };
  }
  if (!status.observedGeneration || (s.metadata.generation ?? 0) > status.observedGeneration) {
    return waiting('Waiting for statefulset spec update to be observed...');
  }
  const replicas = s.spec?.replicas;
  const ready = status.readyReplicas ?? 0;
  if (replicas !== undefined && ready < replicas) {
    return waiting(`Waiting for ${replicas - ready} pods to be ready...`);
  }
  const updated = status.updatedReplicas ?? 0;
  if (strategy?.rollingUpdate) {
    const partition = strategy.rollingUpdate.partition;
    if (replicas !== undefined && partition !== undefined && updated < replicas - partition) {
      return waiting(
        `Waiting for partitioned roll out to finish: ${updated} out of ${replicas - partition} new pods have been updated...`,
      );
    }
    return { done: true, message: `partitioned roll out complete: ${updated} new pods have been updated...` };
  }
  if (status.updateRevision !== status.currentRevision) {
    return waiting(
      `waiting for statefulset rolling update to complete ${updated} pods at revision ${status.updateRevision ?? ''}...`,
    );
  }
  return {
    done: true,
    message: `statefulset rolling update complete ${status.currentReplicas ?? 0} pods at revision ${status.currentRevision ?? ''}...`,
  };
}

/** A DaemonSet's rollout by kubectl's rules (OnDelete as for StatefulSets). */
export function daemonSetRolloutStatus(object: KubeObject): RolloutStatus {
  const d = object as DaemonSetLike;
  const name = JSON.stringify(d.metadata.name);
  const status = d.status ?? {};
  if ((d.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') {
    return { done: true, message: ONLY_ROLLING_UPDATE, failed: ONLY_ROLLING_UPDATE };
  }
  if ((d.metadata.generation ?? 0) <= (status.observedGeneration ?? 0)) {
    const desired = status.desiredNumberScheduled ?? 0;
    const updated = status.updatedNumberScheduled ?? 0;
    if (updated < desired) {
      return waiting(
        `Waiting for daemon set ${name} rollout to finish: ${updated} out of ${desired} new pods have been updated...`,
      );
    }
    const available = status.numberAvailable ?? 0;
    if (available < desired) {
      return waiting(
        `Waiting for daemon set ${name} rollout to finish: ${available} of ${desired} updated pods are available...`,
      );
    }
    return { done: true, message: `daemon set ${name} successfully rolled out` };
  }
  return waiting('Waiting for daemon set spec update to be observed...');
}

/** The rules for a workload by its kind (Deployment, StatefulSet, DaemonSet); undefined for others. */
export function rolloutStatus(object: KubeObject, revision?: number): RolloutStatus | undefined {
  switch (object.kind) {
    case 'Deployment':
      return deploymentRolloutStatus(object, revision);
    case 'StatefulSet':
      return statefulSetRolloutStatus(object);
    case 'DaemonSet':
      return daemonSetRolloutStatus(object);
    default:
      return undefined;
  }
}
