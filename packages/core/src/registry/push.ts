// Pushes an image (from readOciLayout or readDockerArchive) to a registry without a docker
// daemon, the way crane, skopeo and regclient do: HEAD every blob and skip what the repository
// has, try a cross-repository mount, stream each missing blob in one request with its digest
// checked on the way, a few uploads at a time, retries with backoff; then the manifests,
// children of an index first (by digest), the root under each tag.
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ActionError } from '../errors.js';
import { isValidImageTag } from '../image-ref.js';
import { RegistryClient, RegistryError, type RegistryConnectionOptions } from './client.js';
import { DigestMismatchError, VerifyingStream, digestOf } from './digest.js';
import { NetworkError } from './http.js';
import { imageSize, uniqueBlobs } from './types.js';
import type { Descriptor, ImageManifest, ImageSource } from './types.js';

export type PushProgress =
  | { type: 'blob'; digest: string; size: number; status: 'skipped' | 'mounted' | 'uploaded'; from?: string }
  | { type: 'retry'; what: string; attempt: number; delayMs: number; error: string }
  | { type: 'manifest'; digest: string; mediaType: string; reference: string };

export interface PushImageOptions extends RegistryConnectionOptions {
  /** The repository in the registry: `app`, `team/app`. */
  repository: string;
  image: ImageSource;
  /** Tags for the root manifest. None: pushed by digest only. */
  tags?: readonly string[];
  /**
   * Other repositories of the same registry that may hold the blobs already (the image's base,
   * an earlier build): each missing blob is mounted from them when it can be, with no transfer.
   */
  mountFrom?: readonly string[];
  /** Blob uploads in parallel. Default 4. */
  concurrency?: number;
  /** Retries of a failed step (429, 5xx, dropped connections) before giving up. Default 4. */
  retries?: number;
  /** First retry delay in ms; doubles each time, with jitter, up to retryMaxDelayMs. Default 500. */
  retryDelayMs?: number;
  /** Default 15 000. */
  retryMaxDelayMs?: number;
  /** 'put' (default): POST then one PUT with the bytes. 'patch': one PATCH with the bytes, then PUT. */
  uploadMethod?: 'put' | 'patch';
  signal?: AbortSignal;
  onProgress?: (event: PushProgress) => void;
}

export interface PushResult {
  /** Digest of the root manifest (an image manifest, or an index for multi-platform images). */
  digest: string;
  mediaType: string;
  /** Config and layer bytes, each blob counted once (an index: across all its images). */
  size: number;
  tags: string[];
  /** Manifests put: the root and, for an index, its children. */
  manifests: number;
  blobs: { total: number; uploaded: number; skipped: number; mounted: number; bytesUploaded: number };
  /** Steps that failed transiently and were repeated. */
  retries: number;
}

const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

function isRetriable(error: unknown): boolean {
  if (error instanceof DigestMismatchError) return false;
  if (error instanceof RegistryError) return error.retriable;
  if (error instanceof NetworkError) return error.retriable;
  return false;
}

function checkNames(repository: string, tags: readonly string[], mountFrom: readonly string[]): void {
  for (const repo of [repository, ...mountFrom]) {
    if (!REPOSITORY.test(repo) || repo.length > 255) {
      throw new ActionError(`${JSON.stringify(repo)} is not a valid repository name`, {
        hint: 'Repository names are lowercase path components (letters, digits, ".", "_", "-") separated by "/"',
      });
    }
  }
  for (const tag of tags) {
    if (!isValidImageTag(tag)) {
      throw new ActionError(`${JSON.stringify(tag)} is not a valid tag`, {
        hint: 'Tags are 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"',
      });
    }
  }
}

