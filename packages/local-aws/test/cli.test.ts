// `npm run local-aws` is `tsx packages/local-aws/src/cli.ts`: it prints one ready line with the
// endpoint, serves, and exits 0 on SIGTERM/SIGINT.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { rawRequest } from './helpers/signing.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const CLI = join(ROOT, 'packages', 'local-aws', 'src', 'cli.ts');

function start(args: string[]): {
  child: ChildProcessWithoutNullStreams;
  ready: Promise<string>;
  exit: Promise<number | null>;
} {
  const child = spawn(TSX, [CLI, ...args], { cwd: ROOT, stdio: 'pipe' });
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
      /https https:\/\/127\.0\.0\.1:\d+ ca \S+ca\.crt account 123456789012 region eu-west-1/,
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
