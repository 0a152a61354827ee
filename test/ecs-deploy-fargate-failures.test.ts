// ecs-deploy-fargate end to end, when the rollout goes wrong: an image that cannot be pulled (with
// and without the circuit breaker), a crash loop, a rollout slower than `timeout` — and what
// rollback-on-failure does about each. Each test has its own service on one local-aws (60× clock).
import { jest } from '@jest/globals';
import {
  ACCOUNT_ARN,
  SUBNET,
  mutations,
  startEcsWorld,
  taskDefinition,
  type EcsWorld,
} from './helpers/ecs-deploy.js';
import { localAwsEnv, runAction } from './helpers/action-runner.js';
import { refusedCalls } from './helpers/policies.js';

jest.setTimeout(60_000);

let w: EcsWorld;
const cluster = 'failures';
let good: string;
let crashing: string;
let slow: string;

beforeAll(async () => {
  w = await startEcsWorld(60);
  await w.createCluster(cluster);
  good = await w.push('failures/web', 'good');
  crashing = await w.push('failures/web', 'crash', { 'local-aws.exit-code': '3' });
  slow = await w.push('failures/web', 'slow', { 'local-aws.start-delay': '10m' });
});
// Each action ran under its published policies: nothing it called may have been refused.
afterEach(() => expect(refusedCalls(w.aws)).toEqual([]));
afterAll(async () => {
  await w?.stop();
});

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
  expect(run.outputs['rollout-state']).toBe('COMPLETED');
  return run.outputs['task-definition-arn'] ?? '';
}

/** N in "Deployment <id>: N tasks failed (max-failed-tasks is <max>)", the first line of the error. */
function failedCount(error: string, deployment: string, max: number): number {
  const match = new RegExp(
    `^Deployment ${deployment}: (\\d+) tasks failed \\(max-failed-tasks is ${max}\\)\n`,
  ).exec(error);
  if (!match) throw new Error(`not a max-failed-tasks failure: ${error}`);
  return Number(match[1]);
}

const CANNOT_PULL =
  /CannotPullContainerError: pull image manifest has been retried 5 time\(s\): failed to resolve ref .*missing.*: not found/;

test('CannotPullContainerError with the circuit breaker: ECS rolls back, the step fails with the stop reason', async () => {
  const previous = await establish('pull-breaker', 'rollback');
  const image = await w.missing('failures/web', 'missing');
  const mark = w.mark();
  const run = await w.deploy({ cluster, service: 'pull-breaker', image, 'max-failed-tasks': '10' });
  expect(run.exitCode).toBe(1);
  expect(run.outputs).toMatchObject({
    'task-definition-arn': `${ACCOUNT_ARN}:task-definition/pull-breaker:2`,
    'rollout-state': 'ROLLED_BACK',
    'rolled-back': 'true',
  });
  const deployment = run.outputs['deployment-id'] ?? '';
  expect(run.errors).toHaveLength(1);
  const error = run.errors[0] ?? '';
  // Seen while ECS rolls back, or once it has drained our deployment (a poll is a minute of ECS).
  expect(error).toMatch(
    new RegExp(
      `^Deployment ${deployment} (failed \\(ECS deployment circuit breaker: tasks failed to start\\.\\); the circuit breaker is rolling back to pull-breaker:1|was rolled back: deployment ecs-svc/\\d+ \\(pull-breaker:1\\) is PRIMARY now)`,
    ),
  );
  expect(error).toMatch(CANNOT_PULL);
  expect(error).toContain('[TaskFailedToStart]');
  // Then the step followed ECS's rollback to its end, and says so.
  expect(run.outputs['rollback-state']).toBe('COMPLETED');
  expect(run.stdout).toMatch(
    new RegExp(`Rolled back to ${previous} by ECS \\(deployment ecs-svc/\\d+\\): COMPLETED`),
  );
  expect(run.stdout).toContain(
    'pull-breaker: rollout ROLLED_BACK, rollback COMPLETED (the service runs its previous task definition again)',
  );
  expect(run.stdout).toMatch(
    /\(service pull-breaker\) \(deployment ecs-svc\/\d+\) deployment failed: tasks failed to start\./,
  );
  expect(run.summary).toContain('<td>ROLLED_BACK</td><td>COMPLETED</td><td>yes</td>');
  // ECS rolled back; the step did not roll back again.
  expect(mutations(w.ecsCalls(mark))).toEqual(['RegisterTaskDefinition', 'UpdateService']);
  const service = await w.service(cluster, 'pull-breaker');
  expect(service.taskDefinition).toBe(previous);
  expect(service.deployments?.find((d) => d.status === 'PRIMARY')?.taskDefinition).toBe(previous);
  expect(service.deployments?.find((d) => d.id === deployment)?.rolloutState ?? 'gone').toMatch(
    /FAILED|gone/,
  );
});

