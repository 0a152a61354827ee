// Amazon ECR Public, as far as a docker login to public.ecr.aws needs it: GetAuthorizationToken.
// Its API lives only in us-east-1, whatever region the caller works in; AWS has no endpoint in any
// other region, so a request signed for one is refused here (AWS would not answer at all).
import { randomBytes } from 'node:crypto';
import { AwsError, type JsonService, type ServiceFactory } from '../service.js';

export const ECR_PUBLIC_TARGET_PREFIX = 'SpencerFrontendService';
const TOKEN_LIFETIME_MS = 12 * 3600_000;

/** `credentialNow`: the clock tokens are issued on, as for ECR's (the server's credential clock). */
export function createEcrPublic({
  credentialNow,
}: {
  credentialNow: () => number;
}): ServiceFactory<Record<string, never>> {
  return () => ({ services: [ecrPublicService(credentialNow)], routes: [], admin: {} });
}

function ecrPublicService(credentialNow: () => number): JsonService {
  return {
    protocol: 'json1.1',
    signingName: 'ecr-public',
    targetPrefix: ECR_PUBLIC_TARGET_PREFIX,
    // A token for public.ecr.aws takes both: ECR Public's own, and STS's bearer token.
    authorization: (operation) =>
      operation === 'GetAuthorizationToken'
        ? [
            { action: 'ecr-public:GetAuthorizationToken', resource: '*' },
            { action: 'sts:GetServiceBearerToken', resource: '*' },
          ]
        : undefined,
    operations: {
      GetAuthorizationToken(_input, ctx) {
        if (ctx.region !== 'us-east-1') {
          throw new AwsError(
            'UnsupportedRegion',
            `Amazon ECR Public has no endpoint in ${ctx.region}: its API is served from us-east-1 only`,
          );
        }
        const password = randomBytes(48).toString('base64url');
        return {
          authorizationData: {
            authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
            expiresAt: new Date(credentialNow() + TOKEN_LIFETIME_MS),
          },
        };
      },
    },
  };
}
