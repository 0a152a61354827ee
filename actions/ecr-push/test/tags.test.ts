import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParseError, getGitHubContext } from '@aws-containers/core';
import type { GitHubContext } from '@aws-containers/core';
import {
  DEFAULT_TAGS,
  TAG_RULES_EXPECTED,
  TagError,
  computeTags,
  parseSemVer,
  parseTagRules,
} from '../src/tags.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const HEAD = 'fedcba9876543210fedcba9876543210fedcba98';
const NOW = new Date('2024-01-31T23:59:58.123Z');
const repository = {
  full_name: 'acme/shop',
  default_branch: 'main',
  description: 'The shop',
  license: { spdx_id: 'MIT' },
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ecr-push-tags-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Contexts come from the real reader, fed the variables and payload a runner would give.
let files = 0;
function context(env: NodeJS.ProcessEnv, event: Record<string, unknown> = {}): GitHubContext {
  const path = join(dir, `event-${(files += 1)}.json`);
  writeFileSync(path, JSON.stringify({ repository, ...event }));
  return getGitHubContext({
    GITHUB_SHA: SHA,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_EVENT_PATH: path,
    ...env,
  });
}

const push =
  (ref: string, eventName = 'push') =>
  () =>
    context({ GITHUB_EVENT_NAME: eventName, GITHUB_REF: ref });
const QUEUE_REF = `refs/heads/gh-readonly-queue/main/pr-42-${SHA}`;

const EVENTS = {
  main: push('refs/heads/main'),
  feature: push('refs/heads/feature/x'),
  v123: push('refs/tags/v1.2.3'),
  rc: push('refs/tags/v1.2.3-rc.1'),
  zero: push('refs/tags/0.4.0'),
  pr: () =>
    context(
      {
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_REF: 'refs/pull/42/merge',
        GITHUB_HEAD_REF: 'feature/x',
        GITHUB_BASE_REF: 'main',
      },
      {
        number: 42,
        pull_request: { number: 42, head: { sha: HEAD, ref: 'feature/x' }, base: { ref: 'main' } },
      },
    ),
  dispatch: push('refs/heads/main', 'workflow_dispatch'),
  schedule: push('refs/heads/main', 'schedule'),
  queue: () =>
    context(
      { GITHUB_EVENT_NAME: 'merge_group', GITHUB_REF: QUEUE_REF },
      { merge_group: { head_ref: QUEUE_REF, head_sha: SHA } },
    ),
} as const;
type EventName = keyof typeof EVENTS;

const QUEUE_BRANCH = `gh-readonly-queue-main-pr-42-${SHA}`;

function tagsFor(rules: string, event: EventName | GitHubContext) {
  const ctx = typeof event === 'string' ? EVENTS[event]() : event;
  return computeTags(parseTagRules(rules), ctx, NOW);
}

// Every rule against every event. An event left out of a row gives no tag for that rule.
const MATRIX: Record<string, Partial<Record<EventName, string[]>>> = {
  sha: {
    main: ['sha-0123456'],
    feature: ['sha-0123456'],
    v123: ['sha-0123456'],
    rc: ['sha-0123456'],
    zero: ['sha-0123456'],
    pr: ['sha-fedcba9'],
    dispatch: ['sha-0123456'],
    schedule: ['sha-0123456'],
    queue: ['sha-0123456'],
  },
  'sha-long': {
    main: [`sha-${SHA}`],
    feature: [`sha-${SHA}`],
    v123: [`sha-${SHA}`],
    rc: [`sha-${SHA}`],
    zero: [`sha-${SHA}`],
    pr: [`sha-${HEAD}`],
    dispatch: [`sha-${SHA}`],
    schedule: [`sha-${SHA}`],
    queue: [`sha-${SHA}`],
  },
  branch: {
    main: ['main'],
    feature: ['feature-x'],
    dispatch: ['main'],
    schedule: ['main'],
    queue: [QUEUE_BRANCH],
  },
  tag: { v123: ['v1.2.3'], rc: ['v1.2.3-rc.1'], zero: ['0.4.0'] },
  'semver:{{version}}': { v123: ['1.2.3'], rc: ['1.2.3-rc.1'], zero: ['0.4.0'] },
  'semver:{{major}}.{{minor}}': { v123: ['1.2'], rc: ['1.2.3-rc.1'], zero: ['0.4'] },
  'semver:{{major}}': { v123: ['1'], rc: ['1.2.3-rc.1'] },
  'semver:{{raw}}': { v123: ['v1.2.3'], rc: ['v1.2.3-rc.1'], zero: ['0.4.0'] },
  'semver:v{{major}}.{{minor}}.{{patch}}': { v123: ['v1.2.3'], rc: ['1.2.3-rc.1'], zero: ['v0.4.0'] },
  pr: { pr: ['pr-42'] },
  latest: { main: ['latest'], dispatch: ['latest'], schedule: ['latest'] },
  'latest on=stable-tag': { v123: ['latest'], zero: ['latest'] },
  'raw:stable': {
    main: ['stable'],
    feature: ['stable'],
    v123: ['stable'],
    rc: ['stable'],
    zero: ['stable'],
    pr: ['stable'],
    dispatch: ['stable'],
    schedule: ['stable'],
    queue: ['stable'],
  },
  'nightly-{{date}} on=schedule': { schedule: ['nightly-20240131'] },
  'raw:{{branch}}-{{sha}}': {
    main: ['main-0123456'],
    feature: ['feature-x-0123456'],
    dispatch: ['main-0123456'],
    schedule: ['main-0123456'],
    queue: [`${QUEUE_BRANCH}-0123456`],
  },
  'build-{{timestamp}} on=workflow_dispatch,push': {
    main: ['build-20240131235958'],
    feature: ['build-20240131235958'],
    v123: ['build-20240131235958'],
    rc: ['build-20240131235958'],
    zero: ['build-20240131235958'],
    dispatch: ['build-20240131235958'],
  },
};

const cells = Object.entries(MATRIX).flatMap(([rule, row]) =>
  (Object.keys(EVENTS) as EventName[]).map((event) => [rule, event, row[event] ?? []] as const),
);

describe('computeTags: each rule on each event', () => {
  test.each(cells)('%s on %s', (rule, event, expected) => {
    const result = tagsFor(rule, event);
    expect(result.tags).toEqual(expected);
    expect(result.errors).toEqual([]);
  });
});

describe('computeTags: the default rule set', () => {
  test.each<[EventName, string[], string | undefined]>([
    ['main', ['main', 'sha-0123456', 'latest'], 'main'],
    ['feature', ['feature-x', 'sha-0123456'], 'feature-x'],
    ['v123', ['1.2.3', 'v1.2.3', 'sha-0123456'], '1.2.3'],
    ['rc', ['1.2.3-rc.1', 'v1.2.3-rc.1', 'sha-0123456'], '1.2.3-rc.1'],
    ['zero', ['0.4.0', 'sha-0123456'], '0.4.0'],
    ['pr', ['pr-42', 'sha-fedcba9'], 'pr-42'],
    ['dispatch', ['main', 'sha-0123456', 'latest'], 'main'],
    ['schedule', ['main', 'sha-0123456', 'latest'], 'main'],
    ['queue', [QUEUE_BRANCH, 'sha-0123456'], QUEUE_BRANCH],
  ])('%s', (event, tags, version) => {
    const result = tagsFor('', event);
    expect(result.tags).toEqual(tags);
    expect(result.version).toBe(version);
    expect(result.errors).toEqual([]);
    expect(tagsFor(DEFAULT_TAGS, event)).toEqual(result);
  });

  test('a git tag that is not a semantic version is still tagged as it is', () => {
    const result = tagsFor('', push('refs/tags/release-2024.01')());
    expect(result.tags).toEqual(['release-2024.01', 'sha-0123456']);
    expect(result.version).toBe('release-2024.01');
  });
});

describe('computeTags: prefix, suffix and conditions', () => {
  test.each<[string, EventName, string[]]>([
    ['sha prefix=git-', 'main', ['git-0123456']],
    ['sha prefix=', 'main', ['0123456']],
    ['sha-long prefix=', 'pr', [HEAD]],
    ['branch suffix=-alpine', 'feature', ['feature-x-alpine']],
    ['branch prefix=br- suffix=-alpine', 'main', ['br-main-alpine']],
    ['tag prefix=release-', 'v123', ['release-v1.2.3']],
    ['semver:{{version}} prefix=v suffix=-slim', 'v123', ['v1.2.3-slim']],
    ['semver:{{major}}.{{minor}} suffix=-slim', 'rc', ['1.2.3-rc.1-slim']],
    ['pr prefix=review-', 'pr', ['review-42']],
    ['pr prefix=', 'pr', ['42']],
    ['latest suffix=-arm64', 'main', ['latest-arm64']],
    ['sha prefix={{branch}}-', 'feature', ['feature-x-0123456']],
    ['sha prefix={{branch}}-', 'v123', []],
    ['raw:pr-{{pr}}-{{sha}}', 'pr', ['pr-42-fedcba9']],
    ['raw:edge on=default-branch', 'main', ['edge']],
    ['raw:edge on=default-branch', 'feature', []],
    ['raw:edge on=default-branch', 'pr', []],
    ['raw:x on=branch', 'feature', ['x']],
    ['raw:x on=branch', 'v123', []],
    ['raw:x on=tag', 'rc', ['x']],
    ['raw:x on=semver-tag', 'rc', ['x']],
    ['raw:x on=stable-tag', 'rc', []],
    ['raw:x on=pr', 'pr', ['x']],
    ['raw:x on=pr', 'queue', []],
    ['raw:x on=merge_group', 'queue', ['x']],
    ['raw:x on=push', 'dispatch', []],
    ['raw:x on=push,schedule', 'schedule', ['x']],
    ['latest on=default-branch,stable-tag', 'main', ['latest']],
    ['latest on=default-branch,stable-tag', 'v123', ['latest']],
    ['latest on=default-branch,stable-tag', 'rc', []],
    ['branch on=tag', 'main', []],
  ])('%s on %s', (rules, event, expected) => {
    expect(tagsFor(rules, event).tags).toEqual(expected);
  });
});

describe('computeTags: order and duplicates', () => {
  test('tags follow the order of the rules; repeats keep their first place', () => {
    const rules = ['sha prefix=', 'latest', 'branch', 'raw:main', 'sha prefix=', 'raw:latest'].join('\n');
    expect(tagsFor(rules, 'main').tags).toEqual(['0123456', 'latest', 'main']);
  });

  test('pre-release patterns collapse into the one full version', () => {
    const rules = 'semver:{{version}}\nsemver:{{major}}.{{minor}}\nsemver:{{major}}';
    expect(tagsFor(rules, 'rc').tags).toEqual(['1.2.3-rc.1']);
    expect(tagsFor(rules, 'v123').tags).toEqual(['1.2.3', '1.2', '1']);
    expect(tagsFor(rules, 'zero').tags).toEqual(['0.4.0', '0.4']);
  });

  test('no rule applying gives no tags and no error', () => {
    expect(tagsFor('tag\npr', 'main')).toMatchObject({ tags: [], errors: [] });
  });
});

describe('computeTags: a rule that gives nothing says why', () => {
  test.each<[string, EventName, string]>([
    ['latest', 'v123', 'the run is not on the default branch (refs/tags/v1.2.3)'],
    ['latest', 'feature', 'the run is not on the default branch (refs/heads/feature/x)'],
    ['pr', 'main', 'the run is not a pull request (push event)'],
    ['branch', 'v123', 'the run is not on a branch (refs/tags/v1.2.3)'],
    ['branch', 'pr', 'the run is not on a branch (refs/pull/42/merge)'],
    ['tag', 'main', 'the run is not on a git tag (refs/heads/main)'],
    ['semver:{{version}}', 'main', 'the run is not on a git tag (refs/heads/main)'],
    ['semver:{{major}}', 'zero', '{{major}} alone gives nothing for a 0.x version (0.4.0)'],
    ['raw:x-{{tag}}', 'feature', 'the run is not on a git tag (refs/heads/feature/x)'],
    ['sha prefix={{branch}}-', 'v123', 'the run is not on a branch (refs/tags/v1.2.3)'],
    [
      'raw:edge on=default-branch,pr',
      'feature',
      'none of its conditions (on=default-branch,pr) holds for this run (refs/heads/feature/x)',
    ],
  ])('%s on %s', (rule, event, why) => {
    const result = tagsFor(rule, event);
    expect(result.tags).toEqual([]);
    expect(result.skipped).toEqual([{ rule, why }]);
  });

  test('a semver rule on a git tag that is not a version', () => {
    expect(tagsFor('semver:{{version}}', push('refs/tags/release-2024.01')()).skipped).toEqual([
      { rule: 'semver:{{version}}', why: 'the git tag release-2024.01 is not a semantic version' },
    ]);
  });

  test('the default rules on a push to main: one entry per rule that gave nothing', () => {
    expect(tagsFor('', 'main').skipped.map((s) => s.rule)).toEqual(['semver:{{version}}', 'tag', 'pr']);
  });
});

describe('computeTags: values from git are made valid tags', () => {
  const onBranch = (branch: string) => push(`refs/heads/${branch}`)();
  const long = 'a'.repeat(200);

  test.each<[string, string, string[]]>([
    ['Feature/ABC_1.x', 'branch', ['Feature-ABC_1.x']],
    ['feat/@@weird##name', 'branch', ['feat-weird-name']],
    ['dependabot/npm_and_yarn/left-pad-1.3.0', 'branch', ['dependabot-npm_and_yarn-left-pad-1.3.0']],
    ['#12-fix', 'branch', ['12-fix']],
    ['#12-fix', 'branch prefix=br-', ['br--12-fix']],
    ['ünïcode', 'branch', ['n-code']],
    [long, 'branch', ['a'.repeat(128)]],
    [long, 'branch suffix=-alpine', [`${'a'.repeat(121)}-alpine`]],
    [long, 'branch prefix=b- suffix=-alpine', [`b-${'a'.repeat(119)}-alpine`]],
  ])('branch %s with %s', (branch, rules, expected) => {
    const result = tagsFor(rules, onBranch(branch));
    expect(result.tags).toEqual(expected);
    expect(result.errors).toEqual([]);
  });

  test('a git tag with a slash', () => {
    expect(tagsFor('tag', push('refs/tags/release/2024.01')()).tags).toEqual(['release-2024.01']);
  });

  test('semver build metadata is dropped from {{version}}', () => {
    expect(tagsFor('semver:{{version}}\nsemver:{{raw}}', push('refs/tags/v1.2.3+build.5')()).tags).toEqual([
      '1.2.3',
      'v1.2.3-build.5',
    ]);
  });
});

describe('computeTags: invalid results are errors that name the rule and the tag', () => {
  test('nothing left of a branch name', () => {
    const result = tagsFor('raw:{{branch}}\nsha', push('refs/heads/###')());
    expect(result.tags).toEqual(['sha-0123456']);
    expect(result.errors).toHaveLength(1);
    const [error] = result.errors;
    expect(error).toBeInstanceOf(TagError);
    expect(error).toMatchObject({ rule: 'raw:{{branch}}', tag: '', given: 'raw:{{branch}}' });
    expect(error?.message).toContain('The tag rule "raw:{{branch}}" gives ""');
    expect(error?.hint).toMatch(/add a prefix/);
  });

  test('a prefix from placeholders longer than a tag can be', () => {
    const prefix = '{{sha-long}}'.repeat(4);
    const result = tagsFor(`raw:x prefix=${prefix}`, 'main');
    expect(result.tags).toEqual([]);
    expect(result.errors[0]).toMatchObject({ rule: `raw:x prefix=${prefix}`, tag: `${SHA.repeat(4)}x` });
    expect(result.errors[0]?.message).toMatch(/alone have 160 characters; a tag has at most 128/);
  });

  test('every produced tag is a valid image tag', () => {
    for (const event of Object.keys(EVENTS) as EventName[]) {
      for (const tag of tagsFor(Object.keys(MATRIX).join('\n'), event).tags) {
        expect(tag).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/);
      }
    }
  });
});

