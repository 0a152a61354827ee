import type { DescribeImageScanFindingsCommandOutput } from '@aws-sdk/client-ecr';
import { allCounts, formatCounts, gate, scanReport, type SeverityCounts } from '../src/scan.js';
import type { Severity } from '../src/inputs.js';

test.each<[string, SeverityCounts, Severity | 'NONE', { failed: boolean; atOrAbove: number }]>([
  ['NONE never fails', { CRITICAL: 3 }, 'NONE', { failed: false, atOrAbove: 0 }],
  ['no findings pass', {}, 'LOW', { failed: false, atOrAbove: 0 }],
  [
    'HIGH counts CRITICAL and HIGH',
    { CRITICAL: 1, HIGH: 2, MEDIUM: 5 },
    'HIGH',
    { failed: true, atOrAbove: 3 },
  ],
  ['CRITICAL ignores HIGH', { HIGH: 2 }, 'CRITICAL', { failed: false, atOrAbove: 0 }],
  ['MEDIUM', { MEDIUM: 1, LOW: 4 }, 'MEDIUM', { failed: true, atOrAbove: 1 }],
  ['UNDEFINED counts everything', { LOW: 1, UNDEFINED: 1 }, 'UNDEFINED', { failed: true, atOrAbove: 2 }],
])('gate: %s', (_name, counts, failOn, want) => {
  expect(gate(counts, failOn)).toEqual(want);
});

test('the report merges basic and enhanced findings, most severe first', () => {
  const output = {
    $metadata: {},
    imageScanStatus: { status: 'COMPLETE' },
    imageScanFindings: {
      findingSeverityCounts: { LOW: 1, CRITICAL: 1, high: 1 },
      findings: [
        {
          name: 'CVE-1',
          severity: 'LOW',
          attributes: [
            { key: 'package_name', value: 'zlib' },
            { key: 'package_version', value: '1.2' },
          ],
        },
      ],
      enhancedFindings: [
        {
          severity: 'CRITICAL',
          packageVulnerabilityDetails: {
            vulnerabilityId: 'CVE-2',
            vulnerablePackages: [{ name: 'openssl', version: '3.0.1' }],
            sourceUrl: 'https://example.test/CVE-2',
            sourceUrlCustom: undefined,
          },
        },
      ],
    },
  } as unknown as DescribeImageScanFindingsCommandOutput;
  expect(scanReport(output)).toEqual({
    status: 'COMPLETE',
    counts: { CRITICAL: 1, HIGH: 1, MEDIUM: 0, LOW: 1, INFORMATIONAL: 0, UNDEFINED: 0 },
    findings: [
      {
        name: 'CVE-2',
        severity: 'CRITICAL',
        packageName: 'openssl 3.0.1',
        description: undefined,
        uri: 'https://example.test/CVE-2',
      },
      { name: 'CVE-1', severity: 'LOW', packageName: 'zlib 1.2', description: undefined, uri: undefined },
    ],
  });
  expect(formatCounts({ HIGH: 2 })).toBe('CRITICAL 0, HIGH 2, MEDIUM 0, LOW 0, INFORMATIONAL 0, UNDEFINED 0');
});

test('scan-findings gives every severity, zeros included, when nothing was found', () => {
  const output = {
    $metadata: {},
    imageScanStatus: { status: 'COMPLETE' },
    imageScanFindings: { findingSeverityCounts: {}, findings: [] },
  } as unknown as DescribeImageScanFindingsCommandOutput;
  const zeros = { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, INFORMATIONAL: 0, UNDEFINED: 0 };
  expect(scanReport(output).counts).toEqual(zeros);
  expect(JSON.stringify(allCounts({ HIGH: 2 }))).toBe(
    '{"CRITICAL":0,"HIGH":2,"MEDIUM":0,"LOW":0,"INFORMATIONAL":0,"UNDEFINED":0}',
  );
});
