// core's Kubernetes side against local-aws's EKS, judged by local-aws (the token), local-kubernetes
// (the API) and kubectl 1.32: the EKS token made in process is accepted (and refused once expired
// or for another cluster), the client's calls work, a watch survives a server close and a 410,
// undoDeployment does what `kubectl rollout undo` does, and the status rules reach kubectl's verdict.
import { jest } from '@jest/globals';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultNetwork, startLocalAws, type LocalAws } from '@aws-containers/local-aws';
import { findByPath } from '@aws-containers/local-kubernetes';
import {
  KubernetesApiError,
  createKubernetesClient,
  deploymentRolloutStatus,
  describeEksCluster,
  rolloutStatus,
  eksToken,
  eksTokenProvider,
  type KubeObject,
  type KubernetesClient,
  type ResourceRef,
  type WatchEvent,
  undoDeployment,
  undoWorkload,
} from '@aws-containers/core';
import { hasTool, requireTool } from './helpers/tools.js';

jest.setTimeout(120_000);
const run = promisify(execFile);
const KUBECTL = '/usr/bin/kubectl';
const withKubectl = requireTool('kubectl', KUBECTL);

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const ADMIN = { accessKeyId: 'AKIAADMIN', secretAccessKey: 'admin-secret' };
const STRANGER = {
  accessKeyId: 'AKIASTRANGER',
  secretAccessKey: 'stranger-secret',
  arn: `arn:aws:iam::${ACCOUNT}:user/stranger`,
};
/** May list clusters, not describe them. */
const LISTER = {
  accessKeyId: 'AKIALISTER',
  secretAccessKey: 'lister-secret',
  arn: `arn:aws:iam::${ACCOUNT}:user/lister`,
  policy: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'eks:ListClusters', Resource: '*' }],
  },
};
const signal = new AbortController().signal;
const deployments = (name?: string): ResourceRef => ({
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  namespace: 'default',
  ...(name ? { name } : {}),
});

let local: LocalAws;
let eks: EKSClient;
let endpoint: string;
let caPem: string;
let client: KubernetesClient;
let temp: string;
let kubeconfig: string;

