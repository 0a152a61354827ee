// Preflight end to end (issue 15): dist/ecs-deploy-fargate against local-aws (ECS, ECR, IAM with
// SimulatePrincipalPolicy, Secrets Manager, SSM, CloudWatch Logs) on a 60× clock. Each kind of
// finding stops the step before anything changes (the op log shows no ECS mutation); `warn`
// deploys and shows the findings; `off` deploys and the same mistake fails the way ECS fails it,
// with the crashed container's last log lines from CloudWatch Logs.
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { jest } from '@jest/globals';
import { mutations, SUBNET, startEcsWorld, taskDefinition, type EcsWorld } from './helpers/ecs-deploy.js';
import { refusedCalls } from './helpers/policies.js';

jest.setTimeout(120_000);

const CLUSTER = 'preflight';
const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const ECR = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const TRUST_ECS = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
});
const TRUST_EC2 = TRUST_ECS.replace('ecs-tasks', 'ec2');

let w: EcsWorld;
let secretArn: string;
let image: string;

beforeAll(async () => {
  w = await startEcsWorld(60);
  const config = { endpoint: w.aws.endpoint, region: REGION, credentials: w.aws.credentials };
  const iam = new IAMClient(config);
  const secrets = new SecretsManagerClient(config);
  const ssm = new SSMClient(config);
  const logs = new CloudWatchLogsClient(config);
  try {
    for (const [name, trust] of [
      ['web-execution', TRUST_ECS],
      ['web-execution-blind', TRUST_ECS],
      ['web-task', TRUST_ECS],
      ['web-task-ec2', TRUST_EC2],
    ] as const) {
      await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }));
    }
    for (const name of ['web-execution', 'web-execution-blind']) {
      await iam.send(
        new AttachRolePolicyCommand({
          RoleName: name,
          PolicyArn: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy',
        }),
      );
    }
    const secret = await secrets.send(
      new CreateSecretCommand({ Name: 'web/db', SecretString: '{"password":"p"}' }),
    );
    secretArn = secret.ARN!;
    await ssm.send(new PutParameterCommand({ Name: '/web/api-key', Value: 'k', Type: 'SecureString' }));
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'web-execution',
        PolicyName: 'read-web-secrets',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn },
            {
              Effect: 'Allow',
              Action: 'ssm:GetParameters',
              Resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/web/*`,
            },
          ],
        }),
      }),
    );
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/web' }));
  } finally {
    for (const c of [iam, secrets, ssm, logs]) c.destroy();
  }
  await w.createCluster(CLUSTER);
  image = (await w.push('pf/web', 'v1')).replace(w.host, ECR);
  await w.push('pf/web', 'crash', { 'local-aws.exit-code': '3', 'local-aws.exit-after': '1s' });
  const base = await w.deploy({
    cluster: CLUSTER,
    service: 'web',
    'task-definition': definition(),
    'create-service': 'true',
    subnets: SUBNET,
  });
  if (base.exitCode !== 0) throw new Error(`the base service: ${base.errors.join('\n')}\n${base.stdout}`);
});
afterEach(() => expect(refusedCalls(w.aws)).toEqual([]));
afterAll(async () => {
  await w?.stop();
});

/** The web task definition, good unless a member is replaced. */
function definition(
  change: {
    image?: string;
    secrets?: Array<{ name: string; valueFrom: string }>;
    log?: Record<string, string>;
    [k: string]: unknown;
  } = {},
): string {
  const { image: img, secrets, log, ...extra } = change;
  return taskDefinition(
    'pf-web',
    [
      {
        name: 'app',
        image: img ?? image,
        secrets: secrets ?? [
          { name: 'DB', valueFrom: `${secretArn}:password::` },
          { name: 'API_KEY', valueFrom: '/web/api-key' },
        ],
        logConfiguration: {
          logDriver: 'awslogs',
          options: {
            'awslogs-group': '/ecs/web',
            'awslogs-region': REGION,
            'awslogs-stream-prefix': 'web',
            ...log,
          },
        },
      },
    ],
    { executionRoleArn: role('web-execution'), taskRoleArn: role('web-task'), ...extra },
  );
}

test.each([
  [
    'an image tag never pushed',
    { image: `${ECR}/pf/web:never` },
    'container app, image',
    'ECR has no tag never in repository pf/web',
  ],
  [
    'a secret ARN with a typo',
    {
      secrets: [
        { name: 'DB', valueFrom: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:web/bd-AbCdEf` },
      ],
    },
    'container app, secrets[0] (DB)',
    'Secrets Manager has no secret',
  ],
  [
    'an SSM parameter that is not there',
    { secrets: [{ name: 'API_KEY', valueFrom: '/web/api-kee' }] },
    'container app, secrets[0] (API_KEY)',
    'SSM Parameter Store has no parameter /web/api-kee',
  ],
  [
    'an execution role that does not exist',
    { executionRoleArn: role('web-exec') },
    'executionRoleArn',
    `the role ${role('web-exec')} does not exist`,
  ],
  [
    'an execution role that may not read the secret',
    { executionRoleArn: role('web-execution-blind') },
    'container app, secrets[0] (DB) (executionRoleArn)',
    'may not secretsmanager:GetSecretValue',
  ],
  [
    'a log group that is not there, without awslogs-create-group',
    { log: { 'awslogs-group': '/ecs/wbe' } },
    'container app, logConfiguration awslogs-group',
    'the log group /ecs/wbe does not exist',
  ],
  [
    'a task role that does not trust ECS tasks',
    { taskRoleArn: role('web-task-ec2') },
    'taskRoleArn',
    'does not trust ecs-tasks.amazonaws.com',
  ],
] as const)(
  '%s: the step stops before anything changes, naming where and what',
  async (_, change, where, problem) => {
    const from = w.mark();
    const run = await w.deploy({
      cluster: CLUSTER,
      service: 'web',
      'task-definition': definition(change as never),
    });
    expect(run.exitCode).toBe(1);
    const error = run.errors.join('\n');
    expect(error).toMatch(/Preflight found \d+ problems?; nothing was changed/);
    expect(error).toContain(`- ${where}: `);
    expect(error).toContain(problem);
    expect(mutations(w.ecsCalls(from))).toEqual([]);
    expect(run.summary).toContain('Preflight (on)');
  },
);

test('warn: the finding is a warning and the deploy goes on', async () => {
  const run = await w.deploy({
    cluster: CLUSTER,
    service: 'web',
    preflight: 'warn',
    'task-definition': definition({ taskRoleArn: role('web-task-ec2') }),
  });
  expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
  expect(run.stdout).toMatch(
    /^::warning::taskRoleArn: the role .*web-task-ec2 does not trust ecs-tasks\.amazonaws\.com/m,
  );
  expect(run.outputs['rollout-state']).toBe('COMPLETED');
});

test('off: the missing secret then fails the way ECS fails it (ResourceInitializationError), and is rolled back', async () => {
  const run = await w.deploy({
    cluster: CLUSTER,
    service: 'web',
    preflight: 'off',
    'task-definition': definition({
      secrets: [
        { name: 'DB', valueFrom: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:web/bd-AbCdEf` },
      ],
    }),
  });
  expect(run.exitCode).toBe(1);
  expect(run.stdout).not.toContain('::group::Preflight');
  expect(run.stdout).toContain('ResourceInitializationError: unable to pull secrets or registry auth');
  expect(run.outputs['rolled-back']).toBe('true');
});

test('a crashed container: its last log lines, read from CloudWatch Logs, are in the log of the failed deploy', async () => {
  const run = await w.deploy({
    cluster: CLUSTER,
    service: 'web',
    'task-definition': definition({ image: `${ECR}/pf/web:crash` }),
  });
  expect(run.exitCode).toBe(1);
  expect(run.stdout).toMatch(
    /last \d+ log lines of container app \(CloudWatch Logs \/ecs\/web, web\/app\/[0-9a-f]{32}\):/,
  );
  expect(run.outputs['rolled-back']).toBe('true');
});
