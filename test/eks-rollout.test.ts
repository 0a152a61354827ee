// eks-rollout end to end: dist/eks-rollout run as the runner runs it, against local-aws's EKS (a
// cluster whose Kubernetes API is local-kubernetes, on a clock 20 times faster than real time), with
// kubectl 1.32 as the judge of what the cluster holds afterwards.
import { spawn } from 'node:child_process';
import { jest } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { buildImage, startLocalAws, type LocalAws } from '@aws-containers/local-aws';
import { passwordFromToken, RegistryClient } from '../packages/local-aws/test/helpers/registry-client.js';
import { localAwsEnv, pushToMain, runAction, type ActionRun } from './helpers/action-runner.js';
import { requireTool } from './helpers/tools.js';
import { createActiveCluster, deploymentManifest, grantClusterAccess, kubectlOnEks } from './helpers/eks.js';

jest.setTimeout(180_000);
const KUBECTL = '/usr/bin/kubectl';
const withKubectl = requireTool('kubectl', KUBECTL);
/** Simulated seconds per real second: the 600 s progress deadline is 30 real seconds. */
const TIME_SCALE = 20;
const CLUSTER = 'shop';

let aws: LocalAws;
let host: string;
let dir: string;
const images: Record<'v1' | 'v2' | 'crash' | 'missing', string> = { v1: '', v2: '', crash: '', missing: '' };
/** The manifest digest of each pushed tag. */
const digests: Record<string, string> = {};
/** Pushes another tag of team/web with these labels. */
let registryTag: (tag: string, labels: Record<string, string>) => Promise<string>;

beforeAll(async () => {
  aws = await startLocalAws({ timeScale: TIME_SCALE });
  await createActiveCluster(aws, CLUSTER);
  const config = { endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials, maxAttempts: 3 };

  const ecr = new ECRClient(config);
  await ecr.send(new CreateRepositoryCommand({ repositoryName: 'team/web' }));
  const token = await ecr.send(new GetAuthorizationTokenCommand({}));
  const registry = new RegistryClient({
    baseUrl: aws.httpUrl,
    auth: { user: 'AWS', password: passwordFromToken(token.authorizationData![0]!.authorizationToken!) },
  });
  host = new URL(aws.httpsUrl).host;
  const push = async (tag: string, labels: Record<string, string>) => {
    const pushed = await registry.pushImage('team/web', buildImage([{ size: 64 }], { labels }), tag);
    if (pushed.status !== 201) throw new Error(`push failed: ${pushed.status}`);
    digests[tag] = pushed.header('docker-content-digest')!;
    return `${host}/team/web:${tag}`;
  };
  registryTag = push;
  images.v1 = await push('v1', {});
  images.v2 = await push('v2', {});
  images.crash = await push('crash', { 'local-aws.exit-after': '1s', 'local-aws.exit-code': '3' });
  images.missing = `${host}/team/web:missing`;
  ecr.destroy();
  dir = mkdtempSync(path.join(os.tmpdir(), 'eks-rollout-e2e-'));
});

