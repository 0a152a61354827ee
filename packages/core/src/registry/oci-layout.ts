// Reads an OCI image layout directory (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
// `oci-layout`, `index.json`, and `blobs/<algorithm>/<hex>`. Manifests are read and checked here;
// blobs are only stat'ed (their bytes are verified while they are uploaded).
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ActionError } from '../errors.js';
import { digestOf, splitDigest } from './digest.js';
import { MEDIA_TYPES, isIndexMediaType } from './types.js';
import type { Descriptor, ImageManifest, ImageSource } from './types.js';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export interface ReadOciLayoutOptions {
  /**
   * Which manifest of index.json to push, by its `org.opencontainers.image.ref.name` annotation
   * (the part after ":" in skopeo's `oci:<dir>:<ref>`). Optional when index.json lists one.
   */
  ref?: string;
}

interface RawManifest {
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

function notLayout(dir: string, why: string): ActionError {
  return new ActionError(`${dir} is not an OCI image layout: ${why}`, {
    hint:
      'An OCI layout is a directory with an oci-layout file, index.json and blobs/ — as written by ' +
      '`docker buildx build --output type=oci,tar=false,dest=<dir>`, `skopeo copy … oci:<dir>` or `crane pull --format oci`',
  });
}

function checkDescriptor(value: unknown, where: string): Descriptor {
  const d = value as Partial<Descriptor> | null;
  if (!d || typeof d !== 'object' || typeof d.digest !== 'string' || typeof d.size !== 'number') {
    throw new ActionError(`${where}: a descriptor without a digest and size`);
  }
  splitDigest(d.digest, where);
  if (!Number.isSafeInteger(d.size) || d.size < 0) throw new ActionError(`${where}: invalid size ${d.size}`);
  return d as Descriptor;
}

function parseJson<T>(bytes: Buffer, where: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (error) {
    throw new ActionError(`${where} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

export async function readOciLayout(dir: string, options: ReadOciLayoutOptions = {}): Promise<ImageSource> {
  try {
    if (!(await stat(dir)).isDirectory()) throw notLayout(dir, 'it is not a directory');
  } catch (error) {
    if (error instanceof ActionError) throw error;
    throw notLayout(dir, 'the directory does not exist');
  }
  const missing: string[] = [];
  let layoutFile: Buffer | undefined;
  let indexFile: Buffer | undefined;
  try {
    layoutFile = await readFile(join(dir, 'oci-layout'));
  } catch {
    missing.push('no oci-layout file');
  }
  try {
    indexFile = await readFile(join(dir, 'index.json'));
  } catch {
    missing.push('no index.json');
  }
  if (!layoutFile || !indexFile) throw notLayout(dir, missing.join(', '));
  const layout = parseJson<{ imageLayoutVersion?: string }>(layoutFile, `${dir}/oci-layout`);
  if (typeof layout.imageLayoutVersion !== 'string' || !layout.imageLayoutVersion.startsWith('1.')) {
    throw notLayout(dir, `unsupported imageLayoutVersion ${JSON.stringify(layout.imageLayoutVersion)}`);
  }
  const index = parseJson<RawManifest>(indexFile, `${dir}/index.json`);
  const entries = (index.manifests ?? []).map((m, i) =>
    checkDescriptor(m, `${dir}/index.json manifests[${i}]`),
  );
  if (entries.length === 0) throw notLayout(dir, 'index.json lists no manifests');

  const refOf = (d: Descriptor): string | undefined => d.annotations?.[REF_NAME_ANNOTATION];
  const refs = entries.map(refOf).filter((r): r is string => r !== undefined);
  let chosen: Descriptor;
  if (options.ref !== undefined) {
    const matches = entries.filter((d) => refOf(d) === options.ref);
    if (matches.length !== 1) {
      throw new ActionError(
        `${dir} has ${matches.length === 0 ? 'no' : 'more than one'} manifest named ${JSON.stringify(options.ref)}`,
        { hint: refs.length ? `Its index.json names: ${refs.join(', ')}` : 'Its index.json names none' },
      );
    }
    chosen = matches[0]!;
  } else if (entries.length === 1) {
    chosen = entries[0]!;
  } else {
    throw new ActionError(`${dir} holds ${entries.length} manifests; say which one to push`, {
      hint: refs.length
        ? `Pass one of its ref names: ${refs.join(', ')}`
        : 'None is named; rewrite the layout with one image',
    });
  }

  const blobPath = (digest: string): string => {
    const { algorithm, hex } = splitDigest(digest);
    return join(dir, 'blobs', algorithm, hex);
  };
  const readBlob = async (d: Descriptor, what: string): Promise<Buffer> => {
    let bytes: Buffer;
    try {
      bytes = await readFile(blobPath(d.digest));
    } catch {
      throw new ActionError(`${dir} is missing the ${what} blob ${d.digest}`, {
        hint: 'The layout is incomplete; export the image again',
      });
    }
    const actual = digestOf(bytes, splitDigest(d.digest).algorithm);
    if (actual !== d.digest || bytes.length !== d.size) {
      throw new ActionError(
        `The ${what} blob ${d.digest} in ${dir} does not match its descriptor: ${bytes.length} bytes hashing to ${actual}`,
        { hint: 'The layout is corrupt or was modified after it was written; export it again' },
      );
    }
    return bytes;
  };
  const checkBlob = async (d: Descriptor, what: string): Promise<void> => {
    let size: number;
    try {
      size = (await stat(blobPath(d.digest))).size;
    } catch {
      throw new ActionError(`${dir} is missing the ${what} blob ${d.digest}`, {
        hint: 'The layout is incomplete; export the image again',
      });
    }
    if (size !== d.size) {
      throw new ActionError(
        `The ${what} blob ${d.digest} in ${dir} is ${size} bytes, but its descriptor says ${d.size}`,
        {
          hint: 'The layout is corrupt or was modified after it was written; export it again',
        },
      );
    }
  };

  const load = async (d: Descriptor, depth: number): Promise<ImageManifest> => {
    if (depth > 8) throw new ActionError(`${dir}: image indexes nested too deeply`);
    const bytes = await readBlob(d, 'manifest');
    const raw = parseJson<RawManifest>(bytes, `manifest ${d.digest} in ${dir}`);
    const mediaType =
      raw.mediaType ?? d.mediaType ?? (raw.manifests ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest);
    const manifest: ImageManifest = {
      mediaType,
      digest: d.digest,
      size: d.size,
      bytes,
      blobs: [],
      manifests: [],
    };
    if (d.platform) manifest.platform = d.platform;
    if (isIndexMediaType(mediaType) || raw.manifests) {
      const children = (raw.manifests ?? []).map((c, i) =>
        checkDescriptor(c, `index ${d.digest} manifests[${i}]`),
      );
      for (const child of children) manifest.manifests.push(await load(child, depth + 1));
    } else {
      if (!raw.config) throw new ActionError(`manifest ${d.digest} in ${dir} has no config`);
      const config = checkDescriptor(raw.config, `manifest ${d.digest} config`);
      const layers = (raw.layers ?? []).map((l, i) =>
        checkDescriptor(l, `manifest ${d.digest} layers[${i}]`),
      );
      await checkBlob(config, 'config');
      for (const layer of layers) await checkBlob(layer, 'layer');
      manifest.blobs = [config, ...layers];
    }
    return manifest;
  };
  const manifest = await load(chosen, 0);

  return {
    description: `oci-layout ${dir}`,
    manifest,
    async openBlob(d: Descriptor): Promise<Readable> {
      return createReadStream(blobPath(d.digest), { highWaterMark: 1024 * 1024 });
    },
    async close(): Promise<void> {},
  };
}
