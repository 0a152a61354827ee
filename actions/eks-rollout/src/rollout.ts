// One workload's rollout from the moment it was changed: follow it, and when it fails, diagnose
// it, undo it (kubectl's algorithm) and follow the undo. The verdict is this workload's.
import type { KubeObject, RolloutStatus } from '@aws-containers/core';
import { diagnose, diagnosisText } from './diagnose.js';
import { followWorkload, revisionOf, type FollowResult } from './follow.js';
import type { WorkloadRef } from './inputs.js';
import type { WorkloadKind } from './manifests.js';
import { workloadName, type StageContext } from './stages.js';
import type { WorkloadResult } from './summary.js';

export interface RolloutRules {
  /** kubectl rollout status's rule for each kind (core). */
  status: (kind: WorkloadKind, object: KubeObject) => RolloutStatus;
  /** kubectl rollout undo (to the previous revision); returns the revision whose template it went back to. */
  undo: (ctx: StageContext, workload: WorkloadRef) => Promise<string | undefined>;
  /** The workload's current revision, as kubectl rollout history numbers it. */
  revision: (ctx: StageContext, workload: WorkloadRef, object: KubeObject) => Promise<string | undefined>;
}

export interface RolloutContext extends StageContext {
  timeoutMs: number;
  maxRestarts: number;
  rollbackOnFailure: boolean;
  rules: RolloutRules;
  /** Annotates a failure as soon as it is decidable (core.error, fenced). */
  onFailure: (message: string) => void;
  /** Annotates a warning (core.warning, fenced). */
  onWarning: (message: string) => void;
  stats: { calls: number; events: number };
  /** Why an image of the new template cannot be pulled, asked of ECR as the follow starts (see follow). */
  missingImage?: (images: string[], signal: AbortSignal) => Promise<string | undefined>;
}

export type RolloutOutcome = Pick<
  WorkloadResult,
  'state' | 'message' | 'revision' | 'rolledBack' | 'undo' | 'diagnosis'
>;

/** A Deployment's revision is its annotation; a StatefulSet's or DaemonSet's, its newest ControllerRevision. */
export async function currentRevision(
  ctx: RolloutContext,
  workload: WorkloadRef,
  result: FollowResult,
): Promise<string | undefined> {
  if (workload.kind === 'deployment') return revisionOf(result.object);
  return ctx.rules.revision(ctx, workload, result.object);
}

export async function rollOut(
  ctx: RolloutContext,
  workload: WorkloadRef,
  previousRevision: string | undefined,
): Promise<RolloutOutcome> {
  const name = workloadName(workload);
  const follow = (label: string, checkImages: boolean) =>
    followWorkload({
      client: ctx.client,
      signal: ctx.signal,
      kind: workload.kind,
      namespace: workload.namespace,
      name: workload.name,
      timeoutMs: ctx.timeoutMs,
      maxRestarts: ctx.maxRestarts,
      status: (object) => ctx.rules.status(workload.kind, object),
      onProgress: (message) => ctx.log(`${label}${message}`),
      onWarning: ctx.onWarning,
      stats: ctx.stats,
      // The undo goes back to images that ran; only the new template's are asked about.
      ...(checkImages && ctx.missingImage && { missingImage: ctx.missingImage }),
    });
  const result = await follow(`${name}: `, true);
  if (result.state === 'COMPLETED') {
    return outcome('COMPLETED', result.message, await currentRevision(ctx, workload, result));
  }
  if (result.state === 'CANCELLED') {
    return outcome('CANCELLED', `cancelled while following: ${result.message}`, undefined);
  }
  const why = result.message;
  ctx.onFailure(`${name} failed: ${why}`);
  const diagnosis = await diagnose({
    client: ctx.client,
    signal: ctx.signal,
    namespace: workload.namespace,
    workload: name,
    objects: [result.object, ...(result.newReplicaSet ? [result.newReplicaSet] : [])],
    pods: result.pods,
    maxRestarts: ctx.maxRestarts,
  });
  ctx.log(diagnosisText(diagnosis));
  const failedRevision = await currentRevision(ctx, workload, result);
  if (!ctx.rollbackOnFailure) {
    return { ...outcome('FAILED', why, failedRevision), diagnosis };
  }
  if (previousRevision === undefined) {
    return {
      ...outcome('FAILED', why, failedRevision),
      diagnosis,
      undo: `no undo: the ${workload.kind} had no revision before this step (it was created by it)`,
    };
  }
  ctx.log(`${name}: undoing the rollout (kubectl rollout undo)`);
  const to = await ctx.rules.undo(ctx, workload);
  if (workload.kind === 'statefulset') await forceRollback(ctx, workload, result.pods);
  const undone = await follow(`${name} (undo): `, false);
  const revision = await currentRevision(ctx, workload, undone);
  const undo =
    undone.state === 'COMPLETED'
      ? `undone: back to the template of revision ${to ?? previousRevision} (now revision ${revision ?? '?'}), rolled out`
      : `the undo did not complete: ${undone.state} — ${undone.message}`;
  ctx.log(`${name}: ${undo}`);
  return {
    state:
      undone.state === 'COMPLETED' ? 'ROLLED_BACK' : undone.state === 'CANCELLED' ? 'CANCELLED' : 'FAILED',
    message: why,
    revision,
    rolledBack: undone.state === 'COMPLETED',
    undo,
    diagnosis,
  };
}

function outcome(
  state: WorkloadResult['state'],
  message: string,
  revision: string | undefined,
): RolloutOutcome {
  return { state, message, revision, rolledBack: false, undo: undefined, diagnosis: undefined };
}

/**
 * A StatefulSet does not replace a pod of a failed revision that never became ready, even once its
 * template is back (Kubernetes' documented "forced rollback"): those pods are deleted, and the
 * controller creates them again from the restored template.
 */
async function forceRollback(
  ctx: RolloutContext,
  workload: WorkloadRef,
  pods: readonly KubeObject[],
): Promise<void> {
  for (const pod of pods.filter((p) => !isReady(p))) {
    await ctx.client.delete(
      { group: '', version: 'v1', plural: 'pods', namespace: workload.namespace, name: pod.metadata.name },
      { signal: ctx.signal },
    );
    ctx.log(
      `deleted pod ${pod.metadata.name} of the failed revision, so that it is created again from the restored template`,
    );
  }
}

function isReady(pod: KubeObject): boolean {
  const conditions = (pod.status as { conditions?: Array<{ type?: string; status?: string }> } | undefined)
    ?.conditions;
  return conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
