// `npm run demo`: the whole story on a fresh machine, no Docker, nothing downloaded. local-aws runs
// in this process on a sped-up clock; a small OCI image is built here in code; then each step runs
// a bundled action exactly as the GitHub runner does (`node dist/<name>/index.js` with INPUT_*
// variables and the runner's command files), its log streamed as it happens:
//   1. dist/ecr-push pushes the image (creating the repository);
//   2. dist/ecs-deploy-fargate deploys it to a new Fargate service and follows the rollout;
//   3. dist/ecs-deploy-fargate, with its default inputs, deploys a tag that was never pushed:
//      CannotPullContainerError; the step reports the failure as soon as it is decidable, then
//      follows the rollback (the circuit breaker's, or its own) to its end: rolled-back=true;
//   4. the service is back on the first revision, its rollback COMPLETED.
// Each step's job summary is shown as plain text in the terminal, and all of them are written to
// one HTML page, rendered as GitHub renders a job summary (each deploy's rollout drawn as a chart),
// whose path is printed at the end.
// Exit 0 when every step behaved as expected (including the expected failure of step 3).
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateClusterCommand, DescribeServicesCommand, ECSClient, type Service } from '@aws-sdk/client-ecs';
import { buildOciLayout, defaultNetwork, startLocalAws, type LocalAws } from '@aws-containers/local-aws';
import {
  localAwsEnv,
  runAction,
  unescapeCommandData,
  type ActionRun,
} from '../test/helpers/action-runner.js';
import { summaryText, writeSummaryPage, type StepSummary } from './summary-page.js';

/** Simulated ECS time runs this many times faster than the wall clock. */
const TIME_SCALE = 20;
/** The action's default poll interval (5 s) and timeout (15 min), in simulated time, on our clock. */
const POLL_INTERVAL = `${5000 / TIME_SCALE}ms`;
const TIMEOUT = `${(15 * 60) / TIME_SCALE}s`;
const CLUSTER = 'demo';
const SERVICE = 'web';
const REPOSITORY = 'demo/web';
/** A subnet of the default network local-aws gives its account and region. */
const SUBNET = defaultNetwork().subnetIds[0]!;

