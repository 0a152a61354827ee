import type { ActionIdentity } from '@aws-containers/core';

/** Names this action in every AWS request's user agent; equal to package.json's version. */
export const ACTION: ActionIdentity = { name: 'eks-rollout', version: '0.1.0' };
