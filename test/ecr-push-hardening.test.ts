// ecr-push hardened (issue 9), end to end: dist/ecr-push/index.js against local-aws, as the runner
// runs it. Outside text (scan findings, registry and AWS error bodies, docker's output) never
// becomes a workflow command; the job summary is written on every exit path; scan-timeout holds
// while AWS hangs; and the small defects of §5 stay fixed. The docker paths use a stand-in docker
// (actions/ecr-push/test/fake-docker.ts): what is checked is what reaches its command line and
// what its output does to the step's log, not an engine.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildOciLayout, startLocalAws, type OciLayout } from '@aws-containers/local-aws';
import { fakeDocker, type FakeDocker } from '../actions/ecr-push/test/fake-docker.js';
import { localAwsEnv, pushToMain, runAction, type ActionRun } from './helpers/action-runner.js';
import { HOSTILE_TEXT, HOSTILE_TEXTS, PWNED, leakedCommands } from './helpers/hostile-text.js';
import { refusedCalls } from './helpers/policies.js';

type LocalAws = Awaited<ReturnType<typeof startLocalAws>>;

let aws: LocalAws;
let host: string;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  aws = await startLocalAws();
  host = new URL(aws.httpsUrl).host;
});
// Each action ran under its published policies: nothing it called may have been refused.
afterEach(() => expect(refusedCalls(aws)).toEqual([]));
afterAll(async () => {
  await aws.stop();
  for (const cleanup of cleanups) await cleanup();
});
beforeEach(() => {
  aws.opLog.clear();
  aws.faults.clear();
  aws.admin.ecr.setScanDuration(0);
});

async function layout(dir?: string): Promise<OciLayout> {
  const built = await buildOciLayout({ layers: [{ size: 2048 }], ...(dir ? { dir } : {}) });
  cleanups.push(() => built.cleanup());
  return built;
}

