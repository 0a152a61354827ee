// ecs-deploy-fargate end to end behind a load balancer: dist/ecs-deploy-fargate creates a service
// with `load-balancer: <target group ARN> app:8080` on a target group made with the ELBv2 SDK, the
// rollout completes once the task is healthy in it, and a revision whose health checks fail is
// stopped by ECS with its ELB reason — the step fails saying so, and the service is rolled back.
// One local-aws on a 60× clock.
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeTasksCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { jest } from '@jest/globals';
import { defaultNetwork } from '@aws-containers/local-aws';
import { SUBNET, startEcsWorld, taskDefinition, type EcsWorld } from './helpers/ecs-deploy.js';
import { refusedCalls } from './helpers/policies.js';

jest.setTimeout(90_000);

const cluster = 'behind-lb';
let w: EcsWorld;
let elb: ElasticLoadBalancingV2Client;
let targetGroupArn: string;

beforeAll(async () => {
  w = await startEcsWorld(60);
  await w.createCluster(cluster);
  elb = new ElasticLoadBalancingV2Client({
    endpoint: w.aws.endpoint,
    region: w.aws.region,
    credentials: w.aws.credentials,
  });
  const net = defaultNetwork();
  const group = await elb.send(
    new CreateTargetGroupCommand({
      Name: 'web',
      Protocol: 'HTTP',
      Port: 8080,
      VpcId: net.vpcId,
      TargetType: 'ip',
      HealthCheckIntervalSeconds: 10,
      UnhealthyThresholdCount: 2,
    }),
  );
  targetGroupArn = group.TargetGroups![0]!.TargetGroupArn!;
  await elb.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: targetGroupArn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '10' }],
    }),
  );
  const lb = await elb.send(
    new CreateLoadBalancerCommand({ Name: 'web', Subnets: net.subnetIds.slice(0, 2) }),
  );
  await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: lb.LoadBalancers![0]!.LoadBalancerArn!,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
    }),
  );
});
// Each action ran under its published policies: nothing it called may have been refused.
afterEach(() => expect(refusedCalls(w.aws)).toEqual([]));
afterAll(async () => {
  elb?.destroy();
  await w?.stop();
});

/** The private IPs of the service's running tasks. */
async function taskIps(service: string): Promise<string[]> {
  const arns = (await w.ecs.send(new ListTasksCommand({ cluster, serviceName: service }))).taskArns ?? [];
  if (arns.length === 0) return [];
  const tasks = (await w.ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }))).tasks ?? [];
  return tasks.map(
    (t) => t.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value ?? '',
  );
}

test('created behind the target group, rolled out once healthy; a revision failing its ELB health checks is stopped, reported and rolled back', async () => {
  const good = await w.push('lb/web', 'good');
  const failing = await w.push('lb/web', 'unhealthy', { 'local-aws.elb-health': 'fail' });
  const created = await w.deploy({
    cluster,
    service: 'web',
    'task-definition': taskDefinition('lb-web', [
      { name: 'app', image: good, portMappings: [{ containerPort: 8080 }] },
    ]),
    'create-service': 'true',
    subnets: SUBNET,
    'load-balancer': `${targetGroupArn} app:8080`,
  });
  expect(created.errors).toEqual([]);
  expect(created.outputs['rollout-state']).toBe('COMPLETED');
  const first = created.outputs['task-definition-arn'];
  const service = await w.service(cluster, 'web');
  expect(service.loadBalancers).toEqual([{ targetGroupArn, containerName: 'app', containerPort: 8080 }]);
  const [ip] = await taskIps('web');
  const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  expect(
    health.TargetHealthDescriptions?.map((d) => [d.Target?.Id, d.Target?.Port, d.TargetHealth?.State]),
  ).toEqual([[ip, 8080, 'healthy']]);
  expect(created.stdout).toContain(`(service web) registered 1 targets in (target-group ${targetGroupArn})`);

  const broken = await w.deploy({ cluster, service: 'web', image: failing });
  expect(broken.exitCode).toBe(1);
  expect(broken.errors).toHaveLength(1);
  expect(broken.errors[0]).toContain(`Task failed ELB health checks in (target-group ${targetGroupArn})`);
  expect(broken.outputs['rolled-back']).toBe('true');
  expect(broken.stdout).toMatch(
    new RegExp(
      `\\(service web\\) \\(task [0-9a-f]{32}\\) \\(port 8080\\) is unhealthy in \\(target-group ${targetGroupArn.replace(/[./]/g, '\\$&')}\\) due to \\(reason Health checks failed\\)\\.`,
    ),
  );
  const after = await w.service(cluster, 'web');
  expect(after.taskDefinition).toBe(first);
  expect(after.deployments?.find((d) => d.status === 'PRIMARY')?.rolloutState).toBe('COMPLETED');
});
