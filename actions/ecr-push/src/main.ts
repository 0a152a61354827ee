import { ActionError, type RunContext } from '@aws-containers/core';
import { getInputs } from './inputs.js';

export async function main(_context: RunContext): Promise<void> {
  const inputs = getInputs();
  // Login, build and push land with issue #4; until then the action refuses honestly
  // after validating its inputs, rather than reporting a push that did not happen.
  throw new ActionError(
    `ecr-push validated its inputs (repository "${inputs.repository}") but cannot push yet`,
    {
      hint: 'This pre-release covers input validation only; pushing arrives with the first release.',
    },
  );
}
