// local-kubernetes under load (issue 12): 50 Deployments of 10 replicas rolled at once, with
// `kubectl rollout status` watching each, on a stepped clock.
//
// Figures, each against a peer measured in the same run:
// 1. requests per second the API server sustains — GETs of a Deployment, and LISTs of 500 pods —
//    against a bare Node HTTPS server answering a fixed body of the same size on the same
//    certificate and the same load generator (keep-alive, CONCURRENCY requests in flight, DURATION_MS);
// 2. requests per second served during the rollout (every API call the 50 kubectl watchers and the
//    test's own steps made, from the server's call log, over the wall time of the rollout);
// 3. the simulation's cost: the wall time spent advancing the clock through the rollout (500 pods
//    replaced, 50 watchers), and per simulated minute of a steady cluster of 500 running pods —
//    against real time (60 000 ms): how many times faster than real time the cluster runs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createKubernetesCluster, type KubernetesCall } from '../../packages/local-kubernetes/src/index.js';
import { startKubernetesServer } from '../../packages/local-kubernetes/src/testing.js';
import { SteppedClock } from '../../packages/local-kubernetes/test/helpers/stepped-clock.js';
import { selfSignedCertificate } from '../../packages/local-kubernetes/test/helpers/tls.js';
import { median } from './stats.js';

const DEPLOYMENTS = 50;
const REPLICAS = 10;
const CONCURRENCY = 16;
const DURATION_MS = 3_000;
const STEP_MS = 500;
const KUBECTL = '/usr/bin/kubectl';

/** Requests per second for GET `paths` (round robin) at CONCURRENCY in flight for DURATION_MS. */
async function load(url: string, paths: string[], token: string): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, rejectUnauthorized: false });
  const base = new URL(url);
  let done = 0;
  let failed = 0;
  const until = performance.now() + DURATION_MS;
  const one = (p: string) =>
    new Promise<void>((resolve) => {
      const req = request(
        {
          host: base.hostname,
          port: base.port,
          path: p,
          agent,
          headers: { authorization: `Bearer ${token}` },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) done++;
            else failed++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end();
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      for (let i = worker; performance.now() < until; i += CONCURRENCY) await one(paths[i % paths.length]!);
    }),
  );
  agent.destroy();
  if (failed > 0) throw new Error(`${failed} requests failed against ${url}`);
  return done / ((performance.now() - started) / 1000);
}

