// ECS services behind ELBv2 target groups. The AWS CLI v2 judges what CreateService and
// UpdateService refuse in a service's `loadBalancers` (and its health check grace period) and what
// DescribeServices answers; boto3 judges, on a stepped clock, what ECS does with them: a task is
// registered in its target group when it runs, its deployment completes once the target is
// healthy, a revision whose health checks fail is stopped with ECS's reason (after the grace
// period) and rolled back by the circuit breaker, a stopping task drains for the deregistration
// delay, and the target group cannot be deleted while the service exists.
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { jest } from '@jest/globals';
import { buildImage, defaultNetwork, startLocalAws, type LocalAws } from '../src/index.js';
import { awsCli, withCli, type Judged } from './helpers/ecs-judges.js';
import { Boto3Judge, withBoto3, type Boto3Target } from './helpers/query-judges.js';
import { passwordFromToken, RegistryClient } from './helpers/registry-client.js';

jest.setTimeout(180_000);

const S = 1000;
const NET = defaultNetwork();
const GOOD_IMAGE = 'public.ecr.aws/nginx/nginx:1.27';
const TG_ARN = /^arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup\/[\w-]+\/[0-9a-f]{16}$/;

let aws: LocalAws;
let boto: Boto3Judge;
let t: Boto3Target;

const ecs = <T = Record<string, unknown>>(op: string, params: object = {}) =>
  boto.call<T>(t, 'ecs', op, params);
const elb = <T = Record<string, unknown>>(op: string, params: object = {}) =>
  boto.call<T>(t, 'elbv2', op, params);

interface Task {
  taskArn: string;
  taskDefinitionArn: string;
  lastStatus: string;
  desiredStatus: string;
  stopCode?: string;
  stoppedReason?: string;
  attachments: Array<{ details: Array<{ name: string; value: string }> }>;
}
interface Service {
  taskDefinition: string;
  loadBalancers: Array<{ targetGroupArn: string; containerName: string; containerPort: number }>;
  healthCheckGracePeriodSeconds?: number;
  deployments: Array<{
    id: string;
    taskDefinition: string;
    status: string;
    rolloutState: string;
    failedTasks: number;
  }>;
  events: Array<{ message: string }>;
}
type Health = { Target: { Id: string; Port: number }; TargetHealth: { State: string; Reason?: string } };

/** A target group (ip, HTTP 8080, checks every 10 s), behind a new load balancer's listener unless `attach` is false. */
async function targetGroup(
  name: string,
  options: { attach?: boolean; vpcId?: string; subnets?: string[]; type?: string; delay?: number } = {},
): Promise<{ tg: string; listener?: string }> {
  const tg = (
    await elb<{ TargetGroups: Array<{ TargetGroupArn: string }> }>('create_target_group', {
      Name: name,
      Protocol: 'HTTP',
      Port: 8080,
      VpcId: options.vpcId ?? NET.vpcId,
      TargetType: options.type ?? 'ip',
      HealthCheckIntervalSeconds: 10,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
    })
  ).TargetGroups[0]!.TargetGroupArn;
  await elb('modify_target_group_attributes', {
    TargetGroupArn: tg,
    Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(options.delay ?? 20) }],
  });
  if (options.attach === false) return { tg };
  const lb = (
    await elb<{ LoadBalancers: Array<{ LoadBalancerArn: string }> }>('create_load_balancer', {
      Name: `${name}-lb`,
      Subnets: options.subnets ?? NET.subnetIds.slice(0, 2),
    })
  ).LoadBalancers[0]!.LoadBalancerArn;
  const listener = (
    await elb<{ Listeners: Array<{ ListenerArn: string }> }>('create_listener', {
      LoadBalancerArn: lb,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: tg }],
    })
  ).Listeners[0]!.ListenerArn;
  return { tg, listener };
}

/** A Fargate task definition whose container `app` maps 8080 (or `ports`). */
async function register(family: string, image: string, ports = [8080]): Promise<string> {
  const out = await ecs<{ taskDefinition: { taskDefinitionArn: string } }>('register_task_definition', {
    family,
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: [
      {
        name: 'app',
        image,
        essential: true,
        portMappings: ports.map((containerPort) => ({ containerPort })),
      },
    ],
  });
  return out.taskDefinition.taskDefinitionArn;
}

