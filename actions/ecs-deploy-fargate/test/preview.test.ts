// The pure parts of a PR preview: names, priorities, tags, the sweep and limit decisions, the
// comment, and the preview inputs (each problem named before any call).
import { InputErrors, InputReader, inputsEnv } from '@aws-containers/core';
import { getInputs } from '../src/inputs.js';
import {
  PREVIEW_PRIORITIES,
  commentBody,
  commentMarker,
  nextPriority,
  previewLimitProblem,
  previewNames,
  previewTags,
  sweepReason,
  type LivePreview,
} from '../src/preview.js';

const LISTENER =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/staging/0123456789abcdef/fedcba9876543210';

describe('previewNames', () => {
  test('service and family <base>-pr-<n>; a target group name ELBv2 accepts; host under the domain; a priority in range', () => {
    const names = previewNames('staging', 'web', 42, 'preview.example.com');
    expect(names).toMatchObject({
      service: 'web-pr-42',
      family: 'web-pr-42',
      host: 'pr-42.preview.example.com',
    });
    expect(names.targetGroup).toMatch(/^pv-42-[0-9a-f]{8}$/);
    expect(names.priority).toBeGreaterThanOrEqual(PREVIEW_PRIORITIES.min);
    expect(names.priority).toBeLessThanOrEqual(PREVIEW_PRIORITIES.max);
  });

  test.each([
    ['another cluster', ['prod', 'web', 42]],
    ['another base service', ['staging', 'api', 42]],
    ['another PR', ['staging', 'web', 43]],
  ] as const)('%s: another target group name (unique per region)', (_, [cluster, base, pr]) => {
    expect(previewNames(cluster, base, pr, undefined).targetGroup).not.toBe(
      previewNames('staging', 'web', 42, undefined).targetGroup,
    );
  });

  test('the longest PR number still fits ELBv2 names (32 characters)', () => {
    expect(previewNames('c', 'b', 2_147_483_647, undefined).targetGroup.length).toBeLessThanOrEqual(32);
  });
});

describe('nextPriority', () => {
  const { min, max } = PREVIEW_PRIORITIES;
  test.each([
    ['free: the one tried', 40_010, [], 40_010],
    ['taken: the next free after it', 40_010, [40_010, 40_011], 40_012],
    ['at the top: wraps to the bottom', max, [max], min],
    ['every one taken: none', min, Array.from({ length: max - min + 1 }, (_, i) => min + i), undefined],
  ] as const)('%s', (_, tried, inUse, expected) => {
    expect(nextPriority(tried, new Set(inUse))).toBe(expected);
  });
});

test('previewTags: repository, PR, commit, created and expiry (created + TTL)', () => {
  expect(
    previewTags({
      repository: 'acme/app',
      prNumber: 7,
      commit: 'abc',
      createdAt: new Date('2026-11-30T10:00:00Z'),
      ttlMs: 72 * 3_600_000,
    }),
  ).toEqual({
    'aws-containers:preview': 'true',
    'aws-containers:repository': 'acme/app',
    'aws-containers:pr': '7',
    'aws-containers:commit': 'abc',
    'aws-containers:created-at': '2026-11-30T10:00:00.000Z',
    'aws-containers:expires-at': '2026-12-03T10:00:00.000Z',
  });
});

describe('sweepReason', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  const tagged = (tags: Record<string, string>): LivePreview => ({ service: 'web-pr-7', tags });
  const live = { 'aws-containers:preview': 'true', 'aws-containers:pr': '7' };
  test.each([
    [
      'expired',
      { ...live, 'aws-containers:expires-at': '2026-11-30T00:00:00Z' },
      'open',
      'its TTL ended at 2026-11-30T00:00:00.000Z',
    ],
    [
      'closed PR',
      { ...live, 'aws-containers:expires-at': '2026-12-09T00:00:00Z' },
      'closed',
      'pull request #7 is closed',
    ],
    ['open and in time', { ...live, 'aws-containers:expires-at': '2026-12-09T00:00:00Z' }, 'open', undefined],
    [
      'PR state unknown, in time',
      { ...live, 'aws-containers:expires-at': '2026-12-09T00:00:00Z' },
      'unknown',
      undefined,
    ],
    [
      'not a preview (no tag), whatever its name',
      { 'aws-containers:expires-at': '2020-01-01T00:00:00Z' },
      'closed',
      undefined,
    ],
  ] as const)('%s', (_, tags, prState, expected) => {
    expect(sweepReason(tagged(tags), now, prState)).toBe(expected);
  });
});

