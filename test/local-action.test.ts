// The runner protocol, judged by GitHub's own local runner. runAction (helpers/action-runner.ts)
// is this suite's account of how the runner runs an action; here one scenario per action also runs
// under @github/local-action (GitHub's tool for running JavaScript actions locally), and both must
// report the same outputs, so the helper cannot drift from what GitHub's tool does.
//
// What local-action can run, found out by running it (v7.0.1, on Node 24; the first test pins it):
// - It imports the entrypoint and calls the `run()` the module exports; `--post` imports the post
//   entrypoint and calls its `run()` again. It replaces @actions/core (and artifact, cache, github)
//   with its stubs through quibble, on the module files `npm ls` lists as direct dependencies of
//   the project it is run from, so "this tool supports non-transpiled action code only" (its
//   README): a bundle's inlined copy of @actions/core cannot be replaced.
// - dist/<bundle>/index.js is an ESM ncc bundle whose last statement is `await run(main, post)`
//   and which exports nothing. Under local-action the step runs at import, with the bundled
//   @actions/core talking the file protocol (its outputs land in GITHUB_OUTPUT, not in local-action's
//   table), and then local-action stops: "Entrypoint …/dist/ecr-push/index.js does not export a
//   run() function", exit code 1. Node 24 and ESM are not the obstacle; the bundle is.
// - So the closest it allows: the same code from source. test/fixtures/local-action/<bundle>.ts
//   exports run() = core's run(main[, post]), exactly what actions/<bundle>/src/index.ts runs when
//   the bundle loads, and local-action runs it (through tsx) with its stubbed @actions/core, which
//   collects the outputs itself. @actions/core is a root devDependency for this: in a workspace it
//   is packages/core's dependency, which `npm ls` at the root does not list, so it was not stubbed.
// - Inputs: local-action reads its .env file into process.env, so they arrive as the INPUT_
//   variables the runner sets. NODE_EXTRA_CA_CERTS (the CA of local-aws's HTTPS registry) is read by
//   Node at start only, so it is in the process's environment rather than the .env file.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inputsEnv } from '@aws-containers/core';
import { buildOciLayout, startLocalAws, type LocalAws, type OciLayout } from '@aws-containers/local-aws';
import { localAwsEnv, pushToMain, repoRoot, runAction } from './helpers/action-runner.js';
import {
  SECURITY_GROUP,
  SUBNET,
  startEcsWorld,
  taskDefinition,
  type EcsWorld,
} from './helpers/ecs-deploy.js';

const LOCAL_ACTION = path.join(repoRoot, 'node_modules', '@github', 'local-action', 'bin', 'local-action.js');
const temps: string[] = [];

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function temp(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'local-action-'));
  temps.push(dir);
  return dir;
}

interface LocalActionRun {
  exitCode: number | null;
  stdout: string;
  /** The "Action Outputs" table local-action prints: what its @actions/core stub collected. */
  outputs: Record<string, string>;
  summary: string;
}

/** A value as console.table prints it (util.inspect of a string): `'a\nb'` → a, newline, b. */
function fromInspected(cell: string): string {
  const quote = cell[0];
  if (!quote || !`'"\``.includes(quote) || cell.at(-1) !== quote) return cell;
  const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', 0: '\0' };
  return cell
    .slice(1, -1)
    .replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)/g, (_, c: string) =>
      c.length > 1 ? String.fromCharCode(parseInt(c.slice(1), 16)) : (escapes[c] ?? c),
    );
}

function outputsTable(stdout: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const at = stdout.lastIndexOf('Action Outputs');
  if (at < 0) return outputs;
  for (const line of stdout.slice(at).split('\n')) {
    if (!line.startsWith('│')) continue;
    const cells = line.split('│').map((c) => c.trim());
    const [, , name, value] = cells;
    if (name === undefined || value === undefined || name === 'Output') continue;
    outputs[fromInspected(name)] = fromInspected(value);
  }
  return outputs;
}

