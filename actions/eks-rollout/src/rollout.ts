// One workload's rollout from the moment it was changed: follow it, and when it fails, diagnose
// it, undo it (kubectl's algorithm, from core) and follow the undo. The verdict is this workload's.
import type { KubeObject, RolloutStatus } from '@aws-containers/core';
import { diagnose, diagnosisText } from './diagnose.js';
import { followDeployment, revisionOf, type FollowResult } from './follow.js';
import type { WorkloadRef } from './inputs.js';
import { workloadName, type StageContext } from './stages.js';
import type { WorkloadResult } from './summary.js';

export interface RolloutRules {
  /** kubectl rollout status's rule for a Deployment. */
  deploymentStatus: (deployment: KubeObject) => RolloutStatus;
  /** kubectl rollout undo for a Deployment (to the previous revision); returns the revision whose template it went back to. */
  undoDeployment: (ctx: StageContext, namespace: string, name: string) => Promise<string | undefined>;
}

export interface RolloutContext extends StageContext {
  timeoutMs: number;
  maxRestarts: number;
  rollbackOnFailure: boolean;
  rules: RolloutRules;
  /** Annotates a failure as soon as it is decidable (core.error, fenced). */
  onFailure: (message: string) => void;
  stats: { calls: number; events: number };
}

export type RolloutOutcome = Pick<
  WorkloadResult,
  'state' | 'message' | 'revision' | 'rolledBack' | 'undo' | 'diagnosis'
>;

export async function rollOut(
  ctx: RolloutContext,
  workload: WorkloadRef,
  previousRevision: string | undefined,
): Promise<RolloutOutcome> {
  const name = workloadName(workload);
  if (workload.kind !== 'deployment') {
    return {
      state: 'UNKNOWN',
      message: `following a ${workload.kind} is not supported yet; it was changed but not followed`,
      revision: undefined,
      rolledBack: false,
      undo: undefined,
      diagnosis: undefined,
    };
  }
  const follow = (label: string) =>
    followDeployment({
      client: ctx.client,
      signal: ctx.signal,
      namespace: workload.namespace,
      name: workload.name,
      timeoutMs: ctx.timeoutMs,
      maxRestarts: ctx.maxRestarts,
      status: ctx.rules.deploymentStatus,
      onProgress: (message) => ctx.log(`${label}${message}`),
      stats: ctx.stats,
    });
  const result = await follow(`${name}: `);
  if (result.state === 'COMPLETED') {
    return outcome('COMPLETED', result.message, result);
  }
  if (result.state === 'CANCELLED') {
    return outcome('CANCELLED', `cancelled while following: ${result.message}`, result);
  }
  const why = result.state === 'TIMED_OUT' ? result.message : result.message;
  ctx.onFailure(`${name} failed: ${why}`);
  const diagnosis = await diagnose({
    client: ctx.client,
    signal: ctx.signal,
    namespace: workload.namespace,
    workload: name,
    objects: [result.deployment, ...(result.newReplicaSet ? [result.newReplicaSet] : [])],
    pods: result.pods,
    maxRestarts: ctx.maxRestarts,
  });
  ctx.log(diagnosisText(diagnosis));
  if (!ctx.rollbackOnFailure) {
    return { ...outcome('FAILED', why, result), diagnosis };
  }
  if (previousRevision === undefined) {
    return {
      ...outcome('FAILED', why, result),
      diagnosis,
      undo: 'no undo: the Deployment had no revision before this step (it was created by it)',
    };
  }
  ctx.log(`${name}: undoing the rollout (kubectl rollout undo)`);
  const to = await ctx.rules.undoDeployment(ctx, workload.namespace, workload.name);
  const undone = await follow(`${name} (undo): `);
  const undo =
    undone.state === 'COMPLETED'
      ? `undone: back to the template of revision ${to ?? previousRevision} (now revision ${revisionOf(undone.deployment) ?? '?'}), rolled out`
      : `the undo did not complete: ${undone.state} — ${undone.message}`;
  ctx.log(`${name}: ${undo}`);
  return {
    state:
      undone.state === 'COMPLETED' ? 'ROLLED_BACK' : undone.state === 'CANCELLED' ? 'CANCELLED' : 'FAILED',
    message: why,
    revision: revisionOf(undone.deployment),
    rolledBack: undone.state === 'COMPLETED',
    undo,
    diagnosis,
  };
}

function outcome(state: WorkloadResult['state'], message: string, result: FollowResult): RolloutOutcome {
  return {
    state,
    message,
    revision: revisionOf(result.deployment),
    rolledBack: false,
    undo: undefined,
    diagnosis: undefined,
  };
}
