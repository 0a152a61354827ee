// Scale (issue 16): many deploys at once in one account and region, against AWS's API rate limits.
// One local-aws with throttle 'aws' (AWS's per-account, per-region token buckets, refilled on the
// simulated clock; a call that finds its bucket empty is answered ThrottlingException "Rate
// exceeded" and marked `throttled` in the op log), on a clock SCALE times faster than wall time:
// 1. the reference: lone ecs-deploy-fargate deploys (one service, 2 tasks, a new image), one after
//    another, and lone anchor-like baselines (ecs-deploy.ts's baselineChild: register, UpdateService,
//    waitUntilServicesStable, check);
// 2. ECS_RUNS ecs-deploy-fargate runs started together, each deploying a new image to its own
//    service (2 tasks, circuit breaker with rollback, all in one cluster); then ECS_RUNS baselines on
//    services of their own, so neither side inherits the other's state or its emptied buckets. Twice:
//    2a through the start-up gate below, 2b with every child spawned at once;
// 3. EKS_RUNS eks-rollout runs at once against one cluster, each rolling its own Deployment, against
//    lone eks-rollout runs.
// For each side: runs that succeeded (exit 0 and the service seen COMPLETED on the new revision, or
// the Deployment rolled out on the new image), API calls per run (every child signs with its own
// access key, so the op log splits by accessKeyId), throttled calls, whether "ThrottlingException" or
// "Rate exceeded" was shown as an error (in an ::error:: line, or in the output of a run that
// failed), and the time to verdict (the child's spawn to its exit), median and p95.
//
// Fairness. Every wall-clock delay is divided by SCALE on both sides (ours polls every 5 s / SCALE
// with a 15 min / SCALE timeout; the waiter gets minDelay 15 s and maxDelay 600 s / SCALE and the
// same timeout), and figures are given in simulated seconds (wall × SCALE). The SDKs' own retry
// back-off after a throttled call is NOT scaled (it is inside each client), while the buckets refill
// on the simulated clock: a retry here finds SCALE times more tokens than it would against AWS, for
// both sides alike. The machine's cores are few: node children starting together compete for CPU, and
// on a fast clock CPU time becomes simulated time. So in 1, 2a and 3 at most START_SLOTS children are
// in their start-up phase at once (from spawn until the first ::group:: line, which comes once the
// bundle is loaded and before any AWS call; the baseline child prints one the same way); the others
// wait to be spawned, and each child's time to verdict counts from its own spawn. That spreads the
// starts over a minute or more of simulated time, which the buckets absorb; 2b spawns all at once, so
// the first calls come in a burst as from 50 runners, and its times include start-up spent waiting
// for the cores (the table also gives first group line → exit). Before each part the server is left
// quiet until every bucket is full again (admin.throttle.snapshot(); at most QUIET_S simulated s).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { deploymentRolloutStatus, inputsEnv, type KubeObject } from '@aws-containers/core';
import {
  buildImage,
  defaultNetwork,
  startLocalAws,
  type LocalAws,
  type OpLogEntry,
} from '@aws-containers/local-aws';
import { findByPath } from '@aws-containers/local-kubernetes';
import { pushToMain, repoRoot } from '../helpers/action-runner.js';
import { createActiveCluster, deploymentManifest, grantClusterAccess, kubectlOnEks } from '../helpers/eks.js';
import { baselineChild, type BaselineArgs } from './ecs-deploy.js';
import { median } from './stats.js';
import { loggedInRegistry } from '../helpers/registry.js';

const SCALE = 5;
/** Children in their start-up phase (spawn → first ::group:: line) at once. */
const START_SLOTS = 4;
const ECS_RUNS = 50;
const EKS_RUNS = 20;
const LONE_RUNS = 3;
const TASKS = 2;
const POLL_S = 5;
const TIMEOUT_S = 15 * 60;
/** Before each part, the server is left quiet until every bucket is full again, at most this long (simulated s). */
const QUIET_S = 60;
/** A child still running this long after its timeout (wall ms) is killed. */
const KILL_AFTER_MS = (TIMEOUT_S * 1000) / SCALE + 60_000;
const CLUSTER = 'scale';
const SUBNET = defaultNetwork().subnetIds[0]!;
const OLD_IMAGE = 'public.ecr.aws/nginx/nginx:1.27.0';
const NEW_IMAGE = (service: string) => `public.ecr.aws/nginx/nginx:1.27.1-${service}`;
const CHILD_FLAG = '--scale-baseline-child';
const SECRET = 'scale-bench-secret';
const THROTTLE_TEXT = /ThrottlingException|Rate exceeded/;

