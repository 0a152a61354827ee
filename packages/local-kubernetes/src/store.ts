// The API server's storage, as etcd behind kube-apiserver gives it: one resourceVersion counter for
// every change, objects keyed by resource type, namespace and name, and a bounded history of
// changes so a watch can start from a resourceVersion (410 Gone when it is older than what is kept).
// Objects go in and come out as deep copies: nothing outside can change what is stored.
//
// Listeners (the controllers, open watches) hear every change after it is stored, on a microtask,
// so a listener that writes to the store never re-enters the write that woke it.
import { randomUUID } from 'node:crypto';
import { alreadyExists, conflict, gone, notFound } from './errors.js';
import { storeKeyOf, type ResourceType } from './resources.js';

export interface ObjectMeta {
  name: string;
  generateName?: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** A stored object: apiVersion, kind, metadata, and whatever else its type has (spec, status, data…). */
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [member: string]: unknown;
}

/** What create() takes: metadata without what the server assigns. */
export type NewObject = Omit<KObject, 'metadata'> & {
  metadata: Partial<ObjectMeta> & ({ name: string } | { generateName: string });
};

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  type: ChangeType;
  /** The store key of the object's type (`deployments.apps`). */
  resource: string;
  /** The object as stored after the change (as it was, with a new resourceVersion, for DELETED). */
  object: KObject;
  resourceVersion: number;
}

/** The clock the store stamps objects with (local-aws's clock satisfies it). */
export interface StoreClock {
  now(): number;
}

export interface StoreOptions {
  clock: StoreClock;
  /** How many changes are kept for watches that start from a resourceVersion (default 10 000). */
  historySize?: number;
}

const copy = <T>(value: T): T => structuredClone(value);

/** RFC 3339 to the second, as Kubernetes writes timestamps. */
export const timestamp = (ms: number) =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** generateName's suffix: five characters of the apiserver's alphabet (no vowels, no 0/1/3). */
export function nameSuffix(length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++)
    out += NAME_SUFFIX_ALPHABET[Math.floor(Math.random() * NAME_SUFFIX_ALPHABET.length)];
  return out;
}

const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

