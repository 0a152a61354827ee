// Runs a bundled action exactly as the GitHub runner does: `node dist/<name>/index.js` with
// INPUT_* variables and the runner's command files, then (optionally) the post step with the
// state the main step saved. The e2e tests and the demo run actions through it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { inputsEnv } from '@aws-containers/core';
import type { LocalAws } from '@aws-containers/local-aws';
import { keyForAction, type PolicyAction } from './policies.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * What points a step's AWS SDK at local-aws, and makes it trust the CA of local-aws's HTTPS registry.
 * With `action`, the step signs with a key held to that action's published policies (./policies.ts);
 * without, with local-aws's unrestricted key.
 */
export function localAwsEnv(aws: LocalAws, action?: PolicyAction): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
    AWS_REGION: aws.region,
    NODE_EXTRA_CA_CERTS: aws.caCertPath,
    ...(action ? keyForAction(aws, action).env : {}),
  };
}

const PUSHED_SHA = '0123456789abcdef0123456789abcdef01234567';

/** A workflow run on a push to main of acme/app: the runner's variables and the event payload. */
export const pushToMain = {
  sha: PUSHED_SHA,
  env: {
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: PUSHED_SHA,
    GITHUB_REPOSITORY: 'acme/app',
  },
  event: { repository: { default_branch: 'main', name: 'app', html_url: 'https://github.com/acme/app' } },
};

export interface ActionRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  env: Record<string, string>;
  /** The `::error::` messages, unescaped. */
  errors: string[];
  durationMs: number;
}

export interface RunOptions {
  inputs?: Record<string, string>;
  /** Extra environment; the parent's is NOT inherited beyond PATH and HOME unless given. */
  env?: Record<string, string>;
  /** The webhook payload written to GITHUB_EVENT_PATH. */
  event?: unknown;
  /** Saved state from a main step: runs the post step. */
  state?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  /** Called with each line the step prints, as it prints it (the demo shows the log live). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Sends `signal` to the step once a stdout line matches `line` (the runner cancelling a job). */
  signalWhen?: { line: RegExp; signal: NodeJS.Signals };
  /**
   * The entry file to run, by absolute path, instead of dist/<name>/index.js: an action that is not
   * bundled here (the anchors, exported from their repositories). `name` then only names its temp dir.
   */
  entry?: string;
}

/** Parses a GITHUB_OUTPUT / GITHUB_STATE / GITHUB_ENV file (`k=v` lines and `k<<DELIM` blocks). */
export function parseCommandFile(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, key, delimiter] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '');
      result[key as string] = value.join('\n');
    } else if (line.includes('=')) {
      const at = line.indexOf('=');
      result[line.slice(0, at)] = line.slice(at + 1);
    }
  }
  return result;
}

/** The data of a workflow command (`::error::…`) as the runner shows it. */
export function unescapeCommandData(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

export async function runAction(name: string, options: RunOptions = {}): Promise<ActionRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `action-${name}-`));
  const files = {
    GITHUB_OUTPUT: path.join(dir, 'output'),
    GITHUB_STATE: path.join(dir, 'state'),
    GITHUB_STEP_SUMMARY: path.join(dir, 'summary'),
    GITHUB_ENV: path.join(dir, 'env'),
    GITHUB_PATH: path.join(dir, 'path'),
    GITHUB_EVENT_PATH: path.join(dir, 'event.json'),
  };
  for (const file of Object.values(files)) writeFileSync(file, '');
  writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(options.event ?? {}));
  const stateEnv = Object.fromEntries(Object.entries(options.state ?? {}).map(([k, v]) => [`STATE_${k}`, v]));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dir,
    RUNNER_TEMP: dir,
    GITHUB_ACTIONS: 'true',
    ...files,
    ...inputsEnv(options.inputs ?? {}),
    ...stateEnv,
    ...options.env,
  };
  const started = performance.now();
  const entry = options.entry ?? path.join(repoRoot, 'dist', name, 'index.js');
  const child = spawn(process.execPath, [entry], {
    cwd: options.cwd ?? repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const { onLine, signalWhen } = options;
  let signalled = false;
  if (onLine || signalWhen) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      onLine?.(line, 'stdout');
      if (signalWhen && !signalled && signalWhen.line.test(line)) {
        signalled = true;
        child.kill(signalWhen.signal);
      }
    });
    if (onLine) createInterface({ input: child.stderr }).on('line', (line) => onLine(line, 'stderr'));
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  const durationMs = performance.now() - started;
  const errors = stdout
    .split('\n')
    .map((l) => /^::error(?: [^:]*)?::(.*)$/.exec(l)?.[1])
    .filter((m): m is string => m !== undefined)
    .map(unescapeCommandData);
  const run = {
    exitCode,
    stdout,
    stderr,
    outputs: parseCommandFile(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    state: parseCommandFile(readFileSync(files.GITHUB_STATE, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    env: parseCommandFile(readFileSync(files.GITHUB_ENV, 'utf8')),
    errors,
    durationMs,
  };
  rmSync(dir, { recursive: true, force: true });
  return run;
}
