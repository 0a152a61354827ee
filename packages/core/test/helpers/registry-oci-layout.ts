// Builds OCI image layouts and `docker save` archives for the registry tests: random layers of
// known sizes (real gzipped tars, so skopeo accepts them), a config, a manifest, and for
// multi-platform images an index. Nothing is downloaded.
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface BlobDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

export const sha256 = (bytes: Buffer | string): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A ustar archive holding one regular file. */
export function singleFileTar(name: string, data: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100, 'ascii');
  header.write('0000000\0', 108, 'ascii');
  header.write('0000000\0', 116, 'ascii');
  header.write(data.length.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  header.write('00000000000\0', 136, 'ascii');
  header.write('        ', 148, 'ascii');
  header.write('0', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, pad, Buffer.alloc(1024)]);
}

/** Writes bytes as a blob of the layout at `dir`; returns its digest. */
export function writeBlob(dir: string, bytes: Buffer): string {
  const digest = sha256(bytes);
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  writeFileSync(join(blobs, digest.slice('sha256:'.length)), bytes);
  return digest;
}

export interface ImageBlobs {
  manifest: BlobDescriptor;
  config: BlobDescriptor;
  layers: BlobDescriptor[];
  /** Uncompressed layer digests, in order. */
  diffIds: string[];
}

/**
 * Writes one image (random layers of about `layerSizes` bytes, a config, a manifest) into the
 * blobs of `dir`. `seed` layers (Buffers) are used as they are, to share layers between images.
 */
export function writeImage(
  dir: string,
  options: { layerSizes?: number[]; layers?: Buffer[]; platform?: { architecture: string; os: string } } = {},
): ImageBlobs {
  const platform = options.platform ?? { architecture: 'amd64', os: 'linux' };
  const tars =
    options.layers ??
    (options.layerSizes ?? [64 * 1024]).map((size, i) => makeLayerTar(`file-${i}.bin`, size));
  const layers: BlobDescriptor[] = [];
  const diffIds: string[] = [];
  for (const tar of tars) {
    const gz = gzipSync(tar, { level: 1 });
    layers.push({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: writeBlob(dir, gz),
      size: gz.length,
    });
    diffIds.push(sha256(tar));
  }
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      created: '2026-01-01T00:00:00Z',
      config: { Cmd: ['/file-0.bin'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
  const config = {
    mediaType: 'application/vnd.oci.image.config.v1+json',
    digest: writeBlob(dir, configBytes),
    size: configBytes.length,
  };
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config,
      layers,
    }),
  );
  const manifest: BlobDescriptor = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: writeBlob(dir, manifestBytes),
    size: manifestBytes.length,
    platform,
  };
  return { manifest, config, layers, diffIds };
}

export function makeLayerTar(name: string, size: number): Buffer {
  return singleFileTar(name, randomBytes(size));
}

/** Writes an image index of `manifests` into the blobs of `dir`. */
export function writeIndex(dir: string, manifests: BlobDescriptor[]): BlobDescriptor {
  const bytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }),
  );
  return {
    mediaType: 'application/vnd.oci.image.index.v1+json',
    digest: writeBlob(dir, bytes),
    size: bytes.length,
  };
}

/** Writes `oci-layout` and `index.json` listing `entries` (each named by `ref` when given). */
export function writeLayoutIndex(
  dir: string,
  entries: Array<{ descriptor: BlobDescriptor; ref?: string }>,
): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const manifests = entries.map(({ descriptor, ref }) => {
    const { platform: _platform, ...rest } = descriptor;
    return ref ? { ...rest, annotations: { 'org.opencontainers.image.ref.name': ref } } : rest;
  });
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }),
  );
}

/** A one-image layout; returns its blobs. */
export function makeOciLayout(
  dir: string,
  options: { layerSizes?: number[]; ref?: string } = {},
): ImageBlobs {
  const image = writeImage(dir, options.layerSizes ? { layerSizes: options.layerSizes } : {});
  writeLayoutIndex(dir, [{ descriptor: image.manifest, ...(options.ref ? { ref: options.ref } : {}) }]);
  return image;
}

/** A two-platform layout (linux/amd64 and linux/arm64 sharing their first layer) under an index. */
export function makeMultiArchLayout(
  dir: string,
  options: { ref?: string } = {},
): { index: BlobDescriptor; images: ImageBlobs[] } {
  const shared = makeLayerTar('shared.bin', 48 * 1024);
  const images = (['amd64', 'arm64'] as const).map((architecture) =>
    writeImage(dir, {
      layers: [shared, makeLayerTar(`${architecture}.bin`, 32 * 1024)],
      platform: { architecture, os: 'linux' },
    }),
  );
  const index = writeIndex(
    dir,
    images.map((i) => i.manifest),
  );
  writeLayoutIndex(dir, [{ descriptor: index, ...(options.ref ? { ref: options.ref } : {}) }]);
  return { index, images };
}

/**
 * Writes a `docker save`-style archive with GNU tar (pax format, so names longer than 100
 * characters work): `<longdir>/layer.tar` per layer, `<config hex>.json`, manifest.json.
 * Returns the archive path and the uncompressed layer tars.
 */
export function makeDockerArchive(
  workDir: string,
  options: {
    layerSizes?: number[];
    repoTags?: string[];
    format?: 'pax' | 'gnu' | 'ustar';
    duplicateFirstLayer?: boolean;
  } = {},
): { path: string; layers: Buffer[]; config: Buffer } {
  const root = join(workDir, 'archive-root');
  mkdirSync(root, { recursive: true });
  const layers = (options.layerSizes ?? [96 * 1024, 32 * 1024]).map((size, i) =>
    makeLayerTar(`data-${i}.bin`, size),
  );
  const names: string[] = [];
  layers.forEach((tar, i) => {
    // A long directory name: needs pax (or GNU) long names.
    const dirName = options.format === 'ustar' ? `l${i}` : `${sha256(tar).slice(7)}-${'x'.repeat(60)}`;
    mkdirSync(join(root, dirName), { recursive: true });
    writeFileSync(join(root, dirName, 'layer.tar'), tar);
    names.push(`${dirName}/layer.tar`);
  });
  const layerNames = options.duplicateFirstLayer ? [...names, names[0]!] : names;
  const diffIds = layerNames.map((n) => sha256(layers[names.indexOf(n)]!));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/data-0.bin'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
  const configName = `${sha256(config).slice(7)}.json`;
  writeFileSync(join(root, configName), config);
  writeFileSync(
    join(root, 'manifest.json'),
    JSON.stringify([
      { Config: configName, RepoTags: options.repoTags ?? ['app:latest'], Layers: layerNames },
    ]),
  );
  const path = join(workDir, 'image.tar');
  execFileSync('tar', [`--format=${options.format ?? 'pax'}`, '-cf', path, '-C', root, '.']);
  return { path, layers, config };
}
