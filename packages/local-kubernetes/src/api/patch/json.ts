// JSON values and the two simple patch formats: RFC 7386 merge patch (application/merge-patch+json)
// and RFC 6902 JSON patch (application/json-patch+json, with `test`). Errors carry the wording of
// the libraries kube-apiserver uses (evanphx/json-patch), since kubectl prints them.
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const clone = <T>(v: T): T => structuredClone(v);

/** Thrown when a patch cannot be applied; the API answers 422 (JSON patch) or 400 with its message. */
export class PatchError extends Error {}

/** RFC 7386: objects merge recursively, null removes a member, anything else replaces. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`JSON pointer must start with /: ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, tokens: string[], op: string, path: string): { parent: Json; key: string } {
  let node: Json = doc;
  for (const token of tokens.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(node)
      ? node[Number(token)]
      : isObject(node)
        ? node[token]
        : undefined;
    if (next === undefined)
      throw new PatchError(`${op} operation does not apply: doc is missing path: "${path}"`);
    node = next;
  }
  return { parent: node, key: tokens[tokens.length - 1]! };
}

function getAt(doc: Json, path: string, op: string): Json {
  let node: Json | undefined = doc;
  for (const token of parsePointer(path)) {
    node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (node === undefined)
      throw new PatchError(`${op} operation does not apply: doc is missing path: "${path}"`);
  }
  return node;
}

function arrayIndex(list: Json[], key: string, op: string, path: string, forInsert: boolean): number {
  if (key === '-' && forInsert) return list.length;
  const index = Number(key);
  if (!/^\d+$/.test(key) || index > list.length || (!forInsert && index >= list.length))
    throw new PatchError(`${op} operation does not apply: doc is missing path: "${path}"`);
  return index;
}

function add(doc: Json, path: string, value: Json, op = 'add'): Json {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, tokens, op, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, op, path, true), 0, clone(value));
  else if (isObject(parent)) parent[key] = clone(value);
  else throw new PatchError(`${op} operation does not apply: doc is missing path: "${path}"`);
  return doc;
}

function remove(doc: Json, path: string, op = 'remove'): Json {
  const tokens = parsePointer(path);
  const { parent, key } = parentOf(doc, tokens, op, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, op, path, false), 1);
  else if (isObject(parent) && key in parent) delete parent[key];
  else throw new PatchError(`${op} operation does not apply: doc is missing path: "${path}"`);
  return doc;
}

/** RFC 6902, all six operations; a failing `test` fails the whole patch. */
export function jsonPatch(document: Json, operations: unknown): Json {
  if (!Array.isArray(operations))
    throw new PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = clone(document);
  for (const raw of operations as Operation[]) {
    const { op, path } = raw;
    if (typeof path !== 'string') throw new PatchError(`${op} operation missing path`);
    switch (op) {
      case 'add':
        doc = add(doc, path, raw.value ?? null);
        break;
      case 'remove':
        doc = remove(doc, path);
        break;
      case 'replace':
        getAt(doc, path, 'replace');
        doc = remove(doc, path, 'replace');
        doc = add(doc, path, raw.value ?? null, 'replace');
        break;
      case 'move': {
        const value = getAt(doc, raw.from ?? '', 'move');
        doc = remove(doc, raw.from ?? '', 'move');
        doc = add(doc, path, value, 'move');
        break;
      }
      case 'copy':
        doc = add(doc, path, getAt(doc, raw.from ?? '', 'copy'), 'copy');
        break;
      case 'test': {
        let actual: Json | undefined;
        try {
          actual = getAt(doc, path, 'test');
        } catch {
          actual = undefined;
        }
        if (
          actual === undefined
            ? raw.value !== null && raw.value !== undefined
            : !deepEqual(actual, raw.value ?? null)
        )
          throw new PatchError(`testing value ${path} failed: test failed`);
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${String(op)}`);
    }
  }
  return doc;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((v, i) => deepEqual(v, other[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as JsonObject)[k], (b as JsonObject)[k]));
}
