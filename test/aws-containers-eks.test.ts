// The root action's EKS target end to end: dist/aws-containers/index.js, as the runner runs it,
// pushes an OCI layout to local-aws's ECR and rolls it out by digest on an EKS cluster (local-aws's
// EKS, its Kubernetes API simulated by local-kubernetes, 20× clock), in one step. kubectl judges
// what the cluster holds afterwards; the op log shows what was written.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { buildOciLayout, startLocalAws, type LocalAws, type OciLayout } from '@aws-containers/local-aws';
import { localAwsEnv, pushToMain, runAction, type ActionRun } from './helpers/action-runner.js';
import { requireTool } from './helpers/tools.js';
import { createActiveCluster, kubectlOnEks, deploymentManifest } from './helpers/eks.js';

jest.setTimeout(180_000);
const KUBECTL = '/usr/bin/kubectl';
const withKubectl = requireTool('kubectl', KUBECTL);
const CLUSTER = 'release';
const repository = 'release/eks-web';

let aws: LocalAws;
let host: string;
let uri: string;
let dir: string;
const layouts: OciLayout[] = [];

beforeAll(async () => {
  aws = await startLocalAws({ timeScale: 20 });
  await createActiveCluster(aws, CLUSTER);
  host = new URL(aws.httpsUrl).host;
  uri = `${host}/${repository}`;
  dir = mkdtempSync(path.join(os.tmpdir(), 'aws-containers-eks-'));
});

