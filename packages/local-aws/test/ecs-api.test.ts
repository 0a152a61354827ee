// The ECS API with the SDK v3 and raw JSON 1.1: shapes, validation and AWS's errors, tags,
// listings, and "an error changes nothing".
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListServicesCommand,
  ListTagsForResourceCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StartTaskCommand,
  StopTaskCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateServiceCommand,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import { defaultNetwork, startLocalAws, type LocalAws } from '../src/index.js';
import { jsonCall } from './helpers/signing.js';

/** A subnet of the default network local-aws gives every account and region (zone a). */
const SUBNET = defaultNetwork().subnetIds[0]!;

let aws: LocalAws;
let ecs: ECSClient;
const NET = { awsvpcConfiguration: { subnets: [SUBNET] } };
const TARGET = 'AmazonEC2ContainerServiceV20141113';

const fargate = (family: string, extra: Partial<RegisterTaskDefinitionCommandInput> = {}) =>
  ({
    family,
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:1.27', essential: true }],
    ...extra,
  }) as RegisterTaskDefinitionCommandInput;

async function error(p: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return { name: (e as Error).name, message: (e as Error).message };
  }
  throw new Error('expected an error');
}

beforeAll(async () => {
  aws = await startLocalAws({ steppedClock: true });
  ecs = new ECSClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: aws.credentials,
    maxAttempts: 1,
  });
  await ecs.send(new CreateClusterCommand({ clusterName: 'api', tags: [{ key: 'team', value: 'a' }] }));
});
afterAll(async () => {
  ecs?.destroy();
  await aws?.stop();
});

describe('clusters', () => {
  test('create is idempotent; describe reports MISSING; delete refuses while services are active', async () => {
    const again = await ecs.send(new CreateClusterCommand({ clusterName: 'api' }));
    expect(again.cluster).toMatchObject({
      clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/api',
      clusterName: 'api',
      status: 'ACTIVE',
      activeServicesCount: 0,
    });
    const d = await ecs.send(new DescribeClustersCommand({ clusters: ['api', 'nope'], include: ['TAGS'] }));
    expect(d.clusters![0]!.tags).toEqual([{ key: 'team', value: 'a' }]);
    expect(d.failures).toEqual([
      { arn: 'arn:aws:ecs:us-east-1:000000000000:cluster/nope', reason: 'MISSING' },
    ]);
    expect(await error(ecs.send(new DeleteClusterCommand({ cluster: 'nope' })))).toEqual({
      name: 'ClusterNotFoundException',
      message: 'Cluster not found.',
    });
    await ecs.send(new CreateClusterCommand({ clusterName: 'tmp' }));
    const deleted = await ecs.send(new DeleteClusterCommand({ cluster: 'tmp' }));
    expect(deleted.cluster!.status).toBe('INACTIVE');
    expect((await error(ecs.send(new ListServicesCommand({ cluster: 'tmp' })))).name).toBe(
      'ClusterNotFoundException',
    );
  });
});

