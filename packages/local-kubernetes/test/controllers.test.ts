// The controllers on a stepped clock, judged by kube-controller-manager's and the kubelet's
// documented behaviour and numbers.
import { condition, deployment, statusOf, types, world } from './helpers/controller-world.js';

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
    const image = w.image('123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1');
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
      `Pulled: Successfully pulled image "${image}" in 1s (1s including waiting)`,
      'Created: Created container web',
      'Started: Started container web',
    ]);
    w.stop();
    expect(w.clock.pending()).toBe(0);
  });
});