const started = performance.now();
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: string, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
const bold = (s: string) => paint('1', s);
const dim = (s: string) => paint('2', s);
const red = (s: string) => paint('31', s);
const green = (s: string) => paint('32', s);
const yellow = (s: string) => paint('33', s);
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s`;
const say = (line = ''): void => void process.stdout.write(`${line}\n`);

// ---- one step, run as the runner runs it, its log streamed

/** A workflow command line (`::group::…`, `::error …::…`) made readable; undefined to drop it. */
function readableLine(line: string): string | undefined {
  const command = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line);
  if (!command) return `    ${line}`;
  const [, name, data = ''] = command;
  const text = unescapeCommandData(data).replace(/\n/g, '\n      ');
  switch (name) {
    case 'group':
      return `  ${bold(`▸ ${text}`)}`;
    case 'error':
      return `  ${red(`✖ error: ${text}`)}`;
    case 'warning':
      return `  ${yellow(`⚠ warning: ${text}`)}`;
    case 'notice':
      return `  ℹ ${text}`;
    default:
      // endgroup, debug, add-mask, save-state, set-output, echo: noise for a person.
      return undefined;
  }
}

async function runStep(
  title: string,
  action: string,
  inputs: Record<string, string>,
  env: Record<string, string>,
): Promise<ActionRun & { firstErrorAtMs: number | undefined }> {
  say();
  say(bold(`━━ ${title}`));
  say(dim(`   node dist/${action}/index.js`));
  for (const [k, v] of Object.entries(inputs)) {
    const shown = v.includes('\n') || v.length > 100 ? `${v.replace(/\s+/g, ' ').slice(0, 97)}…` : v;
    say(dim(`   ${k}: ${shown}`));
  }
  const startedAt = performance.now();
  let firstErrorAtMs: number | undefined;
  const result = await runAction(action, {
    inputs,
    env: {
      GITHUB_REPOSITORY: 'acme/demo',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
      ...env,
    },
    event: { repository: { default_branch: 'main', name: 'demo', html_url: 'https://github.com/acme/demo' } },
    timeoutMs: 120_000,
    onLine: (line, stream) => {
      if (firstErrorAtMs === undefined && line.startsWith('::error'))
        firstErrorAtMs = performance.now() - startedAt;
      const readable = stream === 'stdout' ? readableLine(line) : `    ${dim(`stderr: ${line}`)}`;
      if (readable !== undefined) say(`${dim(elapsed())} ${readable}`);
    },
  });
  const { exitCode } = result;
  say(`  ${exitCode === 0 ? green('✔ exit code 0') : red(`✖ exit code ${exitCode}`)}`);
  say(bold('  outputs'));
  for (const [name, value] of Object.entries(result.outputs)) {
    say(`    ${name} = ${value.replace(/\n/g, '\n      ')}`);
  }
  say(bold('  job summary'));
  for (const line of summaryText(result.summary).split('\n')) say(`    ${dim('│')} ${line}`);
  summaries.push({ title, markdown: result.summary });
  return { ...result, firstErrorAtMs };
}

// ---- the demo

const failures: string[] = [];
/** Each step's job summary, for the page written at the end. */
const summaries: StepSummary[] = [];
function expect(ok: boolean, what: string): void {
  say(`  ${ok ? green('✔') : red('✖')} expected: ${what}`);
  if (!ok) failures.push(what);
}

function primaryOf(service: Service | undefined) {
  return service?.deployments?.find((d) => d.status === 'PRIMARY');
}

async function run(aws: LocalAws): Promise<void> {
  const env = localAwsEnv(aws);
  const ecs = new ECSClient({
    endpoint: aws.endpoint,
    region: aws.region,
    credentials: aws.credentials,
  });
  const simStart = aws.clock.now();
  const simulated = (): string => {
    const s = Math.round((aws.clock.now() - simStart) / 1000);
    return `${Math.floor(s / 60)} min ${s % 60} s`;
  };

  // 1. Push.
  const layout = await buildOciLayout({
    layers: [{ path: 'app/hello.txt', content: 'hello from the aws-containers demo\n' }],
    labels: { 'org.opencontainers.image.title': 'demo-web' },
    containerConfig: { Cmd: ['/app/server'], ExposedPorts: { '8080/tcp': {} } },
  });
  const pushed = await runStep(
    '1/4  Push a small image built in code, with dist/ecr-push',
    'ecr-push',
    {
      repository: REPOSITORY,
      'create-repository': 'true',
      'oci-layout': layout.dir,
      tags: 'v1',
      'docker-login': 'false',
    },
    env,
  );
  await layout.cleanup();
  const imageUri = pushed.outputs['image-uri'] ?? '';
  expect(pushed.exitCode === 0, 'the push succeeds');
  expect(/@sha256:[0-9a-f]{64}$/.test(imageUri), 'an image-uri by digest');
  if (pushed.exitCode !== 0 || !imageUri) return;

  // 2. Deploy it to a new service.
  await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  say();
  say(dim(`   (created the ECS cluster "${CLUSTER}" with the SDK)`));
  const taskDefinition = {
    family: 'demo-web',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    containerDefinitions: [
      { name: 'web', image: imageUri, essential: true, portMappings: [{ containerPort: 8080 }] },
    ],
  };
  const deploy = { cluster: CLUSTER, service: SERVICE, 'poll-interval': POLL_INTERVAL, timeout: TIMEOUT };
  const good = await runStep(
    `2/4  Deploy it to a new Fargate service, with dist/ecs-deploy-fargate (ECS time runs ${TIME_SCALE}× faster)`,
    'ecs-deploy-fargate',
    {
      ...deploy,
      'task-definition': JSON.stringify(taskDefinition),
      'create-service': 'true',
      subnets: SUBNET,
    },
    env,
  );
  expect(good.exitCode === 0, 'the deploy succeeds');
  expect(good.outputs['rollout-state'] === 'COMPLETED', 'rollout-state = COMPLETED');
  expect(good.outputs['task-definition-revision'] === '1', 'task-definition-revision = 1');
  if (good.exitCode !== 0) return;

  // 3. Deploy a tag that was never pushed, with the action's default inputs.
  const broken = imageUri.replace(/@sha256:.*$/, ':v2-never-pushed');
  const bad = await runStep(
    '3/4  Deploy a broken image (a tag that was never pushed): fail fast, then follow the rollback',
    'ecs-deploy-fargate',
    { ...deploy, image: broken },
    env,
  );
  const reportedAfter = (bad.firstErrorAtMs ?? bad.durationMs) / 1000;
  expect(bad.exitCode === 1, 'the deploy fails (exit code 1)');
  expect(
    ['ROLLED_BACK', 'FAILED'].includes(bad.outputs['rollout-state'] ?? ''),
    `rollout-state = ${bad.outputs['rollout-state']} (ROLLED_BACK when the breaker decided first, FAILED when max-failed-tasks did)`,
  );
  expect(bad.outputs['rolled-back'] === 'true', 'rolled-back = true, with default inputs');
  expect(bad.outputs['rollback-state'] === 'COMPLETED', 'rollback-state = COMPLETED');
  expect(
    /CannotPullContainerError/.test(bad.errors[0] ?? ''),
    'the error says why: CannotPullContainerError',
  );
  expect(
    reportedAfter * TIME_SCALE < 15 * 60 && reportedAfter < bad.durationMs / 1000,
    `the failure was reported after ${reportedAfter.toFixed(1)} s (${Math.round(reportedAfter * TIME_SCALE)} s of ECS time), long before the 15 min timeout, and before the rollback was followed to its end (${(bad.durationMs / 1000).toFixed(1)} s)`,
  );

  // 4. The rollback: the service runs revision 1 again.
  say();
  say(bold('━━ 4/4  The service after the rollback (DescribeServices, until the rollback completes)'));
  const revision1 = good.outputs['task-definition-arn'];
  let service: Service | undefined;
  let lastLine = '';
  for (let i = 0; i < 200; i++) {
    service = (await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] })))
      .services?.[0];
    const p = primaryOf(service);
    const line = `PRIMARY ${p?.id} ${p?.taskDefinition?.split('/').at(-1)}: running ${p?.runningCount}/${p?.desiredCount}, rollout ${p?.rolloutState}; ${service?.deployments?.length} deployment(s)`;
    if (line !== lastLine) say(`${dim(elapsed())}     ${line}`);
    lastLine = line;
    if (p?.rolloutState === 'COMPLETED' && service?.deployments?.length === 1) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const event of [...(service?.events ?? [])].reverse().slice(-4)) {
    say(`    ${dim(event.createdAt?.toISOString() ?? '')} ${event.message}`);
  }
  const p = primaryOf(service);
  expect(service?.taskDefinition === revision1, `the service runs ${revision1?.split('/').at(-1)} again`);
  expect(p?.rolloutState === 'COMPLETED' && service?.deployments?.length === 1, 'its rollback COMPLETED');
  say();
  say(dim(`   ${simulated()} of simulated ECS time`));
}

const aws = await startLocalAws({ timeScale: TIME_SCALE });
say(bold('aws-containers demo'));
say(dim(`   local-aws in this process: ${aws.endpoint} (registry ${aws.httpsUrl}), clock ×${TIME_SCALE}`));
try {
  await run(aws);
} catch (error) {
  failures.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
} finally {
  await aws.stop();
}
if (summaries.length > 0) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'aws-containers-demo-'));
  const page = await writeSummaryPage(
    path.join(dir, 'job-summaries.html'),
    summaries,
    'aws-containers demo: job summaries',
  );
  say();
  say(bold('Job summaries, as GitHub renders them (the rollouts drawn), in one page:'));
  say(`   ${page}`);
}
const wall = ((performance.now() - started) / 1000).toFixed(1);
say();
if (failures.length === 0) {
  say(green(bold(`demo: everything behaved as expected, in ${wall} s`)));
} else {
  say(red(bold(`demo: ${failures.length} thing(s) did not behave as expected (${wall} s):`)));
  for (const f of failures) say(red(`  - ${f}`));
  process.exitCode = 1;
}
