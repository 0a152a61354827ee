// The job summary of a deploy: the image, the task definition diff, the timeline, the result.
import type { ServiceEvent } from '@aws-sdk/client-ecs';
import { JobSummary } from '@aws-containers/core';

export interface ServiceResult {
  service: string;
  serviceArn: string | undefined;
  deploymentId: string | undefined;
  /** The rollout-state output: COMPLETED, FAILED, ROLLED_BACK, TIMED_OUT or CANCELLED. */
  rolloutState: string;
  rolledBack: boolean;
  /** What happened, for a person. */
  message: string;
  /** The service events seen while following, oldest first. */
  events: ServiceEvent[];
}

export interface DeploySummary {
  dryRun: boolean;
  family: string;
  diff: string[];
  taskDefinitionArn: string | undefined;
  services: ServiceResult[];
  runTask: { exitCode: number | undefined; taskArn: string | undefined } | undefined;
}

export function buildSummary(s: DeploySummary): JobSummary {
  const summary = new JobSummary().heading(
    s.dryRun ? `ecs-deploy-fargate (dry run): ${s.family}` : `ecs-deploy-fargate: ${s.family}`,
    2,
  );
  if (s.dryRun)
    summary.paragraph('Dry run: rendered, compared and validated; nothing was registered or deployed.');
  if (s.taskDefinitionArn) summary.paragraph(`Task definition: ${s.taskDefinitionArn}`);
  summary.details(
    s.diff.length > 0 ? `Task definition changes (${s.diff.length})` : 'Task definition changes (none)',
    s.diff.length > 0 ? s.diff.join('\n') : 'The rendered task definition equals the one the service runs.',
  );
  if (s.runTask) {
    summary.paragraph(
      `One-off task ${s.runTask.taskArn ?? ''} exited ${s.runTask.exitCode ?? 'without a code'}.`,
    );
  }
  if (s.services.length > 0) {
    summary.table(
      ['Service', 'Deployment', 'Result', 'Rolled back'],
      s.services.map((r) => [r.service, r.deploymentId ?? '', r.rolloutState, r.rolledBack ? 'yes' : 'no']),
    );
    for (const r of s.services) {
      if (r.rolloutState !== 'COMPLETED') summary.paragraph(`${r.service}: ${r.message}`);
      if (r.events.length > 0) {
        summary.details(
          `${r.service}: service events (${r.events.length})`,
          r.events.map((e) => `${e.createdAt?.toISOString() ?? ''} ${e.message ?? ''}`).join('\n'),
        );
      }
    }
  }
  return summary;
}
