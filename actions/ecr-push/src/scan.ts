// The scan gate: wait for the image scan at a steady pace, count findings by severity, and decide.
import {
  DescribeImageScanFindingsCommand,
  StartImageScanCommand,
  type DescribeImageScanFindingsCommandOutput,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { ActionError, formatError, growingPaceMs, isTransientError, waitFor } from '@aws-containers/core';
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

/** A count for every severity, zeros included, in SEVERITY_ORDER: the `scan-findings` output. */
export type AllSeverityCounts = Record<Severity, number>;

/** Every severity with its count, zeros included, most severe first. */
export function allCounts(counts: SeverityCounts): AllSeverityCounts {
  return Object.fromEntries(SEVERITY_ORDER.map((s) => [s, counts[s] ?? 0])) as AllSeverityCounts;
}

/** A finding as the scanner wrote it: every text in it comes from outside the workflow. */
export interface Finding {
  name: string;
  severity: Severity;
  /** The package and version, when the scanner names one. */
  packageName: string | undefined;
  description: string | undefined;
  uri: string | undefined;
}

export interface ScanReport {
  status: string;
  counts: AllSeverityCounts;
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
  const counts = allCounts({});
  for (const [severity, count] of Object.entries(scan?.findingSeverityCounts ?? {})) {
    counts[asSeverity(severity)] += count ?? 0;
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
    description: f.description,
    uri: f.uri,
  }));
  const enhanced: Finding[] = (scan?.enhancedFindings ?? []).map((f) => {
    const pkg = f.packageVulnerabilityDetails?.vulnerablePackages?.[0];
    return {
      name: f.packageVulnerabilityDetails?.vulnerabilityId ?? f.title ?? 'unnamed finding',
      severity: asSeverity(f.severity),
      packageName: pkg ? [pkg.name, pkg.version].filter(Boolean).join(' ') : undefined,
      description: f.description,
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
 * Waits for the scan of an image to complete, polling every `intervalMs` at first and less often
 * as it takes longer (growingPaceMs, at most 4 × intervalMs). An image with no scan
 * (scan on push off) gets one started. Every call carries the wait's signal, which aborts at the
 * deadline, so a DescribeImageScanFindings that never answers cannot hold the step past
 * `timeoutMs`; transient errors (throttling, 5xx, resets, timeouts) are retried with back-off
 * until then, others end the wait at once.
 */
export async function waitForScan(
  ecr: ECRClient,
  target: ScanTarget,
  options: {
    timeoutMs: number;
    intervalMs: number;
    signal?: AbortSignal;
    onProgress?: (status: string) => void;
    /** Told of each transient error before the call is tried again (the text is AWS's). */
    onRetry?: (error: string, delayMs: number) => void;
  },
): Promise<ScanReport> {
  const imageId = { imageDigest: target.imageDigest };
  let started = false;
  const describe = async (
    signal: AbortSignal,
  ): Promise<DescribeImageScanFindingsCommandOutput | undefined> => {
    try {
      return await ecr.send(
        new DescribeImageScanFindingsCommand({
          registryId: target.registryId,
          repositoryName: target.repositoryName,
          imageId,
          maxResults: 1000,
        }),
        { abortSignal: signal },
      );
    } catch (err) {
      if (!(err instanceof Error && err.name === 'ScanNotFoundException') || started) throw err;
      await ecr.send(
        new StartImageScanCommand({
          registryId: target.registryId,
          repositoryName: target.repositoryName,
          imageId,
        }),
        { abortSignal: signal },
      );
      started = true;
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
    // Scans take from seconds to minutes: the longer it has taken, the less often it is asked.
    pace: (_value, { elapsedMs }) => growingPaceMs(elapsedMs, options.intervalMs, 4 * options.intervalMs),
    timeoutMs: options.timeoutMs,
    retryWhen: isTransientError,
    onRetry: ({ error, delayMs }) => options.onRetry?.(formatError(error).split('\n')[0] ?? '', delayMs),
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: ({ value }) => options.onProgress?.(value?.imageScanStatus?.status ?? 'not started'),
  });
  switch (result.status) {
    case 'done':
      return scanReport(result.value as DescribeImageScanFindingsCommandOutput);
    case 'failed':
      throw new ActionError(`The image scan of ${target.imageDigest} did not complete: ${result.reason}`);
    case 'timeout': {
      const last =
        result.lastError === undefined
          ? ''
          : `; the last call: ${formatError(result.lastError).split('\n')[0]}`;
      throw new ActionError(
        `The image scan of ${target.imageDigest} did not complete within ${Math.round(options.timeoutMs / 1000)} s (scan-timeout; last status: ${result.last?.imageScanStatus?.status ?? 'not started'}${last})`,
        {
          hint: 'The image is pushed and tagged. Raise scan-timeout, or check the repository scanning configuration and ECR’s health',
        },
      );
    }
    case 'cancelled':
      throw new ActionError('Waiting for the image scan was cancelled');
  }
}
