// core's GitHub API (packages/core/src/github-api.ts) against local-github, whose answers are
// checked against GitHub's OpenAPI description in its own tests: the sticky comment, deployments
// and statuses, pull request states, and the identity a token writes as.
import { jest } from '@jest/globals';
import {
  createGitHubApi,
  deactivateEnvironment,
  pullRequestState,
  recordDeployment,
  tokenIdentity,
  upsertStickyComment,
} from '@aws-containers/core';
import { startLocalGitHub, type LocalGitHub } from '@aws-containers/local-github';

jest.setTimeout(30_000);

const BOT = 'ghs_botbotbotbotbotbotbotbotbotbotbotbot0';
const USER = 'ghp_useruseruseruseruseruseruseruseruser0';
const SHA = 'a'.repeat(40);
let gh: LocalGitHub;
const signal = new AbortController().signal;
const api = (token: string) =>
  createGitHubApi({ token, apiUrl: gh.url, signal, userAgent: 'aws-containers-test/0' });
const repo = { owner: 'acme', repo: 'app' };

beforeAll(async () => {
  gh = await startLocalGitHub({
    tokens: [
      {
        token: BOT,
        login: 'github-actions[bot]',
        type: 'Bot',
        permissions: { pull_requests: 'write', issues: 'write', deployments: 'write', contents: 'read' },
      },
      {
        token: USER,
        login: 'octocat',
        type: 'User',
        permissions: { pull_requests: 'write', issues: 'write', deployments: 'write', contents: 'read' },
      },
    ],
  });
  gh.setPullRequest('acme', 'app', 1, { state: 'open', headSha: SHA });
  gh.setPullRequest('acme', 'app', 2, { state: 'closed', headSha: 'b'.repeat(40) });
});
afterAll(async () => {
  await gh?.stop();
});

test('tokenIdentity: a user token is its login; an installation token (GET /user is 403) is a bot', async () => {
  expect(await tokenIdentity(api(USER))).toEqual({ login: 'octocat' });
  expect(await tokenIdentity(api(BOT))).toEqual({ bot: true });
});

test('upsertStickyComment: created, then unchanged, then updated in place; a comment of someone else quoting the marker is not ours', async () => {
  const marker = '<!-- sticky test -->';
  // octocat quotes the marker first: the bot's comment is still its own.
  await api(USER).request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
    ...repo,
    issue_number: 1,
    body: `quoting ${marker}`,
  });
  const target = { ...repo, issueNumber: 1, marker };
  const created = await upsertStickyComment(api(BOT), { ...target, body: `${marker}\nfirst` });
  expect(created.action).toBe('created');
  expect((await upsertStickyComment(api(BOT), { ...target, body: `${marker}\nfirst` })).action).toBe(
    'unchanged',
  );
  const updated = await upsertStickyComment(api(BOT), { ...target, body: `${marker}\nsecond` });
  expect(updated).toMatchObject({ action: 'updated', id: created.id });
  const mine = gh.state().comments.filter((c) => c.body.includes(marker));
  expect(mine.map((c) => [c.user, c.body])).toEqual([
    ['octocat', `quoting ${marker}`],
    ['github-actions[bot]', `${marker}\nsecond`],
  ]);
});

test('upsertStickyComment finds its comment past the first page of 100', async () => {
  const marker = '<!-- sticky far -->';
  const first = await upsertStickyComment(api(BOT), {
    ...repo,
    issueNumber: 2,
    marker,
    body: `${marker}\nv1`,
  });
  for (let i = 0; i < 105; i++) {
    await api(USER).request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      ...repo,
      issue_number: 2,
      body: `noise ${i}`,
    });
  }
  const again = await upsertStickyComment(api(BOT), {
    ...repo,
    issueNumber: 2,
    marker,
    body: `${marker}\nv2`,
  });
  expect(again).toMatchObject({ action: 'updated', id: first.id });
});

test('recordDeployment: one transient deployment per ref and environment; a status only when something changed; deactivateEnvironment', async () => {
  const target = { ...repo, ref: SHA, environment: 'preview/web-pr-1', description: 'PR #1 preview' };
  const first = await recordDeployment(api(BOT), {
    ...target,
    state: 'success',
    environmentUrl: 'https://pr-1.example.com',
  });
  expect(first).toMatchObject({ created: true, statusWritten: true });
  const same = await recordDeployment(api(BOT), {
    ...target,
    state: 'success',
    environmentUrl: 'https://pr-1.example.com',
  });
  expect(same).toEqual({ deploymentId: first.deploymentId, created: false, statusWritten: false });
  const failed = await recordDeployment(api(BOT), { ...target, state: 'failure' });
  expect(failed).toMatchObject({ created: false, statusWritten: true });
  const state = gh.state();
  const deployment = state.deployments.find((d) => d.id === first.deploymentId)!;
  expect([deployment.environment, deployment.transientEnvironment, deployment.productionEnvironment]).toEqual(
    ['preview/web-pr-1', true, false],
  );
  expect(state.statuses[String(first.deploymentId)]!.map((s) => s.state)).toEqual(['success', 'failure']);
  expect(await deactivateEnvironment(api(BOT), { ...repo, environment: 'preview/web-pr-1' })).toBe(1);
  expect(await deactivateEnvironment(api(BOT), { ...repo, environment: 'preview/web-pr-1' })).toBe(0);
  expect(gh.state().statuses[String(first.deploymentId)]!.at(-1)!.state).toBe('inactive');
});

test('pullRequestState: open, closed, and unknown for a pull request GitHub does not know', async () => {
  expect(await pullRequestState(api(BOT), { ...repo, pullNumber: 1 })).toBe('open');
  expect(await pullRequestState(api(BOT), { ...repo, pullNumber: 2 })).toBe('closed');
  expect(await pullRequestState(api(BOT), { ...repo, pullNumber: 999 })).toBe('unknown');
});

test('every request carries the step signal: a cancelled step sends nothing', async () => {
  const before = gh.requests().length;
  const cancelled = createGitHubApi({
    token: BOT,
    apiUrl: gh.url,
    signal: AbortSignal.abort(new Error('cancelled')),
    userAgent: 'x',
  });
  await expect(tokenIdentity(cancelled)).rejects.toThrow();
  expect(gh.requests().length).toBe(before);
});
