// The service scheduler's throttle (ECS's "service throttle logic"): a service whose tasks keep
// failing to start is retried further and further apart (not every 26 s for ever), says so once
// in its events, and returns to normal at once with a new task definition; a circuit breaker
// still trips and rolls back as fast as before. Read with the AWS CLI v2 on a stepped clock.
import { CreateClusterCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { jest } from '@jest/globals';
import { defaultNetwork, startLocalAws, type LocalAws } from '../src/index.js';
import { throttleDelayMs } from '../src/ecs/model.js';
import { awsCli, withCli } from './helpers/ecs-judges.js';

jest.setTimeout(120_000);

/** A subnet of the default network local-aws gives every account and region (zone a). */
const SUBNET = defaultNetwork().subnetIds[0]!;

const S = 1000;
const MIN = 60 * S;
const NET_CLI = `awsvpcConfiguration={subnets=[${SUBNET}]}`;
const UNABLE = (name: string) => `(service ${name}) is unable to consistently start tasks successfully.`;
const TIMINGS = { throttleBaseMs: MIN, throttleMaxMs: 27 * MIN };

describe('the back-off', () => {
  test.each([
    // [failures in a row, desired count, back-off]
    [1, 1, undefined],
    [3, 1, undefined], // the breaker's threshold (3) has not been passed
    [4, 1, 1 * MIN],
    [5, 1, 2 * MIN],
    [8, 1, 16 * MIN],
    [9, 1, 27 * MIN], // 32 minutes, capped
    [50, 1, 27 * MIN],
    [10, 20, undefined], // threshold 10 for 20 tasks
    [11, 20, 1 * MIN],
  ])('%i failures, %i desired: %p', (failures, desired, delay) => {
    expect(throttleDelayMs(failures, desired, TIMINGS)).toBe(delay);
  });
});

describe('on a stepped clock, read back with the AWS CLI v2', () => {
  let aws: LocalAws;
  let ecs: ECSClient;
  beforeAll(async () => {
    aws = await startLocalAws({ steppedClock: true });
    ecs = new ECSClient({
      endpoint: aws.endpoint,
      region: 'us-east-1',
      credentials: aws.credentials,
      maxAttempts: 1,
    });
    await ecs.send(new CreateClusterCommand({ clusterName: 'thr' }));
    aws.admin.ecs.setUnpullable('public.ecr.aws/gone/');
  });
  afterAll(async () => {
    ecs?.destroy();
    await aws?.stop();
  });

  const register = async (family: string, image: string) =>
    (
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          requiresCompatibilities: ['FARGATE'],
          networkMode: 'awsvpc',
          cpu: '256',
          memory: '512',
          containerDefinitions: [{ name: 'app', image, essential: true }],
        }),
      )
    ).taskDefinition!.taskDefinitionArn!;

  const cli = async (...args: string[]) => {
    const r = await awsCli(aws, ['ecs', ...args]);
    if (r.code !== 0) throw new Error(`aws ecs ${args.join(' ')}: ${r.stderr}`);
    return r.json;
  };

  /** The service's tasks (any status), oldest first, as the CLI describes them. */
  const tasksOf = async (service: string) => {
    const arns: string[] = [];
    for (const status of ['RUNNING', 'STOPPED'])
      arns.push(
        ...((
          await cli('list-tasks', '--cluster', 'thr', '--service-name', service, '--desired-status', status)
        ).taskArns as string[]),
      );
    if (arns.length === 0) return [];
    const tasks: Array<{ createdAt: string; taskDefinitionArn: string; lastStatus: string }> = [];
    for (let i = 0; i < arns.length; i += 100)
      tasks.push(
        ...((await cli('describe-tasks', '--cluster', 'thr', '--tasks', ...arns.slice(i, i + 100)))
          .tasks as typeof tasks),
      );
    return tasks.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  };
  const eventsOf = async (service: string) =>
    (
      (await cli('describe-services', '--cluster', 'thr', '--services', service)).services as Array<{
        events: Array<{ message: string }>;
      }>
    )[0]!.events.map((e) => e.message);

  withCli(
    'tasks that cannot be pulled: three retries at the usual pace, then 1, 2, 4, 8, 16 minutes apart',
    async () => {
      const gone = await register('gone', 'public.ecr.aws/gone/app:1');
      const t0 = aws.clock.now();
      await cli(
        'create-service',
        '--cluster',
        'thr',
        '--service-name',
        'gone',
        '--task-definition',
        gone,
        '--desired-count',
        '1',
        '--network-configuration',
        NET_CLI,
      );
      await aws.clock.advance(40 * MIN);
      const tasks = await tasksOf('gone');
      const created = tasks.map((t) => Date.parse(t.createdAt));
      // Each task fails 25 s after it is created (10 s provisioning, 15 s of pull retries); the
      // next one comes a scheduler delay (1 s) later, or when the back-off ends.
      const waits = created.slice(1).map((c, i) => c - (created[i]! + 25 * S));
      expect(created[0]! - t0).toBe(1 * S);
      expect(waits).toEqual([1 * S, 1 * S, 1 * S, 1 * MIN, 2 * MIN, 4 * MIN, 8 * MIN, 16 * MIN]);
      // Without the throttle, 40 minutes would have held about 92 attempts.
      expect(tasks).toHaveLength(9);
      const events = await eventsOf('gone');
      expect(events.filter((m) => m === UNABLE('gone'))).toHaveLength(1);

      // A new deployment of the same task definition stays throttled…
      await cli('update-service', '--cluster', 'thr', '--service', 'gone', '--force-new-deployment');
      await aws.clock.advance(5 * MIN);
      expect(await tasksOf('gone')).toHaveLength(9);
      // …a new task definition ends the throttle at once, as ECS documents.
      const good = await register('gone', 'public.ecr.aws/nginx/nginx:1.27');
      const updatedAt = aws.clock.now();
      await cli('update-service', '--cluster', 'thr', '--service', 'gone', '--task-definition', good);
      await aws.clock.advance(2 * MIN);
      const after = await tasksOf('gone');
      const fresh = after.filter((t) => t.taskDefinitionArn === good);
      expect(fresh.map((t) => [Date.parse(t.createdAt) - updatedAt, t.lastStatus])).toEqual([
        [1 * S, 'RUNNING'],
      ]);
    },
  );

  withCli.each([
    // [desired count, when the rollback comes: when the threshold's (3rd) failure is STOPPED]
    [1, 88], // failures at 26, 52 and 78 s, each counted 10 s later
    [2, 62], // two at 26 s, two at 52 s: the third is counted at 62 s
  ])(
    'a circuit breaker with rollback (%i tasks) rolls back after %i s, as without the throttle, which stays quiet',
    async (desired, rollbackS) => {
      const name = `rb${desired}`;
      const good = await register(name, 'public.ecr.aws/nginx/nginx:1.27');
      await cli(
        'create-service',
        '--cluster',
        'thr',
        '--service-name',
        name,
        '--task-definition',
        good,
        '--desired-count',
        String(desired),
        '--network-configuration',
        NET_CLI,
        '--deployment-configuration',
        'deploymentCircuitBreaker={enable=true,rollback=true}',
      );
      await aws.clock.advance(2 * MIN);
      const bad = await register(name, 'public.ecr.aws/gone/app:2');
      await cli('update-service', '--cluster', 'thr', '--service', name, '--task-definition', bad);
      await aws.clock.advance(rollbackS * S - 1);
      expect((await eventsOf(name)).some((m) => m.includes('rolling back'))).toBe(false);
      await aws.clock.advance(1);
      expect((await eventsOf(name))[0]).toMatch(
        /^\(service rb\d\) rolling back to deployment ecs-svc\/\d{19}\.$/,
      );
      await aws.clock.advance(5 * MIN);
      const events = await eventsOf(name);
      expect(events).not.toContain(UNABLE(name));
      expect(events[0]).toBe(`(service ${name}) has reached a steady state.`);
    },
  );

  withCli(
    'a circuit breaker without rollback leaves the deployment FAILED; then the throttle holds it',
    async () => {
      const good = await register('norb', 'public.ecr.aws/nginx/nginx:1.27');
      await cli(
        'create-service',
        '--cluster',
        'thr',
        '--service-name',
        'norb',
        '--task-definition',
        good,
        '--desired-count',
        '1',
        '--network-configuration',
        NET_CLI,
        '--deployment-configuration',
        'deploymentCircuitBreaker={enable=true,rollback=false}',
      );
      await aws.clock.advance(2 * MIN);
      const bad = await register('norb', 'public.ecr.aws/gone/app:3');
      await cli('update-service', '--cluster', 'thr', '--service', 'norb', '--task-definition', bad);
      await aws.clock.advance(30 * MIN);
      const [svc] = (await cli('describe-services', '--cluster', 'thr', '--services', 'norb'))
        .services as Array<{
        deployments: Array<{ taskDefinition: string; rolloutState: string }>;
        events: Array<{ message: string }>;
      }>;
      expect(svc!.deployments.find((d) => d.taskDefinition === bad)!.rolloutState).toBe('FAILED');
      expect(svc!.events.filter((e) => e.message === UNABLE('norb'))).toHaveLength(1);
      // The old task keeps running (minimum healthy 100%); the new ones are retried ever more slowly.
      const attempts = (await tasksOf('norb')).filter((t) => t.taskDefinitionArn === bad);
      expect(attempts.length).toBeGreaterThanOrEqual(6);
      expect(attempts.length).toBeLessThanOrEqual(9);
    },
  );
});
