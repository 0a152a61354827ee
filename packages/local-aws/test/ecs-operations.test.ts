// The ECS operations and options a user's first try hits, judged by the AWS CLI v2 and boto3:
// deployment controllers kept and refused as ECS refuses them, the cluster and account reads,
// capacity providers, ECS Exec, list filters, tag propagation and managed tags, and the
// UnknownOperationException of an operation local-aws does not serve.
import {
  CreateClusterCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import { jest } from '@jest/globals';
import { defaultNetwork, startLocalAws, type LocalAws } from '../src/index.js';
import { awsCli, boto3Ecs, withBoto3, withCli, withCliAndBoto3, type Judged } from './helpers/ecs-judges.js';

jest.setTimeout(120_000);

/** A subnet of the default network local-aws gives every account and region (zone a). */
const SUBNET = defaultNetwork().subnetIds[0]!;
const OTHER_SUBNET = defaultNetwork().subnetIds[1]!;

const S = 1000;

const NET_CLI = `awsvpcConfiguration={subnets=[${SUBNET}]}`;
const NET = { awsvpcConfiguration: { subnets: [SUBNET] } };

let aws: LocalAws;
let ecs: ECSClient;
let web: string;
let web2: string;

/** The CLI's one-line error: "An error occurred (Code) when calling the Op operation: message". */
function cliError(r: Judged): string {
  expect(r.code).not.toBe(0);
  return r.stderr.trim().split('\n').at(-1)!;
}

const cli = async (...args: string[]) => {
  const r = await awsCli(aws, ['ecs', ...args]);
  if (r.code !== 0) throw new Error(`aws ecs ${args.join(' ')}: ${r.stderr}`);
  return r.json;
};

beforeAll(async () => {
  aws = await startLocalAws({ steppedClock: true });
  ecs = new ECSClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: aws.credentials,
    maxAttempts: 1,
  });
  await ecs.send(new CreateClusterCommand({ clusterName: 'ops' }));
  const register = async (family: string) =>
    (
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          requiresCompatibilities: ['FARGATE'],
          networkMode: 'awsvpc',
          cpu: '256',
          memory: '512',
          containerDefinitions: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:1.27', essential: true }],
          tags: [
            { key: 'team', value: 'web' },
            { key: 'from', value: 'task-definition' },
          ],
        }),
      )
    ).taskDefinition!.taskDefinitionArn!;
  web = await register('web');
  web2 = await register('web');
});
afterAll(async () => {
  ecs?.destroy();
  await aws?.stop();
});

