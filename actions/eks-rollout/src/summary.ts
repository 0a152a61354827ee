// What the step observed, kept as it happens so that the outputs and the job summary say it on
// every exit path (success, failure, cancellation, an error half-way).
import { JobSummary, setOutputs } from '@aws-containers/core';
import type { Diagnosis } from './diagnose.js';

export type RolloutState = 'COMPLETED' | 'FAILED' | 'ROLLED_BACK' | 'CANCELLED' | 'UNKNOWN';

export interface WorkloadResult {
  /** `Deployment/namespace/name`. */
  workload: string;
  state: RolloutState;
  /** kubectl's last sentence, or why it failed. */
  message: string;
  /** The revision before this step changed it (undefined: it did not exist). */
  previousRevision: string | undefined;
  /** The revision running at the end (after an undo, the one it went back to). */
  revision: string | undefined;
  rolledBack: boolean;
  /** What the undo did, when one was tried. */
  undo: string | undefined;
  diagnosis: Diagnosis | undefined;
}

export interface RolloutReport {
  cluster: string | undefined;
  inputErrors: string[] | undefined;
  applied: string[];
  workloads: WorkloadResult[];
  /** What the step was doing when it stopped (cancellation): `following Deployment/default/web`. */
  inFlight: string | undefined;
  cancelled: boolean;
  /** The error that ended the step early, formatted. */
  stoppedBy: string | undefined;
  watch: { calls: number; events: number };
  dryRun: boolean;
  /** The kubeconfig written for later steps. */
  kubeconfig: string | undefined;
  /** What a dry run would change, per object. */
  dryRunChanges: Array<{ name: string; diff: string[] | undefined }>;
  /** The pre-deploy Job, once it ran. */
  preDeployJob: { name: string; state: string; message: string } | undefined;
}

export function emptyReport(): RolloutReport {
  return {
    cluster: undefined,
    inputErrors: undefined,
    applied: [],
    workloads: [],
    inFlight: undefined,
    cancelled: false,
    stoppedBy: undefined,
    watch: { calls: 0, events: 0 },
    preDeployJob: undefined,
    dryRun: false,
    kubeconfig: undefined,
    dryRunChanges: [],
  };
}

/** The step's verdict from its workloads' (pure). */
export function overallState(report: RolloutReport): RolloutState {
  const states = report.workloads.map((w) => w.state);
  if (report.cancelled || states.includes('CANCELLED')) return 'CANCELLED';
  if (report.preDeployJob && report.preDeployJob.state !== 'COMPLETED') return 'FAILED';
  if (states.includes('FAILED')) return 'FAILED';
  if (states.includes('UNKNOWN')) return 'UNKNOWN';
  if (states.includes('ROLLED_BACK')) return 'ROLLED_BACK';
  if (report.stoppedBy !== undefined) return states.length > 0 ? 'UNKNOWN' : 'FAILED';
  return 'COMPLETED';
}

/** One value for one workload, a JSON object keyed by workload for several. */
export function perWorkload(
  workloads: readonly WorkloadResult[],
  pick: (w: WorkloadResult) => string | undefined,
): string | undefined {
  if (workloads.length === 0) return undefined;
  if (workloads.length === 1) return pick(workloads[0] as WorkloadResult);
  return JSON.stringify(Object.fromEntries(workloads.map((w) => [w.workload, pick(w) ?? null])));
}

export function outputsOf(report: RolloutReport): Record<string, string | boolean | undefined> {
  if (report.inputErrors) return {};
  // A dry run rolls nothing out: only what would be applied.
  if (report.dryRun) {
    return {
      applied: report.applied.length > 0 ? report.applied.join('\n') : undefined,
      kubeconfig: report.kubeconfig,
    };
  }
  return {
    'rollout-state': overallState(report),
    'rolled-back': report.workloads.length > 0 && report.workloads.some((w) => w.rolledBack),
    revision: perWorkload(report.workloads, (w) => w.revision),
    'previous-revision': perWorkload(report.workloads, (w) => w.previousRevision),
    applied: report.applied.length > 0 ? report.applied.join('\n') : undefined,
    kubeconfig: report.kubeconfig,
  };
}

export function writeOutputs(report: RolloutReport): void {
  setOutputs(outputsOf(report));
}

export function buildSummary(r: RolloutReport): JobSummary {
  const summary = new JobSummary().heading(`eks-rollout${r.cluster ? `: ${r.cluster}` : ''}`, 2);
  if (r.inputErrors) {
    summary.paragraph('The inputs are not valid: nothing was changed in the cluster.');
    summary.list(r.inputErrors);
    return summary;
  }
  if (r.dryRun) {
    summary.paragraph(
      'Dry run (server-side): every write was validated by the API server; nothing was changed.',
    );
    for (const c of r.dryRunChanges) {
      if (c.diff) summary.details(`${c.name}: changes`, c.diff.join('\n'), 'diff');
      else summary.paragraph(`${c.name}: unchanged`);
    }
    return summary;
  }
  summary.facts([
    ['Rollout', overallState(r)],
    ['Objects applied', r.applied.length],
    ['Watch events', r.watch.events],
  ]);
  if (r.preDeployJob) {
    summary.paragraph(
      `Pre-deploy Job ${r.preDeployJob.name}: ${r.preDeployJob.state} — ${r.preDeployJob.message}`,
    );
  }
  if (r.workloads.length > 0) {
    summary.table(
      ['Workload', 'State', 'Revision', 'Previous revision', 'Rolled back', 'Message'],
      r.workloads.map((w) => [w.workload, w.state, w.revision, w.previousRevision, w.rolledBack, w.message]),
    );
  }
  for (const w of r.workloads) {
    if (w.undo) summary.paragraph(`${w.workload}: ${w.undo}`);
    const d = w.diagnosis;
    if (!d) continue;
    summary.heading(`Diagnosis of ${w.workload}`, 3);
    if (d.containers.length > 0) summary.list(d.containers);
    if (d.events.length > 0) summary.details('Recent events', d.events.join('\n'));
    for (const log of d.logs) summary.details(`Last log lines of ${log.container}`, log.lines);
  }
  if (r.applied.length > 0) summary.details('Applied', r.applied.join('\n'));
  if (r.inFlight && r.cancelled) summary.paragraph(`Cancelled while ${r.inFlight}.`);
  if (r.stoppedBy) summary.paragraph(`Stopped: ${r.stoppedBy}`);
  return summary;
}
