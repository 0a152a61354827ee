// ecs-deploy-fargate end to end, bad inputs: each fails the step with an error that names the input
// and what was expected, and nothing is registered, created or updated — checked in local-aws's
// operation log (no ECS call but Describe*/List*) and its state.
import {
  CreateServiceCommand,
  RegisterTaskDefinitionCommand,
  type ContainerDefinition,
} from '@aws-sdk/client-ecs';
import { jest } from '@jest/globals';
import {
  NGINX,
  SUBNET,
  mutations,
  startEcsWorld,
  taskDefinition,
  type EcsWorld,
} from './helpers/ecs-deploy.js';
import { refusedCalls } from './helpers/policies.js';

jest.setTimeout(60_000);

let w: EcsWorld;
const cluster = 'inputs';
let state: () => Promise<unknown>;

async function service(name: string, family: string, containers: ContainerDefinition[]): Promise<void> {
  const registered = await w.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: containers,
    }),
  );
  await w.ecs.send(
    new CreateServiceCommand({
      cluster,
      serviceName: name,
      taskDefinition: registered.taskDefinition?.taskDefinitionArn,
      desiredCount: 1,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: [SUBNET] } },
    }),
  );
}

beforeAll(async () => {
  w = await startEcsWorld(60);
  await w.createCluster(cluster);
  await service('web', 'inputs-web', [{ name: 'app', image: NGINX, essential: true }]);
  await service('multi', 'inputs-multi', [
    { name: 'app', image: NGINX, essential: true },
    { name: 'sidecar', image: NGINX, essential: false },
  ]);
  // What a failed step must leave as it was.
  state = async () => ({
    web: await w.revisions('inputs-web'),
    multi: await w.revisions('inputs-multi'),
    services: await Promise.all(
      ['web', 'multi'].map(async (name) => {
        const s = await w.service(cluster, name);
        return [s.taskDefinition, s.desiredCount, s.deployments?.map((d) => d.id)];
      }),
    ),
  });
});
// Each action ran under its published policies: nothing it called may have been refused.
afterEach(() => expect(refusedCalls(w.aws)).toEqual([]));
afterAll(async () => {
  await w?.stop();
});

const good = (family: string) => taskDefinition(family, [{ name: 'app', image: NGINX }]);

