// ecr-push's docker paths end to end: dist/ecr-push/index.js against local-aws, with the real
// docker CLI and `podman system service` as its engine (see test/helpers/podman.ts). The engine
// trusts local-aws's CA for its HTTPS registry port through the service's own certs.d. Pushed
// images are checked with skopeo and the ECR API, not only with the step's outputs.
//
// local-aws answers from this jest process, so every tool (docker, skopeo) is spawned
// asynchronously: a spawnSync would block the event loop that serves its requests.
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalAws } from '@aws-containers/local-aws';
import { localAwsEnv, pushToMain, runAction, type ActionRun } from './helpers/action-runner.js';
import { DOCKER, requirePodman, startPodman, type PodmanService } from './helpers/podman.js';
import { refusedCalls } from './helpers/policies.js';

type LocalAws = Awaited<ReturnType<typeof startLocalAws>>;

const SKOPEO = '/usr/bin/skopeo';
const withEngine = requirePodman({ skopeo: SKOPEO });
const ready = withEngine === test;

let aws: LocalAws;
let engine: PodmanService | undefined;
let host: string;
const temps: string[] = [];

beforeAll(async () => {
  aws = await startLocalAws();
  host = new URL(aws.httpsUrl).host;
  if (ready) engine = await startPodman({ trustedCas: { [host]: aws.caCertPath } });
}, 90_000);
// Each action ran under its published policies: nothing it called may have been refused.
afterEach(() => expect(refusedCalls(aws)).toEqual([]));
afterAll(async () => {
  await engine?.stop();
  await aws?.stop();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
}, 30_000);
beforeEach(() => aws.opLog.clear());

function temp(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `ecr-push-docker-${prefix}-`));
  temps.push(dir);
  return dir;
}

/** One job: its RUNNER_TEMP and HOME (so no test reads or writes the machine's ~/.docker). */
interface Job {
  runnerTemp: string;
  home: string;
}

function job(): Job {
  return { runnerTemp: temp('runner'), home: temp('home') };
}

function actionEnv(j: Job, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...localAwsEnv(aws, 'ecr-push'),
    RUNNER_TEMP: j.runnerTemp,
    HOME: j.home,
    ...engine?.env,
    ...pushToMain.env,
    ...extra,
  };
}

/** The main step (docker-login stays at its default, auto). */
function push(j: Job, inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  return runAction('ecr-push', {
    inputs,
    env: actionEnv(j, env),
    event: pushToMain.event,
    timeoutMs: 180_000,
  });
}

/** The post step, as the runner runs it: the same inputs and the state the main step saved. */
function post(j: Job, inputs: Record<string, string>, main: ActionRun): Promise<ActionRun> {
  return runAction('ecr-push', {
    inputs,
    // Later steps (and the post step) see what the main step exported to GITHUB_ENV.
    env: actionEnv(j, main.env),
    event: pushToMain.event,
    state: main.state,
    timeoutMs: 60_000,
  });
}

/** Runs a tool without blocking the event loop: local-aws answers it from this very process. */
function runTool(
  file: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ code: null, stdout, stderr: stderr + err.message }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The docker CLI against the test engine, with its own throwaway config. */
async function docker(args: string[]): Promise<string> {
  const result = await runTool(DOCKER, args, { ...engine?.env, DOCKER_CONFIG: temp('docker-cli') });
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')} (${result.code}):\n${result.stderr}`);
  return result.stdout;
}

/** A build context: `FROM scratch` + `COPY hello.txt /` (nothing to pull; tiny under vfs). */
function context(content: string): string {
  const dir = temp('context');
  writeFileSync(path.join(dir, 'hello.txt'), content);
  writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /\n');
  return dir;
}

