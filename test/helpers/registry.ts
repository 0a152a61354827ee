// local-aws's registry as a test pushes to it: a registry client logged in with an ECR token (the
// password `docker login` would get), and the host images in it are named by.
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import type { LocalAws } from '@aws-containers/local-aws';
import { passwordFromToken, RegistryClient } from '../../packages/local-aws/test/helpers/registry-client.js';

export async function loggedInRegistry(
  aws: LocalAws,
  credentials: { accessKeyId: string; secretAccessKey: string } = aws.credentials,
): Promise<{ registry: RegistryClient; host: string }> {
  const ecr = new ECRClient({ endpoint: aws.endpoint, region: aws.region, credentials, maxAttempts: 10 });
  try {
    const token = await ecr.send(new GetAuthorizationTokenCommand({}));
    const registry = new RegistryClient({
      baseUrl: aws.httpUrl,
      auth: { user: 'AWS', password: passwordFromToken(token.authorizationData![0]!.authorizationToken!) },
    });
    return { registry, host: new URL(aws.httpsUrl).host };
  } finally {
    ecr.destroy();
  }
}
