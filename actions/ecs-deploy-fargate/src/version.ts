import type { ActionIdentity } from '@aws-containers/core';

/** Names this action in every AWS request's user agent; equal to package.json's version (a test checks). */
export const ACTION: ActionIdentity = { name: 'ecs-deploy-fargate', version: '0.1.0' };
