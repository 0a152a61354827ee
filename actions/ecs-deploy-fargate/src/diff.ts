// Comparing task definitions: is the rendered one what the latest revision already holds (then
// nothing is registered), and what changed, member by member, for the job summary. Pure.
import { READ_ONLY_MEMBERS, parseTaskCpu, parseTaskMemory } from './render.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

// Not part of what a revision runs: its tags are metadata (changed with TagResource, not by a new
// revision), and DescribeTaskDefinition returns them beside the definition, not in it.
const IGNORED = new Set<string>([...READ_ONLY_MEMBERS, 'tags']);

/**
 * The task definition as ECS would store it, so that two equivalent ones compare equal: read-only
 * members and tags dropped, the defaults ECS fills in on register made explicit or removed
 * (`essential: true`, container `cpu: 0`, port protocol and hostPort, health check timings), empty
 * arrays and objects removed, environment and secrets sorted by name, sizes in units and MiB.
 * Accepts DescribeTaskDefinition output (`{ taskDefinition }`) too.
 */
export function normalizeTaskDefinition(definition: unknown): JsonObject {
  let source = asObject(definition);
  if (source.containerDefinitions === undefined && typeof source.taskDefinition === 'object') {
    source = asObject(source.taskDefinition);
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(source)) {
    if (!IGNORED.has(key)) out[key] = toJson(value);
  }
  if (out.networkMode === undefined) out.networkMode = 'awsvpc';
  for (const [member, parse] of [
    ['cpu', parseTaskCpu],
    ['memory', parseTaskMemory],
  ] as const) {
    const value = out[member];
    if (typeof value === 'string' || typeof value === 'number') {
      try {
        out[member] = parse(String(value));
      } catch {
        // Left as it is: render reports invalid sizes, the comparison only needs to be stable.
      }
    }
  }
  if (Array.isArray(out.requiresCompatibilities))
    out.requiresCompatibilities = [...out.requiresCompatibilities].sort();
  const awsvpc = out.networkMode === 'awsvpc';
  if (Array.isArray(out.containerDefinitions)) {
    out.containerDefinitions = out.containerDefinitions.map((c) =>
      normalizeContainer(asObject(c) as JsonObject, awsvpc),
    );
  }
  return prune(out) as JsonObject;
}

function normalizeContainer(container: JsonObject, awsvpc: boolean): JsonObject {
  const c: JsonObject = { ...container };
  if (c.essential === undefined) c.essential = true;
  if (c.cpu === 0) delete c.cpu;
  for (const member of ['environment', 'secrets'] as const) {
    const list = c[member];
    if (Array.isArray(list)) {
      c[member] = [...list].sort((a, b) => String(asObject(a).name).localeCompare(String(asObject(b).name)));
    }
  }
  if (Array.isArray(c.portMappings)) {
    c.portMappings = c.portMappings.map((p) => {
      const mapping: JsonObject = { ...(asObject(p) as JsonObject) };
      if (mapping.protocol === undefined) mapping.protocol = 'tcp';
      if (awsvpc && mapping.hostPort === undefined && mapping.containerPort !== undefined) {
        mapping.hostPort = mapping.containerPort;
      }
      return mapping;
    });
  }
  if (typeof c.healthCheck === 'object' && c.healthCheck !== null && !Array.isArray(c.healthCheck)) {
    c.healthCheck = { interval: 30, timeout: 5, retries: 3, ...c.healthCheck };
  }
  return c;
}

/** True when registering `rendered` would give what `latestRegistered` already is. */
export function isSameDefinition(rendered: unknown, latestRegistered: unknown): boolean {
  return (
    canonical(normalizeTaskDefinition(rendered)) === canonical(normalizeTaskDefinition(latestRegistered))
  );
}

/**
 * What changed from `previous` to `next`, one line per member: `cpu: 256 → 512`,
 * `containerDefinitions[web].image: app:1 → app:2`, `containerDefinitions[web].environment.FOO:
 * added`. Environment and secret entries are shown by name only, never their values; a job
 * summary is readable by more people than the task definition. `previous` undefined: the first
 * revision of the family.
 */