test('CannotPullContainerError without the breaker: fails fast after max-failed-tasks, then puts the previous revision back', async () => {
  const previous = await establish('pull-nobreaker', 'off');
  const image = await w.missing('failures/web', 'missing');
  const mark = w.mark();
  const run = await w.deploy({ cluster, service: 'pull-nobreaker', image });
  expect(run.exitCode).toBe(1);
  expect(run.outputs).toMatchObject({ 'rollout-state': 'FAILED', 'rolled-back': 'true' });
  const deployment = run.outputs['deployment-id'] ?? '';
  expect(run.errors).toHaveLength(1);
  const error = run.errors[0] ?? '';
  // At least max-failed-tasks (another may have failed within the last poll, a minute of ECS),
  // one line per stopped task with its reason.
  expect(failedCount(error, deployment, 3)).toBeGreaterThanOrEqual(3);
  expect(error.split('\n').filter((line) => CANNOT_PULL.test(line))).toHaveLength(
    failedCount(error, deployment, 3),
  );
  // Each thing once: a task's reason is not repeated as its container's, and the debug log holds
  // no second copy of the failure.
  for (const line of error.split('\n').filter((l) => CANNOT_PULL.test(l))) {
    expect(line.match(/CannotPullContainerError/g)).toHaveLength(1);
  }
  expect(
    run.stdout.split('\n').filter((l) => l.startsWith('::debug::') && l.includes('CannotPullContainerError')),
  ).toEqual([]);
  expect(run.outputs['rollback-state']).toBe('COMPLETED');
  expect(run.stdout).toContain(`rolling back pull-nobreaker to ${previous}`);
  expect(run.stdout).toMatch(
    new RegExp(`Rolled back to ${previous} by this step \\(deployment ecs-svc/\\d+\\): COMPLETED`),
  );
  // The rollback's follow prints only what is new: each event once, in the log and the summary.
  const events = run.stdout.split('\n').filter((line) => /^\d{4}-\S+Z \(service pull-nobreaker\)/.test(line));
  expect(events).toContain(events.find((line) => line.includes('deployment completed')));
  expect(new Set(events).size).toBe(events.length);
  expect(run.summary).toContain(`pull-nobreaker: service events (${events.length})`);
  expect(mutations(w.ecsCalls(mark))).toEqual(['RegisterTaskDefinition', 'UpdateService', 'UpdateService']);
  // Followed to the end: the previous revision is PRIMARY, COMPLETED, alone.
  const service = await w.service(cluster, 'pull-nobreaker');
  expect(service.taskDefinition).toBe(previous);
  expect(service.deployments).toEqual([
    expect.objectContaining({ status: 'PRIMARY', taskDefinition: previous, rolloutState: 'COMPLETED' }),
  ]);
  // The 15-minute default timeout was never near: ECS-minutes went by in seconds.
  expect(run.durationMs).toBeLessThan(20_000);
});

