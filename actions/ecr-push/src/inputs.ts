import {
  InputReader,
  ParseError,
  isValidEcrRepositoryName,
  isValidImageTag,
  parseAccountId,
  parseRegion,
} from '@aws-containers/core';
import { DEFAULT_TAGS, TAG_RULES_EXPECTED, parseTagRules, type TagRule } from './tags.js';

export type ImageSource =
  | {
      kind: 'context';
      context: string;
      dockerfile: string | undefined;
      buildArgs: Map<string, string>;
      target: string | undefined;
      platforms: string[];
    }
  | { kind: 'image'; image: string }
  | { kind: 'oci-layout'; path: string; ref: string | undefined }
  | { kind: 'docker-archive'; path: string }
  | { kind: 'promote-from'; reference: PromoteReference };

/** An image already in ECR: a tag or digest, in this repository unless another is named. */
export interface PromoteReference {
  repository: string | undefined;
  tag: string | undefined;
  digest: string | undefined;
}

/** A registry to log docker in to besides the one pushed to. */
export type LoginRegistry =
  | {
      type: 'private';
      accountId: string;
      /** Undefined: the region of the step. */
      region: string | undefined;
    }
  /** Amazon ECR Public (public.ecr.aws), whose tokens come from us-east-1 whatever the region. */
  | { type: 'public' };

export type TagMutability = 'MUTABLE' | 'IMMUTABLE' | 'MUTABLE_WITH_EXCLUSION' | 'IMMUTABLE_WITH_EXCLUSION';
export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'INFORMATIONAL' | 'UNDEFINED';

export interface RepositorySettings {
  imageTagMutability: TagMutability;
  imageTagMutabilityExclusions: string[];
  scanOnPush: boolean;
  encryption: { type: 'AES256' } | { type: 'KMS'; kmsKey: string | undefined };
  tags: Map<string, string>;
  /** The lifecycle policy text to put, from the input or the presets. */
  lifecyclePolicy: string | undefined;
  repositoryPolicy: string | undefined;
}

/** Every input of ecr-push, parsed and checked; keys follow action.yml. */
export interface Inputs {
  repository: string;
  /** The account of the registry; undefined means the caller's. */
  registry: string | undefined;
  region: string | undefined;
  loginRegistries: LoginRegistry[];
  dockerLogin: 'auto' | 'true' | 'false';
  skipLogout: boolean;
  outputCredentials: boolean;
  tagRules: TagRule[];
  labels: Map<string, string>;
  createRepository: boolean;
  updateRepositorySettings: boolean;
  repositorySettings: RepositorySettings;
  source: ImageSource;
  skipIfExists: boolean;
  pushConcurrency: number;
  /** `wait` also when fail-on-severity asks for a gate: a gate needs the findings. */
  scan: 'none' | 'wait';
  failOnSeverity: Severity | 'NONE';
  scanTimeoutMs: number;
  maxAttempts: number;
}

const REPOSITORY_EXPECTED =
  'an ECR repository name: 2 to 256 lowercase letters, digits and . _ - separators, with / between path parts';
const SOURCES = ['context', 'image', 'oci-layout', 'docker-archive', 'promote-from'] as const;
const BUILD_ONLY = ['dockerfile', 'build-args', 'target', 'platforms'] as const;
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'] as const;

export function parseRepositoryName(value: string): string {
  if (!isValidEcrRepositoryName(value)) throw new ParseError(REPOSITORY_EXPECTED, value);
  return value;
}

const LOGIN_REGISTRY_EXPECTED =
  'registries to log in to, one per line: an account ID, <account>:<region>, or public';

export function parseLoginRegistry(value: string): LoginRegistry {
  if (value === 'public') return { type: 'public' };
  const [account, region, ...rest] = value.split(':');
  try {
    if (rest.length > 0) throw new ParseError(LOGIN_REGISTRY_EXPECTED, value);
    return {
      type: 'private',
      accountId: parseAccountId(account ?? ''),
      region: region === undefined ? undefined : parseRegion(region),
    };
  } catch (err) {
    if (err instanceof ParseError) throw new ParseError(LOGIN_REGISTRY_EXPECTED, value, err.hint);
    throw err;
  }
}

const PROMOTE_EXPECTED =
  'an image in ECR: a tag, a digest (sha256:…), or another repository of the registry as repo:tag or repo@sha256:…';
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DIGEST_HINT = 'A digest is sha256: followed by 64 lowercase hex digits';

