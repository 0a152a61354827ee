// The DockerCli against the real docker CLI, with `podman system service` as its engine and
// Debian's reference registry (docker-registry, plain HTTP on loopback) as the registry. Pushed
// images are checked with skopeo, not through the code under test.
//
// docker-registry runs without auth here, so it accepts any login: these tests check where the
// login lands and what logout removes, not that wrong credentials are refused (the e2e tests do
// that against local-aws's ECR registry).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionError } from '@aws-containers/core';
import { createDockerCli, jobDockerConfig, type DockerCli } from '../src/docker.js';
import { requirePodman, startPodman, type PodmanService } from '../../../test/helpers/podman.js';

const REGISTRY = '/usr/bin/docker-registry';
const SKOPEO = '/usr/bin/skopeo';
const withEngine = requirePodman({ 'docker-registry': REGISTRY, skopeo: SKOPEO });
const ready = withEngine === test;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** docker-registry on 127.0.0.1 with filesystem storage in `dir`; resolves once /v2/ answers. */
async function startRegistry(
  dir: string,
  tls?: { certificate: string; key: string },
): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const config = join(dir, `registry-${port}.yml`);
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, `registry-data-${port}`)}`,
      'http:',
      `  addr: 127.0.0.1:${port}`,
      ...(tls ? ['  tls:', `    certificate: ${tls.certificate}`, `    key: ${tls.key}`] : []),
      '',
    ].join('\n'),
  );
  const child = spawn(REGISTRY, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; ; i++) {
    // With TLS, any answer (even a TLS failure, as fetch does not trust the CA) means it listens.
    const listening = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (listening) break;
    if (i > 100 || child.exitCode !== null) {
      await stop();
      throw new Error(`docker-registry did not start on ${port}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { port, stop };
}

/** skopeo's view of a pushed image: over plain HTTP, or over TLS trusting the CA in `certDir`. */
function skopeoInspect(
  ref: string,
  certDir?: string,
): {
  Digest: string;
  Labels: Record<string, string> | null;
  Layers: string[];
} {
  const tls = certDir ? ['--cert-dir', certDir] : ['--tls-verify=false'];
  const result = spawnSync(SKOPEO, ['inspect', ...tls, `docker://${ref}`], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`skopeo inspect ${ref}: ${result.stderr}`);
  return JSON.parse(result.stdout) as {
    Digest: string;
    Labels: Record<string, string> | null;
    Layers: string[];
  };
}

let dir: string;
let engine: PodmanService | undefined;
let registry: { port: number; stop: () => Promise<void> } | undefined;
let cli: DockerCli;
let logged: string[];
let context: string;

beforeAll(async () => {
  if (!ready) return;
  dir = mkdtempSync(join(tmpdir(), 'ecr-push-docker-'));
  registry = await startRegistry(dir);
  engine = await startPodman({
    insecureRegistries: [`127.0.0.1:${registry.port}`, `localhost:${registry.port}`],
  });
  logged = [];
  cli = createDockerCli({
    dockerConfig: join(dir, 'docker-config'),
    env: { ...process.env, ...engine.env, RUNNER_TEMP: dir },
    log: (line) => logged.push(line),
  });
  context = join(dir, 'context');
  mkdirSync(context);
  writeFileSync(join(context, 'hello.txt'), 'hello\n');
  writeFileSync(
    join(context, 'Dockerfile'),
    [
      'FROM scratch AS base',
      'ARG GREETING=unset',
      'LABEL greeting=$GREETING',
      'COPY hello.txt /hello.txt',
      '',
      'FROM base AS extra',
      'LABEL stage=extra',
      'COPY Dockerfile /Dockerfile',
      '',
    ].join('\n'),
  );
}, 90_000);

