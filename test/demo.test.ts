// `npm run demo` end to end: scripts/demo.ts as a person runs it (tsx, local-aws in its process,
// the bundled actions through the runner protocol). It must succeed, print each step's outputs and
// summary, show the rollout and the rollback, and stay well under its one-minute goal.
import { spawn } from 'node:child_process';
import { jest } from '@jest/globals';
import path from 'node:path';
import { repoRoot } from './helpers/action-runner.js';

jest.setTimeout(90_000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runDemo(): Promise<Run> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', 'demo.ts')], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? repoRoot, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 80_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    }),
  );
}

let run: Run;

beforeAll(async () => {
  run = await runDemo();
});

test('exits 0, says everything behaved as expected, within its one-minute goal', () => {
  if (run.code !== 0) console.log(run.stdout, run.stderr);
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/demo: everything behaved as expected, in [\d.]+ s/);
  expect(run.stdout).not.toMatch(/✖ expected/);
  expect(run.ms).toBeLessThan(60_000);
});

test('prints a heading, the outputs and the job summary of each step', () => {
  const headings = run.stdout.match(/^━━ \d\/4 .*$/gm) ?? [];
  expect(headings).toHaveLength(4);
  expect(run.stdout.match(/^ {2}outputs$/gm)).toHaveLength(3);
  expect(run.stdout.match(/^ {2}job summary$/gm)).toHaveLength(3);
  expect(run.stdout).toMatch(/^ {4}image-uri = 127\.0\.0\.1:\d+\/demo\/web@sha256:[0-9a-f]{64}$/m);
  expect(run.stdout).toMatch(/^ {4}rollout-state = COMPLETED$/m);
  // The broken deploy runs with default inputs: the breaker or max-failed-tasks decides first.
  expect(run.stdout).toMatch(/^ {4}rollout-state = (?:ROLLED_BACK|FAILED)$/m);
  expect(run.stdout).toMatch(/^ {4}rollback-state = COMPLETED$/m);
  expect(run.stdout).toMatch(/^ {4}rolled-back = true$/m);
  expect(run.stdout).toMatch(/│ .*ecs-deploy-fargate: demo-web/);
});

test('streams the rollout, the fast failure with its reason and the rollback; no workflow-command noise', () => {
  expect(run.stdout).toMatch(/▸ Deploy web/);
  expect(run.stdout).toMatch(/\(service web\) \(deployment ecs-svc\/\d+\) deployment completed\./);
  expect(run.stdout).toMatch(
    /✖ error: Deployment ecs-svc\/\d+(?: failed|: \d+ tasks? failed| was rolled back)/,
  );
  expect(run.stdout).toMatch(/CannotPullContainerError/);
  // The error comes first, then the rollback (ECS's or the step's) is followed to its end.
  const error = run.stdout.search(/✖ error: /);
  const rolledBack = run.stdout.search(
    /Rolled back to \S+demo-web:1 by (?:ECS|this step) \(deployment ecs-svc\/\d+\): COMPLETED/,
  );
  expect(error).toBeGreaterThan(0);
  expect(rolledBack).toBeGreaterThan(error);
  expect(run.stdout).toMatch(/✔ expected: the service runs demo-web:1 again/);
  expect(run.stdout).not.toMatch(/^\s*(?:[\d.]+s\s+)?::/m);
});
