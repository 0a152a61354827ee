// Following one deployment to its end on a budget: one DescribeServices a check, paced by the
// rollout's phase (followPaceMs) with jitter, so fifty deploys in one account stay inside its API
// rate limits; the deployment's stopped tasks are listed only when its counts say one stopped
// (failedTasks moved, fewer of its tasks run, or ECS started a replacement); new service events and
// newly stopped tasks printed as they happen, the decision left to rollout.ts. Throttling, 5xx and network errors are retried with back-off
// until the deadline (the rollout goes on meanwhile); permanent errors (AccessDenied, validation)
// end the wait at once. A call that never answers is abandoned at the deadline. Each answer is also
// kept, bounded, as a sample of the timeline the summary draws (deployments and task counts over
// time, where each follow began and how it ended).
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  type ECSClient,
  type Service,
  type ServiceEvent,
  type Task,
} from '@aws-sdk/client-ecs';
import {
  formatError,
  isTransientError,
  systemClock,
  waitFor,
  type Clock,
  type Sleep,
} from '@aws-containers/core';
import {
  decideRollout,
  describeStoppedTask,
  isFailedTask,
  newEvents,
  type RolloutDecision,
} from './rollout.js';

export type FollowOutcome =
  | { status: 'completed' | 'failed' | 'rolled-back'; decision: RolloutDecision; service: Service }
  | {
      status: 'timed-out';
      decision: RolloutDecision | undefined;
      service: Service | undefined;
      /** Why the last checks failed, when the deadline passed while they were failing or hanging. */
      lastError?: unknown;
    }
  | { status: 'cancelled'; decision: RolloutDecision | undefined; service: Service | undefined };

export interface FollowOptions {
  cluster: string;
  service: string;
  deploymentId: string;
  maxFailedTasks: number;
  previousTaskDefinition: string | undefined;
  /** The fast pace; a rollout still placing and starting its tasks is checked half as often. */
  intervalMs: number;
  /** Wait this long before the first check (a deployment just started has nothing to show). */
  firstCheckAfterMs?: number;
  /** 0..1, for the jitter of each pause; default Math.random. */
  random?: () => number;
  timeoutMs: number;
  /** Events older than this are not printed (those from before the deployment began). */
  since: Date;
  /** Ids of events already printed or listed before this step changed the service. */
  knownEventIds?: Iterable<string>;
  /**
   * Believe COMPLETED only once running == desired, nothing pending and no other deployment, as
   * without the breaker: for a deployment this step did not start (a desired-count change alone
   * scales the PRIMARY, which stays COMPLETED while its new tasks start) and for a rollback.
   */
  settledOnly?: boolean;
  /** One line per event, stopped task and progress change. */
  log: (line: string) => void;
  /** The last log lines of a failed task's crashed containers (CloudWatch Logs), printed after it. */
  taskLogs?: (task: Task, signal?: AbortSignal) => Promise<string[]>;
  signal?: AbortSignal;
  clock?: Clock;
  sleep?: Sleep;
}

/** What following cost and saw, across every follow of one service (the rollout and its rollback). */
export interface FollowStats {
  describeServicesCalls: number;
  /** Every ECS call made while following (the SDK's own retries are in core's api-calls tally). */
  calls: number;
  /** ListTasks calls for stopped tasks: made only when the deployment's counts say a task stopped. */
  listTasksCalls: number;
  /** Checks that failed with a transient error and were tried again. */
  retries: number;
  events: ServiceEvent[];
  /** Ids of the stopped tasks already printed. */
  stoppedTaskIds: Set<string>;
  /** What each check saw, for the summary's picture of the rollout. */
  timeline: RolloutTimeline;
}

export function newFollowStats(): FollowStats {
  return {
    describeServicesCalls: 0,
    calls: 0,
    listTasksCalls: 0,
    retries: 0,
    events: [],
    stoppedTaskIds: new Set(),
    timeline: newTimeline(),
  };
}

