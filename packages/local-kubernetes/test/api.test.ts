// The API server over HTTP, without controllers (test/helpers/api-cluster.ts): what each verb
// answers, in the apiserver's codes and words.
import { startApiServer, type ApiServer } from './helpers/api-cluster.js';

let api: ApiServer;
beforeEach(async () => {
  api = await startApiServer({
    authorize: (r) => !(r.user.username === 'dev' && (r.verb === 'delete' || r.resource === 'secrets')),
  });
});
afterEach(() => api.stop());

const deployment = (name: string, labels: Record<string, string> = { app: name }, extra: object = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels },
  spec: {
    selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } },
    ...extra,
  },
});
const pod = (
  name: string,
  labels: Record<string, string> = {},
  containers = [{ name: 'app', image: 'busybox' }],
) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers },
});
const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';
const PODS = '/api/v1/namespaces/default/pods';

describe('create', () => {
  test('201 with the server fields and the defaults the apiserver sets', async () => {
    const { status, json } = await api.call('POST', DEPLOYMENTS, deployment('web'));
    expect(status).toBe(201);
    expect(json.metadata).toMatchObject({
      name: 'web',
      namespace: 'default',
      generation: 1,
      creationTimestamp: '2026-11-30T12:00:00Z',
    });
    expect(json.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(json.spec).toMatchObject({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    });
    expect(json.spec.template.spec).toMatchObject({
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
    });
    expect(json.spec.template.spec.containers[0]).toMatchObject({
      imagePullPolicy: 'IfNotPresent',
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
    });
    const latest = await api.call('POST', PODS, pod('p', {}, [{ name: 'a', image: 'busybox' }]));
    expect(latest.json.spec.containers[0].imagePullPolicy).toBe('Always');
    expect(latest.json.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
  });

  test('errors: AlreadyExists, missing namespace, namespace mismatch, kind mismatch, invalid name, selector', async () => {
    await api.call('POST', DEPLOYMENTS, deployment('web'));
    const again = await api.call('POST', DEPLOYMENTS, deployment('web'));
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({
      reason: 'AlreadyExists',
      message: 'deployments.apps "web" already exists',
    });

    const noNs = await api.call('POST', '/apis/apps/v1/namespaces/nope/deployments', deployment('web'));
    expect(noNs.status).toBe(404);
    expect(noNs.json).toMatchObject({
      kind: 'Status',
      reason: 'NotFound',
      message: 'namespaces "nope" not found',
    });

    const mismatch = await api.call('POST', DEPLOYMENTS, {
      ...deployment('x'),
      metadata: { name: 'x', namespace: 'other' },
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.json.message).toBe(
      'the namespace of the provided object does not match the namespace sent on the request',
    );

    const kind = await api.call('POST', PODS, deployment('x'));
    expect(kind.status).toBe(400);
    expect(kind.json.reason).toBe('BadRequest');

    const widget = await api.call('POST', DEPLOYMENTS, {
      ...deployment('w'),
      apiVersion: 'example.com/v1',
      kind: 'Widget',
    });
    expect(widget.status).toBe(400);
    expect(widget.json.message).toBe(
      'no kind "Widget" is registered for version "example.com/v1" in scheme "k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30"',
    );

    const name = await api.call('POST', DEPLOYMENTS, deployment('Web_1'));
    expect(name.status).toBe(422);
    expect(name.json.reason).toBe('Invalid');
    expect(name.json.message).toMatch(
      /^Deployment\.apps "Web_1" is invalid: metadata\.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain/,
    );
    expect(name.json.details.causes[0]).toMatchObject({
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
    });

    const selector = await api.call('POST', DEPLOYMENTS, {
      ...deployment('sel'),
      spec: { ...deployment('sel').spec, selector: { matchLabels: { app: 'other' } } },
    });
    expect(selector.status).toBe(422);
    expect(selector.json.message).toBe(
      'Deployment.apps "sel" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"sel"}: `selector` does not match template `labels`',
    );
  });

  test('generateName, Job defaults naming the uid, a Service gets a cluster IP', async () => {
    const gen = await api.call('POST', PODS, { ...pod(''), metadata: { generateName: 'web-' } });
    expect(gen.status).toBe(201);
    expect(gen.json.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const job = await api.call('POST', '/apis/batch/v1/namespaces/default/jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate' },
      spec: {
        template: { spec: { containers: [{ name: 'm', image: 'busybox:1' }], restartPolicy: 'Never' } },
      },
    });
    expect(job.status).toBe(201);
    const uid = job.json.metadata.uid;
    expect(job.json.spec).toMatchObject({
      backoffLimit: 6,
      completions: 1,
      parallelism: 1,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
    });
    expect(job.json.spec.template.metadata.labels).toMatchObject({
      'controller-uid': uid,
      'job-name': 'migrate',
    });
    const svc = await api.call('POST', '/api/v1/namespaces/default/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    expect(svc.json.spec.clusterIP).toMatch(/^10\.100\.\d+\.\d+$/);
    expect(svc.json.spec.ports[0]).toEqual({ port: 80, protocol: 'TCP', targetPort: 80 });
  });

  test('nulls are dropped as a Go struct drops them (a pod template hash must not see them)', async () => {
    const body = deployment('nulls');
    (body.spec.template.metadata as Record<string, unknown>).creationTimestamp = null;
    const { json } = await api.call('POST', DEPLOYMENTS, body);
    expect(json.spec.template.metadata).toEqual({ labels: { app: 'nulls' } });
  });

  test('fieldValidation: Strict refuses unknown fields, the default drops them with a warning', async () => {
    const typo = deployment('typo') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    typo.spec.replica = 3;
    typo.spec.template.spec.containers[0].imagee = 'x';
    const strict = await api.call('POST', `${DEPLOYMENTS}?fieldValidation=Strict`, typo);
    expect(strict.status).toBe(400);
    expect(strict.json.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagee", unknown field "spec.replica"',
    );
    const warned = await api.call('POST', DEPLOYMENTS, typo);
    expect(warned.status).toBe(201);
    expect(warned.headers.warning).toBe(
      '299 - "unknown field \\"spec.template.spec.containers[0].imagee\\"", 299 - "unknown field \\"spec.replica\\""',
    );
    expect(warned.json.spec.replica).toBeUndefined();
    expect(warned.json.spec.template.spec.containers[0].imagee).toBeUndefined();
  });

  test('dryRun=All answers without storing', async () => {
    const { status, json } = await api.call('POST', `${DEPLOYMENTS}?dryRun=All`, deployment('dry'));
    expect(status).toBe(201);
    expect(json.spec.replicas).toBe(1);
    expect((await api.call('GET', `${DEPLOYMENTS}/dry`)).status).toBe(404);
  });
});

describe('get, list and selectors', () => {
  beforeEach(async () => {
    await api.call('POST', PODS, pod('a', { app: 'web', tier: 'front' }));
    await api.call('POST', PODS, pod('b', { app: 'web', tier: 'back' }));
    await api.call('POST', PODS, pod('c', { app: 'db' }));
    await api.call('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'prod' },
    });
    await api.call('POST', '/api/v1/namespaces/prod/pods', pod('d', { app: 'web' }));
  });
  const names = (json: { items: Array<{ metadata: { name: string } }> }) =>
    json.items.map((i) => i.metadata.name);

  test('a list is <Kind>List with the resourceVersion; items carry no kind', async () => {
    const { json } = await api.call('GET', PODS);
    expect(json.kind).toBe('PodList');
    expect(json.apiVersion).toBe('v1');
    expect(json.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(names(json)).toEqual(['a', 'b', 'c']);
    expect(json.items[0].kind).toBeUndefined();
    expect(names((await api.call('GET', '/api/v1/pods')).json)).toEqual(['a', 'b', 'c', 'd']);
  });

  test.each([
    ['app=web', ['a', 'b']],
    ['app==web,tier!=back', ['a']],
    ['tier in (front,back)', ['a', 'b']],
    ['tier notin (front)', ['b', 'c']],
    ['!tier', ['c']],
    ['tier', ['a', 'b']],
  ])('labelSelector %s', async (selector, expected) => {
    const { json } = await api.call('GET', `${PODS}?labelSelector=${encodeURIComponent(selector)}`);
    expect(names(json)).toEqual(expected);
  });

  test('field selectors: metadata.name, status.phase; an unsupported field is 400', async () => {
    expect(names((await api.call('GET', `${PODS}?fieldSelector=metadata.name%3Db`)).json)).toEqual(['b']);
    expect(
      names((await api.call('GET', `/api/v1/pods?fieldSelector=metadata.namespace%3Dprod`)).json),
    ).toEqual(['d']);
    expect(
      names((await api.call('GET', `${PODS}?fieldSelector=status.phase%3DPending,metadata.name!%3Da`)).json),
    ).toEqual(['b', 'c']);
    const bad = await api.call('GET', `${PODS}?fieldSelector=spec.nope%3Dx`);
    expect(bad.status).toBe(400);
    expect(bad.json.message).toBe('field label not supported: spec.nope');
  });

  test('limit and continue page through', async () => {
    const first = await api.call('GET', `/api/v1/pods?limit=3`);
    expect(names(first.json)).toEqual(['a', 'b', 'c']);
    expect(first.json.metadata.remainingItemCount).toBe(1);
    const next = await api.call('GET', `/api/v1/pods?limit=3&continue=${first.json.metadata.continue}`);
    expect(names(next.json)).toEqual(['d']);
    expect(next.json.metadata.continue).toBeUndefined();
  });

  test('404s: an object, an unknown resource, an unknown path', async () => {
    const missing = await api.call('GET', `${PODS}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({
      reason: 'NotFound',
      message: 'pods "nope" not found',
      details: { name: 'nope', kind: 'pods' },
    });
    for (const path of ['/apis/apps/v1/namespaces/default/widgets', '/apis/nope.io/v1', '/nothing/here']) {
      const r = await api.call('GET', path);
      expect(r.status).toBe(404);
      expect(r.json.message).toBe('the server could not find the requested resource');
    }
  });
});

describe('update and patch', () => {
  test('PUT with a stale resourceVersion is 409 Conflict; generation follows the spec', async () => {
    const created = (await api.call('POST', DEPLOYMENTS, deployment('web'))).json;
    const first = await api.call('PUT', `${DEPLOYMENTS}/web`, {
      ...created,
      spec: { ...created.spec, replicas: 3 },
    });
    expect(first.status).toBe(200);
    expect(first.json.metadata.generation).toBe(2);
    const stale = await api.call('PUT', `${DEPLOYMENTS}/web`, {
      ...created,
      spec: { ...created.spec, replicas: 4 },
    });
    expect(stale.status).toBe(409);
    expect(stale.json).toMatchObject({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
    });
    const immutable = await api.call('PUT', `${DEPLOYMENTS}/web`, {
      ...first.json,
      spec: {
        ...first.json.spec,
        selector: { matchLabels: { app: 'web', x: 'y' } },
        template: { ...first.json.spec.template, metadata: { labels: { app: 'web', x: 'y' } } },
      },
    });
    expect(immutable.status).toBe(422);
    expect(immutable.json.message).toContain(
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "x":"y"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    );
  });

  test("a Job's pod template is immutable", async () => {
    const JOBS = '/apis/batch/v1/namespaces/default/jobs';
    await api.call('POST', JOBS, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate' },
      spec: { template: { spec: { containers: [{ name: 'm', image: 'app:1' }], restartPolicy: 'Never' } } },
    });
    const changed = await api.call(
      'PATCH',
      `${JOBS}/migrate`,
      { spec: { template: { spec: { containers: [{ name: 'm', image: 'app:2' }] } } } },
      { 'content-type': 'application/strategic-merge-patch+json' },
    );
    expect(changed.status).toBe(422);
    expect(changed.json.message).toBe(
      'Job.batch "migrate" is invalid: spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable',
    );
    const labelled = await api.call(
      'PATCH',
      `${JOBS}/migrate`,
      { metadata: { labels: { a: 'b' } } },
      {
        'content-type': 'application/merge-patch+json',
      },
    );
    expect(labelled.status).toBe(200);
  });

  test('the four patch content types; an unknown one is 415', async () => {
    await api.call('POST', DEPLOYMENTS, deployment('web'));
    const patch = (type: string, body: unknown) =>
      api.call('PATCH', `${DEPLOYMENTS}/web`, body, { 'content-type': type });
    const smp = await patch('application/strategic-merge-patch+json', {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'app' }],
            containers: [{ name: 'app', image: 'nginx:1.28' }],
          },
        },
      },
    });
    expect(smp.status).toBe(200);
    expect(smp.json.spec.template.spec.containers).toEqual([
      expect.objectContaining({ name: 'app', image: 'nginx:1.28' }),
    ]);
    const merge = await patch('application/merge-patch+json', {
      metadata: { labels: { app: null, team: 'a' } },
    });
    expect(merge.json.metadata.labels).toEqual({ team: 'a' });
    const json = await patch('application/json-patch+json', [
      { op: 'replace', path: '/spec/replicas', value: 4 },
    ]);
    expect(json.json.spec.replicas).toBe(4);
    const failed = await patch('application/json-patch+json', [
      { op: 'test', path: '/spec/replicas', value: 1 },
    ]);
    expect(failed.status).toBe(422);
    expect(failed.json.message).toBe('testing value /spec/replicas failed: test failed');
    const unknown = await patch('text/plain', {});
    expect(unknown.status).toBe(415);
    expect(unknown.json.reason).toBe('UnsupportedMediaType');
  });

  test('server-side apply: create 201, conflict with another manager 409, force takes the field', async () => {
    const apply = (manager: string, replicas: number, force = false) =>
      api.call(
        'PATCH',
        `${DEPLOYMENTS}/web?fieldManager=${manager}${force ? '&force=true' : ''}`,
        { ...deployment('web'), spec: { ...deployment('web').spec, replicas } },
        {
          'content-type': 'application/apply-patch+yaml',
        },
      );
    expect((await apply('ci', 2)).status).toBe(201);
    const noManager = await api.call('PATCH', `${DEPLOYMENTS}/web`, deployment('web'), {
      'content-type': 'application/apply-patch+yaml',
    });
    expect(noManager.status).toBe(400);
    const scaled = await api.call(
      'PATCH',
      `${DEPLOYMENTS}/web?fieldManager=kubectl-client-side-apply`,
      { spec: { replicas: 5 } },
      {
        'content-type': 'application/merge-patch+json',
      },
    );
    expect(scaled.json.spec.replicas).toBe(5);
    const conflict = await apply('ci', 3);
    expect(conflict.status).toBe(409);
    expect(conflict.json).toMatchObject({
      reason: 'Conflict',
      message:
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
      details: { causes: [{ reason: 'FieldManagerConflict', field: '.spec.replicas' }] },
    });
    const same = await apply('ci', 5);
    expect(same.status).toBe(200);
    const forced = await apply('ci', 3, true);
    expect(forced.status).toBe(200);
    expect(forced.json.spec.replicas).toBe(3);
  });

  test('YAML bodies: application/yaml on create, a YAML apply patch', async () => {
    const yaml = `apiVersion: v1
kind: ConfigMap
metadata:
  name: from-yaml
data:
  mode: fast
`;
    const created = await api.call('POST', '/api/v1/namespaces/default/configmaps', yaml, {
      'content-type': 'application/yaml',
    });
    expect(created.status).toBe(201);
    expect(created.json.data).toEqual({ mode: 'fast' });
    const apply = (force: boolean) =>
      api.call(
        'PATCH',
        `/api/v1/namespaces/default/configmaps/from-yaml?fieldManager=ci${force ? '&force=true' : ''}`,
        yaml.replace('fast', 'slow'),
        { 'content-type': 'application/apply-patch+yaml' },
      );
    // The create's manager (the client's program name, no fieldManager given) owns data.mode.
    const conflict = await apply(false);
    expect(conflict.status).toBe(409);
    expect(conflict.json.message).toBe(
      'Apply failed with 1 conflict: conflict with "unknown" using v1: .data.mode',
    );
    const applied = await apply(true);
    expect(applied.status).toBe(200);
    expect(applied.json.data).toEqual({ mode: 'slow' });
  });

  test('server-side apply removes what the manager applied before and applies no more, keeps the rest', async () => {
    const CMS = '/api/v1/namespaces/default/configmaps';
    const apply = (data: Record<string, string>) =>
      api.call(
        'PATCH',
        `${CMS}/cfg?fieldManager=ci`,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data },
        {
          'content-type': 'application/apply-patch+yaml',
        },
      );
    await apply({ a: '1', b: '2' });
    await api.call(
      'PATCH',
      `${CMS}/cfg?fieldManager=other`,
      { data: { c: '3' } },
      { 'content-type': 'application/merge-patch+json' },
    );
    const second = await apply({ a: '1' });
    expect(second.json.data).toEqual({ a: '1', c: '3' });
  });

  test('scale subresource: GET a Scale, PATCH replicas', async () => {
    await api.call('POST', DEPLOYMENTS, deployment('web'));
    const scale = await api.call('GET', `${DEPLOYMENTS}/web/scale`);
    expect(scale.json).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      spec: { replicas: 1 },
      status: { replicas: 0, selector: 'app=web' },
    });
    const patched = await api.call(
      'PATCH',
      `${DEPLOYMENTS}/web/scale`,
      { spec: { replicas: 7 } },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(patched.json.spec.replicas).toBe(7);
    expect((await api.call('GET', `${DEPLOYMENTS}/web`)).json.spec.replicas).toBe(7);
  });

  test('status subresource: PUT changes only the status, the main resource keeps it', async () => {
    const created = (await api.call('POST', DEPLOYMENTS, deployment('web'))).json;
    const status = await api.call('PUT', `${DEPLOYMENTS}/web/status`, {
      ...created,
      spec: { ...created.spec, replicas: 9 },
      status: { replicas: 1 },
    });
    expect(status.json.status).toEqual({ replicas: 1 });
    expect(status.json.spec.replicas).toBe(1);
    const main = await api.call('PUT', `${DEPLOYMENTS}/web`, { ...status.json, status: { replicas: 42 } });
    expect(main.json.status).toEqual({ replicas: 1 });
  });
});

describe('delete', () => {
  const rs = (name: string, owner: { name: string; uid: string }) => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      labels: { app: 'web' },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: owner.name, uid: owner.uid, controller: true },
      ],
    },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image: 'nginx' }] },
      },
    },
  });

  test.each([
    ['Background', false],
    ['Foreground', false],
    ['Orphan', true],
  ])('propagationPolicy %s (dependents kept: %s)', async (policy, kept) => {
    const owner = (await api.call('POST', DEPLOYMENTS, deployment('web'))).json;
    const child = (
      await api.call('POST', '/apis/apps/v1/namespaces/default/replicasets', rs('web-1', owner.metadata))
    ).json;
    await api.call('POST', PODS, {
      ...pod('web-1-x', { app: 'web' }),
      metadata: {
        name: 'web-1-x',
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: 'web-1',
            uid: child.metadata.uid,
            controller: true,
          },
        ],
      },
    });
    const deleted = await api.call('DELETE', `${DEPLOYMENTS}/web`, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: policy,
    });
    expect(deleted.status).toBe(200);
    expect(deleted.json).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'web', group: 'apps', kind: 'deployments' },
    });
    const left = await api.call('GET', '/apis/apps/v1/namespaces/default/replicasets/web-1');
    const leftPod = await api.call('GET', `${PODS}/web-1-x`);
    expect(left.status).toBe(kept ? 200 : 404);
    expect(leftPod.status).toBe(kept ? 200 : 404);
    if (kept) expect(left.json.metadata.ownerReferences).toBeUndefined();
  });

  test('Foreground: the owner waits, marked foregroundDeletion, until its last dependent is gone', async () => {
    const owner = (await api.call('POST', DEPLOYMENTS, deployment('fg'))).json;
    const child = (
      await api.call('POST', '/apis/apps/v1/namespaces/default/replicasets', rs('fg-1', owner.metadata))
    ).json;
    const p = (
      await api.call('POST', PODS, {
        ...pod('fg-1-x', { app: 'web' }),
        metadata: {
          name: 'fg-1-x',
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: 'fg-1',
              uid: child.metadata.uid,
              controller: true,
            },
          ],
        },
      })
    ).json;
    await api.call('PUT', `${PODS}/fg-1-x`, { ...p, spec: { ...p.spec, nodeName: 'node-1' } }); // graceful: it stays
    const deleting = await api.call('DELETE', `${DEPLOYMENTS}/fg?propagationPolicy=Foreground`);
    expect(deleting.json).toMatchObject({
      kind: 'Deployment',
      metadata: { finalizers: ['foregroundDeletion'], deletionTimestamp: expect.any(String) },
    });
    const rsNow = await api.call('GET', '/apis/apps/v1/namespaces/default/replicasets/fg-1');
    expect(rsNow.json.metadata.finalizers).toEqual(['foregroundDeletion']);
    expect((await api.call('GET', `${PODS}/fg-1-x`)).json.metadata.deletionTimestamp).toBeDefined();
    await api.call('DELETE', `${PODS}/fg-1-x?gracePeriodSeconds=0`); // the kubelet's removal
    await new Promise((r) => setTimeout(r, 20));
    expect((await api.call('GET', '/apis/apps/v1/namespaces/default/replicasets/fg-1')).status).toBe(404);
    expect((await api.call('GET', `${DEPLOYMENTS}/fg`)).status).toBe(404);
  });

  test('a pod DELETE answers the pod; deletecollection by label; logs go with the pod', async () => {
    await api.call('POST', PODS, pod('a', { app: 'web' }));
    await api.call('POST', PODS, pod('b', { app: 'web' }));
    await api.call('POST', PODS, pod('c', { app: 'db' }));
    api.cluster.logs.append('default', 'a', 'app', { time: 0, text: 'x' });
    const one = await api.call('DELETE', `${PODS}/a`);
    expect(one.json).toMatchObject({
      kind: 'Pod',
      metadata: { name: 'a', deletionTimestamp: expect.any(String) },
    });
    expect(api.cluster.logs.read('default', 'a', 'app')).toEqual([]);
    const many = await api.call('DELETE', `${PODS}?labelSelector=app%3Dweb`);
    expect(many.json.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['b']);
    expect(
      (await api.call('GET', PODS)).json.items.map((i: { metadata: { name: string } }) => i.metadata.name),
    ).toEqual(['c']);
  });

  test('a pod on a node is deleted gracefully (the kubelet removes it); grace 0 at once', async () => {
    const created = (await api.call('POST', PODS, pod('onnode'))).json;
    await api.call('PUT', `${PODS}/onnode`, { ...created, spec: { ...created.spec, nodeName: 'node-1' } });
    const graceful = await api.call('DELETE', `${PODS}/onnode`);
    expect(graceful.json.metadata).toMatchObject({
      deletionTimestamp: '2026-11-30T12:00:30Z',
      deletionGracePeriodSeconds: 30,
    });
    expect((await api.call('GET', `${PODS}/onnode`)).status).toBe(200);
    await api.call('DELETE', `${PODS}/onnode?gracePeriodSeconds=0`);
    expect((await api.call('GET', `${PODS}/onnode`)).status).toBe(404);
  });

  test('finalizers hold an object until the update that removes the last one', async () => {
    const CMS = '/api/v1/namespaces/default/configmaps';
    await api.call('POST', CMS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'held', finalizers: ['example.com/hold'] },
      data: { a: 'b' },
    });
    const deleting = await api.call('DELETE', `${CMS}/held`);
    expect(deleting.status).toBe(200);
    expect(deleting.json).toMatchObject({
      kind: 'ConfigMap',
      metadata: { deletionTimestamp: '2026-11-30T12:00:00Z' },
    });
    expect((await api.call('GET', `${CMS}/held`)).status).toBe(200);
    const released = await api.call(
      'PATCH',
      `${CMS}/held`,
      { metadata: { finalizers: null } },
      {
        'content-type': 'application/merge-patch+json',
      },
    );
    expect(released.status).toBe(200);
    expect((await api.call('GET', `${CMS}/held`)).status).toBe(404);
  });

  test('deleting a namespace takes what is in it', async () => {
    await api.call('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'tmp' },
    });
    await api.call('POST', '/api/v1/namespaces/tmp/pods', pod('p'));
    const ns = await api.call('DELETE', '/api/v1/namespaces/tmp');
    expect(ns.json).toMatchObject({ kind: 'Namespace', status: { phase: 'Terminating' } });
    expect((await api.call('GET', '/api/v1/namespaces/tmp/pods/p')).status).toBe(404);
  });
});

describe('watch', () => {
  /** Reads a watch's events until `count` arrived or the stream ends. */
  async function events(path: string, count: number, during?: () => Promise<unknown>) {
    const res = await fetch(api.url + path, { headers: { authorization: 'Bearer admin-token' } });
    expect(res.headers.get('content-type')).toBe('application/json');
    const reader = res.body!.getReader();
    const out: Array<{ type: string; object: any }> = []; // eslint-disable-line @typescript-eslint/no-explicit-any
    let buffer = '';
    const pending = during?.();
    while (out.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += Buffer.from(value).toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        out.push(JSON.parse(buffer.slice(0, nl)));
        buffer = buffer.slice(nl + 1);
      }
    }
    await pending;
    await reader.cancel();
    return out;
  }

  test('without a resourceVersion: ADDED for what exists, then live changes, filtered by selector', async () => {
    await api.call('POST', PODS, pod('a', { app: 'web' }));
    await api.call('POST', PODS, pod('z', { app: 'db' }));
    const got = await events(`${PODS}?watch=true&labelSelector=app%3Dweb`, 4, async () => {
      await api.call('POST', PODS, pod('b', { app: 'web' }));
      await api.call('POST', PODS, pod('y', { app: 'db' }));
      await api.call(
        'PATCH',
        `${PODS}/a`,
        { metadata: { labels: { v: '2' } } },
        { 'content-type': 'application/merge-patch+json' },
      );
      await api.call(
        'PATCH',
        `${PODS}/b`,
        { metadata: { labels: { app: 'other' } } },
        { 'content-type': 'application/merge-patch+json' },
      );
    });
    expect(got.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
      'ADDED a',
      'ADDED b',
      'MODIFIED a',
      'DELETED b',
    ]);
    expect(got[0]!.object.kind).toBe('Pod');
  });

  test('from a resourceVersion: the changes after it, none before', async () => {
    const a = (await api.call('POST', PODS, pod('a'))).json;
    await api.call('POST', PODS, pod('b'));
    await api.call('DELETE', `${PODS}/a`);
    const got = await events(`${PODS}?watch=1&resourceVersion=${a.metadata.resourceVersion}`, 2);
    expect(got.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED b', 'DELETED a']);
  });

  test('a resourceVersion older than the history: an ERROR event with 410 Expired', async () => {
    await api.stop();
    api = await startApiServer({ historySize: 3 });
    const first = (await api.call('POST', PODS, pod('a'))).json.metadata.resourceVersion;
    for (const name of ['b', 'c', 'd', 'e']) await api.call('POST', PODS, pod(name));
    const recent = await events(`${PODS}?watch=true&resourceVersion=${Number(first) + 2}`, 2);
    expect(recent.map((e) => e.object.metadata.name)).toEqual(['d', 'e']);
    const got = await events(`${PODS}?watch=true&resourceVersion=${first}`, 1);
    expect(got[0]).toEqual({
      type: 'ERROR',
      object: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${first}`,
        reason: 'Expired',
        code: 410,
      },
    });
  });

  test('timeoutSeconds closes the stream (real time)', async () => {
    const started = Date.now();
    const got = await events(`${PODS}?watch=true&timeoutSeconds=1`, 99);
    expect(got).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  test('a watch by name with sendInitialEvents ends its initial events with a bookmark', async () => {
    await api.call('POST', PODS, pod('a'));
    await api.call('POST', PODS, pod('b'));
    const got = await events(
      `${PODS}?watch=true&fieldSelector=metadata.name%3Db&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan`,
      2,
    );
    expect(got[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'b' } } });
    expect(got[1]).toMatchObject({
      type: 'BOOKMARK',
      object: { kind: 'Pod', metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } },
    });
  });
});