describe('deployment controllers', () => {
  withCli('CODE_DEPLOY is kept, runs its task set, and refuses what ECS refuses for it', async () => {
    const created = await cli(
      'create-service',
      '--cluster',
      'ops',
      '--service-name',
      'blue-green',
      '--task-definition',
      web,
      '--desired-count',
      '2',
      '--deployment-controller',
      'type=CODE_DEPLOY',
      '--network-configuration',
      NET_CLI,
    );
    expect(created.service).toMatchObject({ deploymentController: { type: 'CODE_DEPLOY' }, deployments: [] });
    await aws.clock.advance(2 * 60 * S);
    const [svc] = (await cli('describe-services', '--cluster', 'ops', '--services', 'blue-green'))
      .services as Array<Record<string, unknown>>;
    expect(svc).toMatchObject({
      deploymentController: { type: 'CODE_DEPLOY' },
      deployments: [],
      runningCount: 2,
      taskSets: [
        {
          status: 'PRIMARY',
          taskDefinition: web,
          computedDesiredCount: 2,
          runningCount: 2,
          platformVersion: '1.4.0',
          scale: { value: 100, unit: 'PERCENT' },
          stabilityStatus: 'STEADY_STATE',
        },
      ],
    });
    const set = (svc!.taskSets as Array<{ id: string; taskSetArn: string }>)[0]!;
    expect(set.taskSetArn).toBe(`arn:aws:ecs:us-east-1:000000000000:task-set/ops/blue-green/${set.id}`);
    // No ECS deployment events for a task set.
    expect(JSON.stringify(svc!.events)).not.toContain('deployment completed');

    const refused = async (...args: string[]) =>
      cliError(
        await awsCli(aws, ['ecs', 'update-service', '--cluster', 'ops', '--service', 'blue-green', ...args]),
      );
    expect(await refused('--task-definition', web2)).toBe(
      'An error occurred (InvalidParameterException) when calling the UpdateService operation: Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.',
    );
    expect(await refused('--force-new-deployment')).toBe(
      'An error occurred (InvalidParameterException) when calling the UpdateService operation: Cannot force a new deployment on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.',
    );
    expect(await refused('--network-configuration', `awsvpcConfiguration={subnets=[${OTHER_SUBNET}]}`)).toBe(
      'An error occurred (InvalidParameterException) when calling the UpdateService operation: Unable to update network parameters on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.',
    );
    // What ECS lets it change: the desired count (the task set follows).
    await cli('update-service', '--cluster', 'ops', '--service', 'blue-green', '--desired-count', '1');
    await aws.clock.advance(60 * S);
    const [after] = (await cli('describe-services', '--cluster', 'ops', '--services', 'blue-green'))
      .services as Array<{
      taskDefinition: string;
      runningCount: number;
      taskSets: Array<{ computedDesiredCount: number }>;
    }>;
    expect([after!.taskDefinition, after!.runningCount, after!.taskSets[0]!.computedDesiredCount]).toEqual([
      web,
      1,
      1,
    ]);
  });

  withCli('EXTERNAL is kept, needs no task definition and runs nothing until a task set would', async () => {
    const created = await cli(
      'create-service',
      '--cluster',
      'ops',
      '--service-name',
      'external',
      '--desired-count',
      '1',
      '--deployment-controller',
      'type=EXTERNAL',
    );
    expect(created.service).toMatchObject({
      deploymentController: { type: 'EXTERNAL' },
      deployments: [],
      taskSets: [],
    });
    expect(created.service).not.toHaveProperty('taskDefinition');
    await aws.clock.advance(60 * S);
    expect((await cli('list-tasks', '--cluster', 'ops', '--service-name', 'external')).taskArns).toEqual([]);
    expect(
      cliError(
        await awsCli(aws, [
          'ecs',
          'update-service',
          '--cluster',
          'ops',
          '--service',
          'external',
          '--task-definition',
          web,
        ]),
      ),
    ).toMatch(
      /\(InvalidParameterException\).*Unable to update task definition on services with a EXTERNAL deployment controller/,
    );
  });

  withCli('an unknown controller type is refused', async () => {
    const r = await awsCli(aws, [
      'ecs',
      'create-service',
      '--cluster',
      'ops',
      '--service-name',
      'x',
      '--task-definition',
      web,
      '--desired-count',
      '0',
      '--deployment-controller',
      'type=BLUE_GREEN',
    ]);
    expect(cliError(r)).toBe(
      'An error occurred (InvalidParameterException) when calling the CreateService operation: Invalid deploymentController type: BLUE_GREEN',
    );
  });
});

