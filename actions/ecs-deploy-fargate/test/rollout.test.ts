import type { ServiceEvent } from '@aws-sdk/client-ecs';
import {
  decideRollout,
  describeStoppedTask,
  isFailedTask,
  newEvents,
  type RolloutState,
} from '../src/rollout.js';
import { OLD, OURS, ROLLBACK, TD6, TD7, deployment, service, stoppedTask } from './fixtures.js';

const TD8 = TD7.replace(':7', ':8');

const old = (overrides = {}) =>
  deployment({
    id: OLD,
    status: 'ACTIVE',
    taskDefinition: TD6,
    runningCount: 2,
    rolloutState: 'COMPLETED',
    ...overrides,
  });

function state(overrides: Partial<RolloutState>): RolloutState {
  return { service: service([deployment({})]), deploymentId: OURS, maxFailedTasks: 3, ...overrides };
}

describe('decideRollout', () => {
  test.each<[string, Partial<RolloutState>, string, RegExp]>([
    [
      'starting: ours PRIMARY and IN_PROGRESS beside the old one',
      { service: service([deployment({ pendingCount: 2 }), old()]) },
      'in-progress',
      /^PRIMARY ecs-svc\/1+ web:7: running 0\/2, pending 2, failed 0, rollout IN_PROGRESS; ACTIVE ecs-svc\/2+ web:6: running 2\/2/,
    ],
    [
      'breaker on: PRIMARY and COMPLETED, even while the old deployment drains',
      {
        service: service([
          deployment({ runningCount: 2, rolloutState: 'COMPLETED' }),
          old({ desiredCount: 0, runningCount: 1 }),
        ]),
      },
      'completed',
      /^Deployment ecs-svc\/1+ completed: 2 of 2 tasks of web:7 running$/,
    ],
    [
      'breaker off: COMPLETED is not enough while the old deployment is listed',
      {
        service: service(
          [
            deployment({ runningCount: 2, rolloutState: 'COMPLETED' }),
            old({ desiredCount: 0, runningCount: 1 }),
          ],
          false,
        ),
      },
      'in-progress',
      /rollout COMPLETED; ACTIVE/,
    ],
    [
      'breaker off: COMPLETED, running == desired, no other deployment',
      { service: service([deployment({ runningCount: 2, rolloutState: 'COMPLETED' })], false) },
      'completed',
      /completed/,
    ],
    [
      'breaker off: COMPLETED but a task still pending',
      {
        service: service(
          [deployment({ runningCount: 2, pendingCount: 1, rolloutState: 'COMPLETED' })],
          false,
        ),
      },
      'in-progress',
      /pending 1/,
    ],
    [
      'the breaker given by the caller wins over the service setting',
      {
        service: service([deployment({ runningCount: 1, rolloutState: 'COMPLETED' }), old()], true),
        circuitBreaker: false,
      },
      'in-progress',
      /running 1\/2/,
    ],
    [
      'no rolloutState (another deployment controller): settled is completed',
      { service: service([deployment({ runningCount: 2, rolloutState: undefined })], false) },
      'completed',
      /completed/,
    ],
    [
      'no rolloutState, not settled',
      { service: service([deployment({ runningCount: 1, rolloutState: undefined })], false) },
      'in-progress',
      /running 1\/2/,
    ],
    [
      'scaled to zero',
      {
        service: service(
          [deployment({ desiredCount: 0, runningCount: 0, rolloutState: 'COMPLETED' })],
          false,
        ),
      },
      'completed',
      /0 of 0 tasks/,
    ],
    [
      'breaker with rollback: ours FAILED, the rollback deployment PRIMARY',
      {
        service: service([
          deployment({ id: ROLLBACK, taskDefinition: TD6, rolloutState: 'IN_PROGRESS' }),
          deployment({
            status: 'ACTIVE',
            failedTasks: 3,
            rolloutState: 'FAILED',
            rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
          }),
        ]),
        stoppedTasks: [stoppedTask('aaa')],
      },
      'rolled-back',
      /^Deployment ecs-svc\/1+ failed \(ECS deployment circuit breaker: tasks failed to start\.\); the circuit breaker is rolling back to web:6 \(deployment ecs-svc\/3+\)\n {2}task aaa \(web:7\) stopped: CannotPullContainerError/,
    ],
    [
      'breaker without rollback: ours FAILED and still PRIMARY',
      {
        service: service([
          deployment({
            rolloutState: 'FAILED',
            rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
          }),
          old(),
        ]),
      },
      'failed',
      /^Deployment ecs-svc\/1+ failed: ECS deployment circuit breaker: tasks failed to start\.$/,
    ],
    [
      'ours gone from the deployments: rolled back',
      {
        service: service([
          deployment({ id: ROLLBACK, taskDefinition: TD6, rolloutState: 'COMPLETED', runningCount: 2 }),
        ]),
        previousTaskDefinition: TD6,
      },
      'rolled-back',
      /^Deployment ecs-svc\/1+ was rolled back: deployment ecs-svc\/3+ \(web:6\) is PRIMARY now$/,
    ],
    [
      'ours gone, and the previous revision is PRIMARY again',
      {
        service: service([deployment({ id: ROLLBACK, taskDefinition: TD6 })]),
        previousTaskDefinition: TD6,
      },
      'rolled-back',
      /was rolled back/,
    ],
    [
      'ours gone, and a newer revision is PRIMARY: another deployment replaced it',
      {
        service: service([deployment({ id: ROLLBACK, taskDefinition: TD8 })]),
        previousTaskDefinition: TD6,
      },
      'failed',
      /^Deployment ecs-svc\/1+ was replaced by another deployment: deployment ecs-svc\/3+ \(web:8\) is PRIMARY now$/,
    ],
    [
      'ours INACTIVE',
      {
        service: service([
          deployment({ status: 'INACTIVE' }),
          deployment({ id: ROLLBACK, taskDefinition: TD6 }),
        ]),
        previousTaskDefinition: TD6,
      },
      'rolled-back',
      /was rolled back/,
    ],
    [
      'ours gone and nothing known to have run before: another deployment, not a rollback',
      { service: service([deployment({ id: ROLLBACK, taskDefinition: TD6 })]) },
      'failed',
      /^Deployment ecs-svc\/1+ was replaced by another deployment: deployment ecs-svc\/3+ \(web:6\) is PRIMARY now$/,
    ],
    [
      'ours still listed but no longer PRIMARY, not FAILED: another UpdateService took over',
      {
        service: service([
          deployment({ id: ROLLBACK, taskDefinition: TD8 }),
          deployment({ status: 'ACTIVE', rolloutState: 'IN_PROGRESS' }),
        ]),
        previousTaskDefinition: TD6,
      },
      'failed',
      /^Deployment ecs-svc\/1+ was replaced by another deployment: deployment ecs-svc\/3+ \(web:8\) is PRIMARY now$/,
    ],
    [
      'no deployment at all',
      { service: service([]) },
      'rolled-back',
      /the service lists no PRIMARY deployment/,
    ],
    [
      'max-failed-tasks reached by stopped tasks',
      {
        service: service([deployment({ pendingCount: 2 }), old()], false),
        stoppedTasks: [stoppedTask('aaa'), stoppedTask('bbb'), stoppedTask('ccc')],
      },
      'failed',
      /^Deployment ecs-svc\/1+: 3 tasks failed \(max-failed-tasks is 3\)\n {2}task aaa .*\n {2}task bbb .*\n {2}task ccc /,
    ],
    [
      'below max-failed-tasks: still in progress, the failures kept for the log',
      {
        service: service([deployment({ pendingCount: 2 }), old()], false),
        stoppedTasks: [stoppedTask('aaa')],
      },
      'in-progress',
      /running 0\/2/,
    ],
    [
      'max-failed-tasks reached by the failedTasks count before DescribeTasks shows them',
      { service: service([deployment({ failedTasks: 1 })]), maxFailedTasks: 1 },
      'failed',
      /1 task failed \(max-failed-tasks is 1\)$/,
    ],
    [
      'scale-in and Spot reclaims are not failures',
      {
        service: service([deployment({ runningCount: 1 })]),
        maxFailedTasks: 1,
        stoppedTasks: [
          stoppedTask('s1', {
            stopCode: 'ServiceSchedulerInitiated',
            stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1111111111111111111)',
          }),
          stoppedTask('s2', {
            stopCode: 'SpotInterruption',
            stoppedReason: 'Your Spot Task was interrupted.',
          }),
        ],
      },
      'in-progress',
      /running 1\/2/,
    ],
    [
      'COMPLETED wins over earlier failures',
      {
        service: service([deployment({ runningCount: 2, failedTasks: 5, rolloutState: 'COMPLETED' })]),
        stoppedTasks: [stoppedTask('aaa'), stoppedTask('bbb'), stoppedTask('ccc')],
      },
      'completed',
      /completed/,
    ],
    [
      'the service was deleted',
      { service: { ...service([deployment({})]), status: 'DRAINING' } },
      'failed',
      /^The service web is DRAINING: it was deleted during the deployment$/,
    ],
  ])('%s', (_name, overrides, status, reason) => {
    const decision = decideRollout(state(overrides));
    expect(decision.status).toBe(status);
    expect(decision.reason).toMatch(reason);
  });

  // What decided a failure picks the next step: whose rollback, or none at all.
  test.each<[string, Partial<RolloutState>, string | undefined]>([
    ['in progress', {}, undefined],
    [
      'ECS marked it FAILED, still PRIMARY (breaker without rollback)',
      { service: service([deployment({ rolloutState: 'FAILED' })]) },
      'ecs-failed',
    ],
    [
      'FAILED and the breaker rolled back',
      {
        service: service([
          deployment({ id: ROLLBACK, taskDefinition: TD6 }),
          deployment({ status: 'ACTIVE', rolloutState: 'FAILED' }),
        ]),
      },
      'ecs-rolled-back',
    ],
    [
      'gone, the previous revision PRIMARY',
      { service: service([deployment({ id: ROLLBACK, taskDefinition: TD6 })]), previousTaskDefinition: TD6 },
      'ecs-rolled-back',
    ],
    [
      'gone, another revision PRIMARY',
      { service: service([deployment({ id: ROLLBACK, taskDefinition: TD8 })]), previousTaskDefinition: TD6 },
      'replaced',
    ],
    [
      'max-failed-tasks',
      { stoppedTasks: [stoppedTask('a'), stoppedTask('b'), stoppedTask('c')] },
      'failed-tasks',
    ],
    ['the service is DRAINING', { service: { ...service([deployment({})]), status: 'DRAINING' } }, 'deleted'],
  ])('cause: %s', (_name, overrides, cause) => {
    expect(decideRollout(state(overrides)).cause).toBe(cause);
  });

  test('after the breaker rolled back, the decision names the deployment to follow', () => {
    const decision = decideRollout(
      state({
        service: service([
          deployment({ id: ROLLBACK, taskDefinition: TD6 }),
          deployment({ status: 'ACTIVE', rolloutState: 'FAILED', rolloutStateReason: undefined }),
        ]),
      }),
    );
    expect(decision.primary?.id).toBe(ROLLBACK);
    expect(decision.deployment?.id).toBe(OURS);
    expect(decision.reason).toContain('no reason given');
  });

  test('failed tasks are listed while the rollout is still in progress', () => {
    const decision = decideRollout(state({ stoppedTasks: [stoppedTask('aaa')] }));
    expect(decision.failedTasks).toHaveLength(1);
  });
});

