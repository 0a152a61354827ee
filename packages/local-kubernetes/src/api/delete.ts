// DELETE and deletecollection, with the garbage collector's propagation through ownerReferences
// (run at once here rather than by a controller a moment later): Background deletes the object
// then its dependents, Foreground its dependents first, Orphan strips their ownerReferences.
// Pods are deleted gracefully (controllers/deletion.ts: a pod on a node gets a deletionTimestamp
// and the kubelet removes it once stopped; grace 0, unscheduled or finished pods go at once); a
// namespace takes everything in it at once.
import { gracefulDelete } from '../controllers/deletion.js';
import { StatusError, badRequest } from '../errors.js';
import type { KubernetesClock } from '../host.js';
import { RESOURCE_TYPES, findByKind, findByPath, storeKeyOf, type ResourceType } from '../resources.js';
import { timestamp, type KObject, type ObjectStore } from '../store.js';
import { isDryRun, readBody, readJson, sendJson, type ApiRequest } from './http.js';
import { selection } from './objects.js';

type Propagation = 'Background' | 'Foreground' | 'Orphan';

const typeByStoreKey = new Map(RESOURCE_TYPES.map((t) => [storeKeyOf(t), t]));
const namespacesType = findByPath('', 'v1', 'namespaces')!;

/** Kinds whose DELETE answers with the object rather than a Status Success (as the apiserver's registries do). */
const RETURNS_OBJECT = new Set(['Pod', 'Service', 'Namespace']);

interface DeleteOptions {
  propagation: Propagation;
  preconditionRv?: string;
  preconditionUid?: string;
  gracePeriodSeconds?: number;
}

async function deleteOptions(r: ApiRequest): Promise<DeleteOptions> {
  let body: Record<string, unknown> = {};
  const contentType = (r.req.headers['content-type'] ?? '').split(';')[0]!.trim();
  if (contentType && contentType !== 'application/json' && contentType !== '*/*')
    return deleteOptionsFrom(r, (await readJson(r.req)) as Record<string, unknown>); // 415: client-go retries in JSON
  const text = await readBody(r.req);
  if (text.trim()) {
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw badRequest('the body of the DeleteOptions could not be decoded');
    }
  }
  return deleteOptionsFrom(r, body);
}

function deleteOptionsFrom(r: ApiRequest, body: Record<string, unknown>): DeleteOptions {
  let propagation = (r.query.get('propagationPolicy') ?? body.propagationPolicy) as string | undefined;
  if (!propagation && (r.query.get('orphanDependents') === 'true' || body.orphanDependents === true))
    propagation = 'Orphan';
  if (propagation && !['Background', 'Foreground', 'Orphan'].includes(propagation))
    throw new StatusError(
      422,
      'Invalid',
      `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${propagation}": supported values: "Foreground", "Background", "Orphan", "nil"`,
    );
  const preconditions = (body.preconditions ?? {}) as { resourceVersion?: string; uid?: string };
  const grace = r.query.get('gracePeriodSeconds') ?? body.gracePeriodSeconds;
  return {
    ...(grace !== undefined && grace !== null ? { gracePeriodSeconds: Number(grace) } : {}),
    propagation: (propagation as Propagation | undefined) ?? 'Background',
    ...(preconditions.resourceVersion ? { preconditionRv: preconditions.resourceVersion } : {}),
    ...(preconditions.uid ? { preconditionUid: preconditions.uid } : {}),
  };
}

export interface Deleter {
  store: ObjectStore;
  clock: Pick<KubernetesClock, 'now'>;
  forget(type: ResourceType, object: KObject): void;
}