async function ecrClient() {
  const { ECRClient } = await import('@aws-sdk/client-ecr');
  return new ECRClient({
    endpoint: aws.endpoint,
    region: aws.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

async function password(): Promise<string> {
  const { GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr');
  const token = await (await ecrClient()).send(new GetAuthorizationTokenCommand({}));
  return Buffer.from(token.authorizationData?.[0]?.authorizationToken ?? '', 'base64')
    .toString()
    .replace(/^AWS:/, '');
}

interface Inspected {
  Digest: string;
  Labels: Record<string, string> | null;
  Layers: string[];
}

async function skopeoInspect(ref: string): Promise<Inspected> {
  const certDir = temp('certs');
  copyFileSync(aws.caCertPath, path.join(certDir, 'ca.crt'));
  const result = await runTool(SKOPEO, [
    'inspect',
    '--cert-dir',
    certDir,
    '--creds',
    `AWS:${await password()}`,
    `docker://${ref}`,
  ]);
  if (result.code !== 0) throw new Error(`skopeo inspect ${ref}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Inspected;
}

/** Tags by digest, from DescribeImages. */
async function describeImages(repositoryName: string): Promise<Record<string, string[]>> {
  const { DescribeImagesCommand } = await import('@aws-sdk/client-ecr');
  const found = await (await ecrClient()).send(new DescribeImagesCommand({ repositoryName }));
  return Object.fromEntries(
    (found.imageDetails ?? []).map((d) => [d.imageDigest ?? '', [...(d.imageTags ?? [])].sort()]),
  );
}

function authsOf(configFile: string): Record<string, unknown> {
  return (JSON.parse(readFileSync(configFile, 'utf8')) as { auths?: Record<string, unknown> }).auths ?? {};
}

withEngine(
  'context: builds with docker, pushes every tag, and skopeo and ECR agree',
  async () => {
    const j = job();
    const run = await push(j, {
      repository: 'docker/context',
      'create-repository': 'true',
      context: context('hello from context\n'),
    });
    expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
    const digest = run.outputs.digest ?? '';
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(run.outputs).toMatchObject({
      registry: host,
      'repository-uri': `${host}/docker/context`,
      image: `${host}/docker/context:main`,
      'image-uri': `${host}/docker/context@${digest}`,
      tags: 'main\nsha-0123456\nlatest',
      pushed: 'true',
    });
    expect(run.stdout).toMatch(/^\[command\]docker build .*--tag \S+\/docker\/context:main /m);
    expect(run.summary).toContain(digest);
    expect(run.summary).toContain('with docker and pushed it');

    const inspected = await skopeoInspect(`${host}/docker/context:sha-0123456`);
    expect(inspected.Digest).toBe(digest);
    expect(inspected.Layers).toHaveLength(1);
    expect(inspected.Labels).toMatchObject({
      'org.opencontainers.image.revision': pushToMain.sha,
      'org.opencontainers.image.source': 'https://github.com/acme/app',
      'org.opencontainers.image.title': 'app',
    });
    expect(inspected.Labels?.['org.opencontainers.image.created']).toMatch(/^\d{4}-\d\d-\d\dT/);

    expect(await describeImages('docker/context')).toEqual({
      [digest]: ['latest', 'main', 'sha-0123456'],
    });
  },
  240_000,
);

withEngine(
  'image: retags an image already in the engine and pushes it',
  async () => {
    const dir = context('hello from image\n');
    await docker(['build', '-t', 'app:local', dir]);
    const j = job();
    const run = await push(j, {
      repository: 'docker/image',
      'create-repository': 'true',
      image: 'app:local',
      tags: 'raw:v1\nsha',
    });
    expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
    const digest = run.outputs.digest ?? '';
    expect(run.outputs).toMatchObject({
      image: `${host}/docker/image:v1`,
      'image-uri': `${host}/docker/image@${digest}`,
      tags: 'v1\nsha-0123456',
      pushed: 'true',
    });
    expect(run.stdout).toContain(`[command]docker tag -- app:local ${host}/docker/image:v1`);
    expect(run.summary).toContain('Pushed the local image app:local.');
    expect((await skopeoInspect(`${host}/docker/image:v1`)).Digest).toBe(digest);
    expect(await describeImages('docker/image')).toEqual({ [digest]: ['sha-0123456', 'v1'] });
  },
  240_000,
);

withEngine(
  'logs docker in to a job-scoped config, never prints the password, and the post step logs out',
  async () => {
    const j = job();
    // The runner user's own docker config, with another registry's login.
    const userConfig = path.join(j.home, '.docker', 'config.json');
    mkdirSync(path.dirname(userConfig), { recursive: true });
    const other = { auth: Buffer.from('user:other-secret').toString('base64') };
    const userConfigText = `${JSON.stringify({ auths: { 'other.example.com': other } }, null, 2)}\n`;
    writeFileSync(userConfig, userConfigText);

    const inputs = {
      repository: 'docker/login',
      'create-repository': 'true',
      context: context('hello from login\n'),
      tags: 'sha',
    };
    const run = await push(j, inputs);
    expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });

    const dockerConfig = run.env.DOCKER_CONFIG ?? '';
    expect(dockerConfig).toBe(path.join(j.runnerTemp, 'aws-containers-docker-config'));
    expect(run.state.dockerConfig).toBe(dockerConfig);
    expect(JSON.parse(run.state.dockerLogins ?? '[]')).toEqual([host]);
    const jobConfig = path.join(dockerConfig, 'config.json');
    const auths = authsOf(jobConfig);
    expect(Object.keys(auths).sort()).toEqual([host, 'other.example.com'].sort());
    expect(auths['other.example.com']).toEqual(other);
    expect(run.stdout).toContain(`docker logged in to ${host}`);

    // The password docker was given (each GetAuthorizationToken gives a new one): masked first,
    // and no other line of the step may carry it.
    const stored = Buffer.from((auths[host] as { auth: string }).auth, 'base64').toString();
    expect(stored).toMatch(/^AWS:/);
    const secret = stored.slice('AWS:'.length);
    expect(secret.length).toBeGreaterThan(20);
    const maskLines = run.stdout.split('\n').filter((l) => l.startsWith('::add-mask::'));
    expect(maskLines).toContain(`::add-mask::${secret}`);
    const elsewhere = run.stdout
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .filter((l) => l.includes(secret));
    expect(elsewhere).toEqual([]);
    expect(run.stderr).not.toContain(secret);
    expect(run.summary).not.toContain(secret);
    expect(JSON.stringify([run.outputs, run.state, run.env])).not.toContain(secret);

    // The runner user's config is as it was.
    expect(readFileSync(userConfig, 'utf8')).toBe(userConfigText);

    const after = await post(j, inputs, run);
    expect({ exitCode: after.exitCode, errors: after.errors }).toEqual({ exitCode: 0, errors: [] });
    expect(after.stdout).toContain(`[command]docker logout -- ${host}`);
    expect(after.stdout).toContain(`docker logged out of ${host}`);
    expect(after.stdout).not.toContain(secret);
    expect(authsOf(jobConfig)).toEqual({ 'other.example.com': other });
    expect(readFileSync(userConfig, 'utf8')).toBe(userConfigText);
  },
  240_000,
);

withEngine(
  'skip-logout keeps the docker login after the post step',
  async () => {
    const j = job();
    const inputs = {
      repository: 'docker/keep',
      'create-repository': 'true',
      context: context('hello from skip-logout\n'),
      tags: 'sha',
      'skip-logout': 'true',
    };
    const run = await push(j, inputs);
    expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
    expect(run.stdout).toContain(`docker logged in to ${host} (kept after the job: skip-logout)`);
    expect(run.state.dockerLogins).toBeUndefined();
    const jobConfig = path.join(run.env.DOCKER_CONFIG ?? '', 'config.json');
    expect(Object.keys(authsOf(jobConfig))).toEqual([host]);

    const after = await post(j, inputs, run);
    expect({ exitCode: after.exitCode, errors: after.errors }).toEqual({ exitCode: 0, errors: [] });
    expect(after.stdout).not.toContain('docker logout');
    expect(Object.keys(authsOf(jobConfig))).toEqual([host]);
  },
  240_000,
);

withEngine(
  'no docker engine: context fails before any AWS call and says which inputs need none',
  async () => {
    const j = job();
    const run = await push(
      j,
      { repository: 'docker/none', 'create-repository': 'true', context: context('unused\n') },
      { DOCKER_HOST: 'unix:///nonexistent.sock' },
    );
    expect(run.exitCode).toBe(1);
    expect(run.errors).toHaveLength(1);
    const error = run.errors[0] ?? '';
    expect(error).toContain('The context input needs a docker engine');
    expect(error).toContain('no docker engine answers at DOCKER_HOST=unix:///nonexistent.sock');
    expect(error).toContain('oci-layout, docker-archive and promote-from push without one');
    expect(aws.opLog.entries()).toEqual([]);
    expect(run.env.DOCKER_CONFIG).toBeUndefined();
    expect(existsSync(path.join(j.runnerTemp, 'aws-containers-docker-config', 'config.json'))).toBe(false);
  },
  60_000,
);

withEngine(
  'an immutable tag pushed again through docker names the tag and the digest it holds',
  async () => {
    const inputs = {
      repository: 'docker/immutable',
      'create-repository': 'true',
      'image-tag-mutability': 'IMMUTABLE',
      tags: 'raw:v1',
    };
    const first = await push(job(), { ...inputs, context: context('first\n') });
    expect({ exitCode: first.exitCode, errors: first.errors }).toEqual({ exitCode: 0, errors: [] });
    const held = first.outputs.digest ?? '';
    expect(held).toMatch(/^sha256:/);

    await docker(['build', '-t', 'app:second', context('second, different\n')]);
    const run = await push(job(), { ...inputs, image: 'app:second' });
    expect(run.exitCode).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(
      'The tag "v1" already exists in the immutable repository "docker/immutable"',
    );
    expect(run.errors[0]).toContain(held);
    expect(await describeImages('docker/immutable')).toEqual({ [held]: ['v1'] });
  },
  300_000,
);

withEngine(
  'login-registries: public gets its token from us-east-1 whatever the step region, and a failed login still logs out of the others',
  async () => {
    const j = job();
    const inputs = {
      repository: 'docker/public',
      'create-repository': 'true',
      context: context('hello from eu-west-1\n'),
      tags: 'sha',
      'login-registries': 'public',
    };
    // eu-west-1 is another registry host of local-aws (one per account and region, as on AWS).
    const euHost = await aws.registryHostFor(aws.accountId, 'eu-west-1');
    engine?.trustCa(euHost, aws.caCertPath);
    const run = await push(j, inputs, { AWS_REGION: 'eu-west-1' });
    // public.ecr.aws cannot be reached from this machine: the docker login to it fails, after
    // the step's own registry was logged in to.
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toContain('public.ecr.aws');
    const calls = aws.opLog.entries().map((e) => `${e.action} ${e.region}`);
    expect(calls).toContain('ecr:GetAuthorizationToken eu-west-1');
    expect(calls).toContain('ecr-public:GetAuthorizationToken us-east-1');
    expect(JSON.parse(run.state.dockerLogins ?? '[]')).toEqual([euHost]);

    const after = await post(j, inputs, run);
    expect(after.exitCode).toBe(0);
    expect(after.stdout).toContain(`docker logged out of ${euHost}`);
  },
  240_000,
);