afterAll(async () => {
  await engine?.stop();
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('with podman as the engine', () => {
  withEngine('probe finds the engine; buildx is off when DOCKER_BUILDKIT=0', async () => {
    const result = await cli.probe();
    expect(result).toEqual({ ok: true, serverVersion: expect.stringMatching(/^\d+\.\d+/), buildx: false });
  });

  withEngine(
    'build with labels, build args and a target; push every tag; skopeo sees the same digest',
    async () => {
      const repo = `127.0.0.1:${registry?.port}/team/app`;
      logged.length = 0;
      const { imageId } = await cli.build({
        context,
        buildArgs: new Map([['GREETING', 'hello world']]),
        target: 'base',
        platforms: [],
        labels: {
          'org.opencontainers.image.revision': 'abc123',
          'org.opencontainers.image.description': 'a b',
        },
        tags: [`${repo}:v1`, `${repo}:latest`],
      });
      expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
      // The CLI's output was streamed, after the command line itself.
      // Build-argument values are not echoed; the context comes after `--`.
      expect(logged[0]).toMatch(
        /^\[command\]docker build --iidfile .* --target base --build-arg GREETING=\*\*\* .* -- \S+\/context$/,
      );
      expect(logged[0]).not.toContain('hello world');
      expect(logged.length).toBeGreaterThan(2);

      expect(await cli.imageExists(`${repo}:v1`)).toBe(true);
      expect(await cli.imageExists(`${repo}:latest`)).toBe(true);
      expect(await cli.imageExists(`${repo}:never-built`)).toBe(false);

      const v1 = await cli.push(`${repo}:v1`);
      const latest = await cli.push(`${repo}:latest`);
      expect(v1.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(latest.digest).toBe(v1.digest);

      const seen = skopeoInspect(`${repo}:v1`);
      expect(seen.Digest).toBe(v1.digest);
      expect(seen.Labels).toMatchObject({
        'org.opencontainers.image.revision': 'abc123',
        'org.opencontainers.image.description': 'a b',
        greeting: 'hello world',
      });
      // The target stopped at `base`: the extra stage's label and layer are absent.
      expect(seen.Labels).not.toHaveProperty('stage');
      expect(seen.Layers).toHaveLength(1);
    },
    120_000,
  );

  withEngine(
    'tag an image already in the engine under a new name and push it',
    async () => {
      const { imageId } = await cli.build({
        context,
        buildArgs: new Map(),
        platforms: [],
        labels: {},
        tags: ['local/app:dev'],
      });
      const target = `127.0.0.1:${registry?.port}/team/retagged:release`;
      await cli.tag('local/app:dev', target);
      const { digest } = await cli.push(target);
      const seen = skopeoInspect(target);
      expect(seen.Digest).toBe(digest);
      // (No assertion on `greeting`: podman 4.3's build cache reuses the earlier build's LABEL step
      // whatever the build arg.)
      expect(seen.Labels).toMatchObject({ stage: 'extra' });
      expect(seen.Layers).toHaveLength(2);
      expect(imageId).toMatch(/^sha256:/);
    },
    120_000,
  );

  withEngine('failures carry the end of docker’s output and a hint', async () => {
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'Dockerfile'), 'FROM scratch\nCOPY missing-file.txt /\n');
    const build = await cli
      .build({ context: broken, buildArgs: new Map(), platforms: [], labels: {}, tags: ['local/broken:1'] })
      .catch((e: unknown) => e);
    expect(build).toBeInstanceOf(ActionError);
    expect((build as Error).message).toMatch(/^docker build failed \(exit code \d+\):\n/);
    expect((build as Error).message).toMatch(/missing-file\.txt/);
    expect((build as ActionError).hint).toMatch(/Dockerfile/);

    const push = await cli.push(`127.0.0.1:${registry?.port}/team/app:not-built`).catch((e: unknown) => e);
    expect(push).toBeInstanceOf(ActionError);
    expect((push as Error).message).toMatch(
      /^docker push .*:not-built failed \(exit code \d+\):\n.*not-built/s,
    );

    const tag = await cli.tag('local/none:1', 'local/none:2').catch((e: unknown) => e);
    expect((tag as ActionError).hint).toMatch(/Input "image"/);
  });

  withEngine('login and logout touch only the job-scoped config; the password goes on stdin', async () => {
    // The runner user's config, with another login and a credential store that does not exist:
    // had docker used it for our login, the login would fail.
    const home = join(dir, 'runner-home');
    mkdirSync(join(home, '.docker'), { recursive: true });
    const userConfig = JSON.stringify({
      auths: { 'ghcr.io': { auth: Buffer.from('someone:their-token').toString('base64') } },
      credsStore: 'aws-containers-test-absent',
    });
    writeFileSync(join(home, '.docker', 'config.json'), userConfig);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...(engine?.env ?? {}),
      HOME: home,
      RUNNER_TEMP: join(dir, 'job-temp'),
    };
    delete env.DOCKER_CONFIG;
    const dockerConfig = jobDockerConfig(env);
    const lines: string[] = [];
    const job = createDockerCli({ dockerConfig, env, log: (line) => lines.push(line) });

    // podman's login endpoint falls back to plain HTTP only for localhost:PORT (see podman.ts).
    const host = `localhost:${registry?.port}`;
    const password = `pw-${Math.random().toString(36).slice(2)}-secret`;
    await job.login(host, 'AWS', password);

    const jobConfig = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')) as {
      auths: Record<string, { auth?: string }>;
      credHelpers?: Record<string, string>;
      credsStore?: string;
    };
    expect(jobConfig.auths[host]?.auth).toBe(Buffer.from(`AWS:${password}`).toString('base64'));
    expect(jobConfig.auths['ghcr.io']).toBeDefined();
    expect(jobConfig.credsStore).toBe('aws-containers-test-absent');
    expect(readFileSync(join(home, '.docker', 'config.json'), 'utf8')).toBe(userConfig);
    // The logged command line is made from the very array handed to spawn.
    expect(lines[0]).toBe(`[command]docker login --username AWS --password-stdin -- ${host}`);
    expect(lines.join('\n')).not.toContain(password);
    expect(lines.join('\n')).not.toContain(Buffer.from(`AWS:${password}`).toString('base64'));

    // A second job on the same machine, with its own RUNNER_TEMP, logs in and out: ours stays.
    const otherEnv = { ...env, RUNNER_TEMP: join(dir, 'other-job-temp') };
    const other = createDockerCli({ dockerConfig: jobDockerConfig(otherEnv), env: otherEnv });
    await other.login(host, 'AWS', 'other-password');
    await other.logout(host);
    const stillOurs = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')) as typeof jobConfig;
    expect(stillOurs.auths[host]).toBeDefined();

    await job.logout(host);
    const after = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')) as typeof jobConfig;
    expect(after.auths[host]).toBeUndefined();
    expect(after.auths['ghcr.io']).toEqual(jobConfig.auths['ghcr.io']);
    expect(after.credHelpers).toBeUndefined();
    expect(readFileSync(join(home, '.docker', 'config.json'), 'utf8')).toBe(userConfig);
  });

  withEngine(
    'an HTTPS registry whose CA the engine is told to trust after it started (the e2e setup)',
    async () => {
      const tlsDir = join(dir, 'tls');
      mkdirSync(tlsDir);
      const certificate = join(tlsDir, 'ca.crt');
      const key = join(tlsDir, 'key.pem');
      const openssl = spawnSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '1',
        ].concat([
          '-keyout',
          key,
          '-out',
          certificate,
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ]),
        { encoding: 'utf8' },
      );
      if (openssl.status !== 0) throw new Error(`openssl: ${openssl.stderr}`);
      const https = await startRegistry(dir, { certificate, key });
      try {
        const hostPort = `127.0.0.1:${https.port}`;
        const ref = `${hostPort}/team/app:tls`;
        await cli.tag(`127.0.0.1:${registry?.port}/team/app:v1`, ref);
        // Untrusted first: the engine refuses the certificate, and the hint says what to do.
        const refused = await cli.push(ref).catch((e: unknown) => e);
        expect((refused as Error).message).toMatch(/certificate/);
        expect((refused as ActionError).hint).toMatch(/certs\.d/);

        engine?.trustCa(hostPort, certificate);
        await cli.login(hostPort, 'AWS', 'any');
        const { digest } = await cli.push(ref);
        expect(skopeoInspect(ref, tlsDir).Digest).toBe(digest);
        await cli.logout(hostPort);
      } finally {
        await https.stop();
      }
    },
    60_000,
  );

  withEngine('an aborted signal kills the running command', async () => {
    const controller = new AbortController();
    const aborting = createDockerCli({
      dockerConfig: join(dir, 'docker-config'),
      env: { ...process.env, ...(engine?.env ?? {}) },
      signal: controller.signal,
    });
    const pending = aborting.push(`127.0.0.1:${registry?.port}/team/app:v1`);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});
