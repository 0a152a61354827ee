import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputErrors, InputReader, inputsEnv } from '@aws-containers/core';
import { parse } from 'yaml';
import { defaultChangeCause, getInputs, parseWorkload, type Inputs } from '../src/inputs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const actionYml = parse(readFileSync(path.join(here, '../../../eks-rollout/action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
};
const dir = mkdtempSync(path.join(tmpdir(), 'eks-rollout-inputs-'));
mkdirSync(path.join(dir, 'k8s'));
writeFileSync(
  path.join(dir, 'k8s', 'app.yaml'),
  `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: web, image: "localhost:5000/team/web:1"}
        - {name: sidecar, image: nginx}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
`,
);
writeFileSync(
  path.join(dir, 'k8s', 'ns.json'),
  JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }),
);
writeFileSync(path.join(dir, 'bad.yaml'), 'kind: [unclosed\n');

function withDefaults(inputs: Record<string, string>): Record<string, string> {
  const defaults = Object.fromEntries(
    Object.entries(actionYml.inputs)
      .filter(([, v]) => v.default !== undefined)
      .map(([k, v]) => [k, v.default as string]),
  );
  return { ...defaults, ...inputs };
}

function read(inputs: Record<string, string>): Inputs {
  return getInputs(new InputReader(inputsEnv(withDefaults(inputs))), { cwd: dir, env: {} });
}

function errorsOf(inputs: Record<string, string>): string[] {
  try {
    read(inputs);
  } catch (err) {
    if (err instanceof InputErrors) return err.errors.map((e) => e.message);
    throw err;
  }
  return [];
}

