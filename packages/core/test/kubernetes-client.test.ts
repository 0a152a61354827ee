// The Kubernetes client's wire behaviour on a scripted loopback HTTP server (the live API is
// judged in test/eks-client.test.ts): watch lines split across chunks, pagination, Retry-After,
// the token only in the Authorization header, Status errors, timeouts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubernetesApiError, createKubernetesClient, type KubernetesClient } from '../src/index.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;
let server: http.Server;
let base: string;
let handler: Handler;
const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
const signal = new AbortController().signal;
const TOKEN = 'k8s-aws-v1.c2VjcmV0LXRva2Vu';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/eks/abc`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen.length = 0;
});

const sleeps: number[] = [];
function client(options: { requestTimeoutMs?: number } = {}): KubernetesClient {
  return createKubernetesClient({
    endpoint: base,
    token: () => Promise.resolve(TOKEN),
    userAgent: 'eks-rollout/1.0.0',
    env: {},
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    ...options,
  });
}
const json = (
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const status = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  code,
  reason,
  message,
});
const pods = { group: '', version: 'v1', plural: 'pods', namespace: 'prod' };

test('paths keep the endpoint prefix; the token and user agent travel as headers only', async () => {
  handler = (_req, res) => json(res, 200, { kind: 'Pod', metadata: { name: 'p' } });
  await client().get({ ...pods, name: 'p' }, { signal });
  expect(seen[0]).toMatchObject({ method: 'GET', url: '/eks/abc/api/v1/namespaces/prod/pods/p' });
  expect(seen[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  expect(seen[0]!.headers['user-agent']).toBe('eks-rollout/1.0.0');
  handler = (_req, res) => json(res, 200, { resources: [] });
  await client().resources('apps', 'v1', { signal });
  expect(seen[1]!.url).toBe('/eks/abc/apis/apps/v1');
});

test('list follows continue tokens', async () => {
  handler = (req, res) => {
    const page = new URL(req.url!, 'http://x').searchParams.get('continue');
    json(res, 200, {
      items: [{ metadata: { name: page ?? 'first' } }],
      metadata: { resourceVersion: page ? '12' : '11', ...(page ? {} : { continue: 'second' }) },
    });
  };
  const listed = await client().list(pods, { signal, labelSelector: 'app=web' });
  expect(listed.items.map((i) => i.metadata.name)).toEqual(['first', 'second']);
  expect(listed.resourceVersion).toBe('12');
  expect(seen.map((s) => new URL(s.url, 'http://x').searchParams.get('labelSelector'))).toEqual([
    'app=web',
    'app=web',
  ]);
});

test.each([
  [
    'apply',
    (c: KubernetesClient) =>
      c.apply(
        { ...pods, name: 'p' },
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } },
        { signal, fieldManager: 'aws-containers', force: true, dryRun: true },
      ),
    'PATCH',
    'application/apply-patch+yaml',
    'fieldManager=aws-containers&force=true&dryRun=All',
  ],
  [
    'strategic',
    (c: KubernetesClient) => c.patch({ ...pods, name: 'p' }, {}, { signal, type: 'strategic' }),
    'PATCH',
    'application/strategic-merge-patch+json',
    '',
  ],
  [
    'merge',
    (c: KubernetesClient) => c.patch({ ...pods, name: 'p' }, {}, { signal, type: 'merge' }),
    'PATCH',
    'application/merge-patch+json',
    '',
  ],
  [
    'json',
    (c: KubernetesClient) => c.patch({ ...pods, name: 'p' }, [], { signal, type: 'json' }),
    'PATCH',
    'application/json-patch+json',
    '',
  ],
  ['create', (c: KubernetesClient) => c.create(pods, {}, { signal }), 'POST', 'application/json', ''],
  [
    'delete',
    (c: KubernetesClient) => c.delete({ ...pods, name: 'p' }, { signal, propagationPolicy: 'Foreground' }),
    'DELETE',
    'application/json',
    '',
  ],
] as const)('%s: the method, content type and query', async (_, call, method, contentType, query) => {
  handler = (_req, res) => json(res, 200, { metadata: { name: 'p' } });
  await call(client());
  expect(seen[0]!.method).toBe(method);
  expect(seen[0]!.headers['content-type']).toBe(contentType);
  expect(new URL(seen[0]!.url, 'http://x').search.replace(/^\?/, '')).toBe(query);
});

test('429 waits for Retry-After; 5xx on a read is retried with back-off; a patch is not retried after 5xx', async () => {
  let n = 0;
  handler = (_req, res) => {
    n++;
    if (n === 1) return json(res, 429, status(429, 'TooManyRequests', 'slow down'), { 'retry-after': '3' });
    if (n === 2) return json(res, 503, status(503, 'ServiceUnavailable', 'busy'));
    json(res, 200, { metadata: { name: 'p' } });
  };
  sleeps.length = 0;
  await client().get({ ...pods, name: 'p' }, { signal });
  expect(sleeps).toEqual([3000, 500]);
  expect(seen).toHaveLength(3);
  seen.length = 0;
  handler = (_req, res) => json(res, 500, status(500, 'InternalError', 'boom'));
  await expect(client().patch({ ...pods, name: 'p' }, {}, { signal, type: 'merge' })).rejects.toMatchObject({
    status: 500,
    reason: 'InternalError',
  });
  expect(seen).toHaveLength(1);
});

test('errors: the Status message fenced, the request named, 403 with verb and resource, never the token', async () => {
  handler = (_req, res) =>
    json(
      res,
      403,
      status(
        403,
        'Forbidden',
        'pods "p" is forbidden: User "x" cannot get resource "pods"\n::error::injected',
      ),
    );
  const error = (await client()
    .get({ ...pods, name: 'p' }, { signal })
    .catch((e: unknown) => e)) as KubernetesApiError;
  expect(error).toBeInstanceOf(KubernetesApiError);
  expect(error.message).toBe(
    'pods "p" is forbidden: User "x" cannot get resource "pods"\n:\u200B:error::injected (get pods "p" in namespace "prod")',
  );
  expect(error.request).toBe('GET /eks/abc/api/v1/namespaces/prod/pods/p');
  expect(JSON.stringify({ ...error, message: error.message })).not.toContain(TOKEN);
  handler = (_req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html>bad gateway</html>');
  };
  await expect(client().find({ ...pods, name: 'p' }, { signal })).rejects.toMatchObject({
    status: 502,
    reason: 'BadGateway',
  });
  handler = (_req, res) => json(res, 404, status(404, 'NotFound', 'pods "p" not found'));
  await expect(client().find({ ...pods, name: 'p' }, { signal })).resolves.toBeUndefined();
});

test('a request that gets no answer in time fails after its attempts', async () => {
  handler = () => undefined; // never answers
  await expect(client({ requestTimeoutMs: 100 }).get({ ...pods, name: 'p' }, { signal })).rejects.toThrow(
    /GET \/eks\/abc\/api\/v1\/namespaces\/prod\/pods\/p failed: no answer in 100 ms/,
  );
  expect(seen).toHaveLength(5);
});

test('watch: events split across chunks, a server close resumes from the last version, an ERROR 410 relists', async () => {
  let connection = 0;
  const versions: Array<string | null> = [];
  handler = (req, res) => {
    const q = new URL(req.url!, 'http://x').searchParams;
    if (q.get('watch') !== '1') {
      return json(res, 200, {
        items: [{ metadata: { name: 'b', resourceVersion: '30' } }],
        metadata: { resourceVersion: '30' },
      });
    }
    connection++;
    versions.push(q.get('resourceVersion'));
    res.writeHead(200, { 'content-type': 'application/json' });
    if (connection === 1) {
      const line =
        JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '6' } } }) + '\n';
      res.write(line.slice(0, 10));
      setTimeout(() => {
        res.write(
          line.slice(10) +
            JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'b', resourceVersion: '7' } } }),
        );
        setTimeout(() => res.end('\n'), 10);
      }, 10);
    } else if (connection === 2) {
      res.end(
        JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version: 7') }) +
          '\n',
      );
    } else {
      res.write(JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '31' } } }) + '\n');
    }
  };
  const controller = new AbortController();
  const events: string[] = [];
  for await (const e of client().watch(pods, { signal: controller.signal, resourceVersion: '5' })) {
    events.push(`${e.type} ${e.object.metadata.name ?? ''}`.trim());
    if (e.type === 'BOOKMARK') controller.abort();
  }
  expect(events).toEqual(['ADDED a', 'ADDED b', 'MODIFIED b', 'DELETED a', 'BOOKMARK']);
  // From the version asked, then the last one seen, then the relist's.
  expect(versions).toEqual(['5', '7', '30']);
});

test('watch: a 401 ends it with the error', async () => {
  handler = (_req, res) => json(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
  const iterate = async () => {
    for await (const _ of client().watch(pods, { signal })) void _;
  };
  await expect(iterate()).rejects.toMatchObject({ status: 401, verb: 'watch' });
});
