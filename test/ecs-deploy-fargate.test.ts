// ecs-deploy-fargate end to end: dist/ecs-deploy-fargate/index.js, as the runner runs it, against
// local-aws's ECS simulation on a 60× clock (a minute of ECS per second). What the step did is
// checked in its outputs, log and errors, and in what local-aws holds afterwards.
//
// The tests of one `describe` share a service and run in order: each starts from what the one
// before left.
import { DescribeTasksCommand, ListTasksCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { jest } from '@jest/globals';
import {
  ACCOUNT_ARN,
  NGINX,
  SECURITY_GROUP,
  SUBNET,
  groupOf,
  mutations,
  startEcsWorld,
  taskDefinition,
  type EcsWorld,
} from './helpers/ecs-deploy.js';
import { refusedCalls } from './helpers/policies.js';

jest.setTimeout(60_000);

let w: EcsWorld;

beforeAll(async () => {
  w = await startEcsWorld(60);
});
// Each action ran under its published policies: nothing it called may have been refused.
afterEach(() => expect(refusedCalls(w.aws)).toEqual([]));
afterAll(async () => {
  await w?.stop();
});

const tdArn = (family: string, revision: number) => `${ACCOUNT_ARN}:task-definition/${family}:${revision}`;

describe('one service through its life', () => {
  const cluster = 'life';
  let v1: string;
  let v2: string;
  let firstDeployment: string;

  beforeAll(async () => {
    await w.createCluster(cluster);
    v1 = await w.push('life/web', 'v1');
    v2 = await w.push('life/web', 'v2');
  });

  test('creates the service from a task definition file and follows the rollout to COMPLETED', async () => {
    const file = w.file(
      'life-web.json',
      taskDefinition('life-web', [{ name: 'app', image: v1, portMappings: [{ containerPort: 8080 }] }]),
    );
    const mark = w.mark();
    const run = await w.deploy({
      cluster,
      service: 'web',
      'task-definition': file,
      'create-service': 'true',
      subnets: SUBNET,
      'security-groups': SECURITY_GROUP,
      'assign-public-ip': 'true',
      'desired-count': '2',
    });
    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({
      'task-definition-arn': tdArn('life-web', 1),
      'task-definition-revision': '1',
      'service-arn': `${ACCOUNT_ARN}:service/${cluster}/web`,
      'rollout-state': 'COMPLETED',
      'rolled-back': 'false',
    });
    firstDeployment = run.outputs['deployment-id'] ?? '';
    expect(firstDeployment).toMatch(/^ecs-svc\/\d+$/);

    expect(run.stdout).toContain('web: does not exist yet: it will be created');
    expect(run.stdout).toContain(`created web: deployment ${firstDeployment}`);
    // The service events, streamed inside the service's group as they happened.
    const deployLog = groupOf(run.stdout, 'Deploy web');
    expect(deployLog).toMatch(/Z \(service web\) has started 2 tasks: /);
    expect(deployLog).toMatch(/Z \(service web\) \(deployment ecs-svc\/\d+\) deployment completed\./);
    expect(deployLog.indexOf('has started 2 tasks')).toBeLessThan(deployLog.indexOf('deployment completed'));
    expect(deployLog).toContain(
      `Deployment ${firstDeployment} completed: 2 of 2 tasks of life-web:1 running`,
    );

    expect(run.summary).toContain('family life-web: first revision');
    expect(run.summary).toContain(
      '<td>web</td><td>' + firstDeployment + '</td><td>COMPLETED</td><td>NONE</td><td>no</td>',
    );
    expect(run.summary).toMatch(/web: service events \(\d+\)/);
    expect(run.summary).toContain('has reached a steady state.');

    const service = await w.service(cluster, 'web');
    expect(service).toMatchObject({
      status: 'ACTIVE',
      taskDefinition: tdArn('life-web', 1),
      desiredCount: 2,
      runningCount: 2,
      launchType: 'FARGATE',
      propagateTags: 'TASK_DEFINITION',
      enableExecuteCommand: false,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: [SUBNET],
          securityGroups: [SECURITY_GROUP],
          assignPublicIp: 'ENABLED',
        },
      },
      deploymentConfiguration: expect.objectContaining({
        deploymentCircuitBreaker: { enable: true, rollback: true },
      }),
    });
    expect(service.deployments).toEqual([
      expect.objectContaining({ id: firstDeployment, status: 'PRIMARY', rolloutState: 'COMPLETED' }),
    ]);
    expect(mutations(w.ecsCalls(mark))).toEqual(['RegisterTaskDefinition', 'CreateService']);
  });

  test('without a file, renders what the service runs with only the image changed', async () => {
    const before = (await w.taskDefinition(tdArn('life-web', 1))).taskDefinition;
    const mark = w.mark();
    const run = await w.deploy({ cluster, service: 'web', image: v2 });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({
      'task-definition-arn': tdArn('life-web', 2),
      'task-definition-revision': '2',
      'rollout-state': 'COMPLETED',
      'rolled-back': 'false',
    });
    expect(run.outputs['deployment-id']).not.toBe(firstDeployment);
    // The diff is the image and nothing else, in the log and in the summary.
    expect(run.stdout).toContain(
      `Changes from ${tdArn('life-web', 1)}:\n  containerDefinitions[app].image: ${v1} → ${v2}\n::group::`,
    );
    expect(run.summary).toContain('Task definition changes from life-web:1 (1)');
    expect(run.summary).toContain(`containerDefinitions[app].image: ${v1} → ${v2}`);
    expect(groupOf(run.stdout, 'Deploy web')).toMatch(/has stopped \d+ running tasks/);

    const after = (await w.taskDefinition(tdArn('life-web', 2))).taskDefinition;
    expect(after.containerDefinitions).toEqual(
      before.containerDefinitions?.map((c) => ({ ...c, image: v2 })),
    );
    expect([after.cpu, after.memory, after.networkMode]).toEqual([
      before.cpu,
      before.memory,
      before.networkMode,
    ]);

    const service = await w.service(cluster, 'web');
    expect(service.taskDefinition).toBe(tdArn('life-web', 2));
    expect(service.deployments).toEqual([
      expect.objectContaining({
        id: run.outputs['deployment-id'],
        status: 'PRIMARY',
        rolloutState: 'COMPLETED',
        runningCount: 2,
      }),
    ]);
    expect(mutations(w.ecsCalls(mark))).toEqual(['RegisterTaskDefinition', 'UpdateService']);
  });

  test('an identical re-run registers nothing and starts no deployment', async () => {
    const deployment = (await w.service(cluster, 'web')).deployments?.[0]?.id;
    const mark = w.mark();
    const run = await w.deploy({ cluster, service: 'web', image: v2 });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({
      'task-definition-arn': tdArn('life-web', 2),
      'task-definition-revision': '2',
      'deployment-id': deployment,
      'rollout-state': 'COMPLETED',
      'rolled-back': 'false',
    });
    expect(run.stdout).toContain('No change to the task definition');
    expect(run.stdout).toContain(
      `${tdArn('life-web', 2)} (which the service runs) already has this definition: nothing registered`,
    );
    expect(run.stdout).toContain('web already runs life-web:2, every task running: nothing to do');
    expect(w.ecsCalls(mark)).not.toContain('RegisterTaskDefinition');
    expect(mutations(w.ecsCalls(mark))).toEqual([]);
    expect(await w.revisions('life-web')).toHaveLength(2);
  });

  test('dry-run renders and diffs, and changes nothing', async () => {
    const mark = w.mark();
    const run = await w.deploy({ cluster, service: 'web', image: NGINX, 'dry-run': 'true' });
    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`containerDefinitions[app].image: ${v2} → ${NGINX}`);
    expect(run.stdout).toContain(
      'dry-run: would register a new revision of life-web and deploy it to web; nothing was changed',
    );
    expect(run.summary).toContain(
      'Dry run: rendered, compared and validated; nothing was registered or deployed.',
    );
    expect(run.outputs['rolled-back']).toBe('false');
    expect(run.outputs['deployment-id']).toBeUndefined();
    const calls = w.ecsCalls(mark);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((op) => !/^(Describe|List)/.test(op))).toEqual([]);
    expect(await w.revisions('life-web')).toHaveLength(2);
    expect((await w.service(cluster, 'web')).taskDefinition).toBe(tdArn('life-web', 2));
  });

  test('renders raw describe-task-definition output (read-only members dropped); values keep their "="', async () => {
    const described = await w.taskDefinition(tdArn('life-web', 2));
    const file = w.file('described.json', JSON.stringify(described, null, 2));
    const run = await w.deploy({
      cluster,
      service: 'web',
      'task-definition': file,
      environment: 'GREETING=a=b\nEMPTY=',
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ 'task-definition-revision': '3', 'rollout-state': 'COMPLETED' });
    const registered = (await w.taskDefinition(tdArn('life-web', 3))).taskDefinition;
    expect(registered.containerDefinitions?.[0]).toMatchObject({
      image: v2,
      environment: [
        { name: 'GREETING', value: 'a=b' },
        { name: 'EMPTY', value: '' },
      ],
    });
    expect(run.stdout).toContain('containerDefinitions[app].environment');
  });

  test('renders from task-definition-family family:revision, not from what the service runs', async () => {
    const v3 = await w.push('life/web', 'v3');
    const run = await w.deploy({
      cluster,
      service: 'web',
      'task-definition-family': 'life-web:1',
      image: v3,
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ 'task-definition-revision': '4', 'rollout-state': 'COMPLETED' });
    const registered = (await w.taskDefinition(tdArn('life-web', 4))).taskDefinition;
    expect(registered.containerDefinitions?.[0]?.image).toBe(v3);
    // Revision 1 had no environment: the base was the revision named, not the service's (3).
    expect(registered.containerDefinitions?.[0]?.environment ?? []).toEqual([]);
    // The diff is against what the service ran.
    expect(run.stdout).toContain(`Changes from ${tdArn('life-web', 3)}:`);
    expect((await w.service(cluster, 'web')).taskDefinition).toBe(tdArn('life-web', 4));
  });
  test('force-new-deployment with nothing changed: a new deployment of the same revision, followed', async () => {
    const before = await w.service(cluster, 'web');
    const mark = w.mark();
    const run = await w.deploy({ cluster, service: 'web', 'force-new-deployment': 'true' });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ 'task-definition-revision': '4', 'rollout-state': 'COMPLETED' });
    expect(run.outputs['deployment-id']).not.toBe(before.deployments?.[0]?.id);
    expect(run.stdout).toContain('nothing registered');
    expect(mutations(w.ecsCalls(mark))).toEqual(['UpdateService']);
    expect((await w.service(cluster, 'web')).deployments).toEqual([
      expect.objectContaining({ id: run.outputs['deployment-id'], rolloutState: 'COMPLETED' }),
    ]);
  });

  test('desired-count alone starts no deployment: followed until the new tasks run, old events not repeated', async () => {
    const before = await w.service(cluster, 'web');
    const mark = w.mark();
    const run = await w.deploy({ cluster, service: 'web', 'desired-count': '3' });
    expect(run.errors).toEqual([]);
    const deployment = before.deployments?.[0]?.id ?? '';
    expect(run.outputs).toMatchObject({
      'task-definition-revision': '4',
      'deployment-id': deployment,
      'rollout-state': 'COMPLETED',
    });
    const log = groupOf(run.stdout, 'Deploy web');
    expect(log).toContain(`updated web: no new deployment, following ${deployment}`);
    // Not COMPLETED at once (the PRIMARY stays COMPLETED while it scales): 3 of 3 running.
    expect(log).toContain(`Deployment ${deployment} completed: 3 of 3 tasks of life-web:4 running`);
    expect(log).toMatch(/\(service web\) has started 1 tasks/);
    // The events from before this step are not news: every one printed is newer.
    const newest = Math.max(...(before.events ?? []).map((e) => e.createdAt?.getTime() ?? 0));
    const printed = log
      .split('\n')
      .flatMap((line) => /^(\d{4}-\S+Z) \(service web\)/.exec(line)?.[1] ?? [])
      .map((time) => Date.parse(time));
    expect(printed.length).toBeGreaterThan(0);
    expect(printed.filter((time) => time <= newest)).toEqual([]);
    expect(mutations(w.ecsCalls(mark))).toEqual(['UpdateService']);
    const service = await w.service(cluster, 'web');
    expect([service.desiredCount, service.runningCount, service.deployments?.length]).toEqual([3, 3, 1]);
  });
});

