// ECS over simulated time, on a stepped clock: task lifecycles, images resolved in the local
// registry (labels script behaviour), rolling deployments, the circuit breaker with and without
// rollback, scaling, and one-off tasks.
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  type Deployment,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import { jest } from '@jest/globals';
import { buildImage, defaultNetwork, startLocalAws, type LocalAws } from '../src/index.js';
import { passwordFromToken, RegistryClient } from './helpers/registry-client.js';

let aws: LocalAws;
let ecs: ECSClient;
let ecr: ECRClient;
let reg: RegistryClient;
let host: string;
/** A subnet of the default network local-aws gives every account and region (zone a). */
const SUBNET = defaultNetwork().subnetIds[0]!;
const NET = {
  awsvpcConfiguration: { subnets: [SUBNET], assignPublicIp: 'DISABLED' as const },
};
const S = 1000;

async function push(repo: string, tag: string, labels: Record<string, string> = {}): Promise<string> {
  const image = buildImage([{ size: 256 }], { labels });
  const r = await reg.pushImage(repo, image, tag);
  if (r.status !== 201) throw new Error(`push failed: ${r.status} ${r.body.toString()}`);
  return `${host}/${repo}:${tag}`;
}

async function register(family: string, image: string, extra: Record<string, unknown> = {}): Promise<string> {
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'app', image, essential: true, ...extra }],
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

async function service(cluster: string, name: string): Promise<Service> {
  const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [name] }));
  return out.services![0]!;
}
async function tasks(cluster: string, arns: string[]): Promise<Task[]> {
  if (arns.length === 0) return [];
  return (await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }))).tasks!;
}
async function serviceTasks(
  cluster: string,
  name: string,
  desiredStatus: 'RUNNING' | 'STOPPED',
): Promise<Task[]> {
  const arns = (await ecs.send(new ListTasksCommand({ cluster, serviceName: name, desiredStatus })))
    .taskArns!;
  return tasks(cluster, arns);
}
const advance = (ms: number) => aws.clock.advance(ms);
const primary = (svc: Service): Deployment => svc.deployments!.find((d) => d.status === 'PRIMARY')!;
const messages = (svc: Service) => svc.events!.map((e) => e.message!);

/** Advances in steps until the service satisfies `done`, up to `limitMs` of simulated time. */
async function until(
  cluster: string,
  name: string,
  done: (svc: Service) => boolean,
  limitMs = 30 * 60 * S,
  stepMs = 5 * S,
): Promise<{ svc: Service; elapsedMs: number }> {
  for (let elapsed = 0; elapsed <= limitMs; elapsed += stepMs) {
    const svc = await service(cluster, name);
    if (done(svc)) return { svc, elapsedMs: elapsed };
    await advance(stepMs);
  }
  throw new Error(
    `service ${name} did not get there within ${limitMs} ms: ${JSON.stringify(await service(cluster, name))}`,
  );
}

jest.setTimeout(60_000);

const stable = (svc: Service) => svc.deployments!.length === 1 && svc.runningCount === svc.desiredCount;

beforeAll(async () => {
  aws = await startLocalAws({ steppedClock: true });
  const config = {
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: aws.credentials,
    maxAttempts: 1,
  };
  ecs = new ECSClient(config);
  ecr = new ECRClient(config);
  host = new URL(aws.httpsUrl).host;
  const token = await ecr.send(new GetAuthorizationTokenCommand({}));
  reg = new RegistryClient({
    baseUrl: aws.httpUrl,
    auth: { user: 'AWS', password: passwordFromToken(token.authorizationData![0]!.authorizationToken!) },
  });
  for (const repositoryName of ['sim/web', 'sim/job'])
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
  await ecs.send(new CreateClusterCommand({ clusterName: 'sim' }));
});
afterAll(async () => {
  ecs?.destroy();
  ecr?.destroy();
  await aws?.stop();
});