describe('events.k8s.io/v1 is core/v1 Events through another schema', () => {
  const CORE = '/api/v1/namespaces/default/events';
  const V1 = '/apis/events.k8s.io/v1/namespaces/default/events';
  const coreEvent = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'web.1' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1', apiVersion: 'v1' },
    reason: 'Pulling',
    message: 'Pulling image "nginx:1.27"',
    type: 'Normal',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: '2026-11-30T12:00:00Z',
    lastTimestamp: '2026-11-30T12:00:00Z',
    count: 1,
  };

  test('a core Event reads, lists and watches as events.k8s.io; one written there is a core Event', async () => {
    await api.call('POST', CORE, coreEvent);
    const one = (await api.call('GET', `${V1}/web.1`)).json;
    expect(one).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      regarding: coreEvent.involvedObject,
      note: 'Pulling image "nginx:1.27"',
      reason: 'Pulling',
      reportingController: 'kubelet',
      reportingInstance: 'node-1',
      deprecatedCount: 1,
      deprecatedFirstTimestamp: '2026-11-30T12:00:00Z',
    });
    expect(one.message).toBeUndefined();
    expect((await api.call('GET', `${V1}/nope`)).json).toMatchObject({
      code: 404,
      message: 'events.events.k8s.io "nope" not found',
      details: { name: 'nope', group: 'events.k8s.io', kind: 'events' },
    });
    const list = (await api.call('GET', V1)).json;
    expect(list).toMatchObject({ kind: 'EventList', apiVersion: 'events.k8s.io/v1' });
    expect(list.items[0].note).toBe('Pulling image "nginx:1.27"');

    const created = await api.call('POST', V1, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'web.2' },
      eventTime: '2026-11-30T12:00:01.000000Z',
      reportingController: 'eks-rollout',
      reportingInstance: 'ci',
      action: 'Rollout',
      reason: 'Started',
      regarding: { kind: 'Deployment', namespace: 'default', name: 'web', apiVersion: 'apps/v1' },
      note: 'rollout started',
      type: 'Normal',
    });
    expect(created.status).toBe(201);
    expect(created.json.note).toBe('rollout started');
    const asCore = (await api.call('GET', `${CORE}/web.2`)).json;
    expect(asCore).toMatchObject({
      apiVersion: 'v1',
      involvedObject: { kind: 'Deployment', name: 'web' },
      message: 'rollout started',
      reportingComponent: 'eks-rollout',
      action: 'Rollout',
    });
    const patched = await api.call(
      'PATCH',
      `${V1}/web.2`,
      { note: 'rollout finished' },
      {
        'content-type': 'application/merge-patch+json',
      },
    );
    expect(patched.json.note).toBe('rollout finished');
    expect((await api.call('GET', `${CORE}/web.2`)).json.message).toBe('rollout finished');
    const watched = await (
      await fetch(`${api.url}${V1}?watch=true&timeoutSeconds=1`, {
        headers: { authorization: 'Bearer admin-token' },
      })
    ).text();
    const events = watched
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.map((e) => `${e.type} ${e.object.apiVersion} ${e.object.note}`)).toEqual([
      'ADDED events.k8s.io/v1 Pulling image "nginx:1.27"',
      'ADDED events.k8s.io/v1 rollout finished',
    ]);
  });
});