/** A .env file: single-quoted values are taken literally by dotenv. */
function dotenv(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([key, value]) => {
      if (/['\n]/.test(value)) throw new Error(`${key}: this .env writer takes single-line values without '`);
      return `${key}='${value}'\n`;
    })
    .join('');
}

/**
 * `local-action run <action dir> <entrypoint> <.env> [--post <entrypoint>]`, from the repository
 * root, stopped (with its children) at the deadline.
 */
async function localAction(options: {
  actionDir: string;
  entry: string;
  post?: boolean;
  vars: Record<string, string>;
  env: Record<string, string>;
  timeoutMs: number;
}): Promise<LocalActionRun> {
  const dir = temp();
  const envFile = path.join(dir, '.env');
  const summary = path.join(dir, 'summary');
  const event = path.join(dir, 'event.json');
  writeFileSync(summary, '');
  writeFileSync(event, JSON.stringify(pushToMain.event));
  writeFileSync(
    envFile,
    dotenv({
      ...options.vars,
      GITHUB_EVENT_PATH: event,
      GITHUB_STEP_SUMMARY: summary,
      RUNNER_TEMP: dir,
      GITHUB_ACTIONS: 'true',
    }),
  );
  // Absolute: local-action resolves `--post` before it knows the action's folder (its README says
  // relative to the action folder, which holds for the main entrypoint only).
  const entry = path.join(repoRoot, options.entry);
  const args = [LOCAL_ACTION, 'run', options.actionDir, entry, envFile];
  if (options.post) args.push('--post', entry);
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? dir,
      NO_COLOR: '1',
      npm_config_update_notifier: 'false',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stdout += d.toString()));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), options.timeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  return { exitCode, stdout, outputs: outputsTable(stdout), summary: readFileSync(summary, 'utf8') };
}

/** Fails with local-action's log when it did not succeed (its exit code alone says little). */
function succeeded(run: LocalActionRun): LocalActionRun {
  if (run.exitCode !== 0) throw new Error(`local-action exited ${run.exitCode}:\n${run.stdout.slice(-6000)}`);
  return run;
}

const githubVars = {
  GITHUB_EVENT_NAME: pushToMain.env.GITHUB_EVENT_NAME,
  GITHUB_REF: pushToMain.env.GITHUB_REF,
  GITHUB_SHA: pushToMain.env.GITHUB_SHA,
  GITHUB_REPOSITORY: pushToMain.env.GITHUB_REPOSITORY,
};

test.each([
  ['ecr-push', 'await run(main, post);', 'return runSteps(main, post);'],
  ['ecs-deploy-fargate', 'await run(main);', 'return runSteps(main);'],
])('the local-action entry of %s runs what the bundle runs at load', (bundle, load, entry) => {
  expect(readFileSync(path.join(repoRoot, 'actions', bundle, 'src', 'index.ts'), 'utf8')).toContain(load);
  expect(
    readFileSync(path.join(repoRoot, 'test', 'fixtures', 'local-action', `${bundle}.ts`), 'utf8'),
  ).toContain(entry);
});

test('local-action cannot run a bundle: dist/ecr-push runs at import, then "does not export a run() function"', async () => {
  const run = await localAction({
    actionDir: 'ecr-push',
    entry: 'dist/ecr-push/index.js',
    vars: { 'INPUT_OCI-LAYOUT': './nothing' },
    env: {},
    timeoutMs: 120_000,
  });
  expect(run.exitCode).not.toBe(0);
  // The step ran (its input check, from the bundled @actions/core, escaped as the file protocol
  // escapes), before local-action looked for run().
  expect(run.stdout).toMatch(/::error::Input "repository": .*required/);
  expect(run.stdout).toContain(
    `Entrypoint ${path.join(repoRoot, 'dist/ecr-push/index.js')} does not export a run() function`,
  );
}, 150_000);

describe('ecr-push: an OCI layout pushed', () => {
  let aws: LocalAws;
  let layout: OciLayout;

  beforeAll(async () => {
    aws = await startLocalAws();
    layout = await buildOciLayout({ layers: [{ size: 32 * 1024 }] });
  });
  afterAll(async () => {
    await layout?.cleanup();
    await aws?.stop();
  });

  test('local-action and runAction report the same outputs, and the post step runs under both', async () => {
    const inputs = {
      repository: 'judged/app',
      'create-repository': 'true',
      'oci-layout': layout.dir,
      'docker-login': 'false',
    };
    const underGitHubsTool = await localAction({
      actionDir: 'ecr-push',
      entry: 'test/fixtures/local-action/ecr-push.ts',
      post: true,
      vars: { ...githubVars, ...inputsEnv(inputs) },
      env: localAwsEnv(aws),
      timeoutMs: 120_000,
    });
    const ours = await runAction('ecr-push', {
      inputs,
      env: { ...localAwsEnv(aws), ...pushToMain.env },
      event: pushToMain.event,
    });
    const oursPost = await runAction('ecr-push', {
      inputs,
      env: { ...localAwsEnv(aws), ...pushToMain.env, ...ours.env },
      event: pushToMain.event,
      state: ours.state,
    });

    succeeded(underGitHubsTool);
    expect([ours.exitCode, oursPost.exitCode]).toEqual([0, 0]);
    // The post step is the post, not main again: run() told them apart by the state main saved.
    const postLog = underGitHubsTool.stdout.slice(underGitHubsTool.stdout.indexOf('Running Post Step'));
    expect(postLog).toContain('Running Post Step');
    expect(postLog).not.toContain('Push oci-layout');
    expect(underGitHubsTool.outputs).toEqual(ours.outputs);
    // Not vacuous: the outputs name the image that was pushed.
    expect(ours.outputs).toMatchObject({
      digest: layout.top.digest,
      pushed: 'true',
      tags: 'main\nsha-0123456\nlatest',
    });
    // The job summary reaches the file GITHUB_STEP_SUMMARY names under both.
    expect(underGitHubsTool.summary).toContain(layout.top.digest);
    expect(ours.summary).toContain(layout.top.digest);
  }, 180_000);
});

describe('ecs-deploy: a deploy to a new service', () => {
  let w: EcsWorld;

  beforeAll(async () => {
    w = await startEcsWorld(60);
  });
  afterAll(async () => {
    await w?.stop();
  });

  test('local-action and runAction report the same outputs (but for the service and deployment ids)', async () => {
    await w.createCluster('judged');
    const image = await w.push('judged/web', 'v1');
    const file = w.file('judged-web.json', taskDefinition('judged-web', [{ name: 'app', image }]));
    const inputs = (service: string) => ({
      cluster: 'judged',
      service,
      'task-definition': file,
      'create-service': 'true',
      subnets: SUBNET,
      'security-groups': SECURITY_GROUP,
      'poll-interval': '1s',
    });
    const underGitHubsTool = await localAction({
      actionDir: 'ecs-deploy',
      entry: 'test/fixtures/local-action/ecs-deploy-fargate.ts',
      vars: { ...githubVars, ...inputsEnv(inputs('by-local-action')) },
      env: localAwsEnv(w.aws),
      timeoutMs: 120_000,
    });
    const ours = await runAction('ecs-deploy-fargate', {
      inputs: inputs('by-run-action'),
      env: { ...localAwsEnv(w.aws), ...pushToMain.env },
      event: pushToMain.event,
      timeoutMs: 60_000,
    });

    /** The outputs with what must differ between two services named apart: the name, the deployment id. */
    const comparable = (outputs: Record<string, string>, service: string) => {
      expect(outputs['deployment-id']).toMatch(/^ecs-svc\/\d+$/);
      return {
        ...outputs,
        'service-arn': outputs['service-arn']?.replace(`/judged/${service}`, '/judged/<service>'),
        'deployment-id': '<deployment>',
      };
    };
    succeeded(underGitHubsTool);
    expect(ours.exitCode).toBe(0);
    expect(comparable(underGitHubsTool.outputs, 'by-local-action')).toEqual(
      comparable(ours.outputs, 'by-run-action'),
    );
    expect(ours.outputs).toMatchObject({ 'rollout-state': 'COMPLETED', 'rolled-back': 'false' });
    expect((await w.service('judged', 'by-local-action')).deployments?.[0]?.rolloutState).toBe('COMPLETED');
  }, 180_000);
});
