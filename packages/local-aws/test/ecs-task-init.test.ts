// Before a task's containers start, ECS's agent reads its secrets with the execution role and sets
// up its awslogs streams; a failure stops the task with TaskFailedToStart and the agent's
// ResourceInitializationError. Once it runs, its containers' output is in CloudWatch Logs. Roles are
// made in local-aws's IAM; the AWS CLI v2 runs the tasks and reads them (and their logs) back.
import { ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { jest } from '@jest/globals';
import { defaultNetwork, startLocalAws, type LocalAws } from '../src/index.js';
import { awsCli, withCli } from './helpers/ecs-judges.js';
import { iamQuery } from './helpers/iam-query.js';

jest.setTimeout(180_000);

const S = 1000;
const ACCOUNT = '000000000000';
const NET = JSON.stringify({ awsvpcConfiguration: { subnets: [defaultNetwork().subnetIds[0]!] } });
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
});
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

let aws: LocalAws;
let ecs: ECSClient;

async function role(name: string, actions: string[]): Promise<void> {
  await iamQuery(aws.endpoint, 'CreateRole', { RoleName: name, AssumeRolePolicyDocument: TRUST });
  await iamQuery(aws.endpoint, 'PutRolePolicy', {
    RoleName: name,
    PolicyName: 'exec',
    PolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }],
    }),
  });
}

beforeAll(async () => {
  aws = await startLocalAws({ steppedClock: true });
  ecs = new ECSClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: aws.credentials,
    maxAttempts: 1,
  });
  await awsCli(aws, ['ecs', 'create-cluster', '--cluster-name', 'init']);
  await role('exec-all', [
    'secretsmanager:GetSecretValue',
    'ssm:GetParameters',
    'logs:CreateLogGroup',
    'logs:CreateLogStream',
    'logs:PutLogEvents',
  ]);
  await role('exec-logs-only', ['logs:CreateLogStream', 'logs:PutLogEvents']);
});
afterAll(async () => {
  ecs?.destroy();
  await aws?.stop();
});

interface CliTask {
  taskArn: string;
  lastStatus: string;
  stopCode?: string;
  stoppedReason?: string;
  containers: Array<{ exitCode?: number; reason?: string }>;
}

/** Registers a one-container Fargate task definition and runs it with the AWS CLI; its ARN. */
async function run(
  family: string,
  container: Record<string, unknown>,
  executionRole: string | undefined,
): Promise<string> {
  const td = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      ...(executionRole ? { executionRoleArn: executionRole } : {}),
      containerDefinitions: [
        { name: 'app', image: 'public.ecr.aws/docker/library/busybox:1', essential: true, ...container },
      ],
    }),
  );
  const out = await awsCli(aws, [
    'ecs',
    'run-task',
    '--cluster',
    'init',
    '--launch-type',
    'FARGATE',
    '--task-definition',
    td.taskDefinition!.taskDefinitionArn!,
    '--network-configuration',
    NET,
  ]);
  expect(out.stderr).toBe('');
  return (out.json.tasks as CliTask[])[0]!.taskArn;
}

async function describe(arn: string): Promise<CliTask> {
  const out = await awsCli(aws, ['ecs', 'describe-tasks', '--cluster', 'init', '--tasks', arn]);
  return (out.json.tasks as CliTask[])[0]!;
}

const awslogs = (group: string, extra: Record<string, string> = {}) => ({
  logConfiguration: {
    logDriver: 'awslogs' as const,
    options: {
      'awslogs-group': group,
      'awslogs-region': 'us-east-1',
      'awslogs-stream-prefix': 'ecs',
      ...extra,
    },
  },
});

const RETRIEVAL =
  'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: ';
const LOGGER =
  'ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: ';

