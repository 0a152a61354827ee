// Strategic merge patch (application/strategic-merge-patch+json), as apimachinery's strategicpatch
// applies it to the built-in types: lists of objects merge by their Go struct's patchMergeKey
// (containers by name, container ports by containerPort, service ports by port, volumeMounts by
// mountPath, conditions by type, ownerReferences by uid…), primitive lists with patchStrategy merge
// (finalizers) are unions, other lists are replaced (command, args, tolerations: atomic). The
// directives kubectl sends: `$patch: delete|replace|merge`, `$setElementOrder/<list>`,
// `$deleteFromPrimitiveList/<list>`, `$retainKeys`.
import { PatchError, deepEqual, isObject, type Json, type JsonObject } from './json.js';

/** A list's merge behaviour: a key for lists of objects, 'union' for merged primitive lists. */
export type ListStrategy = { mergeKey: string } | 'union' | 'replace';

/**
 * The list strategy for a field, from the path of field names leading to it (`[]` for a list item):
 * the built-in types' struct tags, keyed by field name with the parent where a name is ambiguous.
 */
export function listStrategy(path: readonly string[]): ListStrategy {
  const field = path[path.length - 1];
  const parentList = path.length >= 3 && path[path.length - 2] === '[]' ? path[path.length - 3] : undefined;
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
    case 'resourceClaims':
    case 'secrets':
      return { mergeKey: 'name' };
    case 'ports':
      // Container ports merge by containerPort; a Service's ports by port.
      return parentList && parentList.endsWith('ontainers')
        ? { mergeKey: 'containerPort' }
        : { mergeKey: 'port' };
    case 'volumeMounts':
      return { mergeKey: 'mountPath' };
    case 'volumeDevices':
      return { mergeKey: 'devicePath' };
    case 'conditions':
    case 'addresses':
      return { mergeKey: 'type' };
    case 'ownerReferences':
      return { mergeKey: 'uid' };
    case 'hostAliases':
    case 'podIPs':
    case 'hostIPs':
      return { mergeKey: 'ip' };
    case 'topologySpreadConstraints':
      return { mergeKey: 'topologyKey' };
    case 'finalizers':
      return path.length === 2 && path[0] === 'metadata' ? 'union' : 'replace';
    default:
      return 'replace';
  }
}

const SET_ORDER = '$setElementOrder/';
const DELETE_FROM = '$deleteFromPrimitiveList/';

const clone = <T>(v: T): T => structuredClone(v);

export function strategicMergePatch(original: Json, patch: Json): Json {
  if (!isObject(patch)) throw new PatchError('strategic merge patch must be a JSON object');
  return mergeMap(isObject(original) ? original : {}, patch, []) ?? {};
}

/** Merges a patch map into an original map; undefined means "delete this map" ($patch: delete). */
function mergeMap(original: JsonObject, patch: JsonObject, path: string[]): JsonObject | undefined {
  const directive = patch['$patch'];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return stripDirectives(rest) as JsonObject;
  }
  if (directive !== undefined && directive !== 'merge')
    throw new PatchError(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  let out: JsonObject = clone(original);
  const retain = patch['$retainKeys'];
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw new PatchError('$retainKeys must be a list');
    const keep = new Set(retain.map(String));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  const orders: Array<[string, Json[]]> = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith(SET_ORDER)) {
      if (!Array.isArray(value)) throw new PatchError(`${key} must be a list`);
      orders.push([key.slice(SET_ORDER.length), value]);
      continue;
    }
    if (key.startsWith(DELETE_FROM)) {
      const field = key.slice(DELETE_FROM.length);
      const current = out[field];
      if (Array.isArray(current) && Array.isArray(value))
        out[field] = current.filter((item) => !value.some((v) => deepEqual(v, item)));
      continue;
    }
    const childPath = [...path, key];
    if (value === null) {
      delete out[key];
    } else if (isObject(value)) {
      const merged = mergeMap(isObject(out[key]) ? (out[key] as JsonObject) : {}, value, childPath);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    } else if (Array.isArray(value)) {
      out[key] = mergeList(Array.isArray(out[key]) ? (out[key] as Json[]) : [], value, childPath);
    } else {
      out[key] = value;
    }
  }
  for (const [field, order] of orders) {
    const list = out[field];
    if (Array.isArray(list)) out[field] = reorder(list, order, listStrategy([...path, field]));
  }
  return out;
}

function mergeList(original: Json[], patch: Json[], path: string[]): Json[] {
  const strategy = listStrategy(path);
  if (strategy === 'replace') return stripDirectives(patch) as Json[];
  if (strategy === 'union') {
    const out = clone(original);
    for (const item of patch) if (!out.some((o) => deepEqual(o, item))) out.push(clone(item));
    return out;
  }
  const { mergeKey } = strategy;
  // `{$patch: replace}` as an element: the list becomes the patch's other elements.
  if (patch.some((p) => isObject(p) && p['$patch'] === 'replace'))
    return stripDirectives(patch.filter((p) => !(isObject(p) && p['$patch'] === 'replace'))) as Json[];
  const out = clone(original);
  const itemPath = [...path, '[]'];
  for (const item of patch) {
    if (!isObject(item))
      throw new PatchError(
        `merging an object in json but data type is not struct, instead is: ${typeof item}`,
      );
    const key = item[mergeKey];
    if (key === undefined)
      throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
    const index = out.findIndex((o) => isObject(o) && deepEqual(o[mergeKey], key));
    if (item['$patch'] === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index >= 0) {
      const merged = mergeMap(out[index] as JsonObject, item, itemPath);
      if (merged === undefined) out.splice(index, 1);
      else out[index] = merged;
    } else {
      out.push(stripDirectives(item));
    }
  }
  return out;
}

/** `$setElementOrder`: the listed elements in the listed order, then the others as they were. */
function reorder(list: Json[], order: Json[], strategy: ListStrategy): Json[] {
  const keyOf = (item: Json): Json =>
    typeof strategy === 'object' && isObject(item) ? (item[strategy.mergeKey] ?? null) : item;
  const orderKeys = order.map(keyOf);
  const listed: Json[] = [];
  for (const key of orderKeys) {
    const found = list.find((item) => deepEqual(keyOf(item), key));
    if (found !== undefined) listed.push(found);
  }
  const rest = list.filter((item) => !orderKeys.some((k) => deepEqual(k, keyOf(item))));
  return [...listed, ...rest];
}

/** A patch value stored as is: its directives (and null members) removed. */
function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('$') || v === null) continue;
    out[k] = stripDirectives(v);
  }
  return out;
}
