// Following a rollout: one DescribeServices answer (and the stopped tasks of our deployment) in,
// a decision out. We track our own deployment, the id UpdateService returned, rather than
// "stable": a service is also stable after the circuit breaker has rolled it back. Pure.
import type { Deployment, Service, ServiceEvent, Task } from '@aws-sdk/client-ecs';

export type RolloutStatus = 'in-progress' | 'completed' | 'failed' | 'rolled-back';

export interface RolloutState {
  /** The service as DescribeServices returns it. */
  service: Service;
  /** The id of the deployment this step started (`ecs-svc/…`). */
  deploymentId: string;
  /** The stopped tasks of our deployment (DescribeTasks of ListTasks startedBy=<deploymentId>, desiredStatus STOPPED). */
  stoppedTasks?: readonly Task[] | undefined;
  /** Fail once this many of our tasks have failed. */
  maxFailedTasks: number;
  /** Whether the deployment circuit breaker is on. Default: read from the service's deploymentConfiguration. */
  circuitBreaker?: boolean | undefined;
  /** The task definition the service ran before this step, to tell a rollback from a later deployment. */
  previousTaskDefinition?: string | undefined;
}

/**
 * Why a rollout was decided failed or rolled back; each calls for a different next step:
 * - `ecs-failed`: ECS marked our deployment FAILED (the circuit breaker, without a rollback yet);
 * - `failed-tasks`: `maxFailedTasks` of our tasks failed (ECS may not have reacted yet);
 * - `ecs-rolled-back`: ECS's circuit breaker rolled the service back (observed);
 * - `replaced`: another deployment (another run, a person) is PRIMARY now: nothing of ours to undo;
 * - `deleted`: the service is being deleted.
 */
export type FailureCause = 'ecs-failed' | 'failed-tasks' | 'ecs-rolled-back' | 'replaced' | 'deleted';

export interface RolloutDecision {
  status: RolloutStatus;
  /** For `failed` and `rolled-back`: what decided it. */
  cause?: FailureCause;
  /** Why it failed or rolled back, for a person; a progress line while in progress. */
  reason: string;
  /** Our deployment, when the service still lists it. */
  deployment: Deployment | undefined;
  /** The PRIMARY deployment now (after a rollback: the one to follow). */
  primary: Deployment | undefined;
  /** The failed tasks of our deployment, one line each. */
  failedTasks: string[];
}

// Tasks stopped for reasons that are not the new revision's fault: scale-in, a Spot reclaim, and
// StopTask by a person or another tool (UserInitiated), which ECS's circuit breaker ignores too:
// counting them would let anyone with ecs:StopTask fail (and roll back) a healthy deployment.
const NOT_FAILURES = new Set(['SpotInterruption', 'TerminationNotice', 'UserInitiated']);

/** True when a stopped task counts as a failure of the deployment. */
export function isFailedTask(task: Task): boolean {
  if (task.stopCode !== undefined && NOT_FAILURES.has(task.stopCode)) return false;
  if (/^Scaling activity initiated by/.test(task.stoppedReason ?? '')) return false;
  return true;
}

/** One line per stopped task: its id, revision, stop reason and code, each container's exit. */
export function describeStoppedTask(task: Task): string {
  const id = task.taskArn?.split('/').at(-1) ?? 'task';
  const revision = task.taskDefinitionArn?.split('/').at(-1);
  const head = `task ${id}${revision ? ` (${revision})` : ''} stopped: ${task.stoppedReason ?? 'no reason given'}${task.stopCode ? ` [${task.stopCode}]` : ''}`;
  // A container's reason is often the task's stop reason again (CannotPullContainerError): say it once.
  const said = (reason: string | undefined) =>
    reason !== undefined && (task.stoppedReason ?? '').includes(reason.trim());
  const containers = (task.containers ?? [])
    .filter((c) => c.exitCode !== undefined || (c.reason !== undefined && !said(c.reason)))
    .map((c) => {
      const exit = c.exitCode !== undefined ? `exit code ${c.exitCode}` : 'no exit code';
      return `container ${c.name ?? '?'}: ${exit}${c.reason && !said(c.reason) ? ` (${c.reason})` : ''}`;
    });
  const notCounted = isFailedTask(task) ? '' : ` (${notCountedBecause(task)}: not counted as a failure)`;
  return [head + notCounted, ...containers].join('; ');
}

function notCountedBecause(task: Task): string {
  if (task.stopCode === 'UserInitiated') return 'stopped with StopTask by a person or another tool';
  if (task.stopCode === 'SpotInterruption' || task.stopCode === 'TerminationNotice') {
    return 'its capacity was reclaimed';
  }
  return 'scaled in';
}

/** "running 1/2, pending 1, failed 0" for one deployment. */
export function describeProgress(deployment: Deployment): string {
  return (
    `${deployment.status ?? '?'} ${deployment.id ?? ''} ${revisionOf(deployment.taskDefinition)}: ` +
    `running ${deployment.runningCount ?? 0}/${deployment.desiredCount ?? 0}, pending ${deployment.pendingCount ?? 0}, ` +
    `failed ${deployment.failedTasks ?? 0}, rollout ${deployment.rolloutState ?? 'unknown'}`
  );
}

function revisionOf(taskDefinition: string | undefined): string {
  return taskDefinition?.split('/').at(-1) ?? '?';
}