describe('pods/log', () => {
  const running = (names: string[]) => ({
    phase: 'Running',
    containerStatuses: names.map((name) => ({
      name,
      ready: true,
      restartCount: 0,
      state: { running: { startedAt: '2026-11-30T12:00:00Z' } },
    })),
  });
  async function podWith(name: string, containers: string[], status: object) {
    const created = (
      await api.call(
        'POST',
        PODS,
        pod(
          name,
          {},
          containers.map((c) => ({ name: c, image: 'busybox:1' })),
        ),
      )
    ).json;
    await api.call('PUT', `${PODS}/${name}/status`, {
      ...created,
      spec: { ...created.spec, nodeName: 'node-1' },
      status,
    });
  }

  test('text/plain lines; tailLines, sinceSeconds, timestamps', async () => {
    await podWith('web', ['app'], running(['app']));
    const t0 = api.clock.now();
    for (let i = 1; i <= 5; i++)
      api.cluster.logs.append('default', 'web', 'app', { time: t0 + i * 10_000, text: `line ${i}` });
    api.clock.advance(60_000);
    const all = await api.call('GET', `${PODS}/web/log`);
    expect(all.text).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
    expect((await api.call('GET', `${PODS}/web/log?tailLines=2`)).text).toBe('line 4\nline 5\n');
    expect((await api.call('GET', `${PODS}/web/log?sinceSeconds=15`)).text).toBe('line 5\n');
    expect((await api.call('GET', `${PODS}/web/log?tailLines=1&timestamps=true`)).text).toBe(
      '2026-11-30T12:00:50.000000000Z line 5\n',
    );
  });

  test('follow streams new lines until the container stops', async () => {
    await podWith('tail', ['app'], running(['app']));
    api.cluster.logs.append('default', 'tail', 'app', { time: api.clock.now(), text: 'first' });
    const res = await fetch(`${api.url}${PODS}/tail/log?follow=true`, {
      headers: { authorization: 'Bearer admin-token' },
    });
    expect(res.headers.get('content-type')).toBe('text/plain');
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (want: string) => {
      while (!text.includes(want)) {
        const { value, done } = await reader.read();
        if (done) return;
        text += Buffer.from(value).toString('utf8');
      }
    };
    await readUntil('first\n');
    api.cluster.logs.append('default', 'tail', 'app', { time: api.clock.now(), text: 'second' });
    await readUntil('second\n');
    const current = (await api.call('GET', `${PODS}/tail`)).json;
    await api.call('PUT', `${PODS}/tail/status`, {
      ...current,
      status: {
        ...current.status,
        containerStatuses: [
          { name: 'app', ready: false, restartCount: 0, state: { terminated: { exitCode: 0 } } },
        ],
      },
    });
    const rest = await reader.read();
    expect(rest.done).toBe(true);
    expect(text).toBe('first\nsecond\n');
  });

  test('the kubelet refusals: several containers, waiting containers, no previous instance', async () => {
    await podWith('two', ['a', 'b'], running(['a', 'b']));
    const choose = await api.call('GET', `${PODS}/two/log`);
    expect(choose.status).toBe(400);
    expect(choose.json.message).toBe('a container name must be specified for pod two, choose one of: [a b]');
    await podWith('pull', ['c'], {
      phase: 'Pending',
      containerStatuses: [
        { name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } },
      ],
    });
    const waiting = await api.call('GET', `${PODS}/pull/log`);
    expect(waiting.status).toBe(400);
    expect(waiting.json.message).toBe(
      'container "c" in pod "pull" is waiting to start: trying and failing to pull image',
    );
    await podWith('new', ['c'], {
      phase: 'Pending',
      containerStatuses: [
        { name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
      ],
    });
    expect((await api.call('GET', `${PODS}/new/log`)).json.message).toBe(
      'container "c" in pod "new" is waiting to start: ContainerCreating',
    );
    const previous = await api.call('GET', `${PODS}/two/log?container=a&previous=true`);
    expect(previous.json.message).toBe('previous terminated container "a" in pod "two" not found');
  });
});