export function diffTaskDefinitions(previous: unknown, next: unknown): string[] {
  const after = normalizeTaskDefinition(next);
  if (previous === undefined) {
    const containers = Array.isArray(after.containerDefinitions) ? after.containerDefinitions : [];
    return [
      `family ${String(after.family)}: first revision`,
      ...containers.map((c) => {
        const container = asObject(c);
        return `containerDefinitions[${String(container.name)}]: added (${String(container.image)})`;
      }),
    ];
  }
  const before = normalizeTaskDefinition(previous);
  const lines: string[] = [];
  diffObjects('', before, after, lines);
  return lines;
}

function diffObjects(path: string, before: JsonObject, after: JsonObject, lines: string[]): void {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  for (const key of keys) {
    const at = path === '' ? key : `${path}.${key}`;
    // Own members only: a label or member named "constructor" must not read Object.prototype's.
    const a = own(before, key);
    const b = own(after, key);
    if (canonical(a) === canonical(b)) continue;
    if (key === 'containerDefinitions' && path === '') diffContainers(a, b, lines);
    else if ((key === 'environment' || key === 'secrets') && path.startsWith('containerDefinitions[')) {
      diffNamed(at, a, b, lines);
    } else if (isPlainObject(a) && isPlainObject(b)) diffObjects(at, a, b, lines);
    else if (a === undefined) lines.push(`${at}: added ${show(b)}`);
    else if (b === undefined) lines.push(`${at}: removed (was ${show(a)})`);
    else lines.push(`${at}: ${show(a)} → ${show(b)}`);
  }
}

function diffContainers(before: Json | undefined, after: Json | undefined, lines: string[]): void {
  const byName = (list: Json | undefined) =>
    new Map(
      (Array.isArray(list) ? list : []).map((c) => [String(asObject(c).name), asObject(c) as JsonObject]),
    );
  const a = byName(before);
  const b = byName(after);
  for (const [name, container] of a) {
    if (!b.has(name)) lines.push(`containerDefinitions[${name}]: removed`);
    else diffObjects(`containerDefinitions[${name}]`, container, b.get(name)!, lines);
  }
  for (const [name, container] of b) {
    if (!a.has(name)) lines.push(`containerDefinitions[${name}]: added (${String(container.image)})`);
  }
}

/** Environment or secrets: by entry name, never showing a value. */
function diffNamed(path: string, before: Json | undefined, after: Json | undefined, lines: string[]): void {
  const byName = (list: Json | undefined) =>
    new Map((Array.isArray(list) ? list : []).map((e) => [String(asObject(e).name), canonical(e)]));
  const a = byName(before);
  const b = byName(after);
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    if (!b.has(name)) lines.push(`${path}.${name}: removed`);
    else if (!a.has(name)) lines.push(`${path}.${name}: added`);
    else if (a.get(name) !== b.get(name)) lines.push(`${path}.${name}: changed`);
  }
}

function show(value: Json | undefined): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

// ---------------------------------------------------------------------------------------------

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function own(object: JsonObject, key: string): Json | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function isPlainObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Dates become ISO strings, undefined members disappear: what a JSON round trip gives. */
function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}

/** Removes null, empty arrays and empty objects, at every depth. */
function prune(value: Json): Json | undefined {
  if (value === null) return undefined;
  if (Array.isArray(value)) {
    const items = value.map(prune).filter((v): v is Json => v !== undefined);
    return items.length === 0 ? undefined : items;
  }
  if (typeof value === 'object') {
    const out: JsonObject = {};
    for (const [key, member] of Object.entries(value)) {
      const pruned = prune(member);
      if (pruned !== undefined) out[key] = pruned;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value;
}

/** JSON with sorted keys, so member order does not matter. */
function canonical(value: Json | undefined): string {
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
