// The controllers' view of the store, as an informer cache gives it: list() reads an index kept
// from the store's changes without copying every object (a copy per object per list made a rollout
// of 500 pods cost minutes), while get() still reads the store itself. Writes go through to the
// store and into the index at once, so a controller reads its own writes in the same sync (the
// real controllers need "expectations" for that). Objects from list() are shared: read-only.
import type { ResourceType } from '../resources.js';
import { storeKeyOf } from '../resources.js';
import type { Change, KObject, NewObject, ObjectStore } from '../store.js';

/** What the controllers use of a store (the cache, or the store itself for graceful deletion). */
export interface StoreLike {
  get(type: ResourceType, namespace: string | undefined, name: string): KObject | undefined;
  require(type: ResourceType, namespace: string | undefined, name: string): KObject;
  create(type: ResourceType, object: NewObject): KObject;
  update(type: ResourceType, object: KObject, options?: { subresource?: 'status' }): KObject;
  delete(type: ResourceType, namespace: string | undefined, name: string): KObject;
}

const keyOf = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class CachedStore implements StoreLike {
  private readonly index = new Map<string, Map<string, KObject>>();
  /** The resourceVersion each key was last seen at (deleted ones too), so late changes are ignored. */
  private readonly seen = new Map<string, number>();

  constructor(readonly store: ObjectStore) {}

  private bucket(resource: string): Map<string, KObject> {
    let bucket = this.index.get(resource);
    if (!bucket) this.index.set(resource, (bucket = new Map()));
    return bucket;
  }

  /** Takes a change heard from the store (an API write, or one of ours heard late). */
  apply(change: Change): void {
    this.put(change.resource, change.object, change.type === 'DELETED');
  }

  private put(resource: string, object: KObject, deleted: boolean): void {
    const key = `${resource}|${keyOf(object)}`;
    const rv = Number(object.metadata.resourceVersion);
    if ((this.seen.get(key) ?? 0) > rv) return;
    this.seen.set(key, rv);
    if (deleted) this.bucket(resource).delete(keyOf(object));
    else this.bucket(resource).set(keyOf(object), object);
  }

  /** Objects of a type, in a namespace or all; shared, not copies. */
  list(type: ResourceType, namespace?: string): KObject[] {
    const all = [...this.bucket(storeKeyOf(type)).values()];
    return namespace === undefined || !type.namespaced
      ? all
      : all.filter((o) => o.metadata.namespace === namespace);
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KObject | undefined {
    return this.store.get(type, namespace, name);
  }

  require(type: ResourceType, namespace: string | undefined, name: string): KObject {
    return this.store.require(type, namespace, name);
  }

  create(type: ResourceType, object: NewObject): KObject {
    const created = this.store.create(type, object);
    this.put(storeKeyOf(type), structuredClone(created), false);
    return created;
  }

  update(type: ResourceType, object: KObject, options: { subresource?: 'status' } = {}): KObject {
    const updated = this.store.update(type, object, options);
    this.put(storeKeyOf(type), structuredClone(updated), false);
    return updated;
  }

  delete(type: ResourceType, namespace: string | undefined, name: string): KObject {
    const deleted = this.store.delete(type, namespace, name);
    this.put(storeKeyOf(type), deleted, true);
    return deleted;
  }

  dependentsOf(uid: string) {
    return this.store.dependentsOf(uid);
  }
}
