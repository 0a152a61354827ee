// The store gives etcd's guarantees the API server relies on: one resourceVersion counter, 409 on a
// stale write, generation on spec changes only, no-op writes that change nothing, and a watch
// history that answers 410 Gone past what it keeps.
import { ObjectStore, findByPath, StatusError, type KObject } from '../src/index.js';

const deployments = findByPath('apps', 'v1', 'deployments')!;
const configmaps = findByPath('', 'v1', 'configmaps')!;
const namespaces = findByPath('', 'v1', 'namespaces')!;

function store(historySize?: number) {
  let now = Date.UTC(2026, 10, 30, 12, 0, 0, 500);
  const s = new ObjectStore({ clock: { now: () => now }, ...(historySize ? { historySize } : {}) });
  return { s, tick: (ms: number) => (now += ms) };
}

const deployment = (replicas: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'prod' },
  spec: { replicas },
});

const statusOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof StatusError ? `${err.code} ${err.reason}: ${err.message}` : String(err);
  }
  return 'no error';
};

test('create assigns uid, resourceVersion, creationTimestamp and generation; a second create is AlreadyExists', () => {
  const { s } = store();
  const created = s.create(deployments, deployment(1));
  expect(created.metadata).toMatchObject({
    name: 'web',
    namespace: 'prod',
    generation: 1,
    creationTimestamp: '2026-11-30T12:00:00Z',
    resourceVersion: '2',
  });
  expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
  expect(statusOf(() => s.create(deployments, deployment(1)))).toBe(
    '409 AlreadyExists: deployments.apps "web" already exists',
  );
  // Cluster-scoped objects carry no namespace.
  expect(
    s.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod', namespace: 'x' } })
      .metadata.namespace,
  ).toBeUndefined();
});

test('update: 409 on a stale resourceVersion, generation only for spec, status kept apart, a no-op changes nothing', () => {
  const { s } = store();
  const first = s.create(deployments, deployment(1));
  const scaled = s.update(deployments, { ...first, spec: { replicas: 3 } });
  expect(scaled.metadata.generation).toBe(2);
  expect(statusOf(() => s.update(deployments, { ...first, spec: { replicas: 5 } }))).toBe(
    '409 Conflict: Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
  );
  const withStatus = s.update(deployments, { ...scaled, status: { replicas: 3 } }, { subresource: 'status' });
  expect(withStatus.metadata.generation).toBe(2);
  expect(withStatus.status).toEqual({ replicas: 3 });
  // A PUT of the main resource cannot change the status.
  const relabelled = s.update(deployments, {
    ...withStatus,
    metadata: { ...withStatus.metadata, labels: { a: 'b' } },
    status: { replicas: 99 },
  });
  expect([relabelled.status, relabelled.metadata.generation]).toEqual([{ replicas: 3 }, 2]);
  expect(s.update(deployments, relabelled).metadata.resourceVersion).toBe(
    relabelled.metadata.resourceVersion,
  );
});

test('objects come out as copies; generateName gets a suffix of the apiserver alphabet', () => {
  const { s } = store();
  const made = s.create(configmaps, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { generateName: 'cfg-', namespace: 'prod' },
    data: { a: '1' },
  });
  expect(made.metadata.name).toMatch(/^cfg-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  (made.data as Record<string, string>).a = 'changed';
  expect((s.get(configmaps, 'prod', made.metadata.name)!.data as Record<string, string>).a).toBe('1');
  expect(s.list(configmaps, 'other')).toEqual([]);
  expect(s.list(configmaps).map((o) => o.metadata.name)).toEqual([made.metadata.name]);
});

test('changes since a resourceVersion replay in order; older than the history is 410 Gone; listeners hear each change', async () => {
  const { s } = store(3);
  const heard: string[] = [];
  s.subscribe((c) => heard.push(`${c.type} ${c.object.metadata.name} ${c.resourceVersion}`));
  const made: KObject[] = [];
  for (const name of ['a', 'b', 'c', 'd']) {
    made.push(
      s.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'x' } }),
    );
  }
  s.delete(configmaps, 'x', 'a');
  expect(s.changesSince('3').map((c) => `${c.type} ${c.object.metadata.name}`)).toEqual([
    'ADDED c',
    'ADDED d',
    'DELETED a',
  ]);
  expect(s.changesSince('0')).toEqual([]);
  expect(statusOf(() => s.changesSince('2'))).toBe('410 Expired: too old resource version: 2');
  await Promise.resolve();
  expect(heard).toEqual(['ADDED a 2', 'ADDED b 3', 'ADDED c 4', 'ADDED d 5', 'DELETED a 6']);
  expect(s.resourceVersion()).toBe('6');
});

test('dependents are found by owner uid (garbage collection)', () => {
  const { s } = store();
  const owner = s.create(deployments, deployment(1));
  s.create(configmaps, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'owned',
      namespace: 'prod',
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: owner.metadata.uid, controller: true },
      ],
    },
  });
  expect(s.dependentsOf(owner.metadata.uid).map((d) => `${d.resource} ${d.object.metadata.name}`)).toEqual([
    'configmaps owned',
  ]);
});
