// A task as ECS shows it, read with the AWS CLI v2: the ENI attachment through the task's life
// (PRECREATED with only its subnet, ATTACHED, DELETED once stopped), private IPs from the subnet's
// range that skip the addresses AWS reserves, EC2's DNS names and the ARN partition per region, the
// task size and storage RunTask's overrides give it, the task definition's port rules, and LATEST
// resolved.
import { jest } from '@jest/globals';
import { defaultNetwork, startLocalAws, type LocalAws } from '../src/index.js';
import { awsCli, withCli, type Judged } from './helpers/ecs-judges.js';

jest.setTimeout(120_000);

const S = 1000;
/** The default subnets of zones a and b in a region: 172.31.0.0/20 and 172.31.16.0/20. */
const subnetA = (region = 'us-east-1') => defaultNetwork(undefined, region).subnetIds[0]!;
const subnetB = (region = 'us-east-1') => defaultNetwork(undefined, region).subnetIds[1]!;
const SUBNET = subnetA();
const OTHER_SUBNET = subnetB();
const NET_CLI = (subnet = SUBNET) => `awsvpcConfiguration={subnets=[${subnet}]}`;

let aws: LocalAws;

interface CliTask {
  taskArn: string;
  clusterArn: string;
  lastStatus: string;
  cpu: string;
  memory: string;
  platformVersion: string;
  ephemeralStorage: { sizeInGiB: number };
  overrides: Record<string, unknown>;
  attachments: Array<{ status: string; details: Array<{ name: string; value: string }> }>;
  containers: Array<{ containerArn: string; networkInterfaces: unknown[] }>;
}

function cliError(r: Judged): string {
  expect(r.code).not.toBe(0);
  return r.stderr.trim().split('\n').at(-1)!;
}

async function cli(region: string, ...args: string[]): Promise<Record<string, unknown>> {
  const r = await awsCli(aws, ['ecs', ...args], region);
  if (r.code !== 0) throw new Error(`aws ecs ${args.join(' ')}: ${r.stderr}`);
  return r.json;
}

/** A Fargate task definition registered with the CLI (its JSON form), in `region`. */
async function register(
  region: string,
  family: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const out = await cli(
    region,
    'register-task-definition',
    '--cli-input-json',
    JSON.stringify({
      family,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:1.27', essential: true }],
      ...extra,
    }),
  );
  return (out.taskDefinition as { taskDefinitionArn: string }).taskDefinitionArn;
}

async function runTask(region: string, td: string, ...args: string[]): Promise<CliTask[]> {
  const out = await cli(
    region,
    'run-task',
    '--cluster',
    'net',
    '--task-definition',
    td,
    '--network-configuration',
    NET_CLI(subnetA(region)),
    ...args,
  );
  return out.tasks as CliTask[];
}

async function describeTasks(region: string, tasks: string[]): Promise<CliTask[]> {
  return (await cli(region, 'describe-tasks', '--cluster', 'net', '--tasks', ...tasks)).tasks as CliTask[];
}

const detail = (t: CliTask, name: string) => t.attachments[0]!.details.find((d) => d.name === name)?.value;

beforeAll(async () => {
  aws = await startLocalAws({ steppedClock: true });
});
afterAll(async () => {
  await aws?.stop();
});