describe('discovery, version, health, openapi', () => {
  test('/api, /apis, group versions with subresources; /version', async () => {
    expect((await api.call('GET', '/api')).json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await api.call('GET', '/apis')).json;
    expect(groups.kind).toBe('APIGroupList');
    expect(groups.groups.map((g: { name: string }) => g.name)).toEqual(
      expect.arrayContaining([
        'apps',
        'batch',
        'autoscaling',
        'networking.k8s.io',
        'events.k8s.io',
        'authorization.k8s.io',
      ]),
    );
    const apps = (await api.call('GET', '/apis/apps/v1')).json;
    const byName = Object.fromEntries(apps.resources.map((r: { name: string }) => [r.name, r]));
    expect(byName.deployments).toMatchObject({
      singularName: 'deployment',
      namespaced: true,
      kind: 'Deployment',
      shortNames: ['deploy'],
      categories: ['all'],
    });
    expect(byName['deployments/scale']).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect(byName['deployments/status']).toMatchObject({
      kind: 'Deployment',
      verbs: ['get', 'patch', 'update'],
    });
    const core = (await api.call('GET', '/api/v1')).json;
    expect(core.resources.map((r: { name: string }) => r.name)).toEqual(
      expect.arrayContaining(['pods', 'pods/log', 'pods/status', 'namespaces']),
    );
    const version = (await api.call('GET', '/version')).json;
    expect(version).toMatchObject({
      major: '1',
      minor: '32',
      gitVersion: expect.stringMatching(/^v1\.32\.\d+-eks-/),
    });
    expect((await api.call('GET', '/healthz')).text).toBe('ok');
    expect((await api.call('GET', '/readyz')).text).toBe('ok');
  });

  test('aggregated discovery v2 when asked for it, as kubectl does first', async () => {
    const accept = {
      accept:
        'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json',
    };
    const res = await fetch(`${api.url}/apis`, {
      headers: { authorization: 'Bearer admin-token', ...accept },
    });
    expect(res.headers.get('content-type')).toBe(
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    );
    const list = (await res.json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(list).toMatchObject({ kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2' });
    const apps = list.items.find((g: { metadata: { name: string } }) => g.metadata.name === 'apps');
    const deployments = apps.versions[0].resources.find(
      (r: { resource: string }) => r.resource === 'deployments',
    );
    expect(deployments).toMatchObject({
      responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      scope: 'Namespaced',
      singularResource: 'deployment',
      shortNames: ['deploy'],
      subresources: expect.arrayContaining([
        {
          subresource: 'scale',
          responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
          verbs: ['get', 'patch', 'update'],
        },
      ]),
    });
    const core = (await api.call('GET', '/api', undefined, accept)).json;
    expect(core.items.map((g: { metadata: { name: string } }) => g.metadata.name)).toEqual(['']);
    expect((await api.call('GET', '/api')).json.kind).toBe('APIVersions');
  });

  test('/openapi/v3 points at documents whose PATCH operations take fieldValidation', async () => {
    const index = (await api.call('GET', '/openapi/v3')).json;
    const url = index.paths['apis/apps/v1'].serverRelativeURL;
    const doc = (await api.call('GET', url)).json;
    const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
    });
    expect(patch.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'fieldValidation', in: 'query' })]),
    );
    expect(doc.components).toBeDefined();
    const v2 = await api.call('GET', '/openapi/v2');
    expect(v2.status).toBe(200);
    expect(v2.text).toBe(''); // an empty protobuf document: no schema, for kinds v3 does not describe
  });
});