describe('cluster and account reads', () => {
  withCliAndBoto3(
    'list-clusters, list-container-instances (none on Fargate), list-account-settings',
    async () => {
      await ecs.send(new CreateClusterCommand({ clusterName: 'another' }));
      expect((await cli('list-clusters')).clusterArns).toEqual([
        'arn:aws:ecs:us-east-1:000000000000:cluster/another',
        'arn:aws:ecs:us-east-1:000000000000:cluster/ops',
      ]);
      await cli('delete-cluster', '--cluster', 'another');
      expect((await cli('list-clusters')).clusterArns).toEqual([
        'arn:aws:ecs:us-east-1:000000000000:cluster/ops',
      ]);
      expect((await cli('list-container-instances', '--cluster', 'ops')).containerInstanceArns).toEqual([]);
      expect(cliError(await awsCli(aws, ['ecs', 'list-container-instances', '--cluster', 'nope']))).toBe(
        'An error occurred (ClusterNotFoundException) when calling the ListContainerInstances operation: Cluster not found.',
      );
      const effective = (await cli('list-account-settings', '--effective-settings')).settings as Array<{
        name: string;
        value: string;
        principalArn: string;
      }>;
      expect(Object.fromEntries(effective.map((s) => [s.name, s.value]))).toMatchObject({
        serviceLongArnFormat: 'enabled',
        taskLongArnFormat: 'enabled',
        containerInstanceLongArnFormat: 'enabled',
        awsvpcTrunking: 'disabled',
        containerInsights: 'disabled',
      });
      expect(new Set(effective.map((s) => s.principalArn))).toEqual(
        new Set(['arn:aws:iam::000000000000:root']),
      );
      expect(
        (await cli('list-account-settings', '--effective-settings', '--name', 'taskLongArnFormat')).settings,
      ).toEqual([
        { name: 'taskLongArnFormat', value: 'enabled', principalArn: 'arn:aws:iam::000000000000:root' },
      ]);
      // `type` (user, or aws_managed for the one setting AWS manages) is newer than this CLI.
      const typed = await boto3Ecs(
        aws,
        "out = [[s['name'], s['type']] for s in ecs.list_account_settings(effectiveSettings=True)['settings'] if s['name'] in ('guardDutyActivate', 'taskLongArnFormat')]",
      );
      expect(typed.json).toEqual([
        ['guardDutyActivate', 'aws_managed'],
        ['taskLongArnFormat', 'user'],
      ]);
      // Nothing was ever put: without effective settings there are none.
      expect((await cli('list-account-settings')).settings).toEqual([]);
    },
  );

  withCliAndBoto3(
    'describe-capacity-providers, put-cluster-capacity-providers, update-cluster-settings',
    async () => {
      // The CLI v2 here predates the `type` member (it drops it); boto3 knows it.
      const all = [
        {
          capacityProviderArn: 'arn:aws:ecs:us-east-1:000000000000:capacity-provider/FARGATE',
          name: 'FARGATE',
          status: 'ACTIVE',
        },
        {
          capacityProviderArn: 'arn:aws:ecs:us-east-1:000000000000:capacity-provider/FARGATE_SPOT',
          name: 'FARGATE_SPOT',
          status: 'ACTIVE',
        },
      ];
      expect((await cli('describe-capacity-providers')).capacityProviders).toEqual(all);
      const typed = await boto3Ecs(aws, "out = ecs.describe_capacity_providers()['capacityProviders']");
      expect(typed.json).toEqual([
        { ...all[0], type: 'FARGATE' },
        { ...all[1], type: 'FARGATE_SPOT' },
      ]);
      const some = await cli('describe-capacity-providers', '--capacity-providers', 'FARGATE_SPOT', 'my-asg');
      expect([(some.capacityProviders as Array<{ name: string }>).map((c) => c.name), some.failures]).toEqual(
        [['FARGATE_SPOT'], [{ arn: 'my-asg', reason: 'MISSING' }]],
      );
      const put = await cli(
        'put-cluster-capacity-providers',
        '--cluster',
        'ops',
        '--capacity-providers',
        'FARGATE',
        'FARGATE_SPOT',
        '--default-capacity-provider-strategy',
        'capacityProvider=FARGATE,weight=1,base=1',
        'capacityProvider=FARGATE_SPOT,weight=4',
      );
      expect(put.cluster).toMatchObject({
        capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
        defaultCapacityProviderStrategy: [
          { capacityProvider: 'FARGATE', weight: 1, base: 1 },
          { capacityProvider: 'FARGATE_SPOT', weight: 4, base: 0 },
        ],
      });
      const [described] = (await cli('describe-clusters', '--clusters', 'ops')).clusters as Array<
        Record<string, unknown>
      >;
      expect(described!.capacityProviders).toEqual(['FARGATE', 'FARGATE_SPOT']);
      expect(
        cliError(
          await awsCli(aws, [
            'ecs',
            'put-cluster-capacity-providers',
            '--cluster',
            'ops',
            '--capacity-providers',
            'FARGATE',
            '--default-capacity-provider-strategy',
            'capacityProvider=FARGATE_SPOT,weight=1',
          ]),
        ),
      ).toBe(
        'An error occurred (InvalidParameterException) when calling the PutClusterCapacityProviders operation: The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.',
      );
      expect(
        cliError(
          await awsCli(aws, [
            'ecs',
            'put-cluster-capacity-providers',
            '--cluster',
            'ops',
            '--capacity-providers',
            'my-asg',
            '--default-capacity-provider-strategy',
            '[]',
          ]),
        ),
      ).toMatch(/\(InvalidParameterException\).*The specified capacity provider does not exist/);
      const updated = await cli(
        'update-cluster-settings',
        '--cluster',
        'ops',
        '--settings',
        'name=containerInsights,value=enabled',
      );
      expect((updated.cluster as { settings: unknown }).settings).toEqual([
        { name: 'containerInsights', value: 'enabled' },
      ]);
    },
  );

  withCli('an operation local-aws does not serve is named in its UnknownOperationException', async () => {
    expect(
      cliError(
        await awsCli(aws, [
          'ecs',
          'create-capacity-provider',
          '--name',
          'x',
          '--auto-scaling-group-provider',
          'autoScalingGroupArn=arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:1:autoScalingGroupName/x',
        ]),
      ),
    ).toBe(
      'An error occurred (UnknownOperationException) when calling the CreateCapacityProvider operation: Unknown operation AmazonEC2ContainerServiceV20141113.CreateCapacityProvider',
    );
  });
});

