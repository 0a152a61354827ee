// One simulated cluster: its store, its API server and its controllers, on the host's clock. This
// is what local-aws's EKS creates per cluster, and what tests start alone.
import { createApiServer } from './api/index.js';
import { startControllers, type Controllers } from './controllers/index.js';
import type { KubernetesHandler, KubernetesHost } from './host.js';
import { PodLogs } from './logs.js';
import { findByPath } from './resources.js';
import { ObjectStore } from './store.js';

export interface ClusterOptions {
  /** The Kubernetes version /version reports (default 1.32). */
  version?: { major: string; minor: string };
  /** How many nodes the cluster has (default 3), each with this capacity. */
  nodes?: number;
  nodeCapacity?: { cpu: string; memory: string; pods: string };
}

export interface KubernetesCluster {
  readonly store: ObjectStore;
  readonly logs: PodLogs;
  /** Answers one API request of an authenticated user. */
  readonly handle: KubernetesHandler;
  /** Stops the controllers (timers cancelled); the store stays readable. */
  stop(): void;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export function createKubernetesCluster(
  host: KubernetesHost,
  options: ClusterOptions = {},
): KubernetesCluster {
  const store = new ObjectStore({ clock: host.clock });
  const namespaces = findByPath('', 'v1', 'namespaces')!;
  for (const name of SYSTEM_NAMESPACES) {
    store.create(namespaces, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }
  const logs = new PodLogs();
  const controllers: Controllers = startControllers({ store, host, logs, options });
  const handle = createApiServer({ store, host, logs, options });
  return {
    store,
    logs,
    handle,
    stop: () => controllers.stop(),
  };
}
