// Following one deployment to its end at a fixed pace: DescribeServices (plus the stopped tasks of
// our deployment) each interval, new service events printed as they happen, and the decision
// left to rollout.ts. API errors end the wait at once; they are not retried until a timeout.
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  type ECSClient,
  type Service,
  type ServiceEvent,
  type Task,
} from '@aws-sdk/client-ecs';
import { waitFor, type Clock, type Sleep } from '@aws-containers/core';
import { decideRollout, newEvents, type RolloutDecision } from './rollout.js';

export type FollowOutcome =
  | { status: 'completed' | 'failed' | 'rolled-back'; decision: RolloutDecision; service: Service }
  | { status: 'timed-out'; decision: RolloutDecision | undefined; service: Service | undefined }
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
  /** Ids of events listed before this step changed the service: history, never printed. */
  knownEventIds?: Iterable<string>;
  /**
   * Believe COMPLETED only once running == desired, nothing pending and no other deployment, as
   * without the breaker: for a deployment this step did not start (a desired-count change alone
   * scales the PRIMARY, which stays COMPLETED while its new tasks start).
   */
  settledOnly?: boolean;
  /** One line per event and progress change. */
  log: (line: string) => void;
  signal?: AbortSignal;
  clock?: Clock;
  sleep?: Sleep;
}

export interface FollowStats {
  describeServicesCalls: number;
  events: ServiceEvent[];
}

async function stoppedTasksOf(
  ecs: ECSClient,
  cluster: string,
  deploymentId: string,
  signal?: AbortSignal,
): Promise<Task[]> {
  const listed = await ecs.send(
    new ListTasksCommand({ cluster, startedBy: deploymentId, desiredStatus: 'STOPPED' }),
    { abortSignal: signal },
  );
  const arns = (listed.taskArns ?? []).slice(0, 100);
  if (arns.length === 0) return [];
  const described = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }), {
    abortSignal: signal,
  });
  return described.tasks ?? [];
}

export async function followDeployment(
  ecs: ECSClient,
  options: FollowOptions,
  stats: FollowStats = { describeServicesCalls: 0, events: [] },
): Promise<FollowOutcome> {
  const seen = new Set<string>(options.knownEventIds ?? []);
  let lastProgress = '';
  let last: { decision: RolloutDecision; service: Service } | undefined;
  const result = await waitFor({
    check: async (signal) => {
      stats.describeServicesCalls++;
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
      const stoppedTasks = await stoppedTasksOf(ecs, options.cluster, options.deploymentId, signal);
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
      return { status: 'timed-out', decision: last?.decision, service: last?.service };
    case 'cancelled':
      return { status: 'cancelled', decision: last?.decision, service: last?.service };
  }
}
