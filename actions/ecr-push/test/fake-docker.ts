// A stand-in `docker` executable for tests that need the CLI's command lines, its output or its
// lifetime, not an engine: it records each argv, answers `version` as an engine would, writes
// build's --iidfile, prints a push digest, can print given text (hostile output) on stdout and
// stderr, and can sleep in `push` or `build` (a long command to cancel). Put `dir` first on PATH.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const FAKE_IMAGE_ID = `sha256:${'a'.repeat(64)}`;
export const FAKE_PUSH_DIGEST = `sha256:${'b'.repeat(64)}`;

export interface FakeDockerOptions {
  /** Printed on stdout and stderr by every command but version, buildx version and image inspect. */
  output?: string;
  /** push and build sleep this long before they answer. */
  sleepMs?: number;
}

export interface FakeDocker {
  dir: string;
  /** PATH with the stand-in first, and what it reads: add to the CLI's (or the step's) environment. */
  env: Record<string, string>;
  /** Each call's arguments, in order. */
  calls(): string[][];
  /** The pid of the last call, once it started. */
  lastPid(): number | undefined;
  cleanup(): void;
}

const SCRIPT = `
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_DOCKER_CALLS, JSON.stringify(args) + '\\n');
fs.writeFileSync(process.env.FAKE_DOCKER_PID, String(process.pid));
const output = process.env.FAKE_DOCKER_OUTPUT || '';
const sleepMs = Number(process.env.FAKE_DOCKER_SLEEP_MS || 0);
const say = () => {
  if (!output) return;
  process.stdout.write(output + '\\n');
  process.stderr.write(output + '\\n');
};
const command = args[0] === 'image' || args[0] === 'buildx' ? args.slice(0, 2).join(' ') : args[0];
const finish = () => {
  switch (command) {
    case 'version':
      process.stdout.write(JSON.stringify({ Client: { Version: '0.0.0-fake' }, Server: { Version: '0.0.0-fake' } }) + '\\n');
      break;
    case 'buildx version':
      process.exitCode = 1;
      break;
    case 'image inspect':
      process.stdout.write('${FAKE_IMAGE_ID}\\n');
      break;
    case 'build': {
      const at = args.indexOf('--iidfile');
      if (at >= 0) fs.writeFileSync(args[at + 1], '${FAKE_IMAGE_ID}');
      say();
      break;
    }
    case 'push':
      say();
      process.stdout.write('latest: digest: ${FAKE_PUSH_DIGEST} size: 528\\n');
      break;
    default:
      say();
  }
};
if (sleepMs > 0 && (command === 'push' || command === 'build')) setTimeout(finish, sleepMs);
else finish();
`;

export function fakeDocker(options: FakeDockerOptions = {}): FakeDocker {
  const dir = mkdtempSync(join(tmpdir(), 'fake-docker-'));
  const script = join(dir, 'docker');
  writeFileSync(script, `#!${process.execPath}\n${SCRIPT}`);
  chmodSync(script, 0o755);
  const callsFile = join(dir, 'calls.jsonl');
  const pidFile = join(dir, 'pid');
  writeFileSync(callsFile, '');
  return {
    dir,
    env: {
      PATH: `${dir}${delimiter}${process.env.PATH ?? ''}`,
      FAKE_DOCKER_CALLS: callsFile,
      FAKE_DOCKER_PID: pidFile,
      ...(options.output ? { FAKE_DOCKER_OUTPUT: options.output } : {}),
      ...(options.sleepMs ? { FAKE_DOCKER_SLEEP_MS: String(options.sleepMs) } : {}),
    },
    calls: () =>
      readFileSync(callsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string[]),
    lastPid: () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
