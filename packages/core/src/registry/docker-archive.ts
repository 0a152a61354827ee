// Reads a `docker save` archive (manifest.json, the config, one tar per layer — the legacy layout
// and the OCI-in-tar layout of Docker 25+ alike) and presents it as a Docker schema 2 image.
//
// Layers in these archives are usually uncompressed tars. Like skopeo (containers/image copies
// uncompressed layers to a registry gzip-compressed), they are gzipped by default: each one
// streams through gzip into a temporary file while both digests are computed, so memory stays
// flat and the upload knows its digest and length before it starts. `compress: false` pushes
// them as they are (application/vnd.docker.image.rootfs.diff.tar). Layers that are already
// compressed are pushed unchanged. Each layer is checked against the config's diff_ids.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ActionError } from '../errors.js';
import { digestOf } from './digest.js';
import { TarArchive, type TarEntry } from './tar.js';
import { MEDIA_TYPES } from './types.js';
import type { Descriptor, ImageManifest, ImageSource } from './types.js';

export interface ReadDockerArchiveOptions {
  /** Which image, by one of its RepoTags (`app:1.0`), when the archive holds several. */
  ref?: string;
  /** Gzip uncompressed layers before pushing, as skopeo does. Default true. */
  compress?: boolean;
  /** zlib level for that, 1 (fast) to 9 (small). Default 6. */
  compressionLevel?: number;
  /** Where the compressed layers are written. Default $RUNNER_TEMP or the system temp dir. */
  tempDir?: string;
}

interface ArchiveManifestEntry {
  Config?: string;
  RepoTags?: string[] | null;
  Layers?: string[];
}

/** Hashes and counts what passes through. */
class Hasher extends Transform {
  private readonly hash = createHash('sha256');
  size = 0;
  digest = '';
  override _transform(chunk: Buffer, _e: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    this.digest = `sha256:${this.hash.digest('hex')}`;
    callback();
  }
}

async function headBytes(archive: TarArchive, entry: TarEntry, count: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of createReadStream(archive.path, {
    start: entry.offset,
    end: entry.offset + Math.max(0, Math.min(count, entry.size) - 1),
  }) as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    length += chunk.length;
  }
  return Buffer.concat(chunks, length).subarray(0, Math.min(count, entry.size));
}

