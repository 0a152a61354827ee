import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputErrors, InputReader, getGitHubContext, inputsEnv } from '@aws-containers/core';
import { parse } from 'yaml';
import { getInputs as getPushInputs } from '../../ecr-push/src/inputs.js';
import { getInputs as getDeployInputs } from '../../ecs-deploy-fargate/src/inputs.js';
import { getInputs as getEksInputs } from '../../eks-rollout/src/inputs.js';
import {
  DEFAULTS,
  DEPLOY_INPUTS,
  EKS_INPUTS,
  PUSH_INPUTS,
  eksImages,
  getInputs,
  type Inputs,
} from '../src/inputs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface ActionYml {
  inputs: Record<string, { default?: string; required?: boolean }>;
  outputs: Record<string, unknown>;
}
const yml = (file: string) => parse(readFileSync(path.join(root, file), 'utf8')) as ActionYml;
const rootYml = yml('action.yml');
const pushYml = yml('ecr-push/action.yml');
const deployYml = yml('ecs-deploy/action.yml');
const eksYml = yml('eks-rollout/action.yml');

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
    const routed = new Set<string>([...PUSH_INPUTS, ...DEPLOY_INPUTS, ...EKS_INPUTS]);
    expect(Object.keys(rootYml.inputs).sort()).toEqual([...routed].sort());
  });

  test.each([
    ...PUSH_INPUTS.map((name) => ['ecr-push', name, pushYml] as const),
    ...DEPLOY_INPUTS.filter((name) => name !== 'cluster').map(
      (name) => ['ecs-deploy', name, deployYml] as const,
    ),
    ...EKS_INPUTS.filter((name) => !['eks-cluster', 'timeout', 'region'].includes(name)).map(
      (name) => ['eks-rollout', name, eksYml] as const,
    ),
  ])('%s input %s: the same name, default and requiredness as the action', (_, name, sub) => {
    expect(sub.inputs[name]).toBeDefined();
    expect(rootYml.inputs[name]?.default).toBe(sub.inputs[name]?.default);
    expect(rootYml.inputs[name]?.required ?? false).toBe(sub.inputs[name]?.required ?? false);
  });

  test("outputs: both actions' own, except those of inputs the root action does not take", () => {
    const union = new Set([...Object.keys(pushYml.outputs), ...Object.keys(deployYml.outputs)]);
    // docker-username/-password need output-credentials, run-task-exit-code run-task-before-deploy.
    // preview-url/-state need preview, which the root action does not take.
    for (const left of [
      'docker-username',
      'docker-password',
      'run-task-exit-code',
      'preview-url',
      'preview-state',
    ])
      union.delete(left);
    for (const eks of ['rollout-state', 'rolled-back', 'revision', 'previous-revision', 'applied']) {
      expect(eksYml.outputs[eks]).toBeDefined();
      union.add(eks);
    }
    expect(Object.keys(rootYml.outputs).sort()).toEqual([...union].sort());
  });

  test('the targets: cluster and eks-cluster are both optional; the defaults DEFAULTS knows are these', () => {
    expect(rootYml.inputs.cluster?.required).toBe(false);
    expect(rootYml.inputs['eks-cluster']?.required).toBe(false);
    for (const [name, value] of Object.entries(DEFAULTS)) expect(rootYml.inputs[name]?.default).toBe(value);
  });
});

test("each part's Inputs are what that action's own getInputs makes of the same inputs", () => {
  const inputs = read(release);
  expect(inputs.push).toEqual(getPushInputs(new InputReader(inputsEnv(only(release, PUSH_INPUTS)))));
  if (inputs.target !== 'ecs') throw new Error('not the ECS target');
  expect(inputs.deploy).toEqual(getDeployInputs(new InputReader(inputsEnv(only(release, DEPLOY_INPUTS)))));
  expect(inputs.push).toMatchObject({ repository: 'team/app', maxAttempts: 7 });
  expect(inputs.deploy).toMatchObject({ cluster: 'production', services: ['web'], maxAttempts: 7 });
  expect(inputs.plan.tags).toEqual(['v1', 'sha-0123456']);
  expect(inputs.plan.source).toEqual({ kind: 'oci-layout', path: workspace, ref: undefined });
});

