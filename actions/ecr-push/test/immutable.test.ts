import { ActionError, RegistryError } from '@aws-containers/core';
import { refusedImmutableTag } from '../src/stages.js';

const ecrMessage =
  "The image tag 'v2' already exists in the 'team/app' repository and cannot be overwritten because the tag is immutable.";

test.each<[string, unknown, string | undefined]>([
  [
    'our client, ECR TAG_INVALID',
    new RegistryError(ecrMessage, 400, 'TAG_INVALID', ecrMessage, false, undefined, undefined),
    'v2',
  ],
  [
    'our client, a malformed tag',
    new RegistryError('bad tag', 400, 'TAG_INVALID', 'invalid tag', false, undefined, undefined),
    undefined,
  ],
  [
    'our client, another code',
    new RegistryError(ecrMessage, 404, 'NAME_UNKNOWN', ecrMessage, false, undefined, undefined),
    undefined,
  ],
  ['docker relaying ECR', new ActionError(`docker push failed: …\ntag invalid: ${ecrMessage}`), 'v2'],
  ['docker, another failure', new ActionError('docker push failed: denied'), undefined],
  ['anything else', new Error(ecrMessage), undefined],
])('%s', (_name, err, tag) => {
  expect(refusedImmutableTag(err, ['v1', 'v2'])).toBe(tag);
});