export function parsePromoteReference(value: string): PromoteReference {
  if (DIGEST.test(value)) return { repository: undefined, tag: undefined, digest: value };
  // `sha256:zz` would otherwise read as the tag "zz" of a repository called "sha256".
  if (/^sha\d+:/i.test(value)) throw new ParseError(PROMOTE_EXPECTED, value, DIGEST_HINT);
  const at = value.indexOf('@');
  if (at >= 0) {
    const repository = value.slice(0, at);
    const digest = value.slice(at + 1);
    if (!isValidEcrRepositoryName(repository) || !DIGEST.test(digest)) {
      throw new ParseError(PROMOTE_EXPECTED, value, DIGEST.test(digest) ? undefined : DIGEST_HINT);
    }
    return { repository, tag: undefined, digest };
  }
  const colon = value.lastIndexOf(':');
  const repository = colon >= 0 ? value.slice(0, colon) : undefined;
  const tag = colon >= 0 ? value.slice(colon + 1) : value;
  if ((repository !== undefined && !isValidEcrRepositoryName(repository)) || !isValidImageTag(tag)) {
    throw new ParseError(PROMOTE_EXPECTED, value);
  }
  return { repository, tag, digest: undefined };
}

/** The lifecycle policy the presets stand for: untagged images first, then the tagged ones to keep. */
export function presetLifecyclePolicy(
  keepLast: number | undefined,
  expireUntaggedDays: number | undefined,
): string {
  const rules: object[] = [];
  if (expireUntaggedDays !== undefined) {
    rules.push({
      rulePriority: rules.length + 1,
      description: `Expire untagged images ${expireUntaggedDays} days after push`,
      selection: {
        tagStatus: 'untagged',
        countType: 'sinceImagePushed',
        countUnit: 'days',
        countNumber: expireUntaggedDays,
      },
      action: { type: 'expire' },
    });
  }
  if (keepLast !== undefined) {
    rules.push({
      rulePriority: rules.length + 1,
      description: `Keep the last ${keepLast} tagged images`,
      selection: {
        tagStatus: 'tagged',
        tagPatternList: ['*'],
        countType: 'imageCountMoreThan',
        countNumber: keepLast,
      },
      action: { type: 'expire' },
    });
  }
  return JSON.stringify({ rules });
}

