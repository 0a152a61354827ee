// ecs-deploy-fargate's follow loop against the way the anchor (amazon-ecs-deploy-task-definition)
// waits — the SDK waiter waitUntilServicesStable, minDelay 15 s, maxDelay 600 s — on local-aws's ECS
// simulation with a scaled clock, both measured in the same run, alternated round by round:
// 1. detection lag after a good deploy: from the simulated COMPLETED to the step's exit;
// 2. time to fail on an unpullable image, from the moment the failure is decidable (the
//    deployment's rolloutState FAILED, or its max-failed-tasks-th failed task), with the circuit
//    breaker rolling back, and with it off (then the waiter can only time out);
// 3. DescribeServices calls per successful deploy (local-aws's op log; ours also prints its count).
//
// Fairness. Simulated time runs SCALE times faster than wall time, and every wall-clock delay on
// both sides is divided by SCALE: ours polls every 5 s / SCALE (its default 5 s in simulated time),
// the waiter gets minDelay 15 s / SCALE and maxDelay 600 s / SCALE (its own exponential backoff with
// jitter, unchanged otherwise), timeouts likewise. Every figure is then given in simulated seconds
// (wall ms × SCALE / 1000), as it would read against real ECS; fixed costs (process exit, API round
// trips) are multiplied by SCALE too, which counts against both sides. Both sides are child
// processes doing what the step does (ours: node dist/ecs-deploy-fargate; the baseline: describe the
// service, register the new revision, UpdateService, wait, check the rollout, exit non-zero on
// failure). Each round deploys to its own service, created and settled beforehand, so no side
// inherits the other's state.
//
// The moments: local-aws runs in this process; an observer reads admin.ecs.snapshot() every
// OBSERVE_MS of wall time and keeps the simulated timestamps ECS itself recorded (the deployment's
// updatedAt when it turned COMPLETED or FAILED, each failed task's stoppingAt), converted to wall
// time through the clock (wall = wall0 + (sim - sim0) / SCALE, exact to a millisecond). The
// baseline's own success condition — one deployment and runningCount == desiredCount, which ECS
// stamps nowhere — is timed by the observer itself (± OBSERVE_MS). The step's exit is the child's
// 'exit' event; "failure said" is when its log line deciding the failure (or its first ::error::)
// reaches us — for ours that comes before it rolls back by itself, which the exit includes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import { inputsEnv } from '@aws-containers/core';
import { defaultNetwork, startLocalAws, type LocalAws } from '@aws-containers/local-aws';
import { repoRoot } from '../helpers/action-runner.js';
import { median } from './stats.js';

const SCALE = 10;
const OBSERVE_MS = 5;
const POLL_S = 5;
const MAX_FAILED_TASKS = 3;
const GOOD_ROUNDS = 5;
const FAIL_ROUNDS = 3;
/** The anchor waits 30 min by default; the breaker-off baseline can only time out, so it gets 5 min. */
const BASELINE_TIMEOUT_OFF_S = 5 * 60;
const TIMEOUT_S = 15 * 60;
const CLUSTER = 'bench';
/** A subnet of the default network local-aws gives its account and region. */
const SUBNET = defaultNetwork().subnetIds[0]!;
const GOOD = (n: number) => `public.ecr.aws/nginx/nginx:1.27.${n}`;
const BROKEN_PREFIX = 'public.ecr.aws/acme/never-pushed';
const CHILD_FLAG = '--ecs-deploy-baseline-child';

type Breaker = 'rollback' | 'off';
type Side = 'ours' | 'baseline';

interface Moments {
  deploymentId?: string;
  /** Wall ms since the epoch. */
  completedAt?: number;
  /** The waiter's condition: one deployment, runningCount == desiredCount (after ours appeared). */
  stableAt?: number;
  failedAt?: number;
  nthFailedTaskAt?: number;
}

interface RunResult {
  side: Side;
  exitCode: number | null;
  exitAt: number;
  firstErrorAt: number | undefined;
  stdout: string;
  describeServices: number;
  /** Every ECS call during the run. */
  ecsCalls: number;
  moments: Moments;
}

// ---- the observer

type Snapshot = ReturnType<LocalAws['admin']['ecs']['snapshot']>;

function simToWall(aws: LocalAws): (sim: number) => number {
  const sim0 = aws.clock.now();
  const wall0 = Date.now();
  return (sim) => wall0 + (sim - sim0) / SCALE;
}