function compressionOf(magic: Buffer): 'gzip' | 'zstd' | undefined {
  if (magic.length >= 2 && magic[0] === 0x1f && magic[1] === 0x8b) return 'gzip';
  if (magic.length >= 4 && magic.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return undefined;
}

export async function readDockerArchive(
  path: string,
  options: ReadDockerArchiveOptions = {},
): Promise<ImageSource> {
  const archive = await TarArchive.open(path).catch((error: unknown) => {
    if (error instanceof ActionError) throw error;
    throw new ActionError(`Cannot read the docker archive ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  });
  if (!archive.find('manifest.json')) {
    throw new ActionError(`${path} is not a docker archive: it has no manifest.json`, {
      hint: 'Pass the file written by `docker save -o <file> <image>`',
    });
  }
  let list: ArchiveManifestEntry[];
  try {
    list = JSON.parse((await archive.readFile('manifest.json')).toString('utf8')) as ArchiveManifestEntry[];
    if (!Array.isArray(list)) throw new Error('not a list');
  } catch (error) {
    throw new ActionError(
      `${path}: manifest.json is not a docker save manifest (${(error as Error).message})`,
    );
  }
  const tagsOf = (e: ArchiveManifestEntry): string[] => e.RepoTags ?? [];
  let entry: ArchiveManifestEntry;
  if (options.ref !== undefined) {
    const ref = options.ref;
    const matches = list.filter((e) =>
      tagsOf(e).some(
        (t) => t === ref || t.endsWith(`/${ref}`) || (!ref.includes(':') && t === `${ref}:latest`),
      ),
    );
    if (matches.length !== 1) {
      throw new ActionError(
        `${path} has ${matches.length === 0 ? 'no' : 'more than one'} image tagged ${JSON.stringify(ref)}`,
        {
          hint: `Its images are tagged: ${list.flatMap(tagsOf).join(', ') || '(none)'}`,
        },
      );
    }
    entry = matches[0]!;
  } else if (list.length === 1) {
    entry = list[0]!;
  } else {
    throw new ActionError(`${path} holds ${list.length} images; say which one to push`, {
      hint: `Pass one of its tags: ${list.flatMap(tagsOf).join(', ') || '(none)'}`,
    });
  }
  if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) {
    throw new ActionError(`${path}: manifest.json names no Config or Layers`);
  }
  const configEntry = archive.find(entry.Config);
  if (!configEntry) throw new ActionError(`${path} is missing its config ${entry.Config}`);
  const configBytes = await archive.readFile(entry.Config);
  let diffIds: string[];
  try {
    const config = JSON.parse(configBytes.toString('utf8')) as { rootfs?: { diff_ids?: string[] } };
    diffIds = config.rootfs?.diff_ids ?? [];
  } catch (error) {
    throw new ActionError(`${path}: the config ${entry.Config} is not valid JSON`, { cause: error });
  }
  if (diffIds.length !== entry.Layers.length) {
    throw new ActionError(
      `${path}: the config lists ${diffIds.length} layers (rootfs.diff_ids) but manifest.json lists ${entry.Layers.length}`,
    );
  }

  const compress = options.compress ?? true;
  let tempDir: string | undefined;
  const openers = new Map<string, () => Readable>();
  const config: Descriptor = {
    mediaType: MEDIA_TYPES.dockerConfig,
    digest: digestOf(configBytes),
    size: configBytes.length,
  };
  openers.set(config.digest, () => Readable.from([configBytes]));
  const byLayerName = new Map<string, Descriptor>();
  const layers: Descriptor[] = [];
  const cleanup = async (): Promise<void> => {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    tempDir = undefined;
  };

  try {
    for (const [i, layerName] of entry.Layers.entries()) {
      const known = byLayerName.get(layerName);
      if (known) {
        layers.push(known);
        continue;
      }
      const layerEntry = archive.find(layerName);
      if (!layerEntry) throw new ActionError(`${path} is missing the layer ${layerName}`);
      const compression = compressionOf(await headBytes(archive, layerEntry, 4));
      const hasher = new Hasher();
      let descriptor: Descriptor;
      if (compression) {
        // Already compressed: push as is (its diff_id is of the uncompressed content; not checked).
        await pipeline(
          archive.createReadStream(layerEntry),
          hasher,
          new Transform({ transform: (_c, _e, cb) => cb() }),
        );
        descriptor = {
          mediaType:
            compression === 'gzip'
              ? MEDIA_TYPES.dockerLayerGzip
              : 'application/vnd.docker.image.rootfs.diff.tar.zstd',
          digest: hasher.digest,
          size: hasher.size,
        };
        openers.set(descriptor.digest, () => archive.createReadStream(layerEntry));
      } else if (!compress) {
        await pipeline(
          archive.createReadStream(layerEntry),
          hasher,
          new Transform({ transform: (_c, _e, cb) => cb() }),
        );
        descriptor = { mediaType: MEDIA_TYPES.dockerLayer, digest: hasher.digest, size: hasher.size };
        openers.set(descriptor.digest, () => archive.createReadStream(layerEntry));
      } else {
        tempDir ??= await mkdtemp(
          join(options.tempDir ?? process.env.RUNNER_TEMP ?? tmpdir(), 'docker-archive-'),
        );
        const file = join(tempDir, `layer-${i}.tar.gz`);
        const compressed = new Hasher();
        await pipeline(
          archive.createReadStream(layerEntry),
          hasher,
          createGzip({ level: options.compressionLevel ?? 6 }),
          compressed,
          createWriteStream(file),
        );
        descriptor = {
          mediaType: MEDIA_TYPES.dockerLayerGzip,
          digest: compressed.digest,
          size: compressed.size,
        };
        openers.set(descriptor.digest, () => createReadStream(file, { highWaterMark: 1024 * 1024 }));
      }
      if (!compression && hasher.digest !== diffIds[i]) {
        throw new ActionError(
          `${path}: layer ${layerName} does not match the config's diff_id ${diffIds[i]}: its bytes hash to ${hasher.digest}`,
          { hint: 'The archive is corrupt or was modified after docker save wrote it' },
        );
      }
      byLayerName.set(layerName, descriptor);
      layers.push(descriptor);
    }
  } catch (error) {
    await cleanup();
    throw error;
  }

  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifest,
      config: { mediaType: config.mediaType, size: config.size, digest: config.digest },
      layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
    }),
  );
  const manifest: ImageManifest = {
    mediaType: MEDIA_TYPES.dockerManifest,
    digest: digestOf(bytes),
    size: bytes.length,
    bytes,
    blobs: [config, ...layers],
    manifests: [],
  };
  return {
    description: `docker-archive ${path}`,
    manifest,
    async openBlob(d: Descriptor): Promise<Readable> {
      const open = openers.get(d.digest);
      if (!open) throw new ActionError(`${path}: no blob ${d.digest}`);
      return open();
    },
    close: cleanup,
  };
}