afterAll(async () => {
  await aws?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** kubectl against the cluster, with a token made as `aws eks get-token` makes it. */
const kubectl = (...args: string[]) => kubectlOnEks(aws, CLUSTER, path.join(dir, 'kubectl-home'))(...args);

async function kubectlApply(yaml: string): Promise<void> {
  const file = path.join(dir, `apply-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  const out = await kubectl('apply', '-f', file);
  if (out.code !== 0) throw new Error(`kubectl apply: ${out.stderr}`);
  const name = /^deployment\.apps\/(\S+)/m.exec(out.stdout)?.[1];
  if (name) {
    const ns = /namespace: (\S+)/.exec(yaml)?.[1] ?? 'default';
    const status = await kubectl('rollout', 'status', `deployment/${name}`, '-n', ns, '--timeout=60s');
    if (status.code !== 0) throw new Error(`kubectl rollout status: ${status.stderr}`);
  }
}

const deployment = deploymentManifest;

function rollout(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  return runAction('eks-rollout', {
    inputs: { cluster: CLUSTER, ...inputs },
    env: {
      ...localAwsEnv(aws),
      ...pushToMain.env,
      GITHUB_RUN_ID: '77',
      GITHUB_SERVER_URL: 'https://github.com',
      ...env,
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

/** Writes a file in the test's temp dir; returns its path. */
function writeTemp(name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

function image(out: { stdout: string }): string {
  return out.stdout.trim();
}

withKubectl(
  'set image by container name: COMPLETED, revision and change-cause as kubectl rollout history shows them',
  async () => {
    await kubectlApply(deployment('web', images.v1));
    const run = await rollout({ images: `app=${images.v2}`, workloads: 'deployment/web' });
    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({
      'rollout-state': 'COMPLETED',
      'rolled-back': 'false',
      revision: '2',
      'previous-revision': '1',
    });
    expect(run.stdout).toContain('deployment "web" successfully rolled out');
    const history = await kubectl('rollout', 'history', 'deployment/web');
    expect(history.stdout).toMatch(
      /^2\s+acme\/app@0123456789ab https:\/\/github\.com\/acme\/app\/actions\/runs\/77/m,
    );
    expect(
      image(
        await kubectl('get', 'deployment/web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'),
      ),
    ).toBe(images.v2);
    expect(run.summary).toContain('COMPLETED');
  },
);

withKubectl(
  'apply of a multi-document folder in dependency order, the image substituted by repository (registry with a port)',
  async () => {
    const folder = path.join(dir, 'k8s');
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      path.join(folder, 'app.yaml'),
      `${deployment('api', `${host}/team/web:v1`, `          envFrom: [{configMapRef: {name: api}}]\n`).replace('namespace: default', 'namespace: store')}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: store}
spec:
  selector: {app: api}
  ports: [{port: 80}]
`,
    );
    writeFileSync(
      path.join(folder, 'config.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: api, namespace: store}\ndata: {MODE: prod}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: store}\n',
    );
    const run = await rollout({
      manifests: folder,
      images: `${host}/team/web=${images.v2}`,
      labels: 'team=shop',
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs['applied']?.split('\n')).toEqual([
      'Namespace/store',
      'ConfigMap/store/api',
      'Service/store/api',
      'Deployment/store/api',
    ]);
    expect(run.outputs['rollout-state']).toBe('COMPLETED');
    expect(run.outputs['revision']).toBe('1');
    // A Deployment this step created had no revision before it.
    expect(run.outputs['previous-revision']).toBeUndefined();
    expect(
      image(
        await kubectl(
          'get',
          'deployment/api',
          '-n',
          'store',
          '-o',
          'jsonpath={.spec.template.spec.containers[0].image}',
        ),
      ),
    ).toBe(images.v2);
    expect(
      image(await kubectl('get', 'service/api', '-n', 'store', '-o', 'jsonpath={.metadata.labels.team}')),
    ).toBe('shop');
  },
);

withKubectl(
  'an image that cannot be pulled fails far before the progress deadline, is undone, rolled-back=true',
  async () => {
    await kubectlApply(deployment('pull', images.v1));
    const started = Date.now();
    const run = await rollout({ images: `app=${images.missing}`, workloads: 'deployment/pull' });
    expect(run.exitCode).toBe(1);
    expect(run.errors.join('\n')).toMatch(/cannot be pulled.*not found/);
    expect(run.errors.join('\n')).not.toMatch(/ProgressDeadlineExceeded/);
    expect(run.outputs).toMatchObject({
      'rollout-state': 'ROLLED_BACK',
      'rolled-back': 'true',
      'previous-revision': '1',
    });
    // The whole step, undo included, ended before the 600 s deadline (30 real seconds) could pass.
    expect(Date.now() - started).toBeLessThan(600_000 / TIME_SCALE);
    expect(
      image(
        await kubectl('get', 'deployment/pull', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'),
      ),
    ).toBe(images.v1);
    const status = await kubectl('rollout', 'status', 'deployment/pull', '--timeout=30s');
    expect(status.stdout).toContain('successfully rolled out');
    expect(run.stdout).toMatch(/Diagnosis of Deployment\/default\/pull/);
  },
);

withKubectl(
  'images named as on AWS are asked of ECR: one that is there rolls out, one never pushed fails from DescribeImages at once',
  async () => {
    const ecrHost = `${aws.accountId}.dkr.ecr.${aws.region}.amazonaws.com`;
    await kubectlApply(deployment('ecr', images.v1));
    const from = aws.opLog.entries({ service: 'ecr' }).length;
    const good = await rollout({ images: `app=${ecrHost}/team/web:v2`, workloads: 'deployment/ecr' });
    expect({ exitCode: good.exitCode, errors: good.errors }).toEqual({ exitCode: 0, errors: [] });

    // preflight off: the follow itself asks ECR (preflight would stop the step before any write).
    const bad = await rollout({
      images: `app=${ecrHost}/team/web:never-pushed`,
      workloads: 'deployment/ecr',
      preflight: 'off',
    });
    expect(bad.exitCode).toBe(1);
    expect(bad.errors.join('\n')).toContain(
      `image ${ecrHost}/team/web:never-pushed cannot be pulled: ECR has no tag never-pushed in repository team/web of registry ${aws.accountId} in ${aws.region} (DescribeImages: ImageNotFoundException)`,
    );
    expect(bad.outputs).toMatchObject({ 'rollout-state': 'ROLLED_BACK', 'rolled-back': 'true' });
    // Decided from ECR's answer, not from a pod's pull error.
    expect(bad.errors.join('\n')).not.toMatch(/ErrImagePull|ImagePullBackOff/);
    const described = aws.opLog
      .entries({ service: 'ecr' })
      .slice(from)
      .filter((e) => e.operation === 'DescribeImages')
      .map((e) => e.errorCode ?? 'found');
    // The good one: preflight's question and the follow's; the bad one: the follow's alone.
    expect(described).toEqual(['found', 'found', 'ImageNotFoundException']);
    expect(
      image(
        await kubectl('get', 'deployment/ecr', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'),
      ),
    ).toBe(`${ecrHost}/team/web:v2`);
  },
);

withKubectl(
  'preflight: an ECR image never pushed and a namespace nothing creates stop the step before any write',
  async () => {
    const ecrHost = `${aws.accountId}.dkr.ecr.${aws.region}.amazonaws.com`;
    const file = writeTemp(
      'preflight.yaml',
      deploymentManifest('pf', `${ecrHost}/team/web:never-pushed`).replace(
        'namespace: default',
        'namespace: nowhere',
      ),
    );
    const from = mark();
    const run = await rollout({ manifests: file });
    expect(run.exitCode).toBe(1);
    const error = run.errors.join('\n');
    expect(error).toContain('Preflight found 2 problems; nothing was changed');
    expect(error).toContain(
      '- namespace nowhere: the namespace nowhere does not exist and the manifests do not create it',
    );
    expect(error).toContain(`- image ${ecrHost}/team/web:never-pushed: ECR has no tag never-pushed`);
    expect(kubernetesWrites(from)).toEqual([]);
    // warn: reported, and the step goes on (the apply then fails on the namespace, as kubectl's would).
    const warned = await rollout({ manifests: file, preflight: 'warn' });
    expect(warned.stdout).toMatch(/^::warning::namespace nowhere: the namespace nowhere does not exist/m);
  },
);

withKubectl(
  'a token that expires mid-rollout is made anew: the cluster refuses the old one, the step goes on',
  async () => {
    await kubectlApply(deployment('longrun', images.v1));
    // Tokens live 3 s of real time here. The pre-deploy Job runs 100 simulated s (5 s) on the
    // connections it opened; the image is set after it, with a token the cluster counts as expired.
    const job = path.join(dir, 'long-job.yaml');
    writeFileSync(
      job,
      `apiVersion: batch/v1
kind: Job
metadata: { name: long-job, namespace: default }
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: job, image: "${images.v1}", command: [sh, -c, "sleep 100"] }]
`,
    );
    aws.admin.eks.setTimings({ tokenLifetimeMs: 3_000 });
    const refusedBefore = aws.admin.eks.authenticationRefusals().length;
    try {
      const run = await rollout({
        workloads: 'deployment/longrun',
        images: `app=${images.v2}`,
        'pre-deploy-job': job,
      });
      expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
      expect(run.outputs['rollout-state']).toBe('COMPLETED');
      const refusals = aws.admin.eks.authenticationRefusals().slice(refusedBefore);
      expect(refusals.map((r) => r.reason)).toContain(
        'X-Amz-Date parameter is expired (15 minute expiration)',
      );
    } finally {
      aws.admin.eks.setTimings({ tokenLifetimeMs: 15 * 60_000 });
    }
    const image = await kubectl(
      'get',
      'deployment',
      'longrun',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image}',
    );
    expect(image.stdout).toBe(images.v2);
  },
);

withKubectl('a crash loop fails past max-restarts with the last log lines in the diagnosis', async () => {
  // A container that crashes a second after it starts must stay up 30 s to count as available.
  await kubectlApply(
    deployment('crash', images.v1).replace('replicas: 2', 'replicas: 2\n  minReadySeconds: 30'),
  );
  const run = await rollout({
    images: `app=${images.crash}`,
    workloads: 'deployment/crash',
    'max-restarts': '1',
    'rollback-on-failure': 'false',
  });
  expect(run.exitCode).toBe(1);
  expect(run.outputs).toMatchObject({ 'rollout-state': 'FAILED', 'rolled-back': 'false' });
  expect(run.errors.join('\n')).toMatch(
    /keeps crashing: \d+ restarts \(more than max-restarts 1\), last exit code 3/,
  );
  expect(run.stdout).toMatch(
    /Last log lines of crash-[a-z0-9-]+\/app \(previous run\):\n[\s\S]*?will exit with code 3 after 1s\n\s+exited with code 3/,
  );
  expect(run.summary).toContain('Last log lines of');
});

withKubectl('a missing ConfigMap key: CreateContainerConfigError', async () => {
  const file = path.join(dir, 'cfg.yaml');
  writeFileSync(
    file,
    deployment(
      'cfg',
      images.v1,
      `          env:\n            - name: DB\n              valueFrom: {configMapKeyRef: {name: cfg, key: db}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: default}\ndata: {other: x}\n`,
    ),
  );
  const run = await rollout({ manifests: file });
  expect(run.exitCode).toBe(1);
  expect(run.outputs['rollout-state']).toBe('FAILED');
  expect(run.errors.join('\n')).toMatch(/cannot be created: .*db/);
  expect(run.summary).toContain('no undo');
});

withKubectl('bad inputs change nothing: no Kubernetes write, every error at once', async () => {
  const from = mark();
  const run = await rollout({ images: 'app=Bad::ref', workloads: 'job/x', timeout: 'soon' });
  expect(run.exitCode).toBe(1);
  expect(run.errors.join('\n')).toMatch(/Input "images"/);
  expect(run.errors.join('\n')).toMatch(/Input "workloads"/);
  expect(run.errors.join('\n')).toMatch(/Input "timeout"/);
  expect(aws.opLog.entries({ service: 'eks' }).slice(from)).toEqual([]);
  expect(run.summary).toContain('nothing was changed');
  // A container the workload does not have: refused after reading, before any write.
  const from2 = mark();
  const missing = await rollout({ images: `nope=${images.v2}`, workloads: 'deployment/web' });
  expect(missing.exitCode).toBe(1);
  expect(missing.errors.join('\n')).toMatch(/has no container named "nope"/);
  expect(kubernetesWrites(from2)).toEqual([]);
});

withKubectl('an unmapped principal: the 401 names it and how to grant access', async () => {
  const accessKeyId = 'AKIAUNMAPPED00000001';
  aws.identities.add({
    accessKeyId,
    secretAccessKey: 'unmapped-secret',
    policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['eks:DescribeCluster', 'sts:GetCallerIdentity'], Resource: '*' },
      ],
    }),
  });
  const from = mark();
  const run = await rollout(
    { images: `app=${images.v2}`, workloads: 'deployment/web' },
    { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: 'unmapped-secret' },
  );
  expect(run.exitCode).toBe(1);
  const error = run.errors.join('\n');
  expect(error).toMatch(/did not accept arn:aws:(iam|sts)::\d{12}:\S+/);
  expect(error).toMatch(/create-access-entry --cluster-name shop/);
  expect(error).toMatch(/aws-auth/);
  expect(error).not.toContain('unmapped-secret');
  expect(kubernetesWrites(from)).toEqual([]);
});

withKubectl('SIGTERM stops at once, saying what was in flight; the outputs say CANCELLED', async () => {
  // Pods must stay ready 10 simulated minutes to count: the rollout is still going when the signal comes.
  await kubectlApply(deployment('slow', images.v1));
  await kubectl('patch', 'deployment/slow', '-p', '{"spec":{"minReadySeconds":600}}');
  const started = Date.now();
  const run = await runAction('eks-rollout', {
    inputs: { cluster: CLUSTER, images: `app=${images.v2}`, workloads: 'deployment/slow' },
    env: { ...localAwsEnv(aws) },
    timeoutMs: 60_000,
    signalWhen: { line: /^::group::Follow /, signal: 'SIGTERM' },
  });
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(run.exitCode).toBe(1);
  expect(run.outputs['rollout-state']).toBe('CANCELLED');
  expect(run.stdout).toMatch(/Cancelled while following Deployment\/default\/slow/);
  expect(run.summary).toContain('Cancelled while following Deployment/default/slow');
});

withKubectl(
  'a principal with read-only access: the 403 names it, the verb and the resource refused',
  async () => {
    const accessKeyId = 'AKIAVIEWER0000000001';
    aws.identities.add({
      accessKeyId,
      secretAccessKey: 'viewer-secret',
      policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['eks:DescribeCluster', 'sts:GetCallerIdentity'], Resource: '*' },
        ],
      }),
    });
    const principalArn = `arn:aws:iam::${aws.accountId}:user/${accessKeyId}`;
    await grantClusterAccess(aws, CLUSTER, principalArn, { policy: 'AmazonEKSViewPolicy' });
    await kubectlApply(deployment('ro', images.v1));
    const from = mark();
    const run = await rollout(
      { images: `app=${images.v2}`, workloads: 'deployment/ro' },
      { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: 'viewer-secret' },
    );
    expect(run.exitCode).toBe(1);
    const error = run.errors.join('\n');
    expect(error).toContain(`refused ${principalArn}`);
    expect(error).toMatch(/patch deployments\.apps "ro" in namespace "default"/);
    expect(error).toMatch(/mapUsers: userarn/);
    expect(kubernetesWrites(from).filter((op) => !op.includes('selfsubject'))).toEqual([
      'k8s:patch deployments.apps',
    ]);
    expect(run.outputs['rollout-state']).toBe('FAILED');
  },
);

/** A Deployment, a StatefulSet updating only ordinals ≥ 2 (partition), and a DaemonSet, in one file. */
function trio(image: string): string {
  const template = (app: string) => `  selector:
    matchLabels: { app: ${app} }
  template:
    metadata:
      labels: { app: ${app} }
    spec:
      containers:
        - name: app
          image: ${image}`;
  return `apiVersion: v1
kind: Service
metadata: { name: db, namespace: trio }
spec:
  clusterIP: None
  selector: { app: db }
  ports: [{ port: 5432 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: front, namespace: trio }
spec:
  replicas: 2
${template('front')}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, namespace: trio }
spec:
  serviceName: db
  replicas: 3
  updateStrategy: { type: RollingUpdate, rollingUpdate: { partition: 2 } }
${template('db')}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent, namespace: trio }
spec:
${template('agent')}
---
apiVersion: v1
kind: Namespace
metadata: { name: trio }
`;
}

withKubectl(
  'a Deployment, a StatefulSet with a partition and a DaemonSet rolled together, each by its own rule',
  async () => {
    const file = path.join(dir, 'trio.yaml');
    writeFileSync(file, trio(`${host}/team/web:v1`));
    const first = await rollout({ manifests: file });
    expect(first.errors).toEqual([]);
    expect(first.outputs['rollout-state']).toBe('COMPLETED');
    // A reference by digest (the registry has a port). local-aws resolves name@digest, not name:tag@digest.
    const pinned = `${host}/team/web@${digests['v2']}`;
    const run = await rollout({ manifests: file, images: `${host}/team/web=${pinned}` });
    expect(run.errors).toEqual([]);
    expect(run.outputs['rollout-state']).toBe('COMPLETED');
    expect(JSON.parse(run.outputs['revision'] ?? '')).toEqual({
      'Deployment/trio/front': '2',
      'StatefulSet/trio/db': '2',
      'DaemonSet/trio/agent': '2',
    });
    expect(JSON.parse(run.outputs['previous-revision'] ?? '')).toEqual({
      'Deployment/trio/front': '1',
      'StatefulSet/trio/db': '1',
      'DaemonSet/trio/agent': '1',
    });
    expect(run.stdout).toContain('partitioned roll out complete: 1 new pods have been updated...');
    expect(run.stdout).toContain('daemon set "agent" successfully rolled out');
    // kubectl agrees: only ordinal 2 runs v2, and the history has the two revisions.
    const images2 = await kubectl(
      'get',
      'pods',
      '-n',
      'trio',
      '-l',
      'app=db',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.spec.containers[0].image} {end}',
    );
    expect(images2.stdout.trim().split(' ').sort()).toEqual([
      `db-0=${images.v1}`,
      `db-1=${images.v1}`,
      `db-2=${pinned}`,
    ]);
    for (const workload of ['deployment/front', 'statefulset/db', 'daemonset/agent']) {
      const history = await kubectl('rollout', 'history', workload, '-n', 'trio');
      expect(history.stdout).toMatch(/^1\s/m);
      expect(history.stdout).toMatch(/^2\s/m);
    }
  },
);

withKubectl('a DaemonSet that crashes is undone from its ControllerRevisions', async () => {
  const file = path.join(dir, 'agent.yaml');
  const agent = (image: string) => `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent2, namespace: default }
