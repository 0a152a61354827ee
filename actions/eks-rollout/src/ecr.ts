// The ECR side of "fail as soon as it is decidable": core's checkEcrImages over DescribeImages,
// with a client per region the images name, made on first use.
import { ECRClient } from '@aws-sdk/client-ecr';
import {
  checkEcrImages,
  clientsPerRegion,
  createAwsClient,
  ecrImageDescriber,
  type DescribeEcrImage,
} from '@aws-containers/core';
import { ACTION } from './version.js';

export function ecrDescriber(): DescribeEcrImage {
  return ecrImageDescriber(
    clientsPerRegion((region) => createAwsClient(ECRClient, { region, action: ACTION })),
  );
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