function deploymentsYaml(image: string): string {
  return Array.from(
    { length: DEPLOYMENTS },
    (_, i) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web-${i}, namespace: default }
spec:
  replicas: ${REPLICAS}
  selector: { matchLabels: { app: web-${i} } }
  template:
    metadata: { labels: { app: web-${i} } }
    spec:
      containers:
        - name: app
          image: ${image}
          resources: { requests: { cpu: 1m, memory: 1Mi } }
`,
  ).join('---\n');
}

export async function kubernetes(): Promise<void> {
  const tls = selfSignedCertificate();
  const clock = new SteppedClock();
  const calls: KubernetesCall[] = [];
  const cluster = createKubernetesCluster(
    {
      clock,
      resolveImage: async (reference) => ({
        digest: `sha256:${'0'.repeat(63)}${reference.endsWith('v2') ? 2 : 1}`,
        labels: {},
      }),
      log: (call) => calls.push(call),
    },
    // Room for 1 000 pods: 10 nodes of 110.
    { nodes: 10, nodeCapacity: { cpu: '64', memory: '256Gi', pods: '110' } },
  );
  const server = await startKubernetesServer({ cluster, tls });
  const home = mkdtempSync(path.join(tmpdir(), 'bench-kubernetes-'));
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    KUBECACHEDIR: path.join(home, 'cache'),
    KUBECONFIG: path.join(home, 'none'),
  };
  const base = ['--server', server.url, '--token', 'admin-token', '--insecure-skip-tls-verify=true'];
  const kubectl = (args: string[], stdin = '') =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(KUBECTL, [...base, ...args], { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(stdin);
    });
  const peer = createServer(tls, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(peerBody);
  });
  let peerBody = '';
  try {
    const applied = await kubectl(['apply', '-f', '-'], deploymentsYaml('registry.example/web:v1'));
    if (applied.code !== 0) throw new Error(`apply failed: ${applied.stderr}`);
    for (let i = 0; i < 60; i++) await clock.advance(STEP_MS);

    // 1. Sustained requests per second, against the bare server with a body of the same size.
    const getPaths = Array.from(
      { length: DEPLOYMENTS },
      (_, i) => `/apis/apps/v1/namespaces/default/deployments/web-${i}`,
    );
    const listPath = ['/api/v1/namespaces/default/pods'];
    const sample = await fetchText(server.url, getPaths[0]!);
    const listSample = await fetchText(server.url, listPath[0]!);
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    const peerUrl = `https://127.0.0.1:${(peer.address() as AddressInfo).port}`;
    const rows: Array<[string, number, number]> = [];
    for (const [what, paths, body] of [
      ['GET a Deployment', getPaths, sample],
      ['LIST 500 pods', listPath, listSample],
    ] as const) {
      peerBody = body;
      const ours = median([
        await load(server.url, [...paths], 'admin-token'),
        await load(server.url, [...paths], 'admin-token'),
      ]);
      const bare = median([await load(peerUrl, [...paths], 'x'), await load(peerUrl, [...paths], 'x')]);
      rows.push([`${what} (${Math.round(body.length / 1024)} KiB)`, ours, bare]);
    }
    console.log(
      `requests per second, ${CONCURRENCY} in flight, keep-alive, ${DURATION_MS / 1000} s each (median of 2):`,
    );
    for (const [what, ours, bare] of rows) {
      console.log(
        `  ${what}: ${ours.toFixed(0)}/s vs a bare HTTPS server ${bare.toFixed(0)}/s = ${(ours / bare).toFixed(2)}×`,
      );
    }

    // 2 and 3. Roll all 50 at once, a kubectl rollout status on each.
    const set = await kubectl([
      'set',
      'image',
      'deployment',
      '--all',
      'app=registry.example/web:v2',
      '-n',
      'default',
    ]);
    if (set.code !== 0) throw new Error(`set image failed: ${set.stderr}`);
    calls.length = 0;
    const startedWall = performance.now();
    const watchers = Array.from({ length: DEPLOYMENTS }, (_, i) =>
      kubectl(['rollout', 'status', `deployment/web-${i}`, '-n', 'default', '--timeout=0']),
    );
    let finished = 0;
    void Promise.all(watchers.map((w) => w.then(() => finished++)));
    let advancing = 0;
    let simulated = 0;
    while (finished < DEPLOYMENTS && simulated < 30 * 60_000) {
      // Real time for the watchers to see the last step.
      await new Promise((r) => setTimeout(r, 50));
      const t = performance.now();
      await clock.advance(STEP_MS);
      advancing += performance.now() - t;
      simulated += STEP_MS;
    }
    const results = await Promise.all(watchers);
    const wallMs = performance.now() - startedWall;
    const ok = results.filter((r) => r.code === 0 && r.stdout.includes('successfully rolled out')).length;
    console.log(
      `rollout of ${DEPLOYMENTS}×${REPLICAS} replicas at once: ${ok}/${DEPLOYMENTS} kubectl rollout status said "successfully rolled out" within ${(simulated / 1000).toFixed(1)} simulated s (steps of ${STEP_MS} ms); ${(wallMs / 1000).toFixed(1)} s wall, of which the simulation ${(advancing / 1000).toFixed(1)} s`,
    );
    console.log(
      `  API requests served meanwhile: ${calls.length} in ${(wallMs / 1000).toFixed(1)} s = ${(calls.length / (wallMs / 1000)).toFixed(0)}/s`,
    );
    const steady = performance.now();
    for (let i = 0; i < 10; i++) await clock.advance(30_000);
    const perMinute = (performance.now() - steady) / 5;
    console.log(
      `  a steady cluster of ${DEPLOYMENTS * REPLICAS} running pods: ${perMinute.toFixed(0)} ms of wall time per simulated minute = ${(60_000 / perMinute).toFixed(0)}× faster than real time`,
    );
  } finally {
    peer.close();
    await server.stop();
    cluster.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

function fetchText(url: string, p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const base = new URL(url);
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        path: p,
        rejectUnauthorized: false,
        headers: { authorization: 'Bearer admin-token' },
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`${p}: ${res.statusCode} ${body}`)),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}