spec:
  minReadySeconds: 30
  selector: { matchLabels: { app: agent2 } }
  template:
    metadata: { labels: { app: agent2 } }
    spec:
      containers: [{ name: app, image: "${image}" }]
`;
  writeFileSync(file, agent(images.v1));
  expect((await rollout({ manifests: file })).outputs['rollout-state']).toBe('COMPLETED');
  const run = await rollout({ manifests: file, images: `app=${images.crash}`, 'max-restarts': '1' });
  expect(run.exitCode).toBe(1);
  expect(run.errors.join('\n')).toMatch(/keeps crashing/);
  expect(run.outputs).toMatchObject({
    'rollout-state': 'ROLLED_BACK',
    'rolled-back': 'true',
    'previous-revision': '1',
    revision: '3',
  });
  expect(
    image(
      await kubectl('get', 'daemonset/agent2', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'),
    ),
  ).toBe(images.v1);
  const history = await kubectl('rollout', 'history', 'daemonset/agent2');
  expect(history.stdout).toMatch(/^3\s/m);
});

function job(name: string, image: string): string {
  return `apiVersion: batch/v1
kind: Job
metadata: { name: ${name} }
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: ${image}
          envFrom: [{ configMapRef: { name: ${name}-config } }]
`;
}

withKubectl(
  'pre-deploy Job: its config applied first, run to completion with its logs printed, then the workload',
  async () => {
    const folder = path.join(dir, 'with-job');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'app.yaml'), deployment('jobbed', `${host}/team/web:v1`));
    writeFileSync(
      path.join(folder, 'config.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: migrate-config, namespace: default}\ndata: {A: b}\n',
    );
    const jobFile = path.join(dir, 'migrate.yaml');
    // The image runs 1 s and exits 0: the repository substitution applies to the Job too.
    writeFileSync(jobFile, job('migrate', `${host}/team/web:v1`));
    await registryTag('done', { 'local-aws.exit-after': '1s', 'local-aws.exit-code': '0' });
    const run = await rollout({
      manifests: folder,
      'pre-deploy-job': jobFile,
      images: `${host}/team/web=${host}/team/web:done`,
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs['rollout-state']).toBe('COMPLETED');
    const stdout = run.stdout;
    expect(stdout.indexOf('applied ConfigMap/default/migrate-config')).toBeLessThan(
      stdout.indexOf('created Job default/migrate'),
    );
    expect(stdout).toMatch(/Logs of migrate-[a-z0-9]+\/migrate:\n\s+container migrate started/);
    expect(stdout.indexOf('the pre-deploy Job migrate completed')).toBeLessThan(
      stdout.indexOf('applied Deployment/default/jobbed'),
    );
    const status = await kubectl('get', 'job/migrate', '-o', 'jsonpath={.status.succeeded}');
    expect(status.stdout).toBe('1');
  },
);

withKubectl('a failing pre-deploy Job stops the step: no workload changed, its logs printed', async () => {
  await kubectlApply(deployment('guarded', images.v1));
  const jobFile = path.join(dir, 'failing.yaml');
  writeFileSync(jobFile, job('failing', images.crash));
  await kubectl('create', 'configmap', 'failing-config', '--from-literal=A=b');
  const from = mark();
  const run = await rollout({
    'pre-deploy-job': jobFile,
    images: `app=${images.v2}`,
    workloads: 'deployment/guarded',
  });
  expect(run.exitCode).toBe(1);
  expect(run.errors.join('\n')).toMatch(
    /pre-deploy-job failing FAILED: BackoffLimitExceeded.*no workload was changed/,
  );
  expect(run.stdout).toMatch(/Logs of failing-[a-z0-9]+\/migrate:\n[\s\S]*?exited with code 3/);
  expect(run.outputs['rollout-state']).toBe('FAILED');
  expect(kubernetesWrites(from)).toEqual(['k8s:create jobs.batch']);
  expect(
    image(
      await kubectl('get', 'deployment/guarded', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'),
    ),
  ).toBe(images.v1);
});

withKubectl('dry-run: the diff of every object, Secrets by key only, nothing written', async () => {
  await kubectlApply(deployment('dry', images.v1));
  await kubectl('create', 'secret', 'generic', 'dry-secret', '--from-literal=password=old-password');
  const file = path.join(dir, 'dry.yaml');
  writeFileSync(
    file,
    `${deployment('dry', images.v1)}---
