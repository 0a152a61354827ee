import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InputErrors, InputReader, getGitHubContext, inputEnvName } from '@aws-containers/core';
import { getInputs } from '../src/inputs.js';
import { planPush } from '../src/plan.js';

const workspace = mkdtempSync(path.join(tmpdir(), 'plan-'));
mkdirSync(path.join(workspace, 'app'));
writeFileSync(path.join(workspace, 'app', 'Dockerfile'), 'FROM scratch\n');
mkdirSync(path.join(workspace, 'layout'));
writeFileSync(path.join(workspace, 'layout', 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
mkdirSync(path.join(workspace, 'not-a-layout'));

const context = getGitHubContext({
  GITHUB_EVENT_NAME: 'push',
  GITHUB_REF: 'refs/heads/feature/x',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_WORKSPACE: workspace,
});

function plan(inputs: Record<string, string>) {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ repository: 'team/app', ...inputs })) env[inputEnvName(k)] = v;
  return planPush(getInputs(new InputReader(env)), context, new Date('2026-11-27T00:00:00Z'));
}

function problems(inputs: Record<string, string>): string {
  try {
    plan(inputs);
  } catch (err) {
    if (err instanceof InputErrors) return err.message;
    throw err;
  }
  return '';
}

test.each([
  [{ context: 'app' }, { tags: ['feature-x', 'sha-0123456'], needsEngine: true }],
  [{ 'oci-layout': 'layout' }, { tags: ['feature-x', 'sha-0123456'], needsEngine: false }],
  [
    { 'promote-from': 'sha-0123456', tags: 'raw:release' },
    { tags: ['release'], needsEngine: false },
  ],
])('plan for %j', (inputs, want) => {
  expect(plan(inputs)).toMatchObject(want);
});

test('labels: OCI labels from git, overridden by the labels input', () => {
  const labels = plan({
    context: 'app',
    labels: 'org.opencontainers.image.title=custom\nteam=platform',
  }).labels;
  expect(labels).toMatchObject({
    'org.opencontainers.image.revision': '0123456789abcdef0123456789abcdef01234567',
    'org.opencontainers.image.title': 'custom',
    team: 'platform',
  });
});

test.each([
  [
    { context: 'missing' },
    'Input "context": expected a directory to build, got "missing". It does not exist',
  ],
  [{ context: '.' }, 'Input "dockerfile"'],
  [{ context: 'app', dockerfile: 'app/Nope' }, 'Input "dockerfile": expected a Dockerfile, got "app/Nope"'],
  [{ 'oci-layout': 'not-a-layout' }, 'It has no oci-layout file'],
  [{ 'docker-archive': 'image.tar' }, 'Input "docker-archive"'],
  [{ 'oci-layout': 'layout', tags: 'latest\ntag' }, 'rules that give at least one tag for this run'],
])('%j fails before any AWS call', (inputs, message) => {
  expect(problems(inputs)).toContain(message);
});

test('paths are resolved once, against the workspace: the path checked is the path read', () => {
  expect(plan({ 'oci-layout': 'layout:v1' }).source).toEqual({
    kind: 'oci-layout',
    path: path.join(workspace, 'layout'),
    ref: 'v1',
  });
  expect(plan({ context: 'app' }).source).toMatchObject({
    kind: 'context',
    context: path.join(workspace, 'app'),
    dockerfile: path.join(workspace, 'app', 'Dockerfile'),
  });
  expect(plan({ context: '.', dockerfile: 'app/Dockerfile' }).source).toMatchObject({
    context: workspace,
    dockerfile: path.join(workspace, 'app', 'Dockerfile'),
  });
});

test('a remote context is left to docker, unchecked and unresolved', () => {
  expect(plan({ context: 'https://github.com/acme/app.git#main' }).source).toMatchObject({
    kind: 'context',
    context: 'https://github.com/acme/app.git#main',
    dockerfile: undefined,
  });
});

test('the rules that give no tag are in the plan, with why', () => {
  expect(plan({ 'oci-layout': 'layout', tags: 'sha\nlatest' }).skippedRules).toEqual([
    { rule: 'latest', why: 'the run is not on the default branch (refs/heads/feature/x)' },
  ]);
});