function observe(aws: LocalAws, service: string): { moments: Moments; stop: () => void } {
  const toWall = simToWall(aws);
  const before = new Set(serviceOf(aws.admin.ecs.snapshot(), aws, service)?.deployments.map((d) => d.id));
  const moments: Moments = {};
  const look = () => {
    const snapshot = aws.admin.ecs.snapshot();
    const svc = serviceOf(snapshot, aws, service);
    if (!svc) return;
    moments.deploymentId ??= svc.deployments.find((d) => !before.has(d.id))?.id;
    const id = moments.deploymentId;
    if (!id) return;
    const ours = svc.deployments.find((d) => d.id === id);
    if (ours?.rolloutState === 'COMPLETED') moments.completedAt ??= toWall(ours.updatedAt);
    if (ours?.rolloutState === 'FAILED') moments.failedAt ??= toWall(ours.updatedAt);
    const region = snapshot.regions[`${aws.accountId}/${aws.region}`];
    const tasks = Object.values(region?.tasks ?? {}).filter((t) => t.serviceName === service);
    const failed = tasks
      .filter((t) => t.deploymentId === id && t.failed && t.stoppingAt !== undefined)
      .map((t) => t.stoppingAt as number)
      .sort((a, b) => a - b);
    if (failed.length >= MAX_FAILED_TASKS) moments.nthFailedTaskAt ??= toWall(failed[MAX_FAILED_TASKS - 1]!);
    const running = tasks.filter((t) => t.lastStatus === 'RUNNING').length;
    if (svc.deployments.length === 1 && running === svc.desiredCount) moments.stableAt ??= Date.now();
  };
  const timer = setInterval(look, OBSERVE_MS);
  return {
    moments,
    stop: () => {
      clearInterval(timer);
      look();
    },
  };
}

function serviceOf(snapshot: Snapshot, aws: LocalAws, service: string) {
  return snapshot.regions[`${aws.accountId}/${aws.region}`]?.services[CLUSTER]?.[service];
}

// ---- the two sides, as child processes

function awsEnv(aws: LocalAws): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
    AWS_REGION: aws.region,
  };
}

function describeServicesCount(aws: LocalAws): number {
  return aws.opLog.entries({ service: 'ecs', operation: 'DescribeServices' }).length;
}

async function runChild(
  aws: LocalAws,
  side: Side,
  args: string[],
  env: Record<string, string>,
  service: string,
): Promise<RunResult> {
  const watcher = observe(aws, service);
  const calls0 = describeServicesCount(aws);
  const all0 = aws.opLog.entries({ service: 'ecs' }).length;
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let firstErrorAt: number | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    // The decision: ours logs it ("Deployment ecs-svc/…: 3 tasks failed", "… failed (…)", "… was
    // rolled back") before rolling back itself; its one ::error:: annotation comes at the exit.
    if (/^::error(?: [^:]*)?::|^Deployment ecs-svc\/\d+(?::| failed| was| did not)/.test(line))
      firstErrorAt ??= Date.now();
    stdout += `${line}\n`;
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  const { exitCode, exitAt } = await new Promise<{ exitCode: number | null; exitAt: number }>((resolve) =>
    child.on('exit', (code) => resolve({ exitCode: code, exitAt: Date.now() })),
  );
  clearTimeout(timer);
  // A waiter may return before the rollout COMPLETED: keep watching (bounded) to know by how much.
  for (let i = 0; i < 300 && side === 'baseline' && exitCode === 0 && !watcher.moments.completedAt; i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
  watcher.stop();
  if (stderr.trim() && side === 'baseline' && exitCode !== 0 && exitCode !== 1) {
    throw new Error(`the baseline crashed (${exitCode}):\n${stderr}`);
  }
  return {
    side,
    exitCode,
    exitAt,
    firstErrorAt,
    stdout: stdout + stderr,
    describeServices: describeServicesCount(aws) - calls0,
    ecsCalls: aws.opLog.entries({ service: 'ecs' }).length - all0,
    moments: watcher.moments,
  };
}

function runOurs(aws: LocalAws, service: string, image: string): Promise<RunResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-ecs-deploy-'));
  const files = Object.fromEntries(
    ['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY', 'GITHUB_ENV', 'GITHUB_PATH'].map((k) => {
      const file = path.join(dir, k.toLowerCase());
      writeFileSync(file, '');
      return [k, file];
    }),
  );
  writeFileSync(path.join(dir, 'event.json'), '{}');
  const env = {
    ...awsEnv(aws),
    RUNNER_TEMP: dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_PATH: path.join(dir, 'event.json'),
    ...files,
    ...inputsEnv({
      cluster: CLUSTER,
      service,
      image,
      'poll-interval': `${(POLL_S * 1000) / SCALE}ms`,
      timeout: `${TIMEOUT_S / SCALE}s`,
      'max-failed-tasks': String(MAX_FAILED_TASKS),
    }),
  };
  return runChild(
    aws,
    'ours',
    [path.join(repoRoot, 'dist', 'ecs-deploy-fargate', 'index.js')],
    env,
    service,
  ).finally(() => rmSync(dir, { recursive: true, force: true }));
}