describe('tables', () => {
  const TABLE = { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };

  test('pods: Name, Ready, Status as kubectl shows it, Restarts, Age; wide columns', async () => {
    const created = (
      await api.call(
        'POST',
        PODS,
        pod('web', {}, [
          { name: 'a', image: 'x:1' },
          { name: 'b', image: 'y:1' },
        ]),
      )
    ).json;
    await api.call('PUT', `${PODS}/web/status`, {
      ...created,
      status: {
        phase: 'Running',
        podIP: '10.0.1.5',
        containerStatuses: [
          { name: 'a', ready: true, restartCount: 0, state: { running: {} } },
          {
            name: 'b',
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, finishedAt: '2026-11-30T12:00:00Z' } },
          },
        ],
      },
    });
    api.clock.advance(150_000);
    const table = (await api.call('GET', PODS, undefined, TABLE)).json;
    expect(table.kind).toBe('Table');
    expect(
      table.columnDefinitions
        .map((c: { name: string; priority: number }) => `${c.name}:${c.priority}`)
        .slice(0, 7),
    ).toEqual(['Name:0', 'Ready:0', 'Status:0', 'Restarts:0', 'Age:0', 'IP:1', 'Node:1']);
    expect(table.rows[0].cells.slice(0, 6)).toEqual([
      'web',
      '1/2',
      'CrashLoopBackOff',
      '3 (2m30s ago)',
      '2m30s',
      '10.0.1.5',
    ]);
    expect(table.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'web' } });
  });

  test('deployments: Name, Ready, Up-to-date, Available, Age; serviceaccounts with includeObject=Object', async () => {
    await api.call('POST', DEPLOYMENTS, deployment('web'));
    const table = (await api.call('GET', `${DEPLOYMENTS}/web`, undefined, TABLE)).json;
    expect(
      table.columnDefinitions
        .filter((c: { priority: number }) => c.priority === 0)
        .map((c: { name: string }) => c.name),
    ).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age']);
    expect(table.rows[0].cells.slice(0, 5)).toEqual(['web', '0/1', 0, 0, '0s']);
    await api.call('POST', '/api/v1/namespaces/default/serviceaccounts', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'sa' },
    });
    const generic = (
      await api.call(
        'GET',
        '/api/v1/namespaces/default/serviceaccounts?includeObject=Object',
        undefined,
        TABLE,
      )
    ).json;
    expect(generic.columnDefinitions.map((c: { name: string }) => c.name)).toEqual([
      'Name',
      'Secrets',
      'Age',
    ]);
    expect(generic.rows[0].object.kind).toBe('ServiceAccount');
  });

  test('horizontalpodautoscalers: Reference, Targets, MinPods, MaxPods, Replicas', async () => {
    await api.call('POST', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 2,
        maxReplicas: 5,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
          },
        ],
      },
    });
    const table = (
      await api.call(
        'GET',
        '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers',
        undefined,
        TABLE,
      )
    ).json;
    expect(table.columnDefinitions.map((c: { name: string }) => c.name)).toEqual([
      'Name',
      'Reference',
      'Targets',
      'MinPods',
      'MaxPods',
      'Replicas',
      'Age',
    ]);
    expect(table.rows[0].cells).toEqual(['web', 'Deployment/web', 'cpu: <unknown>/70%', 2, 5, 0, '0s']);
  });
});

