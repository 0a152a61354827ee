// kubectl 1.32, a client no one here wrote, against the API server alone (no controllers: what it
// shows is what the API answered). HTTPS with a throwaway certificate: kubectl sends its bearer
// token only over TLS.
import { requireTool } from '../../../test/helpers/tools.js';
import { startApiServer, type ApiServer } from './helpers/api-cluster.js';
import { KUBECTL, kubectlFor, eventually, type Kubectl } from './helpers/kubectl.js';
import { selfSignedCertificate } from './helpers/tls.js';

const withKubectl = requireTool('kubectl 1.32', KUBECTL);

let api: ApiServer;
let kubectl: Kubectl;
beforeAll(async () => {
  api = await startApiServer({
    tls: selfSignedCertificate(),
    authorize: (r) => !(r.user.username === 'dev' && (r.verb === 'delete' || r.resource === 'secrets')),
  });
  kubectl = kubectlFor(api.url);
});
afterAll(async () => {
  kubectl?.cleanup();
  await api?.stop();
});

const manifest = (name: string, image: string, replicas = 2) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: default
  labels: {app: ${name}}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: app
        image: ${image}
        ports: [{containerPort: 80}]
      - name: sidecar
        image: busybox:1.36
`;

async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await kubectl(args, stdin !== undefined ? { stdin } : {});
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}
const deploymentJson = async (name: string) =>
  JSON.parse(await ok(['get', 'deployment', name, '-o', 'json']));

withKubectl('version and api-resources come from /version and discovery', async () => {
  expect(await ok(['version'])).toMatch(/Server Version: v1\.32\.\d+-eks-/);
  const resources = await ok(['api-resources']);
  expect(resources).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
  expect(resources).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
  expect(resources).not.toMatch(/deployments\/status/);
});

withKubectl('create -f, get as a table, -o json/yaml, -l and --field-selector', async () => {
  expect(await ok(['create', '-f', '-'], manifest('web', 'nginx:1.27'))).toBe(
    'deployment.apps/web created\n',
  );
  await ok(['create', '-f', '-'], manifest('api', 'nginx:1.27'));
  const table = await ok(['get', 'deployments']);
  expect(table.split('\n')[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
  expect(table).toMatch(/^web\s+0\/2\s+0\s+0\s+\d+s$/m);
  expect((await deploymentJson('web')).spec.strategy.rollingUpdate).toEqual({
    maxSurge: '25%',
    maxUnavailable: '25%',
  });
  expect(await ok(['get', 'deploy', 'web', '-o', 'yaml'])).toContain('progressDeadlineSeconds: 600');
  expect(await ok(['get', 'deploy', '-l', 'app in (api)', '-o', 'name'])).toBe('deployment.apps/api\n');
  expect(await ok(['get', 'deploy', '--field-selector', 'metadata.name!=api', '-o', 'name'])).toBe(
    'deployment.apps/web\n',
  );
  const again = await kubectl(['create', '-f', '-'], { stdin: manifest('web', 'nginx:1.27') });
  expect(again.stderr).toContain(
    'Error from server (AlreadyExists): error when creating "STDIN": deployments.apps "web" already exists',
  );
  const missing = await kubectl(['get', 'deploy', 'nope']);
  expect(missing.stderr).toBe('Error from server (NotFound): deployments.apps "nope" not found\n');
});

withKubectl(
  'kubectl create from flags sends protobuf: namespace, configmap, secret, deployment, job, service',
  async () => {
    expect(await ok(['create', 'namespace', 'team-a'])).toBe('namespace/team-a created\n');
    await ok(['create', 'configmap', 'settings', '-n', 'team-a', '--from-literal=mode=fast']);
    await ok(['create', 'secret', 'generic', 'token', '-n', 'team-a', '--from-literal=key=s3cret']);
    await ok([
      'create',
      'deployment',
      'flags',
      '-n',
      'team-a',
      '--image=nginx:1.27',
      '--replicas=0',
      '--port=8080',
    ]);
    await ok(['create', 'job', 'once', '-n', 'team-a', '--image=busybox:1', '--', 'echo', 'hi']);
    await ok(['create', 'service', 'clusterip', 'flags', '-n', 'team-a', '--tcp=80:8080']);
    const get = async (what: string) => JSON.parse(await ok(['get', what, '-n', 'team-a', '-o', 'json']));
    expect((await get('configmap/settings')).data).toEqual({ mode: 'fast' });
    const secret = await get('secret/token');
    expect(secret).toMatchObject({ type: 'Opaque', data: { key: Buffer.from('s3cret').toString('base64') } });
    const deploy = await get('deployment/flags');
    expect(deploy.spec.replicas).toBe(0);
    expect(deploy.spec.selector).toEqual({ matchLabels: { app: 'flags' } });
    expect(deploy.spec.template.spec.containers).toEqual([
      expect.objectContaining({
        name: 'nginx',
        image: 'nginx:1.27',
        ports: [{ containerPort: 8080, protocol: 'TCP' }],
      }),
    ]);
    const job = await get('job/once');
    expect(job.spec.template.spec).toMatchObject({
      restartPolicy: 'Never',
      containers: [expect.objectContaining({ command: ['echo', 'hi'] })],
    });
    expect((await get('service/flags')).spec.ports).toEqual([
      { name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080 },
    ]);
  },
);

withKubectl(
  'apply: client-side create then a 3-way patch; server-side; dry-run=server; unknown kinds',
  async () => {
    expect(await ok(['apply', '-f', '-'], manifest('shop', 'nginx:1.27'))).toBe(
      'deployment.apps/shop created\n',
    );
    expect(await ok(['apply', '-f', '-'], manifest('shop', 'nginx:1.28', 3))).toBe(
      'deployment.apps/shop configured\n',
    );
    const shop = await deploymentJson('shop');
    expect(shop.spec.replicas).toBe(3);
    expect(shop.spec.template.spec.containers.map((c: { image: string }) => c.image)).toEqual([
      'nginx:1.28',
      'busybox:1.36',
    ]);
    expect(shop.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain(
      'nginx:1.28',
    );

    expect(await ok(['apply', '--dry-run=server', '-f', '-'], manifest('shop', 'nginx:1.29', 3))).toBe(
      'deployment.apps/shop configured (server dry run)\n',
    );
    expect((await deploymentJson('shop')).spec.template.spec.containers[0].image).toBe('nginx:1.28');

    expect(await ok(['apply', '--server-side', '-f', '-'], manifest('ssa', 'nginx:1.27'))).toBe(
      'deployment.apps/ssa serverside-applied\n',
    );
    await ok(['scale', 'deployment', 'ssa', '--replicas=5']);
    await ok(['set', 'image', 'deployment/ssa', 'app=nginx:9']);
    const conflict = await kubectl(['apply', '--server-side', '-f', '-'], {
      stdin: manifest('ssa', 'nginx:1.27'),
    });
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain(
      'Apply failed with 1 conflict: conflict with "kubectl-set" using apps/v1: .spec.template.spec.containers[name="app"].image',
    );
    await ok(['apply', '--server-side', '--force-conflicts', '-f', '-'], manifest('ssa', 'nginx:1.27'));
    expect((await deploymentJson('ssa')).spec.template.spec.containers[0].image).toBe('nginx:1.27');

    const typo = await kubectl(['apply', '-f', '-'], {
      stdin: manifest('typo', 'nginx:1.27').replace('replicas:', 'replica:'),
    });
    expect(typo.stderr).toBe(
      'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replica"\n',
    );
    const widget = await kubectl(['apply', '-f', '-'], {
      stdin: 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n',
    });
    expect(widget.stderr).toContain('no matches for kind "Widget" in version "example.com/v1"');
  },
);

withKubectl('patch in three types, set image ($setElementOrder), label, annotate, scale', async () => {
  await ok(['create', '-f', '-'], manifest('pt', 'nginx:1.27'));
  await ok([
    'patch',
    'deploy',
    'pt',
    '-p',
    '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","env":[{"name":"A","value":"1"}]}]}}}}',
  ]);
  await ok(['patch', 'deploy', 'pt', '--type', 'merge', '-p', '{"spec":{"minReadySeconds":5}}']);
  await ok([
    'patch',
    'deploy',
    'pt',
    '--type',
    'json',
    '-p',
    '[{"op":"replace","path":"/spec/replicas","value":4}]',
  ]);
  const failed = await kubectl([
    'patch',
    'deploy',
    'pt',
    '--type',
    'json',
    '-p',
    '[{"op":"test","path":"/spec/replicas","value":1}]',
  ]);
  expect(failed.code).not.toBe(0);
  expect(failed.stderr).toContain('testing value /spec/replicas failed: test failed');
  expect(await ok(['set', 'image', 'deploy/pt', 'app=nginx:1.28'])).toBe(
    'deployment.apps/pt image updated\n',
  );
  await ok(['label', 'deploy', 'pt', 'tier=web']);
  await ok(['annotate', 'deploy', 'pt', 'note=hello']);
  expect(await ok(['scale', 'deploy', 'pt', '--replicas=6'])).toBe('deployment.apps/pt scaled\n');
  const pt = await deploymentJson('pt');
  expect(pt.spec).toMatchObject({ replicas: 6, minReadySeconds: 5 });
  expect(pt.spec.template.spec.containers).toEqual([
    expect.objectContaining({ name: 'app', image: 'nginx:1.28' }),
    expect.objectContaining({ name: 'sidecar', image: 'busybox:1.36', env: [{ name: 'A', value: '1' }] }),
  ]);
  expect(pt.metadata.labels).toEqual({ app: 'pt', tier: 'web' });
  expect(pt.metadata.annotations.note).toBe('hello');
});

withKubectl('get -w prints a change made meanwhile', async () => {
  await ok(['create', '-f', '-'], manifest('watched', 'nginx:1.27'));
  const watch = kubectl.start(['get', 'deploy', 'watched', '-w']);
  await eventually(() => /watched/.test(watch.output()), 10_000, 'the first row');
  await ok(['scale', 'deploy', 'watched', '--replicas=9']);
  await api.call('PUT', '/apis/apps/v1/namespaces/default/deployments/watched/status', {
    ...(await api.call('GET', '/apis/apps/v1/namespaces/default/deployments/watched')).json,
    status: { replicas: 9, readyReplicas: 4, updatedReplicas: 9, availableReplicas: 4 },
  });
  await eventually(() => /watched\s+4\/9\s+9\s+4/.test(watch.output()), 10_000, 'the changed row');
  await watch.stop();
});

withKubectl('describe a deployment and a pod (events by involvedObject)', async () => {
  await ok(['create', '-f', '-'], manifest('desc', 'nginx:1.27'));
  const described = await ok(['describe', 'deployment', 'desc']);
  expect(described).toMatch(/^Name:\s+desc$/m);
  expect(described).toMatch(
    /^Replicas:\s+2 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable$/m,
  );
  expect(described).toMatch(/^StrategyType:\s+RollingUpdate$/m);
  const pod = (
    await api.call('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'desc-pod' },
      spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
    })
  ).json;
  await api.call('POST', '/api/v1/namespaces/default/events', {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'desc-pod.1' },
    involvedObject: {
      kind: 'Pod',
      namespace: 'default',
      name: 'desc-pod',
      uid: pod.metadata.uid,
      apiVersion: 'v1',
    },
    reason: 'Scheduled',
    message: 'Successfully assigned default/desc-pod to node-1',
    type: 'Normal',
    source: { component: 'default-scheduler' },
    firstTimestamp: pod.metadata.creationTimestamp,
    lastTimestamp: pod.metadata.creationTimestamp,
    count: 1,
  });
  const podText = await ok(['describe', 'pod', 'desc-pod']);
  expect(podText).toMatch(/^Status:\s+Pending$/m);
  expect(podText).toMatch(
    /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/desc-pod to node-1/,
  );
});

withKubectl('logs: lines the kubelet wrote, --tail, -c, and the waiting refusal', async () => {
  const pod = (
    await api.call('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'logger' },
      spec: {
        containers: [
          { name: 'app', image: 'busybox:1' },
          { name: 'side', image: 'ghcr.io/none:1' },
        ],
      },
    })
  ).json;
  await api.call('PUT', '/api/v1/namespaces/default/pods/logger/status', {
    ...pod,
    status: {
      phase: 'Pending',
      containerStatuses: [
        {
          name: 'app',
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: '2026-11-30T12:00:00Z' } },
        },
        {
          name: 'side',
          ready: false,
          restartCount: 0,
          state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } },
        },
      ],
    },
  });
  for (const text of ['one', 'two', 'three'])
    api.cluster.logs.append('default', 'logger', 'app', { time: api.clock.now(), text });
  expect(await ok(['logs', 'logger', '-c', 'app'])).toBe('one\ntwo\nthree\n');
  expect(await ok(['logs', 'logger', '-c', 'app', '--tail=1'])).toBe('three\n');
  const waiting = await kubectl(['logs', 'logger', '-c', 'side']);
  expect(waiting.stderr).toBe(
    'Error from server (BadRequest): container "side" in pod "logger" is waiting to start: trying and failing to pull image\n',
  );
  expect(await ok(['get', 'pod', 'logger'])).toMatch(/^logger\s+1\/2\s+ImagePullBackOff\s+0\s+\d+s$/m);
});

withKubectl(
  'wait --for=condition sees a status change through a watch; logs -f follows until the container stops',
  async () => {
    await ok(['create', '-f', '-'], manifest('waited', 'nginx:1.27'));
    const waiting = kubectl(['wait', '--for=condition=Available', 'deployment/waited', '--timeout=15s']);
    await new Promise((r) => setTimeout(r, 300));
    const current = (await api.call('GET', '/apis/apps/v1/namespaces/default/deployments/waited')).json;
    await api.call('PUT', '/apis/apps/v1/namespaces/default/deployments/waited/status', {
      ...current,
      status: { conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }] },
    });
    const waited = await waiting;
    expect(waited.stdout).toBe('deployment.apps/waited condition met\n');

    const pod = (
      await api.call('POST', '/api/v1/namespaces/default/pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'follow' },
        spec: { containers: [{ name: 'app', image: 'busybox:1' }] },
      })
    ).json;
    const running = (
      await api.call('PUT', '/api/v1/namespaces/default/pods/follow/status', {
        ...pod,
        status: {
          phase: 'Running',
          containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: { running: {} } }],
        },
      })
    ).json;
    api.cluster.logs.append('default', 'follow', 'app', { time: api.clock.now(), text: 'starting' });
    const follow = kubectl.start(['logs', '-f', 'follow']);
    await eventually(() => follow.output().includes('starting\n'), 10_000, 'the first line');
    api.cluster.logs.append('default', 'follow', 'app', { time: api.clock.now(), text: 'done' });
    await eventually(() => follow.output().includes('done\n'), 10_000, 'the second line');
    await api.call('PUT', '/api/v1/namespaces/default/pods/follow/status', {
      ...running,
      status: {
        phase: 'Succeeded',
        containerStatuses: [
          {
            name: 'app',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: 'Completed' } },
          },
        ],
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      follow.closed,
      new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 10_000))),
    ]);
    clearTimeout(timer);
    expect(ended).toEqual({ code: 0, stdout: 'starting\ndone\n', stderr: '' });
  },
);

withKubectl('delete: cascade background takes the dependents, orphan keeps them', async () => {
  for (const name of ['gone', 'kept']) {
    const owner = await deploymentJson(
      (await ok(['create', '-f', '-', '-o', 'name'], manifest(name, 'nginx:1.27'))).trim().split('/')[1]!,
    );
    await api.call('POST', '/apis/apps/v1/namespaces/default/replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${name}-rs`,
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name, uid: owner.metadata.uid, controller: true },
        ],
      },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'a', image: 'nginx' }] },
        },
      },
    });
  }
  expect(await ok(['delete', 'deploy', 'gone'])).toBe('deployment.apps "gone" deleted\n');
  expect(await ok(['delete', 'deploy', 'kept', '--cascade=orphan'])).toBe('deployment.apps "kept" deleted\n');
  expect(await ok(['get', 'rs', '-o', 'name'])).toBe('replicaset.apps/kept-rs\n');
});