export interface BaselineArgs {
  cluster: string;
  service: string;
  image: string;
  minDelay: number;
  maxDelay: number;
  maxWaitTime: number;
}

function runBaseline(aws: LocalAws, service: string, image: string, timeoutS: number): Promise<RunResult> {
  const args: BaselineArgs = {
    cluster: CLUSTER,
    service,
    image,
    minDelay: 15 / SCALE,
    maxDelay: 600 / SCALE,
    maxWaitTime: timeoutS / SCALE,
  };
  const self = fileURLToPath(import.meta.url);
  return runChild(
    aws,
    'baseline',
    ['--import', 'tsx', self, CHILD_FLAG, JSON.stringify(args)],
    awsEnv(aws),
    service,
  );
}

/** The anchor's way: register the new revision, UpdateService, waitUntilServicesStable, then check. */
export async function baselineChild(args: BaselineArgs): Promise<void> {
  const ecs = new ECSClient({ region: process.env.AWS_REGION ?? 'us-east-1' });
  const described = await ecs.send(
    new DescribeServicesCommand({ cluster: args.cluster, services: [args.service] }),
  );
  const current = described.services?.[0]?.taskDefinition;
  const td = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: current }))).taskDefinition!;
  const input: RegisterTaskDefinitionCommandInput = {
    family: td.family,
    networkMode: td.networkMode,
    requiresCompatibilities: td.requiresCompatibilities,
    cpu: td.cpu,
    memory: td.memory,
    containerDefinitions: (td.containerDefinitions ?? []).map((c, i) =>
      i === 0 ? { ...c, image: args.image } : c,
    ),
  };
  const registered = (await ecs.send(new RegisterTaskDefinitionCommand(input))).taskDefinition!
    .taskDefinitionArn!;
  await ecs.send(
    new UpdateServiceCommand({ cluster: args.cluster, service: args.service, taskDefinition: registered }),
  );
  try {
    await waitUntilServicesStable(
      { client: ecs, minDelay: args.minDelay, maxDelay: args.maxDelay, maxWaitTime: args.maxWaitTime },
      { cluster: args.cluster, services: [args.service] },
    );
  } catch (error) {
    console.log(`::error::${(error as Error).name}: the service did not become stable`);
    process.exit(1);
  }
  // With the circuit breaker, the anchor looks at the rollout only once the service is stable.
  const after = (
    await ecs.send(new DescribeServicesCommand({ cluster: args.cluster, services: [args.service] }))
  ).services?.[0];
  const primary = after?.deployments?.find((d) => d.status === 'PRIMARY');
  if (primary?.taskDefinition !== registered || primary?.rolloutState === 'FAILED') {
    console.log(`::error::the deployment failed: the service runs ${primary?.taskDefinition} (rolled back)`);
    process.exit(1);
  }
  console.log('stable');
}

// ---- the world