withCli(
  'secrets: a missing secret, a role that may not read one, a role local-aws has no IAM role for',
  async () => {
    const created = await awsCli(aws, [
      'secretsmanager',
      'create-secret',
      '--name',
      'db',
      '--secret-string',
      'pw',
    ]);
    expect(created.code).toBe(0);
    const secretArn = created.json.ARN as string;
    const missingArn = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:nothing-AbCdEf`;

    const missing = await run(
      'sec-missing',
      { secrets: [{ name: 'DB', valueFrom: missingArn }] },
      roleArn('exec-all'),
    );
    const denied = await run(
      'sec-denied',
      { secrets: [{ name: 'DB', valueFrom: secretArn }] },
      roleArn('exec-logs-only'),
    );
    const ssmMissing = await run(
      'ssm-missing',
      { secrets: [{ name: 'P', valueFrom: '/app/none' }] },
      roleArn('exec-all'),
    );
    const fine = await run(
      'sec-fine',
      { secrets: [{ name: 'DB', valueFrom: secretArn }] },
      roleArn('exec-all'),
    );
    // A role that names no IAM role in local-aws is taken as allowed (many tests name fictional roles).
    const fictional = await run(
      'sec-fictional',
      { secrets: [{ name: 'DB', valueFrom: secretArn }] },
      roleArn('ecsTaskExecutionRole'),
    );
    await aws.clock.advance(2 * 60 * S);

    const m = await describe(missing);
    expect(m.lastStatus).toBe('STOPPED');
    expect(m.stopCode).toBe('TaskFailedToStart');
    expect(m.stoppedReason).toBe(
      `${RETRIEVAL}unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret ${missingArn} from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret.`,
    );

    const d = await describe(denied);
    expect(d.stopCode).toBe('TaskFailedToStart');
    expect(d.stoppedReason).toBe(
      `${RETRIEVAL}unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret ${secretArn} from secrets manager: AccessDeniedException: User: arn:aws:sts::${ACCOUNT}:assumed-role/exec-logs-only/${denied.split('/').pop()!} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretArn} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
    );

    const p = await describe(ssmMissing);
    expect(p.stoppedReason).toBe(
      `${RETRIEVAL}unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid parameters: /app/none`,
    );

    for (const arn of [fine, fictional]) {
      const t = await describe(arn);
      expect(t.lastStatus).toBe('RUNNING');
    }
  },
);

withCli('RegisterTaskDefinition: awslogs on Fargate needs an execution role', async () => {
  await expect(
    ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'no-exec',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'app', image: 'busybox', ...awslogs('/g') }],
      }),
    ),
  ).rejects.toMatchObject({
    name: 'ClientException',
    message: 'Fargate requires task definition to have execution role ARN to support log driver awslogs.',
  });
});

withCli(
  'awslogs: a missing group, one created with awslogs-create-group, and what the container wrote',
  async () => {
    const noGroup = await run('logs-missing', awslogs('/ecs/missing'), roleArn('exec-all'));
    const noCreate = await run(
      'logs-no-create',
      awslogs('/ecs/denied', { 'awslogs-create-group': 'true' }),
      roleArn('exec-logs-only'),
    );
    const created = await run(
      'logs-created',
      {
        ...awslogs('/ecs/created', { 'awslogs-create-group': 'true' }),
        command: ['sh', '-c', 'sleep 5; exit 3'],
      },
      roleArn('exec-all'),
    );
    await aws.clock.advance(2 * 60 * S);

    const g = await describe(noGroup);
    expect(g.stopCode).toBe('TaskFailedToStart');
    expect(g.stoppedReason).toBe(
      `${LOGGER}failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.`,
    );
    const c = await describe(noCreate);
    expect(c.stopCode).toBe('TaskFailedToStart');
    expect(c.stoppedReason).toBe(
      `${LOGGER}failed to create Cloudwatch log group: AccessDeniedException: User: arn:aws:sts::${ACCOUNT}:assumed-role/exec-logs-only/${noCreate.split('/').pop()!} is not authorized to perform: logs:CreateLogGroup on resource: arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/ecs/denied:log-stream: because no identity-based policy allows the logs:CreateLogGroup action`,
    );

    const t = await describe(created);
    expect(t.lastStatus).toBe('STOPPED');
    expect(t.stopCode).toBe('EssentialContainerExited');
    expect(t.containers[0]!.exitCode).toBe(3);
    const groups = await awsCli(aws, ['logs', 'describe-log-groups', '--log-group-name-prefix', '/ecs/']);
    expect((groups.json.logGroups as Array<{ logGroupName: string }>).map((x) => x.logGroupName)).toEqual([
      '/ecs/created',
    ]);
    const taskId = created.split('/').pop()!;
    const events = await awsCli(aws, [
      'logs',
      'get-log-events',
      '--log-group-name',
      '/ecs/created',
      '--log-stream-name',
      `ecs/app/${taskId}`,
      '--start-from-head',
    ]);
    expect(events.code).toBe(0);
    expect((events.json.events as Array<{ message: string }>).map((e) => e.message)).toEqual([
      'container app started from public.ecr.aws/docker/library/busybox:1 (public.ecr.aws/docker/library/busybox:1)',
      'working; will exit with code 3 after 5s',
      'exited with code 3',
    ]);
  },
);
