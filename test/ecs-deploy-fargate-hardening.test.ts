// ecs-deploy-fargate under the hardening issue's attacks and accidents, end to end through dist/
// against local-aws (60× clock): outcomes that are what DescribeServices showed (re-runs on a
// broken or half-followed service, tasks stopped by a colleague, a deployment replaced by another
// run, rollback on and off), outside text that cannot become a workflow command, deadlines that hold
// while a call hangs or AWS throttles, and a state said on every early exit.
import { jest } from '@jest/globals';
import {
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  ACCOUNT_ARN,
  SUBNET,
  mutations,
  startEcsWorld,
  taskDefinition,
  type EcsWorld,
} from './helpers/ecs-deploy.js';
import { localAwsEnv, runAction, type ActionRun } from './helpers/action-runner.js';
import { HOSTILE_TEXT, HOSTILE_TEXTS, PWNED, leakedCommands } from './helpers/hostile-text.js';
import { refusedCalls } from './helpers/policies.js';

jest.setTimeout(90_000);

let w: EcsWorld;
const cluster = 'hardening';
let good: string;
let crashing: string;
let slowStart: string;
let stuck: string;

beforeAll(async () => {
  w = await startEcsWorld(60);
  await w.createCluster(cluster);
  good = await w.push('hardening/web', 'good');
  crashing = await w.push('hardening/web', 'crash', { 'local-aws.exit-code': '3' });
  slowStart = await w.push('hardening/web', 'slow-start', { 'local-aws.start-delay': '40s' });
  stuck = await w.push('hardening/web', 'stuck', { 'local-aws.start-delay': '10m' });
});
// Each action ran under its published policies: nothing it called may have been refused.
afterEach(() => expect(refusedCalls(w.aws)).toEqual([]));
afterAll(async () => {
  await w?.stop();
});
afterEach(() => w.aws.faults.clear());

/** A service running the good image, rolled out; returns its task definition ARN. */
async function establish(service: string, circuitBreaker: 'rollback' | 'on' | 'off'): Promise<string> {
  const run = await w.deploy({
    cluster,
    service,
    'task-definition': taskDefinition(service, [{ name: 'app', image: good }]),
    'create-service': 'true',
    subnets: SUBNET,
    'circuit-breaker': circuitBreaker,
  });
  expect(run.errors).toEqual([]);
  return run.outputs['task-definition-arn'] ?? '';
}

/**
 * Runs the action, calling `during` (once) when a log line matches `when`: what a colleague, a
 * second run or AWS does while the step follows. Resolves once both have finished.
 */
async function deployWhile(
  inputs: Record<string, string>,
  when: RegExp,
  during: (line: string) => Promise<void>,
  signal?: NodeJS.Signals,
): Promise<ActionRun> {
  let side: Promise<void> | undefined;
  const run = await runAction('ecs-deploy-fargate', {
    inputs: { 'poll-interval': '1s', ...inputs },
    env: localAwsEnv(w.aws, 'ecs-deploy-fargate'),
    timeoutMs: 80_000,
    onLine: (line) => {
      if (!side && when.test(line)) side = during(line);
    },
    ...(signal ? { signalWhen: { line: when, signal } } : {}),
  });
  await side;
  return run;
}

const deploymentOf = (line: string) => /deployment (ecs-svc\/\d+)/.exec(line)?.[1] ?? '';

function settledOn(taskDefinitionArn: string) {
  return [
    expect.objectContaining({
      status: 'PRIMARY',
      taskDefinition: taskDefinitionArn,
      rolloutState: 'COMPLETED',
    }),
  ];
}