async function stoppedTasksOf(
  ecs: ECSClient,
  cluster: string,
  deploymentId: string,
  stats: FollowStats,
  signal?: AbortSignal,
): Promise<Task[]> {
  stats.calls++;
  stats.listTasksCalls++;
  const listed = await ecs.send(
    new ListTasksCommand({ cluster, startedBy: deploymentId, desiredStatus: 'STOPPED' }),
    { abortSignal: signal },
  );
  const arns = (listed.taskArns ?? []).slice(0, 100);
  if (arns.length === 0) return [];
  stats.calls++;
  const described = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }), {
    abortSignal: signal,
  });
  return described.tasks ?? [];
}

/**
 * The pause after a check. A deployment of ours that is PRIMARY and IN_PROGRESS, with no failed
 * task and fewer tasks running than desired, is still being placed, pulled and started (tens of
 * seconds on Fargate) and cannot complete before its tasks run: two intervals, so a failure is
 * still seen within two. Anything else — its tasks running, a failed task, another deployment
 * taking over, a rollback — may end at any check: one interval. Jitter only shortens a pause (to
 * 80–100 %), so the bounds hold and a matrix of jobs started together does not poll in step.
 */
export function followPaceMs(
  service: Service,
  deploymentId: string,
  intervalMs: number,
  random: () => number = Math.random,
): number {
  const deployment = service.deployments?.find((d) => d.id === deploymentId);
  const starting =
    deployment !== undefined &&
    deployment.status === 'PRIMARY' &&
    deployment.rolloutState === 'IN_PROGRESS' &&
    (deployment.failedTasks ?? 0) === 0 &&
    (deployment.runningCount ?? 0) < (deployment.desiredCount ?? 0);
  return Math.round((starting ? 2 : 1) * intervalMs * (0.8 + 0.2 * random()));
}

/** What the deployment's counts were at the last listing of its stopped tasks. */
interface StoppedTaskWatch {
  failedTasks: number;
  runningCount: number;
  /** Tasks ECS said it started (service events since the deployment began). */
  startedTasks: number;
  tasks: Task[];
}

/**
 * Whether a task of the deployment may have stopped since the last listing: ECS counted another
 * failure (or reset the count), fewer of its tasks run than before (a task that ran and exited is
 * not counted in failedTasks without health checks), or ECS started a replacement — more tasks
 * started than the deployment wants, more than at the last listing. A replacement starts as soon
 * as a task is stopping, before failedTasks counts it (when it is STOPPED), so a failing rollout
 * is seen as early as listing stopped tasks at every check would see it.
 */
export function mayHaveStoppedTasks(
  service: Service,
  deploymentId: string,
  watch: Pick<StoppedTaskWatch, 'failedTasks' | 'runningCount' | 'startedTasks'>,
  startedTasks: number,
): boolean {
  const deployment = service.deployments?.find((d) => d.id === deploymentId);
  if (!deployment) return false;
  return (
    (deployment.failedTasks ?? 0) !== watch.failedTasks ||
    (deployment.runningCount ?? 0) < watch.runningCount ||
    (startedTasks > (deployment.desiredCount ?? 0) && startedTasks > watch.startedTasks)
  );
}

