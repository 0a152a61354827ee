// core/v1 Events as client-go's recorder writes them: named `<object>.<hex of the time in ns>`, in
// the object's namespace (default for cluster-scoped objects), and correlated as the recorder's
// EventCorrelator does: the same object, field, reason, message and source again within ten minutes
// updates the existing event (count + 1, lastTimestamp) instead of writing a new one.
import type { KObject, ObjectStore } from '../store.js';
import { timestamp } from '../store.js';
import { T } from './types.js';

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** The reporting component: deployment-controller, replicaset-controller, default-scheduler, kubelet… */
  component: string;
  /** The node, for the kubelet's events. */
  host?: string;
  /** `spec.containers{web}` for a container's events. */
  fieldPath?: string;
}

const CORRELATION_WINDOW_MS = 10 * 60 * 1000;

interface Seen {
  namespace: string;
  name: string;
  last: number;
}

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private serial = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly now: () => number,
  ) {}

  record(object: KObject, spec: EventSpec): void {
    const now = this.now();
    const namespace = object.metadata.namespace ?? 'default';
    const key = [
      object.metadata.uid,
      spec.fieldPath ?? '',
      spec.reason,
      spec.message,
      spec.component,
      spec.host ?? '',
      spec.type,
    ].join('\u0000');
    const previous = this.seen.get(key);
    if (previous && now - previous.last <= CORRELATION_WINDOW_MS) {
      const existing = this.store.get(T.events, previous.namespace, previous.name);
      if (existing) {
        existing.count = ((existing.count as number | undefined) ?? 1) + 1;
        existing.lastTimestamp = timestamp(now);
        delete (existing.metadata as { resourceVersion?: string }).resourceVersion;
        this.store.update(T.events, existing);
        previous.last = now;
        return;
      }
    }
    // client-go names events `<name>.<UnixNano in hex>`; the serial keeps two in one ms apart.
    const nanos = BigInt(now) * 1_000_000n + BigInt(this.serial++ % 1_000_000);
    const name = `${object.metadata.name}.${nanos.toString(16)}`;
    this.store.create(T.events, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        kind: object.kind,
        namespace: object.metadata.namespace,
        name: object.metadata.name,
        uid: object.metadata.uid,
        apiVersion: object.apiVersion,
        resourceVersion: object.metadata.resourceVersion,
        ...(spec.fieldPath ? { fieldPath: spec.fieldPath } : {}),
      },
      reason: spec.reason,
      message: spec.message,
      source: { component: spec.component, ...(spec.host ? { host: spec.host } : {}) },
      firstTimestamp: timestamp(now),
      lastTimestamp: timestamp(now),
      count: 1,
      type: spec.type,
      eventTime: null,
      reportingComponent: spec.component,
      reportingInstance: spec.host ?? '',
    });
    this.seen.set(key, { namespace, name, last: now });
  }
}

const EVENT_TTL_MS = 60 * 60 * 1000;
const SWEEP_EVERY_MS = 5 * 60 * 1000;

/**
 * The apiserver keeps events for an hour after their last write (--event-ttl=1h): every 5 minutes,
 * events older than that are deleted, so a long simulation does not keep them all.
 */
export function sweepEvents(store: ObjectStore, now: number): void {
  for (const event of store.list(T.events)) {
    const last = Date.parse((event.lastTimestamp as string | undefined) ?? event.metadata.creationTimestamp);
    if (last + EVENT_TTL_MS <= now) store.delete(T.events, event.metadata.namespace, event.metadata.name);
  }
}

export function startEventTtl(
  every: (ms: number, fn: () => void) => void,
  store: ObjectStore,
  now: () => number,
): void {
  const sweep = () => {
    sweepEvents(store, now());
    every(SWEEP_EVERY_MS, sweep);
  };
  every(SWEEP_EVERY_MS, sweep);
}
