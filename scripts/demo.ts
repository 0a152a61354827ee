// `npm run demo`: the whole story on a fresh machine, no Docker, nothing downloaded. local-aws runs
// in this process on a sped-up clock; a small OCI image is built here in code; then each step runs
// a bundled action exactly as the GitHub runner does (`node dist/<name>/index.js` with INPUT_*
// variables and the runner's command files), its log streamed as it happens:
//   1. dist/ecr-push pushes the image (creating the repository);
//   2. dist/ecs-deploy-fargate deploys it to a new Fargate service and follows the rollout;
//   3. dist/ecs-deploy-fargate deploys a tag that was never pushed: CannotPullContainerError, the
//      circuit breaker fails the deployment and rolls it back, and the step fails fast saying so;
//   4. the service is back on the first revision, its rollback COMPLETED.
// Exit 0 when every step behaved as expected (including the expected failure of step 3).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { gzipSync } from 'node:zlib';
import { CreateClusterCommand, DescribeServicesCommand, ECSClient, type Service } from '@aws-sdk/client-ecs';
import { startLocalAws, type LocalAws } from '@aws-containers/local-aws';
import { inputEnv, parseCommandFile, repoRoot } from '../test/helpers/action-runner.js';

/** Simulated ECS time runs this many times faster than the wall clock. */
const TIME_SCALE = 20;
/** The action's default poll interval (5 s) and timeout (15 min), in simulated time, on our clock. */
const POLL_INTERVAL = `${5000 / TIME_SCALE}ms`;
const TIMEOUT = `${(15 * 60) / TIME_SCALE}s`;
const CLUSTER = 'demo';
const SERVICE = 'web';
const REPOSITORY = 'demo/web';
const SUBNET = 'subnet-0123456789abcdef0';

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

// ---- a small OCI image layout, built in code

function tarFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (s: string, off: number, len: number): void => void header.write(s, off, len, 'ascii');
  const octal = (n: number, len: number): string => n.toString(8).padStart(len - 1, '0') + '\0';
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(content.length, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  header.fill(' ', 148, 156);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

/** Writes a one-layer OCI image layout (tag `latest`) to a new temp dir; returns the dir. */
function buildOciLayout(labels: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'demo-oci-'));
  mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const blob = (mediaType: string, bytes: Buffer) => {
    const digest = sha256(bytes);
    writeFileSync(path.join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const tar = tarFile('app/hello.txt', Buffer.from('hello from the aws-containers demo\n'));
  const layer = blob('application/vnd.oci.image.layer.v1.tar+gzip', gzipSync(tar));
  const config = blob(
    'application/vnd.oci.image.config.v1+json',
    Buffer.from(
      JSON.stringify({
        created: '2026-01-01T00:00:00Z',
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/app/server'], ExposedPorts: { '8080/tcp': {} }, Labels: labels },
        rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
      }),
    ),
  );
  const manifest = blob(
    'application/vnd.oci.image.manifest.v1+json',
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config,
        layers: [layer],
      }),
    ),
  );
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
    }),
  );
  return dir;
}

// ---- one step, run as the runner runs it, its log streamed

interface StepResult {
  exitCode: number | null;
  outputs: Record<string, string>;
  summary: string;
  log: string;
}

const unescapeData = (s: string): string =>
  s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');

