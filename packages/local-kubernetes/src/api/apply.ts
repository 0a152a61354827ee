// Server-side apply, simplified: who owns which field is kept beside the store (not in
// metadata.managedFields: kubectl then skips its client-side→server-side migration), as sets of
// leaf paths per field manager. Every write with a field manager takes ownership of the fields it
// changed; an apply takes the fields of its configuration, conflicts where another manager owns a
// field the configuration sets to a different value (409 unless force), and removes the fields it
// applied before and no longer applies (unless another manager owns them). Simplified against
// structured-merge-diff: leaves only (a map or keyed list item is owned through its leaves), atomic
// lists are leaves, no per-version tracking.
import { StatusError } from '../errors.js';
import type { KObject } from '../store.js';
import { isObject, deepEqual, type Json, type JsonObject } from './patch/json.js';
import { listStrategy, strategicMergePatch } from './patch/strategic.js';

type Segment = string | { key: string; value: Json };

/** `.spec.template.spec.containers[name="web"].image`, as apply's conflict messages print paths. */
export function pathText(path: Segment[]): string {
  return path
    .map((s) => (typeof s === 'string' ? `.${s}` : `[${s.key}=${JSON.stringify(s.value)}]`))
    .join('');
}

/** The owned leaves of an object: everything but status and the server's metadata. */
function leaves(value: Json, path: Segment[], names: string[], out: Map<string, Segment[]>): void {
  if (isObject(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) {
      if (path.length === 0 && ['apiVersion', 'kind', 'status'].includes(k)) continue;
      if (
        path.length === 1 &&
        path[0] === 'metadata' &&
        !['labels', 'annotations', 'finalizers', 'ownerReferences'].includes(k)
      )
        continue;
      leaves(v, [...path, k], [...names, k], out);
    }
    return;
  }
  if (Array.isArray(value) && value.length > 0) {
    const strategy = listStrategy(names);
    if (
      typeof strategy === 'object' &&
      value.every((v) => isObject(v) && v[strategy.mergeKey] !== undefined)
    ) {
      for (const item of value as JsonObject[])
        leaves(
          item,
          [...path, { key: strategy.mergeKey, value: item[strategy.mergeKey]! }],
          [...names, '[]'],
          out,
        );
      return;
    }
  }
  out.set(pathText(path), path);
}

function valueAt(object: Json, path: Segment[]): Json | undefined {
  let node: Json | undefined = object;
  for (const s of path) {
    if (typeof s === 'string') node = isObject(node) ? node[s] : undefined;
    else
      node = Array.isArray(node) ? node.find((i) => isObject(i) && deepEqual(i[s.key], s.value)) : undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

function removeAt(object: Json, path: Segment[]): void {
  let node: Json | undefined = object;
  for (const s of path.slice(0, -1)) {
    if (typeof s === 'string') node = isObject(node) ? node[s] : undefined;
    else
      node = Array.isArray(node) ? node.find((i) => isObject(i) && deepEqual(i[s.key], s.value)) : undefined;
    if (node === undefined) return;
  }
  const last = path[path.length - 1]!;
  if (typeof last === 'string') {
    if (isObject(node)) delete node[last];
  } else if (Array.isArray(node)) {
    const index = node.findIndex((i) => isObject(i) && deepEqual(i[last.key], last.value));
    if (index >= 0) node.splice(index, 1);
  }
}

interface Owner {
  operation: 'Apply' | 'Update';
  fields: Map<string, Segment[]>;
}

export class FieldOwnership {
  private readonly owners = new Map<string, Map<string, Owner>>();

  private of(uid: string): Map<string, Owner> {
    let m = this.owners.get(uid);
    if (!m) this.owners.set(uid, (m = new Map()));
    return m;
  }

  /** The managers of an object and their fields (tests, describe). */
  managers(uid: string): Record<string, string[]> {
    return Object.fromEntries([...this.of(uid)].map(([m, o]) => [m, [...o.fields.keys()].sort()]));
  }

  forget(uid: string): void {
    this.owners.delete(uid);
  }

  /** A create, update or patch by `manager`: it owns the leaves it changed (others lose them). */
  recordUpdate(manager: string, before: KObject | undefined, after: KObject): void {
    const changed = new Map<string, Segment[]>();
    const all = new Map<string, Segment[]>();
    leaves(after as unknown as Json, [], [], all);
    for (const [text, path] of all) {
      if (
        !before ||
        !deepEqual(valueAt(before as unknown as Json, path), valueAt(after as unknown as Json, path))
      )
        changed.set(text, path);
    }
    if (changed.size === 0) return;
    const owners = this.of(after.metadata.uid);
    for (const [name, owner] of owners)
      if (name !== manager) for (const key of changed.keys()) owner.fields.delete(key);
    const mine = owners.get(manager) ?? { operation: 'Update' as const, fields: new Map() };
    for (const [k, p] of changed) mine.fields.set(k, p);
    owners.set(manager, mine);
  }

  /**
   * Applies a configuration for `manager` to the live object (or to nothing: a create). Returns the
   * object to store; throws 409 Conflict naming the other managers' fields unless `force`.
   * `commit` records the ownership once the write succeeded.
   */
  apply(
    live: KObject | undefined,
    config: KObject,
    manager: string,
    force: boolean,
    apiVersion: string,
  ): { object: KObject; commit(uid: string): void } {
    const applied = new Map<string, Segment[]>();
    leaves(config as unknown as Json, [], [], applied);
    const owners = live ? this.of(live.metadata.uid) : new Map<string, Owner>();
    const conflicts: Array<{ manager: string; field: string }> = [];
    for (const [name, owner] of owners) {
      if (name === manager) continue;
      for (const [text, path] of applied)
        if (
          owner.fields.has(text) &&
          !deepEqual(valueAt(live as unknown as Json, path), valueAt(config as unknown as Json, path))
        )
          conflicts.push({ manager: name, field: text });
    }
    if (conflicts.length > 0 && !force) throw conflictError(conflicts, apiVersion);
    const { status: _status, ...spec } = config;
    const merged = (live
      ? strategicMergePatch(live as unknown as Json, spec as unknown as Json)
      : structuredClone(spec)) as unknown as KObject;
    // Fields this manager applied before and no longer applies go, unless someone else owns them.
    const previous = owners.get(manager);
    if (previous?.operation === 'Apply')
      for (const [text, path] of previous.fields)
        if (!applied.has(text) && ![...owners].some(([n, o]) => n !== manager && o.fields.has(text)))
          removeAt(merged as unknown as Json, path);
    return {
      object: merged,
      commit: (uid: string) => {
        const all = this.of(uid);
        if (force)
          for (const [name, owner] of all)
            if (name !== manager) for (const key of applied.keys()) owner.fields.delete(key);
        all.set(manager, { operation: 'Apply', fields: applied });
      },
    };
  }
}

function conflictError(
  conflicts: Array<{ manager: string; field: string }>,
  apiVersion: string,
): StatusError {
  const n = conflicts.length;
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.field]);
  let text: string;
  if (n === 1) {
    text = `Apply failed with 1 conflict: conflict with "${conflicts[0]!.manager}" using ${apiVersion}: ${conflicts[0]!.field}`;
  } else {
    const parts = [...byManager].map(
      ([m, fields]) =>
        `conflicts with "${m}" using ${apiVersion}:\n${fields.map((f) => `- ${f}`).join('\n')}`,
    );
    text = `Apply failed with ${n} conflicts: ${parts.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', text, {
    causes: conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${c.manager}" using ${apiVersion}`,
      field: c.field,
    })),
  });
}