describe('ECS Exec', () => {
  withBoto3(
    'execute_command: refused unless the task has it; enableExecuteCommand reaches tasks with their agent',
    async () => {
      const plain = (
        await ecs.send(new RunTaskCommand({ cluster: 'ops', taskDefinition: web, networkConfiguration: NET }))
      ).tasks![0]!;
      const exec = (
        await ecs.send(
          new RunTaskCommand({
            cluster: 'ops',
            taskDefinition: web,
            networkConfiguration: NET,
            enableExecuteCommand: true,
          }),
        )
      ).tasks![0]!;
      const call = (task: string) =>
        boto3Ecs(
          aws,
          `out = ecs.execute_command(cluster='ops', task='${task}', container='app', command='/bin/sh', interactive=True)
del out['ResponseMetadata']`,
        );
      // Not yet running: the agent is not there either.
      expect((await call(exec.taskArn!)).json).toEqual({
        error: expect.objectContaining({
          Code: 'InvalidParameterException',
          Message:
            'The execute command failed because execute command was not enabled when the task was run or the execute command agent isn’t running. Wait and try again or run a new task with execute command enabled and try again.',
        }),
      });
      await aws.clock.advance(60 * S);
      expect((await call(plain.taskArn!)).json).toEqual({
        error: expect.objectContaining({ Code: 'InvalidParameterException' }),
      });
      const ok = (await call(exec.taskArn!)).json;
      expect(ok).toMatchObject({
        clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/ops',
        taskArn: exec.taskArn,
        containerName: 'app',
        interactive: true,
        session: {
          sessionId: expect.stringMatching(/^ecs-execute-command-[0-9a-f]+$/),
          streamUrl: expect.stringMatching(
            /^wss:\/\/ssmmessages\.us-east-1\.amazonaws\.com\/v1\/data-channel\//,
          ),
          tokenValue: expect.any(String),
        },
      });
      const described = await boto3Ecs(
        aws,
        `t = ecs.describe_tasks(cluster='ops', tasks=['${plain.taskArn}', '${exec.taskArn}'])['tasks']
out = [[x['enableExecuteCommand'], x['containers'][0].get('managedAgents')] for x in t]`,
      );
      expect(described.json).toEqual([
        [false, null],
        [true, [{ lastStartedAt: expect.any(String), name: 'ExecuteCommandAgent', lastStatus: 'RUNNING' }]],
      ]);
    },
  );

  withCli("a service's enableExecuteCommand reaches its tasks", async () => {
    await cli(
      'create-service',
      '--cluster',
      'ops',
      '--service-name',
      'debuggable',
      '--task-definition',
      web,
      '--desired-count',
      '1',
      '--enable-execute-command',
      '--network-configuration',
      NET_CLI,
    );
    await aws.clock.advance(60 * S);
    const arns = (await cli('list-tasks', '--cluster', 'ops', '--service-name', 'debuggable'))
      .taskArns as string[];
    const [task] = (await cli('describe-tasks', '--cluster', 'ops', '--tasks', ...arns)).tasks as Array<{
      enableExecuteCommand: boolean;
      containers: Array<{ managedAgents: Array<{ name: string; lastStatus: string }> }>;
    }>;
    expect(task!.enableExecuteCommand).toBe(true);
    expect(task!.containers[0]!.managedAgents).toEqual([
      expect.objectContaining({ name: 'ExecuteCommandAgent', lastStatus: 'RUNNING' }),
    ]);
  });
});