export async function followDeployment(
  ecs: ECSClient,
  options: FollowOptions,
  stats: FollowStats = newFollowStats(),
): Promise<FollowOutcome> {
  const seen = new Set<string>([...(options.knownEventIds ?? []), ...eventIds(stats.events)]);
  let lastProgress = '';
  let last: { decision: RolloutDecision; service: Service } | undefined;
  const clock = options.clock ?? systemClock;
  const { timeline } = stats;
  const follow: FollowRecord = {
    deploymentId: options.deploymentId,
    startedAtMs: sinceOrigin(timeline, clock.now()),
    endedAtMs: undefined,
    status: undefined,
  };
  timeline.follows.push(follow);
  const random = options.random ?? Math.random;
  const watch: StoppedTaskWatch = { failedTasks: 0, runningCount: 0, startedTasks: 0, tasks: [] };
  const decide = (service: Service) =>
    decideRollout({
      service,
      deploymentId: options.deploymentId,
      stoppedTasks: watch.tasks,
      maxFailedTasks: options.maxFailedTasks,
      previousTaskDefinition: options.previousTaskDefinition,
      circuitBreaker: options.settledOnly ? false : undefined,
    });
  const result = await waitFor({
    check: async (signal) => {
      stats.describeServicesCalls++;
      stats.calls++;
      const described = await ecs.send(
        new DescribeServicesCommand({ cluster: options.cluster, services: [options.service] }),
        { abortSignal: signal },
      );
      const service = described.services?.[0];
      if (!service) {
        const failure = described.failures?.[0];
        throw new Error(
          `The service ${options.service} disappeared during the deployment (${failure?.reason ?? 'not returned'})`,
        );
      }
      for (const event of newEvents(seen, service.events ?? [], options.since)) {
        if (event.id) seen.add(event.id);
        stats.events.push(event);
        options.log(`${event.createdAt?.toISOString() ?? ''} ${event.message ?? ''}`);
      }
      for (const event of service.events ?? []) if (event.id) seen.add(event.id);
      let decision = decide(service);
      // The stopped tasks are asked for only when something may have stopped (mayHaveStoppedTasks),
      // and before a failure is reported, so its message lists every failed task.
      const startedTasks = startedTaskCount(stats.events);
      const failing = decision.status === 'failed' || decision.status === 'rolled-back';
      if (mayHaveStoppedTasks(service, options.deploymentId, watch, startedTasks) || failing) {
        const deployment = service.deployments?.find((d) => d.id === options.deploymentId);
        watch.tasks = await stoppedTasksOf(ecs, options.cluster, options.deploymentId, stats, signal);
        watch.failedTasks = deployment?.failedTasks ?? watch.failedTasks;
        watch.startedTasks = startedTasks;
        for (const task of watch.tasks) {
          const id = task.taskArn ?? '';
          if (stats.stoppedTaskIds.has(id)) continue;
          stats.stoppedTaskIds.add(id);
          options.log(describeStoppedTask(task));
          if (options.taskLogs && isFailedTask(task)) {
            for (const line of await options.taskLogs(task, signal)) options.log(line);
          }
        }
        decision = decide(service);
      }
      watch.runningCount =
        service.deployments?.find((d) => d.id === options.deploymentId)?.runningCount ?? watch.runningCount;
      recordSample(timeline, clock.now(), service);
      last = { decision, service };
      if (decision.status === 'in-progress' && decision.reason !== lastProgress) {
        lastProgress = decision.reason;
        options.log(`… ${decision.reason}`);
      }
      return last;
    },
    until: ({ decision }) => decision.status === 'completed',
    failWhen: ({ decision }) =>
      decision.status === 'failed' || decision.status === 'rolled-back' ? decision.reason : undefined,
    retryWhen: isTransientError,
    onRetry: ({ error, delayMs }) => {
      stats.retries++;
      const said = formatError(error).split('\n')[0] ?? '';
      options.log(`${said}; the rollout goes on, checking again in ${Math.round(delayMs / 1000)} s`);
    },
    intervalMs: options.intervalMs,
    pace: ({ service }) => followPaceMs(service, options.deploymentId, options.intervalMs, random),
    ...(options.firstCheckAfterMs !== undefined ? { firstCheckAfterMs: options.firstCheckAfterMs } : {}),
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
  }).finally(() => (follow.endedAtMs = sinceOrigin(timeline, clock.now())));
  const outcome = ((): FollowOutcome => {
    switch (result.status) {
      case 'done':
        return { status: 'completed', ...result.value };
      case 'failed':
        return { status: result.value.decision.status as 'failed' | 'rolled-back', ...result.value };
      case 'timeout':
        return {
          status: 'timed-out',
          decision: last?.decision,
          service: last?.service,
          ...(result.lastError !== undefined ? { lastError: result.lastError } : {}),
        };
      case 'cancelled':
        return { status: 'cancelled', decision: last?.decision, service: last?.service };
    }
  })();
  follow.status = outcome.status;
  return outcome;
}

