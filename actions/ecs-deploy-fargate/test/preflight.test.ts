import { preflightStops, type PreflightFinding } from '@aws-containers/core';
import { preflightQuestions, trustsEcsTasks } from '../src/preflight.js';
import type { RenderedTaskDefinition } from '../src/render.js';

const td = (extra: Partial<RenderedTaskDefinition> = {}): RenderedTaskDefinition => ({
  family: 'web',
  containerDefinitions: [
    {
      name: 'app',
      image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:v1',
      secrets: [
        {
          name: 'DB_PASSWORD',
          valueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::',
        },
        { name: 'API_KEY', valueFrom: '/web/api-key' },
      ],
      logConfiguration: {
        logDriver: 'awslogs',
        options: {
          'awslogs-group': '/ecs/web',
          'awslogs-region': 'eu-west-1',
          'awslogs-create-group': 'true',
        },
      },
    },
    {
      name: 'proxy',
      image: 'ghcr.io/acme/proxy:2',
      repositoryCredentials: {
        credentialsParameter: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ghcr-123456',
      },
    },
  ],
  executionRoleArn: 'arn:aws:iam::123456789012:role/web-execution',
  taskRoleArn: 'arn:aws:iam::123456789012:role/web-task',
  ...extra,
});

test('preflightQuestions: every image, secret, log group and role, each with where it comes from', () => {
  expect(preflightQuestions(td())).toEqual([
    { kind: 'image', container: 'app', image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:v1' },
    {
      kind: 'secret',
      container: 'app',
      member: 'secrets[0] (DB_PASSWORD)',
      valueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::',
    },
    { kind: 'secret', container: 'app', member: 'secrets[1] (API_KEY)', valueFrom: '/web/api-key' },
    { kind: 'log-group', container: 'app', group: '/ecs/web', region: 'eu-west-1', createGroup: true },
    { kind: 'image', container: 'proxy', image: 'ghcr.io/acme/proxy:2' },
    {
      kind: 'secret',
      container: 'proxy',
      member: 'repositoryCredentials.credentialsParameter',
      valueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ghcr-123456',
    },
    { kind: 'role', member: 'taskRoleArn', roleArn: 'arn:aws:iam::123456789012:role/web-task' },
    { kind: 'role', member: 'executionRoleArn', roleArn: 'arn:aws:iam::123456789012:role/web-execution' },
  ]);
});

const trust = (statement: object) =>
  encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: [statement] }));

test.each([
  [
    'ECS tasks may assume it',
    trust({ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    true,
  ],
  [
    'among several services',
    trust({
      Effect: 'Allow',
      Principal: { Service: ['lambda.amazonaws.com', 'ecs-tasks.amazonaws.com'] },
      Action: ['sts:AssumeRole'],
    }),
    true,
  ],
  [
    'EC2 only',
    trust({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    false,
  ],
  [
    'a Deny',
    trust({ Effect: 'Deny', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    false,
  ],
  [
    'web identity, not AssumeRole',
    trust({
      Effect: 'Allow',
      Principal: { Service: 'ecs-tasks.amazonaws.com' },
      Action: 'sts:AssumeRoleWithWebIdentity',
    }),
    false,
  ],
  ['no document', undefined, false],
])('trustsEcsTasks: %s', (_, document, expected) => {
  expect(trustsEcsTasks(document)).toBe(expected);
});

const finding = (severity: PreflightFinding['severity']): PreflightFinding => ({
  where: 'x',
  problem: 'p',
  fix: 'f',
  severity,
});
test.each([
  ['on', [finding('error')], true],
  ['on', [finding('unchecked')], false],
  ['warn', [finding('error')], false],
  ['off', [finding('error')], false],
] as const)('preflightStops(%s, …) is %s', (mode, findings, expected) => {
  expect(preflightStops(mode, findings)).toBe(expected);
});
