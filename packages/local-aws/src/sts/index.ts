// STS over the Query protocol: GetCallerIdentity, as a signed POST form or a presigned GET (the
// payload of an EKS token). STS allows 15 minutes of clock skew, and accepts a presigned
// GetCallerIdentity for 15 minutes from X-Amz-Date whatever X-Amz-Expires says.
import type { QueryService, ServiceFactory } from '../service.js';
import { xmlMembers } from '../platform/protocols.js';

export const STS_VERSION = '2011-06-15';

export const createSts: ServiceFactory<Record<string, never>> = () => {
  const sts: QueryService = {
    protocol: 'query',
    signingName: 'sts',
    version: STS_VERSION,
    xmlNamespace: `https://sts.amazonaws.com/doc/${STS_VERSION}/`,
    skewMs: 15 * 60_000,
    presignedMaxAgeMs: 15 * 60_000,
    operations: {
      GetCallerIdentity: (_params, ctx) =>
        xmlMembers({ Arn: ctx.identity.arn, UserId: ctx.identity.userId, Account: ctx.identity.accountId }),
    },
  };
  return { services: [sts], routes: [], admin: {} };
};