test('a good deployment goes from IN_PROGRESS to COMPLETED with the task lifecycle and events', async () => {
  const v1 = await register('web', await push('sim/web', 'v1'));
  const created = await ecs.send(
    new CreateServiceCommand({
      cluster: 'sim',
      serviceName: 'web',
      taskDefinition: v1,
      desiredCount: 2,
      launchType: 'FARGATE',
      networkConfiguration: NET,
    }),
  );
  expect(created.service!.deployments).toEqual([
    expect.objectContaining({
      status: 'PRIMARY',
      rolloutState: 'IN_PROGRESS',
      runningCount: 0,
      desiredCount: 2,
    }),
  ]);
  await advance(1 * S); // the scheduler acts
  let svc = await service('sim', 'web');
  expect(svc.pendingCount).toBe(2);
  expect(messages(svc)[0]).toMatch(
    /^\(service web\) has started 2 tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$/,
  );
  let [t] = await serviceTasks('sim', 'web', 'RUNNING');
  expect(t!.lastStatus).toBe('PROVISIONING');
  expect(t!.desiredStatus).toBe('RUNNING');
  expect(t!.group).toBe('service:web');
  expect(t!.startedBy).toBe(primary(svc).id);
  // PRECREATED: the ENI has only its subnet until it is attached.
  expect(t!.attachments![0]).toMatchObject({
    status: 'PRECREATED',
    details: [{ name: 'subnetId', value: SUBNET }],
  });
  await advance(10 * S);
  [t] = await tasks('sim', [t!.taskArn!]);
  expect(t!.lastStatus).toBe('PENDING');
  expect(t!.pullStartedAt).toBeInstanceOf(Date);
  expect(t!.attachments![0]!.status).toBe('ATTACHED');
  const ip = t!.attachments![0]!.details!.find((d) => d.name === 'privateIPv4Address')!.value!;
  // In its subnet's range: the default subnet of zone a is 172.31.0.0/20.
  expect(ip).toMatch(/^172\.31\.([0-9]|1[0-5])\.\d+$/);
  await advance(15 * S);
  [t] = await tasks('sim', [t!.taskArn!]);
  expect(t!.lastStatus).toBe('ACTIVATING');
  await advance(5 * S);
  [t] = await tasks('sim', [t!.taskArn!]);
  expect(t!.lastStatus).toBe('RUNNING');
  expect(t!.containers![0]!.lastStatus).toBe('RUNNING');
  expect(t!.containers![0]!.imageDigest).toMatch(/^sha256:/);
  expect(t!.containers![0]!.networkInterfaces![0]!.privateIpv4Address).toBe(ip);
  expect(t!.startedAt!.getTime() - t!.createdAt!.getTime()).toBe(30 * S);
  await advance(1 * S);
  svc = await service('sim', 'web');
  expect(svc.runningCount).toBe(2);
  expect(primary(svc).rolloutState).toBe('IN_PROGRESS'); // running, not yet for steadyStateMs
  await advance(30 * S);
  svc = await service('sim', 'web');
  expect(primary(svc).rolloutState).toBe('COMPLETED');
  expect(primary(svc).rolloutStateReason).toBe(`ECS deployment ${primary(svc).id} completed.`);
  expect(messages(svc).slice(0, 2)).toEqual([
    '(service web) has reached a steady state.',
    `(service web) (deployment ${primary(svc).id}) deployment completed.`,
  ]);

  // A new revision: a rolling update, 100% minimum healthy, 200% maximum.
  const v2 = await register('web', await push('sim/web', 'v2'));
  await ecs.send(new UpdateServiceCommand({ cluster: 'sim', service: 'web', taskDefinition: v2 }));
  svc = await service('sim', 'web');
  expect(svc.deployments!.map((d) => [d.status, d.rolloutState])).toEqual([
    ['PRIMARY', 'IN_PROGRESS'],
    ['ACTIVE', 'COMPLETED'],
  ]);
  const old = svc.deployments![1]!;
  let minRunningOld = 2;
  const { svc: done } = await until('sim', 'web', (x) => {
    const o = x.deployments!.find((d) => d.id === old.id);
    if (o && primary(x).runningCount! < 2) minRunningOld = Math.min(minRunningOld, o.runningCount!);
    return primary(x).rolloutState === 'COMPLETED';
  });
  expect(minRunningOld).toBe(2); // never below 100% healthy while the new tasks were not running
  expect(done.deployments).toHaveLength(1);
  expect(done.taskDefinition).toBe(v2);
  expect(stable(done)).toBe(true);
  const stopped = await serviceTasks('sim', 'web', 'STOPPED');
  expect(stopped.map((x) => x.stopCode)).toEqual(['ServiceSchedulerInitiated', 'ServiceSchedulerInitiated']);
  expect(stopped[0]!.stoppedReason).toBe(`Scaling activity initiated by (deployment ${primary(done).id})`);
  expect(messages(done)).toContainEqual(
    expect.stringMatching(
      /^\(service web\) has stopped 2 running tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$/,
    ),
  );
});