describe('outcomes are what was observed', () => {
  test('a re-run after a failed deploy (breaker off, no rollback) follows the failing deployment and fails again', async () => {
    await establish('rerun-failed', 'off');
    const inputs = { cluster, service: 'rerun-failed', image: crashing, 'rollback-on-failure': 'false' };
    const first = await w.deploy(inputs);
    expect(first.outputs['rollout-state']).toBe('FAILED');
    const mark = w.mark();
    const again = await w.deploy(inputs);
    // It used to exit 0 with rollout-state COMPLETED while the PRIMARY was IN_PROGRESS and tasks kept failing.
    expect(again.exitCode).toBe(1);
    expect(again.outputs).toMatchObject({
      'rollout-state': 'FAILED',
      'deployment-id': first.outputs['deployment-id'],
      'rolled-back': 'false',
      'rollback-state': 'NONE',
    });
    expect(again.stdout).toContain(
      `following deployment ${first.outputs['deployment-id']} instead of starting another`,
    );
    expect(again.errors[0]).toMatch(/tasks failed \(max-failed-tasks is 3\)/);
    expect(mutations(w.ecsCalls(mark))).toEqual([]);
  });

  test('a re-run after a run killed mid-follow follows the deployment in flight to COMPLETED, starting none', async () => {
    const inputs = {
      cluster,
      service: 'rerun-killed',
      'task-definition': taskDefinition('rerun-killed', [{ name: 'app', image: slowStart }]),
      'create-service': 'true',
      subnets: SUBNET,
    };
    const killed = await deployWhile(
      inputs,
      /^created rerun-killed: deployment/,
      async () => undefined,
      'SIGKILL',
    );
    expect(killed.exitCode).toBeNull();
    const deployment = (await w.service(cluster, 'rerun-killed')).deployments?.[0];
    expect(deployment?.rolloutState).toBe('IN_PROGRESS');
    const mark = w.mark();
    const again = await w.deploy(inputs);
    // It used to say "already runs this revision" and exit 0 at once, the rollout still IN_PROGRESS.
    expect(again.errors).toEqual([]);
    expect(again.outputs).toMatchObject({ 'rollout-state': 'COMPLETED', 'deployment-id': deployment?.id });
    expect(again.stdout).toContain(`following deployment ${deployment?.id} instead of starting another`);
    expect(mutations(w.ecsCalls(mark))).toEqual([]);
    // COMPLETED was said only once ECS said it.
    expect((await w.service(cluster, 'rerun-killed')).deployments).toEqual(
      settledOn(again.outputs['task-definition-arn'] ?? ''),
    );
  });

  test('tasks stopped with StopTask by a colleague are not failures: the rollout completes, no rollback is claimed, the reason cannot command the runner', async () => {
    const previous = await establish('stopped-by-user', 'rollback');
    // StopTask takes a reason of up to 255 characters: the corpus goes in as several reasons.
    const reasons: string[] = [];
    for (const text of HOSTILE_TEXTS) {
      const last = reasons.at(-1);
      if (last !== undefined && `${last}\n${text}`.length <= 255)
        reasons[reasons.length - 1] = `${last}\n${text}`;
      else reasons.push(text);
    }
    while (reasons.length < 3) reasons.push(reasons[0] ?? '');
    let stopped = 0;
    const run = await deployWhile(
      { cluster, service: 'stopped-by-user', image: slowStart },
      /^updated stopped-by-user: deployment/,
      async (line) => {
        const startedBy = deploymentOf(line);
        for (let i = 0; i < 400 && stopped < reasons.length; i++) {
          const listed = await w.ecs.send(
            new ListTasksCommand({ cluster, startedBy, desiredStatus: 'RUNNING' }),
          );
          for (const task of listed.taskArns ?? []) {
            if (stopped >= reasons.length) break;
            await w.ecs.send(new StopTaskCommand({ cluster, task, reason: reasons[stopped] }));
            stopped++;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      },
    );
    expect(stopped).toBe(reasons.length);
    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({
      'rollout-state': 'COMPLETED',
      'rolled-back': 'false',
      'rollback-state': 'NONE',
    });
    expect(run.stdout).not.toMatch(/circuit breaker rolls|Rolled back/);
    expect(run.stdout).toContain('not counted as a failure');
    expect(leakedCommands(run.stdout)).toEqual([]);
    expect(run.stdout).toContain(PWNED);
    expect((await w.service(cluster, 'stopped-by-user')).taskDefinition).not.toBe(previous);
  });

  test('a deployment replaced by another run is reported as replaced: nothing rolled back, no rollback claimed', async () => {
    await establish('replaced', 'rollback');
    let theirs = '';
    const run = await deployWhile(
      { cluster, service: 'replaced', image: stuck },
      /^updated replaced: deployment/,
      async () => {
        const registered = await w.ecs.send(
          new RegisterTaskDefinitionCommand(
            JSON.parse(
              taskDefinition('replaced', [
                { name: 'app', image: good, environment: [{ name: 'BY', value: 'other-run' }] },
              ]),
            ),
          ),
        );
        theirs = registered.taskDefinition?.taskDefinitionArn ?? '';
        await w.ecs.send(new UpdateServiceCommand({ cluster, service: 'replaced', taskDefinition: theirs }));
      },
    );
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({
      'rollout-state': 'FAILED',
      'rolled-back': 'false',
      'rollback-state': 'NONE',
    });
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /^Deployment ecs-svc\/\d+ was replaced by another deployment: deployment ecs-svc\/\d+ \(replaced:3\) is PRIMARY now/,
    );
    expect(run.stdout).toContain(
      'Nothing was rolled back: the deployment that replaced ours is not ours to undo.',
    );
    expect(run.stdout).not.toMatch(/circuit breaker rolls|Rolled back|rolling back/);
    // The other run's revision stays: ours did not fight it.
    expect((await w.service(cluster, 'replaced')).taskDefinition).toBe(theirs);
  });

  test('wait-for-rollback: false fails as soon as the failure is reported, the rollback IN_PROGRESS', async () => {
    const previous = await establish('no-wait', 'off');
    const run = await w.deploy({
      cluster,
      service: 'no-wait',
      image: crashing,
      'wait-for-rollback': 'false',
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({
      'rollout-state': 'FAILED',
      'rolled-back': 'false',
      'rollback-state': 'IN_PROGRESS',
    });
    expect(run.stdout).toMatch(
      /The rollback to no-wait:1 by this step \(deployment ecs-svc\/\d+\) is in progress; wait-for-rollback is false/,
    );
    expect((await w.service(cluster, 'no-wait')).taskDefinition).toBe(previous);
  });

  test('a re-run without image after a failed deploy reuses the revision the service runs: nothing registered', async () => {
    const previous = await establish('reuse', 'rollback');
    const failed = await w.deploy({
      cluster,
      service: 'reuse',
      image: await w.missing('hardening/web', 'reuse-missing'),
    });
    expect(failed.outputs['rolled-back']).toBe('true');
    expect(await w.revisions('reuse')).toHaveLength(2);
    const mark = w.mark();
    const again = await w.deploy({ cluster, service: 'reuse' });
    expect(again.errors).toEqual([]);
    expect(again.outputs).toMatchObject({ 'task-definition-arn': previous, 'rollout-state': 'COMPLETED' });
    expect(again.stdout).toContain(
      `${previous} (which the service runs) already has this definition: nothing registered`,
    );
    // It used to register reuse:3, a copy of reuse:1.
    expect(await w.revisions('reuse')).toHaveLength(2);
    expect(mutations(w.ecsCalls(mark))).toEqual([]);
  });

  test('the dry run for a new service in an existing family diffs against the family latest revision', async () => {
    await establish('family-a', 'rollback');
    const run = await w.deploy({
      cluster,
      service: 'family-b',
      'task-definition': taskDefinition('family-a', [{ name: 'app', image: crashing }]),
      'create-service': 'true',
      subnets: SUBNET,
      'dry-run': 'true',
    });
    expect(run.errors).toEqual([]);
    expect(run.stdout).toContain(`Changes from ${ACCOUNT_ARN}:task-definition/family-a:1:`);
    expect(run.stdout).toContain(`containerDefinitions[app].image: ${good} → ${crashing}`);
    expect(run.stdout).not.toContain('first revision');
    expect(run.summary).toContain('Task definition changes from family-a:1 (1)');
  });
});

describe('deadlines and transient errors', () => {
  test('a DescribeServices that never answers: the step ends at its timeout, TIMED_OUT, saying the calls hung', async () => {
    await establish('hung', 'rollback');
    const run = await deployWhile(
      {
        cluster,
        service: 'hung',
        image: good,
        timeout: '5s',
        'rollback-on-failure': 'false',
        'docker-labels': 'v=2',
      },
      /^updated hung: deployment/,
      async () => {
        w.aws.faults.arm({
          kind: 'latency',
          service: 'ecs',
          operation: 'DescribeServices',
          latencyMs: 600_000,
        });
      },
    );
    expect(run.exitCode).toBe(1);
    // 5 s of following, the last check's grace, one bounded read before deciding on a rollback.
    expect(run.durationMs).toBeLessThan(25_000);
    expect(run.outputs).toMatchObject({ 'rollout-state': 'TIMED_OUT', 'rollback-state': 'NONE' });
    expect(run.errors[0]).toMatch(
      /did not finish within 5 s\. .*The last checks failed: .*No answer before the deadline \(5 s\)/s,
    );
  });

  test('run-task-timeout holds while DescribeTasks never answers; the task is then stopped', async () => {
    await establish('one-off-hung', 'rollback');
    const run = await deployWhile(
      {
        cluster,
        service: 'one-off-hung',
        image: good,
        'docker-labels': 'v=2',
        'run-task-before-deploy': 'sleep 3600',
        'run-task-timeout': '3s',
      },
      /^started arn:aws:ecs:/,
      async () => {
        w.aws.faults.arm({ kind: 'latency', service: 'ecs', operation: 'DescribeTasks', latencyMs: 600_000 });
      },
    );
    expect(run.exitCode).toBe(1);
    expect(run.durationMs).toBeLessThan(20_000);
    expect(run.errors[0]).toMatch(/did not stop within 3 s .*it was stopped with StopTask/);
    expect((await w.service(cluster, 'one-off-hung')).taskDefinition).toBe(
      `${ACCOUNT_ARN}:task-definition/one-off-hung:1`,
    );
  });

  test('a malformed AWS_REGION is an error that names it, before any call', async () => {
    const mark = w.mark();
    const run = await runAction('ecs-deploy-fargate', {
      inputs: { cluster, service: 'web', image: good },
      env: { ...localAwsEnv(w.aws, 'ecs-deploy-fargate'), AWS_REGION: 'us-east-1\nx' },
    });
    expect(run.exitCode).toBe(1);
    expect(run.errors).toEqual([
      'AWS_REGION is "us-east-1\\nx", which is not an AWS region such as us-east-1.\nSet the region input, or fix the aws-region given to aws-actions/configure-aws-credentials.',
    ]);
    expect(w.ecsCalls(mark)).toEqual([]);
  });

  test('throttling while following is waited out, not a failure; the summary counts the throttled calls', async () => {
    await establish('throttled', 'rollback');
    const run = await deployWhile(
      { cluster, service: 'throttled', image: good, 'docker-labels': 'v=2' },
      /^updated throttled: deployment/,
      async () => {
        // More than the SDK's 5 attempts of one call: the follow loop must retry on its own.
        w.aws.faults.arm({
          kind: 'throttling',
          service: 'ecs',
          operation: 'DescribeServices',
          count: 7,
          message: HOSTILE_TEXT,
        });
      },
    );
    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs['rollout-state']).toBe('COMPLETED');
    // The SDK's 5 attempts, then the client's own wait: said, and sent again.
    expect(run.stdout).toMatch(
      /ECS DescribeServices failed: ThrottlingException: [^\n]*; throttling is waited out: sending it again in \d+ s/,
    );
    expect(run.summary).toMatch(/API calls<\/th><td>\d+ \(ECS \d+, STS 1\); 7 throttled</);
    // The error body is outside text: printed, never a command.
    expect(leakedCommands(run.stdout)).toEqual([]);
    expect(run.stdout).toContain(PWNED);
  });
});

describe('an early end says what state things are in', () => {
  test('UpdateService refused: the new revision is registered, the service still on the old one', async () => {
    await establish('update-denied', 'rollback');
    w.aws.faults.arm({
      kind: 'internal-error',
      service: 'ecs',
      operation: 'UpdateService',
      status: 400,
      code: 'AccessDeniedException',
      message: 'User: arn:aws:iam::000000000000:user/test is not authorized to perform: ecs:UpdateService',
    });
    const run = await w.deploy({ cluster, service: 'update-denied', image: crashing });
    expect(run.exitCode).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /^Updating the service update-denied failed: update-denied still runs update-denied:1; update-denied:2 is registered but not deployed\nCaused by: ECS UpdateService failed: AccessDeniedException/,
    );
    expect(run.outputs).toMatchObject({
      'task-definition-arn': `${ACCOUNT_ARN}:task-definition/update-denied:2`,
      'rollout-state': 'NOT_STARTED',
      'rollback-state': 'NONE',
    });
    expect(run.summary).toContain('The step stopped early');
    expect(run.summary).toContain('update-denied:2 is registered but not deployed');
  });

  test('a one-off task that outlives run-task-timeout is stopped, and the step says so', async () => {
    await establish('one-off-slow', 'rollback');
    const run = await w.deploy({
      cluster,
      service: 'one-off-slow',
      image: good,
      'docker-labels': 'v=2',
      'run-task-before-deploy': 'sleep 3600',
      'run-task-timeout': '2s',
    });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toMatch(
      /^run-task-before-deploy: the task (arn:aws:ecs:\S+) did not stop within 2 s \(last status \w+\); it was stopped with StopTask \(now \w+\); the service was not updated/,
    );
    const taskArn = /the task (arn:aws:ecs:\S+) did not stop/.exec(run.errors[0] ?? '')?.[1] ?? '';
    const task = w.aws.admin.ecs.snapshot();
    const found = Object.values(task.regions)
      .flatMap((r) => Object.values(r.tasks))
      .find((t) => taskArn.endsWith(t.id));
    expect(found?.desiredStatus).toBe('STOPPED');
    expect(found?.stopCode).toBe('UserInitiated');
    expect(w.aws.opLog.entries({ operation: 'StopTask' }).length).toBeGreaterThan(0);
    expect((await w.service(cluster, 'one-off-slow')).taskDefinition).toBe(
      `${ACCOUNT_ARN}:task-definition/one-off-slow:1`,
    );
    expect(run.summary).toContain('The step stopped early');
  });

  test('invalid inputs: the summary says nothing was changed, and lists each problem', async () => {
    const mark = w.mark();
    const run = await w.deploy({
      cluster,
      service: 'web',
      environment: 'DB-URL=postgres://app:pw@db',
      timeout: 'soon',
    });
    expect(run.exitCode).toBe(1);
    expect(run.summary).toContain('The inputs are not valid: nothing was changed in AWS.');
    expect(run.summary).toContain('Line 1 has the key &quot;DB-URL&quot;');
    expect(`${run.summary}${run.stdout}`).not.toContain('app:pw');
    expect(w.ecsCalls(mark)).toEqual([]);
  });
});

describe('outside text cannot command the runner', () => {
  test('a service event', async () => {
    await establish('event-sink', 'rollback');
    const run = await deployWhile(
      { cluster, service: 'event-sink', image: good, 'docker-labels': 'v=2' },
      /^updated event-sink: deployment/,
      async () => {
        w.aws.admin.ecs.addServiceEvent(
          { accountId: '000000000000', region: 'us-east-1', cluster, service: 'event-sink' },
          `(service event-sink) ${HOSTILE_TEXT}`,
        );
      },
    );
    expect(run.errors).toEqual([]);
    expect(leakedCommands(run.stdout)).toEqual([]);
    expect(run.stdout).toContain(PWNED);
  });

  test('a value of the running revision, shown in the diff', async () => {
    // Someone with ecs:RegisterTaskDefinition put a crafted docker label on the running revision.
    const run0 = await w.deploy({
      cluster,
      service: 'diff-sink',
      'task-definition': taskDefinition('diff-sink', [
        { name: 'app', image: good, dockerLabels: { evil: HOSTILE_TEXT } },
      ]),
      'create-service': 'true',
      subnets: SUBNET,
    });
    expect(run0.errors).toEqual([]);
    const run = await w.deploy({
      cluster,
      service: 'diff-sink',
      'docker-labels': 'evil=harmless',
      'dry-run': 'true',
    });
    expect(run.errors).toEqual([]);
    expect(run.stdout).toContain('containerDefinitions[app].dockerLabels.evil:');
    expect(leakedCommands(`${run0.stdout}\n${run.stdout}`)).toEqual([]);
    expect(run.stdout).toContain(PWNED);
  });

  test("the one-off task's command", async () => {
    await establish('command-sink', 'rollback');
    const run = await w.deploy({
      cluster,
      service: 'command-sink',
      image: good,
      'docker-labels': 'v=2',
      // The script is exactly "exit 0" (local-aws's documented one-off form); the rest is $0.
      'run-task-before-deploy': JSON.stringify(['sh', '-c', 'exit 0', HOSTILE_TEXT]),
    });
    expect(leakedCommands(run.stdout)).toEqual([]);
    expect(run.stdout).toContain(PWNED);
  });
});
