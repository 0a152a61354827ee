// The wire forms the Query services here (EC2 and ELBv2) share: flattened request parameters
// read back into a tree, and values written out as XML. Query lists arrive as
// `Names.member.1=a&Names.member.2=b` (ELBv2) or `VpcId.1=a&Filter.1.Value.1=b` (EC2); both become
// arrays. Answers are XML elements named as the API names them on the wire.
import { xmlEscape } from '../platform/protocols.js';

export type ParamTree = string | ParamTree[] | { [key: string]: ParamTree };

/**
 * Query parameters as a tree: dotted keys nest, numeric segments index lists (1-based on the
 * wire) and the `member` segment of the Query protocol's lists is dropped. An empty list is
 * sent as `Names=` and reads as ''; `list()` turns it into [].
 */
export function paramTree(params: URLSearchParams): Record<string, ParamTree> {
  // Null-prototype nodes: a parameter named __proto__ is just a name.
  const root: Record<string, ParamTree> = Object.create(null) as Record<string, ParamTree>;
  const lists = new WeakSet<object>();
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version' || key.startsWith('X-Amz-')) continue;
    const path = key.split('.').filter((segment) => segment !== 'member');
    let node: Record<string, ParamTree> = root;
    path.forEach((segment, i) => {
      if (i === path.length - 1) {
        node[segment] = value;
        return;
      }
      let child = node[segment];
      if (child === undefined || typeof child === 'string') {
        child = Object.create(null) as Record<string, ParamTree>;
        if (/^\d+$/.test(path[i + 1]!)) lists.add(child);
        node[segment] = child;
      }
      node = child as Record<string, ParamTree>;
    });
  }
  /** Objects marked as lists become arrays in index order. */
  const normalise = (node: ParamTree): ParamTree => {
    if (typeof node === 'string' || Array.isArray(node)) return node;
    const keys = Object.keys(node);
    if (lists.has(node))
      return keys
        .filter((k) => /^\d+$/.test(k))
        .sort((a, b) => Number(a) - Number(b))
        .map((k) => normalise(node[k]!));
    return Object.fromEntries(keys.map((k) => [k, normalise(node[k]!)]));
  };
  return normalise(root) as Record<string, ParamTree>;
}

/** A list member: [] when absent or sent empty (`Names=`), the items otherwise. */
export function list(value: ParamTree | undefined): ParamTree[] {
  if (value === undefined || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

/** A list of strings (ids, names, values). */
export function strings(value: ParamTree | undefined): string[] {
  return list(value).map((v) => (typeof v === 'string' ? v : ''));
}

/** A structure member, {} when absent. */
export function struct(value: ParamTree | undefined): Record<string, ParamTree> {
  return value !== undefined && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

/** A scalar member, undefined when absent. */
export function scalar(value: ParamTree | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

// ---------------------------------------------------------------------------------------------
// XML out

export type XmlValue =
  string | number | boolean | Date | undefined | XmlValue[] | { [element: string]: XmlValue };

/**
 * Elements for each defined member, in order. Arrays are lists whose items are wrapped in
 * `itemTag` (`member` for the Query protocol, `item` for EC2); Dates are ISO 8601 with
 * milliseconds, as AWS writes them; booleans are `true`/`false`.
 */
export function toXml(members: Record<string, XmlValue>, itemTag: 'member' | 'item'): string {
  const render = (value: XmlValue): string => {
    if (value instanceof Date) return value.toISOString();
    if (Array.isArray(value))
      return value
        .filter((v) => v !== undefined)
        .map((v) => `<${itemTag}>${render(v)}</${itemTag}>`)
        .join('');
    if (typeof value === 'object' && value !== null) return toXml(value, itemTag);
    return xmlEscape(value);
  };
  return Object.entries(members)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<${k}>${render(v)}</${k}>`)
    .join('');
}