/** How many tasks ECS said it started (`has started 2 tasks: (task a) (task b).`) in these events. */
export function startedTaskCount(events: readonly ServiceEvent[]): number {
  let started = 0;
  for (const event of events) {
    const said = /\) has started (\d+) tasks?:/.exec(event.message ?? '');
    if (said) started += Number(said[1]);
  }
  return started;
}

function eventIds(events: readonly ServiceEvent[]): string[] {
  return events.flatMap((e) => (e.id ? [e.id] : []));
}

// ---------------------------------------------------------------------------------------------
// The timeline: what the summary's picture is drawn from

/** One deployment as one DescribeServices answer listed it. */
export interface DeploymentSample {
  id: string;
  /** PRIMARY, ACTIVE or INACTIVE. */
  status: string;
  /** `family:revision`. */
  revision: string;
  desired: number;
  running: number;
  pending: number;
  /** ECS's failedTasks count of the deployment. */
  failed: number;
}

export interface RolloutSample {
  /** Milliseconds since the first follow of this service began, on the step's clock. */
  atMs: number;
  deployments: DeploymentSample[];
}

/** One follow of one deployment: the rollout first, then (after a failure) its rollback. */
export interface FollowRecord {
  deploymentId: string;
  startedAtMs: number;
  /** Undefined while it runs. */
  endedAtMs: number | undefined;
  /** How it ended, as followDeployment returned it; undefined when an error ended it. */
  status: FollowOutcome['status'] | undefined;
}

export interface RolloutTimeline {
  /** Oldest first; a stretch where nothing changed keeps only its first and last sample. */
  samples: RolloutSample[];
  /** In order: the rollout, then the rollback when one was followed. */
  follows: FollowRecord[];
  /** Samples dropped to stay within MAX_SAMPLES: the picture is then coarser than the checks were. */
  thinned: number;
  /** The clock reading atMs counts from; set when the first follow begins. */
  originMs: number | undefined;
}

/** At most this many samples per service, whatever the timeout and the interval. */
export const MAX_SAMPLES = 200;
/** At most this many deployments per sample (ECS lists a handful at most). */
const MAX_DEPLOYMENTS = 6;

export function newTimeline(): RolloutTimeline {
  return { samples: [], follows: [], thinned: 0, originMs: undefined };
}

/** Milliseconds since the timeline's origin, which the first reading sets. */
function sinceOrigin(timeline: RolloutTimeline, nowMs: number): number {
  timeline.originMs ??= nowMs;
  return Math.max(0, Math.round(nowMs - timeline.originMs));
}

/**
 * Keeps one DescribeServices answer as a sample, bounded: of a run of samples with the same
 * deployments and counts only the first and the last stay, and past MAX_SAMPLES every other
 * sample (never the first or the last) is dropped.
 */
export function recordSample(timeline: RolloutTimeline, nowMs: number, service: Service): void {
  const samples = timeline.samples;
  samples.push({
    atMs: sinceOrigin(timeline, nowMs),
    deployments: (service.deployments ?? []).slice(0, MAX_DEPLOYMENTS).map((d) => ({
      id: d.id ?? '?',
      status: d.status ?? '?',
      revision: d.taskDefinition?.split('/').at(-1) ?? '?',
      desired: d.desiredCount ?? 0,
      running: d.runningCount ?? 0,
      pending: d.pendingCount ?? 0,
      failed: d.failedTasks ?? 0,
    })),
  });
  const n = samples.length;
  if (n >= 3 && sameCounts(samples[n - 1], samples[n - 2]) && sameCounts(samples[n - 2], samples[n - 3])) {
    samples.splice(n - 2, 1);
  }
  if (samples.length > MAX_SAMPLES) {
    const last = samples.length - 1;
    timeline.samples = samples.filter((_, i) => i === last || i % 2 === 0);
    timeline.thinned += samples.length - timeline.samples.length;
  }
}

function sameCounts(a: RolloutSample | undefined, b: RolloutSample | undefined): boolean {
  return JSON.stringify(a?.deployments) === JSON.stringify(b?.deployments);
}