/**
 * Where our deployment stands. In order:
 * - the service is gone (DRAINING or INACTIVE): failed;
 * - our deployment is no longer listed, INACTIVE, or no longer PRIMARY without having FAILED:
 *   rolled back when the previous revision is PRIMARY now, otherwise failed (replaced: another
 *   deployment took over);
 * - its rolloutState is FAILED: rolled back when another deployment is PRIMARY (the breaker's
 *   rollback), failed otherwise;
 * - it is PRIMARY with rolloutState COMPLETED: completed; without the circuit breaker (or without a
 *   rolloutState) also only once running == desired, nothing pending, and no other deployment;
 * - `maxFailedTasks` of its tasks have failed: failed;
 * - otherwise in progress.
 */
export function decideRollout(state: RolloutState): RolloutDecision {
  const { service, deploymentId } = state;
  const deployments = service.deployments ?? [];
  const deployment = deployments.find((d) => d.id === deploymentId);
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  const stopped = (state.stoppedTasks ?? []).filter(isFailedTask);
  const failedTasks = stopped.map(describeStoppedTask);
  const breaker =
    state.circuitBreaker ?? service.deploymentConfiguration?.deploymentCircuitBreaker?.enable ?? false;
  const decision = (status: RolloutStatus, reason: string, cause?: FailureCause): RolloutDecision => ({
    status,
    reason,
    ...(cause ? { cause } : {}),
    deployment,
    primary,
    failedTasks,
  });
  const withTasks = (reason: string) =>
    failedTasks.length === 0 ? reason : `${reason}\n${failedTasks.map((t) => `  ${t}`).join('\n')}`;

  if (service.status === 'DRAINING' || service.status === 'INACTIVE') {
    return decision(
      'failed',
      `The service ${service.serviceName ?? ''} is ${service.status}: it was deleted during the deployment`,
      'deleted',
    );
  }

  // Ours is gone, or another deployment took PRIMARY from it while it was not FAILED (ECS's
  // breaker marks it FAILED before rolling back, so that is another UpdateService).
  const superseded =
    deployment !== undefined &&
    deployment.status !== 'PRIMARY' &&
    deployment.rolloutState !== 'FAILED' &&
    primary !== undefined &&
    primary.id !== deployment.id;
  if (!deployment || deployment.status === 'INACTIVE' || superseded) {
    const now = primary
      ? `deployment ${primary.id} (${revisionOf(primary.taskDefinition)}) is PRIMARY now`
      : 'the service lists no PRIMARY deployment';
    // Back on the revision it ran before: rolled back. Anything else: another deployment.
    const replaced =
      primary !== undefined &&
      (state.previousTaskDefinition === undefined || primary.taskDefinition !== state.previousTaskDefinition);
    if (replaced) {
      return decision(
        'failed',
        withTasks(`Deployment ${deploymentId} was replaced by another deployment: ${now}`),
        'replaced',
      );
    }
    return decision(
      'rolled-back',
      withTasks(`Deployment ${deploymentId} was rolled back: ${now}`),
      'ecs-rolled-back',
    );
  }

  if (deployment.rolloutState === 'FAILED') {
    const why = deployment.rolloutStateReason ?? 'no reason given';
    if (primary && primary.id !== deployment.id) {
      return decision(
        'rolled-back',
        withTasks(
          `Deployment ${deploymentId} failed (${why}); the circuit breaker is rolling back to ${revisionOf(primary.taskDefinition)} (deployment ${primary.id})`,
        ),
        'ecs-rolled-back',
      );
    }
    return decision('failed', withTasks(`Deployment ${deploymentId} failed: ${why}`), 'ecs-failed');
  }

  const others = deployments.filter((d) => d.id !== deployment.id);
  if (deployment.status === 'PRIMARY') {
    const settled =
      (deployment.runningCount ?? 0) === (deployment.desiredCount ?? 0) &&
      (deployment.pendingCount ?? 0) === 0 &&
      others.length === 0;
    // Without the breaker nothing stops a bad rollout, so COMPLETED is only believed once the
    // tasks have settled too; with no rolloutState at all, settling is all there is.
    const completed =
      deployment.rolloutState === 'COMPLETED'
        ? breaker || settled
        : deployment.rolloutState === undefined && settled;
    if (completed) {
      return decision(
        'completed',
        `Deployment ${deploymentId} completed: ${deployment.runningCount ?? 0} of ${deployment.desiredCount ?? 0} tasks of ${revisionOf(deployment.taskDefinition)} running`,
      );
    }
  }

  const failedCount = Math.max(stopped.length, deployment.failedTasks ?? 0);
  if (failedCount >= state.maxFailedTasks) {
    return decision(
      'failed',
      withTasks(
        `Deployment ${deploymentId}: ${failedCount} task${failedCount === 1 ? '' : 's'} failed (max-failed-tasks is ${state.maxFailedTasks})`,
      ),
      'failed-tasks',
    );
  }

  return decision('in-progress', [deployment, ...others].map(describeProgress).join('; '));
}

/**
 * The events not seen yet, oldest first (DescribeServices lists the newest first, up to 100).
 * `notBefore`: also skip events older than this, such as those from before the deployment began.
 */
export function newEvents(
  previousSeenIds: ReadonlySet<string>,
  events: readonly ServiceEvent[],
  notBefore?: Date,
): ServiceEvent[] {
  return events
    .filter((e) => e.id === undefined || !previousSeenIds.has(e.id))
    .filter(
      (e) =>
        notBefore === undefined || e.createdAt === undefined || e.createdAt.getTime() >= notBefore.getTime(),
    )
    .map((event, index) => ({ event, index }))
    .sort((a, b) => {
      const ta = a.event.createdAt?.getTime();
      const tb = b.event.createdAt?.getTime();
      // Same or unknown times keep the API's order, reversed.
      return ta !== undefined && tb !== undefined && ta !== tb ? ta - tb : b.index - a.index;
    })
    .map(({ event }) => event);
}
