// The controllers of a simulated cluster, all on the host's clock: the nodes, the scheduler, the
// kubelets, the ReplicaSet, Deployment, StatefulSet, DaemonSet and Job controllers and the garbage
// collector. Each hears the store's changes and works on the store directly (the API server's
// validation and defaults are not in the way, so each applies the defaults it relies on).
import type { ClusterOptions } from '../cluster.js';
import type { KubernetesHost } from '../host.js';
import type { PodLogs } from '../logs.js';
import type { Change, ObjectStore } from '../store.js';
import { startDaemonSetController } from './daemonset.js';
import { startDeploymentController } from './deployment.js';
import { startEventTtl } from './events.js';
import { startGarbageCollector } from './gc.js';
import { startJobController } from './job.js';
import { startKubelet } from './kubelet.js';
import { createNodes } from './nodes.js';
import { startReplicaSetController } from './replicaset.js';
import { Runtime } from './runtime.js';
import { startScheduler } from './scheduler.js';
import { startStatefulSetController } from './statefulset.js';
import { StatusError } from '../errors.js';
import { RESOURCE_TYPES } from '../resources.js';

export { gracefulDelete } from './deletion.js';

export interface ControllerOptions {
  store: ObjectStore;
  host: KubernetesHost;
  logs: PodLogs;
  options: ClusterOptions;
}

export interface Controllers {
  stop(): void;
}

export function startControllers({ store, host, logs, options }: ControllerOptions): Controllers {
  const rt = new Runtime(store, host, logs, options);
  const kubelet = startKubelet(rt);
  const listeners: Array<(change: Change) => void> = [
    startScheduler(rt),
    kubelet.onChange,
    startReplicaSetController(rt),
    startDeploymentController(rt),
    startStatefulSetController(rt),
    startDaemonSetController(rt),
    startJobController(rt),
    startGarbageCollector(rt),
  ];
  const dispatch = (change: Change) => {
    if (rt.isStopped) return;
    // The index first: every controller then lists what the change says.
    rt.store.apply(change);
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (err) {
        // A change heard late about an object already gone: its DELETED follows.
        if (err instanceof StatusError && err.code === 404) continue;
        console.error('local-kubernetes: a controller failed on a change:', err);
      }
    }
  };
  const unsubscribe = store.subscribe(dispatch);
  createNodes(rt);
  startEventTtl(
    (ms, fn) => rt.after(ms, fn),
    store,
    () => rt.now(),
  );
  // Whatever the store already holds is looked at once, as an informer's initial list is.
  for (const type of RESOURCE_TYPES) {
    if (type.group === 'events.k8s.io' || type.plural === 'events') continue;
    for (const object of store.list(type)) {
      dispatch({
        type: 'ADDED',
        resource: type.group ? `${type.plural}.${type.group}` : type.plural,
        object,
        resourceVersion: Number(object.metadata.resourceVersion),
      });
    }
  }
  return {
    stop: () => {
      unsubscribe();
      rt.stop();
    },
  };
}
