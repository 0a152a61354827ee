// The controllers on a stepped clock, judged by kube-controller-manager's and the kubelet's
// documented behaviour and numbers.
import { gracefulDelete } from '../src/controllers/index.js';
import { validReference } from '../src/controllers/kubelet.js';
import type { KObject, NewObject } from '../src/store.js';
import {
  condition,
  deployment,
  digestOf,
  statusOf,
  types,
  world,
  type World,
} from './helpers/controller-world.js';

describe('nodes', () => {
  test('three Ready nodes with the default capacity, or what the options say', () => {
    const w = world();
    const nodes = w.store.list(types.nodes);
    expect(nodes).toHaveLength(3);
    for (const node of nodes) {
      expect(node.metadata.name).toMatch(/^ip-10-0-\d+-\d+\.ec2\.internal$/);
      expect(statusOf<{ allocatable: Record<string, string> }>(node).allocatable).toMatchObject({
        cpu: '2',
        memory: '8Gi',
        pods: '110',
      });
      expect(condition(node, 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    }
    w.stop();
    const small = world({ nodes: 1, nodeCapacity: { cpu: '500m', memory: '1Gi', pods: '4' } });
    expect(small.store.list(types.nodes).map((n) => statusOf<{ capacity: object }>(n).capacity)).toEqual([
      expect.objectContaining({ cpu: '500m', memory: '1Gi', pods: '4' }),
    ]);
    small.stop();
  });
});

describe('a Deployment rolls out', () => {
  test('3 replicas: ReplicaSet by template hash, pods running, conditions and events as the controllers write them', async () => {
    const w = world();
    const image = w.image('123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1', {}, 52_428_800);
    w.create(types.deployments, deployment('web', image));
    await w.advance(0);
    const d0 = w.get(types.deployments, 'web')!;
    const [rs] = w.replicaSetsOf(d0);
    expect(rs!.metadata.name).toMatch(/^web-[4-9bcdf]+$/);
    const hash = rs!.metadata.name.slice('web-'.length);
    expect(rs!.metadata.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs!.metadata.annotations).toMatchObject({
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
    });
    expect(rs!.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'web',
        uid: d0.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(w.podsOf(rs!)).toHaveLength(3);
    // Created, then the ReplicaSet's first status is progress already.
    expect(condition(d0, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'ReplicaSetUpdated',
      message: `ReplicaSet "${rs!.metadata.name}" is progressing.`,
    });
    await w.advance(5);
    const d = w.get(types.deployments, 'web')!;
    expect(statusOf(d)).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    });
    expect(statusOf(d)).not.toHaveProperty('unavailableReplicas');
    expect(condition(d, 'Available')).toMatchObject({
      status: 'True',
      reason: 'MinimumReplicasAvailable',
      message: 'Deployment has minimum availability.',
    });
    expect(condition(d, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'NewReplicaSetAvailable',
      message: `ReplicaSet "${rs!.metadata.name}" has successfully progressed.`,
    });
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(w.eventsOf(d)).toEqual([
      `ScalingReplicaSet: Scaled up replica set ${rs!.metadata.name} from 0 to 3`,
    ]);
    expect(w.eventsOf(w.get(types.replicasets, rs!.metadata.name)).sort()).toEqual(
      w
        .podsOf(rs!)
        .map((p) => `SuccessfulCreate: Created pod: ${p.metadata.name}`)
        .sort(),
    );
    // The Progressing condition's reasons, in the order the Deployment's writes went through.
    const reasons = w.store
      .changesSince('1')
      .filter((c) => c.resource === 'deployments.apps')
      .map((c) => condition(c.object, 'Progressing')?.reason)
      .filter((r, i, all) => r && r !== all[i - 1]);
    expect(reasons).toEqual(['NewReplicaSetCreated', 'ReplicaSetUpdated', 'NewReplicaSetAvailable']);
    const pod = w.podsOf(rs!)[0]!;
    expect(pod.metadata.name).toMatch(new RegExp(`^${rs!.metadata.name}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
    expect(statusOf(pod)).toMatchObject({
      phase: 'Running',
      podIP: expect.stringMatching(/^10\.0\./),
      hostIP: expect.stringMatching(/^10\.0\./),
    });
    expect(w.eventsOf(pod)).toEqual([
      `Scheduled: Successfully assigned default/${pod.metadata.name} to ${(pod.spec as { nodeName: string }).nodeName}`,
      `Pulling: Pulling image "${image}"`,
      `Pulled: Successfully pulled image "${image}" in 1s (1s including waiting). Image size: 52428800 bytes.`,
      'Created: Created container web',
      'Started: Started container web',
    ]);
    w.stop();
    expect(w.clock.pending()).toBe(0);
  });
});

/** Pods of a Deployment not being deleted, and those Ready. */
function census(w: World, name: string) {
  const d = w.get(types.deployments, name)!;
  const pods = w.replicaSetsOf(d).flatMap((rs) => w.podsOf(rs));
  const live = pods.filter((p) => !p.metadata.deletionTimestamp);
  const ready = live.filter((p) => condition(p, 'Ready')?.status === 'True');
  return { d, live: live.length, ready: ready.length };
}

describe('RollingUpdate respects maxSurge and maxUnavailable at every step', () => {
  test.each([
    // replicas, maxSurge, maxUnavailable, → surge, unavailable (ResolveFenceposts)
    [3, undefined, undefined, 1, 0],
    [3, 0, 1, 0, 1],
    [10, '25%', '25%', 3, 2],
    [4, '0%', '0%', 0, 1],
  ])(
    '%i replicas, maxSurge %s, maxUnavailable %s → at most +%i pods, at most %i unavailable',
    async (replicas, maxSurge, maxUnavailable, surge, unavailable) => {
      const w = world();
      const v1 = w.image('registry.example/web:1');
      const v2 = w.image('registry.example/web:2');
      const probe = { readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 5 } };
      const rollingUpdate = {
        ...(maxSurge !== undefined ? { maxSurge } : {}),
        ...(maxUnavailable !== undefined ? { maxUnavailable } : {}),
      };
      w.create(
        types.deployments,
        deployment('web', v1, { replicas, strategy: { type: 'RollingUpdate', rollingUpdate } }, probe),
      );
      await w.advance(30);
      expect(census(w, 'web')).toMatchObject({ live: replicas, ready: replicas });
      w.edit(types.deployments, 'web', (d) => {
        (
          d.spec as { template: { spec: { containers: Array<{ image: string }> } } }
        ).template.spec.containers[0]!.image = v2;
      });
      let maxLive = 0;
      let minReady = replicas;
      await w.clock.walk(300_000, 1000, () => {
        const c = census(w, 'web');
        maxLive = Math.max(maxLive, c.live);
        minReady = Math.min(minReady, c.ready);
      });
      expect(maxLive).toBe(replicas + surge);
      expect(minReady).toBe(replicas - unavailable);
      const d = w.get(types.deployments, 'web')!;
      const rss = w.replicaSetsOf(d);
      const current = rss.find(
        (rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2',
      )!;
      const old = rss.find((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1')!;
      expect((current.spec as { replicas: number }).replicas).toBe(replicas);
      expect((old.spec as { replicas: number }).replicas).toBe(0);
      expect(w.podsOf(old)).toHaveLength(0);
      expect(statusOf(d)).toMatchObject({
        observedGeneration: 2,
        replicas,
        updatedReplicas: replicas,
        availableReplicas: replicas,
      });
      expect(condition(d, 'Progressing')).toMatchObject({ reason: 'NewReplicaSetAvailable' });
      // Every scaling is an event in 1.32's words, and the sizes add up.
      const scalings = w.eventsOf(d).filter((e) => e.startsWith('ScalingReplicaSet'));
      expect(scalings.at(-1)).toMatch(
        /^ScalingReplicaSet: Scaled (down|up) replica set web-\w+ from \d+ to \d+$/,
      );
      // The first step down takes maxUnavailable pods (or the one a surged pod replaced).
      expect(scalings).toContain(
        `ScalingReplicaSet: Scaled down replica set ${old.metadata.name} from ${replicas} to ${replicas - Math.max(unavailable, 1)}`,
      );
      w.stop();
    },
  );
});

describe('progress deadline', () => {
  test('an image that is not in the registry: ErrImagePull ⇄ ImagePullBackOff, then ProgressDeadlineExceeded at 600 s', async () => {
    const w = world();
    const good = w.image('registry.example/web:1');
    w.create(types.deployments, deployment('web', good));
    await w.advance(10);
    w.edit(types.deployments, 'web', (d) => {
      (
        d.spec as { template: { spec: { containers: Array<{ image: string }> } } }
      ).template.spec.containers[0]!.image = 'registry.example/web:missing';
    });
    const t0 = w.elapsed();
    await w.advance(2);
    const d = w.get(types.deployments, 'web')!;
    const newRS = w
      .replicaSetsOf(d)
      .find((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2')!;
    const [pod] = w.podsOf(newRS);
    const waiting = () =>
      statusOf<{ containerStatuses: Array<{ state: { waiting?: { reason: string; message: string } } }> }>(
        w.get(types.pods, pod!.metadata.name),
      ).containerStatuses[0]!.state.waiting;
    expect(waiting()).toEqual({
      reason: 'ImagePullBackOff',
      message: 'Back-off pulling image "registry.example/web:missing"',
    });
    expect(statusOf(w.get(types.pods, pod!.metadata.name))).toMatchObject({ phase: 'Pending' });
    expect(condition(w.get(types.pods, pod!.metadata.name), 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [web]',
    });
    // The pull is retried after 10 s, 20 s, 40 s… (each attempt 1 s long), ErrImagePull each time.
    const attempts: number[] = [];
    await w.clock.walk(120_000, 1000, (ms) => {
      const state = waiting();
      if (state?.reason === 'ErrImagePull' && attempts.at(-1) !== ms - 1000) attempts.push(ms);
    });
    expect(attempts.map((ms) => ms / 1000 + 2)).toEqual([12, 33, 74]);
    const events = w.eventsOf(w.get(types.pods, pod!.metadata.name), { withCount: true });
    expect(events).toEqual(
      expect.arrayContaining([
        'Pulling: Pulling image "registry.example/web:missing" ×4',
        'Failed: Failed to pull image "registry.example/web:missing": rpc error: code = NotFound desc = failed to pull and unpack image "registry.example/web:missing": failed to resolve reference "registry.example/web:missing": registry.example/web:missing: not found ×4',
        'Failed: Error: ErrImagePull ×4',
        'BackOff: Back-off pulling image "registry.example/web:missing" ×4',
        'Failed: Error: ImagePullBackOff ×4',
      ]),
    );
    // Not timed out just before the deadline, timed out at it (600 s from the last progress).
    const progressing = () => condition(w.get(types.deployments, 'web'), 'Progressing');
    const lastUpdate = Date.parse(progressing()!.lastUpdateTime!);
    expect((lastUpdate - w.clock.now()) / 1000 + w.elapsed() - t0).toBeLessThanOrEqual(1);
    await w.advance((lastUpdate + 599_000 - w.clock.now()) / 1000);
    expect(progressing()).toMatchObject({ status: 'True', reason: 'ReplicaSetUpdated' });
    await w.advance(1);
    expect(progressing()).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: `ReplicaSet "${newRS.metadata.name}" has timed out progressing.`,
    });
    // The old pods still serve: the rollout stalled at maxSurge with nothing unavailable.
    expect(statusOf(w.get(types.deployments, 'web'))).toMatchObject({
      replicas: 4,
      updatedReplicas: 1,
      availableReplicas: 3,
      unavailableReplicas: 1,
    });
    expect(condition(w.get(types.deployments, 'web'), 'Available')).toMatchObject({ status: 'True' });
    w.stop();
  });
});

type ContainerStatus = {
  restartCount: number;
  ready: boolean;
  state: {
    waiting?: { reason: string; message?: string };
    running?: object;
    terminated?: { exitCode: number; reason: string };
  };
  lastState: { terminated?: { exitCode: number; reason: string; startedAt: string; finishedAt: string } };
};
const containerOf = (pod: KObject | undefined) =>
  statusOf<{ containerStatuses: ContainerStatus[] }>(pod).containerStatuses[0]!;
const setImage = (image: string) => (d: KObject) => {
  (
    d.spec as { template: { spec: { containers: Array<{ image: string }> } } }
  ).template.spec.containers[0]!.image = image;
};
const revisions = (w: World, name: string) =>
  Object.fromEntries(
    w
      .replicaSetsOf(w.get(types.deployments, name)!)
      .map((rs) => [
        (rs.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec
          .containers[0]!.image,
        [
          rs.metadata.annotations?.['deployment.kubernetes.io/revision'],
          rs.metadata.annotations?.['deployment.kubernetes.io/revision-history'],
          (rs.spec as { replicas: number }).replicas,
        ],
      ]),
  );

const pod = (
  name: string,
  container: Record<string, unknown>,
  spec: Record<string, unknown> = {},
): NewObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'app', ...container }], ...spec },
});

describe('a crash loop', () => {
  test('restarts at once, then after 10, 20, 40, 80, 160 and 300 s (CrashLoopBackOff in between), with lastState and --previous logs', async () => {
    const w = world();
    const image = w.image('registry.example/crash:1', { 'local-aws.exit-code': '1' });
    w.create(types.deployments, deployment('crash', image, { replicas: 1 }));
    await w.advance(0);
    const [rs] = w.replicaSetsOf(w.get(types.deployments, 'crash')!);
    const name = w.podsOf(rs!)[0]!.metadata.name;
    const restarts: number[] = [];
    let seen = 0;
    await w.clock.walk(1200_000, 1000, (ms) => {
      const c = containerOf(w.get(types.pods, name));
      if (c.restartCount > seen) {
        seen = c.restartCount;
        restarts.push(ms / 1000);
      }
    });
    const gaps = restarts.slice(1).map((t, i) => t - restarts[i]!);
    expect(restarts[0]).toBe(1);
    expect(gaps.slice(0, 6)).toEqual([10, 20, 40, 80, 160, 300]);
    expect(gaps.slice(6).every((g) => g === 300)).toBe(true);
    const c = containerOf(w.get(types.pods, name));
    expect(c.state.waiting).toEqual({
      reason: 'CrashLoopBackOff',
      message: `back-off 5m0s restarting failed container=crash pod=${name}_default(${w.get(types.pods, name)!.metadata.uid})`,
    });
    expect(c.lastState.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(statusOf(w.get(types.pods, name))).toMatchObject({ phase: 'Running' });
    expect(condition(w.get(types.pods, name), 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
    });
    expect(w.eventsOf(w.get(types.pods, name), { withCount: true })).toContain(
      `BackOff: Back-off restarting failed container crash in pod ${name}_default(${w.get(types.pods, name)!.metadata.uid}) ×${seen}`,
    );
    expect(
      w.logs
        .read('default', name, 'crash', { previous: true })
        ?.map((l) => l.text)
        .at(-1),
    ).toBe('exited with code 1');
    // The Deployment never becomes available.
    expect(condition(w.get(types.deployments, 'crash'), 'Available')).toMatchObject({
      status: 'False',
      reason: 'MinimumReplicasUnavailable',
    });
    w.stop();
  });

  test('a container that ran more than 10 minutes before exiting restarts at once (the back-off is forgotten)', async () => {
    const w = world();
    const image = w.image('registry.example/slow:1', {
      'local-aws.exit-after': '11m',
      'local-aws.exit-code': '2',
    });
    w.create(types.pods, pod('slow', { image }));
    await w.advance(2);
    await w.advance(3 * 11 * 60 + 5);
    const c = containerOf(w.get(types.pods, 'slow'));
    expect(c.restartCount).toBe(3);
    expect(c.state.running).toBeDefined();
    expect(c.lastState.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    w.stop();
  });

  test('OOMKilled: exit 137, reason OOMKilled; restartPolicy Never leaves the pod Failed', async () => {
    const w = world();
    const image = w.image('registry.example/hog:1', {
      'local-aws.oom': 'true',
      'local-aws.exit-after': '3s',
    });
    w.create(types.pods, pod('hog', { image }, { restartPolicy: 'Never' }));
    await w.advance(10);
    const p = w.get(types.pods, 'hog');
    expect(containerOf(p).state.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(statusOf(p)).toMatchObject({ phase: 'Failed' });
    expect(condition(p, 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    w.create(types.pods, pod('hog2', { image }));
    await w.advance(10);
    expect(containerOf(w.get(types.pods, 'hog2'))).toMatchObject({
      restartCount: 1,
      lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
    });
    w.stop();
  });

  test('restartPolicy OnFailure: a container exiting 0 completes the pod (Succeeded, Completed)', async () => {
    const w = world();
    const image = w.image('registry.example/batch:1', { 'local-aws.exit-after': '5s' });
    w.create(types.pods, pod('once', { image }, { restartPolicy: 'OnFailure' }));
    await w.advance(10);
    expect(statusOf(w.get(types.pods, 'once'))).toMatchObject({ phase: 'Succeeded' });
    expect(containerOf(w.get(types.pods, 'once')).state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    w.stop();
  });
});

describe('pods', () => {
  test('a readiness probe: Ready after initialDelaySeconds + periodSeconds; with local-aws.health=fail never, with Unhealthy events', async () => {
    const w = world();
    const ok = w.image('registry.example/ok:1');
    const bad = w.image('registry.example/bad:1', { 'local-aws.health': 'fail' });
    const probe = {
      readinessProbe: {
        httpGet: { path: '/healthz', port: 8080 },
        initialDelaySeconds: 5,
        periodSeconds: 10,
      },
    };
    w.create(types.pods, pod('ok', { image: ok, ...probe }));
    w.create(types.pods, pod('bad', { image: bad, ...probe }));
    await w.advance(15);
    expect(condition(w.get(types.pods, 'ok'), 'Ready')?.status).toBe('False');
    await w.advance(1);
    expect(condition(w.get(types.pods, 'ok'), 'Ready')?.status).toBe('True');
    await w.advance(30);
    expect(condition(w.get(types.pods, 'bad'), 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [app]',
    });
    expect(statusOf(w.get(types.pods, 'bad'))).toMatchObject({ phase: 'Running' });
    expect(w.eventsOf(w.get(types.pods, 'bad'), { withCount: true })).toContain(
      'Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 503 ×4',
    );
    w.stop();
  });

  test('start-delay: the container is ContainerCreating that much longer', async () => {
    const w = world();
    const image = w.image('registry.example/slowstart:1', { 'local-aws.start-delay': '90s' });
    w.create(types.pods, pod('slow', { image }));
    await w.advance(90);
    expect(containerOf(w.get(types.pods, 'slow')).state.waiting).toEqual({ reason: 'ContainerCreating' });
    expect(statusOf(w.get(types.pods, 'slow'))).toMatchObject({ phase: 'Pending' });
    await w.advance(1);
    expect(containerOf(w.get(types.pods, 'slow')).state.running).toBeDefined();
    expect(statusOf(w.get(types.pods, 'slow'))).toMatchObject({ phase: 'Running' });
    w.stop();
  });

  test('a missing ConfigMap or key: CreateContainerConfigError, until it is there', async () => {
    const w = world();
    const image = w.image('registry.example/app:1');
    w.create(
      types.pods,
      pod('cfg', {
        image,
        env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } }],
      }),
    );
    await w.advance(2);
    expect(containerOf(w.get(types.pods, 'cfg')).state.waiting).toEqual({
      reason: 'CreateContainerConfigError',
      message: 'configmap "settings" not found',
    });
    expect(w.eventsOf(w.get(types.pods, 'cfg'))).toContain('Failed: Error: configmap "settings" not found');
    w.create(types.configmaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'default' },
      data: { other: 'x' },
    });
    await w.advance(1);
    expect(containerOf(w.get(types.pods, 'cfg')).state.waiting).toEqual({
      reason: 'CreateContainerConfigError',
      message: "couldn't find key mode in ConfigMap default/settings",
    });
    w.edit(types.configmaps, 'settings', (cm) => void (cm.data = { mode: 'fast' }));
    await w.advance(1);
    expect(containerOf(w.get(types.pods, 'cfg')).state.running).toBeDefined();
    w.create(types.pods, pod('sec', { image, envFrom: [{ secretRef: { name: 'creds' } }] }));
    await w.advance(2);
    expect(containerOf(w.get(types.pods, 'sec')).state.waiting).toEqual({
      reason: 'CreateContainerConfigError',
      message: 'secret "creds" not found',
    });
    w.stop();
  });

  test('scheduling against allocatable cpu: the pod that fits nowhere is Pending with FailedScheduling in 1.32 words', async () => {
    const w = world();
    const image = w.image('registry.example/big:1');
    w.create(
      types.deployments,
      deployment('big', image, { replicas: 4 }, { resources: { requests: { cpu: '1500m', memory: '1Gi' } } }),
    );
    await w.advance(5);
    const d = w.get(types.deployments, 'big')!;
    const pods = w.podsOf(w.replicaSetsOf(d)[0]!);
    const pending = pods.filter((p) => !(p.spec as { nodeName?: string }).nodeName);
    expect(pending).toHaveLength(1);
    expect(new Set(pods.map((p) => (p.spec as { nodeName?: string }).nodeName).filter(Boolean)).size).toBe(3);
    const message =
      '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    expect(condition(pending[0], 'PodScheduled')).toMatchObject({
      status: 'False',
      reason: 'Unschedulable',
      message,
    });
    expect(statusOf(pending[0])).toMatchObject({ phase: 'Pending' });
    expect(w.eventsOf(pending[0])).toEqual([`FailedScheduling: ${message}`]);
    expect(statusOf(w.get(types.deployments, 'big'))).toMatchObject({
      replicas: 4,
      availableReplicas: 3,
      unavailableReplicas: 1,
    });
    // A scheduled pod goes away: the pending one gets its room.
    w.edit(types.deployments, 'big', (o) => void ((o.spec as { replicas: number }).replicas = 3));
    await w.advance(5);
    expect(w.podsOf(w.replicaSetsOf(d)[0]!).map((p) => p.metadata.name)).not.toContain(
      pending[0]!.metadata.name,
    );
    w.stop();
  });
});

describe('Deployment history', () => {
  test('a rollback to an old template reuses its ReplicaSet, with the next revision and revision-history', async () => {
    const w = world();
    const [v1, v2] = [w.image('registry.example/web:1'), w.image('registry.example/web:2')];
    w.create(types.deployments, deployment('web', v1));
    await w.advance(10);
    w.edit(types.deployments, 'web', setImage(v2));
    await w.advance(30);
    expect(revisions(w, 'web')).toEqual({ [v1]: ['1', undefined, 0], [v2]: ['2', undefined, 3] });
    w.edit(types.deployments, 'web', setImage(v1));
    await w.advance(30);
    expect(revisions(w, 'web')).toEqual({ [v1]: ['3', '1', 3], [v2]: ['2', undefined, 0] });
    const d = w.get(types.deployments, 'web')!;
    expect(w.replicaSetsOf(d)).toHaveLength(2);
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(condition(d, 'Progressing')).toMatchObject({ reason: 'NewReplicaSetAvailable' });
    w.stop();
  });

  test('revisionHistoryLimit: old ReplicaSets scaled to 0 beyond the limit are deleted, oldest revision first', async () => {
    const w = world();
    const images = [1, 2, 3, 4, 5].map((n) => w.image(`registry.example/web:${n}`));
    w.create(types.deployments, deployment('web', images[0]!, { replicas: 2, revisionHistoryLimit: 2 }));
    await w.advance(10);
    for (const image of images.slice(1)) {
      w.edit(types.deployments, 'web', setImage(image));
      await w.advance(30);
    }
    expect(revisions(w, 'web')).toEqual({
      [images[2]!]: ['3', undefined, 0],
      [images[3]!]: ['4', undefined, 0],
      [images[4]!]: ['5', undefined, 2],
    });
    w.stop();
  });

  test('Recreate: every old pod is gone before the new ReplicaSet is scaled up', async () => {
    const w = world();
    const [v1, v2] = [w.image('registry.example/web:1'), w.image('registry.example/web:2', {})];
    w.create(types.deployments, deployment('web', v1, { strategy: { type: 'Recreate' } }));
    await w.advance(10);
    const old = w.replicaSetsOf(w.get(types.deployments, 'web')!)[0]!;
    w.edit(types.deployments, 'web', setImage(v2));
    let overlap = false;
    await w.clock.walk(30_000, 250, () => {
      const rss = w.replicaSetsOf(w.get(types.deployments, 'web')!);
      const fresh = rss.filter((rs) => rs.metadata.uid !== old.metadata.uid);
      if (fresh.some((rs) => w.podsOf(rs).length > 0) && w.podsOf(old).length > 0) overlap = true;
    });
    expect(overlap).toBe(false);
    const d = w.get(types.deployments, 'web')!;
    const fresh = w.replicaSetsOf(d).find((rs) => rs.metadata.uid !== old.metadata.uid)!;
    expect(w.eventsOf(d).slice(1)).toEqual([
      `ScalingReplicaSet: Scaled down replica set ${old.metadata.name} from 3 to 0`,
      `ScalingReplicaSet: Scaled up replica set ${fresh.metadata.name} from 0 to 3`,
    ]);
    expect(statusOf(d)).toMatchObject({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
    w.stop();
  });

  test('paused: a template change makes no ReplicaSet (Progressing Unknown DeploymentPaused), scaling still works, resume rolls out', async () => {
    const w = world();
    const [v1, v2] = [w.image('registry.example/web:1'), w.image('registry.example/web:2')];
    w.create(types.deployments, deployment('web', v1));
    await w.advance(10);
    w.edit(types.deployments, 'web', (d) => void ((d.spec as { paused: boolean }).paused = true));
    await w.advance(1);
    expect(condition(w.get(types.deployments, 'web'), 'Progressing')).toMatchObject({
      status: 'Unknown',
      reason: 'DeploymentPaused',
      message: 'Deployment is paused',
    });
    w.edit(types.deployments, 'web', setImage(v2));
    w.edit(types.deployments, 'web', (d) => void ((d.spec as { replicas: number }).replicas = 5));
    await w.advance(700);
    expect(revisions(w, 'web')).toEqual({ [v1]: ['1', undefined, 5] });
    expect(condition(w.get(types.deployments, 'web'), 'Progressing')).toMatchObject({
      reason: 'DeploymentPaused',
    });
    expect(statusOf(w.get(types.deployments, 'web'))).toMatchObject({
      observedGeneration: 4,
      replicas: 5,
      availableReplicas: 5,
    });
    w.edit(types.deployments, 'web', (d) => void ((d.spec as { paused: boolean }).paused = false));
    await w.advance(60);
    expect(revisions(w, 'web')).toEqual({ [v1]: ['1', undefined, 0], [v2]: ['2', undefined, 5] });
    expect(condition(w.get(types.deployments, 'web'), 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'NewReplicaSetAvailable',
    });
    w.stop();
  });
});

describe('deletion', () => {
  test('a deleted Deployment takes its ReplicaSets and their pods with it (background garbage collection)', async () => {
    const w = world();
    const image = w.image('registry.example/web:1');
    w.create(types.deployments, deployment('web', image));
    await w.advance(10);
    const d = w.get(types.deployments, 'web')!;
    const rs = w.replicaSetsOf(d)[0]!;
    w.store.delete(types.deployments, 'default', 'web');
    await w.advance(0);
    expect(w.get(types.replicasets, rs.metadata.name)).toBeUndefined();
    const terminating = w.store.list(types.pods, 'default');
    expect(terminating).toHaveLength(3);
    expect(terminating.every((p) => p.metadata.deletionTimestamp)).toBe(true);
    expect(w.eventsOf(terminating[0]).at(-1)).toBe('Killing: Stopping container web');
    await w.advance(1);
    expect(w.store.list(types.pods, 'default')).toHaveLength(0);
    w.stop();
  });

  test('a pod that ignores SIGTERM takes its whole grace period', async () => {
    const w = world();
    const image = w.image('registry.example/stubborn:1', { 'local-aws.ignore-sigterm': 'true' });
    w.create(types.pods, pod('stubborn', { image }, { terminationGracePeriodSeconds: 20 }));
    await w.advance(5);
    gracefulDelete(w.store, w.clock, 'default', 'stubborn');
    await w.advance(19);
    expect(w.get(types.pods, 'stubborn')?.metadata.deletionTimestamp).toBeDefined();
    await w.advance(1);
    expect(w.get(types.pods, 'stubborn')).toBeUndefined();
    w.stop();
  });
});

describe('events', () => {
  test("the kubelet's events name the container and node; repeats within 10 minutes are one event with a count", async () => {
    const w = world();
    const image = w.image('registry.example/crash:1', { 'local-aws.exit-code': '3' });
    w.create(types.pods, pod('crash', { image }));
    await w.advance(120);
    const p = w.get(types.pods, 'crash')!;
    const backOffs = w.store.list(types.events, 'default').filter((e) => e.reason === 'BackOff');
    expect(backOffs).toHaveLength(1);
    const e = backOffs[0]!;
    expect(e.metadata.name).toMatch(/^crash\.[0-9a-f]{16,}$/);
    expect(e).toMatchObject({
      type: 'Warning',
      involvedObject: {
        kind: 'Pod',
        namespace: 'default',
        name: 'crash',
        uid: p.metadata.uid,
        apiVersion: 'v1',
        fieldPath: 'spec.containers{app}',
      },
      source: { component: 'kubelet', host: (p.spec as { nodeName: string }).nodeName },
      message: `Back-off restarting failed container app in pod crash_default(${p.metadata.uid})`,
    });
    // Back-offs at 1 (restart at once, no event), then 10, 20, 40 s: BackOff written at 1+0, 1+10, 1+30, 1+70 s.
    expect(e.count).toBe(4);
    expect(Date.parse(e.lastTimestamp as string) - Date.parse(e.firstTimestamp as string)).toBe(70_000);
    // Exit code and restarts as the pod's status shows them.
    const c = containerOf(p);
    expect(c).toMatchObject({ restartCount: 4, lastState: { terminated: { exitCode: 3, reason: 'Error' } } });
    expect(
      statusOf<{ containerStatuses: Array<Record<string, string>> }>(p).containerStatuses[0],
    ).toMatchObject({
      image,
      imageID: `registry.example/crash@${digestOf(image)}`,
      containerID: expect.stringMatching(/^containerd:\/\/[0-9a-f]{64}$/),
    });
    w.stop();
  });

  test('the same event after more than 10 minutes is a new Event object', async () => {
    const w = world();
    const image = w.image('registry.example/app:1', { 'local-aws.health': 'fail' });
    w.create(
      types.pods,
      pod('probe', { image, readinessProbe: { exec: { command: ['check'] }, periodSeconds: 660 } }),
    );
    await w.advance(1 + 660 * 2 + 1);
    const unhealthy = w.store.list(types.events, 'default').filter((e) => e.reason === 'Unhealthy');
    expect(unhealthy.map((e) => e.count)).toEqual([1, 1]);
    expect(unhealthy[0]!.message).toBe('Readiness probe failed: ');
    w.stop();
  });
});

describe('Deployment scaling', () => {
  test("proportional scaling mid-rollout, the documentation's example: 10 → 15 replicas adds 3 to the old ReplicaSet and 2 to the new", async () => {
    const w = world({ nodes: 6 });
    const good = w.image('registry.example/nginx:1.14.2');
    w.create(
      types.deployments,
      deployment('nginx', good, {
        replicas: 10,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } },
      }),
    );
    await w.advance(10);
    w.edit(types.deployments, 'nginx', setImage('nginx:sometag'));
    await w.advance(30);
    expect(Object.values(revisions(w, 'nginx')).map(([, , n]) => n)).toEqual([8, 5]);
    w.edit(types.deployments, 'nginx', (d) => void ((d.spec as { replicas: number }).replicas = 15));
    await w.advance(5);
    expect(revisions(w, 'nginx')).toEqual({
      [good]: ['1', undefined, 11],
      'nginx:sometag': ['2', undefined, 7],
    });
    w.stop();
  });

  test('a scaling that adds nothing (the surge absorbs it) still lets the rollout move on', async () => {
    const w = world({ nodes: 6 });
    const good = w.image('registry.example/web:1');
    w.create(
      types.deployments,
      deployment('web', good, {
        replicas: 10,
        strategy: { rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } },
      }),
    );
    await w.advance(10);
    w.edit(types.deployments, 'web', setImage('registry.example/web:missing'));
    await w.advance(30);
    expect(Object.values(revisions(w, 'web')).map(([, , n]) => n)).toEqual([8, 5]);
    // 12 replicas with a surge of 1: 13 allowed, 13 there.
    w.edit(types.deployments, 'web', (d) => {
      (d.spec as { replicas: number }).replicas = 12;
      (d.spec as { strategy: { rollingUpdate: { maxSurge: number } } }).strategy.rollingUpdate.maxSurge = 1;
    });
    await w.advance(5);
    const rss = w.replicaSetsOf(w.get(types.deployments, 'web')!);
    expect(rss.map((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'])).toEqual([
      '12',
      '12',
    ]);
    // The image appears: the rollout completes.
    w.image('registry.example/web:missing');
    await w.advance(400);
    expect(Object.values(revisions(w, 'web')).map(([, , n]) => n)).toEqual([0, 12]);
    w.stop();
  });

  test('replicas 0: a complete, available Deployment with no pods; scaled up again, it runs', async () => {
    const w = world();
    const image = w.image('registry.example/web:1');
    w.create(types.deployments, deployment('web', image, { replicas: 0 }));
    await w.advance(5);
    const d = w.get(types.deployments, 'web')!;
    expect(statusOf(d)).toEqual(expect.not.objectContaining({ replicas: expect.anything() }));
    expect(condition(d, 'Available')).toMatchObject({ status: 'True' });
    expect(condition(d, 'Progressing')).toMatchObject({ reason: 'NewReplicaSetAvailable' });
    w.edit(types.deployments, 'web', (o) => void ((o.spec as { replicas: number }).replicas = 2));
    await w.advance(5);
    expect(statusOf(w.get(types.deployments, 'web'))).toMatchObject({ replicas: 2, availableReplicas: 2 });
    const rs = w.replicaSetsOf(d)[0]!;
    expect(w.eventsOf(w.get(types.deployments, 'web'))).toContain(
      `ScalingReplicaSet: Scaled up replica set ${rs.metadata.name} from 0 to 2`,
    );
    w.stop();
  });

  test('minReadySeconds: a Ready pod counts as available only that long after it became Ready', async () => {
    const w = world();
    const image = w.image('registry.example/web:1');
    w.create(types.deployments, deployment('web', image, { replicas: 2, minReadySeconds: 20 }));
    await w.advance(20);
    // Ready at 1 s (after the pull): available at 21 s.
    expect(statusOf(w.get(types.deployments, 'web'))).toMatchObject({
      readyReplicas: 2,
      unavailableReplicas: 2,
    });
    await w.advance(1);
    expect(statusOf(w.get(types.deployments, 'web'))).toMatchObject({
      readyReplicas: 2,
      availableReplicas: 2,
    });
    expect(condition(w.get(types.deployments, 'web'), 'Progressing')).toMatchObject({
      reason: 'NewReplicaSetAvailable',
    });
    w.stop();
  });
});

describe('scheduling failures, in the scheduler 1.32 words', () => {
  test.each([
    [
      { requests: { cpu: '3' } },
      {},
      '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    ],
    [
      { requests: { cpu: '3', memory: '10Gi' } },
      {},
      '0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    ],
    [
      { limits: { memory: '9Gi' } },
      {},
      '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    ],
    [
      {},
      {
        nodeSelector: { 'topology.kubernetes.io/zone': 'us-east-1a' },
        resources: { requests: { cpu: '3' } },
      },
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
    ],
  ])('resources %j, spec %j', async (resources, extra, message) => {
    const w = world();
    const image = w.image('registry.example/big:1');
    const { resources: extraResources, ...spec } = extra as { resources?: object };
    w.create(types.pods, pod('big', { image, resources: extraResources ?? resources }, spec));
    await w.advance(1);
    const p = w.get(types.pods, 'big');
    expect(condition(p, 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable', message });
    expect(w.eventsOf(p)).toEqual([`FailedScheduling: ${message}`]);
    w.stop();
  });

  test('pods beyond a node\'s pod capacity: "Too many pods"', async () => {
    const w = world({ nodes: 1, nodeCapacity: { cpu: '2', memory: '8Gi', pods: '2' } });
    const image = w.image('registry.example/small:1');
    w.create(types.deployments, deployment('small', image, { replicas: 3 }));
    await w.advance(5);
    const pending = w.store
      .list(types.pods, 'default')
      .filter((p) => !(p.spec as { nodeName?: string }).nodeName);
    expect(pending).toHaveLength(1);
    expect(condition(pending[0], 'PodScheduled')?.message).toBe(
      '0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    );
    w.stop();
  });
});

describe('event TTL', () => {
  test('events are deleted an hour after their last update (checked every 5 minutes), as the apiserver does', async () => {
    const w = world();
    const image = w.image('registry.example/web:1');
    w.create(types.pods, pod('web', { image }));
    await w.advance(5);
    expect(w.eventsOf(w.get(types.pods, 'web'))).toHaveLength(5);
    // Scheduled and Pulling at 0 s, the rest at 1 s; sweeps at every 300 s.
    await w.advance(60 * 60 - 5 - 300);
    expect(w.eventsOf(w.get(types.pods, 'web'))).toHaveLength(5);
    await w.advance(300);
    expect(w.eventsOf(w.get(types.pods, 'web'))).toEqual([
      expect.stringMatching(/^Pulled:/),
      'Created: Created container app',
      'Started: Started container app',
    ]);
    await w.advance(300);
    expect(w.eventsOf(w.get(types.pods, 'web'))).toHaveLength(0);
    w.stop();
    expect(w.clock.pending()).toBe(0);
  });
});

describe('liveness', () => {
  test('a failing liveness probe: Unhealthy failureThreshold times, Killing, then a restart (exit 137)', async () => {
    const w = world();
    const image = w.image('registry.example/app:1', { 'local-aws.health': 'fail' });
    w.create(
      types.pods,
      pod('live', {
        image,
        livenessProbe: { httpGet: { path: '/', port: 80 }, initialDelaySeconds: 5, periodSeconds: 10 },
      }),
    );
    // Running at 1 s; probes fail at 16, 26, 36 s; killed 1 s later.
    await w.advance(36);
    expect(containerOf(w.get(types.pods, 'live')).restartCount).toBe(0);
    expect(w.eventsOf(w.get(types.pods, 'live'), { withCount: true })).toEqual(
      expect.arrayContaining([
        'Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 503 ×3',
        'Killing: Container app failed liveness probe, will be restarted',
      ]),
    );
    await w.advance(1);
    expect(containerOf(w.get(types.pods, 'live'))).toMatchObject({
      restartCount: 1,
      lastState: { terminated: { exitCode: 137, reason: 'Error' } },
    });
    w.stop();
  });
});

describe('init containers', () => {
  const withInit = (
    name: string,
    init: string,
    app: string,
    spec: Record<string, unknown> = {},
  ): NewObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      initContainers: [{ name: 'migrate', image: init }],
      containers: [{ name: 'app', image: app }],
      ...spec,
    },
  });
  type Statuses = {
    initContainerStatuses: ContainerStatus[];
    containerStatuses: ContainerStatus[];
    phase: string;
  };

  test('run to completion first: Initialized False (ContainersNotInitialized) and PodInitializing, then the containers start', async () => {
    const w = world();
    const init = w.image('registry.example/migrate:1', { 'local-aws.exit-after': '5s' });
    const app = w.image('registry.example/app:1');
    w.create(types.pods, withInit('web', init, app));
    await w.advance(3);
    let p = w.get(types.pods, 'web');
    expect(condition(p, 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [migrate]',
    });
    expect(statusOf<Statuses>(p)).toMatchObject({
      phase: 'Pending',
      containerStatuses: [{ state: { waiting: { reason: 'PodInitializing' } } }],
    });
    expect(statusOf<Statuses>(p).initContainerStatuses[0]!.state.running).toBeDefined();
    await w.advance(5);
    p = w.get(types.pods, 'web');
    expect(condition(p, 'Initialized')).toMatchObject({ status: 'True' });
    expect(statusOf<Statuses>(p)).toMatchObject({
      phase: 'Running',
      initContainerStatuses: [{ ready: true, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
    });
    expect(statusOf<Statuses>(p).containerStatuses[0]!.state.running).toBeDefined();
    expect(w.eventsOf(p)).toContain('Started: Started container migrate');
    expect(
      w.store.list(types.events, 'default').find((e) => e.message === 'Started container migrate')
        ?.involvedObject,
    ).toMatchObject({
      fieldPath: 'spec.initContainers{migrate}',
    });
    w.stop();
  });

  test('a failing init container: restarted with the back-off (restartPolicy Always), or the pod Failed (Never)', async () => {
    const w = world();
    const init = w.image('registry.example/migrate:bad', { 'local-aws.exit-code': '1' });
    const app = w.image('registry.example/app:1');
    w.create(types.pods, withInit('again', init, app));
    w.create(types.pods, withInit('once', init, app, { restartPolicy: 'Never' }));
    await w.advance(20);
    const again = statusOf<Statuses>(w.get(types.pods, 'again'));
    expect(again.phase).toBe('Pending');
    expect(again.initContainerStatuses[0]).toMatchObject({
      restartCount: 2,
      lastState: { terminated: { exitCode: 1 } },
    });
    expect(again.containerStatuses[0]!.state.waiting).toEqual({ reason: 'PodInitializing' });
    const once = statusOf<Statuses>(w.get(types.pods, 'once'));
    expect(once.phase).toBe('Failed');
    expect(once.containerStatuses[0]!.restartCount).toBe(0);
    w.stop();
  });
});

describe('a pod whose image changes', () => {
  test('the kubelet kills the container and starts it from the new image (Killing "definition changed")', async () => {
    const w = world();
    const [v1, v2] = [w.image('registry.example/app:1'), w.image('registry.example/app:2')];
    w.create(types.pods, pod('web', { image: v1 }));
    await w.advance(5);
    w.edit(
      types.pods,
      'web',
      (p) => void ((p.spec as { containers: Array<{ image: string }> }).containers[0]!.image = v2),
    );
    await w.advance(0);
    expect(w.eventsOf(w.get(types.pods, 'web'))).toContain(
      'Killing: Container app definition changed, will be restarted',
    );
    await w.advance(2);
    const status = statusOf<{ containerStatuses: Array<Record<string, unknown>> }>(w.get(types.pods, 'web'))
      .containerStatuses[0];
    expect(status).toMatchObject({
      image: v2,
      imageID: `registry.example/app@${digestOf(v2)}`,
      restartCount: 1,
      ready: true,
      state: { running: {} },
    });
    expect(w.pulls).toEqual([v1, v2]);
    w.stop();
  });
});

describe('an image reference the kubelet cannot parse', () => {
  test('references as distribution/reference reads them', () => {
    const valid = [
      'nginx',
      'nginx:1.25',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1',
      'localhost:5000/a/b:c',
      `registry.example/web@sha256:${'a'.repeat(64)}`,
      `registry.example/web:1@sha256:${'b'.repeat(64)}`,
      'a_b/c__d/e-f',
    ];
    const invalid = [
      'Nginx',
      'nginx:',
      'nginx::1',
      'web:tag with space',
      ':1',
      'a//b',
      'nginx:-x',
      'registry.example/web@sha256:xyz',
      '',
    ];
    expect(valid.filter((r) => !validReference(r))).toEqual([]);
    expect(invalid.filter((r) => validReference(r))).toEqual([]);
  });

  test('InvalidImageName, with InspectFailed and "Error: InvalidImageName", and no pull', async () => {
    const w = world();
    w.create(types.pods, pod('bad', { image: 'registry.example/Web:1' }));
    await w.advance(30);
    const message =
      'Failed to apply default image tag "registry.example/Web:1": couldn\'t parse image name "registry.example/Web:1": invalid reference format';
    expect(containerOf(w.get(types.pods, 'bad')).state.waiting).toEqual({
      reason: 'InvalidImageName',
      message,
    });
    expect(w.eventsOf(w.get(types.pods, 'bad')).slice(1)).toEqual([
      `InspectFailed: ${message}`,
      'Failed: Error: InvalidImageName',
    ]);
    expect(w.pulls).toEqual([]);
    w.stop();
  });
});