/** Pushes a one-layer image with these labels to local-aws's registry; returns its reference. */
async function pushImage(repository: string, labels: Record<string, string>): Promise<string> {
  const ecr = new ECRClient({ endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials });
  try {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: repository }));
    const token = await ecr.send(new GetAuthorizationTokenCommand({}));
    const registry = new RegistryClient({
      baseUrl: aws.httpUrl,
      auth: { user: 'AWS', password: passwordFromToken(token.authorizationData![0]!.authorizationToken!) },
    });
    const pushed = await registry.pushImage(repository, buildImage([{ size: 128 }], { labels }), 'v1');
    if (pushed.status !== 201) throw new Error(`push failed: ${pushed.status}`);
    return `${aws.registryHost}/${repository}:v1`;
  } finally {
    ecr.destroy();
  }
}

async function service(name: string): Promise<Service> {
  return (await ecs<{ services: Service[] }>('describe_services', { cluster: 'lb', services: [name] }))
    .services[0]!;
}

async function tasks(name: string, desiredStatus = 'RUNNING'): Promise<Task[]> {
  const arns = (
    await ecs<{ taskArns: string[] }>('list_tasks', { cluster: 'lb', serviceName: name, desiredStatus })
  ).taskArns;
  if (arns.length === 0) return [];
  return (await ecs<{ tasks: Task[] }>('describe_tasks', { cluster: 'lb', tasks: arns })).tasks;
}

async function health(tg: string): Promise<Array<[string, string]>> {
  return (
    await elb<{ TargetHealthDescriptions: Health[] }>('describe_target_health', { TargetGroupArn: tg })
  ).TargetHealthDescriptions.map((h) => [`${h.Target.Id}:${h.Target.Port}`, h.TargetHealth.State]);
}

const ipOf = (task: Task) => task.attachments[0]!.details.find((d) => d.name === 'privateIPv4Address')!.value;
const messages = (svc: Service) => svc.events.map((e) => e.message).reverse();
const lbOf = (tg: string, containerPort = 8080, containerName = 'app') => ({
  targetGroupArn: tg,
  containerName,
  containerPort,
});

beforeAll(async () => {
  aws = await startLocalAws({ steppedClock: true });
  boto = new Boto3Judge();
  t = { endpoint: aws.endpoint, credentials: aws.credentials };
  await awsCli(aws, ['ecs', 'create-cluster', '--cluster-name', 'lb']);
});
afterAll(async () => {
  await boto?.close();
  await aws?.stop();
});