describe('task definitions', () => {
  test('register fills defaults, revisions count up, describe with TAGS, list, deregister, delete', async () => {
    const r1 = await ecs.send(
      new RegisterTaskDefinitionCommand({
        ...fargate('fam'),
        tags: [{ key: 'k', value: 'v' }],
        cpu: '0.25 vCPU',
        memory: '0.5 GB',
      }),
    );
    expect(r1.taskDefinition).toMatchObject({
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/fam:1',
      family: 'fam',
      revision: 1,
      status: 'ACTIVE',
      cpu: '256',
      memory: '512',
      networkMode: 'awsvpc',
      compatibilities: ['EC2', 'FARGATE'],
      requiresCompatibilities: ['FARGATE'],
      registeredBy: 'arn:aws:iam::000000000000:root',
    });
    expect(r1.taskDefinition!.registeredAt).toBeInstanceOf(Date);
    expect(r1.taskDefinition!.containerDefinitions![0]).toMatchObject({
      cpu: 0,
      essential: true,
      portMappings: [],
      environment: [],
      mountPoints: [],
      volumesFrom: [],
    });
    expect(r1.tags).toEqual([{ key: 'k', value: 'v' }]);
    await ecs.send(new RegisterTaskDefinitionCommand(fargate('fam')));
    const latest = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'fam', include: ['TAGS'] }),
    );
    expect(latest.taskDefinition!.revision).toBe(2);
    expect(latest.tags).toEqual([]);
    const first = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'fam:1', include: ['TAGS'] }),
    );
    expect(first.tags).toEqual([{ key: 'k', value: 'v' }]);
    expect(
      (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'fam:1' }))).tags,
    ).toBeUndefined();

    const list = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'fam', maxResults: 1 }));
    expect(list.taskDefinitionArns).toEqual(['arn:aws:ecs:us-east-1:000000000000:task-definition/fam:1']);
    const next = await ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: 'fam', nextToken: list.nextToken! }),
    );
    expect(next.taskDefinitionArns).toEqual(['arn:aws:ecs:us-east-1:000000000000:task-definition/fam:2']);
    expect(next.nextToken).toBeUndefined();

    const dereg = await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'fam:1' }));
    expect(dereg.taskDefinition!.status).toBe('INACTIVE');
    expect(dereg.taskDefinition!.deregisteredAt).toBeInstanceOf(Date);
    expect(
      (await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'fam', status: 'INACTIVE' })))
        .taskDefinitionArns,
    ).toHaveLength(1);
    const del = await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: ['fam:1', 'fam:2'] }));
    expect(del.taskDefinitions!.map((t) => [t.revision, t.status])).toEqual([[1, 'DELETE_IN_PROGRESS']]);
    expect(del.failures).toEqual([
      {
        arn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/fam:2',
        reason:
          'The specified task definition is still in ACTIVE status. Please deregister the target and try again.',
      },
    ]);
    expect(await error(ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'fam:1' })))).toEqual({
      name: 'ClientException',
      message: 'Unable to describe task definition.',
    });
    expect((await ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'fa' }))).families).toEqual([
      'fam',
    ]);
  });

  test.each([
    ['no family', { family: '' }, 'ClientException', 'Family should not be null or empty.'],
    [
      'bad family',
      { family: 'has space' },
      'ClientException',
      'Family name can contain up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores.',
    ],
    ['no containers', { containerDefinitions: [] }, 'ClientException', 'Container list cannot be empty.'],
    [
      'bad container name',
      { containerDefinitions: [{ name: 'a b', image: 'x' }] },
      'ClientException',
      'Container.name contains invalid characters.',
    ],
    [
      'no image',
      { containerDefinitions: [{ name: 'a' }] },
      'ClientException',
      'Container.image should not be null or empty.',
    ],
    [
      'no essential container',
      { containerDefinitions: [{ name: 'a', image: 'x', essential: false }] },
      'ClientException',
      'Task definition does not have any essential container.',
    ],
    [
      'Fargate without awsvpc',
      { networkMode: 'bridge' },
      'ClientException',
      'Fargate only supports network mode ‘awsvpc’.',
    ],
    [
      'Fargate without cpu',
      { cpu: undefined },
      'ClientException',
      "Fargate requires that 'cpu' be defined at the task level.",
    ],
    [
      'Fargate without memory',
      { memory: undefined },
      'ClientException',
      "Fargate requires that 'memory' be defined at the task level.",
    ],
    [
      'a cpu/memory pair Fargate does not offer',
      { cpu: '256', memory: '4096' },
      'ClientException',
      'No Fargate configuration exists for given values: 256 CPU, 4096 memory. See the Amazon ECS documentation for the valid values.',
    ],
    [
      'container memory above the task',
      { containerDefinitions: [{ name: 'a', image: 'x', memory: 1024 }] },
      'ClientException',
      "The 'memory' setting for container 'a' is greater than for the task.",
    ],
  ])('register: %s', async (_, patch, name, message) => {
    const before = (await ecs.send(new ListTaskDefinitionFamiliesCommand({ status: 'ALL' }))).families;
    expect(
      await error(
        ecs.send(
          new RegisterTaskDefinitionCommand({
            ...fargate('bad'),
            ...patch,
          } as RegisterTaskDefinitionCommandInput),
        ),
      ),
    ).toEqual({
      name,
      message,
    });
    expect((await ecs.send(new ListTaskDefinitionFamiliesCommand({ status: 'ALL' }))).families).toEqual(
      before,
    );
  });

  test('every Fargate size in the table registers', async () => {
    for (const [cpu, memory] of [
      ['256', '2048'],
      ['512', '4096'],
      ['1024', '8192'],
      ['2048', '4096'],
      ['4096', '30720'],
      ['8192', '61440'],
      ['16384', '122880'],
    ] as const)
      await ecs.send(new RegisterTaskDefinitionCommand(fargate('sizes', { cpu, memory })));
    expect(
      (
        await error(
          ecs.send(new RegisterTaskDefinitionCommand(fargate('sizes', { cpu: '8192', memory: '17408' }))),
        )
      ).name,
    ).toBe('ClientException');
  });
});