describe('computeTags: labels', () => {
  test('a push to the default branch', () => {
    expect(tagsFor('', 'main').labels).toEqual({
      'org.opencontainers.image.created': '2024-01-31T23:59:58.123Z',
      'org.opencontainers.image.description': 'The shop',
      'org.opencontainers.image.licenses': 'MIT',
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.source': 'https://github.com/acme/shop',
      'org.opencontainers.image.title': 'shop',
      'org.opencontainers.image.url': 'https://github.com/acme/shop',
      'org.opencontainers.image.version': 'main',
    });
  });

  test('a pull request: the revision is the head commit, like the sha tag', () => {
    expect(tagsFor('', 'pr').labels).toMatchObject({
      'org.opencontainers.image.revision': HEAD,
      'org.opencontainers.image.version': 'pr-42',
    });
  });

  test('a release: the version is the semantic version whatever the rules', () => {
    expect(tagsFor('sha', 'v123').labels['org.opencontainers.image.version']).toBe('1.2.3');
  });

  test('what the run does not know is left out', () => {
    const bare = getGitHubContext({});
    const result = computeTags([], bare, NOW);
    expect(result.labels).toEqual({ 'org.opencontainers.image.created': '2024-01-31T23:59:58.123Z' });
    expect(result).toMatchObject({ tags: [], version: undefined, errors: [] });
  });

  test('NOASSERTION is not a license', () => {
    const ctx = context(
      { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main' },
      { repository: { ...repository, description: '', license: { spdx_id: 'NOASSERTION' } } },
    );
    const labels = computeTags([], ctx, NOW).labels;
    expect(labels).not.toHaveProperty('org.opencontainers.image.licenses');
    expect(labels).not.toHaveProperty('org.opencontainers.image.description');
  });
});

describe('parseTagRules', () => {
  test.each<[string, object[]]>([
    ['', []],
    ['  \n\n', []],
    [
      'sha prefix=git-',
      [
        {
          type: 'sha',
          value: '{{sha}}',
          prefix: 'git-',
          suffix: '',
          on: undefined,
          source: 'sha prefix=git-',
        },
      ],
    ],
    ['sha', [{ type: 'sha', prefix: 'sha-' }]],
    ['sha-long', [{ type: 'sha-long', value: '{{sha-long}}', prefix: 'sha-' }]],
    ['pr', [{ type: 'pr', value: '{{pr}}', prefix: 'pr-' }]],
    ['latest', [{ type: 'latest', value: 'latest', on: undefined }]],
    ['semver:{{major}}.{{minor}}', [{ type: 'semver', value: '{{major}}.{{minor}}', prefix: '' }]],
    ['raw:stable', [{ type: 'raw', value: 'stable' }]],
    ['stable', [{ type: 'raw', value: 'stable', source: 'stable' }]],
    ['latest on=stable-tag,workflow_dispatch', [{ type: 'latest', on: ['stable-tag', 'workflow_dispatch'] }]],
    [
      '# releases\nsemver:{{version}}\r\n\n  # branches\n  branch  ',
      [{ type: 'semver' }, { type: 'branch' }],
    ],
    ['sha suffix=-x prefix=', [{ prefix: '', suffix: '-x' }]],
  ])('%j', (text, expected) => {
    const rules = parseTagRules(text);
    expect(rules).toHaveLength(expected.length);
    expected.forEach((rule, i) => expect(rules[i]).toMatchObject(rule));
  });

  // Bare words that are plausible tags, not misspelt rule names.
  test.each(['test', 'v1', 'prod', 'edge', 'dev', 'main', 'stable', 'branches', 'nightly', '1.0', '_x'])(
    'the literal tag %s',
    (word) => {
      expect(parseTagRules(word)).toEqual([
        { type: 'raw', value: word, prefix: '', suffix: '', on: undefined, source: word },
      ]);
    },
  );

  test.each<[string, RegExp]>([
    ['type=semver,pattern={{version}}', /docker\/metadata-action syntax/],
    ['foo:bar', /unknown rule "foo:"; rules are sha, sha-long, branch, tag, pr, latest, semver, raw/],
    ['sha:long', /"sha" takes no value/],
    ['semver', /"semver" needs a pattern/],
    ['semver:', /"semver:" needs a value/],
    ['raw', /"raw" needs a value/],
    ['semver:v1', /uses none of \{\{version\}\}/],
    ['semver:{{verison}}', /unknown placeholder \{\{verison\}\}/],
    ['raw:{{version}}', /unknown placeholder \{\{version\}\}/],
    ['sha prefix={{major}}-', /the prefix has the unknown placeholder \{\{major\}\}/],
    ['raw:{{branch', /unclosed placeholder/],
    ['lastest', /"lastest" looks like the rule "latest"; write raw:lastest/],
    ['brnach', /looks like the rule "branch"/],
    ['SHA', /looks like the rule "sha"/],
    ['sha prefix', /"prefix" is not an option/],
    ['sha colour=red', /unknown option "colour"/],
    ['sha prefix=a prefix=b', /the option "prefix" is given twice/],
    ['sha prefix=a/b', /the prefix "a\/b" has characters a tag cannot have \("\/"\)/],
    ['raw:a+b', /the value "a\+b" has characters/],
    ['raw:-dev', /cannot start with "\." or "-"/],
    ['sha prefix=.x', /cannot start with "\." or "-"/],
    ['latest on=main', /unknown condition "main"/],
    ['latest on=', /"on=" needs a condition/],
    ['latest on=push,', /"on=" needs a condition/],
    [`raw:${'a'.repeat(129)}`, /129 characters without its placeholders; the limit is 128/],
  ])('%s', (text, hint) => {
    let error: unknown;
    try {
      parseTagRules(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ParseError);
    expect(error).toMatchObject({ expected: TAG_RULES_EXPECTED, given: text });
    expect((error as ParseError).hint).toMatch(/^Line 1: /);
    expect((error as ParseError).hint).toMatch(hint);
  });

  test('the error names the line it is on', () => {
    expect(() => parseTagRules('sha\n\n  foo:bar  ')).toThrow(
      expect.objectContaining({ given: 'foo:bar', hint: expect.stringMatching(/^Line 3: unknown rule/) }),
    );
  });

  test('a literal of exactly 128 characters is fine', () => {
    expect(parseTagRules(`raw:${'a'.repeat(128)}`)).toHaveLength(1);
  });
});

describe('parseSemVer', () => {
  test.each<[string, object | undefined]>([
    ['v1.2.3', { major: '1', minor: '2', patch: '3', prerelease: undefined, version: '1.2.3' }],
    ['1.2.3', { version: '1.2.3' }],
    ['V10.20.30', { version: '10.20.30' }],
    ['v1.2.3-rc.1', { prerelease: 'rc.1', version: '1.2.3-rc.1' }],
    ['1.2.3-alpha-1.0+sha.abc', { prerelease: 'alpha-1.0', version: '1.2.3-alpha-1.0' }],
    ['1.2', undefined],
    ['v01.2.3', undefined],
    ['1.2.3-01', undefined],
    ['1.2.3.4', undefined],
    ['release-1.2.3', undefined],
    ['', undefined],
  ])('%s', (text, expected) => {
    const result = parseSemVer(text);
    if (expected === undefined) expect(result).toBeUndefined();
    else expect(result).toMatchObject(expected);
  });
});