apiVersion: v1
kind: Secret
metadata: {name: dry-secret, namespace: default}
stringData: {password: new-password, token: abc}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: dry-new, namespace: default}
data: {a: b}
`,
  );
  const from = mark();
  // kubectl applied it (client-side): taking its fields over needs force-conflicts, dry run or not.
  const refused = await rollout({ manifests: file, images: `app=${images.v2}`, 'dry-run': 'true' });
  expect(refused.errors.join('\n')).toMatch(/conflict with "kubectl-client-side-apply"/);
  const run = await rollout({
    manifests: file,
    images: `app=${images.v2}`,
    'dry-run': 'true',
    'force-conflicts': 'true',
  });
  expect(run.errors).toEqual([]);
  expect(run.exitCode).toBe(0);
  expect(run.stdout).toMatch(
    /Deployment\/default\/dry:\n[\s\S]*?-\s+- image: \S+\/team\/web:v1\n\s+\+\s+- image: \S+\/team\/web:v2/,
  );
  expect(run.stdout).toMatch(/ConfigMap\/default\/dry-new:\n\s+\+ apiVersion: v1/);
  expect(run.stdout).toMatch(/Secret\/default\/dry-secret:\n[\s\S]*?\+ {3}password: \(value hidden\)/);
  expect(run.stdout).not.toMatch(/new-password|old-password|bmV3LXBhc3N3b3Jk|b2xkLXBhc3N3b3Jk/);
  expect(run.stdout).toContain('dry-run: nothing was changed in the cluster');
  expect(run.outputs['applied']?.split('\n')).toEqual([
    'Secret/default/dry-secret',
    'ConfigMap/default/dry-new',
    'Deployment/default/dry',
  ]);
  expect(run.outputs['rollout-state']).toBeUndefined();
  // The writes went with dryRun=All: the cluster is as it was.
  expect(kubernetesWrites(from).length).toBeGreaterThan(0);
  expect(
    image(await kubectl('get', 'deployment/dry', '-o', 'jsonpath={.spec.template.spec.containers[0].image}')),
  ).toBe(images.v1);
  expect((await kubectl('get', 'configmap/dry-new')).code).not.toBe(0);
  expect(image(await kubectl('get', 'secret/dry-secret', '-o', 'jsonpath={.data.password}'))).toBe(
    Buffer.from('old-password').toString('base64'),
  );
});

withKubectl(
  'write-kubeconfig: kubectl in a later step reaches the cluster through the action token command, no aws CLI',
  async () => {
    await kubectlApply(deployment('kc', images.v1));
    const file = path.join(dir, 'later', 'kubeconfig');
    const run = await rollout({
      images: `app=${images.v2}`,
      workloads: 'deployment/kc',
      'write-kubeconfig': file,
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs['kubeconfig']).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // A later step: kubectl with only this file and the job's AWS credentials in its environment.
    const home = mkdtempSync(path.join(os.tmpdir(), 'kubectl-later-'));
    const child = spawn(
      KUBECTL,
      [
        '--kubeconfig',
        file,
        'get',
        'deployment/kc',
        '-o',
        'jsonpath={.spec.template.spec.containers[0].image}',
      ],
      {
        env: { PATH: '/usr/bin:/bin', HOME: home, ...localAwsEnv(aws) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    rmSync(home, { recursive: true, force: true });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(images.v2);
    expect(readFileSync(file, 'utf8')).not.toMatch(/k8s-aws-v1\.|SECRET|secret/);
  },
);

withKubectl(
  'a StatefulSet whose new pod cannot pull its image is undone, its broken pod replaced (forced rollback)',
  async () => {
    const file = path.join(dir, 'sts.yaml');
    const sts = (image: string) => `apiVersion: apps/v1
