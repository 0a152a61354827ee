// The CLI (src/cli.ts): one ready line with the endpoint, the registry host and the CA, serves,
// exits 0 on SIGTERM/SIGINT. Its bin (bin/local-aws.mjs) is committed executable with a shebang, so
// `npm ci` has nothing to chmod and `npx local-aws` runs; and stopping the npm that started it
// (`npm run local-aws`, `npx local-aws`) stops the server.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { rawRequest } from './helpers/signing.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const CLI = join(ROOT, 'packages', 'local-aws', 'src', 'cli.ts');
const PACKAGE = join(ROOT, 'packages', 'local-aws');

function start(
  args: string[],
  command = [TSX, CLI],
  options: { detached?: boolean } = {},
): {
  child: ChildProcessWithoutNullStreams;
  ready: Promise<string>;
  exit: Promise<number | null>;
} {
  const [file, ...first] = command as [string, ...string[]];
  const child = spawn(file, [...first, ...args], { cwd: ROOT, stdio: 'pipe', detached: options.detached });
  let stdout = '';
  let stderr = '';
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('local-aws ready:'));
      if (line) resolve(line);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`exited ${code} before ready: ${stdout}${stderr}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, ready, exit };
}

test('starts on an ephemeral port, prints one ready line with the URLs and CA, exits 0 on SIGTERM', async () => {
  const { child, ready, exit } = start([
    '--port',
    '0',
    '--account-id',
    '123456789012',
    '--region',
    'eu-west-1',
  ]);
  try {
    const line = await ready;
    const endpoint = /endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
    expect(endpoint).toBeDefined();
    expect(line).toMatch(
      /https https:\/\/127\.0\.0\.1:(\d+) ca \S+ca\.crt account 123456789012 region eu-west-1 registry 127\.0\.0\.1:\1 /,
    );
    const health = await rawRequest(`${endpoint}/_local-aws/health`);
    expect(health.json()).toMatchObject({ status: 'ok', accountId: '123456789012', region: 'eu-west-1' });
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}, 30_000);

test('a bad flag is a usage error (exit 2)', async () => {
  const { exit, ready } = start(['--port', 'not-a-port']);
  ready.catch(() => {});
  expect(await exit).toBe(2);
}, 30_000);

/** Whether something accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Whether any process of the group is alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

test('the bin is committed executable with a shebang, so npm ci changes nothing, and it runs', async () => {
  const pkg = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
  };
  const bin = join(PACKAGE, pkg.bin['local-aws']!);
  expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  const staged = await new Promise<string>((resolve, reject) =>
    execFile('git', ['ls-files', '--stage', '--', bin], { cwd: ROOT }, (e, out) =>
      e ? reject(e) : resolve(out),
    ),
  );
  expect(staged).toMatch(/^100755 /);
  for (const command of [[bin], ['npx', '--no-install', 'local-aws']]) {
    const help = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(command[0]!, [...command.slice(1), '--help'], { cwd: ROOT }, (e, stdout) =>
        resolve({ code: e ? 1 : 0, stdout }),
      ),
    );
    expect([command, help.code]).toEqual([command, 0]);
    expect(help.stdout).toMatch(/^usage: local-aws \[options\]/);
  }
}, 60_000);

test.each([
  { name: 'npm run local-aws', command: ['npm', 'run', '--silent', 'local-aws', '--'] },
  { name: 'npx local-aws', command: ['npx', '--no-install', 'local-aws'] },
])(
  'killing the npm of `$name` stops the server: nothing keeps listening',
  async ({ command }) => {
    const { child, ready, exit } = start(['--port', '0'], command, { detached: true });
    const pgid = child.pid!;
    try {
      const line = await ready;
      const port = Number(/endpoint http:\/\/127\.0\.0\.1:(\d+)/.exec(line)![1]);
      expect(await listening(port)).toBe(true);
      child.kill('SIGTERM'); // npm, the process the README starts
      await exit;
      expect(await eventually(async () => !(await listening(port)), 10_000)).toBe(true);
      expect(await eventually(() => !groupAlive(pgid), 10_000)).toBe(true);
    } finally {
      if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
    }
  },
  60_000,
);
