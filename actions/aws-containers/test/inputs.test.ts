import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputErrors, InputReader, getGitHubContext, inputsEnv } from '@aws-containers/core';
import { parse } from 'yaml';
import { getInputs as getPushInputs } from '../../ecr-push/src/inputs.js';
import { getInputs as getDeployInputs } from '../../ecs-deploy-fargate/src/inputs.js';
import { DEPLOY_INPUTS, PUSH_INPUTS, getInputs, type Inputs } from '../src/inputs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface ActionYml {
  inputs: Record<string, { default?: string; required?: boolean }>;
  outputs: Record<string, unknown>;
}
const yml = (file: string) => parse(readFileSync(path.join(root, file), 'utf8')) as ActionYml;
const rootYml = yml('action.yml');
const pushYml = yml('ecr-push/action.yml');
const deployYml = yml('ecs-deploy/action.yml');

const workspace = mkdtempSync(path.join(tmpdir(), 'release-inputs-'));
writeFileSync(path.join(workspace, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
const context = getGitHubContext({
  GITHUB_EVENT_NAME: 'push',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_WORKSPACE: workspace,
});
const now = new Date('2026-11-30T12:00:00Z');

const release = {
  repository: 'team/app',
  'oci-layout': '.',
  tags: 'raw:v1\nsha',
  cluster: 'production',
  service: 'web',
  'max-attempts': '7',
};

function read(inputs: Record<string, string>): Inputs {
  return getInputs(context, now, inputsEnv(inputs));
}

function errorsOf(inputs: Record<string, string>): string[] {
  try {
    read(inputs);
  } catch (err) {
    if (err instanceof InputErrors) return err.errors.map((e) => e.message);
    throw err;
  }
  throw new Error('the inputs were accepted');
}

function only(inputs: Record<string, string>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).filter(([name]) => names.includes(name)));
}

describe('action.yml', () => {
  test('every input goes to ecr-push, ecs-deploy or both, and each part reads only inputs the root action has', () => {
    const routed = new Set<string>([...PUSH_INPUTS, ...DEPLOY_INPUTS]);
    expect(Object.keys(rootYml.inputs).sort()).toEqual([...routed].sort());
  });

  test.each([
    ...PUSH_INPUTS.map((name) => ['ecr-push', name, pushYml] as const),
    ...DEPLOY_INPUTS.map((name) => ['ecs-deploy', name, deployYml] as const),
  ])('%s input %s: the same name, default and requiredness as the action', (_, name, sub) => {
    expect(sub.inputs[name]).toBeDefined();
    expect(rootYml.inputs[name]?.default).toBe(sub.inputs[name]?.default);
    expect(rootYml.inputs[name]?.required ?? false).toBe(sub.inputs[name]?.required ?? false);
  });

  test("outputs: both actions' own, except those of inputs the root action does not take", () => {
    const union = new Set([...Object.keys(pushYml.outputs), ...Object.keys(deployYml.outputs)]);
    // docker-username/-password need output-credentials, run-task-exit-code run-task-before-deploy.
    for (const left of ['docker-username', 'docker-password', 'run-task-exit-code']) union.delete(left);
    expect(Object.keys(rootYml.outputs).sort()).toEqual([...union].sort());
  });
});

test("each part's Inputs are what that action's own getInputs makes of the same inputs", () => {
  const inputs = read(release);
  expect(inputs.push).toEqual(getPushInputs(new InputReader(inputsEnv(only(release, PUSH_INPUTS)))));
  expect(inputs.deploy).toEqual(getDeployInputs(new InputReader(inputsEnv(only(release, DEPLOY_INPUTS)))));
  expect(inputs.push).toMatchObject({ repository: 'team/app', maxAttempts: 7 });
  expect(inputs.deploy).toMatchObject({ cluster: 'production', services: ['web'], maxAttempts: 7 });
  expect(inputs.plan.tags).toEqual(['v1', 'sha-0123456']);
  expect(inputs.plan.source).toEqual({ kind: 'oci-layout', path: workspace, ref: undefined });
});

test("the deploy gets no image from the inputs, and `tags` are the image's, not the task definition's", () => {
  const inputs = read({ ...release, image: 'app:build', 'oci-layout': '', tags: 'raw:v1' });
  expect(inputs.push.source).toEqual({ kind: 'image', image: 'app:build' });
  expect(inputs.deploy.image).toBeUndefined();
  expect(inputs.deploy.tags).toEqual(new Map());
});

test('a bad input of each part is reported with the other, and a missing layout with a bad deploy input', () => {
  expect(errorsOf({ ...release, repository: 'Bad Name', timeout: 'soon' })).toEqual([
    expect.stringMatching(/^Input "repository": expected an ECR repository name/),
    expect.stringMatching(/^Input "timeout": expected a duration/),
  ]);
  expect(errorsOf({ ...release, 'oci-layout': 'no/such/layout', timeout: 'soon' })).toEqual([
    expect.stringMatching(/^Input "timeout": expected a duration/),
    'Input "oci-layout": expected an OCI image layout directory, got "no/such/layout". It does not exist',
  ]);
});

test('an input both parts read is reported once', () => {
  expect(errorsOf({ ...release, 'max-attempts': 'many', region: 'mars' })).toEqual([
    expect.stringMatching(/^Input "region": /),
    'Input "max-attempts": expected an integer from 1 to 20, got "many"',
  ]);
});

test('with no inputs, every required input and both choices are named', () => {
  const errors = errorsOf({});
  expect(errors).toEqual([
    expect.stringMatching(/^Input "repository": .*It is required/),
    expect.stringMatching(
      /^Input "context, image, oci-layout, docker-archive, promote-from": expected exactly one/,
    ),
    expect.stringMatching(/^Input "cluster": .*It is required/),
    expect.stringMatching(/^Input "service, services": expected exactly one/),
  ]);
});

test('create-service settings are checked as ecs-deploy checks them', () => {
  expect(errorsOf({ ...release, subnets: 'subnet-0123456789abcdef0' })).toEqual([
    expect.stringMatching(/^Input "subnets": expected no value unless create-service is true/),
  ]);
  expect(errorsOf({ ...release, 'create-service': 'true' })).toEqual([
    expect.stringMatching(/^Input "subnets": expected the subnets of the service/),
  ]);
});