describe('previewLimitProblem', () => {
  const live = (n: number): LivePreview => ({
    service: `web-pr-${n}`,
    tags: { 'aws-containers:pr': String(n) },
  });
  test.each([
    ['under the limit', [live(1)], 'web-pr-2', 2, undefined],
    ['an update at the limit', [live(1), live(2)], 'web-pr-2', 2, undefined],
  ] as const)('%s: allowed', (_, previews, service, max, expected) => {
    expect(previewLimitProblem(previews, service, max)).toBe(expected);
  });
  test('a new one at the limit: refused with the list of live ones', () => {
    expect(previewLimitProblem([live(1), live(2)], 'web-pr-3', 2)).toBe(
      'max-previews is 2 and 2 previews are live: web-pr-1 (PR #1), web-pr-2 (PR #2). Close a pull request or tear one down (preview: teardown), or raise max-previews.',
    );
  });
});

test('commentBody: the marker first, then the URL, commit, status and expiry', () => {
  const body = commentBody({
    service: 'web-pr-7',
    url: 'https://pr-7.preview.example.com',
    commit: 'abc123',
    status: 'ready',
    expiresAt: '2026-12-03T10:00:00.000Z',
    runUrl: 'https://github.com/acme/app/actions/runs/1',
  });
  expect(body.split('\n')[0]).toBe(commentMarker('web-pr-7'));
  expect(body).toContain('| Preview | <https://pr-7.preview.example.com> |');
  expect(body).toContain('| Commit | abc123 |');
  expect(body).toContain('| Status | ready |');
  expect(body).toContain('| Expires | 2026-12-03T10:00:00.000Z |');
});

describe('preview inputs', () => {
  const read = (inputs: Record<string, string>, prNumber?: number) =>
    getInputs(new InputReader(inputsEnv(inputs)), { prNumber });
  const errorsOf = (inputs: Record<string, string>, prNumber?: number): string[] => {
    try {
      read(inputs, prNumber);
    } catch (err) {
      if (err instanceof InputErrors) return err.errors.map((e) => e.input);
      throw err;
    }
    return [];
  };

  test('deploy behind the ALB: routing alb by default, the PR from the event', () => {
    const inputs = read(
      {
        cluster: 'staging',
        preview: 'deploy',
        'preview-base-service': 'web',
        'listener-arn': LISTENER,
        'preview-domain': 'preview.example.com',
      },
      42,
    );
    expect(inputs.preview).toMatchObject({
      mode: 'deploy',
      baseService: 'web',
      prNumber: 42,
      routing: 'alb',
      ttlMs: 72 * 3_600_000,
      maxPreviews: 10,
    });
  });

  test.each([
    ['no base service', { preview: 'deploy' }, 42, ['preview-base-service']],
    [
      'no PR number and no PR event',
      { preview: 'deploy', 'preview-base-service': 'web' },
      undefined,
      ['pr-number'],
    ],
    [
      'alb without its listener and domain',
      { preview: 'deploy', 'preview-base-service': 'web', 'preview-routing': 'alb' },
      42,
      ['listener-arn', 'preview-domain'],
    ],
    [
      'a service besides the preview',
      { preview: 'deploy', 'preview-base-service': 'web', service: 'web' },
      42,
      ['service'],
    ],
    [
      'a load balancer ARN for a listener',
      {
        preview: 'teardown',
        'preview-base-service': 'web',
        'listener-arn': LISTENER.replace(':listener/', ':loadbalancer/'),
      },
      42,
      ['listener-arn'],
    ],
    [
      'an uppercase domain',
      {
        preview: 'deploy',
        'preview-base-service': 'web',
        'preview-routing': 'none',
        'preview-domain': 'Preview.Example.com',
      },
      42,
      ['preview-domain'],
    ],
    [
      'preview inputs without preview',
      { service: 'web', 'preview-base-service': 'web', 'listener-arn': LISTENER },
      undefined,
      ['preview-base-service', 'listener-arn'],
    ],
  ] as const)('%s: named before any call', (_, inputs, prNumber, expected) => {
    expect(errorsOf({ cluster: 'staging', ...inputs }, prNumber)).toEqual(expected);
  });

  test('sweep needs no PR number', () => {
    expect(errorsOf({ cluster: 'staging', preview: 'sweep', 'preview-base-service': 'web' })).toEqual([]);
  });
});
