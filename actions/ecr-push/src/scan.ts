// The scan gate: wait for the image scan at a steady pace, count findings by severity, and decide.
import {
  DescribeImageScanFindingsCommand,
  StartImageScanCommand,
  type DescribeImageScanFindingsCommandOutput,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { ActionError, waitFor } from '@aws-containers/core';
import type { Severity } from './inputs.js';

/** Most severe first: the order of the table and of the gate. */
export const SEVERITY_ORDER: readonly Severity[] = [
  'CRITICAL',
  'HIGH',
  'MEDIUM',
  'LOW',
  'INFORMATIONAL',
  'UNDEFINED',
];

export type SeverityCounts = Partial<Record<Severity, number>>;

export interface Finding {
  name: string;
  severity: Severity;
  /** The package and version, when the scanner names one. */
  packageName: string | undefined;
  uri: string | undefined;
}

export interface ScanReport {
  status: string;
  counts: SeverityCounts;
  /** The most severe findings first, basic and enhanced alike. */
  findings: Finding[];
}

export interface GateDecision {
  failed: boolean;
  /** How many findings are at or above the threshold. */
  atOrAbove: number;
}

function asSeverity(value: string | undefined): Severity {
  const upper = (value ?? 'UNDEFINED').toUpperCase();
  return (SEVERITY_ORDER as readonly string[]).includes(upper) ? (upper as Severity) : 'UNDEFINED';
}

/** The report in our terms from one DescribeImageScanFindings page (pure). */
export function scanReport(output: DescribeImageScanFindingsCommandOutput): ScanReport {
  const scan = output.imageScanFindings;
  const counts: SeverityCounts = {};
  for (const [severity, count] of Object.entries(scan?.findingSeverityCounts ?? {})) {
    counts[asSeverity(severity)] = (counts[asSeverity(severity)] ?? 0) + (count ?? 0);
  }
  const basic: Finding[] = (scan?.findings ?? []).map((f) => ({
    name: f.name ?? 'unnamed finding',
    severity: asSeverity(f.severity),
    packageName:
      [
        f.attributes?.find((a) => a.key === 'package_name')?.value,
        f.attributes?.find((a) => a.key === 'package_version')?.value,
      ]
        .filter(Boolean)
        .join(' ') || undefined,
    uri: f.uri,
  }));
  const enhanced: Finding[] = (scan?.enhancedFindings ?? []).map((f) => {
    const pkg = f.packageVulnerabilityDetails?.vulnerablePackages?.[0];
    return {
      name: f.packageVulnerabilityDetails?.vulnerabilityId ?? f.title ?? 'unnamed finding',
      severity: asSeverity(f.severity),
      packageName: pkg ? [pkg.name, pkg.version].filter(Boolean).join(' ') : undefined,
      uri: f.packageVulnerabilityDetails?.sourceUrl,
    };
  });
  const findings = [...basic, ...enhanced].sort(
    (a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity),
  );
  return { status: output.imageScanStatus?.status ?? 'UNKNOWN', counts, findings };
}

/** Whether the gate fails for these counts (pure). `NONE` never fails. */
export function gate(counts: SeverityCounts, failOn: Severity | 'NONE'): GateDecision {
  if (failOn === 'NONE') return { failed: false, atOrAbove: 0 };
  const limit = SEVERITY_ORDER.indexOf(failOn);
  const atOrAbove = SEVERITY_ORDER.slice(0, limit + 1).reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  return { failed: atOrAbove > 0, atOrAbove };
}

export function formatCounts(counts: SeverityCounts): string {
  return SEVERITY_ORDER.map((s) => `${s} ${counts[s] ?? 0}`).join(', ');
}

export interface ScanTarget {
  registryId: string;
  repositoryName: string;
  imageDigest: string;
}

/**
 * Waits for the scan of an image to complete, polling every `intervalMs`. An image with no scan
 * (scan on push off) gets one started. API errors end the wait at once.
 */
export async function waitForScan(
  ecr: ECRClient,
  target: ScanTarget,
  options: {
    timeoutMs: number;
    intervalMs: number;
    signal?: AbortSignal;
    onProgress?: (status: string) => void;
  },
): Promise<ScanReport> {
  const imageId = { imageDigest: target.imageDigest };
  let started = false;
  const describe = async (): Promise<DescribeImageScanFindingsCommandOutput | undefined> => {
    try {
      return await ecr.send(
        new DescribeImageScanFindingsCommand({
          registryId: target.registryId,
          repositoryName: target.repositoryName,
          imageId,
          maxResults: 1000,
        }),
        { abortSignal: options.signal },
      );
    } catch (err) {
      if (!(err instanceof Error && err.name === 'ScanNotFoundException') || started) throw err;
      started = true;
      await ecr.send(
        new StartImageScanCommand({
          registryId: target.registryId,
          repositoryName: target.repositoryName,
          imageId,
        }),
        { abortSignal: options.signal },
      );
      return undefined;
    }
  };
  const result = await waitFor({
    check: describe,
    until: (output) => output?.imageScanStatus?.status === 'COMPLETE',
    failWhen: (output) => {
      const status = output?.imageScanStatus?.status;
      return status === 'FAILED' || status === 'UNSUPPORTED_IMAGE' || status === 'SCAN_ELIGIBILITY_EXPIRED'
        ? `the scan ended ${status}: ${output?.imageScanStatus?.description ?? 'no description'}`
        : undefined;
    },
    intervalMs: options.intervalMs,
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: ({ value }) => options.onProgress?.(value?.imageScanStatus?.status ?? 'not started'),
  });
  switch (result.status) {
    case 'done':
      return scanReport(result.value as DescribeImageScanFindingsCommandOutput);
    case 'failed':
      throw new ActionError(`The image scan of ${target.imageDigest} did not complete: ${result.reason}`);
    case 'timeout':
      throw new ActionError(
        `The image scan of ${target.imageDigest} did not complete within ${Math.round(options.timeoutMs / 1000)} s (last status: ${result.last?.imageScanStatus?.status ?? 'not started'})`,
        { hint: 'Raise scan-timeout, or check the repository scanning configuration' },
      );
    case 'cancelled':
      throw new ActionError('Waiting for the image scan was cancelled');
  }
}
