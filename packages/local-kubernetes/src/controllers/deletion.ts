// Graceful deletion of a pod, as the apiserver does it for DELETE: a pod bound to a node gets
// deletionTimestamp (now + grace period) and deletionGracePeriodSeconds, and the kubelet stops its
// containers and removes it (sooner when they exit sooner); a pod never scheduled, already finished,
// or deleted with grace 0 goes at once. The API's DELETE of a pod should call this.
import type { KubernetesClock } from '../host.js';
import type { KObject } from '../store.js';
import type { StoreLike } from './cache.js';
import { timestamp } from '../store.js';
import { isTerminal, specOf } from './pods.js';
import { T } from './types.js';

export function gracefulDelete(
  store: StoreLike,
  clock: Pick<KubernetesClock, 'now'>,
  namespace: string,
  name: string,
  gracePeriodSeconds?: number,
): KObject {
  const pod = store.require(T.pods, namespace, name);
  const grace = gracePeriodSeconds ?? specOf(pod).terminationGracePeriodSeconds ?? 30;
  if (grace <= 0 || !specOf(pod).nodeName || isTerminal(pod)) return store.delete(T.pods, namespace, name);
  const meta = pod.metadata as KObject['metadata'] & { deletionGracePeriodSeconds?: number };
  if (meta.deletionTimestamp && (meta.deletionGracePeriodSeconds ?? grace) <= grace) return pod;
  return store.update(T.pods, {
    ...pod,
    metadata: {
      ...meta,
      deletionTimestamp: timestamp(clock.now() + grace * 1000),
      deletionGracePeriodSeconds: grace,
    } as KObject['metadata'],
  });
}