describe('authorization and the call log', () => {
  const as = (token: string, method: string, path: string, body?: unknown) =>
    fetch(api.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    }).then(async (r) => ({ status: r.status, json: (await r.json()) as any })); // eslint-disable-line @typescript-eslint/no-explicit-any

  test('403 in the apiserver words; every call logged with its status', async () => {
    await api.call('POST', PODS, pod('a'));
    const denied = await as('dev-token', 'DELETE', `${PODS}/a`);
    expect(denied.status).toBe(403);
    expect(denied.json).toMatchObject({
      reason: 'Forbidden',
      message:
        'pods "a" is forbidden: User "dev" cannot delete resource "pods" in API group "" in the namespace "default"',
    });
    const list = await as('dev-token', 'GET', '/api/v1/secrets');
    expect(list.json.message).toBe(
      'secrets is forbidden: User "dev" cannot list resource "secrets" in API group "" at the cluster scope',
    );
    expect((await as('nobody', 'GET', PODS)).json).toMatchObject({ code: 401, reason: 'Unauthorized' });
    expect(api.calls).toEqual([
      { user: 'kubernetes-admin', verb: 'create', resource: 'pods', namespace: 'default', status: 201 },
      { user: 'dev', verb: 'delete', resource: 'pods', namespace: 'default', name: 'a', status: 403 },
      { user: 'dev', verb: 'list', resource: 'secrets', status: 403 },
    ]);
  });

  test('SelfSubjectAccessReview answers from the host', async () => {
    const review = (verb: string, resource: string) =>
      as('dev-token', 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace: 'default', verb, resource } },
      });
    const no = await review('delete', 'pods');
    expect(no.status).toBe(201);
    expect(no.json.status.allowed).toBe(false);
    expect((await review('get', 'pods')).json.status.allowed).toBe(true);
  });
});
