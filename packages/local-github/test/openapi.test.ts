// local-github judged by GitHub's own OpenAPI description: every answer's status and JSON body
// must be what the description of api.github.com gives for that operation, driven with plain fetch
// and `Authorization: Bearer <token>` as an action's client sends it.
import { startLocalGitHub, type LocalGitHub, type TokenSpec } from '../src/index.js';
import { judge } from './helpers/spec.js';

const ALL_WRITE = {
  pull_requests: 'write',
  issues: 'write',
  deployments: 'write',
  contents: 'read',
} as const;
const BOT: TokenSpec = {
  token: 'ghs_bot',
  login: 'github-actions[bot]',
  type: 'Bot',
  permissions: ALL_WRITE,
};
const READ_ONLY: TokenSpec = {
  token: 'ghs_readonly',
  login: 'github-actions[bot]',
  type: 'Bot',
  permissions: { pull_requests: 'read', issues: 'read', deployments: 'read', contents: 'read' },
};
const USER: TokenSpec = { token: 'ghp_user', login: 'octocat', type: 'User', permissions: ALL_WRITE };
const HEAD = 'a'.repeat(40);
const REPO = '/repos/octo/app';

let github: LocalGitHub;
let ids: { comment: number; deployment: number };

interface Reply {
  status: number;
  headers: Headers;
  json: unknown;
}

