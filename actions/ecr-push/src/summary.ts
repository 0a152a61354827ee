// The job summary of a push: what was pushed where, what it cost, what the scan found.
import { JobSummary } from '@aws-containers/core';
import { SEVERITY_ORDER, type ScanReport } from './scan.js';

export interface PushSummary {
  repositoryUri: string;
  tags: string[];
  digest: string;
  pushed: boolean;
  /** How the image got there, in the user's words. */
  how: string;
  sizeBytes: number | undefined;
  blobs: { uploaded: number; skipped: number; mounted: number; bytesUploaded: number } | undefined;
  repositoryChanges: string[];
  scan: ScanReport | undefined;
  gate: { failOn: string; failed: boolean; atOrAbove: number } | undefined;
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

export function buildSummary(s: PushSummary): JobSummary {
  const summary = new JobSummary().heading(`ecr-push: ${s.repositoryUri}`, 2);
  summary.paragraph(
    s.pushed ? s.how : 'Every tag already pointed at an image: nothing was built or pushed (skip-if-exists).',
  );
  const rows: [string, string][] = [
    ['Image', `${s.repositoryUri}@${s.digest}`],
    ['Tags', s.tags.join(', ')],
  ];
  if (s.sizeBytes !== undefined) rows.push(['Size', formatBytes(s.sizeBytes)]);
  if (s.blobs) {
    rows.push([
      'Layers',
      `${s.blobs.uploaded} uploaded (${formatBytes(s.blobs.bytesUploaded)}), ${s.blobs.skipped} already there, ${s.blobs.mounted} mounted`,
    ]);
  }
  if (s.repositoryChanges.length > 0) rows.push(['Repository', s.repositoryChanges.join('; ')]);
  summary.table(['', ''], rows);
  if (s.scan) {
    summary.heading('Scan findings', 3);
    summary.table(SEVERITY_ORDER, [SEVERITY_ORDER.map((severity) => s.scan?.counts[severity] ?? 0)]);
    if (s.gate && s.gate.failOn !== 'NONE') {
      summary.paragraph(
        s.gate.failed
          ? `Failed: ${s.gate.atOrAbove} finding(s) at or above ${s.gate.failOn}.`
          : `Passed: no finding at or above ${s.gate.failOn}.`,
      );
    }
    const top = s.scan.findings.slice(0, 10);
    if (top.length > 0) {
      summary.table(
        ['Severity', 'Finding', 'Package'],
        top.map((f) => [f.severity, f.name, f.packageName ?? '']),
      );
    }
  }
  return summary;
}
