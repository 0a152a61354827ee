// A docker engine for tests, where no Docker daemon runs: `podman system service` answers the
// Docker API on a unix socket, and the real docker CLI talks to it through DOCKER_HOST.
//
//   import { requirePodman, startPodman } from '<root>/test/helpers/podman.js';
//   const withPodman = requirePodman();          // skip locally, fail under CI, when tools are missing
//   let engine: PodmanService;
//   beforeAll(async () => {
//     engine = await startPodman({ insecureRegistries: ['127.0.0.1:5000', 'localhost:5000'] });
//     engine.trustCa('127.0.0.1:4567', localAws.caCertPath);   // an HTTPS registry (local-aws)
//   }, 60_000);
//   afterAll(() => engine?.stop());
//   withPodman('…', async () => { spawn('docker', [...], { env: { ...process.env, ...engine.env } }) });
//
// Each service is isolated, so parallel test files do not collide: its own storage root, run root,
// libpod tmpdir and HOME under one temp folder, removed by stop(). Storage uses the vfs driver
// (no overlay mounts needed; slow for big images, so keep test images small: `FROM scratch` +
// `COPY` builds without pulling anything).
//
// Registries, as the service sees them (it, not the docker CLI, talks to registries):
// - Trusting an HTTPS registry's CA: trustCa(hostPort, caFile) writes
//   `<HOME>/.config/containers/certs.d/<host:port>/ca.crt` in the service's own HOME. containers/image
//   looks there first (before /etc/containers/certs.d) on every connection, so it works after the
//   service started and writes nothing outside the temp folder.
// - A plain-HTTP registry: list its host:port in `insecureRegistries` (a registries.conf
//   `[[registry]] insecure = true`, given to the service as CONTAINERS_REGISTRIES_CONF). Podman's
//   login endpoint (4.3) ignores that setting and falls back to HTTP only for `localhost:PORT`, so
//   tests that log in to a plain-HTTP registry use `localhost:PORT` (list both forms).
//
// The env it returns sets DOCKER_BUILDKIT=0 whatever is installed: podman's engine has no BuildKit
// session endpoint, so buildx's docker driver cannot build on it; the classic builder can.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTools } from './tools.js';

/** The docker CLI the tests drive (the runner's is on PATH; this is where it is on our machines). */
export const DOCKER = 'docker';
export const PODMAN = 'podman';

export interface PodmanService {
  /** `unix:///…/podman.sock`. */
  dockerHost: string;
  /** What to add to a docker CLI's environment: DOCKER_HOST, DOCKER_BUILDKIT=0. */
  env: Record<string, string>;
  /** The temp folder holding storage, sockets, HOME and registries.conf. */
  dir: string;
  /** Makes the service trust `caFile` for the registry at `hostPort` (e.g. `127.0.0.1:4567`). */
  trustCa(hostPort: string, caFile: string): void;
  /** What the service printed so far (for a failing test's message). */
  output(): string;
  /** Stops the service and removes its folder. */
  stop(): Promise<void>;
}

export interface StartPodmanOptions {
  /** host:port of plain-HTTP registries. */
  insecureRegistries?: string[];
  /** host:port → CA certificate file, as trustCa. */
  trustedCas?: Record<string, string>;
  /** How long to wait for the engine to answer `docker version`; default 30 s. */
  timeoutMs?: number;
}

/** requireTools (./tools.ts) for podman, the docker CLI and `extraTools` (name → path). */
export function requirePodman(extraTools: Record<string, string> = {}): jest.It {
  const tools: Record<string, string> = { podman: PODMAN, 'the docker CLI': DOCKER, ...extraTools };
  return requireTools(Object.entries(tools).map(([name, path]) => ({ name, path })));
}

const running = new Set<ChildProcess>();
// A service left running would keep the socket and storage busy after jest exits.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `podman system service` on a fresh socket and waits until the docker CLI gets answers. */
export async function startPodman(options: StartPodmanOptions = {}): Promise<PodmanService> {
  const dir = mkdtempSync(join(tmpdir(), 'podman-'));
  const home = join(dir, 'home');
  for (const sub of ['root', 'runroot', 'tmp', home]) mkdirSync(join(dir, sub), { recursive: true });
  const registriesConf = join(dir, 'registries.conf');
  writeFileSync(
    registriesConf,
    [
      'unqualified-search-registries = []',
      ...(options.insecureRegistries ?? []).flatMap((hostPort) => [
        '',
        '[[registry]]',
        `location = ${JSON.stringify(hostPort)}`,
        'insecure = true',
      ]),
      '',
    ].join('\n'),
  );
  const socket = join(dir, 'podman.sock');
  const dockerHost = `unix://${socket}`;
  const trustCa = (hostPort: string, caFile: string) => {
    const certsDir = join(home, '.config', 'containers', 'certs.d', hostPort);
    mkdirSync(certsDir, { recursive: true });
    copyFileSync(caFile, join(certsDir, 'ca.crt'));
  };
  for (const [hostPort, caFile] of Object.entries(options.trustedCas ?? {})) trustCa(hostPort, caFile);

  const child = spawn(
    PODMAN,
    [
      '--root',
      join(dir, 'root'),
      '--runroot',
      join(dir, 'runroot'),
      '--tmpdir',
      join(dir, 'tmp'),
      '--storage-driver',
      'vfs',
      '--events-backend',
      'file',
      'system',
      'service',
      '--time=0',
      dockerHost,
    ],
    {
      env: { ...process.env, HOME: home, CONTAINERS_REGISTRIES_CONF: registriesConf },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      exited = `could not start podman: ${err.message}`;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exited ??= `podman exited (${signal ?? code})`;
      running.delete(child);
      resolve();
    });
  });

  const stop = async () => {
    if (exited === undefined) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const env = { DOCKER_HOST: dockerHost, DOCKER_BUILDKIT: '0' };
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`${exited} before answering:\n${output}`);
    }
    const version = spawnSync(DOCKER, ['version', '--format', '{{.Server.Version}}'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (version.status === 0 && version.stdout.trim()) break;
    const lastAnswer = `${version.stderr ?? ''}${version.error?.message ?? ''}`.trim();
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `podman system service did not answer docker version at ${dockerHost}: ${lastAnswer}\n${output}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return { dockerHost, env, dir, trustCa, output: () => output, stop };
}