describe('the ENI of a task', () => {
  withCli('PRECREATED with only its subnet, ATTACHED with its details, DELETED once STOPPED', async () => {
    await cli('us-east-1', 'create-cluster', '--cluster-name', 'net');
    const td = await register('us-east-1', 'eni');
    const [created] = await runTask('us-east-1', td);
    expect(created!.attachments).toEqual([
      {
        id: expect.any(String),
        type: 'ElasticNetworkInterface',
        status: 'PRECREATED',
        details: [{ name: 'subnetId', value: SUBNET }],
      },
    ]);
    expect(created!.containers[0]!.networkInterfaces).toEqual([]);
    await aws.clock.advance(60 * S);
    const [running] = await describeTasks('us-east-1', [created!.taskArn]);
    expect(running!.lastStatus).toBe('RUNNING');
    expect(running!.attachments[0]!.status).toBe('ATTACHED');
    expect(running!.attachments[0]!.details.map((d) => d.name)).toEqual([
      'subnetId',
      'networkInterfaceId',
      'macAddress',
      'privateDnsName',
      'privateIPv4Address',
    ]);
    const ip = detail(running!, 'privateIPv4Address')!;
    expect(detail(running!, 'privateDnsName')).toBe(`ip-${ip.replace(/\./g, '-')}.ec2.internal`);
    expect(running!.containers[0]!.networkInterfaces).toEqual([
      { attachmentId: expect.any(String), privateIpv4Address: ip },
    ]);
    await cli('us-east-1', 'stop-task', '--cluster', 'net', '--task', created!.taskArn);
    await aws.clock.advance(60 * S);
    const [stopped] = await describeTasks('us-east-1', [created!.taskArn]);
    expect([stopped!.lastStatus, stopped!.attachments[0]!.status]).toEqual(['STOPPED', 'DELETED']);
    expect(detail(stopped!, 'privateIPv4Address')).toBe(ip);
  });

  withCli(
    'a task that never started (its image cannot be pulled) ends with its ENI DELETED too',
    async () => {
      aws.admin.ecs.setUnpullable('public.ecr.aws/gone/');
      const td = await register('us-east-1', 'gone', {
        containerDefinitions: [{ name: 'app', image: 'public.ecr.aws/gone/app:1', essential: true }],
      });
      const [t] = await runTask('us-east-1', td);
      await aws.clock.advance(2 * 60 * S);
      const [stopped] = await describeTasks('us-east-1', [t!.taskArn]);
      expect([stopped!.lastStatus, (stopped as unknown as { stopCode: string }).stopCode]).toEqual([
        'STOPPED',
        'TaskFailedToStart',
      ]);
      expect(stopped!.attachments[0]!.status).toBe('DELETED');
      aws.admin.ecs.clearUnpullable();
    },
  );

  withCli(
    "private IPs: from the subnet's range, never the four first addresses nor the last, never one in use",
    async () => {
      const td = await register('us-east-1', 'ips');
      const arns: string[] = [];
      for (let i = 0; i < 3; i++)
        arns.push(...(await runTask('us-east-1', td, '--count', '10')).map((t) => t.taskArn));
      arns.push(
        ...(
          (
            await cli(
              'us-east-1',
              'run-task',
              '--cluster',
              'net',
              '--task-definition',
              td,
              '--network-configuration',
              NET_CLI(OTHER_SUBNET),
            )
          ).tasks as CliTask[]
        ).map((t) => t.taskArn),
      );
      await aws.clock.advance(60 * S);
      const tasks = await describeTasks('us-east-1', arns);
      const ips = tasks.map((t) => [detail(t, 'subnetId'), detail(t, 'privateIPv4Address')!] as const);
      // The offset of each address in its /20: 172.31.0.0/20 (zone a), 172.31.16.0/20 (zone b).
      const offset = (ip: string) => {
        const [, , third, fourth] = ip.split('.').map(Number);
        return (third! % 16) * 256 + fourth!;
      };
      expect(ips.every(([, ip]) => ip.startsWith('172.31.'))).toBe(true);
      expect(ips.every(([, ip]) => offset(ip) >= 4 && offset(ip) <= 4094)).toBe(true);
      expect(new Set(ips.map(([, ip]) => ip)).size).toBe(ips.length);
      const mine = ips.filter(([subnet]) => subnet === SUBNET).map(([, ip]) => ip);
      expect(mine.every((ip) => Number(ip.split('.')[2]) < 16)).toBe(true);
      // The other subnet's first task gets the first usable address of its own range.
      const other = ips.filter(([subnet]) => subnet === OTHER_SUBNET).map(([, ip]) => ip);
      expect(other).toEqual(['172.31.16.4']);
    },
  );

  withCli.each([
    ['eu-west-1', 'arn:aws:ecs:eu-west-1:', '.eu-west-1.compute.internal'],
    ['cn-north-1', 'arn:aws-cn:ecs:cn-north-1:', '.cn-north-1.compute.internal'],
    ['us-gov-west-1', 'arn:aws-us-gov:ecs:us-gov-west-1:', '.us-gov-west-1.compute.internal'],
  ])("in %s: ARNs in the region's partition, EC2's DNS names for the region", async (region, arn, dns) => {
    const cluster = await cli(region, 'create-cluster', '--cluster-name', 'net');
    expect((cluster.cluster as { clusterArn: string }).clusterArn).toBe(`${arn}000000000000:cluster/net`);
    const td = await register(region, 'eni');
    expect(td.startsWith(`${arn}000000000000:task-definition/eni:`)).toBe(true);
    const [t] = await runTask(region, td);
    expect(t!.taskArn.startsWith(`${arn}000000000000:task/net/`)).toBe(true);
    expect(t!.containers[0]!.containerArn.startsWith(`${arn}000000000000:container/net/`)).toBe(true);
    await aws.clock.advance(60 * S);
    const [running] = await describeTasks(region, [t!.taskArn]);
    expect(running!.clusterArn).toBe(`${arn}000000000000:cluster/net`);
    expect(detail(running!, 'privateDnsName')).toMatch(
      new RegExp(`^ip-172-31-\\d+-\\d+${dns.replace(/\./g, '\\.')}$`),
    );
    // Tags by ARN work in every partition.
    await cli(region, 'tag-resource', '--resource-arn', t!.taskArn, '--tags', 'key=k,value=v');
    expect((await cli(region, 'list-tags-for-resource', '--resource-arn', t!.taskArn)).tags).toEqual([
      { key: 'k', value: 'v' },
    ]);
  });
});

