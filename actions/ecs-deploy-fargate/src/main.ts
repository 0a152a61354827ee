import { ActionError, type RunContext } from '@aws-containers/core';
import { getInputs } from './inputs.js';

export async function main(_context: RunContext): Promise<void> {
  const inputs = getInputs();
  // Rendering, registering and following the rollout land with issue #6; until then the
  // action refuses honestly after validating its inputs, rather than reporting a deploy.
  throw new ActionError(
    `ecs-deploy-fargate validated its inputs (cluster "${inputs.cluster}", ${inputs.services.length} service(s)) but cannot deploy yet`,
    { hint: 'This pre-release covers input validation only; deploying arrives with the first release.' },
  );
}
