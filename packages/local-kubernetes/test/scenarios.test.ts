// The rollouts, end to end: the API server and the controllers of one cluster on a stepped
// clock, judged by kubectl 1.32 — `kubectl rollout status` must reach the simulation's verdict, at
// the simulated time the controllers reach it. Images resolve from a table (digest and labels, the
// labels scripting containers as local-aws's do); an image not in it fails to pull.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { createKubernetesCluster, type ImageInfo, type KubernetesCluster } from '../src/index.js';
import { findByPath } from '../src/resources.js';
import { startKubernetesServer, type KubernetesServer } from '../src/testing.js';
import { requireTool } from '../../../test/helpers/tools.js';
import { KUBECTL, kubectlFor, type Kubectl, type KubectlResult } from './helpers/kubectl.js';
import { SteppedClock } from './helpers/stepped-clock.js';
import { selfSignedCertificate } from './helpers/tls.js';

jest.setTimeout(120_000);
const withKubectl = requireTool('kubectl', KUBECTL);

const deployments = findByPath('apps', 'v1', 'deployments')!;
const replicasets = findByPath('apps', 'v1', 'replicasets')!;

const GOOD_V1 = 'registry.example/web:v1';
const GOOD_V2 = 'registry.example/web:v2';
const CRASHING = 'registry.example/web:crash';
const MISSING = 'registry.example/web:missing';

let clock: SteppedClock;
let cluster: KubernetesCluster;
let server: KubernetesServer;
let kubectl: Kubectl;
/** kubectl run directly (rollout status needs both streams while it runs). */
let kubectlBase: string[];
let kubectlEnv: Record<string, string>;
let kubectlHome: string;

beforeAll(async () => {
  clock = new SteppedClock();
  const images = new Map<string, ImageInfo>();
  const add = (reference: string, labels: Record<string, string> = {}) =>
    images.set(reference, {
      digest: `sha256:${createHash('sha256').update(reference).digest('hex')}`,
      labels,
    });
  add(GOOD_V1);
  add(GOOD_V2);
  add(CRASHING, { 'local-aws.exit-after': '2s', 'local-aws.exit-code': '3' });
  cluster = createKubernetesCluster({ clock, resolveImage: async (reference) => images.get(reference) });
  server = await startKubernetesServer({ cluster, tls: selfSignedCertificate() });
  kubectl = kubectlFor(server.url);
  kubectlHome = mkdtempSync(join(tmpdir(), 'kubectl-scenarios-'));
  kubectlEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: kubectlHome,
    KUBECACHEDIR: join(kubectlHome, 'cache'),
    KUBECONFIG: join(kubectlHome, 'none'),
  };
  kubectlBase = ['--server', server.url, '--token', 'admin-token', '--insecure-skip-tls-verify=true'];
});
afterAll(async () => {
  kubectl?.cleanup();
  if (kubectlHome) rmSync(kubectlHome, { recursive: true, force: true });
  await server?.stop();
  cluster?.stop();
});

const manifest = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 3
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: app
          image: ${image}
