// ecr-push end to end: dist/ecr-push/index.js against local-aws, as the runner runs it. Pushed
// images are checked with skopeo and the ECR API, not only with our own client.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildOciLayout, startLocalAws, type OciLayout } from '@aws-containers/local-aws';
import { requireTool } from './helpers/tools.js';
import {
  localAwsEnv,
  pushToMain,
  runAction,
  type ActionRun,
  type RunOptions,
} from './helpers/action-runner.js';
import { refusedCalls } from './helpers/policies.js';

type LocalAws = Awaited<ReturnType<typeof startLocalAws>>;

let aws: LocalAws;
const layouts: OciLayout[] = [];

beforeAll(async () => {
  aws = await startLocalAws();
});
// Each action ran under its published policies: nothing it called may have been refused.
afterEach(() => expect(refusedCalls(aws)).toEqual([]));
afterAll(async () => {
  await aws.stop();
  await Promise.all(layouts.map((l) => l.cleanup()));
});
beforeEach(() => aws.opLog.clear());

async function layout(layers = [{ size: 64 * 1024 }, { size: 32 * 1024 }]): Promise<OciLayout> {
  const built = await buildOciLayout({ layers });
  layouts.push(built);
  return built;
}

function push(inputs: Record<string, string>, options: RunOptions = {}): Promise<ActionRun> {
  return runAction('ecr-push', {
    inputs: { 'docker-login': 'false', ...inputs },
    env: {
      ...localAwsEnv(aws, 'ecr-push'),
      ...pushToMain.env,
      ...options.env,
    },
    event: options.event ?? pushToMain.event,
    timeoutMs: 60_000,
  });
}

function images(repository: string): Record<string, string[]> {
  const snapshot = aws.admin.ecr.snapshot();
  const registry = Object.values(snapshot.registries).find(
    (r) => r.accountId === aws.accountId && r.region === aws.region,
  );
  const byDigest: Record<string, string[]> = {};
  for (const [tag, digest] of Object.entries(registry?.repositories[repository]?.imageTags ?? {})) {
    (byDigest[digest] ??= []).push(tag);
  }
  return byDigest;
}

