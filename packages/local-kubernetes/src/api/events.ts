// events.k8s.io/v1 Events are the core/v1 Events seen through another schema, as in kube-apiserver
// (one storage, converted on the way in and out): what the controllers record as core Events is
// listed and watched through events.k8s.io too, and an Event written there is a core Event.
// involvedObject ⇄ regarding, message ⇄ note, source ⇄ deprecatedSource, firstTimestamp/
// lastTimestamp/count ⇄ deprecated*, reportingComponent ⇄ reportingController.
import type { KObject } from '../store.js';

type Any = Record<string, unknown>;

const defined = (o: Any): Any =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ''));

/** A stored core/v1 Event as events.k8s.io/v1 shows it. */
export function toEventsV1(core: KObject): KObject {
  const e = core as unknown as Any;
  const source = (e.source ?? {}) as { component?: string; host?: string };
  const series = e.series as { count?: number; lastObservedTime?: string } | undefined;
  return defined({
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: core.metadata,
    eventTime: e.eventTime ?? null,
    series: series ? defined({ count: series.count, lastObservedTime: series.lastObservedTime }) : undefined,
    reportingController: e.reportingComponent || source.component,
    reportingInstance: e.reportingInstance || source.host,
    action: e.action,
    reason: e.reason,
    regarding: e.involvedObject,
    related: e.related,
    note: e.message,
    type: e.type,
    deprecatedSource: Object.keys(source).length ? source : undefined,
    deprecatedFirstTimestamp: e.firstTimestamp,
    deprecatedLastTimestamp: e.lastTimestamp,
    deprecatedCount: e.count,
  }) as unknown as KObject;
}

/** An events.k8s.io/v1 Event as the core/v1 Event it is stored as. */
export function fromEventsV1(v1: KObject): KObject {
  const e = v1 as unknown as Any;
  return defined({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: v1.metadata,
    involvedObject: e.regarding ?? {},
    reason: e.reason,
    message: e.note,
    source: e.deprecatedSource,
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
    count: e.deprecatedCount,
    type: e.type,
    eventTime: e.eventTime ?? undefined,
    series: e.series,
    action: e.action,
    related: e.related,
    reportingComponent: e.reportingController,
    reportingInstance: e.reportingInstance,
  }) as unknown as KObject;
}

/** A request served through another schema: bodies converted in, answers converted out. */
export interface SchemaView {
  in(object: KObject): KObject;
  out(object: KObject): KObject;
  listKind: string;
  apiVersion: string;
}

export const EVENTS_V1_VIEW: SchemaView = {
  in: fromEventsV1,
  out: toEventsV1,
  listKind: 'EventList',
  apiVersion: 'events.k8s.io/v1',
};
