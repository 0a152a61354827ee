// ECS on EC2's network, read back with the AWS CLI v2: a task's network interface is EC2's (its
// private IP from the subnet's range, a public IP only with assignPublicIp ENABLED, its security
// groups, gone once the task is STOPPED), a service's tasks spread over its subnets' zones, and a
// network configuration EC2 does not have is refused as ECS refuses it — moto_server words the two
// refusals it checks the same way.
import { jest } from '@jest/globals';
import { defaultNetwork, startLocalAws, type LocalAws } from '../src/index.js';
import { awsCli, withCli, type Judged } from './helpers/ecs-judges.js';
import { Boto3Judge, startMoto, withMoto } from './helpers/query-judges.js';

jest.setTimeout(120_000);

const S = 1000;
const NET = defaultNetwork();
const TD = {
  family: 'net',
  requiresCompatibilities: ['FARGATE'],
  networkMode: 'awsvpc',
  cpu: '256',
  memory: '512',
  containerDefinitions: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:1.27', essential: true }],
};

let aws: LocalAws;
/** A second VPC with a subnet and a security group of its own, which tasks of the default VPC cannot mix with. */
let other: { vpcId: string; subnetId: string; securityGroupId: string };

interface CliTask {
  taskArn: string;
  lastStatus: string;
  availabilityZone: string;
  attachments: Array<{ id: string; status: string; details: Array<{ name: string; value: string }> }>;
}
interface CliInterface {
  NetworkInterfaceId: string;
  PrivateIpAddress: string;
  SubnetId: string;
  VpcId: string;
  AvailabilityZone: string;
  Groups: Array<{ GroupId: string; GroupName: string }>;
  Association?: { PublicIp: string; PublicDnsName: string };
  Description: string;
  InterfaceType: string;
  RequesterManaged: boolean;
  RequesterId: string;
  Status: string;
  Attachment: { Status: string; DeviceIndex: number };
}

async function cli(...args: string[]): Promise<Record<string, unknown>> {
  const r = await awsCli(aws, args);
  if (r.code !== 0) throw new Error(`aws ${args.join(' ')}: ${r.stderr}`);
  return r.json;
}

function cliError(r: Judged): string {
  expect(r.code).not.toBe(0);
  return r.stderr.trim().split('\n').at(-1)!;
}

const detail = (t: CliTask, name: string) => t.attachments[0]!.details.find((d) => d.name === name)?.value;

async function describeTask(arn: string): Promise<CliTask> {
  return ((await cli('ecs', 'describe-tasks', '--cluster', 'net', '--tasks', arn)).tasks as CliTask[])[0]!;
}

beforeAll(async () => {
  aws = await startLocalAws({ steppedClock: true });
  const vpc = aws.admin.ec2.addVpc(aws.accountId, aws.region, '10.9.0.0/16');
  const subnet = aws.admin.ec2.addSubnet({
    accountId: aws.accountId,
    region: aws.region,
    vpcId: vpc.vpcId,
    cidrBlock: '10.9.1.0/24',
  });
  const group = aws.admin.ec2.addSecurityGroup({
    accountId: aws.accountId,
    region: aws.region,
    vpcId: vpc.vpcId,
    groupName: 'other',
    description: 'in the other VPC',
  });
  other = { vpcId: vpc.vpcId, subnetId: subnet.subnetId, securityGroupId: group.groupId };
  await cli('ecs', 'create-cluster', '--cluster-name', 'net');
  await cli('ecs', 'register-task-definition', '--cli-input-json', JSON.stringify(TD));
});
afterAll(async () => {
  await aws?.stop();
});

