import { InputErrors, ParseError } from '@aws-containers/core';
import {
  FARGATE_SIZES,
  fargateSizeProblem,
  parseTaskCpu,
  parseTaskMemory,
  renderTaskDefinition,
  resolveLoadBalancers,
  taskDefinitionFromDocument,
  type TaskDefinitionChanges,
} from '../src/render.js';
import { describeOutput, twoContainers } from './fixtures.js';

function errorsOf(base: unknown, changes: TaskDefinitionChanges): string[] {
  try {
    renderTaskDefinition(base, changes);
  } catch (err) {
    if (err instanceof InputErrors) return err.errors.map((e) => e.message);
    throw err;
  }
  return [];
}

describe('the base', () => {
  test('describe-task-definition output: read-only members dropped, tags kept, unknown members passed through', () => {
    const output = describeOutput();
    (output.taskDefinition as Record<string, unknown>).futureMember = { enabled: true };
    const definition = taskDefinitionFromDocument(output);
    for (const member of [
      'taskDefinitionArn',
      'revision',
      'status',
      'requiresAttributes',
      'compatibilities',
      'registeredAt',
      'registeredBy',
    ]) {
      expect(definition).not.toHaveProperty(member);
    }
    expect(definition).toMatchObject({
      family: 'web',
      cpu: '256',
      futureMember: { enabled: true },
      enableFaultInjection: false,
      runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
      tags: [{ key: 'team', value: 'web' }],
    });
    // The input is not changed.
    expect(output.taskDefinition.revision).toBe(7);
  });

  test('the bare task definition of a DescribeTaskDefinition response, and a register-shaped file', () => {
    expect(taskDefinitionFromDocument(describeOutput().taskDefinition).family).toBe('web');
    expect(taskDefinitionFromDocument({ ...twoContainers(), cpu: 512, memory: 1024 })).toMatchObject({
      cpu: '512',
      memory: '1024',
    });
  });

  test.each<[unknown, string]>([
    [[], 'It is not a mapping'],
    [{ family: 'web' }, 'It has no "containerDefinitions"'],
    [{ family: 'web', containerDefinitions: [] }, '"containerDefinitions" must be a non-empty list'],
    [{ family: 'web', containerDefinitions: [{ image: 'x' }] }, 'containerDefinitions[0] has no "name"'],
    [{ family: 'web', containerDefinitions: [{ name: 'a' }, { name: 'a' }] }, 'Two containers are named "a"'],
    [{ containerDefinitions: [{ name: 'a' }] }, 'It has no "family"'],
    [{ taskDefinition: { family: 'web' } }, 'It has no "containerDefinitions"'],
  ])('rejects %j', (document, hint) => {
    expect(() => taskDefinitionFromDocument(document)).toThrow(ParseError);
    expect(() => taskDefinitionFromDocument(document)).toThrow(hint);
  });
});

