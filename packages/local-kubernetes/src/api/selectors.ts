// Label selectors (`app=web,tier!=db,env in (a,b),!canary`) and field selectors
// (`metadata.name=web`, `involvedObject.uid=…`), as the apiserver parses and supports them per kind.
import { badRequest } from '../errors.js';
import type { KObject } from '../store.js';
import type { ResourceType } from '../resources.js';

export type Labels = Record<string, string> | undefined;
export type Matcher = (labels: Labels) => boolean;

/** Splits at commas outside parentheses. */
function requirements(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

export function parseLabelSelector(selector: string | null | undefined): Matcher {
  if (!selector) return () => true;
  const tests = requirements(selector).map((req): Matcher => {
    let m = /^([^\s!=<>()]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(req);
    if (m) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      const values = list.split(',').map((v) => v.trim());
      return op === 'in'
        ? (l) => l?.[key] !== undefined && values.includes(l[key]!)
        : (l) => l?.[key] === undefined || !values.includes(l[key]!);
    }
    m = /^!\s*([^\s!=<>()]+)$/.exec(req);
    if (m) {
      const key = m[1]!;
      return (l) => l?.[key] === undefined;
    }
    m = /^([^\s!=<>()]+)\s*(==|=|!=|>|<)\s*([^\s!=<>(),]*)$/.exec(req);
    if (m) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      if (op === '!=') return (l) => l?.[key] !== value;
      if (op === '>' || op === '<') {
        const bound = Number(value);
        return (l) =>
          l?.[key] !== undefined && (op === '>' ? Number(l[key]) > bound : Number(l[key]) < bound);
      }
      return (l) => l?.[key] === value;
    }
    m = /^([^\s!=<>()]+)$/.exec(req);
    if (m) {
      const key = m[1]!;
      return (l) => l?.[key] !== undefined;
    }
    throw badRequest(`unable to parse requirement: found '${req}', expected: in, notin, =, ==, !=, gt, lt`);
  });
  return (labels) => tests.every((t) => t(labels));
}

/** A LabelSelector object (matchLabels + matchExpressions) as a matcher. */
export function labelSelectorMatcher(selector: unknown): Matcher {
  const s = (selector ?? {}) as {
    matchLabels?: Record<string, string>;
    matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
  };
  return (labels) =>
    Object.entries(s.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v) &&
    (s.matchExpressions ?? []).every((e) => {
      const value = labels?.[e.key];
      switch (e.operator) {
        case 'In':
          return value !== undefined && (e.values ?? []).includes(value);
        case 'NotIn':
          return value === undefined || !(e.values ?? []).includes(value);
        case 'Exists':
          return value !== undefined;
        case 'DoesNotExist':
          return value === undefined;
        default:
          return false;
      }
    });
}

const get = (o: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      o,
    );

/** The fields each kind can be selected on, beyond metadata.name and metadata.namespace. */
const FIELDS: Record<string, string[]> = {
  Pod: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  Event: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  Secret: ['type'],
  Namespace: ['status.phase'],
  Node: ['spec.unschedulable'],
  ReplicaSet: ['status.replicas'],
  Job: ['status.successful'],
};

export type FieldMatcher = (object: KObject) => boolean;

export function parseFieldSelector(selector: string | null | undefined, type: ResourceType): FieldMatcher {
  if (!selector) return () => true;
  const allowed = ['metadata.name', 'metadata.namespace', ...(FIELDS[type.kind] ?? [])];
  const tests = requirements(selector).map((req): FieldMatcher => {
    const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(req);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${req}'`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    if (!allowed.includes(field)) throw badRequest(`field label not supported: ${field}`);
    return (o) => {
      let actual = get(o, field);
      if (type.kind === 'Event' && field === 'source') actual = get(o, 'source.component');
      const text = actual === undefined || actual === null ? '' : String(actual);
      return op === '!=' ? text !== value : text === value;
    };
  });
  return (o) => tests.every((t) => t(o));
}