describe('several containers', () => {
  const cluster = 'multi';

  test('images pairs set each named container; the others stay as they were', async () => {
    await w.createCluster(cluster);
    const app1 = await w.push('multi/app', 'v1');
    const app2 = await w.push('multi/app', 'v2');
    const file = w.file(
      'multi.json',
      taskDefinition('multi-web', [
        { name: 'app', image: app1 },
        { name: 'proxy', image: NGINX, essential: false },
        {
          name: 'logs',
          image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable',
          essential: false,
        },
      ]),
    );
    const created = await w.deploy({
      cluster,
      service: 'web',
      'task-definition': file,
      'create-service': 'true',
      subnets: SUBNET,
    });
    expect(created.errors).toEqual([]);
    const run = await w.deploy({
      cluster,
      service: 'web',
      images: `app=${app2}\nproxy=public.ecr.aws/nginx/nginx:1.27`,
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ 'task-definition-revision': '2', 'rollout-state': 'COMPLETED' });
    const registered = (await w.taskDefinition(tdArn('multi-web', 2))).taskDefinition;
    expect(registered.containerDefinitions?.map((c) => [c.name, c.image])).toEqual([
      ['app', app2],
      ['proxy', 'public.ecr.aws/nginx/nginx:1.27'],
      ['logs', 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable'],
    ]);
    expect(run.stdout).toContain(`containerDefinitions[app].image: ${app1} → ${app2}`);
    expect(run.stdout).toContain(
      `containerDefinitions[proxy].image: ${NGINX} → public.ecr.aws/nginx/nginx:1.27`,
    );
    expect(run.stdout).not.toContain('containerDefinitions[logs]');
  });
});

test('services: a,b — created from one revision in one step, then updated together', async () => {
  const cluster = 'pair';
  await w.createCluster(cluster);
  const v1 = await w.push('pair/web', 'v1');
  const v2 = await w.push('pair/web', 'v2');
  let mark = w.mark();
  const created = await w.deploy({
    cluster,
    services: 'a,b',
    'task-definition': taskDefinition('pair-web', [{ name: 'app', image: v1 }]),
    'create-service': 'true',
    subnets: SUBNET,
  });
  expect(created.errors).toEqual([]);
  expect(created.outputs).toMatchObject({
    'task-definition-revision': '1',
    'service-arn': `${ACCOUNT_ARN}:service/${cluster}/a\n${ACCOUNT_ARN}:service/${cluster}/b`,
    'rollout-state': 'COMPLETED\nCOMPLETED',
    'rolled-back': 'false',
  });
  expect(created.outputs['deployment-id']).toMatch(/^ecs-svc\/\d+\necs-svc\/\d+$/);
  expect(mutations(w.ecsCalls(mark))).toEqual(['RegisterTaskDefinition', 'CreateService', 'CreateService']);

  mark = w.mark();
  const updated = await w.deploy({ cluster, services: 'a\nb', image: v2 });
  expect(updated.errors).toEqual([]);
  expect(updated.outputs).toMatchObject({
    'task-definition-revision': '2',
    'rollout-state': 'COMPLETED\nCOMPLETED',
  });
  expect(mutations(w.ecsCalls(mark))).toEqual(['RegisterTaskDefinition', 'UpdateService', 'UpdateService']);
  for (const name of ['a', 'b']) {
    const service = await w.service(cluster, name);
    expect(service.taskDefinition).toBe(tdArn('pair-web', 2));
    expect(service.deployments).toEqual([
      expect.objectContaining({ status: 'PRIMARY', rolloutState: 'COMPLETED' }),
    ]);
    expect(updated.summary).toContain(`<td>${name}</td>`);
    expect(groupOf(updated.stdout, `Deploy ${name}`)).toContain(`(service ${name}) has started 1 tasks`);
  }
});

test('keep-revisions deregisters all but the newest N after a successful deploy', async () => {
  const cluster = 'keep';
  await w.createCluster(cluster);
  const image = await w.push('keep/web', 'v1');
  for (const n of [1, 2, 3]) {
    await w.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'keep-web',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'app', image, environment: [{ name: 'N', value: String(n) }] }],
      }),
    );
  }
  const mark = w.mark();
  const run = await w.deploy({
    cluster,
    service: 'web',
    'task-definition': taskDefinition('keep-web', [{ name: 'app', image }]),
    'create-service': 'true',
    subnets: SUBNET,
    'keep-revisions': '2',
  });
  expect(run.errors).toEqual([]);
  expect(run.outputs['task-definition-revision']).toBe('4');
  expect(await w.revisions('keep-web', 'ACTIVE')).toEqual([tdArn('keep-web', 3), tdArn('keep-web', 4)]);
  expect(await w.revisions('keep-web', 'INACTIVE')).toEqual([tdArn('keep-web', 1), tdArn('keep-web', 2)]);
  expect(run.stdout).toContain(`deregistered ${tdArn('keep-web', 1)}`);
  expect(run.stdout).toContain(`deregistered ${tdArn('keep-web', 2)}`);
  // Only after the rollout completed.
  const calls = mutations(w.ecsCalls(mark));
  expect(calls).toEqual([
    'RegisterTaskDefinition',
    'CreateService',
    'DeregisterTaskDefinition',
    'DeregisterTaskDefinition',
  ]);
});