test('a crash loop: the error gives the exit code of the container', async () => {
  const previous = await establish('crash', 'rollback');
  const run = await w.deploy({ cluster, service: 'crash', image: crashing, 'max-failed-tasks': '10' });
  expect(run.exitCode).toBe(1);
  expect(run.outputs).toMatchObject({ 'rollout-state': 'ROLLED_BACK', 'rolled-back': 'true' });
  expect(run.errors).toHaveLength(1);
  const error = run.errors[0] ?? '';
  expect(error).toContain('Essential container in task exited [EssentialContainerExited]');
  expect(error).toContain('container app: exit code 3');
  expect((await w.service(cluster, 'crash')).taskDefinition).toBe(previous);
});

test('rollback-on-failure: false leaves the failed revision in place', async () => {
  await establish('no-rollback', 'off');
  const mark = w.mark();
  const run = await w.deploy({
    cluster,
    service: 'no-rollback',
    image: crashing,
    'rollback-on-failure': 'false',
    'max-failed-tasks': '2',
  });
  expect(run.exitCode).toBe(1);
  expect(run.outputs).toMatchObject({ 'rollout-state': 'FAILED', 'rolled-back': 'false' });
  expect(run.errors).toHaveLength(1);
  const error = run.errors[0] ?? '';
  const deployment = run.outputs['deployment-id'] ?? '';
  expect(failedCount(error, deployment, 2)).toBeGreaterThanOrEqual(2);
  expect(error.split('\n').filter((line) => line.endsWith('container app: exit code 3'))).toHaveLength(
    failedCount(error, deployment, 2),
  );
  expect(error).not.toContain('Rolled back');
  expect(run.outputs['rollback-state']).toBe('NONE');
  expect(run.stdout).toContain(
    'Nothing was rolled back (rollback-on-failure is false): no-rollback is left as it is',
  );
  expect(mutations(w.ecsCalls(mark))).toEqual(['RegisterTaskDefinition', 'UpdateService']);
  const service = await w.service(cluster, 'no-rollback');
  expect(service.taskDefinition).toBe(run.outputs['task-definition-arn']);
  expect(service.deployments?.find((d) => d.status === 'PRIMARY')?.id).toBe(run.outputs['deployment-id']);
});

test('timeout: TIMED_OUT with the last state, then rolled back and followed', async () => {
  const previous = await establish('slow', 'rollback');
  const run = await w.deploy({ cluster, service: 'slow', image: slow, timeout: '4s' });
  expect(run.exitCode).toBe(1);
  expect(run.outputs).toMatchObject({ 'rollout-state': 'TIMED_OUT', 'rolled-back': 'true' });
  const deployment = run.outputs['deployment-id'] ?? '';
  expect(run.errors).toHaveLength(1);
  const error = run.errors[0] ?? '';
  expect(error).toContain(
    `Deployment ${deployment} did not finish within 4 s. Last state: PRIMARY ${deployment} slow:2: running 0/1, pending 1`,
  );
  expect(error).toMatch(/ACTIVE ecs-svc\/\d+ slow:1: running 1\/1/);
  expect(run.outputs['rollback-state']).toBe('COMPLETED');
  expect(run.stdout).toContain(`Rolled back to ${previous} by this step`);
  const service = await w.service(cluster, 'slow');
  expect(service.taskDefinition).toBe(previous);
  expect(service.deployments).toEqual([
    expect.objectContaining({ status: 'PRIMARY', taskDefinition: previous, rolloutState: 'COMPLETED' }),
  ]);
});

test('circuit-breaker: on (no rollback by ECS): FAILED is seen at once, then the step rolls back itself', async () => {
  const previous = await establish('breaker-on', 'on');
  const mark = w.mark();
  const run = await w.deploy({ cluster, service: 'breaker-on', image: crashing, 'max-failed-tasks': '10' });
  expect(run.exitCode).toBe(1);
  expect(run.outputs).toMatchObject({ 'rollout-state': 'FAILED', 'rolled-back': 'true' });
  const deployment = run.outputs['deployment-id'] ?? '';
  expect(run.errors).toHaveLength(1);
  const error = run.errors[0] ?? '';
  expect(error).toContain(
    `Deployment ${deployment} failed: ECS deployment circuit breaker: tasks failed to start.`,
  );
  expect(error).toContain('container app: exit code 3');
  expect(run.outputs['rollback-state']).toBe('COMPLETED');
  expect(run.stdout).toContain(`Rolled back to ${previous} by this step`);
  expect(mutations(w.ecsCalls(mark))).toEqual(['RegisterTaskDefinition', 'UpdateService', 'UpdateService']);
  const service = await w.service(cluster, 'breaker-on');
  expect(service.deployments).toEqual([
    expect.objectContaining({ status: 'PRIMARY', taskDefinition: previous, rolloutState: 'COMPLETED' }),
  ]);
});

