// kubectl 1.32's rollout status rules (polymorphichelpers/rollout_status.go), its sentences word for
// word; test/eks-client.test.ts runs kubectl beside them on live objects.
import {
  daemonSetRolloutStatus,
  deploymentRolloutStatus,
  rolloutStatus,
  statefulSetRolloutStatus,
  type KubeObject,
  type RolloutStatus,
} from '../src/index.js';

function object(
  kind: string,
  generation: number,
  spec: object,
  status: object,
  annotations = {},
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name: 'web', namespace: 'default', generation, annotations },
    spec,
    status,
  };
}

const progressing = (reason: string) => ({ conditions: [{ type: 'Progressing', status: 'False', reason }] });

describe('deploymentRolloutStatus', () => {
  test.each<[string, KubeObject, RolloutStatus, number?]>([
    [
      'spec not observed',
      object('Deployment', 2, { replicas: 3 }, { observedGeneration: 1, replicas: 3, updatedReplicas: 3 }),
      { done: false, message: 'Waiting for deployment spec update to be observed...' },
    ],
    [
      'progress deadline exceeded',
      object(
        'Deployment',
        2,
        { replicas: 3 },
        {
          observedGeneration: 2,
          replicas: 4,
          updatedReplicas: 1,
          ...progressing('ProgressDeadlineExceeded'),
        },
      ),
      {
        done: false,
        message: 'deployment "web" exceeded its progress deadline',
        failed: 'deployment "web" exceeded its progress deadline',
      },
    ],
    [
      'a Progressing condition with another reason is not a failure',
      object(
        'Deployment',
        2,
        { replicas: 3 },
        { observedGeneration: 2, replicas: 4, updatedReplicas: 1, ...progressing('ReplicaSetUpdated') },
      ),
      {
        done: false,
        message:
          'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
      },
    ],
    [
      'old replicas pending termination',
      object('Deployment', 2, { replicas: 3 }, { observedGeneration: 2, replicas: 5, updatedReplicas: 3 }),
      {
        done: false,
        message: 'Waiting for deployment "web" rollout to finish: 2 old replicas are pending termination...',
      },
    ],
    [
      'updated replicas not yet available',
      object(
        'Deployment',
        2,
        { replicas: 3 },
        { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 1 },
      ),
      {
        done: false,
        message: 'Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...',
      },
    ],
    [
      'done',
      object(
        'Deployment',
        2,
        { replicas: 3 },
        { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 },
      ),
      { done: true, message: 'deployment "web" successfully rolled out' },
    ],
    [
      'scaled to zero, done',
      object('Deployment', 4, { replicas: 0 }, { observedGeneration: 4 }),
      { done: true, message: 'deployment "web" successfully rolled out' },
    ],
    [
      'the expected revision is running',
      object(
        'Deployment',
        2,
        { replicas: 1 },
        { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
        { 'deployment.kubernetes.io/revision': '3' },
      ),
      { done: true, message: 'deployment "web" successfully rolled out' },
      3,
    ],
    [
      'another revision is running',
      object(
        'Deployment',
        2,
        { replicas: 1 },
        { observedGeneration: 2 },
        { 'deployment.kubernetes.io/revision': '4' },
      ),
      {
        done: false,
        message: 'desired revision (3) is different from the running revision (4)',
        failed: 'desired revision (3) is different from the running revision (4)',
      },
      3,
    ],
  ])('%s', (...[, deployment, expected, revision]) => {
    // (a rest parameter: jest would take a fourth declared parameter for its done callback)
    expect(deploymentRolloutStatus(deployment, revision)).toEqual(expected);
    expect(rolloutStatus(deployment, revision)).toEqual(expected);
  });
});

describe('statefulSetRolloutStatus', () => {
  const rolling = (partition?: number) => ({
    type: 'RollingUpdate',
    ...(partition === undefined ? {} : { rollingUpdate: { partition } }),
  });
  test.each<[string, KubeObject, RolloutStatus]>([
    [
      'OnDelete cannot be followed',
      object(
        'StatefulSet',
        1,
        { replicas: 3, updateStrategy: { type: 'OnDelete' } },
        { observedGeneration: 1 },
      ),
      {
        done: true,
        message: 'rollout status is only available for RollingUpdate strategy type',
        failed: 'rollout status is only available for RollingUpdate strategy type',
      },
    ],
    [
      'never observed',
      object('StatefulSet', 1, { replicas: 3, updateStrategy: rolling(0) }, {}),
      { done: false, message: 'Waiting for statefulset spec update to be observed...' },
    ],
    [
      'spec not observed',
      object('StatefulSet', 3, { replicas: 3, updateStrategy: rolling(0) }, { observedGeneration: 2 }),
      { done: false, message: 'Waiting for statefulset spec update to be observed...' },
    ],
    [
      'pods not ready',
      object(
        'StatefulSet',
        2,
        { replicas: 3, updateStrategy: rolling(0) },
        { observedGeneration: 2, readyReplicas: 1 },
      ),
      { done: false, message: 'Waiting for 2 pods to be ready...' },
    ],
    [
      'partition: waiting for the pods above it',
      object(
        'StatefulSet',
        2,
        { replicas: 4, updateStrategy: rolling(2) },
        { observedGeneration: 2, readyReplicas: 4, updatedReplicas: 1 },
      ),
      {
        done: false,
        message: 'Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...',
      },
    ],
    [
      'partition: done',
      object(
        'StatefulSet',
        2,
        { replicas: 4, updateStrategy: rolling(2) },
        { observedGeneration: 2, readyReplicas: 4, updatedReplicas: 2 },
      ),
      { done: true, message: 'partitioned roll out complete: 2 new pods have been updated...' },
    ],
    [
      'the defaulted partition 0: done once every pod is updated',
      object(
        'StatefulSet',
        2,
        { replicas: 3, updateStrategy: rolling(0) },
        { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 3 },
      ),
      { done: true, message: 'partitioned roll out complete: 3 new pods have been updated...' },
    ],
    [
      'without rollingUpdate: revisions differ',
      object(
        'StatefulSet',
        2,
        { replicas: 3, updateStrategy: rolling() },
        {
          observedGeneration: 2,
          readyReplicas: 3,
          updatedReplicas: 1,
          currentRevision: 'web-1',
          updateRevision: 'web-2',
        },
      ),
      {
        done: false,
        message: 'waiting for statefulset rolling update to complete 1 pods at revision web-2...',
      },
    ],
    [
      'without rollingUpdate: done',
      object(
        'StatefulSet',
        2,
        { replicas: 3, updateStrategy: rolling() },
        {
          observedGeneration: 2,
          readyReplicas: 3,
          currentReplicas: 3,
          currentRevision: 'web-2',
          updateRevision: 'web-2',
        },
      ),
      { done: true, message: 'statefulset rolling update complete 3 pods at revision web-2...' },
    ],
  ])('%s', (_, statefulSet, expected) => {
    expect(statefulSetRolloutStatus(statefulSet)).toEqual(expected);
    expect(rolloutStatus(statefulSet)).toEqual(expected);
  });
});

describe('daemonSetRolloutStatus', () => {
  const rolling = { updateStrategy: { type: 'RollingUpdate' } };
  test.each<[string, KubeObject, RolloutStatus]>([
    [
      'OnDelete cannot be followed',
      object('DaemonSet', 1, { updateStrategy: { type: 'OnDelete' } }, { observedGeneration: 1 }),
      {
        done: true,
        message: 'rollout status is only available for RollingUpdate strategy type',
        failed: 'rollout status is only available for RollingUpdate strategy type',
      },
    ],
    [
      'spec not observed',
      object('DaemonSet', 2, rolling, { observedGeneration: 1 }),
      { done: false, message: 'Waiting for daemon set spec update to be observed...' },
    ],
    [
      'pods not updated',
      object('DaemonSet', 2, rolling, {
        observedGeneration: 2,
        desiredNumberScheduled: 3,
        updatedNumberScheduled: 1,
      }),
      {
        done: false,
        message: 'Waiting for daemon set "web" rollout to finish: 1 out of 3 new pods have been updated...',
      },
    ],
    [
      'pods not available',
      object('DaemonSet', 2, rolling, {
        observedGeneration: 2,
        desiredNumberScheduled: 3,
        updatedNumberScheduled: 3,
        numberAvailable: 2,
      }),
      {
        done: false,
        message: 'Waiting for daemon set "web" rollout to finish: 2 of 3 updated pods are available...',
      },
    ],
    [
      'done',
      object('DaemonSet', 2, rolling, {
        observedGeneration: 2,
        desiredNumberScheduled: 3,
        updatedNumberScheduled: 3,
        numberAvailable: 3,
      }),
      { done: true, message: 'daemon set "web" successfully rolled out' },
    ],
  ])('%s', (_, daemonSet, expected) => {
    expect(daemonSetRolloutStatus(daemonSet)).toEqual(expected);
    expect(rolloutStatus(daemonSet)).toEqual(expected);
  });
});

test('other kinds have no rollout', () => {
  expect(rolloutStatus(object('Job', 1, {}, {}))).toBeUndefined();
});
