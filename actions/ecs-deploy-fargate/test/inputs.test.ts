import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputErrors, InputReader, inputsEnv } from '@aws-containers/core';
import { parse } from 'yaml';
import {
  getInputs,
  parseCapacityProviderStrategy,
  parseCommand,
  parseLoadBalancers,
  parseLogConfiguration,
  parseTaskDefinitionReference,
  splitShellWords,
  type Inputs,
} from '../src/inputs.js';
import { describeOutput } from './fixtures.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const actionYml = parse(readFileSync(path.join(here, '../../../ecs-deploy/action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string; required?: boolean }>;
};

function read(inputs: Record<string, string>): Inputs {
  return getInputs(new InputReader(inputsEnv(inputs)));
}

function errorsOf(inputs: Record<string, string>): string[] {
  try {
    read(inputs);
  } catch (err) {
    if (err instanceof InputErrors) return err.errors.map((e) => e.message);
    throw err;
  }
  return [];
}

/** What the runner passes: the action.yml defaults, then the workflow's inputs. */
function withDefaults(inputs: Record<string, string>): Record<string, string> {
  const defaults = Object.fromEntries(
    Object.entries(actionYml.inputs)
      .filter(([, input]) => input.default !== undefined)
      .map(([name, input]) => [name, input.default!]),
  );
  return { ...defaults, ...inputs };
}

const base = { cluster: 'prod', service: 'web' };

test('defaults: the service current task definition, 15m timeout, 5s polls, 3 failed tasks', () => {
  expect(read(base)).toEqual({
    cluster: 'prod',
    services: ['web'],
    region: undefined,
    maxAttempts: 5,
    taskDefinition: { kind: 'service' },
    containerName: undefined,
    image: undefined,
    images: new Map(),
    environment: new Map(),
    secrets: new Map(),
    command: undefined,
    logConfiguration: undefined,
    dockerLabels: new Map(),
    cpu: undefined,
    memory: undefined,
    taskRoleArn: undefined,
    executionRoleArn: undefined,
    tags: new Map(),
    keepRevisions: undefined,
    desiredCount: undefined,
    forceNewDeployment: false,
    createService: false,
    createServiceSettings: {
      subnets: [],
      securityGroups: [],
      assignPublicIp: false,
      capacityProviderStrategy: [],
      loadBalancers: [],
      circuitBreaker: 'rollback',
      enableExecuteCommand: false,
      propagateTags: 'TASK_DEFINITION',
    },
    timeoutMs: 900_000,
    pollIntervalMs: 5000,
    maxFailedTasks: 3,
    rollbackOnFailure: true,
    waitForRollback: true,
    runTaskBeforeDeploy: undefined,
    runTaskTimeoutMs: 600_000,
    dryRun: false,
    preflight: 'on',
  });
});

test('the defaults in action.yml are the ones getInputs falls back to', () => {
  expect(read(withDefaults(base))).toEqual(read(base));
});

test('action.yml declares every input getInputs reads', () => {
  const read = new Set<string>();
  const reader = new InputReader({});
  const original = reader.raw.bind(reader);
  reader.raw = (name: string) => {
    read.add(name);
    return original(name);
  };
  try {
    getInputs(reader);
  } catch {
    // cluster is missing: only the names matter here.
  }
  expect([...read].filter((name) => !name.includes(',')).sort()).toEqual(
    Object.keys(actionYml.inputs).sort(),
  );
});

