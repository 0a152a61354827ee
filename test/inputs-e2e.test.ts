// Bad inputs are reported all at once, by name, before anything reaches AWS: the bundles are
// given an AWS endpoint that nothing listens on, so any AWS call would surface as a network error.
import { runAction } from './helpers/action-runner.js';

const noAws = { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' };

test.each([
  [
    'ecr-push',
    { repository: 'Bad Name', region: 'mars-1', 'max-attempts': '0' },
    ['Input "repository"', 'Input "region"', 'Input "max-attempts"'],
  ],
  [
    'ecs-deploy-fargate',
    { cluster: 'c', service: 'a', services: 'b,c', 'max-attempts': 'many' },
    ['"service"', '"services"', 'Input "max-attempts"'],
  ],
])('%s reports every bad input in one error, with what was given', async (name, inputs, expected) => {
  const run = await runAction(name, { inputs, env: noAws });
  expect(run.exitCode).toBe(1);
  expect(run.errors).toHaveLength(1);
  for (const fragment of expected) expect(run.errors[0]).toContain(fragment);
  expect(run.stdout).not.toMatch(/ECONNREFUSED|127\.0\.0\.1:9/);
});