test('a missing image fails tasks with CannotPullContainerError; the circuit breaker rolls back', async () => {
  const good = await register('rb', await push('sim/web', 'good'));
  await ecs.send(
    new CreateServiceCommand({
      cluster: 'sim',
      serviceName: 'rb',
      taskDefinition: good,
      desiredCount: 2,
      networkConfiguration: NET,
      launchType: 'FARGATE',
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    }),
  );
  const first = await until('sim', 'rb', (x) => primary(x).rolloutState === 'COMPLETED');
  const goodId = primary(first.svc).id!;
  const missing = `${host}/sim/web:does-not-exist`;
  const bad = await register('rb', missing);
  await ecs.send(new UpdateServiceCommand({ cluster: 'sim', service: 'rb', taskDefinition: bad }));
  const badId = primary(await service('sim', 'rb')).id!;
  await advance(30 * S);
  const failedTask = (await serviceTasks('sim', 'rb', 'STOPPED')).find(
    (t) => t.stopCode === 'TaskFailedToStart',
  )!;
  const reason = `CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ${missing}: ${missing}: not found`;
  expect(failedTask.stoppedReason).toBe(reason);
  expect(failedTask.containers![0]!.reason).toBe(reason);
  expect(failedTask.containers![0]!.exitCode).toBeUndefined();
  expect(['DEPROVISIONING', 'STOPPED']).toContain(failedTask.lastStatus);

  const { svc } = await until('sim', 'rb', (x) => x.deployments!.some((d) => d.rolloutState === 'FAILED'));
  const failed = svc.deployments!.find((d) => d.id === badId)!;
  expect(failed).toMatchObject({
    status: 'ACTIVE',
    rolloutState: 'FAILED',
    rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
  });
  expect(failed.failedTasks).toBe(3); // threshold: max(3, 0.5 × 2)
  expect(primary(svc)).toMatchObject({
    id: goodId,
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: `ECS deployment circuit breaker: rolling back to deploymentId ${goodId}.`,
  });
  // Newest first: the failure, then the rollback (then the scheduler stops the failed tasks).
  const rolling = messages(svc).indexOf(`(service rb) rolling back to deployment ${goodId}.`);
  const failedAt = messages(svc).indexOf(
    `(service rb) (deployment ${badId}) deployment failed: tasks failed to start.`,
  );
  expect(rolling).toBeGreaterThanOrEqual(0);
  expect(failedAt).toBe(rolling + 1);
  expect(svc.taskDefinition).toBe(good);
  // The old tasks kept running throughout (minimum healthy 100%).
  expect(svc.runningCount).toBe(2);
  const after = await until('sim', 'rb', (x) => primary(x).rolloutState === 'COMPLETED');
  expect(after.svc.deployments).toHaveLength(1);
  expect(primary(after.svc).id).toBe(goodId);
  expect(stable(after.svc)).toBe(true);
});

