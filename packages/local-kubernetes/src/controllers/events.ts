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
