import type { KubeObject } from '@aws-containers/core';
import { unschedulableMessage, updatedPods } from '../src/follow.js';
import { historyOf, revisionTemplate } from '../src/undo.js';

const owner = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u1', controller: true };
const revision = (name: string, n: number, uid = 'u1'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'ControllerRevision',
  metadata: { name, ownerReferences: [{ ...owner, uid }] },
  revision: n,
  data: { spec: { template: { spec: { containers: [{ name: 'app', image: name }] }, $patch: 'replace' } } },
});
const sts: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'db', uid: 'u1', generation: 4 },
  status: { updateRevision: 'db-b' },
};

test('history: the revisions the workload controls, by revision number', () => {
  expect(
    historyOf(sts, [revision('db-c', 3), revision('other', 9, 'u2'), revision('db-a', 1)]).map(
      (r) => r.metadata.name,
    ),
  ).toEqual(['db-a', 'db-c']);
});

test("a revision's template, without the patch directive", () => {
  expect(revisionTemplate(revision('db-a', 1))).toEqual({
    spec: { containers: [{ name: 'app', image: 'db-a' }] },
  });
});

test.each<[string, KubeObject, string[]]>([
  ['StatefulSet: pods of the update revision', sts, ['db-2']],
  ['DaemonSet: pods of the current generation', { ...sts, kind: 'DaemonSet' }, ['db-1']],
])('updatedPods, %s', (_, object, expected) => {
  const pod = (name: string, labels: Record<string, string>, uid = 'u1'): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels, ownerReferences: [{ ...owner, uid }] },
  });
  const pods = [
    pod('db-0', { 'controller-revision-hash': 'db-a', 'pod-template-generation': '3' }),
    pod('db-1', { 'controller-revision-hash': 'db-a', 'pod-template-generation': '4' }),
    pod('db-2', { 'controller-revision-hash': 'db-b', 'pod-template-generation': '3' }),
    pod('x-0', { 'controller-revision-hash': 'db-b', 'pod-template-generation': '4' }, 'u9'),
  ];
  const kind = object.kind === 'StatefulSet' ? 'statefulset' : 'daemonset';
  expect(updatedPods(kind, object, pods).map((p) => p.metadata.name)).toEqual(expected);
});

test.each<[string, unknown, string | undefined]>([
  [
    'unschedulable',
    [
      {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message: '0/3 nodes are available: 3 Insufficient cpu.',
      },
    ],
    '0/3 nodes are available: 3 Insufficient cpu.',
  ],
  ['scheduled', [{ type: 'PodScheduled', status: 'True' }], undefined],
  ['no conditions', undefined, undefined],
])('unschedulableMessage: %s', (_, conditions, expected) => {
  expect(
    unschedulableMessage({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { conditions } }),
  ).toBe(expected);
});