describe('rendering', () => {
  test('no changes: the base as RegisterTaskDefinition takes it', () => {
    const rendered = renderTaskDefinition(describeOutput());
    expect(rendered.family).toBe('web');
    expect(rendered.containerDefinitions[0]!.image).toBe(
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.0.0',
    );
    expect(rendered).not.toHaveProperty('revision');
  });

  test('every per-container change on a single-container task, merged by name, values with = kept whole', () => {
    const rendered = renderTaskDefinition(describeOutput(), {
      image: 'web:2.0.0',
      environment: new Map([
        ['DATABASE_URL', 'postgres://new?a=b=c'],
        ['FEATURE', 'on'],
      ]),
      secrets: new Map([['TOKEN', 'arn:aws:ssm:eu-west-1:123456789012:parameter/token']]),
      command: ['node', 'server.js', '--name', 'my app'],
      dockerLabels: new Map([['com.example.team', 'web']]),
      logConfiguration: { kind: 'awslogs', group: undefined },
      region: 'eu-west-1',
      taskRoleArn: 'arn:aws:iam::123456789012:role/new-task',
      executionRoleArn: 'arn:aws:iam::123456789012:role/new-exec',
      tags: new Map([
        ['team', 'platform'],
        ['release', 'v2'],
      ]),
    });
    expect(rendered.containerDefinitions[0]).toMatchObject({
      image: 'web:2.0.0',
      environment: [
        { name: 'NODE_ENV', value: 'production' },
        { name: 'DATABASE_URL', value: 'postgres://new?a=b=c' },
        { name: 'FEATURE', value: 'on' },
      ],
      secrets: [
        { name: 'API_KEY', valueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-AbCdEf' },
        { name: 'TOKEN', valueFrom: 'arn:aws:ssm:eu-west-1:123456789012:parameter/token' },
      ],
      command: ['node', 'server.js', '--name', 'my app'],
      dockerLabels: { 'com.example.team': 'web' },
      logConfiguration: {
        logDriver: 'awslogs',
        options: {
          'awslogs-group': '/ecs/web',
          'awslogs-region': 'eu-west-1',
          'awslogs-stream-prefix': 'ecs',
          'awslogs-create-group': 'true',
        },
      },
    });
    expect(rendered).toMatchObject({
      taskRoleArn: 'arn:aws:iam::123456789012:role/new-task',
      executionRoleArn: 'arn:aws:iam::123456789012:role/new-exec',
      tags: [
        { key: 'team', value: 'platform' },
        { key: 'release', value: 'v2' },
      ],
    });
  });

  test('the base is not modified', () => {
    const base = describeOutput();
    const before = JSON.stringify(base);
    renderTaskDefinition(base, { image: 'x:1', environment: new Map([['NODE_ENV', 'dev']]) });
    expect(JSON.stringify(base)).toBe(before);
  });

  test('several containers: images by name, per-container changes on container-name', () => {
    const rendered = renderTaskDefinition(twoContainers(), {
      images: new Map([
        ['api', 'api:2'],
        ['envoy', 'envoyproxy/envoy:v1.32.0'],
      ]),
      containerName: 'api',
      environment: new Map([['A', '1']]),
      logConfiguration: {
        kind: 'custom',
        configuration: { logDriver: 'awsfirelens', options: { Name: 'datadog' } },
      },
    });
    expect(
      rendered.containerDefinitions.map((c) => [
        c.name,
        c.image,
        c.environment,
        c.logConfiguration?.logDriver,
      ]),
    ).toEqual([
      ['api', 'api:2', [{ name: 'A', value: '1' }], 'awsfirelens'],
      ['envoy', 'envoyproxy/envoy:v1.32.0', undefined, undefined],
    ]);
  });

  test('the bare image with container-name on a multi-container task', () => {
    const rendered = renderTaskDefinition(twoContainers(), { image: 'envoy:2', containerName: 'envoy' });
    expect(rendered.containerDefinitions[1]!.image).toBe('envoy:2');
    expect(rendered.containerDefinitions[0]!.image).toBe('api:1');
  });

  test('awslogs with a named group', () => {
    const rendered = renderTaskDefinition(describeOutput(), {
      logConfiguration: { kind: 'awslogs', group: '/app/web' },
      region: 'us-east-1',
    });
    expect(rendered.containerDefinitions[0]!.logConfiguration?.options).toMatchObject({
      'awslogs-group': '/app/web',
      'awslogs-region': 'us-east-1',
    });
  });

  test('Fargate settings are added when absent; sizes are normalised', () => {
    const rendered = renderTaskDefinition({
      family: 'x',
      cpu: '0.5 vCPU',
      memory: '1 GB',
      containerDefinitions: [{ name: 'a', image: 'a:1' }],
    });
    expect(rendered).toMatchObject({
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '512',
      memory: '1024',
    });
    const both = renderTaskDefinition({ ...twoContainers(), requiresCompatibilities: ['EC2', 'FARGATE'] });
    expect(both.requiresCompatibilities).toEqual(['EC2', 'FARGATE']);
  });

  test('cpu and memory inputs override the base', () => {
    expect(renderTaskDefinition(describeOutput(), { cpu: '1024', memory: '3072' })).toMatchObject({
      cpu: '1024',
      memory: '3072',
    });
  });

  test.each<[string, unknown, TaskDefinitionChanges, string[]]>([
    [
      'a container that does not exist',
      twoContainers(),
      { images: new Map([['apii', 'api:2']]) },
      [
        'Input "images": expected container names of the task definition: "api", "envoy", got "apii". Did you mean "api"?',
      ],
    ],
    [
      'container-name that does not exist, reported once',
      twoContainers(),
      { containerName: 'web', image: 'x:1', environment: new Map([['A', '1']]) },
      ['Input "container-name": expected a container of the task definition: "api", "envoy", got "web"'],
    ],
    [
      'the bare image on a multi-container task',
      twoContainers(),
      { image: 'api:2' },
      [
        'Input "container-name": expected the container that "image" applies to, because the task definition has 2 containers: "api", "envoy". Or give each container its image with "images"',
      ],
    ],
    [
      'environment and command on a multi-container task',
      twoContainers(),
      { environment: new Map([['A', '1']]), command: ['x'] },
      ['the container that "environment" applies to', 'the container that "command" applies to'],
    ],
    [
      'awslogs without a region',
      describeOutput(),
      { logConfiguration: { kind: 'awslogs', group: undefined } },
      ['Input "region": expected the region of the step, for the awslogs log configuration'],
    ],
    [
      'bridge networking',
      { ...twoContainers(), networkMode: 'bridge' },
      {},
      [
        'Input "task-definition": expected a task definition with networkMode "awsvpc" (the only one Fargate runs), got "bridge"',
      ],
    ],
    [
      'an EC2-only task definition, from a family',
      { ...twoContainers(), requiresCompatibilities: ['EC2'] },
      { source: 'task-definition-family' },
      [
        'Input "task-definition-family": expected a task definition whose requiresCompatibilities include "FARGATE", got "[\\"EC2\\"]"',
      ],
    ],
    [
      'a size Fargate does not offer, from the inputs',
      describeOutput(),
      { cpu: '512', memory: '512' },
      [
        'Input "cpu": expected a CPU and memory pair that Fargate offers, got "cpu 512, memory 512". Fargate runs 512 CPU units with 1024, 2048, 3072, 4096 MiB of memory, not 512',
      ],
    ],
    [
      'a memory input that does not fit the base CPU',
      describeOutput(),
      { memory: '4096' },
      [
        'Input "memory": expected a CPU and memory pair that Fargate offers, got "cpu 256, memory 4096". Fargate runs 256 CPU units with 512, 1024, 2048 MiB',
      ],
    ],
    [
      'a size Fargate does not offer, in the file',
      { ...twoContainers(), cpu: '4096', memory: '4096' },
      {},
      [
        'Input "task-definition": expected a CPU and memory pair that Fargate offers, got "cpu 4096, memory 4096". Fargate runs 4096 CPU units with 8192 to 30720 in steps of 1024 MiB',
      ],
    ],
    [
      'no task size at all',
      { family: 'x', containerDefinitions: [{ name: 'a' }] },
      {},
      [
        'Input "cpu": expected a task-level CPU and memory, which Fargate requires. Neither the input nor the task definition sets cpu or memory',
      ],
    ],
    [
      'an unreadable size in the file',
      { ...twoContainers(), cpu: 'lots' },
      {},
      [
        'Input "task-definition": expected task CPU units (256, 512, 1024, 2048, 4096, 8192, 16384) or vCPUs ("0.25 vCPU"), got "cpu: lots"',
      ],
    ],
    [
      'not a task definition',
      { taskDefinitionArn: 'x' },
      {},
      [
        'Input "task-definition": expected a task definition (JSON or YAML) with "family" and "containerDefinitions"',
      ],
    ],
  ])('%s', (_name, base, changes, expected) => {
    const errors = errorsOf(base, changes);
    expect(errors).toHaveLength(expected.length);
    expected.forEach((fragment, i) => expect(errors[i]).toContain(fragment));
  });

  test('every problem at once', () => {
    expect(
      errorsOf(
        { ...twoContainers(), networkMode: 'host' },
        { images: new Map([['x', 'y:1']]), command: ['a'], cpu: '256', memory: '8192' },
      ),
    ).toHaveLength(4);
  });
});

describe('Fargate sizes', () => {
  test.each<[string, string, boolean]>([
    ['256', '512', true],
    ['256', '2048', true],
    ['256', '3072', false],
    ['512', '1024', true],
    ['512', '4096', true],
    ['512', '5120', false],
    ['1024', '2048', true],
    ['1024', '8192', true],
    ['1024', '1024', false],
    ['2048', '4096', true],
    ['2048', '16384', true],
    ['2048', '4500', false],
    ['4096', '30720', true],
    ['4096', '32768', false],
    ['8192', '16384', true],
    ['8192', '20480', true],
    ['8192', '17408', false],
    ['8192', '61440', true],
    ['16384', '32768', true],
    ['16384', '40960', true],
    ['16384', '36864', false],
    ['16384', '122880', true],
    ['16384', '131072', false],
    ['128', '512', false],
  ])('cpu %s memory %s: %s', (cpu, memory, ok) => {
    expect(fargateSizeProblem(cpu, memory) === undefined).toBe(ok);
  });

  test('the table has the documented number of sizes', () => {
    expect([...FARGATE_SIZES.values()].map((v) => v.length)).toEqual([3, 4, 7, 13, 23, 12, 12]);
  });

  test.each([
    ['256', '256'],
    ['0.25 vCPU', '256'],
    ['1vcpu', '1024'],
    ['16 vCPU', '16384'],
  ])('cpu %s', (text, units) => {
    expect(parseTaskCpu(text)).toBe(units);
  });

  test.each([
    ['512', '512'],
    ['0.5GB', '512'],
    ['2 GB', '2048'],
    ['120 gb', '122880'],
  ])('memory %s', (text, mib) => {
    expect(parseTaskMemory(text)).toBe(mib);
  });

  test.each(['0', '-256', '0.1 vCPU', '1.5'])('rejects cpu %s', (text) => {
    expect(() => parseTaskCpu(text)).toThrow(ParseError);
  });
});

describe('load balancers of a created service', () => {
  const tg = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef';

  test('container and port filled in from a single container with one port', () => {
    const rendered = renderTaskDefinition(describeOutput());
    expect(
      resolveLoadBalancers(
        [{ targetGroupArn: tg, containerName: undefined, containerPort: undefined }],
        rendered,
      ),
    ).toEqual([{ targetGroupArn: tg, containerName: 'app', containerPort: 8080 }]);
  });

  test('container-name picks the container', () => {
    const rendered = renderTaskDefinition(twoContainers());
    expect(
      resolveLoadBalancers(
        [{ targetGroupArn: tg, containerName: undefined, containerPort: undefined }],
        rendered,
        'api',
      ),
    ).toEqual([{ targetGroupArn: tg, containerName: 'api', containerPort: 3000 }]);
  });

  test.each<[string | undefined, number | undefined, string]>([
    [
      undefined,
      undefined,
      'a container for the target group, because the task definition has several: api, envoy',
    ],
    [
      'envoy',
      undefined,
      'a container port for the target group: container "envoy" has the port mappings 9901, 8080',
    ],
    ['api', 80, 'a port that container "api" maps (3000), got "80"'],
    ['web', 80, 'a container of the task definition: api, envoy, got "web"'],
  ])('container %s port %s', (containerName, containerPort, message) => {
    const rendered = renderTaskDefinition(twoContainers());
    expect(() =>
      resolveLoadBalancers([{ targetGroupArn: tg, containerName, containerPort }], rendered),
    ).toThrow(message);
  });
});
