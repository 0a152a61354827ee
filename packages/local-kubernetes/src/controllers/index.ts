// The controllers (issue 12, in progress): replaced by the full implementation in this directory.
import type { KubernetesHost } from '../host.js';
import type { PodLogs } from '../logs.js';
import type { ObjectStore } from '../store.js';
import type { ClusterOptions } from '../cluster.js';

export interface ControllerOptions {
  store: ObjectStore;
  host: KubernetesHost;
  logs: PodLogs;
  options: ClusterOptions;
}

export interface Controllers {
  stop(): void;
}

export function startControllers(_options: ControllerOptions): Controllers {
  return { stop: () => {} };
}