test('the full set of inputs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ecs-inputs-'));
  writeFileSync(path.join(dir, 'td.json'), JSON.stringify(describeOutput()));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const inputs = read({
      cluster: `arn:aws:ecs:eu-west-1:123456789012:cluster/prod`,
      services: 'web\nworker',
      region: 'eu-west-1',
      'task-definition': 'td.json',
      'container-name': 'app',
      image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:' + 'a'.repeat(64),
      environment: 'A=1\nURL=https://x?a=b&c=d==',
      secrets: 'DB=arn:aws:ssm:eu-west-1:123456789012:parameter/db',
      command: 'node server.js --name "my app"',
      'log-configuration': 'awslogs:/app/web',
      'docker-labels': 'com.example.team=web',
      cpu: '1 vCPU',
      memory: '2 GB',
      'task-role-arn': 'arn:aws:iam::123456789012:role/web-task',
      'execution-role-arn': 'arn:aws:iam::123456789012:role/exec',
      tags: 'team=web\ncost center=42',
      'keep-revisions': '10',
      'desired-count': '0',
      'force-new-deployment': 'true',
      'create-service': 'true',
      subnets: 'subnet-0123456789abcdef0, subnet-0123456789abcdef1',
      'security-groups': 'sg-0123456789abcdef0',
      'assign-public-ip': 'true',
      'capacity-provider-strategy': 'FARGATE=1,base=1\nFARGATE_SPOT=3',
      'load-balancer':
        'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef app:8080',
      'circuit-breaker': 'on',
      'enable-execute-command': 'true',
      'propagate-tags': 'SERVICE',
      timeout: '1h',
      'poll-interval': '2s',
      'max-failed-tasks': '1',
      'rollback-on-failure': 'false',
      'run-task-before-deploy': '["npm", "run", "migrate"]',
      'run-task-timeout': '20m',
      'dry-run': 'true',
    });
    expect(inputs).toMatchObject({
      services: ['web', 'worker'],
      taskDefinition: { kind: 'file', path: path.join(dir, 'td.json') },
      environment: new Map([
        ['A', '1'],
        ['URL', 'https://x?a=b&c=d=='],
      ]),
      command: ['node', 'server.js', '--name', 'my app'],
      logConfiguration: { kind: 'awslogs', group: '/app/web' },
      cpu: '1024',
      memory: '2048',
      tags: new Map([
        ['team', 'web'],
        ['cost center', '42'],
      ]),
      keepRevisions: 10,
      desiredCount: 0,
      createServiceSettings: {
        subnets: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        securityGroups: ['sg-0123456789abcdef0'],
        assignPublicIp: true,
        capacityProviderStrategy: [
          { capacityProvider: 'FARGATE', weight: 1, base: 1 },
          { capacityProvider: 'FARGATE_SPOT', weight: 3, base: 0 },
        ],
        loadBalancers: [
          {
            targetGroupArn:
              'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef',
            containerName: 'app',
            containerPort: 8080,
          },
        ],
        circuitBreaker: 'on',
        enableExecuteCommand: true,
        propagateTags: 'SERVICE',
      },
      timeoutMs: 3_600_000,
      pollIntervalMs: 2000,
      maxFailedTasks: 1,
      rollbackOnFailure: false,
      runTaskBeforeDeploy: ['npm', 'run', 'migrate'],
      runTaskTimeoutMs: 1_200_000,
      dryRun: true,
    });
    // The file was read and its read-only members dropped already.
    const source = inputs.taskDefinition;
    expect(source.kind === 'file' && source.definition.family).toBe('web');
    expect(source.kind === 'file' && 'revision' in source.definition).toBe(false);
  } finally {
    process.chdir(cwd);
  }
});

test.each([
  ['web', 'web'],
  ['web:12', 'web:12'],
  [
    'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:12',
    'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:12',
  ],
])('task-definition-family %s', (given, reference) => {
  expect(read({ ...base, 'task-definition-family': given }).taskDefinition).toEqual({
    kind: 'registered',
    reference,
  });
});

test('an inline YAML task definition', () => {
  const inputs = read({
    ...base,
    'task-definition':
      'family: web\ncpu: 256\nmemory: 512\ncontainerDefinitions:\n  - name: app\n    image: nginx:1.27\n',
  });
  expect(inputs.taskDefinition).toMatchObject({
    kind: 'file',
    path: undefined,
    definition: { family: 'web', cpu: '256', memory: '512' },
  });
});