async function createServices(aws: LocalAws, ecs: ECSClient, names: Map<string, Breaker>): Promise<void> {
  await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  const td = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'bench-web',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'web', image: GOOD(0), essential: true }],
    }),
  );
  for (const [name, breaker] of names) {
    await ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: name,
        taskDefinition: td.taskDefinition!.taskDefinitionArn!,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: [SUBNET] } },
        deploymentConfiguration: {
          deploymentCircuitBreaker: { enable: breaker === 'rollback', rollback: breaker === 'rollback' },
          maximumPercent: 200,
          minimumHealthyPercent: 100,
        },
      }),
    );
  }
  // Settle: every service COMPLETED (61 s of ECS time), bounded.
  for (let i = 0; i < 600; i++) {
    const region = aws.admin.ecs.snapshot().regions[`${aws.accountId}/${aws.region}`];
    const services = Object.values(region?.services[CLUSTER] ?? {});
    if (
      services.length === names.size &&
      services.every((s) => s.deployments[0]?.rolloutState === 'COMPLETED')
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the services did not settle within 60 s');
}

// ---- figures

const sim = (wallMs: number): number => (wallMs * SCALE) / 1000;
const fmt = (s: number): string => `${s.toFixed(1)} s`;
const spread = (values: number[]): string =>
  values.length === 0
    ? 'n/a'
    : `${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))}, n=${values.length})`;

function need<T>(value: T | undefined, what: string, run: RunResult): T {
  if (value === undefined) throw new Error(`${run.side}: no ${what} observed\n${run.stdout}`);
  return value;
}

export async function ecsDeploy(): Promise<void> {
  const aws = await startLocalAws({ timeScale: SCALE });
  const ecs = new ECSClient({ endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials });
  try {
    aws.admin.ecs.setUnpullable(BROKEN_PREFIX);
    const services = new Map<string, Breaker>();
    const plan: Array<{
      kind: 'good' | 'fail-rollback' | 'fail-off';
      side: Side;
      service: string;
      n: number;
    }> = [];
    const add = (kind: (typeof plan)[number]['kind'], side: Side, n: number, breaker: Breaker) => {
      const service = `${kind}-${side}-${n}`;
      services.set(service, breaker);
      plan.push({ kind, side, service, n });
    };
    // Alternated: ours first in odd rounds, the baseline first in even ones.
    for (let n = 0; n < GOOD_ROUNDS; n++)
      for (const side of n % 2 === 0 ? (['ours', 'baseline'] as const) : (['baseline', 'ours'] as const))
        add('good', side, n, 'rollback');
    for (let n = 0; n < FAIL_ROUNDS; n++)
      for (const side of n % 2 === 0 ? (['ours', 'baseline'] as const) : (['baseline', 'ours'] as const))
        add('fail-rollback', side, n, 'rollback');
    for (let n = 0; n < FAIL_ROUNDS; n++) add('fail-off', 'ours', n, 'off');
    add('fail-off', 'baseline', 0, 'off');

    console.log(
      `node ${process.version}; local-aws ECS on a ${SCALE}× clock; every figure in simulated seconds ` +
        `(wall × ${SCALE}); ours polls every ${POLL_S} s, the waiter minDelay 15 s maxDelay 600 s, all divided by ${SCALE} in wall time`,
    );
    const settleStart = Date.now();
    await createServices(aws, ecs, services);
    console.log(
      `${services.size} services created and settled in ${((Date.now() - settleStart) / 1000).toFixed(1)} s wall`,
    );

    const results: Record<string, RunResult[]> = {};
    for (const step of plan) {
      const image = step.kind === 'good' ? GOOD(step.n + 1) : `${BROKEN_PREFIX}:v${step.n}`;
      const timeout = step.kind === 'fail-off' ? BASELINE_TIMEOUT_OFF_S : TIMEOUT_S;
      const run =
        step.side === 'ours'
          ? await runOurs(aws, step.service, image)
          : await runBaseline(aws, step.service, image, timeout);
      (results[`${step.kind}/${step.side}`] ??= []).push(run);
      const m = run.moments;
      const rel = (t: number | undefined) => (t === undefined ? '-' : fmt(sim(run.exitAt - t)));
      console.log(
        `${step.kind.padEnd(13)} ${step.side.padEnd(8)} #${step.n + 1}: exit ${run.exitCode}, ` +
          `exit after COMPLETED ${rel(m.completedAt)}, after stable ${rel(m.stableAt)}, ` +
          `after FAILED ${rel(m.failedAt)}, after ${MAX_FAILED_TASKS}rd failed task ${rel(m.nthFailedTaskAt)}, ` +
          `DescribeServices ${run.describeServices}`,
      );
      const expected = step.kind === 'good' ? 0 : 1;
      const decided = step.kind === 'good' ? m.completedAt : (m.failedAt ?? m.nthFailedTaskAt);
      if (run.exitCode !== expected || decided === undefined)
        throw new Error(`${step.side} ${step.kind}: exit ${run.exitCode}\n${run.stdout}`);
    }

    // 1. Detection lag.
    const goodOurs = results['good/ours'] ?? [];
    const goodBase = results['good/baseline'] ?? [];
    const oursLag = goodOurs.map((r) => sim(r.exitAt - need(r.moments.completedAt, 'COMPLETED', r)));
    const baseLag = goodBase.map((r) => sim(r.exitAt - need(r.moments.stableAt, 'stable', r)));
    const baseVsCompleted = goodBase.map((r) => sim(r.exitAt - need(r.moments.completedAt, 'COMPLETED', r)));
    const early = baseVsCompleted.filter((v) => v < 0).length;
    // 2. Time to fail.
    const decidable = (r: RunResult) => {
      const t = [r.moments.failedAt, r.moments.nthFailedTaskAt].filter((x): x is number => x !== undefined);
      if (t.length === 0) throw new Error(`${r.side}: the failure was never decidable\n${r.stdout}`);
      return Math.min(...t);
    };
    const reported = (runs: RunResult[]) =>
      runs.map((r) => sim(need(r.firstErrorAt, '::error::', r) - decidable(r)));
    const exited = (runs: RunResult[]) => runs.map((r) => sim(r.exitAt - decidable(r)));
    const frOurs = results['fail-rollback/ours'] ?? [];
    const frBase = results['fail-rollback/baseline'] ?? [];
    const foOurs = results['fail-off/ours'] ?? [];
    const foBase = results['fail-off/baseline'] ?? [];
    // 3. DescribeServices per successful deploy.
    const printed = goodOurs.map((r) =>
      Number(/ECS calls while following: \d+ \(DescribeServices (\d+)\)/.exec(r.stdout)?.[1]),
    );

    const oursMedian = median(oursLag);
    const ratio = oursMedian / median(baseLag);
    const ok = (b: boolean) => (b ? 'ok' : 'MISSED');
    const failGoal = 2 * POLL_S;
    const frReported = median(reported(frOurs));
    const foReported = median(reported(foOurs));
    console.log('');
    console.log(
      '| figure (simulated s: median (min–max, n)) | ours | anchor-like baseline (same run) | goal |',
    );
    console.log('|---|---|---|---|');
    console.log(
      `| detection lag, good deploy: step exit − the moment its success condition held | ${spread(oursLag)} after COMPLETED | ` +
        `${spread(baseLag)} after stable (1 deployment, running == desired) | ours < ${POLL_S} s ${ok(oursMedian < POLL_S)}; ` +
        `ours / baseline ${ratio.toFixed(3)} < 0.1 ${ok(ratio < 0.1)} |`,
    );
    console.log(
      `| baseline exit − COMPLETED (negative: it reported success before the rollout completed) | | ` +
        `${spread(baseVsCompleted)}; before COMPLETED in ${early}/${baseVsCompleted.length} | |`,
    );
    console.log(
      `| unpullable image, breaker with rollback: failure said in the log − decidable | ${spread(reported(frOurs))} | ` +
        `${spread(exited(frBase))} (exit: waits until the rollback is stable, then checks) | ours ≤ ${failGoal} s ${ok(frReported <= failGoal)} |`,
    );
    console.log(`| same, step exit − decidable | ${spread(exited(frOurs))} | ${spread(exited(frBase))} | |`);
    console.log(
      `| unpullable image, breaker off: failure said in the log − decidable | ${spread(reported(foOurs))} | ` +
        `${spread(exited(foBase))} (its timeout, ${BASELINE_TIMEOUT_OFF_S} s here, 30 min by default) | ours ≤ ${failGoal} s ${ok(foReported <= failGoal)} |`,
    );
    console.log(
      `| same, step exit − decidable (ours then rolls back itself) | ${spread(exited(foOurs))} | ${spread(exited(foBase))} | |`,
    );
    console.log(
      `| DescribeServices calls per successful deploy (op log) | ${median(goodOurs.map((r) => r.describeServices))} ` +
        `(min ${Math.min(...goodOurs.map((r) => r.describeServices))}, max ${Math.max(...goodOurs.map((r) => r.describeServices))}; ` +
        `the step prints ${median(printed)} while following) | ${median(goodBase.map((r) => r.describeServices))} ` +
        `(min ${Math.min(...goodBase.map((r) => r.describeServices))}, max ${Math.max(...goodBase.map((r) => r.describeServices))}) | |`,
    );
    console.log(
      `| all ECS calls per successful deploy (op log; ours lists stopped tasks only when a count moves; the baseline registers and updates too) | ` +
        `${median(goodOurs.map((r) => r.ecsCalls))} | ${median(goodBase.map((r) => r.ecsCalls))} | |`,
    );
  } finally {
    await aws.stop();
  }
}

const entry = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (entry === fileURLToPath(import.meta.url) && process.argv[2] === CHILD_FLAG) {
  await baselineChild(JSON.parse(process.argv[3] ?? '{}') as BaselineArgs);
}