kind: StatefulSet
metadata: { name: store, namespace: default }
spec:
  serviceName: store
  replicas: 2
  selector: { matchLabels: { app: store } }
  template:
    metadata: { labels: { app: store } }
    spec:
      containers: [{ name: app, image: "${image}" }]
`;
    writeFileSync(file, sts(images.v1));
    expect((await rollout({ manifests: file })).outputs['rollout-state']).toBe('COMPLETED');
    const started = Date.now();
    const run = await rollout({ manifests: file, images: `app=${images.missing}` });
    expect(run.errors.join('\n')).toMatch(/store-1: the image \S+ of container app cannot be pulled/);
    expect(run.outputs).toMatchObject({
      'rollout-state': 'ROLLED_BACK',
      'rolled-back': 'true',
      'previous-revision': '1',
    });
    expect(Date.now() - started).toBeLessThan(600_000 / TIME_SCALE);
    const pods = await kubectl(
      'get',
      'pods',
      '-l',
      'app=store',
      '-o',
      'jsonpath={range .items[*]}{.spec.containers[0].image} {end}',
    );
    expect(pods.stdout.trim().split(' ')).toEqual([images.v1, images.v1]);
  },
);

withKubectl(
  'ProgressDeadlineExceeded ends the rollout as kubectl would; the scheduler says why in the diagnosis',
  async () => {
    await kubectlApply(
      deployment('big', images.v1).replace('replicas: 2', 'replicas: 2\n  progressDeadlineSeconds: 60'),
    );
    const run = await rollout({
      manifests: writeTemp(
        'big.yaml',
        deployment('big', images.v1, '          resources: { requests: { cpu: "500" } }\n').replace(
          'replicas: 2',
          'replicas: 2\n  progressDeadlineSeconds: 60',
        ),
      ),
    });
    expect(run.exitCode).toBe(1);
    expect(run.errors.join('\n')).toMatch(/deployment "big" exceeded its progress deadline/);
    expect(run.stdout).toMatch(
      /FailedScheduling \(Pod\/big-[a-z0-9-]+\): 0\/\d+ nodes are available: .*Insufficient cpu/,
    );
    expect(run.outputs).toMatchObject({ 'rollout-state': 'ROLLED_BACK', 'rolled-back': 'true' });
  },
);

withKubectl(
  'client-side apply: kubectl apply of the same files afterwards finds nothing to change; a removed key is removed',
  async () => {
    const folder = path.join(dir, 'client-side');
    mkdirSync(folder, { recursive: true });
    const config = (data: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: csa, namespace: default}\ndata: {${data}}\n`;
    writeFileSync(path.join(folder, 'config.yaml'), config('a: "1", b: "2"'));
    writeFileSync(path.join(folder, 'app.yaml'), deployment('csa', images.v1));
    // No GITHUB_* variables: no change-cause, so the files are exactly what is applied.
    const apply = () =>
      runAction('eks-rollout', {
        inputs: { cluster: CLUSTER, manifests: folder, 'server-side-apply': 'false' },
        env: localAwsEnv(aws),
        timeoutMs: 60_000,
      });
    const first = await apply();
    expect(first.errors).toEqual([]);
    expect(first.outputs['rollout-state']).toBe('COMPLETED');
    expect(first.stdout).toContain('created ConfigMap/default/csa');
    const agreed = await kubectl('apply', '-f', folder);
    expect(agreed.stdout).toMatch(/configmap\/csa unchanged/);
    expect(agreed.stdout).toMatch(/deployment\.apps\/csa unchanged/);
    // A key removed from the file is removed from the object, as kubectl apply removes it.
    writeFileSync(path.join(folder, 'config.yaml'), config('a: "1"'));
    const second = await apply();
    expect(second.stdout).toContain('configured ConfigMap/default/csa');
    expect(second.stdout).toContain('unchanged Deployment/default/csa');
    expect(image(await kubectl('get', 'configmap/csa', '-o', 'jsonpath={.data}'))).toBe('{"a":"1"}');
  },
);