describe("a task's network interface is EC2's", () => {
  const web = () => {
    const group = aws.admin.ec2.addSecurityGroup({
      accountId: aws.accountId,
      region: aws.region,
      groupName: `web-${Math.random().toString(36).slice(2, 8)}`,
      description: 'web tasks',
    });
    return group.groupId;
  };
  withCli.each([
    ['assignPublicIp DISABLED, no security group: the VPC default one, no public IP', 'DISABLED', false],
    ['assignPublicIp ENABLED and a security group: that group and a public IP', 'ENABLED', true],
  ])('%s', async (_, assignPublicIp, ownGroup) => {
    const groups = ownGroup ? [web()] : [];
    const network = `awsvpcConfiguration={subnets=[${NET.subnetIds[1]}],assignPublicIp=${assignPublicIp}${groups.length ? `,securityGroups=[${groups.join(',')}]` : ''}}`;
    const run = await cli(
      'ecs',
      'run-task',
      '--cluster',
      'net',
      '--task-definition',
      'net',
      '--network-configuration',
      network,
    );
    const arn = (run.tasks as CliTask[])[0]!.taskArn;
    await aws.clock.advance(60 * S);
    const task = await describeTask(arn);
    expect(task.lastStatus).toBe('RUNNING');
    const eniId = detail(task, 'networkInterfaceId')!;
    const [eni] = (await cli('ec2', 'describe-network-interfaces', '--network-interface-ids', eniId))
      .NetworkInterfaces as CliInterface[];
    expect(eni).toMatchObject({
      NetworkInterfaceId: eniId,
      PrivateIpAddress: detail(task, 'privateIPv4Address'),
      SubnetId: NET.subnetIds[1],
      VpcId: NET.vpcId,
      AvailabilityZone: task.availabilityZone,
      Groups: ownGroup
        ? [{ GroupId: groups[0], GroupName: expect.stringMatching(/^web-/) }]
        : [{ GroupId: NET.securityGroupId, GroupName: 'default' }],
      Description: `arn:aws:ecs:us-east-1:000000000000:attachment/${task.attachments[0]!.id}`,
      InterfaceType: 'interface',
      RequesterManaged: true,
      Status: 'in-use',
      Attachment: { Status: 'attached', DeviceIndex: 1 },
    });
    expect(task.availabilityZone).toBe('us-east-1b');
    // Zone b's default subnet is 172.31.16.0/20; its first four addresses are AWS's.
    expect(eni!.PrivateIpAddress).toMatch(/^172\.31\.(1[6-9]|2\d|3[01])\.\d+$/);
    if (assignPublicIp === 'ENABLED') expect(eni!.Association?.PublicIp).toMatch(/^198\.1[89]\.\d+\.\d+$/);
    else expect(eni!.Association).toBeUndefined();
    // The network-interface-id filter finds it as well.
    const filtered = await cli(
      'ec2',
      'describe-network-interfaces',
      '--filters',
      `Name=addresses.private-ip-address,Values=${eni!.PrivateIpAddress}`,
    );
    expect((filtered.NetworkInterfaces as CliInterface[]).map((i) => i.NetworkInterfaceId)).toEqual([eniId]);

    await cli('ecs', 'stop-task', '--cluster', 'net', '--task', arn);
    await aws.clock.advance(60 * S);
    const stopped = await describeTask(arn);
    expect([stopped.lastStatus, stopped.attachments[0]!.status]).toEqual(['STOPPED', 'DELETED']);
    const gone = await awsCli(aws, ['ec2', 'describe-network-interfaces', '--network-interface-ids', eniId]);
    expect(cliError(gone)).toBe(
      `An error occurred (InvalidNetworkInterfaceID.NotFound) when calling the DescribeNetworkInterfaces operation: The networkInterface ID '${eniId}' does not exist`,
    );
  });

  withCli("a service's tasks spread over the zones of its subnets", async () => {
    await cli(
      'ecs',
      'create-service',
      '--cluster',
      'net',
      '--service-name',
      'spread',
      '--task-definition',
      'net',
      '--desired-count',
      '3',
      '--network-configuration',
      `awsvpcConfiguration={subnets=[${NET.subnetIds.slice(0, 3).join(',')}]}`,
    );
    await aws.clock.advance(60 * S);
    const arns = (await cli('ecs', 'list-tasks', '--cluster', 'net', '--service-name', 'spread'))
      .taskArns as string[];
    const tasks = (await cli('ecs', 'describe-tasks', '--cluster', 'net', '--tasks', ...arns))
      .tasks as CliTask[];
    const placed = tasks.map((t) => [t.availabilityZone, detail(t, 'subnetId')]).sort();
    expect(placed).toEqual([
      ['us-east-1a', NET.subnetIds[0]],
      ['us-east-1b', NET.subnetIds[1]],
      ['us-east-1c', NET.subnetIds[2]],
    ]);
  });
});

