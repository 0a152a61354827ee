import { InputReader, isValidEcrRepositoryName } from '@aws-containers/core';

/** Every input of ecr-push, parsed and checked; keys follow action.yml. */
export interface Inputs {
  repository: string;
  region: string | undefined;
  maxAttempts: number;
}

const REPOSITORY_EXPECTED =
  'an ECR repository name: 2 to 256 lowercase letters, digits and . _ - separators, with / between path parts';

export function getInputs(reader: InputReader = new InputReader()): Inputs {
  const inputs: Inputs = {
    repository: reader.string('repository', { required: true, expected: REPOSITORY_EXPECTED }),
    region: reader.region('region'),
    maxAttempts: reader.int('max-attempts', { min: 1, max: 20, default: 5 }),
  };
  if (inputs.repository && !isValidEcrRepositoryName(inputs.repository)) {
    reader.addError('repository', REPOSITORY_EXPECTED, inputs.repository);
  }
  return reader.finish(inputs);
}