describe('RunTask overrides', () => {
  withCli(
    'the task runs with the size and storage its overrides give; those Fargate has not are refused',
    async () => {
      const td = await register('us-east-1', 'sized');
      const [t] = await runTask(
        'us-east-1',
        td,
        '--overrides',
        JSON.stringify({ cpu: '1024', memory: '3072', ephemeralStorage: { sizeInGiB: 50 } }),
      );
      expect([t!.cpu, t!.memory, t!.ephemeralStorage]).toEqual(['1024', '3072', { sizeInGiB: 50 }]);
      expect(t!.overrides).toMatchObject({
        cpu: '1024',
        memory: '3072',
        ephemeralStorage: { sizeInGiB: 50 },
      });
      const [plain] = await runTask('us-east-1', td);
      expect([plain!.cpu, plain!.memory, plain!.ephemeralStorage]).toEqual(['256', '512', { sizeInGiB: 20 }]);

      const refused = async (overrides: Record<string, unknown>) =>
        cliError(
          await awsCli(aws, [
            'ecs',
            'run-task',
            '--cluster',
            'net',
            '--task-definition',
            td,
            '--network-configuration',
            NET_CLI(),
            '--overrides',
            JSON.stringify(overrides),
          ]),
        ).replace(/^An error occurred \((\w+)\) when calling the RunTask operation: /, '$1: ');
      expect(
        await Promise.all([
          refused({ memory: '4096' }),
          refused({ cpu: '512', memory: '512' }),
          refused({ cpu: '3000' }),
          refused({ ephemeralStorage: { sizeInGiB: 20 } }),
          refused({ ephemeralStorage: { sizeInGiB: 201 } }),
        ]),
      ).toEqual([
        'ClientException: No Fargate configuration exists for given values: 256 CPU, 4096 memory. See the Amazon ECS documentation for the valid values.',
        'ClientException: No Fargate configuration exists for given values: 512 CPU, 512 memory. See the Amazon ECS documentation for the valid values.',
        'ClientException: No Fargate configuration exists for given values: 3000 CPU, 512 memory. See the Amazon ECS documentation for the valid values.',
        'InvalidParameterException: EphemeralStorage size should be at least 21',
        'InvalidParameterException: EphemeralStorage size should be at most 200',
      ]);
    },
  );
});

