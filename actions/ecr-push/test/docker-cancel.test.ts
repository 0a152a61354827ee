// The docker CLI runs through our own spawn, not @actions/exec: the figure behind that choice, and
// the `[command]` echo that hides build-argument values. A stand-in docker (fake-docker.ts) that
// sleeps in `push` plays a long push; the test measures the time from the step's AbortSignal
// firing (the runner cancelling the job) to the CLI's exit:
// - ours passes the signal to spawn, which kills the CLI at once;
// - @actions/exec 3.0.0 (a dependency of @actions/core) takes no signal and gives no handle on the
//   child: nothing can stop it, so the CLI runs to its own end.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createDockerCli, echoedCommand } from '../src/docker.js';
import { fakeDocker, type FakeDocker } from './fake-docker.js';

const SLEEP_MS = 3_000;

let fake: FakeDocker;
let dir: string;
beforeEach(() => {
  fake = fakeDocker({ sleepMs: SLEEP_MS });
  dir = mkdtempSync(join(tmpdir(), 'docker-cancel-'));
});
afterEach(() => {
  fake.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits for the stand-in to start; returns its pid. */
async function started(): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const pid = fake.lastPid();
    if (pid !== undefined && alive(pid)) return pid;
    await delay(10);
  }
  throw new Error('the stand-in docker did not start');
}

/** Milliseconds from `abort` until the process is gone (reaped). */
async function exitAfter(pid: number, abort: () => void): Promise<number> {
  const start = performance.now();
  abort();
  while (alive(pid)) await delay(5);
  return performance.now() - start;
}

const env = () => ({ ...process.env, ...fake.env });

test('a cancelled step stops the running docker CLI at once; under @actions/exec it runs to its end', async () => {
  const controller = new AbortController();
  const cli = createDockerCli({ dockerConfig: join(dir, 'config'), env: env(), signal: controller.signal });
  const pending = cli.push('registry.example/app:1').catch((e: unknown) => e);
  const ours = await exitAfter(await started(), () => controller.abort());
  expect(await pending).toMatchObject({ name: 'AbortError' });

  // The same command through @actions/exec, aborting the same way: it has nothing to abort.
  const { exec } = await import('@actions/exec');
  const unused = new AbortController();
  // exec finds a bare name on the test's own PATH (io.which), not on options.env's: name the file.
  const running = exec(join(fake.dir, 'docker'), ['push', '--', 'registry.example/app:1'], {
    env: env() as Record<string, string>,
    silent: true,
  });
  const theirs = await exitAfter(await started(), () => unused.abort());
  await running;

  console.log(
    `docker push cancelled: ours stops the CLI ${Math.round(ours)} ms after the abort; ` +
      `@actions/exec ${Math.round(theirs)} ms (the stand-in's whole ${SLEEP_MS} ms push)`,
  );
  expect(ours).toBeLessThan(1_000);
  expect(theirs).toBeGreaterThan(SLEEP_MS - 1_000);
}, 20_000);

test('the [command] echo shows build-argument names, never their values', async () => {
  const quick = fakeDocker();
  try {
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
    const lines: string[] = [];
    const cli = createDockerCli({
      dockerConfig: join(dir, 'config'),
      env: { ...process.env, ...quick.env },
      log: (line) => lines.push(line),
    });
    await cli.build({
      context: dir,
      dockerfile: join(dir, 'Dockerfile'),
      buildArgs: new Map([
        ['NPM_TOKEN', 'npm_s3cr3t-value'],
        ['GREETING', 'hello world'],
      ]),
      platforms: [],
      labels: { team: 'platform' },
      tags: ['registry.example/app:1'],
    });
    const echoed = lines.find((l) => l.startsWith('[command]docker build '));
    expect(echoed).toMatch(/ --build-arg NPM_TOKEN=\*\*\* --build-arg GREETING=\*\*\* /);
    expect(echoed).toMatch(/ --label team=platform --tag registry\.example\/app:1 -- \S+$/);
    expect(lines.join('\n')).not.toContain('s3cr3t');
    expect(lines.join('\n')).not.toContain('hello world');
    // docker itself got the values.
    const build = quick.calls().find((args) => args[0] === 'build');
    expect(build).toEqual(expect.arrayContaining(['NPM_TOKEN=npm_s3cr3t-value', 'GREETING=hello world']));
  } finally {
    quick.cleanup();
  }
});

test.each([
  [
    ['build', '--build-arg', 'A=1', '--build-arg', 'B=x=y', '--', '.'],
    'docker build --build-arg A=*** --build-arg B=*** -- .',
  ],
  [['build', '--label', 'a=b c', '--', '/ctx dir'], 'docker build --label "a=b c" -- "/ctx dir"'],
  [['tag', '--', 'app:1', 'r/app:1'], 'docker tag -- app:1 r/app:1'],
])('echoedCommand(%j)', (args, want) => {
  expect(echoedCommand(args)).toBe(want);
});
