// ECR's state, shared by the JSON API (api.ts) and the registry data plane (../registry/route.ts).
// Everything here is JSON-serialisable and lives in the StateStore namespace "ecr".
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock, StateStore } from '../service.js';
import type { BlobStore } from '../registry/blobs.js';
import {
  ManifestInvalid,
  MAX_MANIFEST_BYTES,
  parseManifest,
  requiredBlobs,
  sha256Digest,
} from '../registry/manifest.js';

export type TagMutability = 'MUTABLE' | 'IMMUTABLE' | 'MUTABLE_WITH_EXCLUSION' | 'IMMUTABLE_WITH_EXCLUSION';
export const TAG_MUTABILITIES: readonly TagMutability[] = [
  'MUTABLE',
  'IMMUTABLE',
  'IMMUTABLE_WITH_EXCLUSION',
  'MUTABLE_WITH_EXCLUSION',
];

export interface Tag {
  Key: string;
  Value: string;
}
export interface ExclusionFilter {
  filterType: 'WILDCARD';
  filter: string;
}
export interface Encryption {
  encryptionType: 'AES256' | 'KMS' | 'KMS_DSSE';
  kmsKey?: string;
}

export interface ScanFinding {
  name: string;
  severity: 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL' | 'UNDEFINED';
  description?: string;
  uri?: string;
  attributes?: Array<{ key: string; value?: string }>;
}
export interface ScanFindingsFixture {
  findings?: ScanFinding[];
  /** Make the scan end FAILED (the waiter's failure path) with this description. */
  failWith?: string;
}

export interface ImageRecord {
  digest: string;
  /** The manifest exactly as pushed (byte-exact once UTF-8 encoded). */
  manifest: string;
  mediaType: string;
  artifactMediaType?: string;
  sizeInBytes: number;
  pushedAt: number;
  subject?: string;
  /** Child manifests of an index. */
  children?: string[];
  scan?: { startedAt: number };
  lastPulledAt?: number;
}

export interface RepositoryState {
  name: string;
  createdAt: number;
  imageTagMutability: TagMutability;
  exclusionFilters: ExclusionFilter[];
  scanOnPush: boolean;
  encryption: Encryption;
  tags: Tag[];
  images: Record<string, ImageRecord>;
  /** tag → digest */
  imageTags: Record<string, string>;
  /** Blobs this repository may serve (uploaded here or mounted here). */
  blobs: Record<string, true>;
  lifecyclePolicy?: { text: string; updatedAt: number };
  policy?: string;
}

export interface CreationTemplate {
  prefix: string;
  description?: string;
  encryptionConfiguration?: Encryption;
  resourceTags: Tag[];
  imageTagMutability: TagMutability;
  imageTagMutabilityExclusionFilters?: ExclusionFilter[];
  repositoryPolicy?: string;
  lifecyclePolicy?: string;
  appliedFor: string[];
  customRoleArn?: string;
  createdAt: number;
  updatedAt: number;
}

/** One registry: an account in a region. */
export interface RegistryState {
  accountId: string;
  region: string;
  repositories: Record<string, RepositoryState>;
  templates: Record<string, CreationTemplate>;
  /** The key id of the "aws/ecr" AWS managed KMS key of this account and region. */
  managedKmsKeyId: string;
}

export interface EcrState {
  /** HMAC key for registry passwords. */
  secret: string;
  registries: Record<string, RegistryState>;
  scanFindings: Record<string, ScanFindingsFixture>;
  scanDurationMs: number;
}

export const DEFAULT_SCAN_DURATION_MS = 3000;

export function loadState(state: StateStore): EcrState {
  return state.namespace<EcrState>('ecr', () => ({
    secret: randomBytes(32).toString('hex'),
    registries: {},
    scanFindings: {},
    scanDurationMs: DEFAULT_SCAN_DURATION_MS,
  }));
}

export function registryOf(s: EcrState, accountId: string, region: string): RegistryState {
  const key = `${accountId}/${region}`;
  let r = s.registries[key];
  if (!r) {
    r = { accountId, region, repositories: {}, templates: {}, managedKmsKeyId: randomUUID() };
    s.registries[key] = r;
  }
  return r;
}

export function repositoryArn(reg: RegistryState, name: string): string {
  return `arn:aws:ecr:${reg.region}:${reg.accountId}:repository/${name}`;
}

export function managedKmsKeyArn(reg: RegistryState): string {
  return `arn:aws:kms:${reg.region}:${reg.accountId}:key/${reg.managedKmsKeyId}`;
}