test('a crash-loop image (exit-after label) without a breaker keeps failing; with one, no rollback: FAILED', async () => {
  const good = await register('crash', await push('sim/web', 'stable'));
  await ecs.send(
    new CreateServiceCommand({
      cluster: 'sim',
      serviceName: 'crash',
      taskDefinition: good,
      desiredCount: 1,
      networkConfiguration: NET,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false } },
    }),
  );
  await until('sim', 'crash', (x) => primary(x).rolloutState === 'COMPLETED');
  const crashing = await register(
    'crash',
    await push('sim/web', 'crashing', { 'local-aws.exit-after': '10s', 'local-aws.exit-code': '1' }),
  );
  await ecs.send(new UpdateServiceCommand({ cluster: 'sim', service: 'crash', taskDefinition: crashing }));
  const newId = primary(await service('sim', 'crash')).id!;
  const { svc } = await until('sim', 'crash', (x) => primary(x).rolloutState === 'FAILED');
  expect(primary(svc)).toMatchObject({
    id: newId,
    rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
    failedTasks: 3,
  });
  expect(messages(svc)[0]).toBe(
    `(service crash) (deployment ${newId}) deployment failed: tasks failed to start.`,
  );
  expect(messages(svc).some((m) => m.includes('rolling back'))).toBe(false);
  const crashed = (await serviceTasks('sim', 'crash', 'STOPPED')).find(
    (t) => t.taskDefinitionArn === crashing,
  )!;
  expect(crashed).toMatchObject({
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
  });
  expect(crashed.containers![0]!.exitCode).toBe(1);
  expect(crashed.stoppingAt!.getTime() - crashed.startedAt!.getTime()).toBe(10 * S);
  // No rollback: the old task was replaced while a new one was briefly running (minimum healthy
  // 100% held); the failed deployment stays PRIMARY and the crash loop goes on.
  const before = (await serviceTasks('sim', 'crash', 'STOPPED')).length;
  await advance(5 * 60 * S);
  const later = await service('sim', 'crash');
  expect(later.deployments!.map((d) => [d.id, d.status, d.rolloutState])).toEqual([
    [newId, 'PRIMARY', 'FAILED'],
  ]);
  expect((await serviceTasks('sim', 'crash', 'STOPPED')).length).toBeGreaterThan(before + 3);
  expect(messages(later).some((m) => m.includes('rolling back'))).toBe(false);
});

test('scale up and down by desiredCount', async () => {
  const td = await register('scale', await push('sim/web', 'scale'));
  await ecs.send(
    new CreateServiceCommand({
      cluster: 'sim',
      serviceName: 'scale',
      taskDefinition: td,
      desiredCount: 1,
      networkConfiguration: NET,
    }),
  );
  await until('sim', 'scale', (x) => stable(x) && x.runningCount === 1);
  await ecs.send(new UpdateServiceCommand({ cluster: 'sim', service: 'scale', desiredCount: 4 }));
  let svc = await service('sim', 'scale');
  expect(svc.deployments).toHaveLength(1); // scaling is not a new deployment
  await advance(2 * S);
  svc = await service('sim', 'scale');
  expect(svc.pendingCount).toBe(3);
  const up = await until('sim', 'scale', (x) => x.runningCount === 4);
  expect(up.elapsedMs).toBeLessThanOrEqual(35 * S);
  await ecs.send(new UpdateServiceCommand({ cluster: 'sim', service: 'scale', desiredCount: 1 }));
  await advance(2 * S);
  svc = await service('sim', 'scale');
  expect(messages(svc)[0]).toMatch(
    /^\(service scale\) has stopped 3 running tasks: (\(task [0-9a-f]{32}\) ?){3}\.$/,
  );
  const down = await until(
    'sim',
    'scale',
    (x) => messages(x)[0] === '(service scale) has reached a steady state.',
  );
  expect(stable(down.svc)).toBe(true);
  expect(down.svc.runningCount).toBe(1);
  expect(await serviceTasks('sim', 'scale', 'RUNNING')).toHaveLength(1);
});