// [what, inputs, expected fragments of the error(s)]
const cases: Array<[string, Record<string, string> | (() => Record<string, string>), string[]]> = [
  [
    'a missing service without create-service',
    { service: 'nope', image: NGINX },
    ['The service nope does not exist in the cluster inputs', 'create-service: true'],
  ],
  [
    'several missing services without create-service',
    { services: 'web,gone,lost', image: NGINX },
    ['The services gone, lost do not exist in the cluster inputs'],
  ],
  [
    'a missing cluster',
    { cluster: 'no-such-cluster', service: 'web', image: NGINX },
    ['The cluster no-such-cluster does not exist in us-east-1', 'ECS clusters are regional'],
  ],
  [
    'service and services together',
    { service: 'web', services: 'web,multi', image: NGINX },
    ['expected exactly one of "service", "services"', 'keep one'],
  ],
  [
    'neither service nor services',
    { image: NGINX },
    ['expected exactly one of "service", "services"', 'None is set'],
  ],
  [
    'a bad cpu/memory pair in the inputs',
    { service: 'web', cpu: '256', memory: '4096' },
    ['Fargate runs 256 CPU units with 512, 1024, 2048 MiB of memory, not 4096'],
  ],
  [
    'a bad cpu/memory pair in the file',
    {
      service: 'web',
      'task-definition': taskDefinition('inputs-web', [{ name: 'app', image: NGINX }], {
        cpu: '1024',
        memory: '512',
      }),
    },
    ['Fargate runs 1024 CPU units with 2048 to 8192 in steps of 1024 MiB of memory, not 512'],
  ],
  [
    'a memory with a cpu from the service that does not fit',
    { service: 'web', memory: '8 GB' },
    ['memory', 'not 8192'],
  ],
  ['a cpu Fargate does not offer', { service: 'web', cpu: '300' }, ['cpu', '300']],
  [
    'a container-name that does not exist',
    { service: 'multi', 'container-name': 'web', image: NGINX },
    ['container-name', 'a container of the task definition: "app", "sidecar"', 'web'],
  ],
  [
    'a container-name off by a typo',
    { service: 'multi', 'container-name': 'sidecr', image: NGINX },
    ['Did you mean "sidecar"?'],
  ],
  [
    'images naming a container that does not exist',
    { service: 'multi', images: `app=${NGINX}\nproxy=${NGINX}` },
    ['images', 'container names of the task definition: "app", "sidecar"', 'proxy'],
  ],
  [
    'a bare image for a task with several containers',
    { service: 'multi', image: NGINX },
    ['container-name', '2 containers: "app", "sidecar"', 'images'],
  ],
  [
    'image and images together',
    { service: 'web', image: NGINX, images: `app=${NGINX}` },
    ['expected at most one of "image", "images"'],
  ],
  ['an invalid image reference', { service: 'web', image: 'Not An Image' }, ['image', 'Not An Image']],
  [
    'an invalid JSON file',
    () => ({
      service: 'web',
      'task-definition': w.file('broken.json', '{"family": "inputs-web", "containerDefinitions": ['),
    }),
    ['Input "task-definition": expected valid JSON', 'broken.json:1:51: Unexpected end of JSON input'],
  ],
  [
    'a task definition file that does not exist',
    { service: 'web', 'task-definition': './no-such-task-definition.json' },
    ['Input "task-definition"', 'No file at ', 'no-such-task-definition.json'],
  ],
  [
    'a task definition without a family',
    {
      service: 'web',
      'task-definition': JSON.stringify({ containerDefinitions: [{ name: 'app', image: NGINX }] }),
    },
    ['It has no "family"'],
  ],
  [
    'a task definition without containers',
    { service: 'web', 'task-definition': JSON.stringify({ family: 'inputs-web' }) },
    ['It has no "containerDefinitions"'],
  ],
  [
    'a network mode Fargate does not run',
    {
      service: 'web',
      'task-definition': taskDefinition('inputs-web', [{ name: 'app', image: NGINX }], {
        networkMode: 'bridge',
      }),
    },
    ['awsvpc', 'bridge'],
  ],
  [
    'task-definition and task-definition-family together',
    { service: 'web', 'task-definition': good('inputs-web'), 'task-definition-family': 'inputs-web' },
    ['expected at most one of "task-definition", "task-definition-family"'],
  ],
  [
    'a task-definition-family that is not registered',
    { service: 'web', 'task-definition-family': 'never-registered', image: NGINX },
    ['ECS has no task definition never-registered', 'Unable to describe task definition.'],
  ],
  [
    'create-service without subnets',
    { service: 'new', 'task-definition': good('inputs-new'), 'create-service': 'true' },
    ['Input "subnets": expected the subnets of the service when create-service is true'],
  ],
  [
    'subnets without create-service',
    { service: 'web', image: NGINX, subnets: SUBNET },
    ['Input "subnets": expected no value unless create-service is true'],
  ],
  [
    'a malformed subnet',
    {
      service: 'new',
      'task-definition': good('inputs-new'),
      'create-service': 'true',
      subnets: 'subnet-xyz',
    },
    ['subnets', 'subnet-xyz'],
  ],
  [
    'create-service with no task definition to start from',
    { service: 'new', image: NGINX, 'create-service': 'true', subnets: SUBNET },
    ['There is no task definition to start from'],
  ],
  [
    'a circuit-breaker that is not one of rollback/on/off',
    { service: 'web', image: NGINX, 'circuit-breaker': 'maybe' },
    ['circuit-breaker', 'maybe'],
  ],
  [
    'a timeout that is not a duration',
    { service: 'web', image: NGINX, timeout: 'soon' },
    ['timeout', 'soon'],
  ],
  [
    'a poll-interval longer than the timeout',
    { service: 'web', image: NGINX, timeout: '10s', 'poll-interval': '1m' },
    ['poll-interval'],
  ],
  [
    'a negative desired-count',
    { service: 'web', image: NGINX, 'desired-count': '-1' },
    ['desired-count', '-1'],
  ],
  ['max-failed-tasks 0', { service: 'web', image: NGINX, 'max-failed-tasks': '0' }, ['max-failed-tasks']],
  ['keep-revisions 0', { service: 'web', image: NGINX, 'keep-revisions': '0' }, ['keep-revisions']],
  [
    'a boolean that is not one',
    { service: 'web', image: NGINX, 'dry-run': 'perhaps' },
    ['dry-run', 'perhaps'],
  ],
  [
    'a command with an unclosed quote',
    { service: 'web', command: 'node server.js --name "my app' },
    ['command', 'The double quote at column'],
  ],
  [
    'a run-task command that is broken JSON',
    { service: 'web', image: NGINX, 'run-task-before-deploy': '["npm", "run"' },
    ['run-task-before-deploy', 'not valid JSON'],
  ],
  [
    'an environment line without =',
    { service: 'web', environment: 'JUST_A_NAME' },
    ['environment', 'Line 1 has no "="'],
  ],
  [
    'a task-role-arn that is not a role ARN',
    { service: 'web', 'task-role-arn': 'arn:aws:iam::123456789012:user/me' },
    ['task-role-arn'],
  ],
  [
    'a capacity provider other than Fargate',
    {
      service: 'new',
      'task-definition': good('inputs-new'),
      'create-service': 'true',
      subnets: SUBNET,
      'capacity-provider-strategy': 'EC2=1',
    },
    ['capacity-provider-strategy', 'EC2=1'],
  ],
];

test.each(cases)('%s: fails, and nothing is registered or changed', async (_what, given, fragments) => {
  const inputs = typeof given === 'function' ? given() : given;
  const before = await state();
  const mark = w.mark();
  const run = await w.deploy({ cluster, ...inputs });
  expect(run.exitCode).toBe(1);
  expect(run.errors.length).toBeGreaterThan(0);
  const errors = run.errors.join('\n');
  for (const fragment of fragments) expect(errors).toContain(fragment);
  expect(mutations(w.ecsCalls(mark))).toEqual([]);
  expect(await state()).toEqual(before);
  expect(run.outputs['task-definition-arn']).toBeUndefined();
});
