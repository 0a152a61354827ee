import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { isSettled, planRevision, planService, revisionName } from '../src/plan.js';
import { renderTaskDefinition } from '../src/render.js';
import { OLD, OURS, TD6, TD7, deployment, describeOutput, service } from './fixtures.js';

/** DescribeTaskDefinition's answer for a definition registered as `arn`. */
function registered(changes: Parameters<typeof renderTaskDefinition>[1], arn: string): TaskDefinition {
  return {
    ...(renderTaskDefinition(describeOutput(), changes) as unknown as TaskDefinition),
    taskDefinitionArn: arn,
    revision: Number(arn.split(':').at(-1)),
    status: 'ACTIVE',
  };
}

describe('planRevision', () => {
  const good = { image: 'web:good' };
  const bad = { image: 'web:bad' };
  const TD8 = TD7.replace(':7', ':8');

  test.each<
    [string, TaskDefinition | undefined, TaskDefinition | undefined, string | undefined, string | undefined]
  >([
    // A re-run without `image` after a failed deploy: the service was rolled back to :6, the
    // family's latest is the failed :7; the rendered definition is :6 again and must be reused.
    [
      'the revision the service runs, when the latest is a failed one',
      registered(good, TD6),
      registered(bad, TD7),
      TD6,
      TD6,
    ],
    ['the latest, when the service runs an older one', registered(bad, TD6), registered(good, TD7), TD7, TD6],
    ['the latest, for a new service in an existing family', undefined, registered(good, TD8), TD8, TD8],
    ['nothing, when neither is identical', registered(bad, TD6), registered(bad, TD7), undefined, TD6],
    ['nothing, for a new family', undefined, undefined, undefined, undefined],
  ])('reuses %s', (_name, running, latest, reused, diffBase) => {
    const plan = planRevision(renderTaskDefinition(describeOutput(), good), running, latest);
    expect(plan.reuse?.taskDefinitionArn).toBe(reused);
    expect(plan.diffBase?.taskDefinitionArn).toBe(diffBase);
  });

  test('the reason names the revision and why', () => {
    const plan = planRevision(renderTaskDefinition(describeOutput(), good), registered(good, TD6), undefined);
    expect(plan.reuseReason).toBe(`${TD6} (which the service runs)`);
  });

  test('a running revision of another family is never reused', () => {
    const other = { ...registered(good, TD6), family: 'api' };
    expect(
      planRevision(renderTaskDefinition(describeOutput(), good), other, undefined).reuse,
    ).toBeUndefined();
  });
});

describe('planService', () => {
  const settled = deployment({ runningCount: 2, rolloutState: 'COMPLETED' });
  const keep: { forceNewDeployment: boolean; desiredCount: number | undefined } = {
    forceNewDeployment: false,
    desiredCount: undefined,
  };
  test.each<[string, ReturnType<typeof service> | undefined, Partial<typeof keep>, string]>([
    ['a missing service is created', undefined, {}, 'create'],
    [
      'a new revision updates',
      service([deployment({ taskDefinition: TD6, runningCount: 2, rolloutState: 'COMPLETED' })]),
      {},
      'update',
    ],
    ['settled on this revision: nothing to do', service([settled]), {}, 'unchanged'],
    ['settled, but force-new-deployment', service([settled]), { forceNewDeployment: true }, 'update'],
    ['settled, but another desired count', service([settled]), { desiredCount: 3 }, 'update'],
    ['settled, the same desired count given', service([settled]), { desiredCount: 2 }, 'unchanged'],
    // The cases that used to go green on a broken service:
    [
      'this revision IN_PROGRESS (a run killed mid-follow)',
      service([
        deployment({}),
        deployment({ id: OLD, status: 'ACTIVE', taskDefinition: TD6, runningCount: 2 }),
      ]),
      {},
      'follow',
    ],
    [
      'this revision IN_PROGRESS alone, tasks failing (breaker off, no rollback)',
      service([deployment({ failedTasks: 4 })], false),
      {},
      'follow',
    ],
    [
      'this revision FAILED (breaker without rollback)',
      service([deployment({ rolloutState: 'FAILED' })]),
      {},
      'follow',
    ],
    [
      'COMPLETED but a task short',
      service([deployment({ runningCount: 1, rolloutState: 'COMPLETED' })]),
      {},
      'follow',
    ],
    [
      'COMPLETED but a task pending',
      service([deployment({ runningCount: 2, pendingCount: 1, rolloutState: 'COMPLETED' })]),
      {},
      'follow',
    ],
  ])('%s → %s', (_name, current, options, kind) => {
    expect(planService(current, TD7, { ...keep, ...options }).kind).toBe(kind);
  });

  test('following in flight names the deployment and the revision to roll back to', () => {
    const action = planService(
      service([
        deployment({}),
        deployment({ id: OLD, status: 'ACTIVE', taskDefinition: TD6, runningCount: 2 }),
      ]),
      TD7,
      keep,
    );
    expect(action).toMatchObject({ kind: 'follow', deployment: { id: OURS }, previousTaskDefinition: TD6 });
    expect(action.kind === 'follow' && action.why).toMatch(
      /^it already runs this revision, but not settled: PRIMARY ecs-svc\/1+ web:7: running 0\/2/,
    );
  });

  test('in flight alone: nothing known to roll back to', () => {
    const action = planService(service([deployment({})]), TD7, keep);
    expect(action).toMatchObject({ kind: 'follow', previousTaskDefinition: undefined });
  });
});

describe('isSettled', () => {
  test.each([
    [[deployment({ runningCount: 2, rolloutState: 'COMPLETED' })], true],
    [[deployment({ runningCount: 2, rolloutState: undefined })], true],
    [[deployment({ runningCount: 2, rolloutState: 'IN_PROGRESS' })], false],
    [[deployment({ runningCount: 2, rolloutState: 'COMPLETED', status: 'ACTIVE' })], false],
    [
      [deployment({ runningCount: 2, rolloutState: 'COMPLETED' }), deployment({ id: OLD, status: 'ACTIVE' })],
      false,
    ],
    [[], false],
  ])('%j → %s', (deployments, expected) => {
    expect(isSettled(service(deployments))).toBe(expected);
  });
});

test('revisionName', () => {
  expect(revisionName(TD7)).toBe('web:7');
  expect(revisionName(undefined)).toBe('?');
});