describe("a service's loadBalancers, checked as ECS checks them (AWS CLI v2)", () => {
  let td: string;
  let served: string;
  /** What each case gives to create-service (after the common arguments) and ECS's answer. */
  let cases: Array<[string, string[], string | undefined]>;

  const createService = (name: string, extra: string[]): Promise<Judged> =>
    awsCli(aws, [
      'ecs',
      'create-service',
      '--cluster',
      'lb',
      '--service-name',
      name,
      '--task-definition',
      td,
      '--desired-count',
      '0',
      '--network-configuration',
      `awsvpcConfiguration={subnets=[${NET.subnetIds[0]}]}`,
      ...extra,
    ]);

  beforeAll(async () => {
    td = await register('checked', GOOD_IMAGE);
    served = (await targetGroup('served')).tg;
    const lonely = (await targetGroup('lonely', { attach: false })).tg;
    const instances = (await targetGroup('instances', { attach: false, type: 'instance' })).tg;
    const gone = (await targetGroup('gone', { attach: false })).tg;
    await elb('delete_target_group', { TargetGroupArn: gone });
    // A group in another VPC, behind a load balancer there.
    const vpc = aws.admin.ec2.addVpc(aws.accountId, aws.region, '10.7.0.0/16');
    const subnets = ['a', 'b'].map(
      (zone, i) =>
        aws.admin.ec2.addSubnet({
          accountId: aws.accountId,
          region: aws.region,
          vpcId: vpc.vpcId,
          cidrBlock: `10.7.${i}.0/24`,
          availabilityZone: `us-east-1${zone}`,
        }).subnetId,
    );
    const elsewhere = (await targetGroup('elsewhere', { vpcId: vpc.vpcId, subnets })).tg;
    const lb = (arn: string, container = 'app', port = 8080) => [
      '--load-balancers',
      `targetGroupArn=${arn},containerName=${container},containerPort=${port}`,
    ];
    const refused = (message: string) =>
      `An error occurred (InvalidParameterException) when calling the CreateService operation: ${message}`;
    cases = [
      [
        'a container the task definition does not have',
        lb(served, 'web'),
        refused('The container web does not exist in the task definition.'),
      ],
      [
        'a port the container does not map',
        lb(served, 'app', 9090),
        refused('The container app did not have a container port 9090 defined.'),
      ],
      [
        'a target group that does not exist',
        lb(gone),
        refused(
          'Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions.',
        ),
      ],
      [
        'a target group of target type instance',
        lb(instances),
        refused(
          `The provided target group ${instances} has target type instance, which is incompatible with the awsvpc network mode specified in the task definition.`,
        ),
      ],
      [
        'a target group no load balancer uses',
        lb(lonely),
        refused(`The target group with targetGroupArn ${lonely} does not have an associated load balancer.`),
      ],
      [
        'a target group in another VPC',
        lb(elsewhere),
        refused(
          `The target group ${elsewhere} is in VPC ${vpc.vpcId}, but the service's subnets are in VPC ${NET.vpcId}: its tasks could not be registered in it.`,
        ),
      ],
      [
        'a health check grace period without load balancers',
        ['--health-check-grace-period-seconds', '60'],
        refused('Health check grace period is only valid for services configured to use load balancers'),
      ],
      [
        'a health check grace period of 0 without load balancers',
        ['--health-check-grace-period-seconds', '0'],
        undefined,
      ],
    ];
  });

  withCli('every refusal, in ECS words; nothing is created by a refused call', async () => {
    const answers = [];
    for (const [i, [, extra]] of cases.entries()) {
      const r = await createService(`checked-${i}`, extra);
      answers.push(r.code === 0 ? undefined : r.stderr.trim().split('\n').at(-1));
    }
    expect(answers).toEqual(cases.map(([, , expected]) => expected));
    const arns = (await awsCli(aws, ['ecs', 'list-services', '--cluster', 'lb'])).json
      .serviceArns as string[];
    expect(arns.map((a) => a.slice(a.lastIndexOf('/') + 1))).toEqual([`checked-${cases.length - 1}`]);
  });

  withCli('kept and answered: loadBalancers and healthCheckGracePeriodSeconds (0 by default)', async () => {
    const plain = await createService('kept', [
      '--load-balancers',
      `targetGroupArn=${served},containerName=app,containerPort=8080`,
    ]);
    expect(plain.code).toBe(0);
    const graced = await createService('graced-kept', [
      '--load-balancers',
      `targetGroupArn=${served},containerName=app,containerPort=8080`,
      '--health-check-grace-period-seconds',
      '45',
    ]);
    expect(graced.code).toBe(0);
    const described = await awsCli(aws, [
      'ecs',
      'describe-services',
      '--cluster',
      'lb',
      '--services',
      'kept',
      'graced-kept',
    ]);
    const services = described.json.services as Service[];
    expect(services.map((s) => [s.loadBalancers, s.healthCheckGracePeriodSeconds])).toEqual([
      [[lbOf(served)], 0],
      [[lbOf(served)], 45],
    ]);
    expect(services[0]!.loadBalancers[0]!.targetGroupArn).toMatch(TG_ARN);
  });

  withCli("UpdateService checks the service's load balancers against a new task definition", async () => {
    const other = await register('checked', GOOD_IMAGE, [3000]);
    const r = await awsCli(aws, [
      'ecs',
      'update-service',
      '--cluster',
      'lb',
      '--service',
      'kept',
      '--task-definition',
      other,
    ]);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(
      'An error occurred (InvalidParameterException) when calling the UpdateService operation: The container app did not have a container port 8080 defined.',
    );
    const [svc] = (await awsCli(aws, ['ecs', 'describe-services', '--cluster', 'lb', '--services', 'kept']))
      .json.services as Service[];
    expect(svc!.taskDefinition).toBe(td);
  });
});