describe('services', () => {
  beforeAll(async () => {
    await ecs.send(new RegisterTaskDefinitionCommand(fargate('svc')));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        ...fargate('ec2only'),
        requiresCompatibilities: ['EC2'],
        networkMode: 'bridge',
        cpu: undefined,
        memory: '512',
      }),
    );
  });

  test('create, describe (MISSING for others), list, tag, delete → DRAINING → INACTIVE', async () => {
    const created = await ecs.send(
      new CreateServiceCommand({
        cluster: 'api',
        serviceName: 's1',
        taskDefinition: 'svc',
        desiredCount: 1,
        networkConfiguration: NET,
        tags: [{ key: 'a', value: '1' }],
      }),
    );
    expect(created.service).toMatchObject({
      serviceArn: 'arn:aws:ecs:us-east-1:000000000000:service/api/s1',
      serviceName: 's1',
      clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/api',
      status: 'ACTIVE',
      desiredCount: 1,
      runningCount: 0,
      pendingCount: 0,
      launchType: 'FARGATE',
      taskDefinition: 'arn:aws:ecs:us-east-1:000000000000:task-definition/svc:1',
      deploymentConfiguration: {
        deploymentCircuitBreaker: { enable: false, rollback: false },
        maximumPercent: 200,
        minimumHealthyPercent: 100,
      },
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: [SUBNET],
          securityGroups: [],
          assignPublicIp: 'DISABLED',
        },
      },
      schedulingStrategy: 'REPLICA',
      deploymentController: { type: 'ECS' },
      events: [],
    });
    expect(created.service!.deployments![0]!.id).toMatch(/^ecs-svc\/\d{19}$/);
    const d = await ecs.send(
      new DescribeServicesCommand({ cluster: 'api', services: ['s1', 'ghost'], include: ['TAGS'] }),
    );
    expect(d.services![0]!.tags).toEqual([{ key: 'a', value: '1' }]);
    expect(d.failures).toEqual([
      { arn: 'arn:aws:ecs:us-east-1:000000000000:service/api/ghost', reason: 'MISSING' },
    ]);
    expect((await ecs.send(new ListServicesCommand({ cluster: 'api' }))).serviceArns).toEqual([
      created.service!.serviceArn,
    ]);
    expect(
      await error(
        ecs.send(
          new CreateServiceCommand({
            cluster: 'api',
            serviceName: 's1',
            taskDefinition: 'svc',
            desiredCount: 1,
            networkConfiguration: NET,
          }),
        ),
      ),
    ).toEqual({
      name: 'InvalidParameterException',
      message: 'Creation of service was not idempotent.',
    });

    const arn = created.service!.serviceArn!;
    await ecs.send(
      new TagResourceCommand({
        resourceArn: arn,
        tags: [
          { key: 'b', value: '2' },
          { key: 'a', value: '3' },
        ],
      }),
    );
    await ecs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['b'] }));
    expect((await ecs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([
      { key: 'a', value: '3' },
    ]);

    expect(await error(ecs.send(new DeleteServiceCommand({ cluster: 'api', service: 's1' })))).toEqual({
      name: 'InvalidParameterException',
      message: 'The service cannot be stopped while it is scaled above 0.',
    });
    await aws.clock.advance(60_000);
    expect(
      (await ecs.send(new DeleteClusterCommand({ cluster: 'api' })).catch((e: Error) => e)) as Error,
    ).toMatchObject({
      name: 'ClusterContainsServicesException',
    });
    const draining = await ecs.send(new DeleteServiceCommand({ cluster: 'api', service: 's1', force: true }));
    expect(draining.service).toMatchObject({ status: 'DRAINING', desiredCount: 0 });
    expect(
      await error(ecs.send(new UpdateServiceCommand({ cluster: 'api', service: 's1', desiredCount: 2 }))),
    ).toEqual({
      name: 'ServiceNotActiveException',
      message: 'Service was not ACTIVE.',
    });
    await aws.clock.advance(120_000);
    const gone = await ecs.send(new DescribeServicesCommand({ cluster: 'api', services: ['s1'] }));
    expect(gone.services![0]).toMatchObject({ status: 'INACTIVE', runningCount: 0, deployments: [] });
    const stopped = await ecs.send(
      new ListTasksCommand({ cluster: 'api', serviceName: 's1', desiredStatus: 'STOPPED' }),
    );
    const [t] = (await ecs.send(new DescribeTasksCommand({ cluster: 'api', tasks: stopped.taskArns! })))
      .tasks!;
    expect(t).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'ServiceSchedulerInitiated' });
  });

  test.each([
    ['missing cluster', { cluster: 'nope' }, 'ClusterNotFoundException', 'Cluster not found.'],
    ['unknown task definition', { taskDefinition: 'nope:1' }, 'ClientException', 'TaskDefinition not found.'],
    [
      'EC2-only task definition',
      { taskDefinition: 'ec2only' },
      'InvalidParameterException',
      'Task definition does not support launch_type FARGATE.',
    ],
    [
      'no network configuration',
      { networkConfiguration: undefined },
      'InvalidParameterException',
      "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
    ],
    [
      'no subnets',
      { networkConfiguration: { awsvpcConfiguration: { subnets: [] } } },
      'InvalidParameterException',
      'subnets can not be empty.',
    ],
  ])('create service: %s', async (_, patch, name, message) => {
    const input = {
      cluster: 'api',
      serviceName: 'bad',
      taskDefinition: 'svc',
      desiredCount: 1,
      networkConfiguration: NET,
      ...patch,
    };
    expect(await error(ecs.send(new CreateServiceCommand(input as never)))).toEqual({ name, message });
    const d = await ecs.send(new DescribeServicesCommand({ cluster: 'api', services: ['bad'] }));
    expect(d.failures![0]!.reason).toBe('MISSING');
  });

  test('UpdateService to a missing revision: ClientException, nothing changes', async () => {
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'api',
        serviceName: 's2',
        taskDefinition: 'svc:1',
        desiredCount: 1,
        networkConfiguration: NET,
      }),
    );
    const before = (await ecs.send(new DescribeServicesCommand({ cluster: 'api', services: ['s2'] })))
      .services![0]!;
    expect(
      await error(
        ecs.send(
          new UpdateServiceCommand({
            cluster: 'api',
            service: 's2',
            taskDefinition: 'svc:99',
            desiredCount: 5,
          }),
        ),
      ),
    ).toEqual({ name: 'ClientException', message: 'TaskDefinition not found.' });
    expect(
      await error(ecs.send(new UpdateServiceCommand({ cluster: 'api', service: 'ghost', desiredCount: 5 }))),
    ).toEqual({
      name: 'ServiceNotFoundException',
      message: 'Service not found.',
    });
    const after = (await ecs.send(new DescribeServicesCommand({ cluster: 'api', services: ['s2'] })))
      .services![0]!;
    expect(after).toEqual(before);
  });
});

