// StatefulSets, DaemonSets and Jobs on the stepped clock, judged by their controllers' documented
// behaviour: ordered pods and partitions, one pod per node rolled within maxUnavailable, and a Job
// that fails its backoffLimit with the pod-failure back-off.
import type { KObject, NewObject } from '../src/store.js';
import { oneOffCommand } from '../src/controllers/kubelet.js';
import { condition, statusOf, types, world, type World } from './helpers/controller-world.js';

const labelsOf = (p: KObject) => p.metadata.labels ?? {};

function statefulSet(name: string, image: string, spec: Record<string, unknown> = {}): NewObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 3,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name, image, readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 } }],
        },
      },
      ...spec,
    },
  };
}

const setImage = (image: string) => (o: KObject) => {
  (
    o.spec as { template: { spec: { containers: Array<{ image: string }> } } }
  ).template.spec.containers[0]!.image = image;
};

const podsByName = (w: World, owner: KObject) =>
  Object.fromEntries(w.podsOf(owner).map((p) => [p.metadata.name, labelsOf(p)['controller-revision-hash']]));

describe('StatefulSet', () => {
  test('OrderedReady: web-0, web-1, web-2, each once the one before is Running and Ready', async () => {
    const w = world();
    const image = w.image('registry.example/db:1');
    const set = w.create(types.statefulsets, statefulSet('web', image));
    const created: Array<[string, number]> = [];
    await w.clock.walk(40_000, 1000, (ms) => {
      for (const p of w.podsOf(set))
        if (!created.some(([n]) => n === p.metadata.name)) created.push([p.metadata.name, ms / 1000]);
    });
    // web-0 at once (seen at the first step); each Ready after its pull (1 s) and the probe's
    // period (5 s): the next one 6 s later.
    expect(created).toEqual([
      ['web-0', 1],
      ['web-1', 6],
      ['web-2', 12],
    ]);
    const s = w.get(types.statefulsets, 'web')!;
    const revisions = w.store.list(types.controllerrevisions, 'default');
    expect(revisions).toHaveLength(1);
    expect(revisions[0]!.metadata.name).toMatch(/^web-[4-9bcdf]+$/);
    expect(statusOf(s)).toMatchObject({
      replicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      currentReplicas: 3,
      updatedReplicas: 3,
      currentRevision: revisions[0]!.metadata.name,
      updateRevision: revisions[0]!.metadata.name,
    });
    expect(labelsOf(w.get(types.pods, 'web-1')!)).toMatchObject({
      app: 'web',
      'controller-revision-hash': revisions[0]!.metadata.name,
      'statefulset.kubernetes.io/pod-name': 'web-1',
      'apps.kubernetes.io/pod-index': '1',
    });
    expect(w.eventsOf(s)).toEqual(
      ['web-0', 'web-1', 'web-2'].map(
        (n) => `SuccessfulCreate: create Pod ${n} in StatefulSet web successful`,
      ),
    );
    w.stop();
  });

  test('a partitioned rolling update replaces only ordinals ≥ partition, highest first; lowering the partition finishes it', async () => {
    const w = world();
    const [v1, v2] = [w.image('registry.example/db:1'), w.image('registry.example/db:2')];
    const set = w.create(
      types.statefulsets,
      statefulSet('web', v1, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }),
    );
    await w.advance(30);
    const r1 = statusOf<{ currentRevision: string }>(w.get(types.statefulsets, 'web')).currentRevision;
    w.edit(types.statefulsets, 'web', setImage(v2));
    await w.advance(60);
    const r2 = statusOf<{ updateRevision: string }>(w.get(types.statefulsets, 'web')).updateRevision;
    expect(r2).not.toBe(r1);
    expect(podsByName(w, set)).toEqual({ 'web-0': r1, 'web-1': r2, 'web-2': r2 });
    expect(statusOf(w.get(types.statefulsets, 'web'))).toMatchObject({
      currentRevision: r1,
      updateRevision: r2,
      currentReplicas: 1,
      updatedReplicas: 2,
      readyReplicas: 3,
    });
    const deletes = w
      .eventsOf(w.get(types.statefulsets, 'web'))
      .filter((e) => e.startsWith('SuccessfulDelete'));
    expect(deletes).toEqual([
      'SuccessfulDelete: delete Pod web-2 in StatefulSet web successful',
      'SuccessfulDelete: delete Pod web-1 in StatefulSet web successful',
    ]);
    w.edit(
      types.statefulsets,
      'web',
      (o) =>
        void ((
          o.spec as { updateStrategy: { rollingUpdate: { partition: number } } }
        ).updateStrategy.rollingUpdate.partition = 0),
    );
    await w.advance(30);
    expect(podsByName(w, set)).toEqual({ 'web-0': r2, 'web-1': r2, 'web-2': r2 });
    expect(statusOf(w.get(types.statefulsets, 'web'))).toMatchObject({
      currentRevision: r2,
      updateRevision: r2,
      currentReplicas: 3,
      updatedReplicas: 3,
    });
    w.stop();
  });

  test('OnDelete: a new template changes only the pods someone deletes; scale down removes the highest ordinal', async () => {
    const w = world();
    const [v1, v2] = [w.image('registry.example/db:1'), w.image('registry.example/db:2')];
    const set = w.create(
      types.statefulsets,
      statefulSet('web', v1, { updateStrategy: { type: 'OnDelete' } }),
    );
    await w.advance(30);
    const r1 = statusOf<{ currentRevision: string }>(w.get(types.statefulsets, 'web')).currentRevision;
    w.edit(types.statefulsets, 'web', setImage(v2));
    await w.advance(60);
    const r2 = statusOf<{ updateRevision: string }>(w.get(types.statefulsets, 'web')).updateRevision;
    expect(podsByName(w, set)).toEqual({ 'web-0': r1, 'web-1': r1, 'web-2': r1 });
    w.store.delete(types.pods, 'default', 'web-1');
    await w.advance(30);
    expect(podsByName(w, set)).toEqual({ 'web-0': r1, 'web-1': r2, 'web-2': r1 });
    w.edit(types.statefulsets, 'web', (o) => void ((o.spec as { replicas: number }).replicas = 2));
    await w.advance(10);
    expect(Object.keys(podsByName(w, set))).toEqual(['web-0', 'web-1']);
    w.stop();
  });
});

