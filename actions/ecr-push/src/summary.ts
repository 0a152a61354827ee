// The job summary of a push, built from whatever state the step reached: what was pushed where,
// what it cost, what the scan found — and, when the step failed, where it stopped and what was
// not done. main() writes it in a `finally`, so every exit path has one.
import { JobSummary, cut } from '@aws-containers/core';
import { SEVERITY_ORDER } from './scan.js';
import {
  describeFinding,
  describeLogin,
  describeRepository,
  type LoginResult,
  type Pushed,
  type RepositoryResult,
  type ScanGateResult,
} from './stages.js';

/** The stages in the order the step runs them. */
export const STAGES = ['inputs', 'login', 'repository', 'push', 'scan'] as const;
export type StageName = (typeof STAGES)[number];

/** Where a failure happened, in the summary's words: "Failed while pushing: …". */
const WHERE: Record<StageName, string> = {
  inputs: 'while checking the inputs',
  login: 'while logging in',
  repository: 'while making sure of the repository',
  push: 'while pushing',
  scan: 'at the scan gate',
};

/** What the step got to; every field is filled in as its stage ends. */
export interface PushReport {
  /** The stage running now, or the last one when the step ended. */
  stage: StageName;
  repository: string | undefined;
  tags: string[] | undefined;
  login: LoginResult | undefined;
  ensured: RepositoryResult | undefined;
  /** skip-if-exists found every tag on this image: nothing was pushed. */
  existing: string | undefined;
  pushed: Pushed | undefined;
  /** scan: wait was asked for (or implied by fail-on-severity). */
  scanAsked: boolean;
  scan: ScanGateResult | undefined;
  /** When the step failed: the error as reported (its first line is shown). */
  error: string | undefined;
}

export function emptyReport(): PushReport {
  return {
    stage: 'inputs',
    repository: undefined,
    tags: undefined,
    login: undefined,
    ensured: undefined,
    existing: undefined,
    pushed: undefined,
    scanAsked: false,
    scan: undefined,
    error: undefined,
  };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function firstLine(text: string): string {
  return cut(text.split('\n')[0] ?? '', 300);
}

/** What the summary says of a stage: done (in its words), failed, or not reached. */
function stageText(r: PushReport, stage: StageName, done: () => string | undefined): string {
  const text = done();
  if (text !== undefined) return text;
  if (r.error !== undefined && r.stage === stage) return `failed: ${firstLine(r.error)}`;
  return 'not done: the step ended before';
}

function outcome(r: PushReport): string {
  if (r.error !== undefined) {
    const kept = r.pushed
      ? ' The image is pushed and tagged.'
      : r.stage === 'inputs'
        ? ' Nothing was called or changed in AWS.'
        : ' Nothing was pushed.';
    return `Failed ${WHERE[r.stage]}: ${firstLine(r.error)}${/[.!?]$/.test(firstLine(r.error)) ? '' : '.'}${kept}`;
  }
  if (r.existing)
    return 'Every tag already pointed at an image: nothing was built or pushed (skip-if-exists).';
  return r.pushed?.how ?? '';
}

export function buildSummary(r: PushReport): JobSummary {
  const where = r.ensured?.repositoryUri ?? r.repository;
  const summary = new JobSummary().heading(where ? `ecr-push: ${where}` : 'ecr-push', 2);
  summary.paragraph(outcome(r));

  const digest = r.pushed?.digest ?? r.existing;
  const rows: [string, string][] = [];
  if (digest && r.ensured) rows.push(['Image', `${r.ensured.repositoryUri}@${digest}`]);
  if (r.tags) rows.push(['Tags', r.tags.join(', ')]);
  if (r.pushed?.sizeBytes !== undefined) rows.push(['Size', formatBytes(r.pushed.sizeBytes)]);
  const blobs = r.pushed?.blobs;
  if (blobs) {
    rows.push([
      'Layers',
      `${blobs.uploaded} uploaded (${formatBytes(blobs.bytesUploaded)}), ${blobs.skipped} already there, ${blobs.mounted} mounted`,
    ]);
  }
  if (r.stage !== 'inputs' || r.error === undefined) {
    rows.push(['Login', stageText(r, 'login', () => r.login && describeLogin(r.login))]);
    rows.push(['Repository', stageText(r, 'repository', () => r.ensured && describeRepository(r.ensured))]);
    rows.push([
      'Push',
      stageText(r, 'push', () =>
        r.existing ? 'skipped: every tag already pointed at an image (skip-if-exists)' : r.pushed?.how,
      ),
    ]);
    rows.push([
      'Scan',
      r.scanAsked ? stageText(r, 'scan', () => scanText(r.scan)) : 'not asked (scan: none)',
    ]);
  }
  if (rows.length > 0) summary.facts(rows);

  if (r.scan) {
    const counts = r.scan.report.counts;
    summary.heading('Scan findings', 3);
    summary.table(SEVERITY_ORDER, [SEVERITY_ORDER.map((severity) => counts[severity])]);
    const top = r.scan.report.findings.slice(0, 10);
    const described = top.some((f) => f.description);
    if (top.length > 0) {
      summary.table(
        ['Severity', 'Finding', 'Package', ...(described ? ['Description'] : [])],
        top.map((f) => [
          f.severity,
          f.name,
          f.packageName ?? '',
          ...(described ? [cut(f.description ?? '', 200)] : []),
        ]),
      );
    }
  }
  return summary;
}

function scanText(scan: ScanGateResult | undefined): string | undefined {
  if (!scan) return undefined;
  const found =
    scan.report.findings.length > 0 ? `, the most severe ${describeFinding(scan.report.findings[0]!)}` : '';
  if (scan.failOn === 'NONE') return `complete${found}; no gate (fail-on-severity: NONE)`;
  return scan.failed
    ? `gate failed: ${scan.atOrAbove} finding(s) at or above ${scan.failOn}${found}`
    : `gate passed: no finding at or above ${scan.failOn}`;
}