test('one-off RunTask tasks stop with their container exit code (label and command override)', async () => {
  const zero = await register('job', await push('sim/job', 'ok', { 'local-aws.exit-after': '20s' }));
  const three = await register(
    'job3',
    await push('sim/job', 'three', { 'local-aws.exit-after': '5s', 'local-aws.exit-code': '3' }),
  );
  const run = async (taskDefinition: string, overrides?: Record<string, unknown>) =>
    (
      await ecs.send(
        new RunTaskCommand({
          cluster: 'sim',
          taskDefinition,
          networkConfiguration: NET,
          launchType: 'FARGATE',
          ...(overrides ? { overrides } : {}),
        }),
      )
    ).tasks![0]!;
  const a = await run(zero);
  const b = await run(three);
  const c = await run(zero, {
    containerOverrides: [{ name: 'app', command: ['sh', '-c', 'sleep 2; exit 7'] }],
  });
  expect(a).toMatchObject({ lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', group: 'family:job' });
  await advance(10 * 60 * S);
  const [ta, tb, tc] = await tasks('sim', [a.taskArn!, b.taskArn!, c.taskArn!]);
  for (const t of [ta!, tb!, tc!]) {
    expect(t.lastStatus).toBe('STOPPED');
    expect(t.stopCode).toBe('EssentialContainerExited');
    expect(t.stoppedReason).toBe('Essential container in task exited');
  }
  expect(ta!.containers![0]!.exitCode).toBe(0);
  expect(tb!.containers![0]!.exitCode).toBe(3);
  expect(tc!.containers![0]!.exitCode).toBe(7);
  expect(ta!.executionStoppedAt!.getTime() - ta!.startedAt!.getTime()).toBe(20 * S);
  expect(tc!.executionStoppedAt!.getTime() - tc!.startedAt!.getTime()).toBe(2 * S);
  expect(tc!.overrides!.containerOverrides![0]!.command).toEqual(['sh', '-c', 'sleep 2; exit 7']);
  expect(ta!.stoppedAt!.getTime()).toBeGreaterThan(ta!.executionStoppedAt!.getTime());
});

test('StopTask: UserInitiated, through DEACTIVATING and STOPPING to STOPPED', async () => {
  const td = await register('stopme', await push('sim/job', 'server'));
  const t = (
    await ecs.send(new RunTaskCommand({ cluster: 'sim', taskDefinition: td, networkConfiguration: NET }))
  ).tasks![0]!;
  await advance(60 * S);
  expect((await tasks('sim', [t.taskArn!]))[0]!.lastStatus).toBe('RUNNING');
  const stopped = await ecs.send(
    new StopTaskCommand({ cluster: 'sim', task: t.taskArn!, reason: 'done here' }),
  );
  expect(stopped.task).toMatchObject({
    desiredStatus: 'STOPPED',
    lastStatus: 'DEACTIVATING',
    stopCode: 'UserInitiated',
    stoppedReason: 'done here',
  });
  const seen: string[] = [];
  for (let i = 0; i < 20; i++) {
    const s = (await tasks('sim', [t.taskArn!]))[0]!.lastStatus!;
    if (seen.at(-1) !== s) seen.push(s);
    await advance(1 * S);
  }
  expect(seen).toEqual(['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED']);
});

test('images from other registries are pullable unless admin.ecs.setUnpullable says otherwise', async () => {
  aws.admin.ecs.setUnpullable('ghcr.io/acme/');
  const ok = await register('ext', 'public.ecr.aws/nginx/nginx:1.27');
  const bad = await register('ext', 'ghcr.io/acme/private:1');
  const run = async (td: string) =>
    (await ecs.send(new RunTaskCommand({ cluster: 'sim', taskDefinition: td, networkConfiguration: NET })))
      .tasks![0]!;
  const a = await run(ok);
  const b = await run(bad);
  await advance(2 * 60 * S);
  const [ta, tb] = await tasks('sim', [a.taskArn!, b.taskArn!]);
  expect(ta!.lastStatus).toBe('RUNNING');
  expect(tb!.lastStatus).toBe('STOPPED');
  expect(tb!.stoppedReason).toBe(
    'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ghcr.io/acme/private:1: ghcr.io/acme/private:1: not found',
  );
  aws.admin.ecs.clearUnpullable();
});