/** Runs `fn` for each item, at most `limit` at a time; the first failure stops new starts. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failed = true;
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (errors.length) {
    // The first error that is not the cancellation it caused in the others.
    throw errors.find((e) => !(e instanceof Error && e.name === 'AbortError')) ?? errors[0];
  }
}

export async function pushImage(options: PushImageOptions): Promise<PushResult> {
  const { repository, image } = options;
  const tags = [...new Set(options.tags ?? [])];
  const mountFrom = [...new Set(options.mountFrom ?? [])].filter((r) => r !== repository);
  checkNames(repository, tags, mountFrom);
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const maxRetries = Math.max(0, options.retries ?? 4);
  const baseDelay = options.retryDelayMs ?? 500;
  const maxDelay = options.retryMaxDelayMs ?? 15_000;
  const progress = options.onProgress ?? ((): void => {});
  const internal = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, internal.signal]) : internal.signal;

  const client = new RegistryClient(options);
  const result: PushResult = {
    digest: image.manifest.digest,
    mediaType: image.manifest.mediaType,
    size: imageSize(image.manifest),
    tags,
    manifests: 0,
    blobs: { total: 0, uploaded: 0, skipped: 0, mounted: 0, bytesUploaded: 0 },
    retries: 0,
  };

  const withRetry = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (signal.aborted || attempt > maxRetries || !isRetriable(error)) throw error;
        const backoff = Math.min(maxDelay, baseDelay * 2 ** (attempt - 1));
        const jittered = Math.round(backoff / 2 + (Math.random() * backoff) / 2);
        const retryAfter = error instanceof RegistryError ? error.retryAfterMs : undefined;
        const delayMs =
          retryAfter !== undefined ? Math.min(maxDelay, Math.max(retryAfter, jittered)) : jittered;
        result.retries++;
        progress({ type: 'retry', what, attempt, delayMs, error: (error as Error).message });
        await sleep(delayMs, undefined, { signal });
      }
    }
  };

  const openVerified = async (blob: Descriptor): Promise<Readable> => {
    const source = await image.openBlob(blob);
    const verifier = new VerifyingStream(blob.digest, blob.size, image.description);
    return pipeline(source, verifier, () => {});
  };

  const pushBlob = async (blob: Descriptor): Promise<void> => {
    await withRetry(`blob ${blob.digest}`, async () => {
      if (await client.hasBlob(repository, blob.digest, signal)) {
        result.blobs.skipped++;
        progress({ type: 'blob', digest: blob.digest, size: blob.size, status: 'skipped' });
        return;
      }
      let location: URL | undefined;
      for (const from of mountFrom) {
        const mounted = await client.mountBlob(repository, blob.digest, from, signal);
        if (mounted === 'mounted') {
          result.blobs.mounted++;
          progress({ type: 'blob', digest: blob.digest, size: blob.size, status: 'mounted', from });
          return;
        }
        location = mounted;
      }
      location ??= await client.startUpload(repository, signal);
      await client.uploadBlob(repository, location, blob.digest, blob.size, () => openVerified(blob), {
        method: options.uploadMethod ?? 'put',
        signal,
      });
      result.blobs.uploaded++;
      result.blobs.bytesUploaded += blob.size;
      progress({ type: 'blob', digest: blob.digest, size: blob.size, status: 'uploaded' });
    });
  };

  const putManifest = async (manifest: ImageManifest, reference: string): Promise<void> => {
    const reported = await withRetry(`manifest ${reference}`, () =>
      client.putManifest(repository, reference, manifest.mediaType, manifest.bytes, signal),
    );
    if (reported !== undefined && reported !== manifest.digest) {
      throw new ActionError(
        `${client.host}/${repository}:${reference}: the registry stored the manifest as ${reported}, not ${manifest.digest}`,
        { hint: 'The registry rewrote the manifest; pushing by digest to it will not work' },
      );
    }
    result.manifests++;
    progress({ type: 'manifest', digest: manifest.digest, mediaType: manifest.mediaType, reference });
  };

  const pushChildren = async (manifest: ImageManifest, seen: Set<string>): Promise<void> => {
    for (const child of manifest.manifests) {
      if (seen.has(child.digest)) continue;
      seen.add(child.digest);
      await pushChildren(child, seen);
      await putManifest(child, child.digest);
    }
  };

  try {
    const scopes = [`repository:${repository}:pull,push`, ...mountFrom.map((r) => `repository:${r}:pull`)];
    await withRetry(`connecting to ${client.host}`, () => client.ping(scopes, signal));
    const blobs = uniqueBlobs(image.manifest);
    result.blobs.total = blobs.length;
    // The first failure cancels the uploads in flight (they would be wasted).
    await eachLimited(blobs, concurrency, async (blob) => {
      try {
        await pushBlob(blob);
      } catch (error) {
        internal.abort();
        throw error;
      }
    });
    await pushChildren(image.manifest, new Set());
    if (tags.length === 0) await putManifest(image.manifest, image.manifest.digest);
    for (const tag of tags) await putManifest(image.manifest, tag);
    return result;
  } finally {
    client.close();
  }
}

export interface ManifestLookupOptions {
  signal?: AbortSignal;
}

/**
 * The digest of the manifest a tag (or digest) names in the repository, or undefined when there
 * is none. A HEAD with the four manifest media types accepted (GET when a registry leaves out
 * Docker-Content-Digest). For `skip-if-exists`.
 */
export async function getManifestDigest(
  connection: RegistryConnectionOptions,
  repository: string,
  reference: string,
  options: ManifestLookupOptions = {},
): Promise<string | undefined> {
  const client = new RegistryClient(connection);
  const signal = options.signal;
  try {
    await client.ping([`repository:${repository}:pull`], signal);
    const head = await client.headManifest(repository, reference, signal);
    if (!head) return undefined;
    if (head.digest) return head.digest;
    const manifest = await client.getManifest(repository, reference, signal);
    return manifest === undefined ? undefined : digestOf(manifest);
  } finally {
    client.close();
  }
}

/** Whether the repository has a manifest under the tag (or digest). */
export async function manifestExists(
  connection: RegistryConnectionOptions,
  repository: string,
  reference: string,
  options: ManifestLookupOptions = {},
): Promise<boolean> {
  return (await getManifestDigest(connection, repository, reference, options)) !== undefined;
}