/** Deletes one object and propagates to its dependents. */
export function deleteWithPropagation(
  d: Deleter,
  type: ResourceType,
  object: KObject,
  propagation: Propagation,
  gracePeriodSeconds?: number,
): KObject {
  if (type.kind === 'Pod') {
    const result = gracefulDelete(
      d.store,
      d.clock,
      object.metadata.namespace!,
      object.metadata.name,
      gracePeriodSeconds,
    );
    if (!d.store.get(type, object.metadata.namespace, object.metadata.name)) d.forget(type, result);
    return result;
  }
  // Foreground: the owner waits, marked, until its dependents are gone (finishForeground).
  if (propagation === 'Foreground' && type.kind !== 'Namespace' && !object.metadata.deletionTimestamp) {
    const held = d.store.update(type, {
      ...object,
      metadata: {
        ...object.metadata,
        deletionTimestamp: timestamp(d.clock.now()),
        deletionGracePeriodSeconds: 0,
        finalizers: [...new Set([...(object.metadata.finalizers ?? []), FOREGROUND])],
      } as KObject['metadata'],
    });
    collect(d, held, d.store.dependentsOf(held.metadata.uid), 'Foreground');
    return finishForeground(d, type, held);
  }
  // Finalizers hold an object (deletionTimestamp set) until their controllers remove them; the
  // update that removes the last one deletes it (objects.ts), with Background propagation.
  if (type.kind !== 'Namespace' && (object.metadata.finalizers?.length ?? 0) > 0) {
    if (object.metadata.deletionTimestamp) return object;
    return d.store.update(type, {
      ...object,
      metadata: {
        ...object.metadata,
        deletionTimestamp: timestamp(d.clock.now()),
        deletionGracePeriodSeconds: 0,
      } as KObject['metadata'],
    });
  }
  const dependents = d.store.dependentsOf(object.metadata.uid);
  if (propagation === 'Orphan') {
    for (const { resource, object: dep } of dependents) {
      const depType = typeByStoreKey.get(resource);
      if (!depType) continue;
      dep.metadata.ownerReferences = dep.metadata.ownerReferences?.filter(
        (o) => o.uid !== object.metadata.uid,
      );
      if (dep.metadata.ownerReferences?.length === 0) delete dep.metadata.ownerReferences;
      delete (dep.metadata as { resourceVersion?: string }).resourceVersion;
      d.store.update(depType, dep);
    }
  }
  if (type.kind === 'Namespace') {
    for (const t of RESOURCE_TYPES)
      if (t.namespaced)
        for (const o of d.store.list(t, object.metadata.name))
          if (d.store.get(t, o.metadata.namespace, o.metadata.name))
            deleteWithPropagation(d, t, o, 'Background', 0);
  }
  const deleted = d.store.delete(type, object.metadata.namespace, object.metadata.name);
  d.forget(type, deleted);
  if (propagation === 'Background')
    collect(d, object, d.store.dependentsOf(object.metadata.uid), 'Background');
  return deleted;
}

/** The garbage collector: dependents left with no owner go too. */
function collect(
  d: Deleter,
  owner: KObject,
  dependents: Array<{ resource: string; object: KObject }>,
  propagation: Propagation,
): void {
  for (const { resource, object: dep } of dependents) {
    const depType = typeByStoreKey.get(resource);
    if (!depType || !d.store.get(depType, dep.metadata.namespace, dep.metadata.name)) continue;
    const remaining = (dep.metadata.ownerReferences ?? []).filter(
      (o) => o.uid !== owner.metadata.uid && ownerExists(d.store, o.uid),
    );
    if (remaining.length === 0) deleteWithPropagation(d, depType, dep, propagation);
  }
}

const FOREGROUND = 'foregroundDeletion';

/**
 * A foreground deletion completes when the owner has no dependents left: its foregroundDeletion
 * finalizer goes, and with no other finalizer, the owner. The API server calls this when a
 * dependent is deleted (the garbage collector's part).
 */
export function finishForeground(d: Deleter, type: ResourceType, owner: KObject): KObject {
  const current = d.store.get(type, owner.metadata.namespace, owner.metadata.name);
  if (
    !current ||
    current.metadata.uid !== owner.metadata.uid ||
    !current.metadata.finalizers?.includes(FOREGROUND)
  )
    return current ?? owner;
  if (d.store.dependentsOf(current.metadata.uid).length > 0) return current;
  const finalizers = current.metadata.finalizers.filter((f) => f !== FOREGROUND);
  if (finalizers.length > 0)
    return d.store.update(type, { ...current, metadata: { ...current.metadata, finalizers } });
  const deleted = d.store.delete(type, current.metadata.namespace, current.metadata.name);
  d.forget(type, deleted);
  return deleted;
}

