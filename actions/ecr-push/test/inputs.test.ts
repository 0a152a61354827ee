import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InputErrors, InputReader, inputsEnv } from '@aws-containers/core';
import {
  getInputs,
  parseLoginRegistry,
  parsePromoteReference,
  presetLifecyclePolicy,
  type Inputs,
} from '../src/inputs.js';

function read(inputs: Record<string, string>): Inputs {
  return getInputs(new InputReader(inputsEnv(inputs)));
}

function errorsOf(inputs: Record<string, string>): string[] {
  try {
    read(inputs);
  } catch (err) {
    if (err instanceof InputErrors) return err.errors.map((e) => e.message);
    throw err;
  }
  return [];
}

const base = { repository: 'team/app', 'oci-layout': 'build/image' };

test('defaults: private registry of the caller, default tag rules, no scan gate', () => {
  const inputs = read(base);
  expect(inputs).toMatchObject({
    repository: 'team/app',
    registry: undefined,
    dockerLogin: 'auto',
    skipLogout: false,
    createRepository: false,
    source: { kind: 'oci-layout', path: 'build/image', ref: undefined },
    scan: 'none',
    failOnSeverity: 'NONE',
    scanTimeoutMs: 600_000,
    pushConcurrency: 4,
    maxAttempts: 5,
  });
  expect(inputs.tagRules.map((r) => r.type)).toEqual(['semver', 'tag', 'pr', 'branch', 'sha', 'latest']);
  expect(inputs.repositorySettings).toMatchObject({
    imageTagMutability: 'MUTABLE',
    scanOnPush: true,
    encryption: { type: 'AES256' },
    lifecyclePolicy: undefined,
  });
});

test.each([
  [
    {
      context: '.',
      dockerfile: 'docker/Dockerfile',
      'build-args': 'A=1\nURL=http://x?a=b',
      platforms: 'linux/amd64,linux/arm64',
    },
    {
      kind: 'context',
      context: '.',
      dockerfile: 'docker/Dockerfile',
      buildArgs: new Map([
        ['A', '1'],
        ['URL', 'http://x?a=b'],
      ]),
      target: undefined,
      platforms: ['linux/amd64', 'linux/arm64'],
    },
  ],
  [{ image: 'app:build' }, { kind: 'image', image: 'app:build' }],
  [{ 'oci-layout': 'out/layout:v2' }, { kind: 'oci-layout', path: 'out/layout', ref: 'v2' }],
  [{ 'docker-archive': 'image.tar' }, { kind: 'docker-archive', path: 'image.tar' }],
  [
    { 'promote-from': 'sha-abc1234' },
    { kind: 'promote-from', reference: { repository: undefined, tag: 'sha-abc1234', digest: undefined } },
  ],
])('image source %j', (source, want) => {
  expect(read({ repository: 'team/app', ...source }).source).toEqual(want);
});

test.each([
  ['v1.2.3', { repository: undefined, tag: 'v1.2.3', digest: undefined }],
  [`sha256:${'a'.repeat(64)}`, { repository: undefined, tag: undefined, digest: `sha256:${'a'.repeat(64)}` }],
  ['staging/app:rc1', { repository: 'staging/app', tag: 'rc1', digest: undefined }],
  [
    `staging/app@sha256:${'b'.repeat(64)}`,
    { repository: 'staging/app', tag: undefined, digest: `sha256:${'b'.repeat(64)}` },
  ],
])('promote-from %s', (value, want) => {
  expect(parsePromoteReference(value)).toEqual(want);
});

test.each([
  ['public', { type: 'public' }],
  ['123456789012', { type: 'private', accountId: '123456789012', region: undefined }],
  ['123456789012:eu-west-1', { type: 'private', accountId: '123456789012', region: 'eu-west-1' }],
])('login registry %s', (value, want) => {
  expect(parseLoginRegistry(value)).toEqual(want);
});

test('lifecycle presets expire untagged images first, then keep the last N tagged', () => {
  expect(JSON.parse(presetLifecyclePolicy(30, 7))).toEqual({
    rules: [
      {
        rulePriority: 1,
        description: 'Expire untagged images 7 days after push',
        selection: {
          tagStatus: 'untagged',
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: 7,
        },
        action: { type: 'expire' },
      },
      {
        rulePriority: 2,
        description: 'Keep the last 30 tagged images',
        selection: {
          tagStatus: 'tagged',
          tagPatternList: ['*'],
          countType: 'imageCountMoreThan',
          countNumber: 30,
        },
        action: { type: 'expire' },
      },
    ],
  });
  expect(read({ ...base, 'lifecycle-keep-last': '10' }).repositorySettings.lifecyclePolicy).toBe(
    presetLifecyclePolicy(10, undefined),
  );
});

