import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getGitHubContext } from '../src/github.js';
import type { GitHubContext } from '../src/github.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const HEAD = 'fedcba9876543210fedcba9876543210fedcba98';
const repository = { full_name: 'acme/shop', default_branch: 'main' };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'github-context-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function eventFile(payload: unknown): string {
  const path = join(dir, `event-${(files += 1)}.json`);
  writeFileSync(path, typeof payload === 'string' ? payload : JSON.stringify(payload));
  return path;
}

const base = {
  GITHUB_SHA: SHA,
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_RUN_ID: '987',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_RUN_NUMBER: '41',
  GITHUB_ACTOR: 'octocat',
  GITHUB_WORKSPACE: '/home/runner/work/shop/shop',
};

describe('getGitHubContext', () => {
  test.each<[string, () => NodeJS.ProcessEnv, Partial<GitHubContext>]>([
    [
      'push to the default branch',
      () => ({
        ...base,
        GITHUB_EVENT_NAME: 'push',
        GITHUB_REF: 'refs/heads/main',
        GITHUB_REF_NAME: 'main',
        GITHUB_EVENT_PATH: eventFile({ ref: 'refs/heads/main', repository }),
      }),
      {
        eventName: 'push',
        sha: SHA,
        shortSha: '0123456',
        ref: 'refs/heads/main',
        refName: 'main',
        branch: 'main',
        tag: undefined,
        prNumber: undefined,
        prHeadSha: undefined,
        defaultBranch: 'main',
        isDefaultBranch: true,
      },
    ],
    [
      'push to another branch with a slash',
      () => ({
        ...base,
        GITHUB_EVENT_NAME: 'push',
        GITHUB_REF: 'refs/heads/feature/login',
        GITHUB_EVENT_PATH: eventFile({ repository }),
      }),
      { branch: 'feature/login', refName: 'feature/login', isDefaultBranch: false },
    ],
    [
      'a tag push',
      () => ({
        ...base,
        GITHUB_EVENT_NAME: 'push',
        GITHUB_REF: 'refs/tags/v1.2.3',
        GITHUB_REF_NAME: 'v1.2.3',
        GITHUB_EVENT_PATH: eventFile({ repository }),
      }),
      { tag: 'v1.2.3', branch: undefined, refName: 'v1.2.3', isDefaultBranch: false },
    ],
    [
      'pull_request: head branch, number and head sha',
      () => ({
        ...base,
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_REF: 'refs/pull/42/merge',
        GITHUB_REF_NAME: '42/merge',
        GITHUB_HEAD_REF: 'feature/cart',
        GITHUB_BASE_REF: 'main',
        GITHUB_EVENT_PATH: eventFile({
          number: 42,
          pull_request: { number: 42, head: { sha: HEAD, ref: 'feature/cart' }, base: { ref: 'main' } },
          repository,
        }),
      }),
      {
        sha: SHA,
        branch: 'feature/cart',
        prNumber: 42,
        prHeadSha: HEAD,
        prBaseBranch: 'main',
        refName: '42/merge',
        tag: undefined,
        isDefaultBranch: false,
      },
    ],
    [
      'pull_request_target: from the payload when GITHUB_HEAD_REF is empty',
      () => ({
        ...base,
        GITHUB_EVENT_NAME: 'pull_request_target',
        GITHUB_REF: 'refs/heads/main',
        GITHUB_HEAD_REF: '',
        GITHUB_EVENT_PATH: eventFile({
          pull_request: { number: 7, head: { sha: HEAD, ref: 'fork-branch' }, base: { ref: 'main' } },
          repository,
        }),
      }),
      { branch: 'fork-branch', prNumber: 7, prHeadSha: HEAD, prBaseBranch: 'main' },
    ],
    [
      'pull_request from a fork, closed: prFromFork and prAction from the payload',
      () => ({
        ...base,
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_REF: 'refs/pull/8/merge',
        GITHUB_EVENT_PATH: eventFile({
          action: 'closed',
          pull_request: {
            number: 8,
            head: { sha: HEAD, ref: 'patch-1', repo: { full_name: 'someone/app' } },
            base: { ref: 'main', repo: { full_name: 'acme/app' } },
          },
          repository,
        }),
      }),
      { prNumber: 8, prFromFork: true, prAction: 'closed' },
    ],
    [
      'pull_request from a branch of the same repository: not a fork',
      () => ({
        ...base,
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_REF: 'refs/pull/9/merge',
        GITHUB_EVENT_PATH: eventFile({
          action: 'synchronize',
          pull_request: {
            number: 9,
            head: { sha: HEAD, ref: 'feature', repo: { full_name: 'acme/app' } },
            base: { ref: 'main', repo: { full_name: 'Acme/App' } },
          },
          repository,
        }),
      }),
      { prNumber: 9, prFromFork: false, prAction: 'synchronize' },
    ],
    [
      'pull_request without an event file: number from the ref',
      () => ({ ...base, GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/9/merge' }),
      {
        prNumber: 9,
        prHeadSha: undefined,
        refName: '9/merge',
        defaultBranch: undefined,
        isDefaultBranch: undefined,
      },
    ],
    [
      'merge_group: the queued PR number',
      () => ({
        ...base,
        GITHUB_EVENT_NAME: 'merge_group',
        GITHUB_REF: `refs/heads/gh-readonly-queue/main/pr-15-${HEAD}`,
        GITHUB_EVENT_PATH: eventFile({
          merge_group: { head_sha: SHA, head_ref: `refs/heads/gh-readonly-queue/main/pr-15-${HEAD}` },
          repository,
        }),
      }),
      { prNumber: 15, branch: `gh-readonly-queue/main/pr-15-${HEAD}`, prHeadSha: undefined },
    ],
    [
      'a push whose payload has a number field is not a PR',
      () => ({
        ...base,
        GITHUB_EVENT_NAME: 'push',
        GITHUB_REF: 'refs/heads/main',
        GITHUB_EVENT_PATH: eventFile({ number: 3, repository }),
      }),
      { prNumber: undefined },
    ],
  ])('%s', (_name, env, expected) => {
    expect(getGitHubContext(env())).toMatchObject(expected);
  });

  test('links: repository, run with attempt, GHES server and API', () => {
    expect(getGitHubContext(base)).toMatchObject({
      repository: 'acme/shop',
      owner: 'acme',
      repo: 'shop',
      serverUrl: 'https://github.com',
      apiUrl: 'https://api.github.com',
      repositoryUrl: 'https://github.com/acme/shop',
      runId: '987',
      runAttempt: '2',
      runNumber: '41',
      runUrl: 'https://github.com/acme/shop/actions/runs/987/attempts/2',
      actor: 'octocat',
      workspace: '/home/runner/work/shop/shop',
    });
    expect(
      getGitHubContext({
        ...base,
        GITHUB_SERVER_URL: 'https://ghe.example.com/',
        GITHUB_API_URL: 'https://ghe.example.com/api/v3',
        GITHUB_RUN_ATTEMPT: undefined,
      }),
    ).toMatchObject({
      repositoryUrl: 'https://ghe.example.com/acme/shop',
      apiUrl: 'https://ghe.example.com/api/v3',
      runUrl: 'https://ghe.example.com/acme/shop/actions/runs/987',
    });
  });

  test.each([
    ['no GITHUB_EVENT_PATH', undefined],
    ['a missing file', '/nonexistent/event.json'],
    ['a directory', '/'],
    ['invalid JSON', 'INVALID'],
    ['JSON that is not an object', '[1,2]'],
    ['a payload with wrong types', '{"pull_request": "x", "repository": {"default_branch": 5}}'],
  ])('an unusable event payload (%s) gives undefined fields, not a crash', (_name, content) => {
    const path = content === undefined || content.startsWith('/') ? content : eventFile(content);
    const context = getGitHubContext({ ...base, GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: path });
    expect(context).toMatchObject({
      event: {},
      prNumber: undefined,
      prHeadSha: undefined,
      defaultBranch: undefined,
    });
    expect(context.sha).toBe(SHA);
  });

  test('an empty environment (a local run)', () => {
    expect(getGitHubContext({})).toEqual({
      eventName: undefined,
      sha: undefined,
      shortSha: undefined,
      ref: undefined,
      refName: undefined,
      branch: undefined,
      tag: undefined,
      prNumber: undefined,
      prHeadSha: undefined,
      prBaseBranch: undefined,
      repository: undefined,
      owner: undefined,
      repo: undefined,
      serverUrl: 'https://github.com',
      apiUrl: 'https://api.github.com',
      repositoryUrl: undefined,
      runId: undefined,
      runAttempt: undefined,
      runNumber: undefined,
      runUrl: undefined,
      defaultBranch: undefined,
      isDefaultBranch: undefined,
      actor: undefined,
      workspace: undefined,
      event: {},
    });
  });
});