export function getInputs(reader: InputReader = new InputReader()): Inputs {
  const repository = reader.parsed('repository', REPOSITORY_EXPECTED, parseRepositoryName, {
    required: true,
  });
  const registry = reader.accountId('registry');
  const region = reader.region('region');
  const loginRegistries = (reader.list('login-registries', { commas: false }) ?? []).flatMap((line) => {
    try {
      return [parseLoginRegistry(line)];
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      reader.addError('login-registries', err.expected, err.given, err.hint);
      return [];
    }
  });
  const dockerLogin = reader.enum('docker-login', ['auto', 'true', 'false'], { default: 'auto' });
  if (dockerLogin === 'false' && loginRegistries.length > 0) {
    reader.addError(
      'login-registries',
      'no value with docker-login: false (they are for docker logins)',
      reader.raw('login-registries'),
    );
  }
  const skipLogout = reader.boolean('skip-logout', { default: false });
  const outputCredentials = reader.boolean('output-credentials', { default: false });
  const tagRules = reader.parsed('tags', TAG_RULES_EXPECTED, parseTagRules, {
    default: parseTagRules(DEFAULT_TAGS),
  });
  const labels = reader.keyValues('labels', {
    keyPattern: /^[A-Za-z0-9][A-Za-z0-9._/-]*$/,
    keyExpected: 'a label key',
  });

  const createRepository = reader.boolean('create-repository', { default: false });
  const updateRepositorySettings = reader.boolean('update-repository-settings', { default: false });
  const imageTagMutability = reader.enum(
    'image-tag-mutability',
    ['MUTABLE', 'IMMUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'],
    { default: 'MUTABLE' },
  );
  const imageTagMutabilityExclusions = reader.list('image-tag-mutability-exclusions') ?? [];
  if (imageTagMutabilityExclusions.length > 0 && !(imageTagMutability ?? '').endsWith('_WITH_EXCLUSION')) {
    reader.addError(
      'image-tag-mutability-exclusions',
      'no value unless image-tag-mutability is MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusions.join(','),
    );
  }
  if (imageTagMutabilityExclusions.length === 0 && (imageTagMutability ?? '').endsWith('_WITH_EXCLUSION')) {
    reader.addError(
      'image-tag-mutability-exclusions',
      `at least one tag filter when image-tag-mutability is ${imageTagMutability}`,
      undefined,
    );
  }
  const scanOnPush = reader.boolean('scan-on-push', { default: true });
  const encryptionType = reader.enum('encryption', ['AES256', 'KMS'], { default: 'AES256' });
  const kmsKey = reader.string('kms-key');
  if (kmsKey !== undefined && encryptionType !== 'KMS') {
    reader.addError('kms-key', 'no value unless encryption is KMS', kmsKey);
  }
  const repositoryTags = reader.keyValues('repository-tags', {
    keyPattern: /^[\p{L}\p{Z}\p{N}_.:/=+@-]{1,128}$/u,
    keyExpected: 'a tag key (up to 128 letters, digits, spaces and _ . : / = + - @)',
  });
  reader.atMostOneOf(['lifecycle-policy', 'lifecycle-keep-last']);
  reader.atMostOneOf(['lifecycle-policy', 'lifecycle-expire-untagged-days']);
  const lifecycleDocument = reader.jsonOrYaml('lifecycle-policy', { shape: 'object' });
  const keepLast = reader.int('lifecycle-keep-last', { min: 1, max: 10000 });
  const expireUntaggedDays = reader.int('lifecycle-expire-untagged-days', { min: 1, max: 3650 });
  const lifecyclePolicy =
    lifecycleDocument !== undefined
      ? JSON.stringify(lifecycleDocument)
      : keepLast !== undefined || expireUntaggedDays !== undefined
        ? presetLifecyclePolicy(keepLast, expireUntaggedDays)
        : undefined;
  const repositoryPolicyDocument = reader.jsonOrYaml('repository-policy', { shape: 'object' });

  reader.exactlyOneOf(SOURCES);
  const context = reader.string('context');
  for (const name of BUILD_ONLY) {
    if (reader.has(name) && context === undefined) {
      reader.addError(name, 'no value unless context is set (it configures a build)', reader.raw(name));
    }
  }
  const dockerfile = reader.string('dockerfile');
  const buildArgs = reader.keyValues('build-args', {
    keyPattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
    keyExpected: 'a build argument name',
  });
  const target = reader.string('target', {
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    expected: 'a build stage name',
  });
  const platforms = reader.list('platforms', {
    itemTest: (p) => /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(p),
    itemExpected: 'platforms such as linux/amd64 or linux/arm64/v8',
  });
  // Checked as a reference: a value such as `--help` would otherwise reach docker as an option.
  const image = reader.imageRef('image')?.original;
  const ociLayout = reader.string('oci-layout');
  const dockerArchive = reader.string('docker-archive');
  const promoteFrom = reader.parsed('promote-from', PROMOTE_EXPECTED, parsePromoteReference);
  const skipIfExists = reader.boolean('skip-if-exists', { default: false });
  const pushConcurrency = reader.int('push-concurrency', { min: 1, max: 16, default: 4 });

  const scanInput = reader.enum('scan', ['none', 'wait'], { default: 'none' });
  const failOnSeverity = reader.enum('fail-on-severity', [...SEVERITIES, 'NONE'], { default: 'NONE' });
  const scanTimeoutMs = reader.duration('scan-timeout', { min: 1000, max: 6 * 3600_000, default: 600_000 });
  const maxAttempts = reader.int('max-attempts', { min: 1, max: 20, default: 5 });

  const source: ImageSource | undefined =
    context !== undefined
      ? {
          kind: 'context',
          context,
          dockerfile,
          buildArgs: buildArgs ?? new Map(),
          target,
          platforms: platforms ?? [],
        }
      : image !== undefined
        ? { kind: 'image', image }
        : ociLayout !== undefined
          ? splitLayoutRef(ociLayout)
          : dockerArchive !== undefined
            ? { kind: 'docker-archive', path: dockerArchive }
            : promoteFrom !== undefined
              ? { kind: 'promote-from', reference: promoteFrom }
              : undefined;

  return reader.finish({
    repository,
    registry,
    region,
    loginRegistries,
    dockerLogin,
    skipLogout,
    outputCredentials,
    tagRules,
    labels: labels ?? new Map(),
    createRepository,
    updateRepositorySettings,
    repositorySettings: {
      imageTagMutability,
      imageTagMutabilityExclusions,
      scanOnPush,
      encryption: encryptionType === 'KMS' ? { type: 'KMS', kmsKey } : { type: 'AES256' },
      tags: repositoryTags ?? new Map(),
      lifecyclePolicy,
      repositoryPolicy:
        repositoryPolicyDocument === undefined ? undefined : JSON.stringify(repositoryPolicyDocument),
    },
    // finish() throws when no source was set, so the fallback is never returned.
    source: source as ImageSource,
    skipIfExists,
    pushConcurrency,
    scan: failOnSeverity !== 'NONE' ? 'wait' : scanInput,
    failOnSeverity,
    scanTimeoutMs,
    maxAttempts,
  });
}

/** `path` or `path:ref` — a ref names one image of a layout holding several. */
function splitLayoutRef(value: string): ImageSource {
  const colon = value.lastIndexOf(':');
  // A colon inside the path's last component only counts when what follows is a plausible ref.
  if (colon > 0 && !value.slice(colon + 1).includes('/') && value.slice(colon + 1) !== '') {
    return { kind: 'oci-layout', path: value.slice(0, colon), ref: value.slice(colon + 1) };
  }
  return { kind: 'oci-layout', path: value, ref: undefined };
}