async function call(
  method: string,
  path: string,
  token: string | null = BOT.token,
  body?: unknown,
): Promise<Reply> {
  const headers: Record<string, string> = {
    accept: 'application/vnd.github+json',
    'x-github-api-version': '2022-11-28',
  };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${github.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

const post = async (path: string, body: unknown, token = BOT.token) => {
  const reply = await call('POST', path, token, body);
  if (reply.status !== 201) throw new Error(`${path}: ${reply.status} ${JSON.stringify(reply.json)}`);
  return reply.json as { id: number };
};

beforeEach(async () => {
  github = await startLocalGitHub({ tokens: [BOT, READ_ONLY, USER] });
  github.setPullRequest('octo', 'app', 1, { state: 'open', headSha: HEAD, headRef: 'feature' });
  github.setPullRequest('octo', 'app', 2, {
    state: 'closed',
    headSha: 'b'.repeat(40),
    fork: true,
    merged: true,
  });
  const comment = await post(`${REPO}/issues/1/comments`, { body: 'Preview: starting' });
  const deployment = await post(`${REPO}/deployments`, {
    ref: 'feature',
    environment: 'pr-1',
    auto_merge: false,
  });
  await post(`${REPO}/deployments/${deployment.id}/statuses`, {
    state: 'success',
    environment_url: 'https://pr-1.example.com',
    log_url: 'https://ci.example.com/run/1',
  });
  ids = { comment: comment.id, deployment: deployment.id };
});
afterEach(() => github.stop());

type Ids = typeof ids;
const PULL = '/repos/{owner}/{repo}/pulls/{pull_number}';
const PULLS = '/repos/{owner}/{repo}/pulls';
const COMMENTS = '/repos/{owner}/{repo}/issues/{issue_number}/comments';
const COMMENT = '/repos/{owner}/{repo}/issues/comments/{comment_id}';
const DEPLOYMENTS = '/repos/{owner}/{repo}/deployments';
const STATUSES = '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses';
// Statuses carry their URLs: without them GitHub answers "" (its documented default), which the
// description's `format: uri` would reject though GitHub sends it.
const STATUS = {
  state: 'in_progress',
  log_url: 'https://ci.example.com/run/2',
  environment_url: 'https://x.example.com',
};
const DEPLOY = {
  ref: 'feature',
  environment: 'pr-1',
  transient_environment: false,
  production_environment: false,
  auto_merge: false,
  required_contexts: [],
  description: 'Preview of #1',
  payload: { pr: 1 },
};

// [what, operation, method, path, token, body, status]
const cases: [string, string, string, (i: Ids) => string, string | null, unknown, number][] = [
  ['the user behind a user token', '/user', 'GET', () => '/user', USER.token, undefined, 200],
  ['GET /user with an installation token', '/user', 'GET', () => '/user', BOT.token, undefined, 403],
  ['an unknown token', '/user', 'GET', () => '/user', 'ghs_nope', undefined, 401],
  ['no token', '/user', 'GET', () => '/user', null, undefined, 401],
  ['an open pull request', PULL, 'GET', () => `${REPO}/pulls/1`, BOT.token, undefined, 200],
  ['a merged pull request from a fork', PULL, 'GET', () => `${REPO}/pulls/2`, BOT.token, undefined, 200],
  ['an unknown pull request', PULL, 'GET', () => `${REPO}/pulls/99`, BOT.token, undefined, 404],
  ['a pull request, bad credentials', PULL, 'GET', () => `${REPO}/pulls/1`, 'ghs_nope', undefined, 401],
  ['all pull requests', PULLS, 'GET', () => `${REPO}/pulls?state=all`, BOT.token, undefined, 200],
  ['closed pull requests', PULLS, 'GET', () => `${REPO}/pulls?state=closed`, READ_ONLY.token, undefined, 200],
  [
    'comments of a pull request',
    COMMENTS,
    'GET',
    () => `${REPO}/issues/1/comments`,
    BOT.token,
    undefined,
    200,
  ],
  [
    'comments of an unknown issue',
    COMMENTS,
    'GET',
    () => `${REPO}/issues/99/comments`,
    BOT.token,
    undefined,
    404,
  ],
  ['a comment', COMMENTS, 'POST', () => `${REPO}/issues/1/comments`, BOT.token, { body: 'hi' }, 201],
  [
    'a comment, read-only',
    COMMENTS,
    'POST',
    () => `${REPO}/issues/1/comments`,
    READ_ONLY.token,
    { body: 'x' },
    403,
  ],
  [
    'a comment, unknown issue',
    COMMENTS,
    'POST',
    () => `${REPO}/issues/99/comments`,
    BOT.token,
    { body: 'x' },
    404,
  ],
  ['a comment without body', COMMENTS, 'POST', () => `${REPO}/issues/1/comments`, BOT.token, {}, 422],
  [
    'a comment edited',
    COMMENT,
    'PATCH',
    (i) => `${REPO}/issues/comments/${i.comment}`,
    BOT.token,
    { body: 'y' },
    200,
  ],
  [
    'an edit, read-only',
    COMMENT,
    'PATCH',
    (i) => `${REPO}/issues/comments/${i.comment}`,
    READ_ONLY.token,
    {},
    403,
  ],
  [
    'an unknown comment edited',
    COMMENT,
    'PATCH',
    () => `${REPO}/issues/comments/999`,
    BOT.token,
    { body: 'y' },
    404,
  ],
  ['a deployment', DEPLOYMENTS, 'POST', () => `${REPO}/deployments`, BOT.token, DEPLOY, 201],
  ['a deployment of a sha', DEPLOYMENTS, 'POST', () => `${REPO}/deployments`, BOT.token, { ref: HEAD }, 201],
  ['a deployment, read-only', DEPLOYMENTS, 'POST', () => `${REPO}/deployments`, READ_ONLY.token, DEPLOY, 403],
  [
    'a deployment of an unknown ref',
    DEPLOYMENTS,
    'POST',
    () => `${REPO}/deployments`,
    BOT.token,
    { ref: 'no' },
    422,
  ],
  [
    'deployments of an environment',
    DEPLOYMENTS,
    'GET',
    () => `${REPO}/deployments?environment=pr-1`,
    BOT.token,
    undefined,
    200,
  ],
  [
    'deployments of a repository',
    DEPLOYMENTS,
    'GET',
    () => `/repos/octo/none/deployments`,
    BOT.token,
    undefined,
    404,
  ],
  [
    'a status',
    STATUSES,
    'POST',
    (i) => `${REPO}/deployments/${i.deployment}/statuses`,
    BOT.token,
    STATUS,
    201,
  ],
  [
    'a status, read-only',
    STATUSES,
    'POST',
    (i) => `${REPO}/deployments/${i.deployment}/statuses`,
    READ_ONLY.token,
    STATUS,
    403,
  ],
  [
    'a status, unknown deployment',
    STATUSES,
    'POST',
    () => `${REPO}/deployments/999/statuses`,
    BOT.token,
    STATUS,
    404,
  ],
  [
    'a status, bad state',
    STATUSES,
    'POST',
    (i) => `${REPO}/deployments/${i.deployment}/statuses`,
    BOT.token,
    { state: 'done' },
    422,
  ],
  [
    'statuses',
    STATUSES,
    'GET',
    (i) => `${REPO}/deployments/${i.deployment}/statuses`,
    READ_ONLY.token,
    undefined,
    200,
  ],
  [
    'statuses, unknown deployment',
    STATUSES,
    'GET',
    () => `${REPO}/deployments/999/statuses`,
    BOT.token,
    undefined,
    404,
  ],
];

describe('every answer is what the OpenAPI description of api.github.com gives', () => {
  test.each(cases)('%s: %s %s', async (_what, operation, method, path, token, body, status) => {
    const reply = await call(method, path(ids), token, body);
    expect({ status: reply.status, json: reply.json }).toMatchObject({ status });
    const judgement = judge(method, operation, reply.status, reply.json);
    expect(judgement.errors).toEqual([]);
    // Every success is documented; a few errors are not (GitHub's basic-error judges those).
    if (status < 400) expect(judgement.documented).toBe(true);
    for (const header of judgement.headers.filter((h) => h.toLowerCase() !== 'link')) {
      expect(reply.headers.get(header)).toEqual(expect.any(String));
    }
    expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(reply.headers.get('x-github-api-version-selected')).toBe('2022-11-28');
    for (const name of ['limit', 'remaining', 'reset', 'used']) {
      expect(reply.headers.get(`x-ratelimit-${name}`)).toMatch(/^\d+$/);
    }
  });
});

describe('errors in GitHub words', () => {
  test.each([
    [
      BOT.token,
      403,
      {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user',
        status: '403',
      },
    ],
    [
      'ghs_unknown',
      401,
      { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' },
    ],
  ])('GET /user with %s', async (token, status, json) => {
    expect(await call('GET', '/user', token)).toMatchObject({ status, json });
  });

  test.each([
    [
      'POST',
      `${REPO}/issues/1/comments`,
      { body: 'x' },
      'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
    ],
    [
      'POST',
      `${REPO}/deployments`,
      DEPLOY,
      'https://docs.github.com/rest/deployments/deployments#create-a-deployment',
    ],
  ])('a read-only token: %s %s is 403', async (method, path, body, docs) => {
    const reply = await call(method, path, READ_ONLY.token, body);
    expect(reply).toMatchObject({
      status: 403,
      json: { message: 'Resource not accessible by integration', documentation_url: docs, status: '403' },
    });
    expect(github.state().comments).toHaveLength(1);
    expect(github.state().deployments).toHaveLength(1);
  });
});

describe('identities', () => {
  test('a comment by GITHUB_TOKEN is by github-actions[bot], a Bot', async () => {
    const { json } = await call('POST', `${REPO}/issues/1/comments`, BOT.token, { body: 'hello' });
    expect(json).toMatchObject({
      body: 'hello',
      user: { login: 'github-actions[bot]', type: 'Bot', id: 41898282 },
      html_url: expect.stringMatching(new RegExp(`^${github.url}/octo/app/pull/1#issuecomment-\\d+$`)),
    });
  });

  test('a user token: GET /user answers the user, `token` scheme too', async () => {
    const response = await fetch(`${github.url}/user`, { headers: { authorization: `token ${USER.token}` } });
    expect(await response.json()).toMatchObject({
      login: 'octocat',
      type: 'User',
      url: `${github.url}/users/octocat`,
    });
  });

  test('ids increase, timestamps are ISO 8601 in UTC', async () => {
    const a = (await post(`${REPO}/issues/1/comments`, { body: 'a' })) as { id: number; created_at: string };
    const b = (await post(`${REPO}/issues/1/comments`, { body: 'b' })) as { id: number; created_at: string };
    expect(b.id).toBeGreaterThan(a.id);
    expect(a.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});

// A Link header as GitHub sends it: <url>; rel="next", <url>; rel="last".
const links = (header: string | null) =>
  Object.fromEntries([...(header ?? '').matchAll(/<([^>]+)>;\s*rel="(\w+)"/g)].map((m) => [m[2], m[1]]));

describe('pagination', () => {
  test('35 comments: 30 then 5, following rel="next"', async () => {
    for (let n = 2; n <= 35; n++) await post(`${REPO}/issues/1/comments`, { body: `comment ${n}` });
    const first = await call('GET', `${REPO}/issues/1/comments`);
    expect(first.json).toHaveLength(30);
    const rel = links(first.headers.get('link'));
    expect(Object.keys(rel).sort()).toEqual(['last', 'next']);
    expect(new URL(rel.last ?? '').searchParams.get('page')).toBe('2');
    const second = await call('GET', (rel.next ?? '').replace(github.url, ''));
    const bodies = [...(first.json as { body: string }[]), ...(second.json as { body: string }[])].map(
      (c) => c.body,
    );
    expect(bodies).toHaveLength(35);
    expect(bodies.at(0)).toBe('Preview: starting');
    expect(bodies.at(-1)).toBe('comment 35');
    expect(Object.keys(links(second.headers.get('link'))).sort()).toEqual(['first', 'prev']);
  });

  test.each([
    ['per_page=10&page=2', 10, ['first', 'last', 'next', 'prev']],
    ['per_page=500', 35, []],
    ['page=9', 0, ['first', 'prev']],
  ])('%s', async (query, count, rels) => {
    for (let n = 2; n <= 35; n++) await post(`${REPO}/issues/1/comments`, { body: `comment ${n}` });
    const reply = await call('GET', `${REPO}/issues/1/comments?${query}`);
    expect(reply.json).toHaveLength(count);
    expect(Object.keys(links(reply.headers.get('link'))).sort()).toEqual(rels);
  });
});

describe('auto_inactive', () => {
  const deploy = (environment: string, extra: object = {}) =>
    post(`${REPO}/deployments`, { ref: 'feature', environment, ...extra });
  const succeed = (id: number, extra: object = {}) =>
    post(`${REPO}/deployments/${id}/statuses`, {
      state: 'success',
      log_url: 'https://ci.example.com/1',
      ...extra,
    });
  const latest = (id: number) => github.state().statuses[String(id)]?.at(-1)?.state;

  test.each([
    ['a prior deployment of the same environment', 'pr-1', {}, {}, 'inactive'],
    ['a prior deployment of another environment', 'pr-2', {}, {}, 'success'],
    ['a prior transient deployment', 'pr-1', { transient_environment: true }, {}, 'success'],
    ['a prior production deployment', 'pr-1', { production_environment: true }, {}, 'success'],
    ['auto_inactive: false', 'pr-1', {}, { auto_inactive: false }, 'success'],
  ])('%s', async (_what, environment, priorExtra, statusExtra, expected) => {
    const prior = await deploy(environment, priorExtra);
    await succeed(prior.id);
    const next = await deploy('pr-1');
    await succeed(next.id, statusExtra);
    expect(latest(prior.id)).toBe(expected);
    expect(latest(next.id)).toBe('success');
  });

  test('a deployment that never succeeded gets no inactive status; GET lists newest first', async () => {
    const failed = await deploy('pr-1');
    await post(`${REPO}/deployments/${failed.id}/statuses`, {
      state: 'failure',
      log_url: 'https://ci.example.com/2',
    });
    await succeed((await deploy('pr-1')).id);
    expect(latest(failed.id)).toBe('failure');
    expect(latest(ids.deployment)).toBe('inactive');
    const { json } = await call('GET', `${REPO}/deployments/${ids.deployment}/statuses`);
    expect((json as { state: string }[]).map((s) => s.state)).toEqual(['inactive', 'success']);
  });
});

test('state() and requests() are plain snapshots', async () => {
  await call('GET', `${REPO}/pulls/1`, READ_ONLY.token);
  expect(github.requests().at(-1)).toEqual({
    method: 'GET',
    path: '/repos/octo/app/pulls/1',
    status: 200,
    login: 'github-actions[bot]',
  });
  const state = github.state();
  state.comments.length = 0;
  expect(github.state().comments).toHaveLength(1);
  expect(state.pullRequests.map((p) => [p.number, p.state, p.merged, p.fork])).toEqual([
    [1, 'open', false, false],
    [2, 'closed', true, true],
  ]);
});

describe('the judge itself rejects what GitHub would not send', () => {
  const DEPLOYMENT = '/repos/{owner}/{repo}/deployments';
  test.each([
    ['a missing required field', (d: Record<string, unknown>) => delete d.node_id, false],
    ['null where the schema is not nullable', (d: Record<string, unknown>) => (d.sha = null), false],
    ['null where it is nullable', (d: Record<string, unknown>) => (d.description = null), true],
    ['a date that is not date-time', (d: Record<string, unknown>) => (d.created_at = 'yesterday'), false],
  ])('%s', async (_what, change, valid) => {
    const deployment = (await call('GET', `${REPO}/deployments`)).json as Record<string, unknown>[];
    const body = structuredClone(deployment[0] ?? {});
    change(body);
    expect(judge('GET', DEPLOYMENT, 200, [body]).errors.length === 0).toBe(valid);
  });
});

test.each([
  [
    1,
    {
      state: 'open',
      merged: false,
      head: { sha: HEAD, ref: 'feature', repo: { full_name: 'octo/app', fork: false } },
    },
  ],
  [2, { state: 'closed', merged: true, head: { repo: { full_name: 'contributor/app', fork: true } } }],
])('pull request %i: state, merged, head', async (number, expected) => {
  const { json } = await call('GET', `${REPO}/pulls/${number}`);
  expect(json).toMatchObject({
    ...expected,
    number,
    base: { ref: 'main', repo: { full_name: 'octo/app' } },
    html_url: `${github.url}/octo/app/pull/${number}`,
  });
});