describe('StatefulSet ordering', () => {
  test('Parallel starts every pod at once; OrderedReady scales down from the highest ordinal, one at a time', async () => {
    const w = world();
    const image = w.image('registry.example/db:1');
    const parallel = w.create(types.statefulsets, {
      ...statefulSet('fast', image),
      spec: { ...(statefulSet('fast', image).spec as object), podManagementPolicy: 'Parallel' },
    });
    await w.advance(0);
    expect(
      w
        .podsOf(parallel)
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(['fast-0', 'fast-1', 'fast-2']);
    const ordered = w.create(types.statefulsets, statefulSet('web', image, { replicas: 4 }));
    await w.advance(60);
    w.edit(types.statefulsets, 'web', (o) => void ((o.spec as { replicas: number }).replicas = 1));
    const gone: string[] = [];
    await w.clock.walk(20_000, 250, () => {
      for (const p of w.podsOf(ordered))
        if (p.metadata.deletionTimestamp && !gone.includes(p.metadata.name)) gone.push(p.metadata.name);
    });
    expect(gone).toEqual(['web-3', 'web-2', 'web-1']);
    expect(w.podsOf(ordered).map((p) => p.metadata.name)).toEqual(['web-0']);
    w.stop();
  });
});

describe('DaemonSet', () => {
  function daemonSet(image: string, rollingUpdate: Record<string, unknown> = {}): NewObject {
    return {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate },
        template: {
          metadata: { labels: { app: 'agent' } },
          spec: {
            containers: [
              { name: 'agent', image, readinessProbe: { exec: { command: ['true'] }, periodSeconds: 5 } },
            ],
          },
        },
      },
    };
  }

  test.each([
    [{}, 0, 1],
    [{ maxUnavailable: 2 }, 0, 2],
    [{ maxSurge: 1, maxUnavailable: 0 }, 1, 0],
  ])(
    'one pod per node; a new template rolls node by node within %j',
    async (rollingUpdate, surge, unavailable) => {
      const w = world({ nodes: 4 });
      const [v1, v2] = [w.image('registry.example/agent:1'), w.image('registry.example/agent:2')];
      const ds = w.create(types.daemonsets, daemonSet(v1, rollingUpdate));
      await w.advance(20);
      const nodes = w.store.list(types.nodes).map((n) => n.metadata.name);
      const pods = w.podsOf(ds);
      expect(pods.map((p) => (p.spec as { nodeName: string }).nodeName).sort()).toEqual(nodes.sort());
      expect(statusOf(w.get(types.daemonsets, 'agent'))).toMatchObject({
        desiredNumberScheduled: 4,
        currentNumberScheduled: 4,
        numberReady: 4,
        numberAvailable: 4,
        updatedNumberScheduled: 4,
      });
      w.edit(types.daemonsets, 'agent', setImage(v2));
      let maxPods = 0;
      let minAvailable = 4;
      await w.clock.walk(120_000, 500, () => {
        const live = w.podsOf(ds).filter((p) => !p.metadata.deletionTimestamp);
        maxPods = Math.max(maxPods, live.length);
        minAvailable = Math.min(
          minAvailable,
          live.filter((p) => condition(p, 'Ready')?.status === 'True').length,
        );
      });
      expect(maxPods).toBe(4 + surge);
      expect(minAvailable).toBe(4 - unavailable);
      const final = w.get(types.daemonsets, 'agent')!;
      expect(statusOf(final)).toMatchObject({
        observedGeneration: 2,
        updatedNumberScheduled: 4,
        numberAvailable: 4,
      });
      expect(
        w
          .podsOf(ds)
          .every((p) => (p.spec as { containers: Array<{ image: string }> }).containers[0]!.image === v2),
      ).toBe(true);
      expect(w.store.list(types.controllerrevisions, 'default').map((r) => r.revision)).toEqual(
        expect.arrayContaining([1, 2]),
      );
      w.stop();
    },
  );
});