test.each<[string, Record<string, string>, string[]]>([
  [
    'nothing',
    {},
    [
      'Input "cluster": expected an ECS cluster name or ARN. It is required',
      'Input "service, services": expected exactly one of',
    ],
  ],
  [
    'image and images',
    { ...base, image: 'a:1', images: 'app=a:1' },
    ['Input "image, images": expected at most one of "image", "images"'],
  ],
  [
    'a file and a family',
    { ...base, 'task-definition': '{"family":"x"}', 'task-definition-family': 'x' },
    [
      'Input "task-definition, task-definition-family": expected at most one of',
      'Input "task-definition": expected a task definition',
    ],
  ],
  [
    'a file that does not exist',
    { ...base, 'task-definition': 'missing.json' },
    [
      'Input "task-definition": expected inline JSON or YAML, or the path to a .json, .yaml or .yml file, got "missing.json". No file at',
    ],
  ],
  [
    'a task definition without containers',
    { ...base, 'task-definition': '{"family":"web"}' },
    ['It has no "containerDefinitions"'],
  ],
  [
    'a file given as a family',
    { ...base, 'task-definition-family': 'td.json' },
    ['That looks like a file: give it as "task-definition"'],
  ],
  [
    'a family ARN of another service',
    { ...base, 'task-definition-family': 'arn:aws:ecs:eu-west-1:123456789012:service/prod/web' },
    ['This ARN is for a service, not a task-definition'],
  ],
  ['a bad image', { ...base, image: 'Web:Latest' }, ['Input "image": expected an image reference']],
  [
    'a bad image among images',
    { ...base, images: 'app=web:1\nsidecar=Bad Image' },
    ['Input "images": expected an image reference for container "sidecar", got "Bad Image"'],
  ],
  ['images that are not pairs', { ...base, images: 'web:1' }, ['Input "images": expected KEY=VALUE lines']],
  [
    'a bad container name',
    { ...base, 'container-name': 'my app' },
    ['Input "container-name": expected a container name'],
  ],
  ['an unclosed quote', { ...base, command: 'echo "hi' }, ['The double quote at column 6 is not closed']],
  [
    'a shell operator',
    { ...base, command: 'npm ci && npm start' },
    ['"&&" is a shell operator, but the command runs without a shell'],
  ],
  [
    'an invalid Fargate size',
    { ...base, cpu: '256', memory: '4096' },
    [
      'Input "cpu, memory": expected a CPU and memory pair that Fargate offers, got "cpu 256, memory 4096". Fargate runs 256 CPU units with 512, 1024, 2048 MiB of memory, not 4096',
    ],
  ],
  [
    'an unknown CPU',
    { ...base, cpu: '300' },
    [
      'Input "cpu": expected task CPU units (256, 512, 1024, 2048, 4096, 8192, 16384) or vCPUs ("0.25 vCPU"), got "300". Fargate has no CPU value 300',
    ],
  ],
  ['memory Fargate never offers', { ...base, memory: '1000' }, ['Fargate offers 1000 MiB with no CPU value']],
  ['CPU in words', { ...base, cpu: 'two' }, ['Input "cpu": expected task CPU units']],
  [
    'memory in MB',
    { ...base, memory: '512MB' },
    ['Write MiB as a bare number (1024) or GB with "GB" (1 GB)'],
  ],
  [
    'a role name instead of an ARN',
    { ...base, 'task-role-arn': 'web-task' },
    [
      'Input "task-role-arn": expected an iam role ARN, arn:<partition>:iam:<region>:<account>:role/<name>, got "web-task". An ARN starts with "arn:"',
    ],
  ],
  [
    'a user ARN as a role',
    { ...base, 'execution-role-arn': 'arn:aws:iam::123456789012:user/bob' },
    ['This ARN is for a user, not a role'],
  ],
  ['an aws: tag', { ...base, tags: 'aws:cloudformation=x' }, ['Input "tags": expected KEY=VALUE lines']],
  [
    'keep-revisions 0',
    { ...base, 'keep-revisions': '0' },
    ['Input "keep-revisions": expected an integer from 1 to 1000, got "0"'],
  ],
  [
    'a negative desired count',
    { ...base, 'desired-count': '-1' },
    ['Input "desired-count": expected an integer from 0 to 5000'],
  ],
  [
    'create-service settings without create-service',
    {
      ...base,
      subnets: 'subnet-0123456789abcdef0',
      'load-balancer': 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef',
    },
    [
      'Input "subnets": expected no value unless create-service is true',
      'Input "load-balancer": expected no value unless create-service is true',
    ],
  ],
  [
    'create-service without subnets',
    { ...base, 'create-service': 'true' },
    ['Input "subnets": expected the subnets of the service when create-service is true'],
  ],
  [
    'a bad subnet',
    { ...base, 'create-service': 'true', subnets: 'subnet-0123456789abcdef0,vpc-0123456789abcdef0' },
    ['Input "subnets": expected subnet IDs (subnet-…), got "vpc-0123456789abcdef0"'],
  ],
  [
    'a bad security group',
    { ...base, 'create-service': 'true', subnets: 'subnet-0123456789abcdef0', 'security-groups': 'default' },
    ['Input "security-groups": expected security group IDs (sg-…), got "default"'],
  ],
  [
    'circuit-breaker true',
    { ...base, 'circuit-breaker': 'true' },
    ['Input "circuit-breaker": expected one of "rollback", "on", "off", got "true"'],
  ],
  ['propagate-tags lowercase', { ...base, 'propagate-tags': 'service' }, ['Did you mean "SERVICE"?']],
  ['a timeout without a unit', { ...base, timeout: '900' }, ['Add a unit: 900s, 900m or 900ms']],
  [
    'a poll interval longer than the timeout',
    { ...base, timeout: '10s', 'poll-interval': '30s' },
    ['Input "poll-interval": expected a duration shorter than timeout (10s), got "30s"'],
  ],
  [
    'max-failed-tasks 0',
    { ...base, 'max-failed-tasks': '0' },
    ['Input "max-failed-tasks": expected an integer from 1 to 1000'],
  ],
  ['rollback-on-failure yes', { ...base, 'rollback-on-failure': 'yes' }, ['Action inputs follow YAML 1.2']],
  [
    'an empty run-task command',
    { ...base, 'run-task-before-deploy': '[]' },
    ['A JSON command is a non-empty array of strings'],
  ],
  [
    'a bad log configuration',
    { ...base, 'log-configuration': '{"options":{}}' },
    ['A logConfiguration mapping needs "logDriver"'],
  ],
])('%s', (_name, inputs, expected) => {
  const errors = errorsOf(inputs);
  for (const fragment of expected) expect(errors.join('\n')).toContain(fragment);
});