/** Runs a tool without blocking the event loop: local-aws answers it from this very process. */
function runTool(
  file: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function password(): Promise<string> {
  const { ECRClient, GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr');
  const ecr = new ECRClient({
    endpoint: aws.endpoint,
    region: aws.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const token = await ecr.send(new GetAuthorizationTokenCommand({}));
  return Buffer.from(token.authorizationData?.[0]?.authorizationToken ?? '', 'base64')
    .toString()
    .replace(/^AWS:/, '');
}

test('pushes an OCI layout daemonlessly, tagged from a push to the default branch', async () => {
  const image = await layout();
  const run = await push({ repository: 'demo/app', 'create-repository': 'true', 'oci-layout': image.dir });
  expect(run.errors).toEqual([]);
  expect(run.exitCode).toBe(0);
  const host = new URL(aws.httpsUrl).host;
  expect(run.outputs).toMatchObject({
    registry: host,
    'repository-uri': `${host}/demo/app`,
    digest: image.top.digest,
    'image-uri': `${host}/demo/app@${image.top.digest}`,
    image: `${host}/demo/app:main`,
    tags: 'main\nsha-0123456\nlatest',
    pushed: 'true',
  });
  expect(images('demo/app')).toEqual({ [image.top.digest]: ['main', 'sha-0123456', 'latest'] });
  expect(run.summary).toContain(image.top.digest);
  expect(run.summary).toMatch(/3 uploaded/);
  // What the step did, as IAM actions (policies/ecr-push*.json are proven in test/policies.test.ts).
  expect(new Set(aws.opLog.actions())).toEqual(
    new Set([
      'ecr:GetAuthorizationToken',
      'ecr:DescribeRepositories',
      'ecr:CreateRepository',
      'ecr:BatchCheckLayerAvailability',
      // One streamed PUT per blob: it carries the bytes, so IAM asks UploadLayerPart with it.
      'ecr:InitiateLayerUpload',
      'ecr:UploadLayerPart',
      'ecr:CompleteLayerUpload',
      'ecr:PutImage',
    ]),
  );
});

requireTool('skopeo', '/usr/bin/skopeo')(
  'skopeo sees what was pushed, with the digest the step reported',
  async () => {
    const image = await layout();
    const run = await push({
      repository: 'verify/app',
      'create-repository': 'true',
      'oci-layout': image.dir,
      tags: 'raw:checked',
    });
    expect(run.exitCode).toBe(0);
    const certDir = mkdtempSync(path.join(os.tmpdir(), 'certs-'));
    copyFileSync(aws.caCertPath, path.join(certDir, 'ca.crt'));
    const inspected = await runTool('/usr/bin/skopeo', [
      'inspect',
      '--cert-dir',
      certDir,
      '--creds',
      `AWS:${await password()}`,
      `docker://${run.outputs['repository-uri']}:checked`,
    ]);
    expect(inspected.stderr).toBe('');
    expect(JSON.parse(inspected.stdout).Digest).toBe(run.outputs.digest);
  },
);

test.each([
  [
    'a tag push',
    { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/tags/v1.2.3' },
    {},
    '1.2.3\nv1.2.3\nsha-0123456',
  ],
  [
    'a pull request',
    { GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/42/merge', GITHUB_HEAD_REF: 'feature/x' },
    { number: 42, pull_request: { number: 42, head: { sha: 'fedcba9876543210fedcba9876543210fedcba98' } } },
    'pr-42\nsha-fedcba9',
  ],
])('tags from %s', async (_name, env, event, tags) => {
  const image = await layout([{ size: 1024 }]);
  const run = await push(
    { repository: 'events/app', 'create-repository': 'true', 'oci-layout': image.dir },
    { env, event: { ...pushToMain.event, ...event } },
  );
  expect(run.errors).toEqual([]);
  expect(run.outputs.tags).toBe(tags);
});

test('a missing repository without create-repository fails before anything is pushed', async () => {
  const image = await layout([{ size: 1024 }]);
  const run = await push({ repository: 'missing/app', 'oci-layout': image.dir });
  expect(run.exitCode).toBe(1);
  expect(run.errors[0]).toContain('The repository "missing/app" does not exist');
  expect(run.errors[0]).toContain('Create it, or set create-repository: true');
  expect(aws.opLog.actions()).not.toContain('ecr:InitiateLayerUpload');
});

test('create-repository applies the requested settings and lifecycle preset', async () => {
  const image = await layout([{ size: 1024 }]);
  const run = await push({
    repository: 'settings/app',
    'create-repository': 'true',
    'image-tag-mutability': 'IMMUTABLE',
    'scan-on-push': 'false',
    'repository-tags': 'team=platform',
    'lifecycle-keep-last': '20',
    'lifecycle-expire-untagged-days': '7',
    'oci-layout': image.dir,
    tags: 'sha',
  });
  expect(run.errors).toEqual([]);
  const { ECRClient, DescribeRepositoriesCommand, GetLifecyclePolicyCommand } =
    await import('@aws-sdk/client-ecr');
  const ecr = new ECRClient({
    endpoint: aws.endpoint,
    region: aws.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const repo = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['settings/app'] })))
    .repositories?.[0];
  expect(repo).toMatchObject({
    imageTagMutability: 'IMMUTABLE',
    imageScanningConfiguration: { scanOnPush: false },
  });
  const policy = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'settings/app' }));
  expect(JSON.parse(policy.lifecyclePolicyText ?? '{}').rules).toHaveLength(2);
});

test('an immutable tag already used names the tag and the digest it holds', async () => {
  const first = await layout([{ size: 1024 }]);
  const second = await layout([{ size: 2048 }]);
  const inputs = {
    repository: 'immutable/app',
    'create-repository': 'true',
    'image-tag-mutability': 'IMMUTABLE',
    tags: 'raw:v1',
  };
  expect((await push({ ...inputs, 'oci-layout': first.dir })).exitCode).toBe(0);
  const run = await push({ ...inputs, 'oci-layout': second.dir });
  expect(run.exitCode).toBe(1);
  expect(run.errors[0]).toContain('The tag "v1" already exists in the immutable repository "immutable/app"');
  expect(run.errors[0]).toContain(first.top.digest);
  expect(images('immutable/app')).toEqual({ [first.top.digest]: ['v1'] });
});

test('promote-from retags the tested digest without moving a layer', async () => {
  const image = await layout();
  expect(
    (
      await push({
        repository: 'promote/app',
        'create-repository': 'true',
        'oci-layout': image.dir,
        tags: 'sha',
      })
    ).exitCode,
  ).toBe(0);
  aws.opLog.clear();
  const run = await push({
    repository: 'promote/app',
    'promote-from': 'sha-0123456',
    tags: 'raw:release\nraw:stable',
  });
  expect(run.errors).toEqual([]);
  expect(run.outputs.digest).toBe(image.top.digest);
  expect(images('promote/app')).toEqual({ [image.top.digest]: ['sha-0123456', 'release', 'stable'] });
  const actions = aws.opLog.actions();
  expect(actions).toContain('ecr:BatchGetImage');
  expect(actions).toContain('ecr:PutImage');
  expect(actions).not.toContain('ecr:InitiateLayerUpload');
});

test('skip-if-exists pushes nothing when every tag is there', async () => {
  const image = await layout([{ size: 1024 }]);
  const inputs = {
    repository: 'skip/app',
    'create-repository': 'true',
    'oci-layout': image.dir,
    tags: 'sha',
    'skip-if-exists': 'true',
  };
  expect((await push(inputs)).outputs.pushed).toBe('true');
  aws.opLog.clear();
  const run = await push(inputs);
  expect(run.errors).toEqual([]);
  expect(run.outputs).toMatchObject({ pushed: 'false', digest: image.top.digest });
  expect(aws.opLog.actions()).not.toContain('ecr:PutImage');
});

test.each([
  ['passes when nothing reaches the threshold', 'CRITICAL', 0],
  ['fails listing the findings at or above the threshold', 'HIGH', 1],
])('the scan gate %s', async (_name, failOn, exitCode) => {
  const image = await layout([{ size: 1024 }]);
  aws.admin.ecr.setScanDuration(0);
  aws.admin.ecr.setScanFindings(image.top.digest, {
    findings: [
      { name: 'CVE-2026-0001', severity: 'HIGH', attributes: [{ key: 'package_name', value: 'openssl' }] },
      { name: 'CVE-2026-0002', severity: 'LOW' },
    ],
  });
  const run = await push({
    repository: `scan/${failOn.toLowerCase()}`,
    'create-repository': 'true',
    'oci-layout': image.dir,
    'fail-on-severity': failOn,
  });
  expect(run.exitCode).toBe(exitCode);
  // Every severity, zeros included (consumers read fromJSON(...).CRITICAL without a fallback).
  expect(JSON.parse(run.outputs['scan-findings'] ?? '{}')).toEqual({
    CRITICAL: 0,
    HIGH: 1,
    MEDIUM: 0,
    LOW: 1,
    INFORMATIONAL: 0,
    UNDEFINED: 0,
  });
  expect(run.summary).toContain('CVE-2026-0001');
  if (exitCode === 1) {
    expect(run.errors[0]).toContain('1 finding(s) at or above HIGH');
    expect(run.errors[0]).toContain('CVE-2026-0001 (openssl)');
  }
});

test('bad inputs change nothing in AWS', async () => {
  const run = await push({ repository: 'Bad/Name', 'oci-layout': '/nowhere', tags: 'sha\nlastest' });
  expect(run.exitCode).toBe(1);
  expect(run.errors[0]).toContain('Input "repository"');
  expect(run.errors[0]).toContain('Input "tags"');
  expect(aws.opLog.entries()).toEqual([]);
});

test('promote-from another repository mounts the blobs instead of moving them', async () => {
  const image = await layout();
  expect(
    (
      await push({
        repository: 'staging/app',
        'create-repository': 'true',
        'oci-layout': image.dir,
        tags: 'raw:rc1',
      })
    ).exitCode,
  ).toBe(0);
  aws.opLog.clear();
  const run = await push({
    repository: 'production/app',
    'create-repository': 'true',
    'promote-from': 'staging/app:rc1',
    tags: 'raw:1.0.0',
  });
  expect(run.errors).toEqual([]);
  expect(images('production/app')).toEqual({ [image.top.digest]: ['1.0.0'] });
  expect(aws.opLog.actions()).not.toContain('ecr:CompleteLayerUpload');
});

requireTool('skopeo', '/usr/bin/skopeo')('pushes a docker save archive without a daemon', async () => {
  const image = await layout([{ size: 4096 }]);
  const archive = path.join(mkdtempSync(path.join(os.tmpdir(), 'archive-')), 'image.tar');
  // skopeo writes the same format `docker save` does.
  const made = await runTool('/usr/bin/skopeo', [
    'copy',
    `oci:${image.dir}:${image.tag}`,
    `docker-archive:${archive}:app:built`,
  ]);
  expect(made.stderr).toBe('');
  const run = await push({
    repository: 'archive/app',
    'create-repository': 'true',
    'docker-archive': archive,
    tags: 'sha',
  });
  expect(run.errors).toEqual([]);
  expect(run.outputs.pushed).toBe('true');
  expect(run.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
  expect(images('archive/app')).toEqual({ [run.outputs.digest as string]: ['sha-0123456'] });
  expect(run.summary).toContain('docker archive');
});

test('login-registries are skipped with a warning when docker-login: auto finds no engine', async () => {
  const image = await layout([{ size: 1024 }]);
  const run = await push(
    {
      repository: 'noengine/app',
      'create-repository': 'true',
      'oci-layout': image.dir,
      tags: 'sha',
      'docker-login': 'auto',
      'login-registries': 'public',
    },
    { env: { DOCKER_HOST: 'unix:///nonexistent.sock' } },
  );
  expect(run.errors).toEqual([]);
  expect(run.stdout).toMatch(
    /::warning::login-registries: docker is not logged in \(docker-login: auto, and no docker engine answers/,
  );
  expect(aws.opLog.actions()).not.toContain('ecr-public:GetAuthorizationToken');
});
