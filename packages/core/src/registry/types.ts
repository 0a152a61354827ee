// The shapes a registry push works with: OCI / Docker schema 2 descriptors and manifests, and the
// image source that the readers (oci-layout.ts, docker-archive.ts) hand to pushImage.
import type { Readable } from 'node:stream';

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** The four manifest media types, for Accept headers. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
];

export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerManifestList;
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

/**
 * One manifest of the image, with its exact bytes (a manifest's digest is the digest of its
 * bytes, so they are pushed verbatim). An image manifest lists its blobs (config first, then
 * layers); an index lists its child manifests.
 */
export interface ImageManifest {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Buffer;
  /** Config then layers, for an image manifest; empty for an index. */
  blobs: Descriptor[];
  /** Child manifests, for an index (nested indexes included); empty for an image manifest. */
  manifests: ImageManifest[];
  platform?: Platform;
}

/** What pushImage pushes: a root manifest and a way to read each blob it refers to. */
export interface ImageSource {
  /** For messages: `oci-layout ./out`, `docker-archive image.tar`. */
  readonly description: string;
  readonly manifest: ImageManifest;
  /**
   * A fresh stream of the blob's bytes, every call (an upload that is retried reads it again).
   * The bytes are not verified here; pushImage checks size and digest while streaming.
   */
  openBlob(descriptor: Descriptor): Promise<Readable>;
  /** Frees what the reader holds (temporary files). Safe to call more than once. */
  close(): Promise<void>;
}

/** Every blob of the manifest tree, each digest once, in the order first seen. */
export function uniqueBlobs(manifest: ImageManifest): Descriptor[] {
  const seen = new Map<string, Descriptor>();
  const visit = (m: ImageManifest): void => {
    for (const blob of m.blobs) if (!seen.has(blob.digest)) seen.set(blob.digest, blob);
    for (const child of m.manifests) visit(child);
  };
  visit(manifest);
  return [...seen.values()];
}

/** Sum of the sizes of the config and layers, each blob counted once (what ECR reports). */
export function imageSize(manifest: ImageManifest): number {
  return uniqueBlobs(manifest).reduce((sum, blob) => sum + blob.size, 0);
}
