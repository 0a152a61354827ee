// Image manifests and indexes as ECR accepts them: Docker schema 2 (image and manifest list) and
// OCI (image manifest and index). Docker schema 1 is not accepted (ECR stopped accepting pushes).
import { createHash } from 'node:crypto';
import { DIGEST_RE } from './blobs.js';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export const IMAGE_TYPES: readonly string[] = [MEDIA.dockerManifest, MEDIA.ociManifest];
export const INDEX_TYPES: readonly string[] = [MEDIA.dockerList, MEDIA.ociIndex];
export const MANIFEST_TYPES: readonly string[] = [...IMAGE_TYPES, ...INDEX_TYPES];

/** ECR's limit on a manifest (the ImageManifest shape's max length). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Layer media types whose blobs live elsewhere and are not required in the repository. */
const FOREIGN = new Set([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  platform?: { architecture?: string; os?: string; variant?: string };
}

export interface ParsedManifest {
  mediaType: string;
  kind: 'image' | 'index';
  config?: Descriptor;
  layers: Descriptor[];
  manifests: Descriptor[];
  /** What DescribeImages calls artifactMediaType: the config's media type (or artifactType). */
  artifactMediaType?: string;
  subject?: Descriptor;
}

export class ManifestInvalid extends Error {}

export function sha256Digest(bytes: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

/** Strips parameters from a Content-Type ("application/json; charset=utf-8" → "application/json"). */
export function baseMediaType(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const t = header.split(';')[0]!.trim().toLowerCase();
  return t || undefined;
}

/**
 * Parses and checks a manifest. `declared` is the Content-Type (registry) or imageManifestMediaType
 * (API); when absent the manifest's own mediaType member decides.
 */
export function parseManifest(bytes: Buffer, declared?: string): ParsedManifest {
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw new ManifestInvalid('manifest is not valid UTF-8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ManifestInvalid('Invalid JSON syntax');
  }
  if (!isObject(doc)) throw new ManifestInvalid('Invalid JSON syntax');
  const bodyType = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  if (doc.mediaType !== undefined && bodyType === undefined)
    throw new ManifestInvalid('mediaType must be a string');
  let declaredType = declared === 'application/json' ? undefined : declared;
  if (
    declaredType === MEDIA.dockerSchema1 ||
    declaredType === MEDIA.dockerSchema1Signed ||
    doc.schemaVersion === 1
  ) {
    throw new ManifestInvalid('Docker image manifest schema 1 is not supported');
  }
  if (declaredType !== undefined && !MANIFEST_TYPES.includes(declaredType)) {
    throw new ManifestInvalid(`unsupported manifest media type: ${declaredType}`);
  }
  if (bodyType !== undefined && !MANIFEST_TYPES.includes(bodyType)) {
    throw new ManifestInvalid(`unsupported manifest media type: ${bodyType}`);
  }
  if (declaredType !== undefined && bodyType !== undefined && declaredType !== bodyType) {
    throw new ManifestInvalid(`mediaType in manifest should be '${declaredType}' not '${bodyType}'`);
  }
  declaredType ??= bodyType;
  if (declaredType === undefined) throw new ManifestInvalid('Invalid JSON syntax');
  if (doc.schemaVersion !== 2) throw new ManifestInvalid('schemaVersion must be 2');

  if (IMAGE_TYPES.includes(declaredType)) {
    const config = descriptor(doc.config, 'config');
    if (!Array.isArray(doc.layers)) throw new ManifestInvalid('layers must be an array');
    const layers = doc.layers.map((l, i) => descriptor(l, `layers[${i}]`));
    if (declaredType === MEDIA.dockerManifest && layers.length === 0) {
      // Docker schema 2 images have at least one layer (distribution and ECR agree).
      throw new ManifestInvalid('Image has to have at least 1 layer');
    }
    const out: ParsedManifest = { mediaType: declaredType, kind: 'image', config, layers, manifests: [] };
    const artifactType = typeof doc.artifactType === 'string' ? doc.artifactType : undefined;
    out.artifactMediaType = artifactType ?? config.mediaType;
    if (doc.subject !== undefined) out.subject = descriptor(doc.subject, 'subject');
    return out;
  }
  if (!Array.isArray(doc.manifests)) throw new ManifestInvalid('manifests must be an array');
  const manifests = doc.manifests.map((m, i) => descriptor(m, `manifests[${i}]`));
  const out: ParsedManifest = { mediaType: declaredType, kind: 'index', layers: [], manifests };
  if (doc.subject !== undefined) out.subject = descriptor(doc.subject, 'subject');
  return out;
}

/** Blobs the repository must hold for this manifest to be accepted (config + distributable layers). */
export function requiredBlobs(m: ParsedManifest): string[] {
  if (m.kind !== 'image') return [];
  const out = new Set<string>();
  if (m.config) out.add(m.config.digest);
  for (const l of m.layers)
    if (!FOREIGN.has(l.mediaType) && !(l.urls && l.urls.length > 0)) out.add(l.digest);
  return [...out];
}

function descriptor(v: unknown, where: string): Descriptor {
  if (!isObject(v)) throw new ManifestInvalid(`${where} must be a descriptor object`);
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || mediaType === '')
    throw new ManifestInvalid(`${where}.mediaType is missing`);
  if (typeof digest !== 'string' || !DIGEST_RE.test(digest))
    throw new ManifestInvalid(`${where}.digest is invalid`);
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
    throw new ManifestInvalid(`${where}.size is invalid`);
  }
  const d: Descriptor = { mediaType, digest, size };
  if (Array.isArray(v.urls)) d.urls = v.urls.filter((u): u is string => typeof u === 'string');
  if (isObject(v.platform)) d.platform = v.platform as Descriptor['platform'];
  return d;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
