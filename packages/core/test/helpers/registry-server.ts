// Debian's reference registry (/usr/bin/docker-registry, distribution v2) started on loopback
// for a test, and a small HTTP proxy to put in front of it (fault injection, auth, request log).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DOCKER_REGISTRY = '/usr/bin/docker-registry';
export const SKOPEO = '/usr/bin/skopeo';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningRegistry {
  /** `http://127.0.0.1:<port>` (https with tls). */
  url: string;
  /** `127.0.0.1:<port>`. */
  host: string;
  dir: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startRegistry(
  options: { tls?: { certFile: string; keyFile: string } } = {},
): Promise<RunningRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'registry-'));
  const port = await freePort();
  const tls = options.tls
    ? `\n  tls: {certificate: ${options.tls.certFile}, key: ${options.tls.keyFile}}`
    : '';
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog: {level: warn, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}\n` +
      `http:\n  addr: 127.0.0.1:${port}${tls}\n`,
  );
  let output = '';
  const child: ChildProcess = spawn(DOCKER_REGISTRY, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const scheme = options.tls ? 'https' : 'http';
  const deadline = Date.now() + 15_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/v2/' }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      throw new Error(`docker-registry did not start on port ${port}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    dir,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ProxiedRequest {
  method: string;
  path: string;
}

/** What the proxy does with a request: pass it on, answer it itself, or drop the connection. */
export type ProxyAction =
  'forward' | 'drop' | { status: number; headers?: Record<string, string>; body?: string };

export interface RunningProxy {
  url: string;
  host: string;
  log: ProxiedRequest[];
  close(): Promise<void>;
}

/** An HTTP proxy to `target` (a RunningRegistry url) that asks `decide` about every request. */
export async function startProxy(
  target: string,
  decide: (req: http.IncomingMessage, log: ProxiedRequest[]) => ProxyAction = () => 'forward',
): Promise<RunningProxy> {
  const upstream = new URL(target);
  const log: ProxiedRequest[] = [];
  const server = http.createServer((req, res) => {
    const action = decide(req, log);
    log.push({ method: req.method ?? '', path: req.url ?? '' });
    if (action === 'drop') {
      req.socket.destroy();
      return;
    }
    if (action !== 'forward') {
      req.resume();
      res.writeHead(action.status, { 'Content-Type': 'application/json', ...action.headers });
      res.end(action.body ?? '');
      return;
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