describe('run-task-before-deploy', () => {
  const cluster = 'migrate';
  let v1Arn: string;

  beforeAll(async () => {
    await w.createCluster(cluster);
    const v1 = await w.push('migrate/web', 'v1');
    const run = await w.deploy({
      cluster,
      service: 'web',
      'task-definition': taskDefinition('migrate-web', [{ name: 'app', image: v1 }]),
      'create-service': 'true',
      subnets: SUBNET,
    });
    expect(run.errors).toEqual([]);
    v1Arn = run.outputs['task-definition-arn'] ?? '';
  });

  test('exiting 0: the one-off task runs the new revision on the service network, then the deploy proceeds', async () => {
    const v2 = await w.push('migrate/web', 'v2');
    const mark = w.mark();
    const run = await w.deploy({
      cluster,
      service: 'web',
      image: v2,
      'run-task-before-deploy': 'sh -c "sleep 20; exit 0"',
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({
      'run-task-exit-code': '0',
      'task-definition-revision': '2',
      'rollout-state': 'COMPLETED',
    });
    expect(groupOf(run.stdout, 'Run the one-off task')).toContain('the task exited 0');
    expect(run.summary).toMatch(/<th>One-off task<\/th><td>arn:aws:ecs:\S+ exited 0<\/td>/);
    expect(mutations(w.ecsCalls(mark))).toEqual(['RegisterTaskDefinition', 'RunTask', 'UpdateService']);

    const listed = await w.ecs.send(
      new ListTasksCommand({ cluster, startedBy: 'aws-containers', desiredStatus: 'STOPPED' }),
    );
    const [task] =
      (await w.ecs.send(new DescribeTasksCommand({ cluster, tasks: listed.taskArns ?? [] }))).tasks ?? [];
    expect(task).toMatchObject({
      taskDefinitionArn: tdArn('migrate-web', 2),
      lastStatus: 'STOPPED',
      overrides: { containerOverrides: [{ name: 'app', command: ['sh', '-c', 'sleep 20; exit 0'] }] },
      containers: [expect.objectContaining({ name: 'app', exitCode: 0 })],
    });
    expect((await w.service(cluster, 'web')).taskDefinition).toBe(tdArn('migrate-web', 2));
  });

  test('for a service being created, the one-off task runs on the create-service network settings', async () => {
    const image = await w.push('migrate/web', 'fresh');
    const mark = w.mark();
    const run = await w.deploy({
      cluster,
      service: 'fresh',
      'task-definition': taskDefinition('migrate-fresh', [{ name: 'app', image }]),
      'create-service': 'true',
      subnets: SUBNET,
      'security-groups': SECURITY_GROUP,
      'run-task-before-deploy': '["sh", "-c", "exit 0"]',
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ 'run-task-exit-code': '0', 'rollout-state': 'COMPLETED' });
    expect(mutations(w.ecsCalls(mark))).toEqual(['RegisterTaskDefinition', 'RunTask', 'CreateService']);
    const listed = await w.ecs.send(
      new ListTasksCommand({ cluster, family: 'migrate-fresh', desiredStatus: 'STOPPED' }),
    );
    const [task] =
      (await w.ecs.send(new DescribeTasksCommand({ cluster, tasks: listed.taskArns ?? [] }))).tasks ?? [];
    expect(task?.startedBy).toBe('aws-containers');
    expect(task?.attachments?.[0]?.details).toEqual(
      expect.arrayContaining([{ name: 'subnetId', value: SUBNET }]),
    );
  });

  test('exiting non-zero: the step fails and the service is not updated', async () => {
    const before = (await w.service(cluster, 'web')).taskDefinition;
    expect(before).not.toBe(v1Arn);
    const v3 = await w.push('migrate/web', 'v3');
    const mark = w.mark();
    const run = await w.deploy({
      cluster,
      service: 'web',
      image: v3,
      'run-task-before-deploy': '["sh", "-c", "sleep 5; exit 3"]',
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['run-task-exit-code']).toBe('3');
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(
      'run-task-before-deploy failed: the container app exited with code 3; the service was not updated',
    );
    expect(run.outputs['rollout-state']).toBeUndefined();
    expect(mutations(w.ecsCalls(mark))).toEqual(['RegisterTaskDefinition', 'RunTask']);
    const service = await w.service(cluster, 'web');
    expect(service.taskDefinition).toBe(before);
    expect(service.deployments).toHaveLength(1);
  });
});
