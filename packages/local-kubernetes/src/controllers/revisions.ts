// ControllerRevisions, as StatefulSets and DaemonSets keep their template history: one per distinct
// template, named <owner>-<hash>, with the template as a strategic-merge patch in `data`
// ({"spec":{"template":{…,"$patch":"replace"}}}) and an increasing `revision`. Going back to an
// earlier template reuses its revision object and gives it the next number.
import type { KObject } from '../store.js';
import { jsonEqual } from '../store.js';
import { computeHash } from './hash.js';
import type { PodTemplate } from './podtemplate.js';
import { controllerOf, ownerRef, type Runtime } from './runtime.js';
import { T } from './types.js';

export const revisionsOf = (rt: Runtime, owner: KObject) =>
  rt.store
    .list(T.controllerrevisions, owner.metadata.namespace)
    .filter((r) => controllerOf(r)?.uid === owner.metadata.uid)
    .sort((a, b) => (a.revision as number) - (b.revision as number));

/** A JSON value with every object's keys in byte order, as Go's json.Marshal writes a map. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortedKeys((value as Record<string, unknown>)[key]);
  return out;
}

// The controllers store the patch as json.Marshal of a map: keys sorted. kubectl's rollout undo
// compares those bytes with the patch it makes of the live template ("skipped rollback" when equal).
export const revisionData = (template: PodTemplate | undefined) =>
  sortedKeys({ spec: { template: { ...(template ?? {}), $patch: 'replace' } } });

/**
 * The revision for the owner's current template (created, or re-numbered when an older one matches).
 * hashOf: how the owner type names it (StatefulSets hash the data; DaemonSets the template).
 */
export function currentRevision(rt: Runtime, owner: KObject, hash: string): KObject {
  const template = (owner.spec as { template?: PodTemplate }).template;
  const data = revisionData(template);
  const existing = revisionsOf(rt, owner);
  const next = Math.max(0, ...existing.map((r) => r.revision as number)) + 1;
  const match = existing.find((r) => jsonEqual(r.data, data));
  if (match) {
    if (match === existing.at(-1)) return match;
    return rt.store.update(T.controllerrevisions, { ...match, revision: next });
  }
  return rt.store.create(T.controllerrevisions, {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${owner.metadata.name}-${hash}`,
      namespace: owner.metadata.namespace,
      labels: { ...(template?.metadata?.labels ?? {}), 'controller.kubernetes.io/hash': hash },
      ownerReferences: [ownerRef(owner)],
    },
    data,
    revision: next,
  });
}

/** The hash a StatefulSet's revision is named by: FNV-32a of the revision's data. */
export const dataHash = (owner: KObject, collisionCount?: number) =>
  computeHash(revisionData((owner.spec as { template?: PodTemplate }).template), collisionCount);

/** Deletes revisions beyond the history limit that no pod and no status names. */
export function truncateHistory(rt: Runtime, owner: KObject, live: Set<string>, limit: number): void {
  const old = revisionsOf(rt, owner).filter((r) => !live.has(r.metadata.name));
  for (const r of old.slice(0, Math.max(0, old.length - limit)))
    rt.store.delete(T.controllerrevisions, r.metadata.namespace, r.metadata.name);
}