// §3 of the hardening issue: a value of environment, secrets or docker-labels may be a secret;
// an inline task definition may hold one too. Errors name the input, line and key, never the value.
test.each<[string, Record<string, string>, string, string]>([
  [
    'environment, bad key',
    { environment: 'DB-URL=postgres://app:pw@db' },
    'Line 1 has the key "DB-URL"',
    'app:pw',
  ],
  ['environment, no =', { environment: 'A=1\npostgres://app:pw@db' }, 'Line 2 has no "="', 'app:pw'],
  [
    'environment, key twice',
    { environment: 'A=s3cr3t-one\nA=s3cr3t-two' },
    'The key "A" is set twice, on lines 1 and 2',
    's3cr3t',
  ],
  [
    'secrets, bad key',
    { secrets: 'api key=arn:aws:secretsmanager:eu-west-1:123456789012:secret:k-AbCdEf' },
    'Line 1 has the key "api key"',
    'secretsmanager',
  ],
  [
    'docker-labels, bad key',
    { 'docker-labels': '-x=token-abc123' },
    'Line 1 has the key "-x"',
    'token-abc123',
  ],
  [
    'inline task definition, JSON',
    {
      'task-definition':
        '{"family": "web", "containerDefinitions": [{"name": "app", "environment": [{"name": "PW", "value": "hunter2"},]}]}',
    },
    'line 1, column',
    'hunter2',
  ],
  [
    'inline task definition, YAML',
    { 'task-definition': 'family: web\npassword: hunter2: x\n' },
    'line 2, column',
    'hunter2',
  ],
])('%s: the error names where, never the value', (_name, inputs, fragment, secret) => {
  const errors = errorsOf({ ...base, ...inputs }).join('\n');
  expect(errors).toContain(fragment);
  expect(errors).not.toContain(secret);
});