describe('tasks', () => {
  test('RunTask answers PROVISIONING tasks; StartTask has no container instances; StopTask errors', async () => {
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: 'api',
        taskDefinition: 'svc',
        count: 2,
        networkConfiguration: NET,
        startedBy: 'me',
        tags: [{ key: 't', value: '1' }],
      }),
    );
    expect(run.failures).toEqual([]);
    expect(run.tasks).toHaveLength(2);
    const t = run.tasks![0]!;
    expect(t).toMatchObject({
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      launchType: 'FARGATE',
      cpu: '256',
      memory: '512',
      group: 'family:svc',
      startedBy: 'me',
      platformVersion: '1.4.0',
      clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/api',
      taskDefinitionArn: expect.stringMatching(/task-definition\/svc:\d+$/),
      tags: [{ key: 't', value: '1' }],
      attachments: [expect.objectContaining({ type: 'ElasticNetworkInterface', status: 'PRECREATED' })],
    });
    expect(t.taskArn).toMatch(/^arn:aws:ecs:us-east-1:000000000000:task\/api\/[0-9a-f]{32}$/);
    expect(t.containers![0]).toMatchObject({
      name: 'app',
      lastStatus: 'PENDING',
      image: 'public.ecr.aws/nginx/nginx:1.27',
    });
    const listed = await ecs.send(new ListTasksCommand({ cluster: 'api', startedBy: 'me' }));
    expect(listed.taskArns!.sort()).toEqual(run.tasks!.map((x) => x.taskArn).sort());
    expect((await ecs.send(new ListTasksCommand({ cluster: 'api', family: 'nope' }))).taskArns).toEqual([]);
    const d = await ecs.send(
      new DescribeTasksCommand({ cluster: 'api', tasks: [t.taskArn!, 'ffffffffffffffffffffffffffffffff'] }),
    );
    expect(d.failures).toEqual([
      {
        arn: 'arn:aws:ecs:us-east-1:000000000000:task/api/ffffffffffffffffffffffffffffffff',
        reason: 'MISSING',
      },
    ]);
    expect(
      await error(
        ecs.send(new StopTaskCommand({ cluster: 'api', task: 'ffffffffffffffffffffffffffffffff' })),
      ),
    ).toEqual({
      name: 'InvalidParameterException',
      message: 'The referenced task was not found.',
    });
    const stop = await ecs.send(new StopTaskCommand({ cluster: 'api', task: t.taskArn! }));
    expect(stop.task).toMatchObject({
      desiredStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: 'Task stopped by user',
    });
    const start = await ecs.send(
      new StartTaskCommand({ cluster: 'api', taskDefinition: 'svc', containerInstances: ['abc'] }),
    );
    expect(start).toMatchObject({
      tasks: [],
      failures: [{ arn: 'arn:aws:ecs:us-east-1:000000000000:container-instance/api/abc', reason: 'MISSING' }],
    });
    expect(await error(ecs.send(new RunTaskCommand({ cluster: 'api', taskDefinition: 'svc' })))).toEqual({
      name: 'InvalidParameterException',
      message: "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
    });
    expect(
      await error(
        ecs.send(
          new RunTaskCommand({
            cluster: 'api',
            taskDefinition: 'svc',
            networkConfiguration: NET,
            overrides: { containerOverrides: [{ name: 'other' }] },
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidParameterException' });
  });
});

describe('raw JSON 1.1', () => {
  const call = (op: string, body: unknown) =>
    jsonCall(aws.endpoint, `${TARGET}.${op}`, body, { service: 'ecs', credentials: aws.credentials });

  test('malformed JSON and wrong member types are SerializationException; unknown operations are rejected', async () => {
    const broken = await call('CreateCluster', '{"clusterName": "x"');
    expect(broken.status).toBe(400);
    expect(broken.json().__type).toContain('SerializationException');
    for (const [op, body] of [
      ['CreateCluster', { clusterName: 5 }],
      ['DescribeServices', { cluster: 'api', services: 'one' }],
      ['UpdateService', { cluster: 'api', service: 's2', desiredCount: '3' }],
      [
        'RegisterTaskDefinition',
        { ...fargate('raw'), containerDefinitions: [{ name: 'a', image: 'x', essential: 'yes' }] },
      ],
      ['RunTask', { cluster: 'api', taskDefinition: 'svc', count: 1.5 }],
    ] as const) {
      const r = await call(op, body);
      expect([op, r.status, r.json().__type]).toEqual([
        op,
        400,
        expect.stringContaining('SerializationException'),
      ]);
    }
    const unknown = await call('CreateCapacityProvider', {});
    expect(unknown.json().__type).toContain('UnknownOperationException');
    const ok = await call('DescribeClusters', { clusters: ['api'], somethingNew: true });
    expect(ok.status).toBe(200);
    expect(typeof (ok.json().clusters as Array<{ clusterArn: string }>)[0]!.clusterArn).toBe('string');
    expect(aws.opLog.entries({ service: 'ecs', operation: 'DescribeClusters' }).at(-1)!.action).toBe(
      'ecs:DescribeClusters',
    );
  });
});