`;

/** Simulated seconds since the clock's start. */
const start = () => clock.now();

/**
 * Runs `kubectl rollout status` while the simulated clock moves forward `stepMs` at a time (each
 * step after the watch had a moment to see the last one), until kubectl gives its verdict; returns
 * it with the simulated ms it took.
 */
async function rolloutStatus(
  stepMs: number,
  limitMs: number,
  resource = 'deployment/web',
): Promise<{ result: KubectlResult; atMs: number }> {
  const from = clock.now();
  const child = spawn(
    KUBECTL,
    [...kubectlBase, 'rollout', 'status', resource, '-n', 'default', '--timeout=0'],
    { env: kubectlEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let code: number | null | undefined;
  const closed = new Promise<void>((resolve) =>
    child.on('close', (c) => {
      code = c;
      resolve();
    }),
  );
  while (code === undefined && clock.now() - from < limitMs) {
    // Real time for kubectl's watch to see the last step, then the next simulated step.
    await new Promise((r) => setTimeout(r, 60));
    if (code !== undefined) break;
    await clock.advance(stepMs);
  }
  const atMs = clock.now() - from;
  await Promise.race([closed, new Promise((r) => setTimeout(r, 5_000))]);
  if (code === undefined) child.kill('SIGKILL');
  await closed;
  return { result: { code: code ?? null, stdout, stderr }, atMs };
}

function condition(type: string): Record<string, string> | undefined {
  const deployment = cluster.store.get(deployments, 'default', 'web');
  const conditions = (deployment?.status as { conditions?: Array<Record<string, string>> })?.conditions ?? [];
  return conditions.find((c) => c.type === type);
}

const replicaSetNames = () =>
  cluster.store
    .list(replicasets, 'default')
    .map((rs) => `${rs.metadata.name} rev ${rs.metadata.annotations?.['deployment.kubernetes.io/revision']}`);

withKubectl(
  'a rolling update to success: kubectl rollout status says so once the new ReplicaSet is available',
  async () => {
    const applied = await kubectl(['apply', '-f', '-'], { stdin: manifest(GOOD_V1) });
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toBe('deployment.apps/web created\n');
    const first = await rolloutStatus(2_000, 120_000);
    expect(first.result.stdout).toContain('deployment "web" successfully rolled out');
    expect(first.result.code).toBe(0);

    const set = await kubectl(['set', 'image', 'deployment/web', `app=${GOOD_V2}`, '-n', 'default']);
    expect(set.stdout).toBe('deployment.apps/web image updated\n');
    const second = await rolloutStatus(2_000, 120_000);
    expect(second.result.stdout).toMatch(
      /Waiting for deployment "web" rollout to finish: \d+ (out of 3 new replicas have been updated|old replicas are pending termination|of 3 updated replicas are available)/,
    );
    expect(second.result.stdout).toContain('deployment "web" successfully rolled out');
    expect(condition('Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
    expect(replicaSetNames()).toHaveLength(2);
    const table = await kubectl(['get', 'deployment', 'web', '-n', 'default']);
    expect(table.stdout).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+3\/3\s+3\s+3\s+\S+\n$/);
  },
);

withKubectl(
  'an image that cannot be pulled: ImagePullBackOff until ProgressDeadlineExceeded, which kubectl reports at 600 s',
  async () => {
    const updatedAt = start();
    const set = await kubectl(['set', 'image', 'deployment/web', `app=${MISSING}`, '-n', 'default']);
    expect(set.code).toBe(0);
    const verdict = await rolloutStatus(15_000, 900_000);
    expect(verdict.result.stderr).toContain('error: deployment "web" exceeded its progress deadline');
    expect(verdict.result.code).toBe(1);
    const deadline = condition('Progressing');
    expect(deadline).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    // The deadline is measured from the last progress, at the default 600 s.
    const exceededAfter = (Date.parse(deadline!.lastUpdateTime!) - updatedAt) / 1000;
    expect(exceededAfter).toBeGreaterThanOrEqual(600);
    expect(exceededAfter).toBeLessThanOrEqual(600 + 30);
    const pods = await kubectl(['get', 'pods', '-n', 'default']);
    expect(pods.stdout).toMatch(/web-\S+\s+0\/1\s+(ImagePullBackOff|ErrImagePull)\s+0\s+/);
    // The old ReplicaSet still serves: maxUnavailable 25% of 3 rounds down to 0.
    const table = await kubectl(['get', 'deployment', 'web', '-n', 'default']);
    expect(table.stdout).toMatch(/\nweb\s+3\/3\s+1\s+3\s+/);
  },
);

withKubectl(
  'rollout undo goes back to the previous template: its ReplicaSet is reused with a new revision',
  async () => {
    const before = replicaSetNames();
    const undo = await kubectl(['rollout', 'undo', 'deployment/web', '-n', 'default']);
    expect(undo.stdout).toBe('deployment.apps/web rolled back\n');
    const verdict = await rolloutStatus(2_000, 120_000);
    expect(verdict.result.stdout).toContain('deployment "web" successfully rolled out');
    const after = replicaSetNames();
    // No new ReplicaSet: v2's is reused, now revision 4.
    expect(after).toHaveLength(before.length);
    const images = (
      await kubectl([
        'get',
        'deployment',
        'web',
        '-n',
        'default',
        '-o',
        'jsonpath={.spec.template.spec.containers[0].image}',
      ])
    ).stdout;
    expect(images).toBe(GOOD_V2);
    expect(after.filter((n) => n.endsWith(' rev 4'))).toHaveLength(1);
    const history = await kubectl(['rollout', 'history', 'deployment/web', '-n', 'default']);
    expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n3\s+<none>\n4\s+<none>\n/);
  },
);

withKubectl(
  'a crash loop: restarts with a growing back-off, CrashLoopBackOff in kubectl get, the exit in --previous logs',
  async () => {
    const set = await kubectl(['set', 'image', 'deployment/web', `app=${CRASHING}`, '-n', 'default']);
    expect(set.code).toBe(0);
    for (let i = 0; i < 30; i++) await clock.advance(5_000);
    const pods = await kubectl(['get', 'pods', '-n', 'default', '-l', 'app=web']);
    const crashing = pods.stdout.split('\n').filter((l) => /CrashLoopBackOff|Error/.test(l));
    expect(crashing.length).toBeGreaterThan(0);
    const [name, , , restarts] = crashing[0]!.split(/\s+/);
    expect(Number(restarts)).toBeGreaterThanOrEqual(3);
    const described = await kubectl([
      'get',
      'pod',
      name!,
      '-n',
      'default',
      '-o',
      'jsonpath={.status.containerStatuses[0].lastState.terminated.exitCode}',
    ]);
    expect(described.stdout).toBe('3');
    const previous = await kubectl(['logs', name!, '-n', 'default', '--previous']);
    expect(previous.code).toBe(0);
    expect(previous.stdout.length).toBeGreaterThan(0);
  },
);

const statefulSet = (image: string, partition: number) => `apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, namespace: default }
spec:
  replicas: 3
  serviceName: db
  selector: { matchLabels: { app: db } }
  updateStrategy: { type: RollingUpdate, rollingUpdate: { partition: ${partition} } }
  template:
    metadata: { labels: { app: db } }
    spec:
      containers: [{ name: db, image: ${image} }]