describe('a network configuration EC2 does not have is refused', () => {
  const CASES: Array<[string, () => string, (op: string) => string]> = [
    [
      'a subnet that does not exist',
      () => 'awsvpcConfiguration={subnets=[subnet-0123456789abcdef0]}',
      (op) =>
        `An error occurred (InvalidParameterException) when calling the ${op} operation: Error retrieving subnet information for [subnet-0123456789abcdef0]: The subnet ID 'subnet-0123456789abcdef0' does not exist (ErrorCode: InvalidSubnetID.NotFound)`,
    ],
    [
      'a security group that does not exist',
      () => `awsvpcConfiguration={subnets=[${NET.subnetIds[0]}],securityGroups=[sg-0123456789abcdef0]}`,
      (op) =>
        `An error occurred (InvalidParameterException) when calling the ${op} operation: Error retrieving security group information for [sg-0123456789abcdef0]: The security group 'sg-0123456789abcdef0' does not exist (ErrorCode: InvalidGroup.NotFound)`,
    ],
    [
      'a security group id that is not one',
      () => `awsvpcConfiguration={subnets=[${NET.subnetIds[0]}],securityGroups=[default]}`,
      (op) =>
        `An error occurred (InvalidParameterException) when calling the ${op} operation: Error retrieving security group information for [default]: Invalid id: "default" (expecting "sg-...") (ErrorCode: InvalidGroupId.Malformed)`,
    ],
    [
      'subnets of two VPCs',
      () => `awsvpcConfiguration={subnets=[${NET.subnetIds[0]},${other.subnetId}]}`,
      (op) =>
        `An error occurred (InvalidParameterException) when calling the ${op} operation: The subnets [${NET.subnetIds[0]}, ${other.subnetId}] belong to different VPCs (${NET.vpcId}, ${other.vpcId}): all the subnets of a task must be in one VPC.`,
    ],
    [
      'a security group of another VPC',
      () => `awsvpcConfiguration={subnets=[${NET.subnetIds[0]}],securityGroups=[${other.securityGroupId}]}`,
      (op) =>
        `An error occurred (InvalidParameterException) when calling the ${op} operation: Security group ${other.securityGroupId} and subnet ${NET.subnetIds[0]} belong to different networks.`,
    ],
  ];
  withCli.each(CASES)('%s: CreateService and RunTask', async (_, network, message) => {
    const created = await awsCli(aws, [
      'ecs',
      'create-service',
      '--cluster',
      'net',
      '--service-name',
      'refused',
      '--task-definition',
      'net',
      '--desired-count',
      '1',
      '--network-configuration',
      network(),
    ]);
    expect(cliError(created)).toBe(message('CreateService'));
    const run = await awsCli(aws, [
      'ecs',
      'run-task',
      '--cluster',
      'net',
      '--task-definition',
      'net',
      '--network-configuration',
      network(),
    ]);
    expect(cliError(run)).toBe(message('RunTask'));
  });

  withCli('nothing was created by the refused calls', async () => {
    const services = (await cli('ecs', 'list-services', '--cluster', 'net')).serviceArns as string[];
    expect(services.some((arn) => arn.endsWith('/refused'))).toBe(false);
  });

  withMoto(
    "moto_server refuses a missing subnet and a missing security group in ECS's words too",
    async () => {
      const moto = await startMoto();
      const boto3 = new Boto3Judge();
      try {
        const targets = [
          { endpoint: moto.endpoint, credentials: aws.credentials },
          { endpoint: aws.endpoint, credentials: aws.credentials },
        ];
        const answers = [];
        for (const target of targets) {
          await boto3.call(target, 'ecs', 'create_cluster', { clusterName: 'moto' });
          await boto3.call(target, 'ecs', 'register_task_definition', TD);
          // moto's subnets are its own: the default VPC it makes per region.
          const subnets = (
            await boto3.call<{ Subnets: Array<{ SubnetId: string }> }>(target, 'ec2', 'describe_subnets')
          ).Subnets.map((s) => s.SubnetId);
          const create = (awsvpcConfiguration: Record<string, unknown>) =>
            boto3.error(target, 'ecs', 'create_service', {
              cluster: 'moto',
              serviceName: 'web',
              taskDefinition: 'net',
              desiredCount: 1,
              networkConfiguration: { awsvpcConfiguration },
            });
          answers.push([
            await create({ subnets: ['subnet-0123456789abcdef0'] }),
            await create({ subnets: [subnets[0]!], securityGroups: ['sg-0123456789abcdef0'] }),
          ]);
        }
        expect(answers[1]).toEqual(answers[0]);
        expect(answers[0]!.map((e) => e.Code)).toEqual([
          'InvalidParameterException',
          'InvalidParameterException',
        ]);
      } finally {
        await boto3.close();
        moto.stop();
      }
    },
  );
});