afterAll(async () => {
  await aws?.stop();
  await Promise.all(layouts.map((l) => l.cleanup()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function layout(): Promise<OciLayout> {
  const built = await buildOciLayout({ layers: [{ size: 2048 }] });
  layouts.push(built);
  return built;
}

/** kubectl against the cluster, with a token made as `aws eks get-token` makes it. */
const kubectl = (...args: string[]) => kubectlOnEks(aws, CLUSTER, path.join(dir, 'kubectl-home'))(...args);

function writeTemp(name: string, content: string): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

/** A Deployment whose pod has `app` and a `sidecar` on the same image (only `app` is to change). */
const deployment = (name: string, image: string) =>
  deploymentManifest(name, image, `        - name: sidecar\n          image: ${image}\n`);

/** The root action with eks-cluster, on a push to main of acme/app, daemonless. */
function release(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction('aws-containers', {
    // The runner sets action.yml's defaults; those of ECS-only inputs are no ECS input given.
    inputs: {
      'docker-login': 'false',
      'create-service': 'false',
      'assign-public-ip': 'false',
      'poll-interval': '5s',
      'wait-for-rollback': 'true',
      ...inputs,
    },
    env: {
      ...localAwsEnv(aws),
      ...pushToMain.env,
      GITHUB_RUN_ID: '77',
      GITHUB_SERVER_URL: 'https://github.com',
    },
    event: pushToMain.event,
    timeoutMs: 150_000,
  });
}

/** The Kubernetes calls that write, from the op log since `from`. */
function kubernetesWrites(from: number): string[] {
  return aws.opLog
    .entries({ service: 'eks' })
    .slice(from)
    .map((e) => e.operation)
    .filter((op) => /^k8s:(create|update|patch|delete|apply)/.test(op));
}
const mark = () => aws.opLog.entries({ service: 'eks' }).length;

const jsonpath = async (what: string, path: string) =>
  (await kubectl('get', what, '-o', `jsonpath={${path}}`)).stdout.trim();

let first: OciLayout;

withKubectl(
  'pushes an OCI layout and sets it by digest on a Deployment by container name; kubectl rollout history agrees with revision',
  async () => {
    const applied = await kubectl('apply', '-f', writeTemp('web.yaml', deployment('web', 'nginx:1.27')));
    expect(applied.code).toBe(0);
    expect((await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s')).code).toBe(0);

    first = await layout();
    const imageUri = `${uri}@${first.top.digest}`;
    const run = await release({
      repository,
      'create-repository': 'true',
      'oci-layout': first.dir,
      'eks-cluster': CLUSTER,
      workloads: 'deployment/web',
      'container-name': 'app',
    });
    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toEqual({
      registry: host,
      'repository-uri': uri,
      image: `${uri}:main`,
      'image-uri': imageUri,
      digest: first.top.digest,
      tags: 'main\nsha-0123456\nlatest',
      pushed: 'true',
      'rollout-state': 'COMPLETED',
      'rolled-back': 'false',
      revision: '2',
      'previous-revision': '1',
    });
    expect(run.stdout).toContain(`Deploying ${imageUri} to container app of ${CLUSTER}`);
    // Only the container named: the sidecar keeps its image.
    expect(await jsonpath('deployment/web', '.spec.template.spec.containers[*].image')).toBe(
      `${imageUri} nginx:1.27`,
    );
    const history = await kubectl('rollout', 'history', 'deployment/web');
    expect(history.stdout).toMatch(
      /^2\s+acme\/app@0123456789ab https:\/\/github\.com\/acme\/app\/actions\/runs\/77/m,
    );
    expect(
      await jsonpath('deployment/web', '.metadata.annotations.deployment\\.kubernetes\\.io/revision'),
    ).toBe(run.outputs.revision);
    expect(await jsonpath('deployment/web', '.status.updatedReplicas')).toBe('2');
    // One summary: the release, then ecr-push's and eks-rollout's parts.
    expect(run.summary).toContain(`<h2>aws-containers: ${repository} → EKS ${CLUSTER}/deployment/web</h2>`);
    expect(run.summary).toContain(`<p>Pushed ${imageUri} and deployed it by digest.</p>`);
    expect(run.summary).toContain(`<h2>ecr-push: ${uri}</h2>`);
    expect(run.summary).toContain(`<h2>eks-rollout: ${CLUSTER}</h2>`);
  },
);

withKubectl(
  'pushes and applies manifests, the pushed repository replaced by the image by digest',
  async () => {
    const image = await layout();
    const imageUri = `${uri}@${image.top.digest}`;
    const folder = path.join(dir, 'k8s');
    writeTemp(
      'k8s/api.yaml',
      `${deployment('api', `${uri}:v0`).replace('namespace: default', 'namespace: store')}---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: store}
spec:
  selector: {app: api}
  ports: [{port: 80}]
`,
    );
    writeTemp('k8s/ns.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: store}\n');
    const run = await release({
      repository,
      'oci-layout': image.dir,
      'eks-cluster': CLUSTER,
      manifests: folder,
    });
    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({
      'image-uri': imageUri,
      'rollout-state': 'COMPLETED',
      'rolled-back': 'false',
      revision: '1',
      applied: 'Namespace/store\nService/store/api\nDeployment/store/api',
    });
    expect(run.outputs['previous-revision']).toBeUndefined();
    expect(run.stdout).toContain(`Deploying ${imageUri} in place of ${uri} in the manifests`);
    // Every container of the pushed repository: both, by digest.
    const images = await kubectl(
      'get',
      'deployment/api',
      '-n',
      'store',
      '-o',
      'jsonpath={.spec.template.spec.containers[*].image}',
    );
    expect(images.stdout.trim()).toBe(`${imageUri} ${imageUri}`);
    expect(
      (await kubectl('rollout', 'status', 'deployment/api', '-n', 'store', '--timeout=5s')).stdout,
    ).toContain('successfully rolled out');
  },
);

withKubectl('a failed push deploys nothing: no Kubernetes write, no rollout output', async () => {
  const image = await layout();
  const from = mark();
  const run = await release({
    repository: 'release/missing',
    'oci-layout': image.dir,
    'eks-cluster': CLUSTER,
    workloads: 'deployment/web',
    'container-name': 'app',
  });
  expect(run.exitCode).toBe(1);
  expect(run.errors).toEqual([expect.stringContaining('release/missing')]);
  expect(aws.opLog.entries({ service: 'eks' }).slice(from)).toEqual([]);
  expect(kubernetesWrites(from)).toEqual([]);
  expect(run.outputs['rollout-state']).toBeUndefined();
  expect(run.summary).toContain('<p>The push failed, so nothing was deployed.</p>');
  expect(run.summary).not.toContain('<h2>eks-rollout');
  // The Deployment still runs the image of the first test.
  expect(await jsonpath('deployment/web', '.spec.template.spec.containers[0].image')).toBe(
    `${uri}@${first.top.digest}`,
  );
});

withKubectl(
  'a rollout that fails is undone: the step fails, rolled-back and the diagnosis say so, the image stays pushed',
  async () => {
    const crashing = deployment('crash', 'nginx:1.27').replace(
      'replicas: 2',
      'replicas: 2\n  minReadySeconds: 30',
    );
    expect((await kubectl('apply', '-f', writeTemp('crash.yaml', crashing))).code).toBe(0);
    expect((await kubectl('rollout', 'status', 'deployment/crash', '--timeout=60s')).code).toBe(0);
    const crash = await buildOciLayout({
      layers: [{ size: 2048 }],
      labels: { 'local-aws.exit-after': '1s', 'local-aws.exit-code': '3' },
    });
    layouts.push(crash);
    const imageUri = `${uri}@${crash.top.digest}`;
    const run = await release({
      repository,
      'oci-layout': crash.dir,
      'eks-cluster': CLUSTER,
      workloads: 'deployment/crash',
      'container-name': 'app',
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({
      'image-uri': imageUri,
      pushed: 'true',
      'rollout-state': 'ROLLED_BACK',
      'rolled-back': 'true',
      'previous-revision': '1',
    });
    expect(run.errors.join('\n')).toMatch(
      /keeps crashing: \d+ restarts \(more than max-restarts 3\), last exit code 3/,
    );
    // Undone as kubectl rollout undo does: the previous template runs again.
    expect(await jsonpath('deployment/crash', '.spec.template.spec.containers[0].image')).toBe('nginx:1.27');
    expect(
      await jsonpath('deployment/crash', '.metadata.annotations.deployment\\.kubernetes\\.io/revision'),
    ).toBe(run.outputs.revision);
    expect(run.summary).toContain(`<p>Pushed ${imageUri}; the deploy failed: ROLLED_BACK`);
    expect(run.summary).toContain('Diagnosis of Deployment/default/crash');
  },
);

test.each([
  ['both targets', { cluster: 'prod', service: 'web' }, /^Input "cluster, eks-cluster": .*Both are set/],
  ['neither target', { 'eks-cluster': '' }, /^Input "cluster, eks-cluster": .*None is set/],
])('bad inputs (%s) change nothing: one error, no AWS call', async (_, given, expected) => {
  const image = await layout();
  aws.opLog.clear();
  const run = await release({
    repository,
    'oci-layout': image.dir,
    'eks-cluster': CLUSTER,
    workloads: 'deployment/web',
    'container-name': 'app',
    ...given,
  });
  expect(run.exitCode).toBe(1);
  expect(run.errors).toEqual([expect.stringMatching(expected)]);
  expect(aws.opLog.entries()).toEqual([]);
  expect(run.outputs).toEqual({});
  expect(run.summary).toContain('The inputs are not valid: nothing was called or changed in AWS.');
});
