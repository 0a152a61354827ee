// The validation kubectl's flows meet (422 Invalid with one cause per problem, in the apiserver's
// words): object names, a Deployment's selector against its template, immutable selectors.
import { invalid } from '../errors.js';
import type { ResourceType } from '../resources.js';
import type { KObject } from '../store.js';
import { jsonEqual } from '../store.js';
import { labelSelectorMatcher } from './selectors.js';

interface Cause {
  field: string;
  message: string;
  reason?: string;
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function nameProblem(kind: string, name: string): string | undefined {
  if (kind === 'Namespace') {
    if (name.length > 63 || !LABEL.test(name))
      return `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`;
    return undefined;
  }
  if (kind === 'Service') {
    if (name.length > 63 || !DNS1035.test(name))
      return `a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`;
    return undefined;
  }
  if (name.length > 253 || !SUBDOMAIN.test(name))
    return `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;
  return undefined;
}

/** Go's %#v of a map[string]string, keys sorted, as validation messages print label maps. */
function goMap(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return `map[string]string{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(', ')}}`;
}

function goSelector(selector: unknown): string {
  const s = (selector ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  const labels = s.matchLabels ? goMap(s.matchLabels) : 'map[string]string(nil)';
  return `v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`;
}

/** A name before the object is stored: required (unless generateName) and well-formed. */
export function validateName(type: ResourceType, object: KObject): void {
  const name = object.metadata?.name;
  if (!name) {
    if (object.metadata?.generateName) return;
    throw invalid(type, '', [
      {
        field: 'metadata.name',
        reason: 'FieldValueRequired',
        message: 'Required value: name or generateName is required',
      },
    ]);
  }
  const problem = nameProblem(type.kind, name);
  if (problem)
    throw invalid(type, name, [{ field: 'metadata.name', message: `Invalid value: "${name}": ${problem}` }]);
}

const WORKLOADS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet']);

/** The object as it will be stored (defaults applied), against what is stored (on update). */
export function validateObject(type: ResourceType, object: KObject, existing?: KObject): void {
  const causes: Cause[] = [];
  const spec = (object.spec ?? {}) as Record<string, unknown>;
  if (WORKLOADS.has(object.kind)) {
    const template = (spec.template ?? {}) as {
      metadata?: { labels?: Record<string, string> };
      spec?: { containers?: unknown[] };
    };
    const labels = template.metadata?.labels;
    if (!spec.selector) {
      causes.push({ field: 'spec.selector', reason: 'FieldValueRequired', message: 'Required value' });
    } else {
      const sel = spec.selector as { matchLabels?: object; matchExpressions?: unknown[] };
      if (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)
        causes.push({
          field: 'spec.selector',
          message: `Invalid value: ${goSelector(sel)}: empty selector is invalid for deployment`,
        });
      else if (!labelSelectorMatcher(sel)(labels))
        causes.push({
          field: 'spec.template.metadata.labels',
          message: `Invalid value: ${goMap(labels)}: \`selector\` does not match template \`labels\``,
        });
    }
    if (
      existing &&
      object.kind !== 'ReplicaSet' &&
      !jsonEqual(spec.selector, (existing.spec as Record<string, unknown>)?.selector)
    )
      causes.push({
        field: 'spec.selector',
        message: `Invalid value: ${goSelector(spec.selector)}: field is immutable`,
      });
  }
  // A Job's pod template and selector are fixed once created (a changed Job is deleted and re-created).
  if (existing && object.kind === 'Job') {
    const before = (existing.spec ?? {}) as Record<string, unknown>;
    if (!jsonEqual(spec.template, before.template))
      causes.push({
        field: 'spec.template',
        message: 'Invalid value: core.PodTemplateSpec{...}: field is immutable',
      });
    if (!jsonEqual(spec.selector, before.selector))
      causes.push({
        field: 'spec.selector',
        message: `Invalid value: ${goSelector(spec.selector)}: field is immutable`,
      });
  }
  const podSpec =
    object.kind === 'Pod'
      ? (spec as { containers?: unknown[] })
      : WORKLOADS.has(object.kind) || object.kind === 'Job'
        ? ((spec.template as { spec?: { containers?: unknown[] } } | undefined)?.spec ?? {})
        : undefined;
  if (podSpec) {
    const prefix = object.kind === 'Pod' ? 'spec' : 'spec.template.spec';
    const containers = podSpec.containers ?? [];
    if (containers.length === 0)
      causes.push({ field: `${prefix}.containers`, reason: 'FieldValueRequired', message: 'Required value' });
    containers.forEach((c, i) => {
      const container = c as { name?: string; image?: string };
      if (!container.name)
        causes.push({
          field: `${prefix}.containers[${i}].name`,
          reason: 'FieldValueRequired',
          message: 'Required value',
        });
      if (!container.image)
        causes.push({
          field: `${prefix}.containers[${i}].image`,
          reason: 'FieldValueRequired',
          message: 'Required value',
        });
    });
  }
  if (causes.length > 0) throw invalid(type, object.metadata.name, causes);
}
