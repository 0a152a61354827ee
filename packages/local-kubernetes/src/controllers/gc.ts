// The garbage collector, background propagation: when an object is deleted, its dependents (objects
// whose ownerReferences name its uid) are deleted too — pods gracefully — unless another owner
// still exists, in which case only the reference to the deleted owner is removed.
import type { Change, KObject } from '../store.js';
import { RESOURCE_TYPES, storeKeyOf } from '../resources.js';
import { gracefulDelete } from './deletion.js';
import type { Runtime } from './runtime.js';

export function startGarbageCollector(rt: Runtime): (change: Change) => void {
  const typeOf = (resource: string) => RESOURCE_TYPES.find((t) => storeKeyOf(t) === resource);
  const exists = (
    ref: { uid: string; kind: string; name: string; apiVersion: string },
    namespace?: string,
  ) => {
    const type = RESOURCE_TYPES.find(
      (t) => t.kind === ref.kind && (t.group ? `${t.group}/${t.version}` : t.version) === ref.apiVersion,
    );
    if (!type) return false;
    return rt.store.get(type, namespace, ref.name)?.metadata.uid === ref.uid;
  };
  return (change) => {
    if (change.type !== 'DELETED' || change.resource === 'events') return;
    const gone = change.object.metadata.uid;
    for (const { resource, object } of rt.store.dependentsOf(gone)) {
      const type = typeOf(resource);
      if (!type) continue;
      const refs = object.metadata.ownerReferences ?? [];
      const others = refs.filter((r) => r.uid !== gone && exists(r, object.metadata.namespace));
      if (others.length > 0) {
        const current = rt.store.get(type, object.metadata.namespace, object.metadata.name);
        if (current)
          rt.store.update(type, {
            ...current,
            metadata: { ...current.metadata, ownerReferences: refs.filter((r) => r.uid !== gone) },
          } as KObject);
        continue;
      }
      try {
        if (resource === 'pods')
          gracefulDelete(rt.store, rt.host.clock, object.metadata.namespace!, object.metadata.name);
        else rt.store.delete(type, object.metadata.namespace, object.metadata.name);
      } catch {
        // already gone
      }
    }
  };
}