describe('list filters', () => {
  withCli(
    'ListTasks: PENDING is always empty, EC2 and EXTERNAL give nothing; ListServices filters',
    async () => {
      const running = (await cli('list-tasks', '--cluster', 'ops')).taskArns as string[];
      expect(running.length).toBeGreaterThan(0);
      expect((await cli('list-tasks', '--cluster', 'ops', '--launch-type', 'FARGATE')).taskArns).toEqual(
        running,
      );
      for (const args of [
        ['--desired-status', 'PENDING'],
        ['--launch-type', 'EC2'],
        ['--launch-type', 'EXTERNAL'],
      ])
        expect([args, (await cli('list-tasks', '--cluster', 'ops', ...args)).taskArns]).toEqual([args, []]);
      const services = (await cli('list-services', '--cluster', 'ops')).serviceArns as string[];
      expect(services.length).toBeGreaterThan(0);
      expect(
        (await cli('list-services', '--cluster', 'ops', '--scheduling-strategy', 'REPLICA')).serviceArns,
      ).toEqual(services);
      for (const args of [
        ['--scheduling-strategy', 'DAEMON'],
        ['--launch-type', 'EC2'],
        ['--launch-type', 'EXTERNAL'],
      ])
        expect([args, (await cli('list-services', '--cluster', 'ops', ...args)).serviceArns]).toEqual([
          args,
          [],
        ]);
    },
  );
});

describe('tags', () => {
  withCli(
    'propagateTags TASK_DEFINITION and SERVICE, managed tags, and no tags without include TAGS',
    async () => {
      for (const [name, propagate] of [
        ['from-td', 'TASK_DEFINITION'],
        ['from-svc', 'SERVICE'],
      ]) {
        await cli(
          'create-service',
          '--cluster',
          'ops',
          '--service-name',
          name!,
          '--task-definition',
          web,
          '--desired-count',
          '1',
          '--network-configuration',
          NET_CLI,
          '--propagate-tags',
          propagate!,
          '--enable-ecs-managed-tags',
          '--tags',
          'key=from,value=service',
        );
      }
      const run = await cli(
        'run-task',
        '--cluster',
        'ops',
        '--task-definition',
        web,
        '--network-configuration',
        NET_CLI,
        '--propagate-tags',
        'TASK_DEFINITION',
        '--enable-ecs-managed-tags',
        '--tags',
        'key=from,value=run-task',
      );
      const oneOff = (run.tasks as Array<{ taskArn: string }>)[0]!.taskArn;
      await aws.clock.advance(5 * S);
      const tagsOf = async (arn: string) => {
        const withTags = (
          await cli('describe-tasks', '--cluster', 'ops', '--tasks', arn, '--include', 'TAGS')
        ).tasks as Array<{ tags: Array<{ key: string; value: string }> }>;
        const without = (await cli('describe-tasks', '--cluster', 'ops', '--tasks', arn)).tasks as Array<
          Record<string, unknown>
        >;
        expect(without[0]).not.toHaveProperty('tags');
        const listed = (await cli('list-tags-for-resource', '--resource-arn', arn)).tags;
        expect(listed).toEqual(withTags[0]!.tags);
        return Object.fromEntries(withTags[0]!.tags.map((t) => [t.key, t.value]));
      };
      const serviceTask = async (name: string) =>
        ((await cli('list-tasks', '--cluster', 'ops', '--service-name', name)).taskArns as string[])[0]!;
      expect(await tagsOf(await serviceTask('from-td'))).toEqual({
        team: 'web',
        from: 'task-definition',
        'aws:ecs:clusterName': 'ops',
        'aws:ecs:serviceName': 'from-td',
      });
      expect(await tagsOf(await serviceTask('from-svc'))).toEqual({
        from: 'service',
        'aws:ecs:clusterName': 'ops',
        'aws:ecs:serviceName': 'from-svc',
      });
      // RunTask: the task definition's tags, its own (which win), the cluster's managed tag.
      expect(await tagsOf(oneOff)).toEqual({ team: 'web', from: 'run-task', 'aws:ecs:clusterName': 'ops' });
      expect(
        cliError(
          await awsCli(aws, [
            'ecs',
            'run-task',
            '--cluster',
            'ops',
            '--task-definition',
            web,
            '--network-configuration',
            NET_CLI,
            '--propagate-tags',
            'SERVICE',
          ]),
        ),
      ).toMatch(/\(InvalidParameterException\)/);
    },
  );
});