// ---- children, through the start-up gate

/** A counting semaphore: at most `slots` holders. */
class Gate {
  private waiting: Array<() => void> = [];
  constructor(private free: number) {}
  async enter(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

interface ChildRun {
  name: string;
  accessKeyId: string;
  /** Wall ms. */
  spawnAt: number;
  readyAt?: number;
  exitAt: number;
  exitCode: number | null;
  output: string;
}

async function runChild(
  gate: Gate,
  name: string,
  accessKeyId: string,
  args: string[],
  env: Record<string, string>,
): Promise<ChildRun> {
  await gate.enter();
  let inGate = true;
  const leave = () => {
    if (inGate) gate.leave();
    inGate = false;
  };
  const spawnAt = Date.now();
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let readyAt: number | undefined;
  let output = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (readyAt === undefined && line.startsWith('::group::')) {
      readyAt = Date.now();
      leave();
    }
    output += `${line}\n`;
  });
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
  const { exitCode, exitAt } = await new Promise<{ exitCode: number | null; exitAt: number }>((resolve) =>
    child.on('exit', (code) => resolve({ exitCode: code, exitAt: Date.now() })),
  );
  clearTimeout(timer);
  leave();
  // Let the pipes drain: the last lines may come after 'exit'.
  await new Promise<void>((resolve) =>
    child.stdout.readableEnded ? resolve() : child.stdout.on('end', resolve),
  );
  return { name, accessKeyId, spawnAt, readyAt, exitAt, exitCode, output };
}

function baseEnv(aws: LocalAws, accessKeyId: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: SECRET,
    AWS_REGION: aws.region,
  };
}

/** A runner's files for one step, in a temp dir (removed by the caller). */
function runnerFiles(dir: string): Record<string, string> {
  const files = Object.fromEntries(
    ['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY', 'GITHUB_ENV', 'GITHUB_PATH'].map((k) => {
      const file = path.join(dir, k.toLowerCase());
      writeFileSync(file, '');
      return [k, file];
    }),
  );
  writeFileSync(path.join(dir, 'event.json'), '{}');
  return {
    ...files,
    RUNNER_TEMP: dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_PATH: path.join(dir, 'event.json'),
  };
}

async function runEcsOurs(aws: LocalAws, gate: Gate, service: string, key: string): Promise<ChildRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-scale-'));
  try {
    const env = {
      ...baseEnv(aws, key),
      ...runnerFiles(dir),
      ...inputsEnv({
        cluster: CLUSTER,
        service,
        image: NEW_IMAGE(service),
        'poll-interval': `${(POLL_S * 1000) / SCALE}ms`,
        timeout: `${TIMEOUT_S / SCALE}s`,
      }),
    };
    return await runChild(
      gate,
      service,
      key,
      [path.join(repoRoot, 'dist', 'ecs-deploy-fargate', 'index.js')],
      env,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runEcsBaseline(aws: LocalAws, gate: Gate, service: string, key: string): Promise<ChildRun> {
  const args: BaselineArgs = {
    cluster: CLUSTER,
    service,
    image: NEW_IMAGE(service),
    minDelay: 15 / SCALE,
    maxDelay: 600 / SCALE,
    maxWaitTime: TIMEOUT_S / SCALE,
  };
  const self = fileURLToPath(import.meta.url);
  return runChild(
    gate,
    service,
    key,
    ['--import', 'tsx', self, CHILD_FLAG, JSON.stringify(args)],
    baseEnv(aws, key),
  );
}

// ---- the ECS world

type Snapshot = ReturnType<LocalAws['admin']['ecs']['snapshot']>;

function regionOf(snapshot: Snapshot, aws: LocalAws) {
  return snapshot.regions[`${aws.accountId}/${aws.region}`];
}

async function createServices(aws: LocalAws, names: string[]): Promise<void> {
  const ecs = new ECSClient({
    endpoint: aws.endpoint,
    region: aws.region,
    credentials: aws.credentials,
    maxAttempts: 20,
  });
  try {
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    const td = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'scale-web',
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'web', image: OLD_IMAGE, essential: true }],
      }),
    );
    for (const name of names) {
      await ecs.send(
        new CreateServiceCommand({
          cluster: CLUSTER,
          serviceName: name,
          taskDefinition: td.taskDefinition!.taskDefinitionArn!,
          desiredCount: TASKS,
          launchType: 'FARGATE',
          networkConfiguration: { awsvpcConfiguration: { subnets: [SUBNET] } },
          deploymentConfiguration: {
            deploymentCircuitBreaker: { enable: true, rollback: true },
            maximumPercent: 200,
            minimumHealthyPercent: 100,
          },
        }),
      );
    }
  } finally {
    ecs.destroy();
  }
  for (let i = 0; i < 300; i++) {
    const services = Object.values(regionOf(aws.admin.ecs.snapshot(), aws)?.services[CLUSTER] ?? {});
    if (
      services.length === names.length &&
      services.every((s) => s.deployments.length === 1 && s.deployments[0]?.rolloutState === 'COMPLETED')
    )
      return;
    await sleep(500);
  }
  throw new Error('the services did not settle within 150 s');
}

