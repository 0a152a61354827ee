// The job summary of a deploy, written on every exit path: what was rendered and registered, what
// each service did (rollout and rollback as observed), the rollout drawn over time, and what ended
// the step when it ended early.
import { JobSummary, type PreflightFinding, type PreflightMode } from '@aws-containers/core';
import type { PreviewReport } from './preview-main.js';
import { rolloutChart } from './rollout-chart.js';
import type { ServiceResult } from './stages.js';

export interface DeployReport {
  dryRun: boolean;
  /** Known once the task definition is rendered. */
  family: string | undefined;
  /** The inputs were not valid: the step stopped before any AWS call. */
  inputErrors: string[] | undefined;
  diff: string[] | undefined;
  /** What the diff compares against (`web:6`), undefined for a family's first revision. */
  diffBase: string | undefined;
  taskDefinitionArn: string | undefined;
  /** False when an identical ACTIVE revision was reused. */
  registered: boolean | undefined;
  runTask: { exitCode: number | undefined; taskArn: string | undefined } | undefined;
  services: ServiceResult[];
  calls: { total: number; describeServices: number; retried: number };
  /** The error that ended the step early, as formatted for the annotation. */
  stoppedBy: string | undefined;
  /** With `preview`: what the preview step saw and did. */
  preview?: PreviewSummary;
  /** What preflight found (undefined: it did not run). */
  preflight?: { mode: PreflightMode; findings: readonly PreflightFinding[] };
}

/** A preview step's part of the summary: what it saw (preview-main's PreviewReport) and its mode. */
export type PreviewSummary = PreviewReport & { mode: 'deploy' | 'teardown' | 'sweep' };

export function emptyReport(): DeployReport {
  return {
    dryRun: false,
    family: undefined,
    inputErrors: undefined,
    diff: undefined,
    diffBase: undefined,
    taskDefinitionArn: undefined,
    registered: undefined,
    runTask: undefined,
    services: [],
    calls: { total: 0, describeServices: 0, retried: 0 },
    stoppedBy: undefined,
  };
}

export function buildSummary(r: DeployReport): JobSummary {
  const title = `ecs-deploy-fargate${r.dryRun ? ' (dry run)' : ''}${r.family ? `: ${r.family}` : ''}`;
  const summary = new JobSummary().heading(title, 2);
  if (r.inputErrors) {
    summary.paragraph('The inputs are not valid: nothing was changed in AWS.');
    summary.list(r.inputErrors);
    return summary;
  }
  if (r.dryRun) {
    summary.paragraph('Dry run: rendered, compared and validated; nothing was registered or deployed.');
  }
  if (r.preview) previewSection(summary, r.preview);
  if (r.preflight && r.preflight.findings.length > 0) {
    summary
      .heading(
        `Preflight (${r.preflight.mode}): ${r.preflight.findings.filter((f) => f.severity === 'error').length} problems`,
        3,
      )
      .table(
        ['Where', 'Found', 'What to do'],
        r.preflight.findings.map((f) => [
          f.where,
          `${f.severity === 'error' ? '' : '(not checked) '}${f.problem}`,
          f.fix,
        ]),
      );
  }
  const facts: [string, string | undefined][] = [];
  if (r.taskDefinitionArn) {
    facts.push([
      'Task definition',
      `${r.taskDefinitionArn}${r.registered === false ? ' (an identical ACTIVE revision, reused)' : r.registered ? ' (registered by this step)' : ''}`,
    ]);
  }
  if (r.runTask) {
    facts.push([
      'One-off task',
      `${r.runTask.taskArn ?? ''} exited ${r.runTask.exitCode ?? 'without a code'}`,
    ]);
  }
  if (r.calls.total > 0) {
    facts.push([
      'ECS calls while following',
      `${r.calls.total} (DescribeServices ${r.calls.describeServices}${r.calls.retried > 0 ? `; ${r.calls.retried} checks retried after transient errors` : ''})`,
    ]);
  }
  if (facts.length > 0) summary.facts(facts);
  if (r.diff) {
    summary.details(
      r.diff.length > 0
        ? `Task definition changes from ${r.diffBase ?? 'nothing'} (${r.diff.length})`
        : 'Task definition changes (none)',
      r.diff.length > 0
        ? r.diff.join('\n')
        : `The rendered task definition equals ${r.diffBase ?? 'the one deployed'}.`,
    );
  }
  if (r.services.length > 0) {
    summary.table(
      ['Service', 'Deployment', 'Rollout', 'Rollback', 'Rolled back'],
      r.services.map((s) => [
        s.service,
        s.deploymentId ?? '',
        s.rolloutState,
        s.rollbackState,
        s.rolledBack ? 'yes' : 'no',
      ]),
    );
    for (const s of r.services) {
      if (s.rolloutState !== 'COMPLETED' && s.message) summary.paragraph(`${s.service}: ${s.message}`);
      const chart = s.timeline ? rolloutChart(s.service, s.timeline) : undefined;
      if (chart) {
        summary
          .heading(`${s.service}: the rollout over time`, 3)
          .mermaid(chart.source)
          .paragraph(chart.legend.join(' · '))
          .list(chart.marks);
      }
      if (s.events.length > 0) {
        summary.details(
          `${s.service}: service events (${s.events.length})`,
          s.events.map((e) => `${e.createdAt?.toISOString() ?? ''} ${e.message ?? ''}`).join('\n'),
        );
      }
    }
  }
  if (r.stoppedBy) summary.heading('The step stopped early', 3).code(r.stoppedBy);
  return summary;
}

function previewSection(summary: JobSummary, p: PreviewSummary): void {
  summary.heading(`Preview ${p.mode}${p.service ? `: ${p.service}` : ''}`, 3);
  if (p.skipped) {
    summary.paragraph(`Skipped: ${p.skipped}.`);
    return;
  }
  const facts: [string, string | undefined][] = [['State', p.state ?? 'not reached']];
  if (p.url) facts.push(['URL', p.url]);
  if (p.github?.comment)
    facts.push([
      'PR comment',
      `${p.github.comment}${p.github.commentUrl ? ` (${p.github.commentUrl})` : ''}`,
    ]);
  if (p.github?.deployment) facts.push(['GitHub deployment', p.github.deployment]);
  summary.facts(facts);
  if (p.teardown.length > 0)
    summary.table(
      ['Removed', 'State'],
      p.teardown.map((l) => [l.what, l.state]),
    );
  if (p.github && p.github.refused.length > 0) summary.list(p.github.refused);
}
