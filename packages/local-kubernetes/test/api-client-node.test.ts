// @kubernetes/client-node, a client no one here wrote, against the API server alone: list with a
// selector, a watch from a resourceVersion, a strategic merge patch, a read's 404 as ApiException,
// an informer (list then watch).
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  Watch,
  makeInformer,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from './helpers/api-cluster.js';

let api: ApiServer;
let kc: KubeConfig;
beforeEach(async () => {
  api = await startApiServer();
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sim', server: api.url, skipTLSVerify: true }],
    users: [{ name: 'admin', token: 'admin-token' }],
    contexts: [{ name: 'sim', cluster: 'sim', user: 'admin' }],
    currentContext: 'sim',
  });
});
afterEach(() => api.stop());

const pod = (name: string, labels: Record<string, string>): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
});

test('create and list with a label selector', async () => {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedPod({ namespace: 'default', body: pod('a', { app: 'web' }) });
  await core.createNamespacedPod({ namespace: 'default', body: pod('b', { app: 'db' }) });
  const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' });
  expect(list.items.map((p) => p.metadata?.name)).toEqual(['a']);
  expect(list.items[0]!.spec?.containers[0]!.imagePullPolicy).toBe('IfNotPresent');
  expect(list.metadata?.resourceVersion).toMatch(/^\d+$/);
});

test('a read of a missing object rejects with ApiException code 404 and the Status body', async () => {
  const apps = kc.makeApiClient(AppsV1Api);
  const err = await apps
    .readNamespacedDeployment({ namespace: 'default', name: 'nope' })
    .catch((e: unknown) => e);
  expect(err).toMatchObject({ code: 404 });
  expect(String((err as { body: unknown }).body)).toContain('deployments.apps \\"nope\\" not found');
});

test('watch from a resourceVersion sees only later changes', async () => {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedPod({ namespace: 'default', body: pod('old', { app: 'web' }) });
  const rv = (await core.listNamespacedPod({ namespace: 'default' })).metadata!.resourceVersion!;
  const seen: string[] = [];
  const done = new Promise<void>((resolve) => {
    void new Watch(kc)
      .watch(
        '/api/v1/namespaces/default/pods',
        { resourceVersion: rv },
        (type, obj: V1Pod) => {
          seen.push(`${type} ${obj.metadata?.name}`);
          if (seen.length === 2) resolve();
        },
        () => resolve(),
      )
      .then((req) => done.then(() => req.abort()));
  });
  await new Promise((r) => setTimeout(r, 100));
  await core.createNamespacedPod({ namespace: 'default', body: pod('new', { app: 'web' }) });
  await core.deleteNamespacedPod({ namespace: 'default', name: 'old' });
  await done;
  expect(seen).toEqual(['ADDED new', 'DELETED old']);
});

test('patch with the strategic merge content type merges containers by name', async () => {
  const apps = kc.makeApiClient(AppsV1Api);
  await apps.createNamespacedDeployment({
    namespace: 'default',
    body: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              { name: 'app', image: 'nginx:1.27' },
              { name: 'side', image: 'busybox:1' },
            ],
          },
        },
      },
    },
  });
  const patched = await apps.patchNamespacedDeployment(
    {
      namespace: 'default',
      name: 'web',
      body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.28' }] } } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
  expect(patched.spec?.template.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual([
    'app=nginx:1.28',
    'side=busybox:1',
  ]);
  expect(patched.metadata?.generation).toBe(2);
});

test('an informer lists then watches', async () => {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedPod({ namespace: 'default', body: pod('first', { app: 'web' }) });
  const informer = makeInformer(kc, '/api/v1/namespaces/default/pods', () =>
    core.listNamespacedPod({ namespace: 'default' }),
  );
  const added: string[] = [];
  informer.on('add', (p: V1Pod) => added.push(p.metadata!.name!));
  await informer.start();
  await core.createNamespacedPod({ namespace: 'default', body: pod('second', { app: 'web' }) });
  const start = Date.now();
  while (added.length < 2 && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 20));
  await informer.stop();
  expect(added).toEqual(['first', 'second']);
  expect(
    informer
      .list()
      .map((p) => p.metadata?.name)
      .sort(),
  ).toEqual(['first', 'second']);
});