test('a YAML alias bomb in an inline task definition is an error of that input', () => {
  const bomb = [
    'a: &a [x, x, x, x, x, x, x, x, x]',
    ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
  ].join('\n');
  const errors = errorsOf({ ...base, 'task-definition': bomb });
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(/^Input "task-definition": expected valid YAML\. It cannot be expanded/);
});

test.each<[string, string, string[]]>([
  [
    'twice',
    'web, api\nweb',
    ['Input "services": expected each item once, got "web". It is listed more than once'],
  ],
  [
    '65536 of them',
    Array.from({ length: 65_536 }, (_, i) => `svc-${i}`).join('\n'),
    ['Input "services": expected at most 100 items. It has 65536'],
  ],
])('services listed %s: one error, before anything is read', (_name, services, expected) => {
  expect(errorsOf({ cluster: 'prod', services })).toEqual(expected);
});

test('every problem is reported at once', () => {
  expect(errorsOf({ service: 'web', image: 'a:1', images: 'x=a:1', timeout: 'soon', cpu: 'x' })).toHaveLength(
    4,
  );
});

describe('commands', () => {
  test.each<[string, string[]]>([
    ['npm start', ['npm', 'start']],
    ['  node   server.js  ', ['node', 'server.js']],
    ['node server.js --name "my app"', ['node', 'server.js', '--name', 'my app']],
    ["echo 'single $HOME \\n'", ['echo', 'single $HOME \\n']],
    ['echo "a \\"quoted\\" word" \\$HOME', ['echo', 'a "quoted" word', '$HOME']],
    ['echo "keep \\n and \\\\"', ['echo', 'keep \\n and \\']],
    ['--flag="a b"c', ['--flag=a bc']],
    ['a""b \'\' ""', ['ab', '', '']],
    ['path\\ with\\ spaces', ['path with spaces']],
    ['echo "&&" \'|\' \\;', ['echo', '&&', '|', ';']],
    ['python -c "print(1)"\nsecond', ['python', '-c', 'print(1)', 'second']],
    ['sh -c "migrate && seed"', ['sh', '-c', 'migrate && seed']],
    ['a=1 b==2', ['a=1', 'b==2']],
  ])('%j', (text, words) => {
    expect(splitShellWords(text)).toEqual(words);
    expect(parseCommand(text)).toEqual(words);
  });

  test.each<[string, string[]]>([
    ['["npm","run","migrate"]', ['npm', 'run', 'migrate']],
    ['[ "sh", "-c", "a && b" ]', ['sh', '-c', 'a && b']],
  ])('JSON %s', (text, words) => {
    expect(parseCommand(text)).toEqual(words);
  });

  test.each<[string, string]>([
    ["echo 'open", 'The single quote at column 6 is not closed'],
    ['echo "open', 'The double quote at column 6 is not closed'],
    ['echo \\', 'It ends with a lone backslash'],
    ['a | b', '"|" is a shell operator'],
    ['a; b', ''],
    ['a > out.txt', '">" is a shell operator'],
    ['[1, 2]', 'A JSON command is a non-empty array of strings'],
    ['["a", ', 'It starts with [ but is not valid JSON'],
    ['   ', 'It has no words'],
  ])('rejects %j', (text, hint) => {
    // "a;" is one word: only a free-standing operator is refused.
    if (hint === '') {
      expect(parseCommand(text)).toEqual(['a;', 'b']);
      return;
    }
    expect(() => parseCommand(text)).toThrow(hint);
  });
});