describe('Job', () => {
  const job = (image: string, spec: Record<string, unknown> = {}): NewObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'migrate', namespace: 'default' },
    spec: {
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image }] } },
      ...spec,
    },
  });

  test('completions 3, parallelism 2: Complete with SuccessCriteriaMet, completionTime and the Completed event', async () => {
    const w = world();
    const image = w.image('registry.example/migrate:1', { 'local-aws.exit-after': '10s' });
    const j = w.create(types.jobs, job(image, { completions: 3, parallelism: 2 }));
    await w.advance(5);
    expect(statusOf(w.get(types.jobs, 'migrate'))).toMatchObject({ active: 2, ready: 2 });
    await w.advance(30);
    const done = w.get(types.jobs, 'migrate')!;
    expect(statusOf(done)).toMatchObject({
      succeeded: 3,
      startTime: expect.any(String),
      completionTime: expect.any(String),
    });
    expect(statusOf(done)).not.toHaveProperty('active');
    expect(condition(done, 'Complete')).toMatchObject({
      status: 'True',
      reason: 'CompletionsReached',
      message: 'Reached expected number of succeeded pods',
    });
    expect(condition(done, 'SuccessCriteriaMet')).toMatchObject({ status: 'True' });
    expect(w.eventsOf(done).filter((e) => e.startsWith('SuccessfulCreate'))).toHaveLength(3);
    expect(w.eventsOf(done).at(-1)).toBe('Completed: Job completed');
    expect(labelsOf(w.podsOf(j)[0]!)).toMatchObject({
      'batch.kubernetes.io/job-name': 'migrate',
      'job-name': 'migrate',
      'controller-uid': j.metadata.uid,
    });
    w.stop();
  });

  test('Indexed: a pod per completion index (named and annotated with it), completedIndexes as ranges', async () => {
    const w = world();
    const image = w.image('registry.example/migrate:1', { 'local-aws.exit-after': '5s' });
    const j = w.create(types.jobs, job(image, { completions: 4, parallelism: 3, completionMode: 'Indexed' }));
    await w.advance(0);
    expect(
      w
        .podsOf(j)
        .map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'])
        .sort(),
    ).toEqual(['0', '1', '2']);
    expect(
      w
        .podsOf(j)
        .every((p) =>
          p.metadata.name.startsWith(
            `migrate-${p.metadata.labels?.['batch.kubernetes.io/job-completion-index']}-`,
          ),
        ),
    ).toBe(true);
    await w.advance(7);
    expect(statusOf(w.get(types.jobs, 'migrate'))).toMatchObject({
      succeeded: 3,
      completedIndexes: '0-2',
      active: 1,
    });
    await w.advance(7);
    expect(statusOf(w.get(types.jobs, 'migrate'))).toMatchObject({ succeeded: 4, completedIndexes: '0-3' });
    expect(condition(w.get(types.jobs, 'migrate'), 'Complete')).toMatchObject({ status: 'True' });
    w.stop();
  });

  test('suspend: its pods are deleted (Suspended JobSuspended); resumed, it runs again (JobResumed)', async () => {
    const w = world();
    const image = w.image('registry.example/migrate:1', { 'local-aws.exit-after': '60s' });
    const j = w.create(types.jobs, job(image));
    await w.advance(5);
    w.edit(types.jobs, 'migrate', (o) => void ((o.spec as { suspend: boolean }).suspend = true));
    await w.advance(2);
    expect(w.podsOf(j)).toHaveLength(0);
    expect(condition(w.get(types.jobs, 'migrate'), 'Suspended')).toMatchObject({
      status: 'True',
      reason: 'JobSuspended',
      message: 'Job suspended',
    });
    w.edit(types.jobs, 'migrate', (o) => void ((o.spec as { suspend: boolean }).suspend = false));
    await w.advance(2);
    expect(condition(w.get(types.jobs, 'migrate'), 'Suspended')).toMatchObject({
      status: 'False',
      reason: 'JobResumed',
    });
    expect(statusOf(w.get(types.jobs, 'migrate'))).toMatchObject({ active: 1 });
    expect(w.eventsOf(w.get(types.jobs, 'migrate'))).toEqual(
      expect.arrayContaining(['Suspended: Job suspended', 'Resumed: Job resumed']),
    );
    w.stop();
  });

  test('backoffLimit 2: pods fail, are replaced after 10 s then 20 s, and the third failure fails the Job (BackoffLimitExceeded)', async () => {
    const w = world();
    const image = w.image('registry.example/migrate:bad', { 'local-aws.exit-code': '1' });
    const j = w.create(types.jobs, job(image, { backoffLimit: 2 }));
    w.edit(types.jobs, 'migrate', (o) => {
      (
        o.spec as { template: { spec: { containers: Array<{ imagePullPolicy: string }> } } }
      ).template.spec.containers[0]!.imagePullPolicy = 'Always';
    });
    const createdAt: number[] = [];
    await w.clock.walk(60_000, 1000, (ms) => {
      const n = w.podsOf(j).length;
      while (createdAt.length < n) createdAt.push(ms / 1000);
    });
    // Each pod fails 1 s after it is created (its pull: imagePullPolicy Always); the next comes
    // 10 s, then 20 s, after that failure (the first pod is seen at the first step).
    expect(createdAt).toEqual([1, 11, 32]);
    const failed = w.get(types.jobs, 'migrate')!;
    expect(statusOf(failed)).toMatchObject({ failed: 3 });
    expect(condition(failed, 'FailureTarget')).toMatchObject({
      status: 'True',
      reason: 'BackoffLimitExceeded',
    });
    expect(condition(failed, 'Failed')).toMatchObject({
      status: 'True',
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
    });
    expect(w.eventsOf(failed)).toContain('BackoffLimitExceeded: Job has reached the specified backoff limit');
    expect(w.podsOf(j).every((p) => statusOf(p).phase === 'Failed')).toBe(true);
    w.stop();
  });

  test('activeDeadlineSeconds: DeadlineExceeded, its pods stopped; ttlSecondsAfterFinished deletes the Job and its pods', async () => {
    const w = world();
    const image = w.image('registry.example/migrate:slow', { 'local-aws.exit-after': '10m' });
    const j = w.create(types.jobs, job(image, { activeDeadlineSeconds: 30, ttlSecondsAfterFinished: 60 }));
    await w.advance(29);
    expect(statusOf(w.get(types.jobs, 'migrate'))).toMatchObject({ active: 1 });
    await w.advance(1);
    expect(condition(w.get(types.jobs, 'migrate'), 'FailureTarget')).toMatchObject({
      reason: 'DeadlineExceeded',
      message: 'Job was active longer than specified deadline',
    });
    await w.advance(2);
    const failed = w.get(types.jobs, 'migrate')!;
    expect(condition(failed, 'Failed')).toMatchObject({ status: 'True', reason: 'DeadlineExceeded' });
    expect(w.eventsOf(failed)).toContain('DeadlineExceeded: Job was active longer than specified deadline');
    expect(w.podsOf(j)).toHaveLength(0);
    // Failed at 31 s (the pod took 1 s to stop): deleted at 91 s.
    await w.advance(58);
    expect(w.get(types.jobs, 'migrate')).toBeDefined();
    await w.advance(1);
    expect(w.get(types.jobs, 'migrate')).toBeUndefined();
    w.stop();
  });
});

describe("a Job's pods script themselves by the one-off command form (as ECS RunTask tasks), nothing else", () => {
  test.each([
    [{ command: ['sleep', '5'] }, { afterMs: 5000, code: 0 }],
    [{ command: ['exit', '3'] }, { afterMs: 0, code: 3 }],
    [{ command: ['sh', '-c', 'sleep 2.5; exit 4'] }, { afterMs: 2500, code: 4 }],
    [{ command: ['/bin/sh', '-c', 'exit 0', 'ignored'] }, { afterMs: 0, code: 0 }],
    [
      { command: ['sleep'], args: ['7'] },
      { afterMs: 7000, code: 0 },
    ],
    [{ command: ['npm', 'run', 'migrate'] }, undefined],
    [{ command: ['sh', '-c', 'while true; do sleep 30; done'] }, undefined],
    [{ command: ['sh', '-c', 'python3 -m http.server || exit 1'] }, undefined],
    [{ command: ['exit', '256'] }, undefined],
    [{}, undefined],
  ])('%j', (container, expected) => {
    expect(oneOffCommand(container)).toEqual(expected);
  });
});