/** ECR repository names (the RepositoryName shape's pattern). */
export const REPOSITORY_NAME_PATTERN = '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*';
export const REPOSITORY_NAME_RE = new RegExp(`^${REPOSITORY_NAME_PATTERN}$`);

/** Tags the registry accepts in a manifest reference (Docker's tag grammar, ECR's 300-char limit). */
export const IMAGE_TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,299}$/;

function wildcardMatch(filter: string, tag: string): boolean {
  const re = new RegExp('^' + filter.split('*').map(escapeRe).join('.*') + '$');
  return re.test(tag);
}
function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether an existing tag may be moved to another image in this repository. */
export function tagIsImmutable(repo: RepositoryState, tag: string): boolean {
  const matches = repo.exclusionFilters.some((f) => wildcardMatch(f.filter, tag));
  switch (repo.imageTagMutability) {
    case 'MUTABLE':
      return false;
    case 'IMMUTABLE':
      return true;
    case 'MUTABLE_WITH_EXCLUSION':
      return matches;
    case 'IMMUTABLE_WITH_EXCLUSION':
      return !matches;
  }
}

export function tagsOf(repo: RepositoryState, digest: string): string[] {
  return Object.entries(repo.imageTags)
    .filter(([, d]) => d === digest)
    .map(([t]) => t)
    .sort();
}

/** Why a manifest push failed, in neutral terms; each path maps it to its own error. */
export type PushFailure =
  | { kind: 'invalid'; message: string }
  | { kind: 'tooLarge'; size: number }
  | { kind: 'layersNotFound'; digests: string[] }
  | { kind: 'referencedNotFound'; digests: string[] }
  | { kind: 'digestMismatch'; expected: string; actual: string }
  | { kind: 'tagImmutable'; tag: string }
  | { kind: 'alreadyExists'; digest: string; tag: string | undefined };

export class PushError extends Error {
  constructor(readonly failure: PushFailure) {
    super(failure.kind);
  }
}

export interface PushResult {
  digest: string;
  mediaType: string;
  image: ImageRecord;
  /** A new image (digest) was created, as opposed to a tag moved or nothing changed. */
  created: boolean;
}

/**
 * Stores a manifest in a repository, optionally tagging it: the one code path behind both
 * PutImage and a registry manifest PUT, so validation and immutability are the same on both.
 * State is only mutated once every check has passed.
 */
export function putManifest(
  repo: RepositoryState,
  blobs: BlobStore,
  clock: Clock,
  bytes: Buffer,
  opts: { mediaType?: string; tag?: string; digest?: string; via: 'api' | 'registry' },
): PushResult {
  if (bytes.length > MAX_MANIFEST_BYTES) throw new PushError({ kind: 'tooLarge', size: bytes.length });
  let parsed;
  try {
    parsed = parseManifest(bytes, opts.mediaType);
  } catch (e) {
    if (e instanceof ManifestInvalid) throw new PushError({ kind: 'invalid', message: e.message });
    throw e;
  }
  const digest = sha256Digest(bytes);
  if (opts.digest !== undefined && opts.digest !== digest) {
    throw new PushError({ kind: 'digestMismatch', expected: opts.digest, actual: digest });
  }
  const missing = requiredBlobs(parsed).filter((d) => !repo.blobs[d] || !blobs.has(d));
  if (missing.length > 0) throw new PushError({ kind: 'layersNotFound', digests: missing });
  if (parsed.kind === 'index') {
    const absent = parsed.manifests.map((m) => m.digest).filter((d) => !repo.images[d]);
    if (absent.length > 0) throw new PushError({ kind: 'referencedNotFound', digests: [...new Set(absent)] });
  }
  const existing = repo.images[digest];
  const tag = opts.tag;
  if (tag !== undefined) {
    const current = repo.imageTags[tag];
    if (current === digest) {
      if (opts.via === 'api') throw new PushError({ kind: 'alreadyExists', digest, tag });
    } else if (current !== undefined && tagIsImmutable(repo, tag)) {
      throw new PushError({ kind: 'tagImmutable', tag });
    }
  } else if (existing && opts.via === 'api') {
    throw new PushError({ kind: 'alreadyExists', digest, tag: undefined });
  }

  const now = clock.now();
  let image = existing;
  if (!image) {
    let size: number;
    if (parsed.kind === 'image') {
      size = (parsed.config?.size ?? 0) + parsed.layers.reduce((n, l) => n + l.size, 0);
    } else {
      size = parsed.manifests.reduce((n, m) => n + (repo.images[m.digest]?.sizeInBytes ?? 0), 0);
    }
    image = {
      digest,
      manifest: bytes.toString('utf8'),
      mediaType: parsed.mediaType,
      sizeInBytes: size,
      pushedAt: now,
    };
    if (parsed.artifactMediaType) image.artifactMediaType = parsed.artifactMediaType;
    if (parsed.subject) image.subject = parsed.subject.digest;
    if (parsed.kind === 'index') image.children = parsed.manifests.map((m) => m.digest);
    repo.images[digest] = image;
    if (repo.scanOnPush && parsed.kind === 'image') image.scan = { startedAt: now };
  }
  if (tag !== undefined) repo.imageTags[tag] = digest;
  return { digest, mediaType: parsed.mediaType, image, created: !existing };
}

