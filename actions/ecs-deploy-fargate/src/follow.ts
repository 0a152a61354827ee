// Following one deployment to its end at a fixed pace: DescribeServices (plus the stopped tasks of
// the deployment) each interval, new service events and newly stopped tasks printed as they happen,
// the decision left to rollout.ts. Throttling, 5xx and network errors are retried with back-off
// until the deadline (the rollout goes on meanwhile); permanent errors (AccessDenied, validation)
// end the wait at once. A call that never answers is abandoned at the deadline.
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  type ECSClient,
  type Service,
  type ServiceEvent,
  type Task,
} from '@aws-sdk/client-ecs';
import { formatError, isTransientError, waitFor, type Clock, type Sleep } from '@aws-containers/core';
import { decideRollout, describeStoppedTask, newEvents, type RolloutDecision } from './rollout.js';

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
  intervalMs: number;
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
  signal?: AbortSignal;
  clock?: Clock;
  sleep?: Sleep;
}

/** What following cost and saw, across every follow of one service (the rollout and its rollback). */
export interface FollowStats {
  describeServicesCalls: number;
  /** Every ECS call made while following, retries included. */
  calls: number;
  /** Checks that failed with a transient error and were tried again. */
  retries: number;
  events: ServiceEvent[];
  /** Ids of the stopped tasks already printed. */
  stoppedTaskIds: Set<string>;
}

export function newFollowStats(): FollowStats {
  return { describeServicesCalls: 0, calls: 0, retries: 0, events: [], stoppedTaskIds: new Set() };
}

async function stoppedTasksOf(
  ecs: ECSClient,
  cluster: string,
  deploymentId: string,
  stats: FollowStats,
  signal?: AbortSignal,
): Promise<Task[]> {
  stats.calls++;
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

export async function followDeployment(
  ecs: ECSClient,
  options: FollowOptions,
  stats: FollowStats = newFollowStats(),
): Promise<FollowOutcome> {
  const seen = new Set<string>([...(options.knownEventIds ?? []), ...eventIds(stats.events)]);
  let lastProgress = '';
  let last: { decision: RolloutDecision; service: Service } | undefined;
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
      const stoppedTasks = await stoppedTasksOf(ecs, options.cluster, options.deploymentId, stats, signal);
      for (const task of stoppedTasks) {
        const id = task.taskArn ?? '';
        if (stats.stoppedTaskIds.has(id)) continue;
        stats.stoppedTaskIds.add(id);
        options.log(describeStoppedTask(task));
      }
      const decision = decideRollout({
        service,
        deploymentId: options.deploymentId,
        stoppedTasks,
        maxFailedTasks: options.maxFailedTasks,
        previousTaskDefinition: options.previousTaskDefinition,
        circuitBreaker: options.settledOnly ? false : undefined,
      });
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
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
  });
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
}

function eventIds(events: readonly ServiceEvent[]): string[] {
  return events.flatMap((e) => (e.id ? [e.id] : []));
}