/** The services whose PRIMARY deployment is COMPLETED on a revision running their new image. */
function completedOnNew(aws: LocalAws, services: string[]): Set<string> {
  const region = regionOf(aws.admin.ecs.snapshot(), aws);
  const done = new Set<string>();
  for (const name of services) {
    const svc = region?.services[CLUSTER]?.[name];
    const primary = svc?.deployments.find((d) => d.status === 'PRIMARY');
    if (!primary || primary.rolloutState !== 'COMPLETED' || svc?.deployments.length !== 1) continue;
    const [family, revision] = (primary.taskDefinition.split('/').pop() ?? '').split(':');
    const td = region?.taskDefinitions[family ?? '']?.[Number(revision) - 1];
    const containers = (td?.body.containerDefinitions ?? []) as Array<{ image?: string }>;
    if (containers[0]?.image === NEW_IMAGE(name)) done.add(name);
  }
  return done;
}

/** Waits (bounded, simulated) until every service is COMPLETED on its new image; returns those that are. */
async function awaitCompleted(aws: LocalAws, services: string[], boundS: number): Promise<Set<string>> {
  const until = Date.now() + (boundS * 1000) / SCALE;
  for (;;) {
    const done = completedOnNew(aws, services);
    if (done.size === services.length || Date.now() > until) return done;
    await sleep(500);
  }
}

