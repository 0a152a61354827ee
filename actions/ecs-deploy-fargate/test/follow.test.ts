// The follow loop's budget, as pure rules: how long to pause after a check, and when the
// deployment's stopped tasks are worth a ListTasks.
import type { Deployment, Service } from '@aws-sdk/client-ecs';
import { followPaceMs, mayHaveStoppedTasks, startedTaskCount } from '../src/follow.js';

const ID = 'ecs-svc/1';

function service(ours: Partial<Deployment> | undefined, others: Partial<Deployment>[] = []): Service {
  const deployments = [
    ...(ours
      ? [{ id: ID, status: 'PRIMARY', rolloutState: 'IN_PROGRESS', desiredCount: 2, ...ours } as Deployment]
      : []),
    ...others.map((d, i) => ({ id: `ecs-svc/${i + 2}`, status: 'ACTIVE', ...d }) as Deployment),
  ];
  return { serviceName: 'web', deployments };
}

describe('followPaceMs', () => {
  test.each([
    // [what, deployment, pace in intervals]
    ['placing and starting its tasks', { runningCount: 0, pendingCount: 2 }, 2],
    ['one of two running', { runningCount: 1, pendingCount: 1 }, 2],
    ['all running, not yet COMPLETED', { runningCount: 2 }, 1],
    ['a failed task', { runningCount: 0, failedTasks: 1 }, 1],
    ['FAILED (the breaker decided)', { rolloutState: 'FAILED', runningCount: 0 }, 1],
    ['no longer PRIMARY (a rollback)', { status: 'ACTIVE', runningCount: 0 }, 1],
    ['desired 0', { desiredCount: 0, runningCount: 0 }, 1],
  ] as const)('%s', (_what, ours, intervals) => {
    expect(followPaceMs(service(ours), ID, 5000, () => 1)).toBe(intervals * 5000);
  });

  test('a deployment that is not listed is checked at the fast pace', () => {
    expect(followPaceMs(service(undefined, [{ status: 'PRIMARY' }]), ID, 5000, () => 1)).toBe(5000);
  });

  test.each([0, 0.5, 0.999])('jitter (random %p) only shortens a pause, to 80 %% at least', (r) => {
    const paused = followPaceMs(service({ runningCount: 2 }), ID, 5000, () => r);
    expect(paused).toBeLessThanOrEqual(5000);
    expect(paused).toBeGreaterThanOrEqual(4000);
  });
});

describe('mayHaveStoppedTasks', () => {
  const seen = (failedTasks: number, runningCount: number, startedTasks = 2) => ({
    failedTasks,
    runningCount,
    startedTasks,
  });
  test.each([
    // [what, deployment (desired 2), last listing, tasks started by now, list?]
    ['nothing changed', { failedTasks: 0, runningCount: 1 }, seen(0, 1), 2, false],
    ['more running', { failedTasks: 0, runningCount: 2 }, seen(0, 1), 2, false],
    ['its first tasks started', { failedTasks: 0, runningCount: 0 }, seen(0, 0, 0), 2, false],
    ['failedTasks grew', { failedTasks: 1, runningCount: 0 }, seen(0, 0), 2, true],
    ['failedTasks reset', { failedTasks: 0, runningCount: 1 }, seen(2, 1), 2, true],
    ['a running task went (ran, then exited)', { failedTasks: 0, runningCount: 1 }, seen(0, 2), 2, true],
    ['a replacement started (a task is stopping)', { failedTasks: 0, runningCount: 0 }, seen(0, 0), 3, true],
    ['no replacement since the last listing', { failedTasks: 0, runningCount: 0 }, seen(0, 0, 3), 3, false],
    [
      'already failing when first seen (a re-run)',
      { failedTasks: 2, runningCount: 0 },
      seen(0, 0, 0),
      0,
      true,
    ],
  ] as const)('%s', (_what, ours, watch, started, expected) => {
    expect(mayHaveStoppedTasks(service(ours), ID, watch, started)).toBe(expected);
  });

  test('a deployment that is not listed has nothing to list', () => {
    expect(mayHaveStoppedTasks(service(undefined), ID, seen(0, 1), 5)).toBe(false);
  });
});

describe('startedTaskCount', () => {
  test.each([
    ['none', [], 0],
    ['one start of two', ['(service web) has started 2 tasks: (task a) (task b).'], 2],
    [
      'a replacement after a stop',
      [
        '(service web) has started 1 tasks: (task a).',
        '(service web) has stopped 1 running tasks: (task a).',
        '(service web) has started 1 tasks: (task c).',
      ],
      2,
    ],
    ['other events', ['(service web) has reached a steady state.', 'has started 5 tasks'], 0],
  ] as const)('%s', (_what, messages, expected) => {
    expect(startedTaskCount(messages.map((message) => ({ message })))).toBe(expected);
  });
});
