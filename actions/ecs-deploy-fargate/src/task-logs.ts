// The last lines a crashed container wrote, read from CloudWatch Logs where its awslogs driver sent
// them (`<awslogs-stream-prefix>/<container>/<task id>` in `awslogs-group`), so that a failed
// deploy shows why the process died, as eks-rollout shows a pod's `--previous` logs.
import { GetLogEventsCommand, CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { Task } from '@aws-sdk/client-ecs';
import { clientsPerRegion, createAwsClient } from '@aws-containers/core';
import type { RenderedTaskDefinition } from './render.js';
import { ACTION } from './version.js';

/** How many lines of each crashed container are shown. */
export const LOG_LINES = 20;

/** Where a container's awslogs driver writes for a task (pure); undefined without awslogs or a prefix. */
export function logStreamOf(
  td: RenderedTaskDefinition,
  container: string,
  taskId: string,
): { group: string; stream: string; region: string | undefined } | undefined {
  const def = td.containerDefinitions.find((c) => c.name === container);
  const options = def?.logConfiguration?.logDriver === 'awslogs' ? def.logConfiguration.options : undefined;
  const group = options?.['awslogs-group'];
  const prefix = options?.['awslogs-stream-prefix'];
  if (!group || !prefix) return undefined;
  return { group, stream: `${prefix}/${container}/${taskId}`, region: options['awslogs-region'] };
}

/** Reads the last lines of each container of a stopped task that exited non-zero, as printable lines. */
export function taskLogReader(
  td: RenderedTaskDefinition,
  region: string,
  maxAttempts: number,
): (task: Task, signal?: AbortSignal) => Promise<string[]> {
  const clientIn = clientsPerRegion((r) =>
    createAwsClient(CloudWatchLogsClient, { region: r, maxAttempts, action: ACTION }),
  );
  return async (task, signal) => {
    const taskId = task.taskArn?.split('/').at(-1) ?? '';
    const lines: string[] = [];
    for (const c of task.containers ?? []) {
      if (!c.name || c.exitCode === undefined || c.exitCode === 0) continue;
      const where = logStreamOf(td, c.name, taskId);
      if (!where) continue;
      try {
        const answer = await clientIn(where.region ?? region).send(
          new GetLogEventsCommand({
            logGroupName: where.group,
            logStreamName: where.stream,
            limit: LOG_LINES,
            startFromHead: false,
          }),
          { abortSignal: signal },
        );
        const events = answer.events ?? [];
        if (events.length === 0) continue;
        lines.push(
          `last ${events.length} log lines of container ${c.name} (CloudWatch Logs ${where.group}, ${where.stream}):`,
        );
        for (const e of events) lines.push(`  ${e.message ?? ''}`);
      } catch (error) {
        if (signal?.aborted) throw error;
        const name = error instanceof Error ? error.name : '';
        if (name === 'ResourceNotFoundException') continue;
        lines.push(`the log lines of container ${c.name} could not be read (${name || String(error)})`);
      }
    }
    return lines;
  };
}