describe('log configuration', () => {
  test.each<[string, unknown]>([
    ['awslogs', { kind: 'awslogs', group: undefined }],
    ['awslogs:/ecs/web-prod', { kind: 'awslogs', group: '/ecs/web-prod' }],
    [
      '{"logDriver":"awsfirelens","options":{"Name":"cloudwatch"}}',
      { kind: 'custom', configuration: { logDriver: 'awsfirelens', options: { Name: 'cloudwatch' } } },
    ],
    [
      'logDriver: awslogs\noptions:\n  awslogs-group: g\n  awslogs-region: eu-west-1\n',
      {
        kind: 'custom',
        configuration: {
          logDriver: 'awslogs',
          options: { 'awslogs-group': 'g', 'awslogs-region': 'eu-west-1' },
        },
      },
    ],
  ])('%j', (text, expected) => {
    expect(parseLogConfiguration(text)).toEqual(expected);
  });

  test.each([
    ['awslogs:bad group', 'Log group names are up to 512'],
    ['logDriver: awslogs\noptions:\n  max-buffer-size: 25\n', '"options" must map names to strings'],
    ['splunk', 'No file at'],
  ])('rejects %j', (text, hint) => {
    expect(() => parseLogConfiguration(text)).toThrow(hint);
  });
});

describe('capacity provider strategy', () => {
  test.each<[string, unknown]>([
    ['FARGATE=1', [{ capacityProvider: 'FARGATE', weight: 1, base: 0 }]],
    [
      'FARGATE = 1, base = 2\nFARGATE_SPOT=4',
      [
        { capacityProvider: 'FARGATE', weight: 1, base: 2 },
        { capacityProvider: 'FARGATE_SPOT', weight: 4, base: 0 },
      ],
    ],
  ])('%j', (text, expected) => {
    expect(parseCapacityProviderStrategy(text)).toEqual(expected);
  });

  test.each([
    ['fargate=1', 'Provider names are uppercase'],
    ['EC2=1', 'capacity providers, one per line'],
    ['FARGATE=1001', 'A weight is 0 to 1000'],
    ['FARGATE=1\nFARGATE=2', 'FARGATE is listed twice'],
    ['FARGATE=1,base=1\nFARGATE_SPOT=1,base=1', 'Only one provider may have a base'],
    ['FARGATE=0\nFARGATE_SPOT=0', 'At least one provider needs a weight above 0'],
  ])('rejects %j', (text, hint) => {
    expect(() => parseCapacityProviderStrategy(text)).toThrow(hint);
  });
});

describe('load balancers', () => {
  const tg = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef';
  test.each<[string, unknown]>([
    [tg, [{ targetGroupArn: tg, containerName: undefined, containerPort: undefined }]],
    [`${tg} app:8080`, [{ targetGroupArn: tg, containerName: 'app', containerPort: 8080 }]],
    [`${tg} app`, [{ targetGroupArn: tg, containerName: 'app', containerPort: undefined }]],
    [
      `${tg} :8080\n${tg}   envoy:9901`,
      [
        { targetGroupArn: tg, containerName: undefined, containerPort: 8080 },
        { targetGroupArn: tg, containerName: 'envoy', containerPort: 9901 },
      ],
    ],
  ])('%j', (text, expected) => {
    expect(parseLoadBalancers(text)).toEqual(expected);
  });

  test.each([
    [
      'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/0123',
      'This ARN is for a loadbalancer, not a targetgroup',
    ],
    [`${tg} app:0`, 'A port is 1 to 65535'],
    [`${tg} app:80 extra`, 'target groups, one per line'],
    [`${tg} app:http`, 'target groups, one per line'],
  ])('rejects %j', (text, hint) => {
    expect(() => parseLoadBalancers(text)).toThrow(hint);
  });
});

test.each([
  ['web-1', 'web-1'],
  ['web_1:3', 'web_1:3'],
])('task definition reference %s', (text, expected) => {
  expect(parseTaskDefinitionReference(text)).toBe(expected);
});