/** A workflow command line (`::group::…`, `::error …::…`) made readable; undefined to drop it. */
function readableLine(line: string): string | undefined {
  const command = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line);
  if (!command) return `    ${line}`;
  const [, name, data = ''] = command;
  const text = unescapeData(data).replace(/\n/g, '\n      ');
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
): Promise<StepResult> {
  say();
  say(bold(`━━ ${title}`));
  say(dim(`   node dist/${action}/index.js`));
  for (const [k, v] of Object.entries(inputs)) {
    const shown = v.includes('\n') || v.length > 100 ? `${v.replace(/\s+/g, ' ').slice(0, 97)}…` : v;
    say(dim(`   ${k}: ${shown}`));
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), `demo-${action}-`));
  const files = {
    GITHUB_OUTPUT: path.join(dir, 'output'),
    GITHUB_STATE: path.join(dir, 'state'),
    GITHUB_STEP_SUMMARY: path.join(dir, 'summary'),
    GITHUB_ENV: path.join(dir, 'env'),
    GITHUB_PATH: path.join(dir, 'path'),
    GITHUB_EVENT_PATH: path.join(dir, 'event.json'),
  };
  for (const file of Object.values(files)) writeFileSync(file, '');
  writeFileSync(
    files.GITHUB_EVENT_PATH,
    JSON.stringify({
      repository: { default_branch: 'main', name: 'demo', html_url: 'https://github.com/acme/demo' },
    }),
  );
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist', action, 'index.js')], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? dir,
      RUNNER_TEMP: dir,
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: 'acme/demo',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
      ...files,
      ...inputEnv(inputs),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const stdout = createInterface({ input: child.stdout });
  stdout.on('line', (line) => {
    log += `${line}\n`;
    const readable = readableLine(line);
    if (readable !== undefined) say(`${dim(elapsed())} ${readable}`);
  });
  const stderr = createInterface({ input: child.stderr });
  stderr.on('line', (line) => say(`${dim(elapsed())}     ${dim(`stderr: ${line}`)}`));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  const result: StepResult = {
    exitCode,
    outputs: parseCommandFile(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    log,
  };
  rmSync(dir, { recursive: true, force: true });
  say(`  ${exitCode === 0 ? green('✔ exit code 0') : red(`✖ exit code ${exitCode}`)}`);
  say(bold('  outputs'));
  for (const [name, value] of Object.entries(result.outputs)) {
    say(`    ${name} = ${value.replace(/\n/g, '\n      ')}`);
  }
  say(bold('  job summary'));
  for (const line of result.summary.trimEnd().split('\n')) say(`    ${dim('│')} ${line}`);
  return result;
}

// ---- the demo

const failures: string[] = [];
function expect(ok: boolean, what: string): void {
  say(`  ${ok ? green('✔') : red('✖')} expected: ${what}`);
  if (!ok) failures.push(what);
}

function primaryOf(service: Service | undefined) {
  return service?.deployments?.find((d) => d.status === 'PRIMARY');
}

async function run(aws: LocalAws): Promise<void> {
  const env = {
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
    AWS_REGION: aws.region,
    // The registry is local-aws's HTTPS port, whose certificate comes from its own CA.
    NODE_EXTRA_CA_CERTS: aws.caCertPath,
  };
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
  const layout = buildOciLayout({ 'org.opencontainers.image.title': 'demo-web' });
  const pushed = await runStep(
    '1/4  Push a small image built in code, with dist/ecr-push',
    'ecr-push',
    {
      repository: REPOSITORY,
      'create-repository': 'true',
      'oci-layout': layout,
      tags: 'v1',
      'docker-login': 'false',
    },
    env,
  );
  rmSync(layout, { recursive: true, force: true });
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

  // 3. Deploy a tag that was never pushed.
  const broken = imageUri.replace(/@sha256:.*$/, ':v2-never-pushed');
  const before = Date.now();
  const bad = await runStep(
    '3/4  Deploy a broken image (a tag that was never pushed): fail fast, the circuit breaker rolls back',
    'ecs-deploy-fargate',
    // max-failed-tasks above the breaker's threshold (3 failed tasks for 1 desired) lets ECS decide
    // and roll back. With the default (3) the step counts a task as failed when its pull fails, ECS
    // only once it has STOPPED (10 s later): the step would fail first and roll back itself.
    { ...deploy, image: broken, 'max-failed-tasks': '5' },
    env,
  );
  const failedAfter = (Date.now() - before) / 1000;
  expect(bad.exitCode === 1, 'the deploy fails (exit code 1)');
  expect(bad.outputs['rollout-state'] === 'ROLLED_BACK', 'rollout-state = ROLLED_BACK');
  expect(bad.outputs['rolled-back'] === 'true', 'rolled-back = true');
  expect(/CannotPullContainerError/.test(bad.log), 'the log says why: CannotPullContainerError');
  expect(
    failedAfter * TIME_SCALE < 15 * 60,
    `it failed in ${failedAfter.toFixed(1)} s (${Math.round(failedAfter * TIME_SCALE)} s of ECS time), long before the 15 min timeout`,
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
const wall = ((performance.now() - started) / 1000).toFixed(1);
say();
if (failures.length === 0) {
  say(green(bold(`demo: everything behaved as expected, in ${wall} s`)));
} else {
  say(red(bold(`demo: ${failures.length} thing(s) did not behave as expected (${wall} s):`)));
  for (const f of failures) say(red(`  - ${f}`));
  process.exitCode = 1;
}
