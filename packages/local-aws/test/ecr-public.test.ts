// ECR Public's GetAuthorizationToken through the AWS SDK v3 client: served from us-east-1 only.
import { ECRPUBLICClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr-public';
import { startLocalAws } from '../src/index.js';
import type { LocalAws } from '../src/index.js';

let local: LocalAws;
beforeAll(async () => {
  local = await startLocalAws();
});
afterAll(() => local.stop());

function ecrPublic(region: string): ECRPUBLICClient {
  return new ECRPUBLICClient({
    endpoint: local.endpoint,
    region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

test('us-east-1 gives a docker password for AWS, valid for 12 hours', async () => {
  const now = local.clock.now();
  const token = await ecrPublic('us-east-1').send(new GetAuthorizationTokenCommand({}));
  const decoded = Buffer.from(token.authorizationData?.authorizationToken ?? '', 'base64').toString();
  expect(decoded).toMatch(/^AWS:.{20,}$/);
  expect(token.authorizationData?.expiresAt?.getTime()).toBeGreaterThanOrEqual(now + 12 * 3600_000 - 1000);
  expect(local.opLog.entries({ action: 'ecr-public:GetAuthorizationToken' })).toEqual([
    expect.objectContaining({ region: 'us-east-1', status: 200 }),
  ]);
});

test('any other region has no ECR Public endpoint', async () => {
  await expect(ecrPublic('eu-west-1').send(new GetAuthorizationTokenCommand({}))).rejects.toMatchObject({
    name: 'UnsupportedRegion',
    message: expect.stringContaining('us-east-1 only'),
  });
});