test('an API error while following ends the step at once with that error, not at the timeout', async () => {
  await establish('denied', 'rollback');
  // ListTasks is called only while following, once a task of our deployment may have stopped
  // (its image exits 3): the first time it is asked, it is refused.
  w.aws.faults.arm({
    kind: 'internal-error',
    service: 'ecs',
    operation: 'ListTasks',
    status: 400,
    code: 'AccessDeniedException',
    message: 'User: arn:aws:iam::000000000000:user/test is not authorized to perform: ecs:ListTasks',
  });
  try {
    const v2 = await w.push('failures/web', 'denied-v2', { 'local-aws.exit-code': '3' });
    const run = await w.deploy({ cluster, service: 'denied', image: v2 });
    expect(run.exitCode).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /^ECS ListTasks failed: AccessDeniedException: User: \S+ is not authorized/,
    );
    expect(run.errors[0]).toContain('Missing IAM permission ecs:ListTasks');
    expect(run.durationMs).toBeLessThan(10_000);
    // The outputs still name the deployment that was started, and say its end is unknown.
    expect(run.outputs['deployment-id']).toMatch(/^ecs-svc\/\d+$/);
    expect(run.outputs['rollout-state']).toBe('UNKNOWN');
    expect(run.outputs['rollback-state']).toBe('UNKNOWN');
    // The summary is written on this exit path too, and says what stopped the step.
    expect(run.summary).toContain('The step stopped early');
    expect(run.summary).toContain('ECS ListTasks failed: AccessDeniedException');
    // Asked once, not retried: access denied is not transient.
    expect(w.aws.opLog.entries({ operation: 'ListTasks', errorCode: 'AccessDeniedException' })).toHaveLength(
      1,
    );
  } finally {
    w.aws.faults.clear();
  }
});

test('timeout on a service this step created: TIMED_OUT, nothing to roll back to', async () => {
  const run = await w.deploy({
    cluster,
    service: 'slow-new',
    'task-definition': taskDefinition('slow-new', [{ name: 'app', image: slow }]),
    'create-service': 'true',
    subnets: SUBNET,
    timeout: '2s',
  });
  expect(run.exitCode).toBe(1);
  expect(run.outputs).toMatchObject({ 'rollout-state': 'TIMED_OUT', 'rolled-back': 'false' });
  expect(run.errors).toHaveLength(1);
  expect(run.errors[0]).toContain(`Deployment ${run.outputs['deployment-id']} did not finish within 2 s.`);
  expect(run.errors[0]).not.toContain('Rolled back');
  expect(run.outputs['rollback-state']).toBe('NONE');
  expect(run.stdout).toContain(
    'Nothing to roll back to: slow-new had no earlier revision (it was created by this step).',
  );
  const service = await w.service(cluster, 'slow-new');
  expect(service.taskDefinition).toBe(run.outputs['task-definition-arn']);
});

