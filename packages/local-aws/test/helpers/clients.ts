// AWS SDK clients pointed at a running local-aws with its first key. One attempt each: a test
// sees the answer local-aws gave, not what the SDK's retries made of it.
import { ECRClient } from '@aws-sdk/client-ecr';
import type { LocalAws } from '../../src/index.js';

export function ecrClient(aws: Pick<LocalAws, 'endpoint' | 'credentials'>): ECRClient {
  return new ECRClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: aws.credentials,
    maxAttempts: 1,
  });
}