describe('task definitions', () => {
  const mappings = (...portMappings: Array<Record<string, unknown>>) => ({
    containerDefinitions: [
      { name: 'app', image: 'public.ecr.aws/nginx/nginx:1.27', essential: true, portMappings },
    ],
  });
  withCli.each([
    ['hostPort equal to containerPort', mappings({ containerPort: 80, hostPort: 80 }), undefined],
    ['hostPort blank', mappings({ containerPort: 80 }), undefined],
    [
      'one port for tcp and for udp',
      mappings({ containerPort: 53 }, { containerPort: 53, protocol: 'udp' }),
      undefined,
    ],
    [
      'a hostPort other than the containerPort',
      mappings({ containerPort: 80, hostPort: 8080 }),
      'ClientException: When networkMode=awsvpc, the host ports and container ports in port mappings must match.',
    ],
    [
      'one containerPort twice for tcp',
      mappings({ containerPort: 3000 }, { containerPort: 3000, protocol: 'tcp' }),
      "ClientException: TCP host port '3000' is mapped multiple times in task.",
    ],
    [
      'one port in two containers',
      {
        containerDefinitions: [
          {
            name: 'a',
            image: 'x',
            essential: true,
            portMappings: [{ containerPort: 8080, protocol: 'udp' }],
          },
          {
            name: 'b',
            image: 'x',
            essential: true,
            portMappings: [{ containerPort: 8080, protocol: 'udp' }],
          },
        ],
      },
      "ClientException: UDP host port '8080' is mapped multiple times in task.",
    ],
    [
      'ephemeral storage below 21 GiB',
      { ephemeralStorage: { sizeInGiB: 20 } },
      'ClientException: EphemeralStorage size should be at least 21',
    ],
  ])('awsvpc: %s', async (_, extra, error) => {
    const r = await awsCli(aws, [
      'ecs',
      'register-task-definition',
      '--cli-input-json',
      JSON.stringify({
        family: 'ports',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        ...mappings(),
        ...extra,
      }),
    ]);
    if (error === undefined) expect([r.code, r.stderr]).toEqual([0, '']);
    else
      expect(
        cliError(r).replace(
          /^An error occurred \((\w+)\) when calling the RegisterTaskDefinition operation: /,
          '$1: ',
        ),
      ).toBe(error);
  });
});

describe('platform version', () => {
  withCli('LATEST stays on the service and resolves to 1.4.0 on its deployment and its tasks', async () => {
    const td = await register('us-east-1', 'pv');
    await cli(
      'us-east-1',
      'create-service',
      '--cluster',
      'net',
      '--service-name',
      'pv',
      '--task-definition',
      td,
      '--desired-count',
      '1',
      '--launch-type',
      'FARGATE',
      '--platform-version',
      'LATEST',
      '--network-configuration',
      NET_CLI(),
    );
    await aws.clock.advance(10 * S);
    const [svc] = (await cli('us-east-1', 'describe-services', '--cluster', 'net', '--services', 'pv'))
      .services as Array<{ platformVersion: string; deployments: Array<{ platformVersion: string }> }>;
    expect([svc!.platformVersion, svc!.deployments.map((d) => d.platformVersion)]).toEqual([
      'LATEST',
      ['1.4.0'],
    ]);
    const arns = (await cli('us-east-1', 'list-tasks', '--cluster', 'net', '--service-name', 'pv'))
      .taskArns as string[];
    expect((await describeTasks('us-east-1', arns)).map((t) => t.platformVersion)).toEqual(['1.4.0']);
    const [oneOff] = await runTask('us-east-1', td, '--platform-version', 'LATEST');
    expect(oneOff!.platformVersion).toBe('1.4.0');
  });
});