/** Advances the simulated clock in steps, giving the controllers and watches real time between. */
async function advance(ms: number, step = 1_000): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    await local.clock.advance(step);
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeAll(async () => {
  local = await startLocalAws({ steppedClock: true, credentials: [ADMIN, STRANGER, LISTER] });
  eks = new EKSClient({ endpoint: local.endpoint, region: REGION, credentials: ADMIN, maxAttempts: 1 });
  const vpc = { subnetIds: defaultNetwork().subnetIds.slice(0, 2) };
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/eks-cluster`;
  await eks.send(new CreateClusterCommand({ name: 'prod', roleArn, resourcesVpcConfig: vpc }));
  await eks.send(new CreateClusterCommand({ name: 'staging', roleArn, resourcesVpcConfig: vpc }));
  await local.clock.advance(10 * 60_000);
  const cluster = await describeEksCluster(eks, 'prod', signal);
  endpoint = cluster.endpoint;
  caPem = cluster.caPem;
  client = createKubernetesClient({
    endpoint,
    caPem,
    token: eksTokenProvider({ cluster: 'prod', region: REGION, credentials: ADMIN, env: {} }),
    userAgent: 'eks-client-test',
  });
  temp = mkdtempSync(join(tmpdir(), 'eks-client-'));
  // kubectl gets its token from a kubeconfig file, never from its command line.
  const { token } = await eksToken({ cluster: 'prod', region: REGION, credentials: ADMIN, env: {} });
  kubeconfig = join(temp, 'kubeconfig');
  writeFileSync(join(temp, 'ca.crt'), caPem);
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'prod', cluster: { server: endpoint, 'certificate-authority': join(temp, 'ca.crt') } },
      ],
      users: [{ name: 'admin', user: { token } }],
      contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'admin', namespace: 'default' } }],
      'current-context': 'prod',
    }),
    { mode: 0o600 },
  );
});
afterAll(async () => {
  await local?.stop();
  if (temp) rmSync(temp, { recursive: true, force: true });
});

function kubectl(...args: string[]) {
  return run(KUBECTL, ['--kubeconfig', kubeconfig, '--request-timeout=20s', ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: temp, KUBECACHEDIR: join(temp, 'cache') },
  });
}

function deployment(name: string, image: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image }] },
      },
      ...extra,
    },
  };
}

describe('EKS authentication', () => {
  test('DescribeCluster gives the endpoint and CA local-aws serves', () => {
    expect(endpoint).toBe(local.admin.eks.endpoint('prod'));
    expect(caPem).toBe(readFileSync(local.caCertPath, 'utf8'));
  });

  test('DescribeCluster errors say what to do: a cluster not in the region, a principal without eks:DescribeCluster', async () => {
    await expect(describeEksCluster(eks, 'nope', signal)).rejects.toThrow(
      /^EKS cluster "nope" was not found in us-east-1\.$/,
    );
    const lister = new EKSClient({
      endpoint: local.endpoint,
      region: REGION,
      credentials: LISTER,
      maxAttempts: 1,
    });
    const denied = (await describeEksCluster(lister, 'prod', signal).catch((e: unknown) => e)) as Error & {
      hint?: string;
    };
    expect(denied.message).toBe(
      `${LISTER.arn} is not allowed eks:DescribeCluster on EKS cluster "prod" in us-east-1.`,
    );
    expect(denied.hint).toContain('eks:DescribeCluster');
  });

  test('a token made in process is accepted; once expired, or for another cluster, it is refused', async () => {
    const version = await client.resources('', 'v1', { signal });
    expect(version.map((r) => r.name)).toEqual(expect.arrayContaining(['pods', 'configmaps', 'namespaces']));
    const refusals = local.admin.eks.authenticationRefusals().length;
    const stale = await eksToken({
      cluster: 'prod',
      region: REGION,
      credentials: ADMIN,
      env: {},
      now: new Date(Date.now() - 16 * 60_000),
    });
    const other = await eksToken({ cluster: 'staging', region: REGION, credentials: ADMIN, env: {} });
    for (const token of [stale.token, other.token]) {
      const refused = createKubernetesClient({ endpoint, caPem, token: () => Promise.resolve(token) });
      const error = await refused.get(deployments('web'), { signal }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KubernetesApiError);
      expect((error as KubernetesApiError).status).toBe(401);
      expect((error as KubernetesApiError).message).toBe(
        'Unauthorized: the cluster did not accept the credentials (get deployments.apps "web" in namespace "default")',
      );
      expect((error as Error).message).not.toContain(token);
    }
    // Each refused call is sent once more with the token asked anew (the same here): two refusals each.
    expect(local.admin.eks.authenticationRefusals().length).toBe(refusals + 4);
  });

  test('a token presigned against AWS_ENDPOINT_URL (local-aws itself, as get-token --endpoint-url) is accepted', async () => {
    const viaLocal = createKubernetesClient({
      endpoint,
      caPem,
      token: eksTokenProvider({
        cluster: 'prod',
        region: REGION,
        credentials: ADMIN,
        env: { AWS_ENDPOINT_URL: local.endpoint },
      }),
    });
    const token = (
      await eksToken({
        cluster: 'prod',
        region: REGION,
        credentials: ADMIN,
        env: { AWS_ENDPOINT_URL: local.endpoint },
      })
    ).token;
    expect(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString()).toMatch(
      new RegExp(`^${local.endpoint}/\\?`),
    );
    expect((await viaLocal.list(deployments(), { signal })).items).toBeDefined();
  });

  test('a principal nothing maps is refused 401 (the action adds who and how to grant it)', async () => {
    const stranger = createKubernetesClient({
      endpoint,
      caPem,
      token: eksTokenProvider({ cluster: 'prod', region: REGION, credentials: STRANGER, env: {} }),
    });
    await expect(stranger.list(deployments(), { signal })).rejects.toMatchObject({
      status: 401,
      verb: 'list',
      resource: 'deployments.apps in namespace "default"',
    });
  });
});

describe('the client', () => {
  test('apply, get, find, list, patch, delete', async () => {
    const applied = await client.apply(deployments('crud'), deployment('crud', 'registry.example/crud:v1'), {
      signal,
      fieldManager: 'aws-containers',
    });
    expect(applied.metadata.uid).toBeTruthy();
    const got = await client.get<KubeObject & { spec: { replicas: number } }>(deployments('crud'), {
      signal,
    });
    expect(got.spec.replicas).toBe(2);
    expect(await client.find(deployments('nope'), { signal })).toBeUndefined();
    const missing = await client.get(deployments('nope'), { signal }).catch((e: unknown) => e);
    expect(missing).toMatchObject({
      status: 404,
      reason: 'NotFound',
      request: 'GET ' + new URL(endpoint).pathname + '/apis/apps/v1/namespaces/default/deployments/nope',
    });
    const listed = await client.list(deployments(), { signal, labelSelector: '' });
    expect(listed.items.map((d) => d.metadata.name)).toContain('crud');
    expect(listed.resourceVersion).toMatch(/^\d+$/);
    for (const [type, patch] of [
      ['merge', { spec: { replicas: 3 } }],
      [
        'strategic',
        {
          spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example/crud:v2' }] } } },
        },
      ],
      ['json', [{ op: 'replace', path: '/spec/replicas', value: 4 }]],
    ] as const) {
      await client.patch(deployments('crud'), patch, { signal, type });
    }
    const patched = await client.get<
      KubeObject & {
        spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } };
      }
    >(deployments('crud'), { signal });
    expect(patched.spec.replicas).toBe(4);
    expect(patched.spec.template.spec.containers[0]!.image).toBe('registry.example/crud:v2');
    // Server-side dry run changes nothing.
    await client.apply(deployments('crud'), deployment('crud', 'registry.example/crud:v9'), {
      signal,
      fieldManager: 'aws-containers',
      force: true,
      dryRun: true,
    });
    expect(
      (await client.get<typeof patched>(deployments('crud'), { signal })).spec.template.spec.containers[0]!
        .image,
    ).toBe('registry.example/crud:v2');
    const conflict = await client
      .apply(deployments('crud'), deployment('crud', 'registry.example/crud:v3'), {
        signal,
        fieldManager: 'someone-else',
      })
      .catch((e: unknown) => e);
    expect(conflict).toMatchObject({ status: 409, reason: 'Conflict' });
    await client.delete(deployments('crud'), { signal, propagationPolicy: 'Foreground' });
    await advance(5_000);
    expect(await client.find(deployments('crud'), { signal })).toBeUndefined();
  });

  test('create, and pod logs (tail, container)', async () => {
    const cm = await client.create(
      { group: '', version: 'v1', plural: 'configmaps', namespace: 'default' },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings' },
        data: { a: '1' },
      },
      { signal },
    );
    expect(cm.metadata.name).toBe('settings');
    await client.apply(
      deployments('talker'),
      deployment('talker', 'registry.example/talker:v1', { replicas: 1 }),
      { signal, fieldManager: 'aws-containers' },
    );
    await advance(20_000);
    const pods = await client.list(
      { group: '', version: 'v1', plural: 'pods', namespace: 'default' },
      { signal, labelSelector: 'app=talker' },
    );
    expect(pods.items).toHaveLength(1);
    const pod = pods.items[0]!;
    // What the container wrote, then a restart and a few lines of the new instance.
    const logs = local.admin.eks.kubernetes('prod')!.logs;
    const name = pod.metadata.name;
    const now = local.clock.now();
    for (let i = 1; i <= 30; i++) logs.append('default', name, 'app', { time: now, text: `old line ${i}` });
    logs.restarted('default', name, 'app');
    for (let i = 1; i <= 3; i++) logs.append('default', name, 'app', { time: now, text: `new line ${i}` });
    const ref = { group: '', version: 'v1', plural: 'pods', namespace: 'default', name };
    // The kubelet would say so after a crash: the container's last state, through pods/status.
    const statuses = (pod.status as { containerStatuses: Array<Record<string, unknown>> }).containerStatuses;
    const terminated = {
      exitCode: 1,
      reason: 'Error',
      startedAt: '2026-01-01T00:00:00Z',
      finishedAt: '2026-01-01T00:00:01Z',
    };
    await client.patch(
      { ...ref, subresource: 'status' },
      [
        {
          op: 'replace',
          path: '/status/containerStatuses',
          value: statuses.map((c) => ({ ...c, lastState: { terminated } })),
        },
      ],
      { signal, type: 'json' },
    );
    const previous = await client.logs(ref, { signal, container: 'app', previous: true, tailLines: 20 });
    expect(previous.trimEnd().split('\n')).toEqual(
      Array.from({ length: 20 }, (_, i) => `old line ${i + 11}`),
    );
    const current = await client.logs(ref, { signal, container: 'app' });
    expect(current).toContain('new line 3');
    expect(current).not.toContain('old line');
    if (hasTool(KUBECTL)) {
      const { stdout } = await kubectl('logs', name, '-c', 'app', '--previous', '--tail=20');
      expect(previous).toBe(stdout);
    }
  });
});

describe('retries, as client-go does them', () => {
  const gets = () =>
    local.opLog
      .entries({ service: 'eks' })
      .filter((e) => e.operation === 'k8s' || e.operation.startsWith('k8s:get deployments'));
  test('429 is retried after its Retry-After, for every verb; 5xx and dropped connections for idempotent ones only', async () => {
    await client.apply(deployments('retried'), deployment('retried', 'registry.example/r:v1'), {
      signal,
      fieldManager: 'aws-containers',
    });
    const before = gets().length;
    const throttled = local.faults.arm({ kind: 'throttling', service: 'eks', operation: 'k8s', count: 2 });
    const started = Date.now();
    await expect(client.get(deployments('retried'), { signal })).resolves.toMatchObject({
      metadata: { name: 'retried' },
    });
    // Retry-After: 1, twice.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(gets().length - before).toBe(3);
    local.faults.disarm(throttled.id);

    const throttledPatch = local.faults.arm({
      kind: 'throttling',
      service: 'eks',
      operation: 'k8s',
      count: 1,
    });
    await client.patch(deployments('retried'), { spec: { replicas: 1 } }, { signal, type: 'merge' });
    local.faults.disarm(throttledPatch.id);

    for (const kind of ['unavailable', 'internal-error', 'drop'] as const) {
      const fault = local.faults.arm({ kind, service: 'eks', operation: 'k8s', count: 1 });
      await expect(client.get(deployments('retried'), { signal })).resolves.toMatchObject({
        metadata: { name: 'retried' },
      });
      local.faults.disarm(fault.id);
    }
    // A patch is not repeated after a 503: the error is the server's Status.
    const unavailable = local.faults.arm({ kind: 'unavailable', service: 'eks', operation: 'k8s', count: 1 });
    await expect(
      client.patch(deployments('retried'), { spec: { replicas: 2 } }, { signal, type: 'merge' }),
    ).rejects.toMatchObject({
      status: 503,
      reason: 'ServiceUnavailable',
      verb: 'patch',
    });
    local.faults.disarm(unavailable.id);
  });

  test('a request past its deadline, and the step signal, end the call', async () => {
    const slow = createKubernetesClient({
      endpoint,
      caPem,
      token: eksTokenProvider({ cluster: 'prod', region: REGION, credentials: ADMIN, env: {} }),
      requestTimeoutMs: 300,
      maxAttempts: 2,
      sleep: () => Promise.resolve(),
    });
    const latency = local.faults.arm({
      kind: 'latency',
      service: 'eks',
      operation: 'k8s',
      count: 5,
      latencyMs: 2_000,
    });
    await expect(slow.get(deployments('retried'), { signal })).rejects.toThrow(/no answer in 300 ms/);
    const controller = new AbortController();
    const call = client.get(deployments('retried'), { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    local.faults.disarm(latency.id);
  });
});

describe('watches', () => {
  test('a watch sees changes, survives the server closing it and a 410, and ends with the signal', async () => {
    await client.apply(
      deployments('watched'),
      deployment('watched', 'registry.example/w:v1', { replicas: 1 }),
      { signal, fieldManager: 'aws-containers' },
    );
    const { resourceVersion } = await client.list(deployments(), { signal });
    const controller = new AbortController();
    // The server ends each watch after one second (its timeoutSeconds): the client goes on.
    const watcher = createKubernetesClient({
      endpoint,
      caPem,
      token: eksTokenProvider({ cluster: 'prod', region: REGION, credentials: ADMIN, env: {} }),
      watchTimeoutSeconds: 1,
    });
    const calls = (operation: string) => local.opLog.entries({ service: 'eks', operation }).length;
    const lists = calls('k8s:list deployments.apps');
    const watches = calls('k8s:watch deployments.apps');
    const seen: Array<WatchEvent> = [];
    const done = (async () => {
      for await (const event of watcher.watch(deployments('watched'), {
        signal: controller.signal,
        resourceVersion,
      })) {
        seen.push(event);
      }
    })();
    const replicasSeen = (n: number) =>
      seen.some(
        (e) => e.type !== 'BOOKMARK' && (e.object as { spec?: { replicas?: number } }).spec?.replicas === n,
      );
    const until = async (check: () => boolean) => {
      for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(check()).toBe(true);
    };
    await client.patch(deployments('watched'), { spec: { replicas: 2 } }, { signal, type: 'merge' });
    await until(() => replicasSeen(2));
    // Past the server's timeout: the client reconnected from the last version it saw.
    await new Promise((r) => setTimeout(r, 1_500));
    await client.patch(deployments('watched'), { spec: { replicas: 3 } }, { signal, type: 'merge' });
    await until(() => replicasSeen(3));
    // The server forgets its history (etcd's compaction): the next reconnection gets 410 Gone, lists again.
    const store = local.admin.eks.kubernetes('prod')!.store as unknown as { history: unknown[] };
    await client.patch(deployments('watched'), { spec: { replicas: 4 } }, { signal, type: 'merge' });
    await until(() => replicasSeen(4));
    // A change this watch does not see, then the history is gone: reconnecting from the last
    // version seen is answered 410, the client lists again (MODIFIED) and watches from the list.
    await client.apply(deployments('other'), deployment('other', 'registry.example/o:v1'), {
      signal,
      fieldManager: 'aws-containers',
    });
    store.history.length = 0;
    const before = seen.length;
    await until(() => seen.length > before && calls('k8s:list deployments.apps') > lists);
    expect(seen.at(-1)).toMatchObject({
      type: 'MODIFIED',
      object: { metadata: { name: 'watched' }, spec: { replicas: 4 } },
    });
    await client.patch(deployments('watched'), { spec: { replicas: 5 } }, { signal, type: 'merge' });
    await until(() => replicasSeen(5));
    controller.abort();
    await done;
    expect(seen.every((e) => e.object.metadata.name === 'watched')).toBe(true);
    // Reconnected at least after each server close, and listed again once for the 410.
    expect(calls('k8s:watch deployments.apps') - watches).toBeGreaterThanOrEqual(3);
    expect(calls('k8s:list deployments.apps') - lists).toBeGreaterThanOrEqual(1);
  });
});

type Deployment = KubeObject & {
  spec: { template: { spec: { containers: Array<{ image: string }> } } };
};

/** Sets the image as `kubectl set image` would (a strategic merge patch) and records a change cause. */
async function setImage(name: string, image: string): Promise<void> {
  await client.patch(
    deployments(name),
    {
      metadata: { annotations: { 'kubernetes.io/change-cause': `image ${image}` } },
      spec: { template: { spec: { containers: [{ name: 'app', image }] } } },
    },
    { signal, type: 'strategic' },
  );
}

/** Moves the clock until the Deployment's rollout is done by the rules (a minute at most). */
async function settle(name: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (deploymentRolloutStatus(await client.get(deployments(name), { signal })).done) return;
    await advance(1_000, 500);
  }
  throw new Error(`${name} did not roll out`);
}

/** What `kubectl rollout history` shows, without the header: "revision  change-cause" pairs. */
async function history(name: string): Promise<string[]> {
  const { stdout } = await kubectl('rollout', 'history', `deployment/${name}`);
  return stdout
    .split('\n')
    .slice(2)
    .map((line) => line.trim().replace(/\s+/g, ' '))
    .filter(Boolean);
}

describe('watches across a gap', () => {
  test('an object deleted while the watch was down comes as DELETED after the 410 relist', async () => {
    for (const name of ['gap-a', 'gap-b']) {
      const d = deployment(name, 'registry.example/gap:v1', { replicas: 0 });
      d.metadata.labels = { gap: 'yes' };
      await client.apply(deployments(name), d, { signal, fieldManager: 'aws-containers' });
    }
    const controller = new AbortController();
    const watcher = createKubernetesClient({
      endpoint,
      caPem,
      token: eksTokenProvider({ cluster: 'prod', region: REGION, credentials: ADMIN, env: {} }),
      watchTimeoutSeconds: 1,
    });
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of watcher.watch(deployments(), {
        signal: controller.signal,
        labelSelector: 'gap=yes',
      }))
        if (e.type !== 'BOOKMARK') seen.push(`${e.type} ${e.object.metadata.name}`);
    })();
    const until = async (check: () => boolean) => {
      for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(check()).toBe(true);
    };
    await until(() => seen.includes('ADDED gap-a') && seen.includes('ADDED gap-b'));
    // The watch's reconnections fail for a while (503s, retried with back-off) …
    const lists = () =>
      local.opLog.entries({ service: 'eks', operation: 'k8s:list deployments.apps' }).length;
    const listsBefore = lists();
    const outage = local.faults.arm({ kind: 'unavailable', service: 'eks', operation: 'k8s', count: 6 });
    await new Promise((r) => setTimeout(r, 1_300));
    // … while gap-b goes away and the server forgets its history.
    const cluster = local.admin.eks.kubernetes('prod')!;
    cluster.store.delete(findByPath('apps', 'v1', 'deployments')!, 'default', 'gap-b');
    (cluster.store as unknown as { history: unknown[] }).history.length = 0;
    local.faults.disarm(outage.id);
    await until(() => seen.includes('DELETED gap-b'));
    expect(seen.filter((e) => e.endsWith('gap-b'))).toEqual(['ADDED gap-b', 'DELETED gap-b']);
    expect(seen).toContain('MODIFIED gap-a');
    expect(lists()).toBe(listsBefore + 1);
    controller.abort();
    await done;
  });
});

describe('a rollout longer than a token', () => {
  test('the provider signs again before 15 minutes on the cluster clock; a token kept is refused', async () => {
    const timed = await startLocalAws({
      steppedClock: true,
      signatureClock: 'simulated',
      credentials: [ADMIN],
    });
    try {
      const eksTimed = new EKSClient({ endpoint: timed.endpoint, region: REGION, credentials: ADMIN });
      await eksTimed.send(
        new CreateClusterCommand({
          name: 'long',
          roleArn: `arn:aws:iam::${ACCOUNT}:role/eks-cluster`,
          resourcesVpcConfig: { subnetIds: defaultNetwork().subnetIds.slice(0, 2) },
        }),
      );
      await timed.clock.advance(10 * 60_000);
      const cluster = await describeEksCluster(eksTimed, 'long', signal);
      const clock = () => new Date(timed.clock.now());
      const refreshing = createKubernetesClient({
        endpoint: cluster.endpoint,
        caPem: cluster.caPem,
        token: eksTokenProvider({ cluster: 'long', region: REGION, credentials: ADMIN, env: {}, clock }),
      });
      const kept = (
        await eksToken({ cluster: 'long', region: REGION, credentials: ADMIN, env: {}, now: clock() })
      ).token;
      const keeping = createKubernetesClient({
        endpoint: cluster.endpoint,
        caPem: cluster.caPem,
        token: () => Promise.resolve(kept),
      });
      for (const c of [refreshing, keeping]) await c.list(deployments(), { signal });
      for (let minute = 1; minute <= 20; minute++) {
        await timed.clock.advance(60_000);
        await refreshing.list(deployments(), { signal });
      }
      await expect(keeping.list(deployments(), { signal })).rejects.toMatchObject({ status: 401 });
      expect(timed.admin.eks.authenticationRefusals().at(-1)?.reason).toBe(
        'X-Amz-Date parameter is expired (15 minute expiration)',
      );
      // The refreshing client was never refused; the keeping one twice (its retry asks its fixed token again).
      expect(timed.admin.eks.authenticationRefusals()).toHaveLength(2);
    } finally {
      await timed.stop();
    }
  });
});

describe('kubectl as the judge', () => {
  withKubectl('undoDeployment does what `kubectl rollout undo` does on a twin Deployment', async () => {
    const twins = ['twin-ours', 'twin-kubectl'];
    for (const name of twins) {
      await client.apply(deployments(name), deployment(name, 'registry.example/twin:v1'), {
        signal,
        fieldManager: 'aws-containers',
      });
    }
    for (const name of twins) await settle(name);
    for (const image of ['registry.example/twin:v2', 'registry.example/twin:v3']) {
      for (const name of twins) await setImage(name, image);
      for (const name of twins) await settle(name);
    }
    const undo = async (to?: number) => {
      const ours = await undoDeployment(client, deployments('twin-ours'), signal, to);
      const { stdout } = await kubectl(
        'rollout',
        'undo',
        'deployment/twin-kubectl',
        ...(to === undefined ? [] : [`--to-revision=${to}`]),
      );
      expect(stdout.trim()).toBe(`deployment.apps/twin-kubectl ${ours.message}`);
      for (const name of twins) await settle(name);
      return ours;
    };
    const compare = async () => {
      const [ours, theirs] = await Promise.all(
        twins.map((n) => client.get<Deployment>(deployments(n), { signal })),
      );
      expect(ours!.spec.template.spec.containers).toEqual(theirs!.spec.template.spec.containers);
      const annotations = (d: KubeObject) => d.metadata.annotations;
      expect(annotations(ours!)).toEqual(annotations(theirs!));
      expect(await history('twin-ours')).toEqual(await history('twin-kubectl'));
      return ours!;
    };
    // Back to the previous revision (2): it becomes revision 4.
    expect(await undo()).toEqual({ revision: 2, skipped: false, message: 'rolled back' });
    let ours = await compare();
    expect(ours.spec.template.spec.containers[0]!.image).toBe('registry.example/twin:v2');
    expect(ours.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('4');
    expect(await history('twin-ours')).toEqual([
      '1 <none>',
      '3 image registry.example/twin:v3',
      '4 image registry.example/twin:v2',
    ]);
    // To a revision asked (1).
    expect(await undo(1)).toMatchObject({ revision: 1, skipped: false });
    ours = await compare();
    expect(ours.spec.template.spec.containers[0]!.image).toBe('registry.example/twin:v1');
    // The previous revision's template is the current one's: both skip.
    await kubectl('rollout', 'undo', 'deployment/twin-kubectl', '--to-revision=4');
    await undoDeployment(client, deployments('twin-ours'), signal, 4);
    for (const name of twins) await settle(name);
    await compare();
    const skip = await undo(6);
    expect(skip).toEqual({
      revision: 6,
      skipped: true,
      message: 'skipped rollback (current template already matches revision 6)',
    });
    await compare();
    // A paused Deployment is refused in kubectl's words.
    for (const name of twins)
      await client.patch(deployments(name), { spec: { paused: true } }, { signal, type: 'merge' });
    const refused = (await undoDeployment(client, deployments('twin-ours'), signal).catch(
      (e: unknown) => e,
    )) as Error;
    const theirs = await kubectl('rollout', 'undo', 'deployment/twin-kubectl').catch(
      (e: { stderr: string }) => e,
    );
    expect((theirs as { stderr: string }).stderr.trim()).toBe(
      `error: ${refused.message.replace('twin-ours', 'twin-kubectl')}`,
    );
  });

  withKubectl(
    "the status rules give kubectl's sentence on the same objects, through a rollout and a failure",
    async () => {
      const name = 'judged';
      const seen = new Set<string>();
      /** Our verdict and `kubectl rollout status --watch=false`'s on one unchanged object. */
      const judge = async (): Promise<boolean> => {
        for (;;) {
          const before = await client.get(deployments(name), { signal });
          const kubectlSaid = await kubectl('rollout', 'status', `deployment/${name}`, '--watch=false').then(
            (r) => r.stdout.trim(),
            (e: { stderr: string }) => e.stderr.trim(),
          );
          const after = await client.get(deployments(name), { signal });
          if (before.metadata.resourceVersion !== after.metadata.resourceVersion) continue;
          const ours = deploymentRolloutStatus(after);
          expect(ours.failed ? `error: ${ours.failed}` : ours.message).toBe(kubectlSaid);
          seen.add(
            ours.failed ? 'failed' : (ours.message.split(':')[1] ?? ours.message).replace(/\d+/g, 'N').trim(),
          );
          return ours.done || ours.failed !== undefined;
        }
      };
      const follow = async () => {
        for (let i = 0; i < 200; i++) {
          if (await judge()) return;
          await advance(1_000, 500);
        }
        throw new Error('no verdict');
      };
      await client.apply(
        deployments(name),
        deployment(name, 'registry.example/judged:v1', {
          replicas: 3,
          progressDeadlineSeconds: 30,
          strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        }),
        { signal, fieldManager: 'aws-containers' },
      );
      await follow();
      await setImage(name, 'registry.example/judged:v2');
      await follow();
      local.admin.ecs.setUnpullable('registry.example/judged:gone');
      await setImage(name, 'registry.example/judged:gone');
      await follow();
      expect(seen).toContain('failed');
      expect(seen.size).toBeGreaterThanOrEqual(3);
    },
  );

  const workloads = {
    statefulset: { plural: 'statefulsets', extra: { serviceName: 'x', replicas: 2 } },
    daemonset: { plural: 'daemonsets', extra: {} },
  } as const;
  const workload = (kind: keyof typeof workloads, name: string, image: string): KubeObject => {
    const spec = deployment(name, image).spec as Record<string, unknown>;
    delete spec.replicas;
    return {
      apiVersion: 'apps/v1',
      kind: kind === 'statefulset' ? 'StatefulSet' : 'DaemonSet',
      metadata: { name, namespace: 'default' },
      spec: { ...spec, ...workloads[kind].extra },
    };
  };

  for (const kind of ['statefulset', 'daemonset'] as const) {
    withKubectl(
      `undo of a ${kind} (ControllerRevisions) and its status sentences match kubectl on a twin`,
      async () => {
        const ref = (name: string): ResourceRef => ({
          group: 'apps',
          version: 'v1',
          plural: workloads[kind].plural,
          namespace: 'default',
          name,
        });
        const twins = [`${kind}-ours`, `${kind}-kubectl`];
        /** Our sentence and kubectl's on the same unchanged object; true when done. */
        const judge = async (name: string): Promise<boolean> => {
          for (;;) {
            const before = await client.get(ref(name), { signal });
            const said = await kubectl('rollout', 'status', `${kind}/${name}`, '--watch=false').then(
              (r) => r.stdout.trim(),
              (e: { stderr: string }) => e.stderr.trim(),
            );
            const after = await client.get(ref(name), { signal });
            if (before.metadata.resourceVersion !== after.metadata.resourceVersion) continue;
            const ours = rolloutStatus(after)!;
            expect(ours.failed ? `error: ${ours.failed}` : ours.message).toBe(said);
            return ours.done;
          }
        };
        const settle = async (name: string) => {
          for (let i = 0; i < 200; i++) {
            if (await judge(name)) return;
            await advance(1_000, 500);
          }
          throw new Error(`${name} did not roll out`);
        };
        const setImage = (name: string, image: string) =>
          client.patch(
            ref(name),
            { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } },
            {
              signal,
              type: 'strategic',
            },
          );
        for (const name of twins) {
          await client.apply(ref(name), workload(kind, name, `registry.example/${kind}:v1`), {
            signal,
            fieldManager: 'aws-containers',
          });
        }
        for (const name of twins) await settle(name);
        for (const image of [`registry.example/${kind}:v2`, `registry.example/${kind}:v3`]) {
          for (const name of twins) await setImage(name, image);
          for (const name of twins) await settle(name);
        }
        const images = async (name: string) =>
          (await client.get<Deployment>(ref(name), { signal })).spec.template.spec.containers.map(
            (c) => c.image,
          );
        const undo = async (to?: number) => {
          const ours = await undoWorkload(client, ref(twins[0]!), signal, to);
          const { stdout } = await kubectl(
            'rollout',
            'undo',
            `${kind}/${twins[1]}`,
            ...(to === undefined ? [] : [`--to-revision=${to}`]),
          );
          // kubectl compares the revision's raw bytes with json.Marshal of the live template, which
          // carries Go's zero values (creationTimestamp: null, resources: {}) that local-kubernetes
          // does not store: it never sees a match and sends its (no-op) patch. When ours skips, only
          // the outcome is compared.
          if (ours.skipped) expect(stdout.trim()).toBe(`${kind}.apps/${twins[1]} rolled back`);
          else expect(stdout.trim()).toBe(`${kind}.apps/${twins[1]} ${ours.message}`);
          for (const name of twins) await settle(name);
          expect(await images(twins[0]!)).toEqual(await images(twins[1]!));
          const revisions = async (name: string) =>
            (await kubectl('rollout', 'history', `${kind}/${name}`)).stdout
              .split('\n')
              .slice(2)
              .map((l) => l.trim().split(/\s+/)[0])
              .filter(Boolean);
          expect(await revisions(twins[0]!)).toEqual(await revisions(twins[1]!));
          return ours;
        };
        expect(await undo()).toEqual({ revision: 2, skipped: false, message: 'rolled back' });
        expect(await images(twins[0]!)).toEqual([`registry.example/${kind}:v2`]);
        expect(await undo(1)).toMatchObject({ revision: 1, skipped: false });
        expect(await images(twins[0]!)).toEqual([`registry.example/${kind}:v1`]);
        expect(await undo(5)).toMatchObject({ revision: 5, skipped: true });
      },
    );
  }

  withKubectl("a StatefulSet's partition: kubectl's sentences while the pods above it update", async () => {
    const ref: ResourceRef = {
      group: 'apps',
      version: 'v1',
      plural: 'statefulsets',
      namespace: 'default',
      name: 'parted',
    };
    const sts = workload('statefulset', 'parted', 'registry.example/parted:v1');
    (sts.spec as Record<string, unknown>).replicas = 4;
    (sts.spec as Record<string, unknown>).updateStrategy = {
      type: 'RollingUpdate',
      rollingUpdate: { partition: 2 },
    };
    await client.apply(ref, sts, { signal, fieldManager: 'aws-containers' });
    const messages = new Set<string>();
    const follow = async () => {
      for (let i = 0; i < 300; i++) {
        const before = await client.get(ref, { signal });
        const said = (
          await kubectl('rollout', 'status', 'statefulset/parted', '--watch=false')
        ).stdout.trim();
        const after = await client.get(ref, { signal });
        if (before.metadata.resourceVersion !== after.metadata.resourceVersion) continue;
        const ours = rolloutStatus(after)!;
        expect(ours.message).toBe(said);
        messages.add(ours.message);
        if (ours.done) return;
        await advance(1_000, 500);
      }
      throw new Error('no verdict');
    };
    await follow();
    await client.patch(
      ref,
      {
        spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example/parted:v2' }] } } },
      },
      { signal, type: 'strategic' },
    );
    await follow();
    expect([...messages]).toEqual(
      expect.arrayContaining(['partitioned roll out complete: 2 new pods have been updated...']),
    );
  });
});
