// The ECR side of "fail as soon as it is decidable": DescribeImages, through the SDK, for core's
// checkEcrImages. A client per region the images name, made on first use.
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { checkEcrImages, createAwsClient, type DescribeEcrImage } from '@aws-containers/core';
import { ACTION } from './version.js';

export function ecrDescriber(): DescribeEcrImage {
  const clients = new Map<string, ECRClient>();
  const clientIn = (region: string) => {
    let client = clients.get(region);
    if (!client) clients.set(region, (client = createAwsClient(ECRClient, { region, action: ACTION })));
    return client;
  };
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

/**
 * A follow's missingImage: the first private ECR image ECR says is not there, as a sentence; images
 * ECR would not describe are logged (fenced, by the caller's log) and left to the pull.
 */
export function missingEcrImage(
  describe: DescribeEcrImage,
  log: (text: string) => void,
): (images: string[], signal: AbortSignal) => Promise<string | undefined> {
  return async (images, signal) => {
    const findings = await checkEcrImages(images, describe, signal);
    for (const f of findings) if (f.state === 'unchecked') log(`${f.image}: ${f.message}`);
    const missing = findings.find((f) => f.state === 'missing');
    return missing ? `image ${missing.image} cannot be pulled: ${missing.message}` : undefined;
  };
}