`;

withKubectl(
  'a StatefulSet partition rollout: only the ordinals at or above the partition move, and kubectl says so',
  async () => {
    expect((await kubectl(['apply', '-f', '-'], { stdin: statefulSet(GOOD_V1, 0) })).code).toBe(0);
    const created = await rolloutStatus(2_000, 120_000, 'statefulset/db');
    expect(created.result.stdout).toContain('partitioned roll out complete: 3 new pods have been updated...');
    expect(created.result.code).toBe(0);
    expect((await kubectl(['apply', '-f', '-'], { stdin: statefulSet(GOOD_V2, 2) })).code).toBe(0);
    const partitioned = await rolloutStatus(2_000, 120_000, 'statefulset/db');
    expect(partitioned.result.stdout).toContain(
      'partitioned roll out complete: 1 new pods have been updated...',
    );
    const images = await kubectl([
      'get',
      'pods',
      '-n',
      'default',
      '-l',
      'app=db',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.spec.containers[0].image} {end}',
    ]);
    expect(images.stdout.trim().split(' ').sort()).toEqual([
      `db-0=${GOOD_V1}`,
      `db-1=${GOOD_V1}`,
      `db-2=${GOOD_V2}`,
    ]);
  },
);

withKubectl('a DaemonSet rollout: a pod per node replaced, kubectl rollout status to success', async () => {
  const daemonSet = (image: string) => `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent, namespace: default }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec:
      containers: [{ name: agent, image: ${image} }]
`;
  expect((await kubectl(['apply', '-f', '-'], { stdin: daemonSet(GOOD_V1) })).code).toBe(0);
  expect((await rolloutStatus(2_000, 120_000, 'daemonset/agent')).result.code).toBe(0);
  expect((await kubectl(['apply', '-f', '-'], { stdin: daemonSet(GOOD_V2) })).code).toBe(0);
  const rolled = await rolloutStatus(2_000, 300_000, 'daemonset/agent');
  expect(rolled.result.stdout).toContain('daemon set "agent" successfully rolled out');
  expect(rolled.result.code).toBe(0);
  const nodes = (await kubectl(['get', 'nodes', '-o', 'name'])).stdout.trim().split('\n');
  const pods = await kubectl([
    'get',
    'pods',
    '-n',
    'default',
    '-l',
    'app=agent',
    '-o',
    'jsonpath={range .items[*]}{.spec.nodeName}={.spec.containers[0].image} {end}',
  ]);
  expect(pods.stdout.trim().split(' ').sort()).toEqual(
    nodes.map((n) => `${n.replace('node/', '')}=${GOOD_V2}`).sort(),
  );
});

withKubectl(
  'a Job that fails its backoffLimit: kubectl wait sees the Failed condition with BackoffLimitExceeded',
  async () => {
    const job = `apiVersion: batch/v1
kind: Job
metadata: { name: migrate, namespace: default }
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: migrate, image: ${CRASHING} }]
`;
    expect((await kubectl(['apply', '-f', '-'], { stdin: job })).code).toBe(0);
    const waiting = spawn(
      KUBECTL,
      [...kubectlBase, 'wait', '--for=condition=Failed', 'job/migrate', '-n', 'default', '--timeout=60s'],
      { env: kubectlEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    waiting.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => waiting.on('close', resolve));
    let code: number | null | undefined;
    void exited.then((c) => (code = c));
    for (let i = 0; i < 120 && code === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await clock.advance(5_000);
    }
    expect(await exited).toBe(0);
    expect(out).toBe('job.batch/migrate condition met\n');
    const reason = await kubectl([
      'get',
      'job',
      'migrate',
      '-n',
      'default',
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Failed")].reason} {.status.failed}',
    ]);
    expect(reason.stdout).toBe('BackoffLimitExceeded 3');
  },
);

withKubectl(
  'a Job whose command is the documented one-off form completes as it says (an image with no labels)',
  async () => {
    const job = `apiVersion: batch/v1
kind: Job
metadata: { name: migrate-ok, namespace: default }
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: migrate, image: ${GOOD_V1}, command: [sh, -c, "sleep 20; exit 0"] }]
`;
    expect((await kubectl(['apply', '-f', '-'], { stdin: job })).code).toBe(0);
    const startedAt = clock.now();
    for (let i = 0; i < 10; i++) await clock.advance(5_000);
    const status = await kubectl([
      'get',
      'job',
      'migrate-ok',
      '-n',
      'default',
      '-o',
      'jsonpath={.status.succeeded} {.status.conditions[?(@.type=="Complete")].status} {.status.completionTime}',
    ]);
    const [succeeded, complete, completionTime] = status.stdout.split(' ');
    expect([succeeded, complete]).toEqual(['1', 'True']);
    // It ran its 20 s (after the 1 s pull), not until stopped.
    const took = (Date.parse(completionTime!) - startedAt) / 1000;
    expect(took).toBeGreaterThanOrEqual(20);
    expect(took).toBeLessThan(30);
  },
);