/** When an object goes, the owners waiting for it in a foreground deletion may complete. */
export function onDependentDeleted(d: Deleter, object: KObject): void {
  for (const ref of object.metadata.ownerReferences ?? []) {
    const type = findByKind(ref.apiVersion, ref.kind);
    if (!type) continue;
    const owner = d.store.get(type, type.namespaced ? object.metadata.namespace : undefined, ref.name);
    if (owner && owner.metadata.uid === ref.uid) finishForeground(d, type, owner);
  }
}

function ownerExists(store: ObjectStore, uid: string): boolean {
  for (const t of RESOURCE_TYPES) for (const o of store.list(t)) if (o.metadata.uid === uid) return true;
  return false;
}

function deletedAnswer(type: ResourceType, object: KObject, now: string): unknown {
  if (RETURNS_OBJECT.has(type.kind)) {
    const shown = structuredClone(object);
    shown.metadata.deletionTimestamp ??= now;
    if (type.kind === 'Namespace') shown.status = { phase: 'Terminating' };
    return shown;
  }
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: {
      name: object.metadata.name,
      ...(type.group ? { group: type.group } : {}),
      kind: type.plural,
      uid: object.metadata.uid,
    },
  };
}

export async function deleteObject(r: ApiRequest, d: Deleter, now: string): Promise<void> {
  const options = await deleteOptions(r);
  const object = r.store.require(r.type, r.namespace, r.name!);
  if (options.preconditionUid && options.preconditionUid !== object.metadata.uid)
    throw new StatusError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${r.type.plural}${r.type.group ? `.${r.type.group}` : ''} "${r.name}": Precondition failed: UID in precondition: ${options.preconditionUid}, UID in object meta: ${object.metadata.uid}`,
    );
  if (options.preconditionRv && options.preconditionRv !== object.metadata.resourceVersion)
    throw new StatusError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${r.type.plural}${r.type.group ? `.${r.type.group}` : ''} "${r.name}": Precondition failed: ResourceVersion in precondition: ${options.preconditionRv}, ResourceVersion in object meta: ${object.metadata.resourceVersion}`,
    );
  if (isDryRun(r.query)) return sendJson(r.res, 200, deletedAnswer(r.type, object, now));
  if (r.type === namespacesType && ['default', 'kube-system', 'kube-public'].includes(object.metadata.name))
    throw new StatusError(
      403,
      'Forbidden',
      `namespaces "${object.metadata.name}" is forbidden: this namespace may not be deleted`,
    );
  const deleted = deleteWithPropagation(d, r.type, object, options.propagation, options.gracePeriodSeconds);
  // An object still there (graceful, or held by finalizers) is answered as it now is.
  const pending = r.store.get(r.type, r.namespace, r.name!);
  sendJson(r.res, 200, pending ?? deletedAnswer(r.type, deleted, now));
}

export async function deleteCollection(r: ApiRequest, d: Deleter, now: string): Promise<void> {
  const options = await deleteOptions(r);
  const matches = selection(r);
  const items = r.store.list(r.type, r.namespace).filter(matches);
  const deleted: KObject[] = [];
  for (const o of items) {
    if (isDryRun(r.query)) {
      deleted.push(o);
      continue;
    }
    if (!r.store.get(r.type, o.metadata.namespace, o.metadata.name)) continue;
    deleted.push(deleteWithPropagation(d, r.type, o, options.propagation, options.gracePeriodSeconds));
  }
  sendJson(r.res, 200, {
    kind: `${r.type.kind}List`,
    apiVersion: r.type.group ? `${r.type.group}/${r.type.version}` : r.type.version,
    metadata: { resourceVersion: r.store.resourceVersion() },
    items: deleted.map((o) => ({ ...o, metadata: { ...o.metadata, deletionTimestamp: now } })),
  });
}