// ---- figures

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sim = (wallMs: number): number => (wallMs * SCALE) / 1000;
const fmt = (s: number): string => `${s.toFixed(1)} s`;
/** The most children alive at once. */
function peak(runs: ChildRun[]): number {
  const events = runs.flatMap((r) => [
    [r.spawnAt, 1],
    [r.exitAt, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let alive = 0;
  let most = 0;
  for (const [, delta] of events) most = Math.max(most, (alive += delta!));
  return most;
}
/** Nearest rank. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}
const mark = (ok: boolean) => (ok ? '✓' : '✗');

interface SideFigures {
  runs: ChildRun[];
  succeeded: number;
  /** Per run: calls of the given service(s), all AWS calls, throttled calls. */
  calls: number[];
  allCalls: number[];
  throttled: number;
  throttledOps: string;
  errorShown: number;
  textShown: number;
  verdict: number[];
  startup: number[];
  /** First group line → exit. */
  afterStartup: number[];
}

function byKey(entries: OpLogEntry[]): Map<string, OpLogEntry[]> {
  const map = new Map<string, OpLogEntry[]>();
  for (const e of entries) {
    if (!e.accessKeyId) continue;
    const list = map.get(e.accessKeyId) ?? [];
    list.push(e);
    map.set(e.accessKeyId, list);
  }
  return map;
}

/** "ecs:DescribeServices ×12, …", most first; with `per`, each count divided by it. */
function tally(entries: OpLogEntry[], per = 1): string {
  const counts = new Map<string, number>();
  for (const e of entries)
    counts.set(`${e.service}:${e.operation}`, (counts.get(`${e.service}:${e.operation}`) ?? 0) + 1);
  return counts.size === 0
    ? 'none'
    : [...counts]
        .sort((a, b) => b[1] - a[1])
        .map(([op, n]) => `${op} ×${per === 1 ? n : (n / per).toFixed(1)}`)
        .join(', ');
}

function figures(
  aws: LocalAws,
  runs: ChildRun[],
  succeeded: (run: ChildRun) => boolean,
  counted: (e: OpLogEntry) => boolean,
): SideFigures {
  const log = byKey(aws.opLog.entries());
  const mine = runs.map((r) => log.get(r.accessKeyId) ?? []);
  const throttled = mine.flat().filter((e) => e.throttled === true);
  // Shown to a user: in an ::error:: annotation, or anywhere in the output of a run that failed.
  const errorShown = (r: ChildRun) =>
    r.output.split('\n').some((line) => line.startsWith('::error') && THROTTLE_TEXT.test(line)) ||
    (!succeeded(r) && THROTTLE_TEXT.test(r.output));
  return {
    runs,
    succeeded: runs.filter(succeeded).length,
    calls: mine.map((entries) => entries.filter(counted).length),
    allCalls: mine.map((entries) => entries.length),
    throttled: throttled.length,
    throttledOps: tally(throttled),
    errorShown: runs.filter(errorShown).length,
    textShown: runs.filter((r) => THROTTLE_TEXT.test(r.output)).length,
    verdict: runs.map((r) => sim(r.exitAt - r.spawnAt)),
    startup: runs.map((r) => sim((r.readyAt ?? r.exitAt) - r.spawnAt)),
    afterStartup: runs.map((r) => sim(r.exitAt - (r.readyAt ?? r.spawnAt))),
  };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

function row(label: string, f: SideFigures, callsLabel: string): string {
  return (
    `| ${label} | ${f.succeeded}/${f.runs.length} | ${mean(f.calls).toFixed(1)} (median ${median(f.calls)}, max ${Math.max(...f.calls)}) ${callsLabel} | ` +
    `${mean(f.allCalls).toFixed(1)} | ${f.throttled} | ${f.errorShown} (text anywhere: ${f.textShown}) | ` +
    `${fmt(median(f.verdict))} / ${fmt(percentile(f.verdict, 95))} | ${fmt(median(f.startup))} | ` +
    `${fmt(median(f.afterStartup))} / ${fmt(percentile(f.afterStartup, 95))} |`
  );
}

const HEADER =
  '| side | succeeded | calls per run | all AWS calls per run (mean) | throttled calls | runs showing a throttling error (::error::, or a failed run) | time to verdict (spawn → exit) median / p95 | start-up (spawn → first group line) median | first group line → exit median / p95 |\n|---|---|---|---|---|---|---|---|---|';

/** The first few failed runs, each with its first error lines (or its last lines). */
function failures(runs: ChildRun[], ok: (r: ChildRun) => boolean): void {
  const failed = runs.filter((x) => !ok(x));
  for (const r of failed.slice(0, 3)) {
    const lines = r.output.trim().split('\n');
    const errors = lines.filter((l) => /^::error|Error\b|Exception\b/.test(l)).slice(0, 3);
    const shown = (errors.length > 0 ? errors : lines.slice(-5)).map((l) => l.slice(0, 300)).join('\n    ');
    console.log(`  ${r.name} failed (exit ${r.exitCode}):\n    ${shown}`);
  }
  if (failed.length > 3) console.log(`  … and ${failed.length - 3} more failed`);
}

function throttledNote(label: string, f: SideFigures): void {
  console.log(`  throttled calls, ${label}: ${f.throttledOps}`);
}

/** Watches the buckets while runs go on: the fewest tokens each had left (sampled every 50 ms wall). */
function lowWater(aws: LocalAws): () => string {
  const low = new Map<string, { tokens: number; burst: number }>();
  const look = () => {
    for (const b of aws.admin.throttle.snapshot().buckets) {
      const name = `${b.service}: ${b.category}`;
      if (b.tokens < (low.get(name)?.tokens ?? b.burst)) low.set(name, { tokens: b.tokens, burst: b.burst });
    }
  };
  const timer = setInterval(look, 50);
  return () => {
    clearInterval(timer);
    look();
    return low.size === 0
      ? 'no bucket used'
      : [...low]
          .sort((a, b) => a[1].tokens / a[1].burst - b[1].tokens / b[1].burst)
          .map(([name, { tokens, burst }]) => `${name} ${tokens.toFixed(1)}/${burst}`)
          .join(', ');
  };
}

/** Waits (bounded by QUIET_S simulated seconds) until every bucket used so far is full again. */
async function quiet(aws: LocalAws): Promise<void> {
  const until = Date.now() + (QUIET_S * 1000) / SCALE;
  while (Date.now() < until && aws.admin.throttle.snapshot().buckets.some((b) => b.tokens < b.burst))
    await sleep(100);
}
// ---- the bench

export async function scale(): Promise<void> {
  const admin = { accessKeyId: 'test', secretAccessKey: 'test' };
  const aws = await startLocalAws({ timeScale: SCALE, throttle: 'aws', credentials: [admin] });
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-scale-'));
  let keys = 0;
  const newKey = (prefix: string) => {
    const accessKeyId = `AKIASCALE${prefix}${String(++keys).padStart(4, '0')}`;
    aws.identities.add({
      accessKeyId,
      secretAccessKey: SECRET,
      arn: `arn:aws:iam::${aws.accountId}:user/${accessKeyId}`,
    });
    return accessKeyId;
  };
  const gate = new Gate(START_SLOTS);
  try {
    console.log(
      `node ${process.version}, ${availableParallelism()} cores; one local-aws with throttle 'aws' on a ${SCALE}× clock; every figure in simulated seconds (wall × ${SCALE})`,
    );
    console.log(
      `concurrency: at most ${START_SLOTS} children in start-up at once (spawn → first ::group:: line), the others wait to be spawned; ` +
        `except in 2b, which spawns all at once; time to verdict = that child's spawn → exit; lone runs go through the same gate; before each part, quiet until every bucket is full (at most ${QUIET_S} s)`,
    );
    console.log(
      `ECS: ours polls every ${POLL_S} s, timeout ${TIMEOUT_S} s; the baseline's waiter minDelay 15 s, maxDelay 600 s, same timeout (all ÷ ${SCALE} in wall time)`,
    );

    // The ECS world: every service created and settled before any run.
    const lone = { ours: [] as string[], baseline: [] as string[] };
    for (let i = 1; i <= LONE_RUNS; i++) {
      lone.ours.push(`lone-ours-${i}`);
      lone.baseline.push(`lone-baseline-${i}`);
    }
    // 2a with the start-up gate; 2b without it: all spawned at once, so their first calls bunch up
    // as 50 runners' would (at the price of start-up time spent competing for the cores).
    const modes = [
      { part: '2a', gate, how: `through the start-up gate (${START_SLOTS} at a time)` },
      { part: '2b', gate: new Gate(ECS_RUNS), how: 'all spawned at once, no gate (a burst of first calls)' },
    ].map((mode) => ({
      ...mode,
      ours: Array.from({ length: ECS_RUNS }, (_, i) => `${mode.part}-ours-${i + 1}`),
      baseline: Array.from({ length: ECS_RUNS }, (_, i) => `${mode.part}-baseline-${i + 1}`),
    }));
    const all = [
      ...lone.ours,
      ...lone.baseline,
      ...modes.flatMap((mode) => [...mode.ours, ...mode.baseline]),
    ];
    const settleStart = Date.now();
    await createServices(aws, all);
    const setupThrottled = aws.opLog.entries().filter((e) => e.throttled === true);
    console.log(
      `${all.length} services of ${TASKS} tasks created and settled in ${((Date.now() - settleStart) / 1000).toFixed(1)} s wall; ` +
        `throttled setup calls (retried by the SDK): ${tally(setupThrottled)}`,
    );

    // 1. Lone deploys, one after another.
    await quiet(aws);
    const loneOurs: ChildRun[] = [];
    const loneBase: ChildRun[] = [];
    for (let i = 0; i < LONE_RUNS; i++) {
      loneOurs.push(await runEcsOurs(aws, gate, lone.ours[i]!, newKey('LO')));
      loneBase.push(await runEcsBaseline(aws, gate, lone.baseline[i]!, newKey('LB')));
    }
    const loneDone = await awaitCompleted(aws, [...lone.ours, ...lone.baseline], 120);
    const ecsOk = (done: Set<string>) => (r: ChildRun) => r.exitCode === 0 && done.has(r.name);
    const isEcs = (e: OpLogEntry) => e.service === 'ecs';
    const fLoneOurs = figures(aws, loneOurs, ecsOk(loneDone), isEcs);
    const fLoneBase = figures(aws, loneBase, ecsOk(loneDone), isEcs);
    console.log(`\n1. lone deploys (${LONE_RUNS} each, one at a time)`);
    console.log(HEADER);
    console.log(row('ecs-deploy-fargate, lone', fLoneOurs, 'ECS'));
    console.log(row('anchor-like baseline, lone', fLoneBase, 'ECS'));
    console.log(
      `  each (sim s): ours ${fLoneOurs.verdict.map(fmt).join(', ')}; baseline ${fLoneBase.verdict.map(fmt).join(', ')}`,
    );
    failures(loneOurs, ecsOk(loneDone));
    failures(loneBase, ecsOk(loneDone));

    // 2. ECS_RUNS at once, ours then the baseline, in each mode.
    const together = async (names: string[], side: 'ours' | 'baseline', modeGate: Gate) => {
      await quiet(aws);
      const t0 = Date.now();
      const watch = lowWater(aws);
      const runs = await Promise.all(
        names.map((name) =>
          side === 'ours'
            ? runEcsOurs(aws, modeGate, name, newKey('O'))
            : runEcsBaseline(aws, modeGate, name, newKey('B')),
        ),
      );
      const lowest = watch();
      const done = await awaitCompleted(aws, names, 120);
      console.log(
        `  ${names.length} ${side} runs: at most ${peak(runs)} alive at once; all spawned within ${fmt(sim(Math.max(...runs.map((r) => r.spawnAt)) - t0))}, the last exit at ${fmt(sim(Math.max(...runs.map((r) => r.exitAt)) - t0))} after the first spawn`,
      );
      console.log(`    fewest tokens left per bucket meanwhile (lowest first): ${lowest}`);
      return { runs, done };
    };
    // The reference: the lone deploys of ours that succeeded.
    const loneOk = loneOurs.filter(ecsOk(loneDone));
    const loneP = median(loneOk.map((r) => sim(r.exitAt - r.spawnAt)));
    const loneAfter = median(loneOk.map((r) => sim(r.exitAt - (r.readyAt ?? r.spawnAt))));
    for (const mode of modes) {
      console.log(`\n${mode.part}. ${ECS_RUNS} deploys at once, one cluster, ${mode.how}`);
      const oursMany = await together(mode.ours, 'ours', mode.gate);
      const baseMany = await together(mode.baseline, 'baseline', mode.gate);
      const fOurs = figures(aws, oursMany.runs, ecsOk(oursMany.done), isEcs);
      const fBase = figures(aws, baseMany.runs, ecsOk(baseMany.done), isEcs);
      console.log(HEADER);
      console.log(row(`ecs-deploy-fargate ×${ECS_RUNS}`, fOurs, 'ECS'));
      console.log(row(`anchor-like baseline ×${ECS_RUNS}`, fBase, 'ECS'));
      throttledNote('ours', fOurs);
      throttledNote('baseline', fBase);
      const log = byKey(aws.opLog.entries());
      const perRun = (runs: ChildRun[]) =>
        tally(
          runs.flatMap((r) => log.get(r.accessKeyId) ?? []),
          runs.length,
        );
      console.log(`  calls per run by operation (throttled ones included), ours: ${perRun(oursMany.runs)}`);
      console.log(
        `  calls per run by operation (throttled ones included), baseline: ${perRun(baseMany.runs)}`,
      );
      failures(oursMany.runs, ecsOk(oursMany.done));
      failures(baseMany.runs, ecsOk(baseMany.done));
      const callsRatio = mean(fOurs.calls) / mean(fBase.calls);
      const p95Ratio = percentile(fOurs.verdict, 95) / loneP;
      const afterRatio = percentile(fOurs.afterStartup, 95) / loneAfter;
      console.log(`goals (${mode.part}):`);
      console.log(`  ${mark(fOurs.succeeded === ECS_RUNS)} ${fOurs.succeeded}/${ECS_RUNS} of ours succeed`);
      console.log(
        `  ${mark(fOurs.errorShown === 0)} no throttling error shown to a user: ${fOurs.errorShown} runs of ours showed ThrottlingException / "Rate exceeded" as an error (${fOurs.textShown} with the text anywhere in their output)`,
      );
      console.log(
        `  ${mark(callsRatio <= 2)} ours' ECS calls per deploy ≤ 2× the baseline's: ${mean(fOurs.calls).toFixed(1)} / ${mean(fBase.calls).toFixed(1)} = ${callsRatio.toFixed(2)}×`,
      );
      console.log(
        `  ${mark(p95Ratio <= 1.5)} ours' p95 time to verdict ≤ 1.5× the lone deploy's: ${fmt(percentile(fOurs.verdict, 95))} / ${fmt(loneP)} (median of the ${loneOk.length} lone that succeeded) = ${p95Ratio.toFixed(2)}×` +
          ` (first group line → exit: ${fmt(percentile(fOurs.afterStartup, 95))} / ${fmt(loneAfter)} = ${afterRatio.toFixed(2)}×)`,
      );
    }

    // 3. EKS_RUNS eks-rollout at once against one cluster.
    await eksPart(aws, gate, dir, newKey);
  } finally {
    await aws.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function eksPart(
  aws: LocalAws,
  gate: Gate,
  dir: string,
  newKey: (prefix: string) => string,
): Promise<void> {
  const cluster = 'scale-eks';
  const setupFrom = aws.opLog.entries().length;
  await createActiveCluster(aws, cluster);
  // A principal and an access entry per run: local-aws attributes a watch's later calls by the
  // principal's Kubernetes user, so keys sharing one principal would be mixed up in the op log.
  const lone = Array.from({ length: LONE_RUNS }, (_, i) => `lone-${i + 1}`);
  const many = Array.from({ length: EKS_RUNS }, (_, i) => `web-${i + 1}`);
  const keyOf = new Map<string, string>();
  for (const name of [...lone, ...many]) {
    const key = newKey('K');
    keyOf.set(name, key);
    await grantClusterAccess(aws, cluster, `arn:aws:iam::${aws.accountId}:user/${key}`);
  }

  const ecr = new ECRClient({
    endpoint: aws.endpoint,
    region: aws.region,
    credentials: aws.credentials,
    maxAttempts: 10,
  });
  await ecr.send(new CreateRepositoryCommand({ repositoryName: 'scale/web' }));
  ecr.destroy();
  const { registry, host } = await loggedInRegistry(aws);
  const tags: string[] = [];
  for (const tag of ['v0', 'v1']) {
    const pushed = await registry.pushImage('scale/web', buildImage([{ size: 64 }], { labels: {} }), tag);
    if (pushed.status !== 201) throw new Error(`push failed: ${pushed.status}`);
    tags.push(`${host}/scale/web:${tag}`);
  }
  const [oldImage, newImage] = tags as [string, string];

  const kubectl = kubectlOnEks(aws, cluster, path.join(dir, 'kubectl'));
  // A readiness probe (every 10 s): a pod is Ready 10 s after it starts, so a rollout takes a while.
  const probe = `          readinessProbe:\n            httpGet: { path: /, port: 80 }\n            periodSeconds: 10\n`;
  const manifests = [...lone, ...many].map((name) => deploymentManifest(name, oldImage, probe)).join('---\n');
  const file = path.join(dir, 'deployments.yaml');
  writeFileSync(file, manifests);
  const applied = await kubectl('apply', '-f', file);
  if (applied.code !== 0) throw new Error(`kubectl apply: ${applied.stderr}`);
  const k8s = aws.admin.eks.kubernetes(cluster)!;
  const deployments = findByPath('apps', 'v1', 'deployments')!;
  const rolledOut = (name: string, image: string) => {
    const d = k8s.store.get(deployments, 'default', name) as unknown as KubeObject | undefined;
    if (!d || !deploymentRolloutStatus(d).done) return false;
    const spec = d.spec as { template: { spec: { containers: Array<{ image: string }> } } };
    return spec.template.spec.containers[0]?.image === image;
  };
  for (let i = 0; ![...lone, ...many].every((n) => rolledOut(n, oldImage)); i++) {
    if (i > 600) throw new Error('the Deployments did not roll out within 60 s');
    await sleep(100);
  }

  const runEks = async (name: string): Promise<ChildRun> => {
    const key = keyOf.get(name)!;
    const runDir = mkdtempSync(path.join(tmpdir(), 'bench-scale-eks-'));
    try {
      return await runChild(gate, name, key, [path.join(repoRoot, 'dist', 'eks-rollout', 'index.js')], {
        ...baseEnv(aws, key),
        HOME: runDir,
        ...runnerFiles(runDir),
        ...pushToMain.env,
        ...inputsEnv({
          cluster,
          workloads: `deployment/${name}`,
          images: `app=${newImage}`,
          timeout: `${TIMEOUT_S / SCALE}s`,
        }),
        NODE_EXTRA_CA_CERTS: aws.caCertPath,
      });
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  };
  const eksOk = (r: ChildRun) => r.exitCode === 0 && rolledOut(r.name, newImage);
  const isK8s = (e: OpLogEntry) => e.service === 'eks' && e.operation.startsWith('k8s:');

  const setupThrottled = aws.opLog
    .entries()
    .slice(setupFrom)
    .filter((e) => e.throttled === true);
  console.log(
    `\n3. eks-rollout: ${EKS_RUNS} at once against one cluster, each its own Deployment of 2 replicas (a readiness probe every 10 s); throttled setup calls (retried): ${tally(setupThrottled)}`,
  );
  await quiet(aws);
  const loneRuns: ChildRun[] = [];
  for (const name of lone) loneRuns.push(await runEks(name));
  await quiet(aws);
  const t0 = Date.now();
  const watch = lowWater(aws);
  const manyRuns = await Promise.all(many.map((name) => runEks(name)));
  const lowest = watch();
  console.log(
    `  ${EKS_RUNS} runs: at most ${peak(manyRuns)} alive at once; all spawned within ${fmt(sim(Math.max(...manyRuns.map((r) => r.spawnAt)) - t0))}, the last exit at ${fmt(sim(Math.max(...manyRuns.map((r) => r.exitAt)) - t0))} after the first spawn`,
  );
  console.log(`    fewest tokens left per bucket meanwhile (lowest first): ${lowest}`);
  const fLone = figures(aws, loneRuns, eksOk, isK8s);
  const fMany = figures(aws, manyRuns, eksOk, isK8s);
  console.log(HEADER.replace('calls per run', 'Kubernetes requests per run'));
  console.log(row(`eks-rollout, lone (${LONE_RUNS}, one at a time)`, fLone, 'k8s'));
  console.log(row(`eks-rollout ×${EKS_RUNS}`, fMany, 'k8s'));
  const awsOnly = (f: SideFigures) => f.allCalls.map((n, i) => n - f.calls[i]!);
  console.log(
    `  AWS (non-Kubernetes) requests per run, mean: lone ${mean(awsOnly(fLone)).toFixed(1)}, together ${mean(awsOnly(fMany)).toFixed(1)}`,
  );
  throttledNote('lone', fLone);
  throttledNote(`×${EKS_RUNS}`, fMany);
  failures(manyRuns, eksOk);
  const ratio = (v: number) => (v / median(fLone.verdict)).toFixed(2);
  console.log(
    `  time to verdict together vs lone (median ${fmt(median(fLone.verdict))}): median ${ratio(median(fMany.verdict))}×, p95 ${ratio(percentile(fMany.verdict, 95))}×`,
  );
}

const entry = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (entry === fileURLToPath(import.meta.url) && process.argv[2] === CHILD_FLAG) {
  // The start-up gate's signal, as ours prints its first group once its bundle is loaded.
  console.log('::group::Deploy (anchor-like baseline)');
  await baselineChild(JSON.parse(process.argv[3] ?? '{}') as BaselineArgs);
}
