// What every controller shares: the store, the host's clock and images, the pod logs, the event
// recorder, and a work queue. Controllers are level-triggered as kube-controller-manager's are: a
// change or a timer only says "look at this object again", and the controller's sync reads the
// store and writes what is missing. The queue drains on a microtask, after the store's listeners,
// so many changes to one object make one sync.
import type { ClusterOptions } from '../cluster.js';
import { StatusError } from '../errors.js';
import type { KubernetesHost } from '../host.js';
import type { PodLogs } from '../logs.js';
import type { ResourceType } from '../resources.js';
import type { KObject, ObjectStore } from '../store.js';
import { CachedStore } from './cache.js';
import { EventRecorder } from './events.js';

export type Sync = (key: string) => void;

export interface Timer {
  cancel(): void;
}

export class Runtime {
  readonly events: EventRecorder;
  private readonly queues = new Map<string, { sync: Sync; keys: Set<string> }>();
  private readonly timers = new Set<Timer>();
  private readonly keyed = new Map<string, { timer: Timer; due: number }>();
  private scheduled = false;
  private stopped = false;

  /** The controllers' view of the store: listed from an index, written through. */
  readonly store: CachedStore;

  constructor(
    store: ObjectStore,
    readonly host: KubernetesHost,
    readonly logs: PodLogs,
    readonly options: ClusterOptions,
  ) {
    this.store = new CachedStore(store);
    this.events = new EventRecorder(store, () => this.now());
  }

  now(): number {
    return this.host.clock.now();
  }

  /** Registers a controller's sync under a name; enqueue(name, key) asks it to look at key. */
  register(name: string, sync: Sync): void {
    this.queues.set(name, { sync, keys: new Set() });
  }

  enqueue(name: string, key: string): void {
    if (this.stopped) return;
    const queue = this.queues.get(name);
    if (!queue) return;
    queue.keys.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.drain());
    }
  }

  /** Runs fn after ms of simulated time (cancelled by stop()). */
  after(ms: number, fn: () => void): Timer {
    let timer: Timer | undefined = undefined;
    const handle = this.host.clock.setTimer(ms, () => {
      if (timer) this.timers.delete(timer);
      if (this.stopped) return;
      try {
        fn();
      } catch (err) {
        // A timer must not throw into the host's clock; an object gone meanwhile is not an error.
        if (!(err instanceof StatusError && err.code === 404))
          console.error('local-kubernetes: a controller timer failed:', err);
      }
    });
    timer = {
      cancel: () => {
        handle.cancel();
        this.timers.delete(timer!);
      },
    };
    this.timers.add(timer);
    return timer;
  }

  /** A timer that replaces the previous one set under the same id (a requeue-after). */
  afterKeyed(id: string, ms: number, fn: () => void): void {
    const due = this.now() + ms;
    const existing = this.keyed.get(id);
    // The same requeue asked again (every sync of a stuck rollout asks it): keep the timer.
    if (existing?.due === due) return;
    existing?.timer.cancel();
    const timer = this.after(ms, () => {
      this.keyed.delete(id);
      fn();
    });
    this.keyed.set(id, { timer, due });
  }

  cancelKeyed(id: string): void {
    this.keyed.get(id)?.timer.cancel();
    this.keyed.delete(id);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of [...this.timers]) timer.cancel();
    this.keyed.clear();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private drain(): void {
    this.scheduled = false;
    if (this.stopped) return;
    // Each pass takes what is queued now; syncs that enqueue more (directly, not through the store)
    // are run in the next pass, so one pass's writes are all seen by the next.
    for (let pass = 0; pass < 100; pass++) {
      let ran = false;
      for (const [name, queue] of this.queues) {
        const keys = [...queue.keys];
        queue.keys.clear();
        for (const key of keys) {
          ran = true;
          try {
            queue.sync(key);
          } catch (err) {
            // The object went away or changed under us: its next change (or DELETED) requeues it.
            if (err instanceof StatusError && (err.code === 404 || err.code === 409)) continue;
            console.error(`local-kubernetes: ${name} sync of ${key} failed:`, err);
          }
        }
      }
      if (!ran) return;
    }
  }
}

export const keyOf = (object: KObject) =>
  object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name;

export const splitKey = (key: string): [string | undefined, string] => {
  const slash = key.indexOf('/');
  return slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
};

/** The controller owner reference of an object, if any. */
export const controllerOf = (object: KObject) =>
  object.metadata.ownerReferences?.find((r) => r.controller === true);

export const ownerRef = (owner: KObject) => ({
  apiVersion: owner.apiVersion,
  kind: owner.kind,
  name: owner.metadata.name,
  uid: owner.metadata.uid,
  controller: true,
  blockOwnerDeletion: true,
});

/** Reads an object fresh, lets mutate change it, and writes it (status: the status subresource). */
export function modify(
  rt: Runtime,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  mutate: (object: KObject) => void,
  options: { subresource?: 'status' } = {},
): KObject | undefined {
  const object = rt.store.get(type, namespace, name);
  if (!object) return undefined;
  mutate(object);
  return rt.store.update(type, object, options);
}

/** Drops zero counts, as Go's `omitempty` does in the status JSON the apiserver serves. */
export function omitZero<V extends Record<string, unknown>>(status: V, keep: string[] = []): V {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(status))
    if (v !== 0 || keep.includes(k)) if (v !== undefined) out[k] = v;
  return out as V;
}