test('services: a failed service stops the step before the next one moves', async () => {
  const created = await w.deploy({
    cluster,
    services: 'pair-a,pair-b',
    'task-definition': taskDefinition('pair', [{ name: 'app', image: good }]),
    'create-service': 'true',
    subnets: SUBNET,
  });
  expect(created.outputs['rollout-state']).toBe('COMPLETED\nCOMPLETED');
  const before = (await w.service(cluster, 'pair-b')).taskDefinition;
  const from = w.mark();
  const run = await w.deploy({
    cluster,
    services: 'pair-a,pair-b',
    image: await w.missing('failures/web', 'gone'),
  });
  expect(run.exitCode).toBe(1);
  expect(run.outputs['rollout-state']).toBe('ROLLED_BACK\nNOT_STARTED');
  expect(run.outputs['rollback-state']).toBe('COMPLETED\nNONE');
  expect(run.errors).toHaveLength(1);
  expect(run.errors[0]).toMatch(/^pair-a: Deployment ecs-svc\/\d+ /);
  expect(run.stdout).toContain(
    'pair-b: rollout NOT_STARTED, rollback NONE (not deployed: pair-a failed first)',
  );
  expect(run.summary).toContain('pair-b: not deployed: pair-a failed first');
  expect((await w.service(cluster, 'pair-b')).taskDefinition).toBe(before);
  expect(mutations(w.ecsCalls(from))).toEqual(['RegisterTaskDefinition', 'UpdateService']);
});

test('default inputs: the failure is reported at once, then the rollback is followed and rolled-back is true', async () => {
  const previous = await establish('pull-default', 'rollback');
  const mark = w.mark();
  const run = await w.deploy({
    cluster,
    service: 'pull-default',
    image: await w.missing('failures/web', 'missing-default'),
  });
  expect(run.exitCode).toBe(1);
  // The breaker's threshold and max-failed-tasks are both 3 here: whichever decides first, the
  // service is seen back on the previous revision before the step ends.
  expect(['FAILED', 'ROLLED_BACK']).toContain(run.outputs['rollout-state']);
  expect(run.outputs).toMatchObject({ 'rolled-back': 'true', 'rollback-state': 'COMPLETED' });
  expect(run.errors).toHaveLength(1);
  expect(run.errors[0]).toMatch(CANNOT_PULL);
  expect(run.errors[0]).not.toMatch(/circuit breaker rolls the service back/);
  // The ::error:: line comes when the failure is decidable, before the rollback is followed.
  const lines = run.stdout.split('\n');
  const errorAt = lines.findIndex((l) => l.startsWith('::error::'));
  const rolledBackAt = lines.findIndex((l) => l.startsWith(`Rolled back to ${previous}`));
  expect(errorAt).toBeGreaterThanOrEqual(0);
  expect(rolledBackAt).toBeGreaterThan(errorAt);
  // One rollback, never two: ECS's, or ours when the step decided first.
  const updates = mutations(w.ecsCalls(mark)).filter((op) => op === 'UpdateService');
  expect(updates.length).toBeLessThanOrEqual(2);
  const service = await w.service(cluster, 'pull-default');
  expect(service.deployments).toEqual([
    expect.objectContaining({ status: 'PRIMARY', taskDefinition: previous, rolloutState: 'COMPLETED' }),
  ]);
});

test('a cancelled job (SIGTERM while following) stops at once, says so, and leaves the service to ECS', async () => {
  await establish('cancel', 'rollback');
  const mark = w.mark();
  const run = await runAction('ecs-deploy-fargate', {
    inputs: { cluster, service: 'cancel', image: slow, 'poll-interval': '1s' },
    env: localAwsEnv(w.aws, 'ecs-deploy-fargate'),
    signalWhen: { line: /^updated cancel: deployment ecs-svc\/\d+/, signal: 'SIGTERM' },
    timeoutMs: 60_000,
  });
  expect(run.exitCode).toBe(1);
  expect(run.durationMs).toBeLessThan(15_000);
  expect(run.errors).toHaveLength(1);
  expect(run.errors[0]).toMatch(/SIGTERM/);
  expect(run.outputs['rollout-state']).toBe('CANCELLED');
  expect(run.outputs['rollback-state']).toBe('NONE');
  expect(run.outputs['deployment-id']).toMatch(/^ecs-svc\/\d+$/);
  // No rollback of ours after a cancellation: the deployment goes on in ECS.
  expect(mutations(w.ecsCalls(mark))).toEqual(['RegisterTaskDefinition', 'UpdateService']);
});