describe('stopped tasks', () => {
  test.each<[string, Parameters<typeof stoppedTask>[1], string]>([
    [
      'an image that cannot be pulled',
      {},
      'task aaa (web:7) stopped: CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:nope: not found [TaskFailedToStart]; container app: no exit code (CannotPullContainerError: ref not found)',
    ],
    [
      'a crash',
      {
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
        containers: [
          { name: 'app', lastStatus: 'STOPPED', exitCode: 1 },
          {
            name: 'envoy',
            lastStatus: 'STOPPED',
            exitCode: 137,
            reason: 'OutOfMemoryError: Container killed due to memory usage',
          },
          { name: 'xray', lastStatus: 'STOPPED' },
        ],
      },
      'task aaa (web:7) stopped: Essential container in task exited [EssentialContainerExited]; container app: exit code 1; container envoy: exit code 137 (OutOfMemoryError: Container killed due to memory usage)',
    ],
    [
      'failed health checks',
      {
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason:
          'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123)',
        containers: [{ name: 'app', exitCode: 143 }],
      },
      'task aaa (web:7) stopped: Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123) [ServiceSchedulerInitiated]; container app: exit code 143',
    ],
    [
      'nothing known',
      { stopCode: undefined, stoppedReason: undefined, containers: [], taskDefinitionArn: undefined },
      'task aaa stopped: no reason given',
    ],
    [
      'the container reason that repeats the task reason is said once',
      {
        stoppedReason: 'CannotPullContainerError: failed to resolve ref web:nope: not found',
        containers: [
          {
            name: 'app',
            lastStatus: 'STOPPED',
            reason: 'CannotPullContainerError: failed to resolve ref web:nope: not found',
          },
        ],
      },
      'task aaa (web:7) stopped: CannotPullContainerError: failed to resolve ref web:nope: not found [TaskFailedToStart]',
    ],
  ])('%s', (_name, overrides, line) => {
    const task = stoppedTask('aaa', overrides);
    expect(describeStoppedTask(task)).toBe(line);
    expect(isFailedTask(task)).toBe(true);
  });

  test.each([
    [{ stopCode: 'SpotInterruption' as const }],
    [{ stopCode: 'TerminationNotice' as const }],
    [
      {
        stopCode: 'ServiceSchedulerInitiated' as const,
        stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)',
      },
    ],
    // StopTask by a person or another tool: ECS's breaker does not count it, nor do we.
    [{ stopCode: 'UserInitiated' as const, stoppedReason: 'stopped by the on-call engineer' }],
  ])('not a failure: %j', (overrides) => {
    expect(isFailedTask(stoppedTask('aaa', overrides))).toBe(false);
  });

  test('a task stopped with StopTask is printed as not counted', () => {
    expect(
      describeStoppedTask(
        stoppedTask('aaa', { stopCode: 'UserInitiated', stoppedReason: 'x', containers: [] }),
      ),
    ).toBe(
      'task aaa (web:7) stopped: x [UserInitiated] (stopped with StopTask by a person or another tool: not counted as a failure)',
    );
  });

  test('three tasks stopped with StopTask do not fail the deployment', () => {
    const user = (id: string) =>
      stoppedTask(id, { stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' });
    const decision = decideRollout(state({ stoppedTasks: [user('a'), user('b'), user('c')] }));
    expect(decision.status).toBe('in-progress');
    expect(decision.failedTasks).toEqual([]);
  });
});

describe('newEvents', () => {
  const at = (seconds: number) => new Date(Date.UTC(2026, 2, 1, 10, 0, seconds));
  // DescribeServices: newest first.
  const events: ServiceEvent[] = [
    { id: 'e4', createdAt: at(40), message: '(service web) has reached a steady state.' },
    {
      id: 'e3',
      createdAt: at(30),
      message: '(service web) deployment ecs-svc/1111111111111111111 deployment completed.',
    },
    { id: 'e2', createdAt: at(20), message: '(service web) registered 1 targets in (target-group arn:…)' },
    { id: 'e1', createdAt: at(10), message: '(service web) has started 2 tasks: (task aaa) (task bbb).' },
    { id: 'e0', createdAt: at(0), message: '(service web) has reached a steady state.' },
  ];
  const ids = (list: ServiceEvent[]) => list.map((e) => e.id);

  test.each<[string, string[], Date | undefined, string[]]>([
    ['all, oldest first', [], undefined, ['e0', 'e1', 'e2', 'e3', 'e4']],
    ['only the unseen', ['e0', 'e1', 'e2'], undefined, ['e3', 'e4']],
    ['nothing new', ['e0', 'e1', 'e2', 'e3', 'e4'], undefined, []],
    ['not before the deployment began', [], at(10), ['e1', 'e2', 'e3', 'e4']],
  ])('%s', (_name, seen, notBefore, expected) => {
    expect(ids(newEvents(new Set(seen), events, notBefore))).toEqual(expected);
  });

  test('events in the same second keep the order ECS gave them', () => {
    const same: ServiceEvent[] = [
      { id: 'b', createdAt: at(5), message: 'second' },
      { id: 'a', createdAt: at(5), message: 'first' },
      { id: 'c', message: 'no time' },
    ];
    expect(ids(newEvents(new Set(), same))).toEqual(['c', 'a', 'b']);
  });
});