withKubectl('auth: can-i asks the host; 403 and 401 in kubectl words', async () => {
  const dev = kubectlFor(api.url, 'dev-token');
  try {
    const no = await dev(['auth', 'can-i', 'delete', 'pods']);
    expect(no.code).toBe(1);
    expect(no.stdout.trim().toLowerCase()).toBe('no');
    expect((await dev(['auth', 'can-i', 'get', 'deployments'])).stdout).toBe('yes\n');
    const list = await dev(['auth', 'can-i', '--list']);
    expect(list.stdout).toMatch(
      /^deployments\.apps\s+\[\]\s+\[\]\s+\[create deletecollection get list patch update watch\]$/m,
    );
    expect(list.stdout).not.toMatch(/^secrets\s/m);
    const denied = await dev(['delete', 'deploy', 'web']);
    expect(denied.stderr).toBe(
      'Error from server (Forbidden): deployments.apps "web" is forbidden: User "dev" cannot delete resource "deployments" in API group "apps" in the namespace "default"\n',
    );
  } finally {
    dev.cleanup();
  }
  const stranger = kubectlFor(api.url, 'wrong-token');
  try {
    const r = await stranger(['get', 'pods']);
    expect(r.stderr).toContain(
      'You must be logged in to the server (the server has asked for the client to provide credentials)',
    );
  } finally {
    stranger.cleanup();
  }
});