describe('target health drives the service (boto3, stepped clock)', () => {
  withBoto3(
    'registered when RUNNING, COMPLETED once healthy; a failing revision stopped for its ELB health checks and rolled back; the group held until DeleteService',
    async () => {
      const { tg, listener } = await targetGroup('web');
      const good = await register('web', GOOD_IMAGE);
      const failing = await register('web', await pushImage('web-bad', { 'local-aws.elb-health': 'fail' }));
      const start = aws.clock.now();
      const at = async (seconds: number) => aws.clock.advance(start + seconds * S - aws.clock.now());
      await ecs('create_service', {
        cluster: 'lb',
        serviceName: 'web',
        taskDefinition: good,
        desiredCount: 1,
        networkConfiguration: { awsvpcConfiguration: { subnets: NET.subnetIds.slice(0, 2) } },
        loadBalancers: [lbOf(tg)],
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      });

      // RUNNING at 31 s and registered; the first health check is one interval (10 s) later.
      await at(35);
      const [first] = await tasks('web');
      expect(first!.lastStatus).toBe('RUNNING');
      expect(await health(tg)).toEqual([[`${ipOf(first!)}:8080`, 'initial']]);
      expect((await service('web')).deployments.map((d) => d.rolloutState)).toEqual(['IN_PROGRESS']);
      await at(45);
      expect(await health(tg)).toEqual([[`${ipOf(first!)}:8080`, 'healthy']]);
      await at(70);
      let svc = await service('web');
      expect(svc.deployments.map((d) => d.rolloutState)).toEqual(['COMPLETED']);
      expect(messages(svc)).toEqual([
        `(service web) has started 1 tasks: (task ${first!.taskArn.split('/').pop()}).`,
        `(service web) registered 1 targets in (target-group ${tg})`,
        expect.stringMatching(/^\(service web\) \(deployment ecs-svc\/\d+\) deployment completed\.$/),
        '(service web) has reached a steady state.',
      ]);

      // A revision whose target fails: unhealthy after 2 failed checks (20 s), stopped at once.
      await ecs('update_service', { cluster: 'lb', service: 'web', taskDefinition: failing });
      await at(70 + 31 + 15);
      const [bad] = (await tasks('web')).filter((x) => x.taskDefinitionArn === failing);
      expect((await health(tg)).sort()).toEqual(
        [
          [`${ipOf(first!)}:8080`, 'healthy'],
          [`${ipOf(bad!)}:8080`, 'initial'],
        ].sort(),
      );
      await at(70 + 31 + 25);
      const [stopping] = (
        await ecs<{ tasks: Task[] }>('describe_tasks', { cluster: 'lb', tasks: [bad!.taskArn] })
      ).tasks;
      expect(stopping).toMatchObject({
        lastStatus: 'DEACTIVATING',
        desiredStatus: 'STOPPED',
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason: `Task failed ELB health checks in (target-group ${tg})`,
      });
      // It drains for the group's deregistration delay (20 s) while DEACTIVATING.
      expect(await health(tg)).toContainEqual([`${ipOf(bad!)}:8080`, 'draining']);
      await at(70 + 31 + 20 + 19);
      expect(
        (await ecs<{ tasks: Task[] }>('describe_tasks', { cluster: 'lb', tasks: [bad!.taskArn] })).tasks[0]!
          .lastStatus,
      ).toBe('DEACTIVATING');
      await at(70 + 31 + 20 + 21);
      expect(
        (await ecs<{ tasks: Task[] }>('describe_tasks', { cluster: 'lb', tasks: [bad!.taskArn] })).tasks[0]!
          .lastStatus,
      ).toBe('STOPPING');
      svc = await service('web');
      const id = bad!.taskArn.split('/').pop();
      const unhealthy = messages(svc).findIndex((m) => m.includes(`(task ${id}) (port 8080) is unhealthy`));
      expect(messages(svc).slice(unhealthy, unhealthy + 4)).toEqual([
        `(service web) (task ${id}) (port 8080) is unhealthy in (target-group ${tg}) due to (reason Health checks failed).`,
        `(service web) has stopped 1 running tasks: (task ${id}).`,
        `(service web) deregistered 1 targets in (target-group ${tg})`,
        expect.stringMatching(
          /^\(service web, taskSet ecs-svc\/\d+\) has begun draining connections on 1 tasks\.$/,
        ),
      ]);

      // Three failed tasks trip the breaker; it rolls back to the first revision, which completes.
      await at(600);
      svc = await service('web');
      expect(svc.taskDefinition).toBe(good);
      expect(svc.deployments.map((d) => [d.taskDefinition, d.status, d.rolloutState])).toEqual([
        [good, 'PRIMARY', 'COMPLETED'],
      ]);
      expect(messages(svc)).toContainEqual(
        expect.stringMatching(
          /^\(service web\) \(deployment ecs-svc\/\d+\) deployment failed: tasks failed to start\.$/,
        ),
      );
      const stopped = await tasks('web', 'STOPPED');
      // Three stopped for their health checks (the breaker's threshold); a fourth, not yet checked
      // when the breaker rolled back, for the rollback.
      const reasons = stopped
        .filter((x) => x.taskDefinitionArn === failing)
        .map((x) => `${x.stopCode}: ${x.stoppedReason}`)
        .sort();
      expect(reasons).toEqual([
        `ServiceSchedulerInitiated: Scaling activity initiated by (deployment ${svc.deployments[0]!.id})`,
        ...Array(3).fill(`ServiceSchedulerInitiated: Task failed ELB health checks in (target-group ${tg})`),
      ]);
      expect(await health(tg)).toEqual([[`${ipOf(first!)}:8080`, 'healthy']]);

      // The group is held by the service: without its listener, only the service holds it.
      await elb('delete_listener', { ListenerArn: listener });
      const inUse = await boto.error(t, 'elbv2', 'delete_target_group', { TargetGroupArn: tg });
      expect([inUse.Code, inUse.Message]).toEqual([
        'ResourceInUse',
        `Target group '${tg}' is currently in use by a listener or a rule`,
      ]);
      await ecs('delete_service', { cluster: 'lb', service: 'web', force: true });
      await elb('delete_target_group', { TargetGroupArn: tg });
      const gone = await boto.error(t, 'elbv2', 'describe_target_groups', { TargetGroupArns: [tg] });
      expect(gone.Code).toBe('TargetGroupNotFound');
    },
  );

  withBoto3('a failing target is left alone during the grace period and stopped when it ends', async () => {
    const { tg } = await targetGroup('graced');
    const failing = await register('graced', await pushImage('graced-bad', { 'local-aws.health': 'fail' }));
    const start = aws.clock.now();
    const at = async (seconds: number) => aws.clock.advance(start + seconds * S - aws.clock.now());
    await ecs('create_service', {
      cluster: 'lb',
      serviceName: 'graced',
      taskDefinition: failing,
      desiredCount: 1,
      networkConfiguration: { awsvpcConfiguration: { subnets: [NET.subnetIds[0]] } },
      loadBalancers: [lbOf(tg)],
      healthCheckGracePeriodSeconds: 120,
    });
    // RUNNING at 31 s, unhealthy at 51 s (two failed checks), stopped at 151 s (31 + 120).
    await at(60);
    const [task] = await tasks('graced');
    expect(await health(tg)).toEqual([[`${ipOf(task!)}:8080`, 'unhealthy']]);
    await at(150);
    expect((await tasks('graced')).map((x) => [x.taskArn, x.lastStatus, x.desiredStatus])).toContainEqual([
      task!.taskArn,
      'RUNNING',
      'RUNNING',
    ]);
    await at(152);
    const [after] = (
      await ecs<{ tasks: Task[] }>('describe_tasks', { cluster: 'lb', tasks: [task!.taskArn] })
    ).tasks;
    expect([after!.desiredStatus, after!.stoppedReason]).toEqual([
      'STOPPED',
      `Task failed ELB health checks in (target-group ${tg})`,
    ]);
  });
});