function temp(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `ecr-push-hardening-${prefix}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function docker(options: Parameters<typeof fakeDocker>[0] = {}): FakeDocker {
  const fake = fakeDocker(options);
  cleanups.push(() => fake.cleanup());
  return fake;
}

function push(
  inputs: Record<string, string>,
  options: { env?: Record<string, string>; event?: unknown } = {},
): Promise<ActionRun> {
  return runAction('ecr-push', {
    inputs: { 'docker-login': 'false', ...inputs },
    env: { ...localAwsEnv(aws, 'ecr-push'), ...pushToMain.env, ...options.env },
    event: options.event ?? pushToMain.event,
    timeoutMs: 90_000,
  });
}

/** The calls that change something in AWS (anything but reads and the login token). */
function mutatingCalls(): string[] {
  return aws.opLog
    .entries()
    .map((e) => e.action)
    .filter((a) => !/^ecr:(Describe|Get|BatchGet|BatchCheck|List)/.test(a));
}

/** Every payload's word is in the text (the text was shown, not dropped). */
function showsEveryPayload(text: string): void {
  expect(text.split(PWNED).length - 1).toBeGreaterThanOrEqual(HOSTILE_TEXTS.length);
}

describe('outside text cannot become a workflow command', () => {
  const findings = HOSTILE_TEXTS.map((payload) => ({
    name: `CVE-${payload}`,
    severity: 'HIGH' as const,
    description: `description ${payload}`,
    attributes: [{ key: 'package_name', value: `pkg ${payload}` }],
  }));

  test('scan finding names, descriptions and package names, in the log and the summary', async () => {
    const image = await layout();
    aws.admin.ecr.setScanFindings(image.top.digest, { findings });
    const run = await push({
      repository: 'hostile/findings',
      'create-repository': 'true',
      'oci-layout': image.dir,
      scan: 'wait',
    });
    expect(leakedCommands(run.stdout)).toEqual([]);
    expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
    showsEveryPayload(run.stdout);
    // One line per finding: its name's line breaks are spaces.
    expect(run.stdout).toContain(`HIGH CVE-reason ::add-mask::${PWNED}`);
    // The summary is HTML: every payload is there, as text.
    showsEveryPayload(run.summary);
    expect(run.summary).toContain('description reason');
  });

  test('a failed scan gate names the hostile findings in its one annotation, and nothing else leaks', async () => {
    const image = await layout();
    aws.admin.ecr.setScanFindings(image.top.digest, { findings });
    const run = await push({
      repository: 'hostile/gate',
      'create-repository': 'true',
      'oci-layout': image.dir,
      'fail-on-severity': 'HIGH',
    });
    // The annotation itself is the one command with the word in it: its data is escaped.
    expect(leakedCommands(run.stdout).filter((line) => !line.startsWith('::error::'))).toEqual([]);
    expect(run.exitCode).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(`CVE-reason ::add-mask::${PWNED}`);
    expect(run.stdout.split('\n').filter((line) => line.startsWith('::error::'))).toHaveLength(1);
  });

  test("registry error bodies in the daemonless push's retry lines", async () => {
    const image = await layout();
    aws.faults.arm({
      kind: 'internal-error',
      service: 'ecr',
      operation: 'PutImage',
      count: 1,
      message: HOSTILE_TEXT,
    });
    const run = await push({
      repository: 'hostile/registry',
      'create-repository': 'true',
      'oci-layout': image.dir,
    });
    expect(leakedCommands(run.stdout)).toEqual([]);
    expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
    expect(run.stdout).toMatch(/retrying manifest \S+ in \d+ ms: .*HTTP 500 UNKNOWN: reason/);
    showsEveryPayload(run.stdout);
  });

  test("AWS error bodies in the scan wait's retry lines", async () => {
    const image = await layout();
    aws.faults.arm({
      kind: 'internal-error',
      service: 'ecr',
      operation: 'DescribeImageScanFindings',
      count: 1,
      message: HOSTILE_TEXT,
    });
    const run = await push({
      repository: 'hostile/api',
      'create-repository': 'true',
      'oci-layout': image.dir,
      scan: 'wait',
      'max-attempts': '1',
    });
    expect(leakedCommands(run.stdout)).toEqual([]);
    expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
    expect(run.stdout).toMatch(/retrying DescribeImageScanFindings in \d+ s: .*InternalFailure: reason/);
    showsEveryPayload(run.stdout);
  }, 30_000);

  test("docker's output (login, tag, push)", async () => {
    const fake = docker({ output: HOSTILE_TEXT });
    const run = await push(
      {
        repository: 'hostile/docker',
        'create-repository': 'true',
        image: 'app:local',
        'docker-login': 'auto',
      },
      { env: fake.env },
    );
    expect(leakedCommands(run.stdout)).toEqual([]);
    expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
    expect(fake.calls().map((args) => args[0])).toEqual(
      expect.arrayContaining(['version', 'login', 'tag', 'push']),
    );
    // Each of login, three tags and three pushes printed every payload on stdout and stderr.
    expect(run.stdout.split(PWNED).length - 1).toBeGreaterThanOrEqual(7 * 2 * HOSTILE_TEXTS.length);
  });
});

describe('the job summary is written on every exit path', () => {
  test('a failed login: says so, and that nothing else was done', async () => {
    const image = await layout();
    aws.faults.arm({
      kind: 'internal-error',
      service: 'ecr',
      operation: 'GetAuthorizationToken',
      status: 400,
      code: 'AccessDeniedException',
      message:
        'User: arn:aws:iam::000000000000:user/ci is not authorized to perform: ecr:GetAuthorizationToken',
    });
    const run = await push({
      repository: 'summary/login',
      'create-repository': 'true',
      'oci-layout': image.dir,
    });
    expect(run.exitCode).toBe(1);
    expect(run.summary).toContain('<h2>ecr-push: summary/login</h2>');
    expect(run.summary).toMatch(
      /Failed while logging in: ECR GetAuthorizationToken failed: AccessDeniedException/,
    );
    expect(run.summary).toContain('Nothing was pushed.');
    expect(run.summary).toMatch(/<th>Login<\/th><td>failed: ECR GetAuthorizationToken failed/);
    expect(run.summary).toContain('<th>Repository</th><td>not done: the step ended before</td>');
    expect(run.summary).toContain('<th>Push</th><td>not done: the step ended before</td>');
    expect(mutatingCalls()).toEqual([]);
  });

  test('a failed push: the login and the repository happened, the push did not', async () => {
    const image = await layout();
    aws.faults.arm({
      kind: 'internal-error',
      service: 'ecr',
      operation: 'PutImage',
      status: 403,
      code: 'DENIED',
      message: 'not allowed to push',
    });
    const run = await push({
      repository: 'summary/push',
      'create-repository': 'true',
      'oci-layout': image.dir,
    });
    expect(run.exitCode).toBe(1);
    expect(run.summary).toContain(`<h2>ecr-push: ${host}/summary/push</h2>`);
    expect(run.summary).toMatch(
      /Failed while pushing: .*HTTP 403 DENIED: not allowed to push\. Nothing was pushed\./,
    );
    expect(run.summary).toContain(
      `<th>Login</th><td>Got an ECR token for ${host}, used by this step only; docker was not logged in (docker-login: false)</td>`,
    );
    expect(run.summary).toMatch(/<th>Repository<\/th><td>created with MUTABLE tags/);
    expect(run.summary).toMatch(/<th>Push<\/th><td>failed: .*DENIED/);
    expect(run.summary).toContain('<th>Scan</th><td>not asked (scan: none)</td>');
    // The repository URI was known and is an output; no image output names what was not pushed.
    expect(run.outputs['repository-uri']).toBe(`${host}/summary/push`);
    expect(run.outputs.digest).toBeUndefined();
  });

  test('a failed scan gate: the image is pushed, the gate failed', async () => {
    const image = await layout();
    aws.admin.ecr.setScanFindings(image.top.digest, {
      findings: [{ name: 'CVE-2026-0001', severity: 'CRITICAL' }],
    });
    const run = await push({
      repository: 'summary/gate',
      'create-repository': 'true',
      'oci-layout': image.dir,
      'fail-on-severity': 'HIGH',
    });
    expect(run.exitCode).toBe(1);
    expect(run.summary).toMatch(/Failed at the scan gate: The scan found 1 finding\(s\) at or above HIGH/);
    expect(run.summary).toContain('The image is pushed and tagged.');
    expect(run.summary).toContain(`<th>Image</th><td>${host}/summary/gate@${image.top.digest}</td>`);
    expect(run.summary).toContain(
      '<th>Scan</th><td>gate failed: 1 finding(s) at or above HIGH, the most severe CRITICAL CVE-2026-0001</td>',
    );
    expect(run.outputs).toMatchObject({ digest: image.top.digest, pushed: 'true' });
  });

  test('bad inputs: says that nothing was done in AWS', async () => {
    const run = await push({ repository: 'summary/inputs', 'oci-layout': '/nowhere' });
    expect(run.exitCode).toBe(1);
    expect(run.summary).toContain('<h2>ecr-push: summary/inputs</h2>');
    expect(run.summary).toMatch(/Failed while checking the inputs: Input &quot;oci-layout&quot;/);
    expect(run.summary).toContain('Nothing was called or changed in AWS.');
    expect(aws.opLog.entries()).toEqual([]);
  });
});

describe('scan-timeout holds', () => {
  test('while DescribeImageScanFindings never answers, the step ends at scan-timeout and says why', async () => {
    const image = await layout();
    aws.faults.arm({
      kind: 'latency',
      service: 'ecr',
      operation: 'DescribeImageScanFindings',
      latencyMs: 600_000,
    });
    const started = performance.now();
    const run = await push({
      repository: 'deadline/hang',
      'create-repository': 'true',
      'oci-layout': image.dir,
      scan: 'wait',
      'scan-timeout': '3s',
    });
    const seconds = (performance.now() - started) / 1000;
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toContain('did not complete within 3 s (scan-timeout; last status: not started');
    expect(run.errors[0]).toContain('No answer before the deadline');
    expect(run.errors[0]).toContain('The image is pushed and tagged');
    // A check that starts before the deadline gets up to 5 s (core's waitFor); then the step ends.
    expect(seconds).toBeLessThan(3 + 8);
    expect(run.outputs.digest).toBe(image.top.digest);
  }, 60_000);

  test('throttling while waiting for the scan is waited out, not fatal', async () => {
    const image = await layout();
    aws.faults.arm({ kind: 'throttling', service: 'ecr', operation: 'DescribeImageScanFindings', count: 1 });
    const run = await push({
      repository: 'deadline/throttled',
      'create-repository': 'true',
      'oci-layout': image.dir,
      scan: 'wait',
      'max-attempts': '1',
    });
    expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
    // max-attempts 1: the SDK does not retry; the client waits the throttling out itself.
    expect(run.stdout).toMatch(
      /ECR DescribeImageScanFindings failed: ThrottlingException: [^\n]*; throttling is waited out: sending it again in \d+ s/,
    );
    expect(run.summary).toMatch(/API calls<\/th><td>[^<]*; 1 throttled</);
    expect(aws.opLog.entries({ operation: 'DescribeImageScanFindings' }).length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(run.outputs['scan-findings'] ?? '{}')).toMatchObject({ CRITICAL: 0 });
  }, 30_000);
});

describe('small defects', () => {
  test('paths are read where they were checked: relative to GITHUB_WORKSPACE, whatever the working directory', async () => {
    const workspace = temp('workspace');
    const image = await layout(path.join(workspace, 'out', 'layout'));
    const run = await push(
      { repository: 'paths/layout', 'create-repository': 'true', 'oci-layout': 'out/layout' },
      { env: { GITHUB_WORKSPACE: workspace } },
    );
    expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
    expect(run.outputs.digest).toBe(image.top.digest);
    expect(run.summary).toContain(
      `Pushed the OCI layout ${path.join(workspace, 'out', 'layout')} without a docker daemon.`,
    );
  });

  test('a context and a Dockerfile relative to GITHUB_WORKSPACE reach docker as the paths that were checked', async () => {
    const workspace = temp('workspace');
    mkdirSync(path.join(workspace, 'app'));
    writeFileSync(path.join(workspace, 'app', 'Dockerfile'), 'FROM scratch\n');
    const fake = docker();
    const run = await push(
      {
        repository: 'paths/context',
        'create-repository': 'true',
        context: 'app',
        'build-args': 'NPM_TOKEN=npm_s3cr3t-value',
        tags: 'sha',
        'docker-login': 'auto',
      },
      { env: { ...fake.env, GITHUB_WORKSPACE: workspace } },
    );
    expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
    const build = fake.calls().find((args) => args[0] === 'build') ?? [];
    expect(build.slice(-2)).toEqual(['--', path.join(workspace, 'app')]);
    expect(build).toEqual(expect.arrayContaining(['--file', path.join(workspace, 'app', 'Dockerfile')]));
    expect(build).toContain('NPM_TOKEN=npm_s3cr3t-value');
    // The echoed command line names the build argument, never its value.
    expect(run.stdout).toMatch(/^\[command\]docker build .*--build-arg NPM_TOKEN=\*\*\* .*-- \S+\/app$/m);
    expect(run.stdout).not.toContain('s3cr3t');
  });

  test('a layout that cannot be read fails before any AWS call, repository creation included', async () => {
    const image = await layout();
    const run = await push({
      repository: 'paths/unread',
      'create-repository': 'true',
      'oci-layout': `${image.dir}:no-such-ref`,
    });
    expect(mutatingCalls()).toEqual([]);
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toMatch(
      /^Input "oci-layout": expected a readable oci-layout\. .* has no manifest named "no-such-ref"/,
    );
    expect(aws.opLog.entries()).toEqual([]);
  });

  test('an image missing from the engine fails before any AWS call', async () => {
    const fake = docker();
    // The stand-in answers every inspect; a real engine says "No such image".
    writeFileSync(
      path.join(fake.dir, 'docker'),
      [
        '#!/bin/sh',
        'case "$1" in',
        `  version) echo '{"Server":{"Version":"1"}}';;`,
        "  image) echo 'Error: No such image: app:gone' >&2; exit 1;;",
        '  login|logout) cat >/dev/null;;',
        '  *) exit 1;;',
        'esac',
        '',
      ].join('\n'),
    );
    const run = await push(
      { repository: 'paths/image', 'create-repository': 'true', image: 'app:gone', 'docker-login': 'auto' },
      { env: fake.env },
    );
    expect(mutatingCalls()).toEqual([]);
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toContain(
      'Input "image": expected an image in the local docker engine, got "app:gone"',
    );
    expect(aws.opLog.entries()).toEqual([]);
  });

  test('image: --help is an input error, and a valid image reaches docker after --', async () => {
    const bad = await push({ repository: 'options/app', 'create-repository': 'true', image: '--help' });
    expect(bad.exitCode).toBe(1);
    expect(bad.errors[0]).toContain('Input "image": expected an image reference');
    expect(aws.opLog.entries()).toEqual([]);

    const fake = docker();
    const run = await push(
      {
        repository: 'options/app',
        'create-repository': 'true',
        image: 'app:local',
        tags: 'sha',
        'docker-login': 'auto',
      },
      { env: fake.env },
    );
    expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
    const byCommand = Object.fromEntries(fake.calls().map((args) => [args[0], args]));
    expect(byCommand.tag).toEqual(['tag', '--', 'app:local', `${host}/options/app:sha-0123456`]);
    expect(byCommand.push).toEqual(['push', '--', `${host}/options/app:sha-0123456`]);
    expect(byCommand.login).toEqual(['login', '--username', 'AWS', '--password-stdin', '--', host]);
  });

  test('promote-from: sha256:zz is an input error that says what a digest is', async () => {
    const run = await push({ repository: 'promote/app', 'promote-from': 'sha256:zz' });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toContain('Input "promote-from"');
    expect(run.errors[0]).toContain('A digest is sha256: followed by 64 lowercase hex digits');
    expect(run.errors[0]).not.toContain("repository 'sha256'");
    expect(aws.opLog.entries()).toEqual([]);
  });

  test('each tag rule that gives nothing is logged with why', async () => {
    const image = await layout();
    const run = await push(
      { repository: 'rules/app', 'create-repository': 'true', 'oci-layout': image.dir },
      { env: { GITHUB_REF: 'refs/tags/v1.2.3' } },
    );
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.split('\n').filter((l) => l.startsWith('The tag rule '));
    expect(lines).toEqual([
      'The tag rule "pr" gives no tag: the run is not a pull request (push event)',
      'The tag rule "branch" gives no tag: the run is not on a branch (refs/tags/v1.2.3)',
      'The tag rule "latest" gives no tag: the run is not on the default branch (refs/tags/v1.2.3)',
    ]);
  });

  test('the summary table of facts has no empty header row', async () => {
    const image = await layout();
    const run = await push({
      repository: 'shape/summary',
      'create-repository': 'true',
      'oci-layout': image.dir,
    });
    expect(run.exitCode).toBe(0);
    expect(run.summary).not.toContain('<th></th>');
    expect(run.summary).toContain(
      `<table><tr><th>Image</th><td>${host}/shape/summary@${image.top.digest}</td></tr>`,
    );
  });

  test('scan-findings gives every severity, zeros included', async () => {
    const image = await layout();
    const run = await push({
      repository: 'shape/findings',
      'create-repository': 'true',
      'oci-layout': image.dir,
      scan: 'wait',
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs['scan-findings']).toBe(
      '{"CRITICAL":0,"HIGH":0,"MEDIUM":0,"LOW":0,"INFORMATIONAL":0,"UNDEFINED":0}',
    );
  });

  test('with docker-login: false the log says what happened: a token for the step, docker not logged in', async () => {
    const image = await layout();
    const run = await push({ repository: 'login/app', 'create-repository': 'true', 'oci-layout': image.dir });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(
      `Got an ECR token for ${host}, used by this step only; docker was not logged in (docker-login: false)`,
    );
    expect(run.stdout).not.toMatch(/Logged in to/);
  });
});