/** Removes an image and every tag on it. */
export function deleteImage(repo: RepositoryState, digest: string): void {
  delete repo.images[digest];
  for (const [t, d] of Object.entries(repo.imageTags)) if (d === digest) delete repo.imageTags[t];
}

/** Digests of indexes in the repository that reference this image. */
export function referencedBy(repo: RepositoryState, digest: string): string[] {
  return Object.values(repo.images)
    .filter((i) => i.children?.includes(digest))
    .map((i) => i.digest);
}

export type ScanView =
  | { status: 'IN_PROGRESS' }
  | { status: 'COMPLETE'; completedAt: number; findings: ScanFinding[] }
  | { status: 'FAILED'; completedAt: number; description: string };

export function scanView(ecr: EcrState, image: ImageRecord, now: number): ScanView | undefined {
  if (!image.scan) return undefined;
  const completedAt = image.scan.startedAt + ecr.scanDurationMs;
  if (now < completedAt) return { status: 'IN_PROGRESS' };
  const fixture = ecr.scanFindings[image.digest];
  if (fixture?.failWith) return { status: 'FAILED', completedAt, description: fixture.failWith };
  return { status: 'COMPLETE', completedAt, findings: fixture?.findings ?? [] };
}

export function severityCounts(findings: ScanFinding[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of findings) out[f.severity] = (out[f.severity] ?? 0) + 1;
  return out;
}

/** The CREATE_ON_PUSH template that applies to a repository name: longest prefix, else ROOT. */
export function templateFor(reg: RegistryState, name: string): CreationTemplate | undefined {
  let best: CreationTemplate | undefined;
  for (const t of Object.values(reg.templates)) {
    if (!t.appliedFor.includes('CREATE_ON_PUSH') || t.prefix === 'ROOT') continue;
    const p = t.prefix.endsWith('/') ? t.prefix : t.prefix + '/';
    if (name.startsWith(p) && (!best || t.prefix.length > best.prefix.length)) best = t;
  }
  if (best) return best;
  const root = reg.templates['ROOT'];
  return root && root.appliedFor.includes('CREATE_ON_PUSH') ? root : undefined;
}

export function newRepository(
  name: string,
  now: number,
  settings: {
    imageTagMutability?: TagMutability;
    exclusionFilters?: ExclusionFilter[];
    scanOnPush?: boolean;
    encryption?: Encryption;
    tags?: Tag[];
  },
): RepositoryState {
  return {
    name,
    createdAt: now,
    imageTagMutability: settings.imageTagMutability ?? 'MUTABLE',
    exclusionFilters: settings.exclusionFilters ?? [],
    scanOnPush: settings.scanOnPush ?? false,
    encryption: settings.encryption ?? { encryptionType: 'AES256' },
    tags: settings.tags ?? [],
    images: {},
    imageTags: {},
    blobs: {},
  };
}

/** Creates a repository from a CREATE_ON_PUSH template (the registry's push to a missing repository). */
export function createFromTemplate(
  reg: RegistryState,
  name: string,
  t: CreationTemplate,
  now: number,
): RepositoryState {
  let encryption = t.encryptionConfiguration;
  if (encryption && encryption.encryptionType !== 'AES256' && !encryption.kmsKey) {
    encryption = { ...encryption, kmsKey: managedKmsKeyArn(reg) };
  }
  const repo = newRepository(name, now, {
    imageTagMutability: t.imageTagMutability,
    exclusionFilters: t.imageTagMutabilityExclusionFilters ?? [],
    encryption: encryption ?? { encryptionType: 'AES256' },
    tags: t.resourceTags.map((x) => ({ ...x })),
  });
  if (t.repositoryPolicy) repo.policy = t.repositoryPolicy;
  if (t.lifecyclePolicy) repo.lifecyclePolicy = { text: t.lifecyclePolicy, updatedAt: now };
  reg.repositories[name] = repo;
  return repo;
}
