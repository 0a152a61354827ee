// Builds OCI image layouts (oci-layout, index.json, blobs/sha256/…) with random layers of known
// sizes, for pushing with skopeo, crane or our own actions. Nothing is downloaded.
//
//   const layout = await buildOciLayout({ layers: [{ size: 1 << 20 }, { size: 4096, gzip: false }] });
//   // skopeo copy oci:${layout.dir}:latest docker://…
//   await layout.cleanup();
//
// Each layer is a real tar archive holding one file of `size` random bytes (so its diff_id in the
// config is genuine), gzip-compressed unless `gzip: false`. Random data does not compress, so a
// gzip layer's blob is a little larger than `size`; the blob sizes are in the result.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const MEDIA_TYPES = {
  oci: {
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    index: 'application/vnd.oci.image.index.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
    layerTar: 'application/vnd.oci.image.layer.v1.tar',
  },
  docker: {
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    index: 'application/vnd.docker.distribution.manifest.list.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
    layerTar: 'application/vnd.docker.image.rootfs.diff.tar',
  },
} as const;

export interface LayerSpec {
  /** Size in bytes of the random file inside the layer. */
  size: number;
  /** Compress the tar with gzip (default true). */
  gzip?: boolean;
}

export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Buffer;
}

export interface BuiltImage {
  manifest: Blob;
  config: Blob;
  layers: Blob[];
  /** config.size + the layers' sizes: what ECR reports as imageSizeInBytes. */
  sizeInBytes: number;
  platform: { os: string; architecture: string };
}

export interface OciLayout {
  dir: string;
  /** The tag under which index.json names the top manifest (org.opencontainers.image.ref.name). */
  tag: string;
  /** The manifest index.json points at: the image, or the index when several platforms were built. */
  top: Blob;
  images: BuiltImage[];
  /** Every blob in the layout, by digest. */
  blobs: Map<string, Blob>;
  cleanup(): Promise<void>;
}

export interface LayoutOptions {
  /** Layers of the (single-platform) image. */
  layers?: LayerSpec[];
  /** Several platform images under one image index instead (each with these layers). */
  platforms?: Array<{ os: string; architecture: string; layers: LayerSpec[] }>;
  tag?: string;
  /** OCI (default) or Docker schema 2 media types. */
  format?: 'oci' | 'docker';
  /** Where to write (default: a fresh temp dir). */
  dir?: string;
  /** Extra labels in the image config. */
  labels?: Record<string, string>;
}

export function sha256(bytes: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

export function blobOf(mediaType: string, bytes: Buffer): Blob {
  return { mediaType, digest: sha256(bytes), size: bytes.length, bytes };
}

/** A one-file ustar archive. */
export function tarOneFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => header.write(s.slice(0, len), off, len, 'ascii');
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(content.length, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  header.fill(' ', 148, 156);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, pad, Buffer.alloc(1024)]);
}

/** Builds one image (config + layers + manifest) without writing anything. */
export function buildImage(
  layers: LayerSpec[],
  opts: {
    format?: 'oci' | 'docker';
    platform?: { os: string; architecture: string };
    labels?: Record<string, string>;
  } = {},
): BuiltImage {
  const mt = MEDIA_TYPES[opts.format ?? 'oci'];
  const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  const diffIds: string[] = [];
  const layerBlobs = layers.map((spec, i) => {
    const tar = tarOneFile(`layer-${i}.bin`, randomBytes(spec.size));
    diffIds.push(sha256(tar));
    return spec.gzip === false ? blobOf(mt.layerTar, tar) : blobOf(mt.layerGzip, gzipSync(tar, { level: 1 }));
  });
  const configJson = {
    created: '2026-01-01T00:00:00Z',
    architecture: platform.architecture,
    os: platform.os,
    config: {
      Labels: opts.labels ?? {},
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map((_, i) => ({ created: '2026-01-01T00:00:00Z', created_by: `random layer ${i}` })),
  };
  const config = blobOf(mt.config, Buffer.from(JSON.stringify(configJson)));
  const manifestJson = {
    schemaVersion: 2,
    mediaType: mt.manifest,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: layerBlobs.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const manifest = blobOf(mt.manifest, Buffer.from(JSON.stringify(manifestJson)));
  return {
    manifest,
    config,
    layers: layerBlobs,
    sizeInBytes: config.size + layerBlobs.reduce((n, l) => n + l.size, 0),
    platform,
  };
}

/** An image index (or Docker manifest list) over images already built. */
export function buildIndex(images: BuiltImage[], format: 'oci' | 'docker' = 'oci'): Blob {
  const mt = MEDIA_TYPES[format];
  const json = {
    schemaVersion: 2,
    mediaType: mt.index,
    manifests: images.map((img) => ({
      mediaType: img.manifest.mediaType,
      digest: img.manifest.digest,
      size: img.manifest.size,
      platform: img.platform,
    })),
  };
  return blobOf(mt.index, Buffer.from(JSON.stringify(json)));
}

export async function buildOciLayout(opts: LayoutOptions = {}): Promise<OciLayout> {
  const format = opts.format ?? 'oci';
  const tag = opts.tag ?? 'latest';
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'oci-layout-'));
  const blobs = new Map<string, Blob>();
  const images: BuiltImage[] = [];
  const imageOpts = (platform?: { os: string; architecture: string }) => ({
    format,
    ...(platform ? { platform } : {}),
    ...(opts.labels ? { labels: opts.labels } : {}),
  });
  if (opts.platforms) {
    for (const p of opts.platforms)
      images.push(buildImage(p.layers, imageOpts({ os: p.os, architecture: p.architecture })));
  } else {
    images.push(buildImage(opts.layers ?? [{ size: 1024 }], imageOpts()));
  }
  for (const img of images) for (const b of [img.config, ...img.layers, img.manifest]) blobs.set(b.digest, b);
  let top = images[0]!.manifest;
  if (opts.platforms) {
    top = buildIndex(images, format);
    blobs.set(top.digest, top);
  }
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const b of blobs.values()) writeFileSync(join(dir, 'blobs', 'sha256', b.digest.slice(7)), b.bytes);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.oci.index,
      manifests: [
        {
          mediaType: top.mediaType,
          digest: top.digest,
          size: top.size,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  return {
    dir,
    tag,
    top,
    images,
    blobs,
    cleanup: async () => {
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
