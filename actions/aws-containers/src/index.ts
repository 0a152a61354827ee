// The root action (`uses: <owner>/aws-containers@v1`). Build, push and deploy in one step is on
// the roadmap; until it exists, the root action says where each job lives instead of guessing.
import { ActionError, run } from '@aws-containers/core';

await run(async () => {
  throw new ActionError('The one-step root action is not available yet', {
    hint:
      'Use the actions in this repository directly: <owner>/aws-containers/ecr-push@v1 to push an image, ' +
      '<owner>/aws-containers/ecs-deploy@v1 to deploy it to Fargate.',
  });
});
