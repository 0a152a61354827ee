import { roleArnOf } from '../src/main.js';
import {
  buildSummary,
  emptyReport,
  outputsOf,
  overallState,
  type RolloutReport,
  type WorkloadResult,
} from '../src/summary.js';

const workload = (
  name: string,
  state: WorkloadResult['state'],
  extra: Partial<WorkloadResult> = {},
): WorkloadResult => ({
  workload: `Deployment/default/${name}`,
  state,
  message: '',
  previousRevision: '1',
  revision: '2',
  rolledBack: false,
  undo: undefined,
  diagnosis: undefined,
  ...extra,
});
const report = (workloads: WorkloadResult[], extra: Partial<RolloutReport> = {}): RolloutReport => ({
  ...emptyReport(),
  workloads,
  ...extra,
});

test.each<[string, RolloutReport, string]>([
  ['all completed', report([workload('a', 'COMPLETED'), workload('b', 'COMPLETED')]), 'COMPLETED'],
  ['one rolled back', report([workload('a', 'COMPLETED'), workload('b', 'ROLLED_BACK')]), 'ROLLED_BACK'],
  ['one failed', report([workload('a', 'ROLLED_BACK'), workload('b', 'FAILED')]), 'FAILED'],
  ['cancelled', report([workload('a', 'UNKNOWN')], { cancelled: true }), 'CANCELLED'],
  ['stopped before any workload', report([], { stoppedBy: 'x' }), 'FAILED'],
  ['stopped while following', report([workload('a', 'UNKNOWN')], { stoppedBy: 'x' }), 'UNKNOWN'],
  ['apply only', report([]), 'COMPLETED'],
])('overallState: %s', (_, r, expected) => {
  expect(overallState(r)).toBe(expected);
});

test('outputs: one workload plain, several as JSON', () => {
  expect(
    outputsOf(
      report([workload('a', 'ROLLED_BACK', { rolledBack: true, revision: '3' })], {
        applied: ['Service/default/a', 'Deployment/default/a'],
      }),
    ),
  ).toEqual({
    'rollout-state': 'ROLLED_BACK',
    'rolled-back': true,
    revision: '3',
    'previous-revision': '1',
    applied: 'Service/default/a\nDeployment/default/a',
  });
  expect(
    outputsOf(
      report([workload('a', 'COMPLETED'), workload('b', 'COMPLETED', { previousRevision: undefined })]),
    ),
  ).toMatchObject({
    revision: '{"Deployment/default/a":"2","Deployment/default/b":"2"}',
    'previous-revision': '{"Deployment/default/a":"1","Deployment/default/b":null}',
    'rolled-back': false,
  });
  expect(outputsOf(report([], { inputErrors: ['x'] }))).toEqual({});
});

test('the summary escapes what the cluster said', () => {
  const html = buildSummary(
    report([
      workload('a', 'FAILED', {
        message: '<script>',
        diagnosis: {
          workload: 'Deployment/default/a',
          containers: ['<b>'],
          events: ['e'],
          logs: [{ container: 'p/c', lines: '::error::x' }],
        },
      }),
    ]),
  ).toString();
  expect(html).not.toContain('<script>');
  expect(html).toContain('&lt;script&gt;');
  expect(html).toContain('Last log lines of p/c');
});

test.each([
  ['arn:aws:sts::123456789012:assumed-role/deploy/GitHubActions', 'arn:aws:iam::123456789012:role/deploy'],
  ['arn:aws-cn:sts::123456789012:assumed-role/deploy/s', 'arn:aws-cn:iam::123456789012:role/deploy'],
  ['arn:aws:iam::123456789012:user/ci', 'arn:aws:iam::123456789012:user/ci'],
])('roleArnOf(%s): what an access entry names', (arn, expected) => {
  expect(roleArnOf(arn)).toBe(expected);
});
