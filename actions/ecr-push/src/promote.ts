// Promote an image already in ECR by retagging it without pulling: the AWS-documented recipe,
// BatchGetImage the manifest and PutImage it under each new tag. No layer moves: across
// repositories of one registry the blobs are mounted through the registry API first.
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  PutImageCommand,
  type ECRClient,
  type ImageIdentifier,
} from '@aws-sdk/client-ecr';
import {
  ActionError,
  MANIFEST_MEDIA_TYPES,
  isIndexMediaType,
  type RegistryClient,
} from '@aws-containers/core';
import type { PromoteReference } from './inputs.js';

export interface PromoteResult {
  digest: string;
  mediaType: string;
  manifest: string;
  /** Tags this step pointed at the image (tags that already pointed at it are included). */
  tags: string[];
  sourceRepository: string;
}

export function describeReference(ref: PromoteReference, defaultRepository: string): string {
  const repository = ref.repository ?? defaultRepository;
  return ref.digest ? `${repository}@${ref.digest}` : `${repository}:${ref.tag ?? ''}`;
}

/** The image a tag holds now, for the immutable-tag error. */
async function currentDigest(
  ecr: ECRClient,
  registryId: string,
  repositoryName: string,
  tag: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    const found = await ecr.send(
      new DescribeImagesCommand({ registryId, repositoryName, imageIds: [{ imageTag: tag }] }),
      { abortSignal: signal },
    );
    return found.imageDetails?.[0]?.imageDigest;
  } catch {
    return undefined;
  }
}

/** Turns ECR's immutable-tag refusal into an error that names the tag and what it holds. */
export async function immutableTagError(
  ecr: ECRClient,
  registryId: string,
  repositoryName: string,
  tag: string,
  signal?: AbortSignal,
): Promise<ActionError> {
  const holds = await currentDigest(ecr, registryId, repositoryName, tag, signal);
  return new ActionError(
    `The tag "${tag}" already exists in the immutable repository "${repositoryName}"${holds ? ` and holds ${holds}` : ''}`,
    {
      hint: 'Immutable tags cannot move: push under a new tag (sha, semver), or remove moving tags (latest, branch) from the tags input',
    },
  );
}

export async function promoteImage(
  ecr: ECRClient,
  options: {
    registryId: string;
    repositoryName: string;
    source: PromoteReference;
    tags: readonly string[];
    /** The registry, for cross-repository blob mounts. */
    registry?: RegistryClient;
    signal?: AbortSignal;
  },
): Promise<PromoteResult> {
  const { registryId, repositoryName, source, signal } = options;
  const sourceRepository = source.repository ?? repositoryName;
  const imageId: ImageIdentifier = source.digest ? { imageDigest: source.digest } : { imageTag: source.tag };
  const got = await ecr.send(
    new BatchGetImageCommand({
      registryId,
      repositoryName: sourceRepository,
      imageIds: [imageId],
      acceptedMediaTypes: [...MANIFEST_MEDIA_TYPES],
    }),
    { abortSignal: signal },
  );
  const image = got.images?.[0];
  if (!image?.imageManifest || !image.imageId?.imageDigest) {
    const failure = got.failures?.[0];
    throw new ActionError(
      `promote-from: ${describeReference(source, repositoryName)} was not found (${failure?.failureCode ?? 'ImageNotFound'}: ${failure?.failureReason ?? 'no image'})`,
      {
        hint: 'Name a tag or digest that exists in the repository, for example the sha tag of the build you tested',
      },
    );
  }
  const manifest = image.imageManifest;
  const mediaType = image.imageManifestMediaType ?? JSON.parse(manifest).mediaType;
  const digest = image.imageId.imageDigest;
  if (sourceRepository !== repositoryName) {
    if (!options.registry)
      throw new ActionError('Promoting across repositories needs the registry connection');
    await copyAcross(ecr, options.registry, {
      registryId,
      from: sourceRepository,
      to: repositoryName,
      manifest,
      mediaType,
      signal,
    });
  }
  for (const tag of options.tags) {
    try {
      await ecr.send(
        new PutImageCommand({
          registryId,
          repositoryName,
          imageManifest: manifest,
          imageManifestMediaType: mediaType,
          imageDigest: digest,
          imageTag: tag,
        }),
        { abortSignal: signal },
      );
    } catch (err) {
      const name = err instanceof Error ? err.name : '';
      // The tag already points at this very manifest: nothing to do, and not a failure.
      if (name === 'ImageAlreadyExistsException') continue;
      if (name === 'ImageTagAlreadyExistsException') {
        throw await immutableTagError(ecr, registryId, repositoryName, tag, signal);
      }
      throw err;
    }
  }
  return { digest, mediaType, manifest, tags: [...options.tags], sourceRepository };
}

/** The blob digests an image manifest refers to: its config and layers (pure). */
export function manifestBlobs(manifest: string): string[] {
  const parsed = JSON.parse(manifest) as { config?: { digest?: string }; layers?: { digest?: string }[] };
  return [parsed.config?.digest, ...(parsed.layers ?? []).map((l) => l.digest)].filter(
    (d): d is string => !!d,
  );
}

/** The child manifest digests of an image index (pure). */
export function indexChildren(manifest: string): string[] {
  const parsed = JSON.parse(manifest) as { manifests?: { digest?: string }[] };
  return (parsed.manifests ?? []).map((m) => m.digest).filter((d): d is string => !!d);
}

/**
 * Makes an image of one repository available in another of the same registry without moving a
 * byte through the runner: each blob is mounted, each child manifest of an index put by digest.
 */
async function copyAcross(
  ecr: ECRClient,
  registry: RegistryClient,
  options: {
    registryId: string;
    from: string;
    to: string;
    manifest: string;
    mediaType: string;
    signal?: AbortSignal;
  },
): Promise<void> {
  const { registryId, from, to, signal } = options;
  const mountAll = async (manifest: string): Promise<void> => {
    for (const digest of manifestBlobs(manifest)) {
      if (await registry.hasBlob(to, digest, signal)) continue;
      const mounted = await registry.mountBlob(to, digest, from, signal);
      if (mounted !== 'mounted') {
        throw new ActionError(`The registry did not mount blob ${digest} from ${from} into ${to}`, {
          hint: 'Cross-repository promotion mounts blobs, which works only within one registry (account and region)',
        });
      }
    }
  };
  if (!isIndexMediaType(options.mediaType)) {
    await mountAll(options.manifest);
    return;
  }
  const children = indexChildren(options.manifest);
  const got = await ecr.send(
    new BatchGetImageCommand({
      registryId,
      repositoryName: from,
      imageIds: children.map((imageDigest) => ({ imageDigest })),
      acceptedMediaTypes: [...MANIFEST_MEDIA_TYPES],
    }),
    { abortSignal: signal },
  );
  for (const child of got.images ?? []) {
    if (!child.imageManifest) continue;
    await mountAll(child.imageManifest);
    try {
      await ecr.send(
        new PutImageCommand({
          registryId,
          repositoryName: to,
          imageManifest: child.imageManifest,
          imageManifestMediaType: child.imageManifestMediaType,
          imageDigest: child.imageId?.imageDigest,
        }),
        { abortSignal: signal },
      );
    } catch (err) {
      if (!(err instanceof Error && err.name === 'ImageAlreadyExistsException')) throw err;
    }
  }
}