test('a lifecycle policy file is read and passed on as JSON', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ecr-push-'));
  const file = path.join(dir, 'lifecycle.json');
  writeFileSync(file, '{"rules": []}');
  expect(read({ ...base, 'lifecycle-policy': file }).repositorySettings.lifecyclePolicy).toBe('{"rules":[]}');
});

test('fail-on-severity implies waiting for the scan', () => {
  expect(read({ ...base, 'fail-on-severity': 'HIGH' })).toMatchObject({
    scan: 'wait',
    failOnSeverity: 'HIGH',
  });
});

test.each([
  [
    {},
    [
      'Input "repository"',
      'exactly one of "context", "image", "oci-layout", "docker-archive", "promote-from"',
    ],
  ],
  [{ repository: 'Team/App', image: 'x' }, ['Input "repository": expected an ECR repository name']],
  [{ ...base, image: 'x' }, ['exactly one of']],
  [{ ...base, dockerfile: 'Dockerfile' }, ['Input "dockerfile": expected no value unless context is set']],
  [{ ...base, registry: '1234' }, ['Input "registry": expected a 12-digit AWS account ID, got "1234"']],
  [{ ...base, region: 'us-east' }, ['Input "region"']],
  [
    { ...base, 'login-registries': '123456789012\nnot-an-account' },
    ['Input "login-registries"', '"not-an-account"'],
  ],
  [{ ...base, tags: 'sha\nbogus-rule=1' }, ['Input "tags"']],
  [
    { ...base, 'docker-login': 'false', 'login-registries': 'public' },
    ['Input "login-registries": expected no value with docker-login: false'],
  ],
  [{ ...base, 'kms-key': 'alias/x' }, ['Input "kms-key": expected no value unless encryption is KMS']],
  [{ ...base, 'image-tag-mutability': 'immutable' }, ['Did you mean "IMMUTABLE"?']],
  [
    { ...base, 'image-tag-mutability': 'IMMUTABLE_WITH_EXCLUSION' },
    ['Input "image-tag-mutability-exclusions": expected at least one tag filter'],
  ],
  [
    { ...base, 'lifecycle-policy': '{"rules": []}', 'lifecycle-keep-last': '5' },
    ['"lifecycle-policy", "lifecycle-keep-last"'],
  ],
  [
    { ...base, 'lifecycle-keep-last': '0' },
    ['Input "lifecycle-keep-last": expected an integer from 1 to 10000, got "0"'],
  ],
  [{ ...base, 'lifecycle-policy': '{"rules": ' }, ['Input "lifecycle-policy"']],
  [{ ...base, 'promote-from': 'Bad Tag' }, ['exactly one of', 'Input "promote-from"']],
  [{ ...base, 'fail-on-severity': 'SEVERE' }, ['Input "fail-on-severity"']],
  [{ ...base, 'scan-timeout': '10' }, ['Input "scan-timeout"']],
  [
    { ...base, 'push-concurrency': '64' },
    ['Input "push-concurrency": expected an integer from 1 to 16, got "64"'],
  ],
  [{ repository: 'team/app', context: '.', platforms: 'amd64' }, ['Input "platforms"']],
])('bad inputs %j are all reported', (inputs, fragments) => {
  const messages = errorsOf(inputs).join('\n');
  for (const fragment of fragments) expect(messages).toContain(fragment);
});

test.each(['--help', '-q', 'App:Build'])(
  'image: %s is not an image reference, so it never reaches docker as an option',
  (image) => {
    const messages = errorsOf({ repository: 'team/app', image }).join('\n');
    expect(messages).toContain('Input "image": expected an image reference');
    expect(messages).toContain(JSON.stringify(image));
  },
);

test.each(['sha256:zz', `sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, 'staging/app@sha256:zz'])(
  'promote-from: %s is an input error that says what a digest is',
  (value) => {
    const messages = errorsOf({ repository: 'team/app', 'promote-from': value }).join('\n');
    expect(messages).toContain('Input "promote-from"');
    expect(messages).toContain('A digest is sha256: followed by 64 lowercase hex digits');
  },
);

test('build-args errors name the line and the key, never the value', () => {
  const messages = errorsOf({
    repository: 'team/app',
    context: '.',
    'build-args': 'GOOD=1\nSECRET-KEY=hunter2',
  }).join('\n');
  expect(messages).toContain('Input "build-args"');
  expect(messages).toContain('Line 2 has the key "SECRET-KEY"');
  expect(messages).not.toContain('hunter2');
});

test('labels errors name the line and the key, never the value', () => {
  const messages = errorsOf({ ...base, labels: '-bad=s3cr3t-label-value' }).join('\n');
  expect(messages).toContain('Input "labels"');
  expect(messages).toContain('Line 1 has the key "-bad"');
  expect(messages).not.toContain('s3cr3t');
});
