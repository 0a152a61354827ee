// A one-off task of the new revision before the service moves (migrations): run it on the
// service's network, wait for it to stop, and say how it ended.
import {
  DescribeTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
  type NetworkConfiguration,
  type Task,
  type CapacityProviderStrategyItem,
} from '@aws-sdk/client-ecs';
import { ActionError, formatError, isTransientError, waitFor } from '@aws-containers/core';
import { describeStoppedTask } from './rollout.js';

export interface OneOffTask {
  cluster: string;
  taskDefinitionArn: string;
  container: string;
  command: string[];
  networkConfiguration: NetworkConfiguration | undefined;
  capacityProviderStrategy: CapacityProviderStrategyItem[] | undefined;
  timeoutMs: number;
  intervalMs: number;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export interface OneOffResult {
  exitCode: number | undefined;
  task: Task;
}

/** The container's exit code, or a reason the task failed (pure). */
export function oneOffVerdict(
  task: Task,
  container: string,
): { exitCode: number | undefined; failure?: string } {
  const ran = task.containers?.find((c) => c.name === container);
  const exitCode = ran?.exitCode;
  if (exitCode === 0) return { exitCode };
  if (exitCode !== undefined)
    return { exitCode, failure: `the container ${container} exited with code ${exitCode}` };
  return { exitCode, failure: describeStoppedTask(task) };
}

export async function runOneOffTask(ecs: ECSClient, options: OneOffTask): Promise<OneOffResult> {
  if (!options.networkConfiguration) {
    throw new ActionError('run-task-before-deploy needs the network configuration of the service', {
      hint: 'The service has none; create it first, or give subnets with create-service',
    });
  }
  const started = await ecs.send(
    new RunTaskCommand({
      cluster: options.cluster,
      taskDefinition: options.taskDefinitionArn,
      count: 1,
      ...(options.capacityProviderStrategy?.length
        ? { capacityProviderStrategy: options.capacityProviderStrategy }
        : { launchType: 'FARGATE' }),
      networkConfiguration: options.networkConfiguration,
      overrides: { containerOverrides: [{ name: options.container, command: options.command }] },
      startedBy: 'aws-containers',
    }),
    { abortSignal: options.signal },
  );
  const task = started.tasks?.[0];
  if (!task?.taskArn) {
    const failure = started.failures?.[0];
    throw new ActionError(
      `run-task-before-deploy could not start a task: ${failure?.reason ?? 'no task'}${failure?.detail ? ` (${failure.detail})` : ''}`,
    );
  }
  const taskArn = task.taskArn;
  options.log(`started ${taskArn}: ${JSON.stringify(options.command)}`);
  let lastStatus = task.lastStatus ?? '';
  const result = await waitFor({
    check: async (signal) => {
      const described = await ecs.send(
        new DescribeTasksCommand({ cluster: options.cluster, tasks: [taskArn] }),
        { abortSignal: signal },
      );
      const now = described.tasks?.[0] ?? task;
      if (now.lastStatus && now.lastStatus !== lastStatus) {
        lastStatus = now.lastStatus;
        options.log(`task ${lastStatus}`);
      }
      return now;
    },
    until: (now) => now.lastStatus === 'STOPPED',
    retryWhen: isTransientError,
    onRetry: ({ error, delayMs }) =>
      options.log(
        `${formatError(error).split('\n')[0]}; checking the task again in ${Math.round(delayMs / 1000)} s`,
      ),
    intervalMs: options.intervalMs,
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (result.status === 'cancelled') {
    // The runner is about to stop this process: say what is left running, and leave it be.
    options.log(
      `Cancelled: the one-off task ${taskArn} is still ${lastStatus || 'running'} in ECS; the service was not updated`,
    );
    throw new ActionError(
      `run-task-before-deploy was cancelled; the task ${taskArn} is still ${lastStatus || 'running'}`,
    );
  }
  if (result.status !== 'done') {
    // Left running, a migration could go on changing the database after the step failed.
    const stopped = await ecs
      .send(
        new StopTaskCommand({
          cluster: options.cluster,
          task: taskArn,
          reason: `run-task-before-deploy timed out after ${Math.round(options.timeoutMs / 1000)} s`,
        }),
        { abortSignal: options.signal },
      )
      .then(
        (answer) => `it was stopped with StopTask (now ${answer.task?.lastStatus ?? 'stopping'})`,
        (err: unknown) =>
          `stopping it failed, so it may still be ${lastStatus || 'running'}: ${formatError(err).split('\n')[0]}`,
      );
    throw new ActionError(
      `run-task-before-deploy: the task ${taskArn} did not stop within ${Math.round(options.timeoutMs / 1000)} s (last status ${lastStatus || 'unknown'}); ${stopped}; the service was not updated`,
      { hint: 'Raise run-task-timeout, or look at the task in the ECS console' },
    );
  }
  return { exitCode: oneOffVerdict(result.value, options.container).exitCode, task: result.value };
}