test("the deploy gets no image from the inputs, and `tags` are the image's, not the task definition's", () => {
  const inputs = read({ ...release, image: 'app:build', 'oci-layout': '', tags: 'raw:v1' });
  expect(inputs.push.source).toEqual({ kind: 'image', image: 'app:build' });
  if (inputs.target !== 'ecs') throw new Error('not the ECS target');
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
    expect.stringMatching(/^Input "cluster, eks-cluster": expected exactly one deploy target.*None is set/),
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

describe('the EKS target', () => {
  const k8s = path.join(workspace, 'k8s');
  mkdirSync(k8s, { recursive: true });
  writeFileSync(
    path.join(k8s, 'web.yaml'),
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - { name: app, image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1 }
        - { name: proxy, image: nginx:1.27 }
`,
  );
  const eks = {
    repository: 'team/app',
    'oci-layout': '.',
    'eks-cluster': 'shop',
    'max-attempts': '7',
    // Set by the runner from action.yml's defaults, whatever the target.
    'create-service': 'false',
    'assign-public-ip': 'false',
    'poll-interval': '5s',
    'wait-for-rollback': 'true',
    timeout: '15m',
    'rollback-on-failure': 'true',
  };
  const digestRef = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app@sha256:${'a'.repeat(64)}`;

  test("eks-rollout's own getInputs reads the EKS part, cluster from eks-cluster, with no image yet", () => {
    const inputs = read({ ...eks, workloads: 'deployment/web', 'container-name': 'app', namespace: 'shop' });
    if (inputs.target !== 'eks') throw new Error('not the EKS target');
    const own = getEksInputs(
      new InputReader(
        inputsEnv({
          cluster: 'shop',
          workloads: 'deployment/web',
          namespace: 'shop',
          timeout: '15m',
          'rollback-on-failure': 'true',
          images: `app=${digestRef}`,
        }),
      ),
      { env: {} },
    );
    expect(inputs.eks).toEqual({ ...own, images: [], changeCause: inputs.eks.changeCause });
    expect(inputs.eks).toMatchObject({ cluster: 'shop', timeoutMs: 15 * 60_000, images: [] });
    expect(inputs.image).toEqual({ container: 'app' });
  });

  test.each([
    [
      'container-name: kubectl set image by container',
      { workloads: 'deployment/web', 'container-name': 'app' },
      [{ name: 'app', image: digestRef, target: 'container' }],
    ],
    [
      'manifests without container-name: the repository is replaced',
      { manifests: 'k8s' },
      [
        {
          name: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app',
          image: digestRef,
          target: 'repository',
        },
      ],
    ],
    [
      'manifests with container-name: that container',
      { manifests: 'k8s', 'container-name': 'proxy' },
      [{ name: 'proxy', image: digestRef, target: 'container' }],
    ],
  ])('the image after the push, %s', (_, given, expected) => {
    const inputs = read({ ...eks, ...given });
    if (inputs.target !== 'eks') throw new Error('not the EKS target');
    expect(
      eksImages(
        inputs.image,
        '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app',
        digestRef,
        inputs.eks.manifests,
      ),
    ).toEqual(expected);
  });

  test('manifests naming the repository in another registry: the image cannot be set, said before any change', () => {
    const inputs = read({ ...eks, manifests: 'k8s' });
    if (inputs.target !== 'eks') throw new Error('not the EKS target');
    expect(() =>
      eksImages(
        inputs.image,
        '210987654321.dkr.ecr.us-east-1.amazonaws.com/team/app',
        '210987654321.dkr.ecr.us-east-1.amazonaws.com/team/app@sha256:' + 'b'.repeat(64),
        inputs.eks.manifests,
      ),
    ).toThrow(
      /^The pushed image cannot be set: no image of the manifests has the repository .*nothing was changed/,
    );
  });

  test.each([
    [
      'both targets',
      { ...eks, cluster: 'prod', service: 'web', workloads: 'deployment/web', 'container-name': 'app' },
      [/^Input "cluster, eks-cluster": expected exactly one deploy target.*Both are set/],
    ],
    [
      'ECS inputs with eks-cluster',
      {
        ...eks,
        service: 'web',
        'task-definition': 'td.json',
        workloads: 'deployment/web',
        'container-name': 'app',
      },
      [
        /^Input "service, task-definition": expected no value with eks-cluster: they are for the ECS \(cluster\) target/,
      ],
    ],
    [
      'a changed ECS default with eks-cluster',
      { ...eks, 'create-service': 'true', workloads: 'deployment/web', 'container-name': 'app' },
      [/^Input "create-service": expected no value with eks-cluster: it is for the ECS/],
    ],
    [
      'EKS inputs with cluster',
      { ...release, workloads: 'deployment/web', manifests: 'k8s' },
      [/^Input "workloads, manifests": expected no value with cluster: they are for the EKS/],
    ],
    [
      'workloads without container-name or manifests',
      { ...eks, workloads: 'deployment/web' },
      [/^Input "container-name, manifests": expected container-name .*None is set/],
    ],
    [
      'a container the manifests lack',
      { ...eks, manifests: 'k8s', 'container-name': 'worker' },
      [/^Input "container-name": expected .*, got "worker"\. "worker" is neither a container/],
    ],
    [
      'manifests without the pushed repository',
      { ...eks, repository: 'team/other', manifests: 'k8s' },
      [/^Input "manifests": expected an image of repository team\/other/],
    ],
    [
      "a bad input of each part, eks-rollout's checks included",
      { ...eks, 'eks-cluster': 'bad name!', workloads: 'pod/x', 'container-name': 'app', tags: 'nope:' },
      [/^Input "tags": /, /^Input "cluster": expected an EKS cluster name/, /^Input "workloads": /],
    ],
  ])('%s: one error naming the inputs', (_, given, expected) => {
    const errors = errorsOf(given);
    expect(errors).toEqual(expected.map((e) => expect.stringMatching(e)));
  });
});
