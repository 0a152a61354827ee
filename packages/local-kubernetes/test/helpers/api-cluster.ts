// A cluster with the API server and no controllers, for tests of the API alone: nothing acts on
// what a test writes, so what it reads back is the API's doing. Served by startKubernetesServer.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createApiServer } from '../../src/api/index.js';
import type { KubernetesCluster } from '../../src/cluster.js';
import type { KubernetesHost } from '../../src/host.js';
import { PodLogs } from '../../src/logs.js';
import { findByPath } from '../../src/resources.js';
import { ObjectStore } from '../../src/store.js';
import { startKubernetesServer, type KubernetesServer } from '../../src/testing.js';
import { ManualClock } from './api-clock.js';

export function apiOnlyCluster(host: KubernetesHost, historySize?: number): KubernetesCluster {
  const store = new ObjectStore({ clock: host.clock, ...(historySize ? { historySize } : {}) });
  const namespaces = findByPath('', 'v1', 'namespaces')!;
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
    store.create(namespaces, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  const logs = new PodLogs();
  return { store, logs, handle: createApiServer({ store, host, logs, options: {} }), stop: () => {} };
}

export interface ApiServer extends KubernetesServer {
  clock: ManualClock;
  calls: Array<Record<string, unknown>>;
  /** fetch against the server with the admin token (JSON body when given an object). */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{
    status: number;
    json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    text: string;
    headers: Record<string, string | string[] | undefined>;
  }>;
}

export async function startApiServer(
  options: {
    authorize?: KubernetesHost['authorize'];
    tls?: { key: string; cert: string };
    historySize?: number;
  } = {},
): Promise<ApiServer> {
  const clock = new ManualClock();
  const calls: Array<Record<string, unknown>> = [];
  const host: KubernetesHost = {
    clock,
    log: (c) => calls.push({ ...c }),
    ...(options.authorize ? { authorize: options.authorize } : {}),
  };
  const server = await startKubernetesServer({
    host,
    cluster: apiOnlyCluster(host, options.historySize),
    tokens: {
      'admin-token': { username: 'kubernetes-admin', groups: ['system:masters'] },
      'dev-token': { username: 'dev', groups: ['developers'] },
    },
    ...(options.tls ? { tls: options.tls } : {}),
  });
  // node:http(s) rather than fetch: the kubectl tests serve a self-signed certificate.
  const call: ApiServer['call'] = (method, path, body, headers = {}) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const url = new URL(server.url + path);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        url,
        {
          method,
          rejectUnauthorized: false,
          headers: {
            authorization: 'Bearer admin-token',
            ...(payload !== undefined
              ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }
              : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, json, text, headers: res.headers });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return { ...server, clock, calls, call };
}
