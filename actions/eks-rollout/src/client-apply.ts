// Client-side apply (`server-side-apply: false`), as `kubectl apply` without --server-side keeps
// it: the object as applied is stored in the kubectl.kubernetes.io/last-applied-configuration
// annotation, and the next apply is a three-way patch — what the manifest sets, and null for what
// the last apply set and the manifest no longer does; fields other writers set stay. The patch is
// a JSON merge patch: a list the manifest changed since the last apply is replaced whole, where
// kubectl sends a strategic merge patch for built-in kinds (lists merged by key).
import type { KubeObject } from '@aws-containers/core';
import { record } from './manifests.js';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** JSON with object keys sorted, as Go's encoding/json writes maps (what kubectl stores). */
export function sortedJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    const o = record(v);
    if (!o) return v;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sort(o[k])]),
    );
  };
  return JSON.stringify(sort(value));
}

/**
 * The object with its last-applied annotation set to itself without that annotation, as kubectl
 * writes it (an object without annotations is stored with `"annotations":{}`, as kubectl does).
 */
export function withLastApplied(object: KubeObject): KubeObject {
  const annotations = { ...object.metadata.annotations };
  delete annotations[LAST_APPLIED];
  const bare: KubeObject = {
    ...object,
    metadata: { ...object.metadata, annotations },
  };
  const text = `${sortedJson(bare)}\n`;
  return {
    ...object,
    metadata: { ...object.metadata, annotations: { ...annotations, [LAST_APPLIED]: text } },
  };
}

/** The last-applied configuration of a live object, or undefined. */
export function lastApplied(live: KubeObject): Record<string, unknown> | undefined {
  const text = live.metadata.annotations?.[LAST_APPLIED];
  if (!text) return undefined;
  try {
    return record(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/**
 * The three-way JSON merge patch (pure): every value of `modified` that `current` does not already
 * have, and null for each key `original` had that `modified` no longer has. undefined: no change.
 */
export function threeWayMergePatch(
  original: Record<string, unknown> | undefined,
  modified: Record<string, unknown>,
  current: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(modified)) {
    const now = current[key];
    const mod = record(value);
    const cur = record(now);
    if (mod && cur) {
      const inner = threeWayMergePatch(record(original?.[key]), mod, cur);
      if (inner) patch[key] = inner;
    } else if (Array.isArray(value) && original && sortedJson(value) === sortedJson(original[key])) {
      // A list the manifest did not change since the last apply: the server's defaults and other
      // writers' entries in it stay (kubectl's strategic merge keeps them too).
      continue;
    } else if (sortedJson(value) !== sortedJson(now)) {
      patch[key] = value;
    }
  }
  for (const key of Object.keys(original ?? {})) {
    if (!(key in modified) && key in current) patch[key] = null;
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}