withKubectl('OOMKilled: the last termination says so, in the error and the diagnosis', async () => {
  const oom = await registryTag('oom', { 'local-aws.oom': 'true', 'local-aws.exit-after': '1s' });
  await kubectlApply(
    deployment('oom', images.v1).replace('replicas: 2', 'replicas: 2\n  minReadySeconds: 30'),
  );
  const run = await rollout({ images: `app=${oom}`, workloads: 'deployment/oom', 'max-restarts': '1' });
  expect(run.exitCode).toBe(1);
  expect(run.errors.join('\n')).toMatch(
    /keeps crashing: \d+ restarts \(more than max-restarts 1\), last exit code 137 \(OOMKilled\)/,
  );
  expect(run.stdout).toMatch(
    /Last log lines of oom-[a-z0-9-]+\/app \(previous run\):\n[\s\S]*?killed: out of memory/,
  );
  expect(run.outputs).toMatchObject({ 'rollout-state': 'ROLLED_BACK', 'rolled-back': 'true' });
});

withKubectl(
  'timeout: a rollout still going at the deadline fails with kubectl last sentence, and is undone',
  async () => {
    await kubectlApply(deployment('late', images.v1));
    await kubectl('patch', 'deployment/late', '-p', '{"spec":{"minReadySeconds":3000}}');
    const run = await rollout({ images: `app=${images.v2}`, workloads: 'deployment/late', timeout: '3s' });
    expect(run.exitCode).toBe(1);
    expect(run.errors.join('\n')).toMatch(
      /Deployment\/default\/late failed: timeout after 3 s: Waiting for deployment "late" rollout to finish/,
    );
    expect(run.outputs['previous-revision']).toBe('1');
    // The undo's pods must stay ready as long: it cannot complete within the timeout either, and says so.
    expect(run.outputs).toMatchObject({ 'rollout-state': 'FAILED', 'rolled-back': 'false' });
    expect(run.stdout).toMatch(/late: the undo did not complete: TIMED_OUT/);
    expect(run.summary).toContain('the undo did not complete: TIMED_OUT');
  },
);

withKubectl('manifests without a workload: applied, nothing to follow, COMPLETED', async () => {
  const run = await rollout({
    manifests: writeTemp(
      'only-config.yaml',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: only-config}\ndata: {a: b}\n',
    ),
    namespace: 'default',
  });
  expect(run.errors).toEqual([]);
  expect(run.outputs).toMatchObject({
    'rollout-state': 'COMPLETED',
    applied: 'ConfigMap/default/only-config',
  });
  expect(run.outputs['revision']).toBeUndefined();
  expect(run.stdout).toContain('no workload to follow');
});
