// Container images built in code, for tests, the demo and dry runs: nothing is downloaded and no
// container engine is needed.
//
//   buildImage(layers)        an image in memory (config, layers, manifest as bytes), for pushing
//                             blob by blob with a registry client;
//   buildIndex(images)        an image index over built images;
//   buildOciLayout(options)   an OCI image layout on disk (oci-layout, index.json, blobs/sha256/…)
//                             for skopeo, crane or our own actions. Its layers are streamed to disk
//                             and hashed on the way, never whole in memory, so a 1 GiB layer costs
//                             a few MiB of RSS.
//
//   const layout = await buildOciLayout({ layers: [{ size: 1 << 20 }, { size: 4096, gzip: false }] });
//   // skopeo copy oci:${layout.dir}:latest docker://…
//   await layout.cleanup();
//
// Each layer is a real tar archive holding one file, so its diff_id in the config is genuine: `size`
// random bytes, or the `content` given. It is gzip-compressed unless `gzip: false`. Random data
// does not compress, so a random gzip layer's blob is a little larger than `size`.
import { createHash, randomBytes, randomFillSync, type Hash } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';

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

export type ImageFormat = keyof typeof MEDIA_TYPES;

/** One file in the layer: `size` random bytes, or `content`. */
export type LayerSpec = (
  | {
      /** Size in bytes of the random file inside the layer. */
      size: number;
    }
  | {
      /** The file's content. */
      content: Buffer | string;
    }
) & {
  /** The file's path inside the layer (default `layer-<i>.bin`). */
  path?: string;
  /** Compress the tar with gzip (default true). */
  gzip?: boolean;
};

export interface Platform {
  os: string;
  architecture: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface Blob extends Descriptor {
  bytes: Buffer;
}

export interface ImageOptions {
  /** OCI (default) or Docker schema 2 media types. */
  format?: ImageFormat;
  /** Default linux/amd64. */
  platform?: Platform;
  /** Labels in the image config. */
  labels?: Record<string, string>;
  /** More of the config's `config` object (Cmd, ExposedPorts, User…), over the defaults. */
  containerConfig?: Record<string, unknown>;
}

/** An image as written in a layout: its layers are files, known by their descriptors. */
export interface LayoutImage {
  manifest: Blob;
  config: Blob;
  layers: Descriptor[];
  /** config.size + the layers' sizes: what ECR reports as imageSizeInBytes. */
  sizeInBytes: number;
  platform: Platform;
}

/** An image built in memory: its layers' bytes too. */
export interface BuiltImage extends LayoutImage {
  layers: Blob[];
}

export interface OciLayout {
  dir: string;
  /** The tag under which index.json names the top manifest (org.opencontainers.image.ref.name). */
  tag: string;
  /** The manifest index.json points at: the image, or the index when several platforms were built. */
  top: Blob;
  images: LayoutImage[];
  /** Every blob in the layout, by digest. */
  blobs: Map<string, Descriptor>;
  /** Removes the layout, unless it was written to a `dir` given by the caller. */
  cleanup(): Promise<void>;
}

export interface LayoutOptions extends Omit<ImageOptions, 'platform'> {
  /** Layers of the (single-platform) image; default one random layer of 1 KiB. */
  layers?: LayerSpec[];
  /** Several platform images under one image index instead (each with these layers). */
  platforms?: Array<Platform & { layers: LayerSpec[] }>;
  /** Default `latest`. */
  tag?: string;
  /** Where to write (default: a fresh temp dir). */
  dir?: string;
}

const CREATED = '2026-01-01T00:00:00Z';
const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };
/** Random layers are generated and written this much at a time. */
const CHUNK = 4 * 1024 * 1024;

export function sha256(bytes: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

export function blobOf(mediaType: string, bytes: Buffer): Blob {
  return { mediaType, digest: sha256(bytes), size: bytes.length, bytes };
}

const descriptorOf = ({ mediaType, digest, size }: Descriptor): Descriptor => ({ mediaType, digest, size });

/** The ustar header of a regular file of `size` bytes. */
export function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => header.write(s.slice(0, len), off, len, 'ascii');
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  header.fill(' ', 148, 156);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return header;
}

/** What follows a file of `size` bytes to end a one-file archive: padding to 512, two zero blocks. */
function tarTrailer(size: number): Buffer {
  return Buffer.alloc(((512 - (size % 512)) % 512) + 1024);
}

/** A one-file ustar archive. */
export function tarOneFile(name: string, content: Buffer): Buffer {
  return Buffer.concat([tarHeader(name, content.length), content, tarTrailer(content.length)]);
}

const layerPath = (spec: LayerSpec, i: number): string => spec.path ?? `layer-${i}.bin`;
const layerContent = (spec: LayerSpec): Buffer | undefined =>
  'content' in spec ? Buffer.from(spec.content) : undefined;
const layerMediaType = (spec: LayerSpec, format: ImageFormat): string =>
  spec.gzip === false ? MEDIA_TYPES[format].layerTar : MEDIA_TYPES[format].layerGzip;

function configBlob(diffIds: string[], options: ImageOptions): Blob {
  const platform = options.platform ?? DEFAULT_PLATFORM;
  const json = {
    created: CREATED,
    architecture: platform.architecture,
    os: platform.os,
    config: {
      Labels: options.labels ?? {},
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ...options.containerConfig,
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: CREATED, created_by: `layer ${i}` })),
  };
  return blobOf(MEDIA_TYPES[options.format ?? 'oci'].config, Buffer.from(JSON.stringify(json)));
}

