import { InputReader } from '@aws-containers/core';

/** Every input of ecs-deploy-fargate, parsed and checked; keys follow action.yml. */
export interface Inputs {
  cluster: string;
  /** The services to deploy to: `service`, or every entry of `services`. */
  services: string[];
  region: string | undefined;
  maxAttempts: number;
}

// ECS names: up to 255 letters, digits, hyphens and underscores; ARNs are accepted as given.
const ECS_NAME = /^(?:[A-Za-z0-9_-]{1,255}|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:[a-z-]+\/.+)$/;

export function getInputs(reader: InputReader = new InputReader()): Inputs {
  const cluster = reader.string('cluster', {
    required: true,
    pattern: ECS_NAME,
    expected: 'an ECS cluster name or ARN',
  });
  reader.exactlyOneOf(['service', 'services']);
  const service = reader.string('service', { pattern: ECS_NAME, expected: 'an ECS service name or ARN' });
  const services = reader.list('services', {
    itemTest: (item) => ECS_NAME.test(item),
    itemExpected: 'ECS service names or ARNs',
  });
  const inputs: Inputs = {
    cluster,
    services: service ? [service] : (services ?? []),
    region: reader.region('region'),
    maxAttempts: reader.int('max-attempts', { min: 1, max: 20, default: 5 }),
  };
  return reader.finish(inputs);
}
