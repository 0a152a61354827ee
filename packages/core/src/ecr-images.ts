// Whether ECR has the images a rollout is about to pull, read with DescribeImages instead of
// waiting for the kubelet (or ECS's agent) to fail pulling them. Only what ECR says is missing
// counts: an image of another registry, or one ECR will not describe to us (AccessDenied, a
// throttle that outlived the retries), is "unchecked" and left to the pull to decide.
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { parseEcrRegistry, parseImageReference } from './image-ref.js';

/** One DescribeImages question: a private ECR image by tag or digest. */
export interface EcrImageQuery {
  readonly image: string;
  readonly registryId: string;
  readonly region: string;
  readonly repositoryName: string;
  readonly imageTag?: string;
  readonly imageDigest?: string;
}

/** What ECR answered: the image is there, or which part is not. */
export type EcrImageAnswer = 'found' | 'image-not-found' | 'repository-not-found';

/** The side effect: one DescribeImages call (the action adapts its SDK client to this). */
export type DescribeEcrImage = (query: EcrImageQuery, signal: AbortSignal) => Promise<EcrImageAnswer>;

/**
 * DescribeEcrImage through the SDK: one DescribeImages with the step's signal, its two "not there"
 * errors turned into answers; any other error is thrown (checkEcrImages makes it `unchecked`).
 */
export function ecrImageDescriber(clientIn: (region: string) => ECRClient): DescribeEcrImage {
  return async (query, signal) => {
    try {
      await clientIn(query.region).send(
        new DescribeImagesCommand({
          registryId: query.registryId,
          repositoryName: query.repositoryName,
          imageIds: [query.imageDigest ? { imageDigest: query.imageDigest } : { imageTag: query.imageTag }],
        }),
        { abortSignal: signal },
      );
      return 'found';
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name === 'ImageNotFoundException') return 'image-not-found';
      if (name === 'RepositoryNotFoundException') return 'repository-not-found';
      throw error;
    }
  };
}

export interface EcrImageFinding {
  readonly image: string;
  readonly state: 'found' | 'missing' | 'unchecked';
  /** For a person: what ECR said, or why the image was not checked. */
  readonly message: string;
}

/**
 * The DescribeImages question for an image of a private ECR registry (any account or region), or
 * undefined for any other image (pure). A reference with a digest is asked by digest, since that
 * is what is pulled; one with neither tag nor digest by `latest`, as docker pulls it.
 */
export function ecrImageQuery(image: string): EcrImageQuery | undefined {
  let ref;
  try {
    ref = parseImageReference(image);
  } catch {
    return undefined;
  }
  const registry = ref.registry === undefined ? undefined : parseEcrRegistry(ref.registry);
  if (registry?.type !== 'private') return undefined;
  return {
    image,
    registryId: registry.accountId,
    region: registry.region,
    repositoryName: ref.repository,
    ...(ref.digest ? { imageDigest: ref.digest } : { imageTag: ref.tag ?? 'latest' }),
  };
}

/**
 * Asks ECR about every private ECR image among `images` (duplicates once, all at once) and says
 * what it found. Images of other registries are not in the result. Never throws for an answer
 * ECR would not give: that image is `unchecked`, with the reason.
 */
export async function checkEcrImages(
  images: readonly string[],
  describe: DescribeEcrImage,
  signal: AbortSignal,
): Promise<EcrImageFinding[]> {
  const queries = [...new Set(images)].map(ecrImageQuery).filter((q): q is EcrImageQuery => q !== undefined);
  return Promise.all(
    queries.map(async (query): Promise<EcrImageFinding> => {
      const where = `repository ${query.repositoryName} of registry ${query.registryId} in ${query.region}`;
      const what = query.imageDigest ? `digest ${query.imageDigest}` : `tag ${query.imageTag}`;
      try {
        const answer = await describe(query, signal);
        if (answer === 'found') return { image: query.image, state: 'found', message: `ECR has ${what}` };
        return {
          image: query.image,
          state: 'missing',
          message:
            answer === 'repository-not-found'
              ? `ECR has no ${where} (DescribeImages: RepositoryNotFoundException)`
              : `ECR has no ${what} in ${where} (DescribeImages: ImageNotFoundException)`,
        };
      } catch (error) {
        if (signal.aborted) throw error;
        const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        return { image: query.image, state: 'unchecked', message: `not checked in ECR (${why})` };
      }
    }),
  );
}
