// The API server (issue 12, in progress): replaced by the full implementation in this directory.
import type { KubernetesHandler, KubernetesHost } from '../host.js';
import type { PodLogs } from '../logs.js';
import type { ObjectStore } from '../store.js';
import type { ClusterOptions } from '../cluster.js';

export interface ApiServerOptions {
  store: ObjectStore;
  host: KubernetesHost;
  logs: PodLogs;
  options: ClusterOptions;
}

export function createApiServer(_options: ApiServerOptions): KubernetesHandler {
  return async (_req, res) => {
    res.statusCode = 503;
    res.setHeader('Content-Type', 'application/json');
    res.end(
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'the Kubernetes API of local-kubernetes is not built yet',
        reason: 'ServiceUnavailable',
        code: 503,
      }),
    );
  };
}
