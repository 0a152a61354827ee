// kubectl rollout undo's algorithm for Deployments (rollback.go), on a recording client; the live
// comparison with kubectl on twin Deployments is in test/eks-client.test.ts.
import {
  equalIgnoreHash,
  labelSelectorString,
  pickRevision,
  undoDeployment,
  undoWorkload,
  type KubeObject,
  type KubernetesClient,
} from '../src/index.js';

const signal = new AbortController().signal;
const template = (image: string, hash?: string) => ({
  metadata: { labels: { app: 'web', ...(hash ? { 'pod-template-hash': hash } : {}) } },
  spec: { containers: [{ name: 'app', image }] },
});
const rs = (
  name: string,
  revision: string | undefined,
  image: string,
  extra: Partial<KubeObject['metadata']> = {},
) =>
  ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: 'default',
      labels: { app: 'web' },
      annotations: {
        ...(revision === undefined ? {} : { 'deployment.kubernetes.io/revision': revision }),
        'deployment.kubernetes.io/desired-replicas': '2',
        'kubernetes.io/change-cause': `deploy ${image}`,
      },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'uid-web', controller: true },
      ],
      ...extra,
    },
    spec: { template: template(image, name) },
  }) as KubeObject;

describe('labelSelectorString', () => {
  test.each([
    [{ matchLabels: { b: '2', a: '1' } }, 'a=1,b=2'],
    [
      {
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['b', 'a'] },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
          { key: 'canary', operator: 'DoesNotExist' },
          { key: 'team', operator: 'Exists' },
        ],
      },
      'app=web,tier in (a,b),env notin (dev),!canary,team',
    ],
    [undefined, ''],
  ])('%j → %s', (selector, expected) => {
    expect(labelSelectorString(selector)).toBe(expected);
  });
});

describe('pickRevision (deploymentRevision)', () => {
  const sets = [
    rs('web-a', '1', 'v1'),
    rs('web-c', '3', 'v3'),
    rs('web-b', '2', 'v2'),
    rs('web-x', undefined, 'vx'),
  ];
  test.each([
    ['the second newest by default', sets, 0, 'web-b'],
    ['the one asked', sets, 1, 'web-a'],
    ['the second newest whatever the order', [sets[1]!, sets[0]!], 0, 'web-a'],
  ])('%s', (_, replicaSets, to, expected) => {
    expect(pickRevision('web', replicaSets, to).metadata.name).toBe(expected);
  });
  test.each([
    [[sets[0]!], 0, 'no rollout history found for deployment "web"'],
    [[], 0, 'no rollout history found for deployment "web"'],
    [sets, 7, 'unable to find specified revision 7 in history'],
    [sets, -1, 'unable to find specified revision -1 in history'],
  ])('%#: %s', (replicaSets, to, message) => {
    expect(() => pickRevision('web', replicaSets, to)).toThrow(message);
  });
});

test('equalIgnoreHash ignores pod-template-hash only', () => {
  expect(equalIgnoreHash(template('v1', 'abc'), template('v1'))).toBe(true);
  expect(equalIgnoreHash(template('v1', 'abc'), template('v2', 'abc'))).toBe(false);
});

/** A client holding one Deployment and its ReplicaSets; records the patches and list queries. */
function fakeClient(deployment: KubeObject, replicaSets: KubeObject[]) {
  const patches: unknown[] = [];
  const selectors: Array<string | undefined> = [];
  const client = {
    get: () => Promise.resolve(deployment),
    list: (_ref: unknown, options: { labelSelector?: string }) => {
      selectors.push(options.labelSelector);
      return Promise.resolve({ items: replicaSets, resourceVersion: '9' });
    },
    patch: (_ref: unknown, patch: unknown, options: { type: string }) => {
      patches.push({ type: options.type, patch });
      return Promise.resolve(deployment);
    },
  } as unknown as KubernetesClient;
  return { client, patches, selectors };
}

const deployment = (image: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'default',
    uid: 'uid-web',
    annotations: {
      'deployment.kubernetes.io/revision': '2',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
      'kubernetes.io/change-cause': 'deploy v2',
      team: 'payments',
    },
  },
  spec: { selector: { matchLabels: { app: 'web' } }, template: template(image), ...extra },
});