describe('getInputs', () => {
  test('manifests from a folder: ordered, namespaced, workloads found, repository substitution recognised', () => {
    const inputs = read({
      cluster: 'prod',
      manifests: 'k8s',
      images: 'localhost:5000/team/web=localhost:5000/team/web:2@sha256:' + 'a'.repeat(64),
    });
    expect(inputs.manifests?.map((m) => `${m.object.kind}/${m.object.metadata.namespace ?? ''}`)).toEqual([
      'Namespace/',
      'Service/default',
      'Deployment/default',
    ]);
    expect(inputs.workloads).toEqual([{ kind: 'deployment', name: 'web', namespace: 'default' }]);
    expect(inputs.images).toEqual([
      {
        name: 'localhost:5000/team/web',
        image: `localhost:5000/team/web:2@sha256:${'a'.repeat(64)}`,
        target: 'repository',
      },
    ]);
    expect(inputs.timeoutMs).toBe(600_000);
    expect(inputs.maxRestarts).toBe(3);
    expect(inputs.rollbackOnFailure).toBe(true);
    expect(inputs.fieldManager).toBe('aws-containers');
  });

  test('set image by container name needs workloads without manifests', () => {
    const inputs = read({
      cluster: 'prod',
      images: 'web=nginx:1.27',
      workloads: 'deployment/web, deploy/api',
      namespace: 'shop',
    });
    expect(inputs.images).toEqual([{ name: 'web', image: 'nginx:1.27', target: 'container' }]);
    expect(inputs.workloads).toEqual([
      { kind: 'deployment', name: 'web', namespace: 'shop' },
      { kind: 'deployment', name: 'api', namespace: 'shop' },
    ]);
  });

  test.each<[string, Record<string, string>, RegExp]>([
    ['no cluster', { images: 'web=nginx', workloads: 'deployment/web' }, /Input "cluster".*required/],
    [
      'bad cluster name',
      { cluster: 'a b', images: 'web=nginx', workloads: 'deployment/web' },
      /Input "cluster": expected an EKS cluster name/,
    ],
    ['nothing to roll out', { cluster: 'c' }, /at least one of "manifests" and "images"/],
    ['images without workloads or manifests', { cluster: 'c', images: 'web=nginx' }, /Input "workloads"/],
    [
      'a bad image reference',
      { cluster: 'c', images: 'web=Nginx::1', workloads: 'deployment/web' },
      /Input "images": expected an image reference for "web"/,
    ],
    [
      'a tag in the name',
      { cluster: 'c', images: 'nginx:1=nginx:2', manifests: 'k8s' },
      /Leave the tag and digest out/,
    ],
    [
      'a repository without manifests',
      { cluster: 'c', images: 'team/web=team/web:2', workloads: 'deployment/web' },
      /without manifests, give container names/,
    ],
    [
      'a repository no manifest uses',
      { cluster: 'c', images: 'team/api=team/api:2', manifests: 'k8s' },
      /no image of the manifests has the repository "team\/api"/,
    ],
    [
      'a container no manifest has',
      { cluster: 'c', images: 'worker=busybox', manifests: 'k8s' },
      /neither a container of the manifests/,
    ],
    [
      'a bad workload kind',
      { cluster: 'c', images: 'web=nginx', workloads: 'job/migrate' },
      /Input "workloads".*The kind is not one of/,
    ],
    [
      'a workload not in the manifests',
      { cluster: 'c', manifests: 'k8s', workloads: 'deployment/api' },
      /It is not in the manifests/,
    ],
    ['a missing manifest', { cluster: 'c', manifests: 'nope.yaml' }, /No such file or folder/],
    ['invalid YAML', { cluster: 'c', manifests: 'bad.yaml' }, /bad\.yaml.* is not valid YAML or JSON/],
    [
      'a namespace input places the objects that name none',
      { cluster: 'c', manifests: 'k8s', namespace: 'default2' },
      /^$/,
    ],
    ['a bad timeout', { cluster: 'c', manifests: 'k8s', timeout: 'soon' }, /Input "timeout"/],
    [
      'max-restarts negative',
      { cluster: 'c', manifests: 'k8s', 'max-restarts': '-1' },
      /Input "max-restarts"/,
    ],
    [
      'pre-deploy-job that does not exist',
      { cluster: 'c', manifests: 'k8s', 'pre-deploy-job': 'jobs/none.yaml' },
      /Input "pre-deploy-job": expected the path of a YAML or JSON file holding one Job.*No such file or folder/,
    ],
    [
      'pre-deploy-job that is not a Job',
      { cluster: 'c', manifests: 'k8s', 'pre-deploy-job': 'k8s/ns.json' },
      /Input "pre-deploy-job": expected the path of a YAML or JSON file holding one Job.*It holds a Namespace/,
    ],
    [
      'a bad pre-deploy-job-timeout',
      { cluster: 'c', manifests: 'k8s', 'pre-deploy-job-timeout': '0s' },
      /Input "pre-deploy-job-timeout"/,
    ],
    ['a bad dry-run', { cluster: 'c', manifests: 'k8s', 'dry-run': 'yes' }, /Input "dry-run".*YAML 1\.2/],
    [
      'a bad server-side-apply',
      { cluster: 'c', manifests: 'k8s', 'server-side-apply': 'no' },
      /Input "server-side-apply"/,
    ],
    ['a bad label value', { cluster: 'c', manifests: 'k8s', labels: 'team=a b' }, /label values/],
    ['a bad annotation key', { cluster: 'c', manifests: 'k8s', annotations: '-x=1' }, /Input "annotations"/],
  ])('%s', (_, inputs, expected) => {
    const errors = errorsOf(inputs);
    if (expected.source === '^$') expect(errors).toEqual([]);
    else expect(errors.join('\n')).toMatch(expected);
  });

  test('an object in another namespace than the namespace input is refused', () => {
    writeFileSync(
      path.join(dir, 'other.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n',
    );
    expect(errorsOf({ cluster: 'c', manifests: 'other.yaml', namespace: 'b' }).join('\n')).toMatch(
      /is in namespace "a", not in "b"/,
    );
  });

  test('a pre-deploy Job is placed in the namespace; dry-run and write-kubeconfig are read', () => {
    writeFileSync(
      path.join(dir, 'job.yaml'),
      'apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\nspec: {template: {spec: {containers: []}}}\n',
    );
    const inputs = read({
      cluster: 'c',
      manifests: 'k8s',
      namespace: 'shop',
      'pre-deploy-job': 'job.yaml',
      'dry-run': 'true',
      'write-kubeconfig': 'kc/config',
    });
    expect(inputs.preDeployJob?.metadata).toEqual({ name: 'migrate', namespace: 'shop' });
    expect(inputs.preDeployJobTimeoutMs).toBe(600_000);
    expect(inputs.dryRun).toBe(true);
    expect(inputs.writeKubeconfig).toBe('kc/config');
  });

  test('every error at once', () => {
    expect(errorsOf({ cluster: '', images: 'web=Bad::', timeout: 'x' })).toHaveLength(4);
  });
});

test.each([
  ['deployment/web', { kind: 'deployment', name: 'web' }],
  ['sts/db', { kind: 'statefulset', name: 'db' }],
  ['DaemonSet/agent', { kind: 'daemonset', name: 'agent' }],
])('parseWorkload(%s)', (text, expected) => {
  expect(parseWorkload(text)).toEqual(expected);
});

test('the default change-cause names the commit and the run', () => {
  expect(
    defaultChangeCause({
      GITHUB_REPOSITORY: 'acme/app',
      GITHUB_SHA: '0123456789abcdef0123',
      GITHUB_RUN_ID: '42',
      GITHUB_SERVER_URL: 'https://github.com',
    }),
  ).toMatch(/^acme\/app@0123456789ab https:\/\/github\.com\/acme\/app\/actions\/runs\/42/);
  expect(defaultChangeCause({})).toBeUndefined();
});