/** Whether two JSON values are equal (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((v, i) => jsonEqual(v, other[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

export class ObjectStore {
  private readonly clock: StoreClock;
  private readonly historySize: number;
  private readonly objects = new Map<string, Map<string, KObject>>();
  private readonly history: Change[] = [];
  private readonly listeners = new Set<(change: Change) => void>();
  private version = 1;

  constructor(options: StoreOptions) {
    this.clock = options.clock;
    this.historySize = options.historySize ?? 10_000;
  }

  /** The latest resourceVersion: what a list answers with. */
  resourceVersion(): string {
    return String(this.version);
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KObject | undefined {
    const found = this.bucket(type).get(keyOf(type.namespaced ? namespace : undefined, name));
    return found ? copy(found) : undefined;
  }

  /** Like get(), but a missing object is Kubernetes' NotFound. */
  require(type: ResourceType, namespace: string | undefined, name: string): KObject {
    const found = this.get(type, namespace, name);
    if (!found) throw notFound(type, name);
    return found;
  }

  /** Every object of a type, in one namespace or all (undefined), sorted by namespace then name. */
  list(type: ResourceType, namespace?: string): KObject[] {
    const items: Array<[string, KObject]> = [];
    for (const [key, object] of this.bucket(type)) {
      if (namespace === undefined || !type.namespaced || object.metadata.namespace === namespace) {
        items.push([key, object]);
      }
    }
    // etcd's order: the keys' bytes (not the locale's collation, which is also far slower).
    items.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return items.map(([, object]) => copy(object));
  }

  /** Stores a new object: uid, resourceVersion, creationTimestamp, generation are the server's. */
  create(type: ResourceType, object: NewObject, options: { uid?: string } = {}): KObject {
    const meta = object.metadata;
    const namespace = type.namespaced ? meta.namespace : undefined;
    let name = meta.name;
    if (!name && meta.generateName) {
      do name = `${meta.generateName}${nameSuffix()}`;
      while (this.bucket(type).has(keyOf(namespace, name)));
    }
    if (!name) throw new Error('create: metadata.name or metadata.generateName is required');
    if (this.bucket(type).has(keyOf(namespace, name))) throw alreadyExists(type, name);
    const stored = copy(object) as KObject;
    const { deletionTimestamp: _deleted, ...rest } = stored.metadata;
    stored.metadata = {
      ...rest,
      name,
      ...(namespace !== undefined ? { namespace } : {}),
      // The API server may choose the uid first (a Job's selector names it).
      uid: options.uid ?? randomUUID(),
      resourceVersion: String(++this.version),
      creationTimestamp: timestamp(this.clock.now()),
      ...(type.hasGeneration ? { generation: 1 } : {}),
    };
    if (!type.namespaced) delete stored.metadata.namespace;
    this.bucket(type).set(keyOf(namespace, name), stored);
    this.record(type, 'ADDED', stored);
    return copy(stored);
  }

  /**
   * Replaces an object (PUT). A resourceVersion in the object must be the stored one (409 Conflict
   * otherwise); none means "whatever is there". `subresource: 'status'` takes only the status; the
   * main resource keeps the stored status. uid and creationTimestamp stay the server's;
   * generation goes up when the spec changes.
   */
  update(type: ResourceType, object: KObject, options: { subresource?: 'status' } = {}): KObject {
    const namespace = type.namespaced ? object.metadata.namespace : undefined;
    const key = keyOf(namespace, object.metadata.name);
    const current = this.bucket(type).get(key);
    if (!current) throw notFound(type, object.metadata.name);
    const asked = object.metadata.resourceVersion;
    if (asked && asked !== current.metadata.resourceVersion) throw conflict(type, object.metadata.name);
    let next: KObject;
    if (options.subresource === 'status') {
      next = { ...copy(current), status: copy(object.status) };
    } else {
      next = copy(object);
      if ('status' in current && type.subresources.includes('status')) next.status = copy(current.status);
      next.metadata = {
        ...next.metadata,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        ...(current.metadata.deletionTimestamp
          ? { deletionTimestamp: current.metadata.deletionTimestamp }
          : {}),
      };
      if (type.hasGeneration) {
        const changed = !jsonEqual(next.spec, current.spec);
        next.metadata.generation = (current.metadata.generation ?? 1) + (changed ? 1 : 0);
      }
    }
    if (namespace !== undefined) next.metadata.namespace = namespace;
    if (
      jsonEqual(
        { ...next, metadata: { ...next.metadata, resourceVersion: '' } },
        {
          ...current,
          metadata: { ...current.metadata, resourceVersion: '' },
        },
      )
    ) {
      // A no-op write changes nothing, not even the resourceVersion (as the apiserver does).
      return copy(current);
    }
    next.metadata.resourceVersion = String(++this.version);
    this.bucket(type).set(key, next);
    this.record(type, 'MODIFIED', next);
    return copy(next);
  }

  /** Removes an object; returns it as it was last stored. */
  delete(type: ResourceType, namespace: string | undefined, name: string): KObject {
    const key = keyOf(type.namespaced ? namespace : undefined, name);
    const current = this.bucket(type).get(key);
    if (!current) throw notFound(type, name);
    this.bucket(type).delete(key);
    const last = copy(current);
    last.metadata.resourceVersion = String(++this.version);
    this.record(type, 'DELETED', last);
    return copy(last);
  }

  /** Objects of any type whose ownerReferences name this uid (for garbage collection). */
  dependentsOf(uid: string): Array<{ resource: string; object: KObject }> {
    const out: Array<{ resource: string; object: KObject }> = [];
    for (const [resource, bucket] of this.objects) {
      for (const object of bucket.values()) {
        if (object.metadata.ownerReferences?.some((r) => r.uid === uid))
          out.push({ resource, object: copy(object) });
      }
    }
    return out;
  }

  /**
   * The changes after `resourceVersion` (a watch's replay), oldest first; 410 Gone when changes
   * after it are no longer kept. "0" or undefined: none (the watch starts now).
   */
  changesSince(resourceVersion: string | undefined): Change[] {
    if (resourceVersion === undefined || resourceVersion === '' || resourceVersion === '0') return [];
    const from = Number(resourceVersion);
    if (!Number.isInteger(from) || from < 0) throw gone(resourceVersion);
    const oldest = this.history[0]?.resourceVersion ?? this.version + 1;
    if (from + 1 < oldest && from < this.version) throw gone(resourceVersion);
    return this.history.filter((c) => c.resourceVersion > from).map(copy);
  }

  /** Hears every change after it is stored. Returns the unsubscribe. */
  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private bucket(type: ResourceType): Map<string, KObject> {
    const key = storeKeyOf(type);
    let bucket = this.objects.get(key);
    if (!bucket) this.objects.set(key, (bucket = new Map()));
    return bucket;
  }

  private record(type: ResourceType, changeType: ChangeType, object: KObject): void {
    const change: Change = {
      type: changeType,
      resource: storeKeyOf(type),
      object: copy(object),
      resourceVersion: Number(object.metadata.resourceVersion),
    };
    this.history.push(change);
    if (this.history.length > this.historySize)
      this.history.splice(0, this.history.length - this.historySize);
    const listeners = [...this.listeners];
    queueMicrotask(() => {
      for (const listener of listeners) listener(copy(change));
    });
  }
}