describe('undoDeployment', () => {
  const ref = { group: 'apps', version: 'v1', plural: 'deployments', namespace: 'default', name: 'web' };
  test("replaces the template (without the hash label) and the annotations as kubectl's JSON patch", async () => {
    const other = rs('web-other', '5', 'v9', {
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'another', controller: true },
      ],
    });
    const { client, patches, selectors } = fakeClient(deployment('v2'), [
      rs('web-a', '1', 'v1'),
      rs('web-b', '2', 'v2'),
      other,
    ]);
    await expect(undoDeployment(client, ref, signal)).resolves.toEqual({
      revision: 1,
      skipped: false,
      message: 'rolled back',
    });
    expect(selectors).toEqual(['app=web']);
    expect(patches).toEqual([
      {
        type: 'json',
        patch: [
          { op: 'replace', path: '/spec/template', value: template('v1') },
          {
            op: 'replace',
            path: '/metadata/annotations',
            value: {
              // the Deployment's own (annotationsToSkip), then the ReplicaSet's others
              'deployment.kubernetes.io/revision': '2',
              'kubectl.kubernetes.io/last-applied-configuration': '{}',
              'kubernetes.io/change-cause': 'deploy v1',
            },
          },
        ],
      },
    ]);
  });
  test('skips when the template already matches that revision', async () => {
    const { client, patches } = fakeClient(deployment('v1'), [
      rs('web-a', '1', 'v1'),
      rs('web-b', '2', 'v2'),
    ]);
    await expect(undoDeployment(client, ref, signal)).resolves.toEqual({
      revision: 1,
      skipped: true,
      message: 'skipped rollback (current template already matches revision 0)',
    });
    expect(patches).toEqual([]);
  });
  test('refuses a paused deployment', async () => {
    const { client, patches } = fakeClient(deployment('v2', { paused: true }), [
      rs('web-a', '1', 'v1'),
      rs('web-b', '2', 'v2'),
    ]);
    await expect(undoDeployment(client, ref, signal)).rejects.toThrow(
      "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
    );
    expect(patches).toEqual([]);
  });
  test('goes to the revision asked', async () => {
    const { client } = fakeClient(deployment('v3'), [
      rs('web-a', '1', 'v1'),
      rs('web-b', '2', 'v2'),
      rs('web-c', '3', 'v3'),
    ]);
    await expect(undoDeployment(client, ref, signal, 1)).resolves.toMatchObject({
      revision: 1,
      skipped: false,
    });
  });
});

describe('undoControllerRevision (StatefulSets, DaemonSets)', () => {
  const tpl = (image: string) => ({
    metadata: { labels: { app: 'db' } },
    spec: { containers: [{ name: 'db', image }] },
  });
  const revision = (n: number, image: string, uid = 'uid-db') => ({
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `db-${n}`,
      namespace: 'default',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid, controller: true }],
    },
    revision: n,
    data: { spec: { template: { ...tpl(image), $patch: 'replace' } } },
  });
  const sts = (image: string): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'default', uid: 'uid-db' },
    spec: { selector: { matchLabels: { app: 'db' } }, template: tpl(image) },
  });
  const ref = { group: 'apps', version: 'v1', plural: 'statefulsets', namespace: 'default', name: 'db' };
  test.each([
    [
      'the second newest revision',
      'v3',
      [revision(3, 'v3'), revision(1, 'v1'), revision(2, 'v2')],
      undefined,
      2,
      'v2',
    ],
    ['the revision asked', 'v3', [revision(1, 'v1'), revision(2, 'v2'), revision(3, 'v3')], 1, 1, 'v1'],
    [
      'another owner’s revisions ignored',
      'v2',
      [revision(1, 'v1'), revision(2, 'v2'), revision(9, 'v9', 'other')],
      undefined,
      1,
      'v1',
    ],
  ])('%s: its data as a strategic merge patch', async (...[, current, revisions, to, expected, image]) => {
    const { client, patches, selectors } = fakeClient(sts(current as string), revisions as KubeObject[]);
    await expect(undoWorkload(client, ref, signal, to as number | undefined)).resolves.toEqual({
      revision: expected,
      skipped: false,
      message: 'rolled back',
    });
    expect(selectors).toEqual(['app=db']);
    expect(patches).toEqual([
      { type: 'strategic', patch: { spec: { template: { ...tpl(image as string), $patch: 'replace' } } } },
    ]);
  });
  test.each([
    ['a single revision', [revision(1, 'v1')], undefined, 'no last revision to roll back to'],
    [
      'a revision that is not there',
      [revision(1, 'v1'), revision(2, 'v2')],
      7,
      'unable to find specified revision 7 in history',
    ],
  ])('%s', async (...[, revisions, to, message]) => {
    const { client, patches } = fakeClient(sts('v2'), revisions as KubeObject[]);
    await expect(undoWorkload(client, ref, signal, to as number | undefined)).rejects.toThrow(
      message as string,
    );
    expect(patches).toEqual([]);
  });
  test('skips when the template already matches', async () => {
    const { client, patches } = fakeClient(sts('v1'), [revision(1, 'v1'), revision(2, 'v2')] as KubeObject[]);
    await expect(undoWorkload(client, ref, signal, 1)).resolves.toMatchObject({ revision: 1, skipped: true });
    expect(patches).toEqual([]);
  });
  test('other kinds are refused', () => {
    const { client } = fakeClient(sts('v1'), []);
    expect(() => undoWorkload(client, { ...ref, plural: 'jobs' }, signal)).toThrow(
      'kubectl rollout undo works on deployment, statefulset, daemonset, not "jobs".',
    );
  });
});