function imageOf<L extends Descriptor>(
  layers: L[],
  diffIds: string[],
  options: ImageOptions,
): LayoutImage & { layers: L[] } {
  const mt = MEDIA_TYPES[options.format ?? 'oci'];
  const config = configBlob(diffIds, options);
  const manifestJson = {
    schemaVersion: 2,
    mediaType: mt.manifest,
    config: descriptorOf(config),
    layers: layers.map(descriptorOf),
  };
  return {
    manifest: blobOf(mt.manifest, Buffer.from(JSON.stringify(manifestJson))),
    config,
    layers,
    sizeInBytes: config.size + layers.reduce((n, l) => n + l.size, 0),
    platform: options.platform ?? DEFAULT_PLATFORM,
  };
}

/** Builds one image (config + layers + manifest) in memory, without writing anything. */
export function buildImage(layers: LayerSpec[], options: ImageOptions = {}): BuiltImage {
  const diffIds: string[] = [];
  const blobs = layers.map((spec, i) => {
    const tar = tarOneFile(
      layerPath(spec, i),
      layerContent(spec) ?? randomBytes('size' in spec ? spec.size : 0),
    );
    diffIds.push(sha256(tar));
    const mediaType = layerMediaType(spec, options.format ?? 'oci');
    return blobOf(mediaType, spec.gzip === false ? tar : gzipSync(tar, { level: 1 }));
  });
  return imageOf(blobs, diffIds, options);
}

/** An image index (or Docker manifest list) over images already built. */
export function buildIndex(images: LayoutImage[], format: ImageFormat = 'oci'): Blob {
  const mt = MEDIA_TYPES[format];
  const json = {
    schemaVersion: 2,
    mediaType: mt.index,
    manifests: images.map((img) => ({ ...descriptorOf(img.manifest), platform: img.platform })),
  };
  return blobOf(mt.index, Buffer.from(JSON.stringify(json)));
}

/** The tar of one layer, chunk by chunk: random files are generated CHUNK bytes at a time. */
function* tarChunks(name: string, spec: LayerSpec): Generator<Buffer> {
  const content = layerContent(spec);
  const size = content?.length ?? ('size' in spec ? spec.size : 0);
  yield tarHeader(name, size);
  if (content) yield content;
  // A fresh buffer each time: the stream may still hold the previous one.
  else
    for (let left = size; left > 0; left -= CHUNK)
      yield randomFillSync(Buffer.allocUnsafe(Math.min(left, CHUNK)));
  yield tarTrailer(size);
}

function hashing(hash: Hash, counted: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      counted.bytes += chunk.length;
      done(null, chunk);
    },
  });
}

/** Streams one layer into `blobsDir` (under a temp name, renamed to its digest when complete). */
async function writeLayer(
  blobsDir: string,
  spec: LayerSpec,
  name: string,
  format: ImageFormat,
): Promise<{ layer: Descriptor; diffId: string }> {
  const temp = join(blobsDir, `.${randomBytes(8).toString('hex')}.partial`);
  const tar = createHash('sha256');
  const blob = createHash('sha256');
  const tarSize = { bytes: 0 };
  const blobSize = { bytes: 0 };
  const out = createWriteStream(temp);
  if (spec.gzip === false) {
    await pipeline(tarChunks(name, spec), hashing(tar, tarSize), hashing(blob, blobSize), out);
  } else {
    await pipeline(
      tarChunks(name, spec),
      hashing(tar, tarSize),
      createGzip({ level: 1 }),
      hashing(blob, blobSize),
      out,
    );
  }
  const hex = blob.digest('hex');
  await rename(temp, join(blobsDir, hex));
  return {
    layer: { mediaType: layerMediaType(spec, format), digest: `sha256:${hex}`, size: blobSize.bytes },
    diffId: `sha256:${tar.digest('hex')}`,
  };
}

/** Writes an OCI image layout: one image, or one per platform under an image index. */
export async function buildOciLayout(options: LayoutOptions = {}): Promise<OciLayout> {
  const format = options.format ?? 'oci';
  const tag = options.tag ?? 'latest';
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'oci-layout-'));
  const blobsDir = join(dir, 'blobs', 'sha256');
  mkdirSync(blobsDir, { recursive: true });
  const blobs = new Map<string, Descriptor>();
  const writeBlob = async (b: Blob): Promise<void> => {
    blobs.set(b.digest, descriptorOf(b));
    await writeFile(join(blobsDir, b.digest.slice(7)), b.bytes);
  };
  const wanted = options.platforms ?? [{ ...DEFAULT_PLATFORM, layers: options.layers ?? [{ size: 1024 }] }];
  const images: LayoutImage[] = [];
  for (const { layers: specs, os, architecture } of wanted) {
    const layers: Descriptor[] = [];
    const diffIds: string[] = [];
    for (const [i, spec] of specs.entries()) {
      const { layer, diffId } = await writeLayer(blobsDir, spec, layerPath(spec, i), format);
      blobs.set(layer.digest, layer);
      layers.push(layer);
      diffIds.push(diffId);
    }
    const image = imageOf(layers, diffIds, { ...options, platform: { os, architecture } });
    await writeBlob(image.config);
    await writeBlob(image.manifest);
    images.push(image);
  }
  let top = images[0]!.manifest;
  if (options.platforms) {
    top = buildIndex(images, format);
    await writeBlob(top);
  }
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.oci.index,
      manifests: [{ ...descriptorOf(top), annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
  return {
    dir,
    tag,
    top,
    images,
    blobs,
    cleanup: async () => {
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
