// `kubectl rollout undo` for Deployments, by kubectl 1.32's algorithm
// (k8s.io/kubectl/pkg/polymorphichelpers/rollback.go, DeploymentRollbacker): the Deployment's
// ReplicaSets (its selector, its controller ownerReference), the previous revision (the second
// newest) or the one asked, refused when paused, skipped when the template already matches it,
// else one JSON patch replacing /spec/template (without the pod-template-hash label) and
// /metadata/annotations (the Deployment's own kept, the ReplicaSet's copied). The controller then
// makes that ReplicaSet the newest revision.
import { ActionError } from '../errors.js';
import type { KubeObject, KubernetesClient, ResourceRef } from './types.js';
import { REVISION_ANNOTATION } from './rollout-status.js';

export const POD_TEMPLATE_HASH = 'pod-template-hash';

/** The annotations kubectl keeps from the Deployment and never copies from the ReplicaSet. */
const ANNOTATIONS_TO_SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

interface DeploymentLike extends KubeObject {
  spec: { selector?: LabelSelector; template: PodTemplate; paused?: boolean };
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string>; [member: string]: unknown };
  [member: string]: unknown;
}

interface ReplicaSetLike extends KubeObject {
  spec: { template: PodTemplate };
}

export interface UndoResult {
  /** The revision gone back to (its ReplicaSet becomes the Deployment's newest revision). */
  revision: number;
  /**
   * kubectl's words: "rolled back", or "skipped rollback (current template already matches revision
   * N)" where N is the revision asked (0 when none was, as kubectl prints it).
   */
  message: string;
  /** True when the template already matched that revision: nothing was patched. */
  skipped: boolean;
}

/** A label selector as the API's labelSelector query (`app=web,tier in (a,b),!canary`). */
export function labelSelectorString(selector: LabelSelector | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
      default:
        throw new ActionError(`Unknown label selector operator ${JSON.stringify(e.operator)}.`);
    }
  }
  return parts.join(',');
}

/** The revision annotation as a number; undefined when absent or not a number (kubectl skips those). */
export function revisionOf(object: KubeObject): number | undefined {
  const value = object.metadata.annotations?.[REVISION_ANNOTATION];
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** JSON equality whatever the order of keys. */
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => equal(v, bb[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/** A pod template without the pod-template-hash label (deploymentutil's template copy). */
export function withoutHash(template: PodTemplate): PodTemplate {
  const copy = JSON.parse(JSON.stringify(template)) as PodTemplate;
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[POD_TEMPLATE_HASH];
  }
  return copy;
}

/** deploymentutil.EqualIgnoreHash. */
export function equalIgnoreHash(a: PodTemplate, b: PodTemplate): boolean {
  const x = withoutHash(a);
  const y = withoutHash(b);
  // An empty labels map and none are the same template.
  for (const t of [x, y])
    if (t.metadata?.labels && Object.keys(t.metadata.labels).length === 0) delete t.metadata.labels;
  return equal(x, y);
}

/** The Deployment's ReplicaSets: matching its selector and controlled by it (its uid). */
export async function replicaSetsOf(
  client: KubernetesClient,
  deployment: KubeObject,
  signal: AbortSignal,
): Promise<KubeObject[]> {
  const d = deployment as DeploymentLike;
  const { items } = await client.list(
    { group: 'apps', version: 'v1', plural: 'replicasets', namespace: d.metadata.namespace },
    {
      signal,
      labelSelector: labelSelectorString(d.spec.selector),
    },
  );
  return items.filter((rs) =>
    rs.metadata.ownerReferences?.some((o) => o.controller === true && o.uid === d.metadata.uid),
  );
}

/**
 * The ReplicaSet to go back to, as kubectl's deploymentRevision: `toRevision`'s, else the second
 * newest revision; errors in kubectl's words.
 */
export function pickRevision(name: string, replicaSets: KubeObject[], toRevision = 0): KubeObject {
  if (toRevision < 0) throw new ActionError(`unable to find specified revision ${toRevision} in history`);
  let latest: { rs: KubeObject; v: number } | undefined;
  let previous: { rs: KubeObject; v: number } | undefined;
  for (const rs of replicaSets) {
    const v = revisionOf(rs);
    if (v === undefined) continue;
    if (toRevision > 0) {
      if (v === toRevision) return rs;
      continue;
    }
    if ((latest?.v ?? -1) < v) {
      previous = latest;
      latest = { rs, v };
    } else if ((previous?.v ?? -1) < v) {
      previous = { rs, v };
    }
  }
  if (toRevision > 0) throw new ActionError(`unable to find specified revision ${toRevision} in history`);
  if (previous === undefined) {
    throw new ActionError(`no rollout history found for deployment ${JSON.stringify(name)}`, {
      hint: 'A Deployment created by this rollout has no earlier revision to go back to.',
    });
  }
  return previous.rs;
}

/**
 * `kubectl rollout undo deployment/<name> [--to-revision]`: patches the Deployment back to the
 * previous revision's template (or `toRevision`'s). Returns the revision gone back to.
 */
export async function undoDeployment(
  client: KubernetesClient,
  ref: ResourceRef,
  signal: AbortSignal,
  toRevision?: number,
): Promise<UndoResult> {
  const name = ref.name ?? '';
  const target: ResourceRef = {
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    namespace: ref.namespace,
    name,
  };
  const deployment = await client.get<DeploymentLike>(target, { signal });
  const chosen = pickRevision(
    name,
    await replicaSetsOf(client, deployment, signal),
    toRevision ?? 0,
  ) as ReplicaSetLike;
  const revision = revisionOf(chosen) ?? 0;
  if (deployment.spec.paused) {
    throw new ActionError(
      "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
    );
  }
  if (equalIgnoreHash(chosen.spec.template, deployment.spec.template)) {
    return {
      revision,
      skipped: true,
      // kubectl names the revision asked (0 when none was).
      message: `skipped rollback (current template already matches revision ${toRevision ?? 0})`,
    };
  }
  const template = withoutHash(chosen.spec.template);
  const annotations: Record<string, string> = {};
  for (const key of ANNOTATIONS_TO_SKIP) {
    const value = deployment.metadata.annotations?.[key];
    if (value !== undefined) annotations[key] = value;
  }
  for (const [key, value] of Object.entries(chosen.metadata.annotations ?? {})) {
    if (!ANNOTATIONS_TO_SKIP.has(key)) annotations[key] = value;
  }
  await client.patch(
    target,
    [
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/metadata/annotations', value: annotations },
    ],
    { signal, type: 'json' },
  );
  return { revision, skipped: false, message: 'rolled back' };
}

interface ControllerRevisionLike extends KubeObject {
  revision?: number;
  data?: unknown;
}

const WORKLOAD_KIND: Record<string, string> = {
  deployments: 'deployment',
  statefulsets: 'statefulset',
  daemonsets: 'daemonset',
};

/** The ControllerRevisions a StatefulSet or DaemonSet controls (its selector and its uid), oldest first. */
export async function controllerRevisionsOf(
  client: KubernetesClient,
  owner: KubeObject,
  signal: AbortSignal,
): Promise<KubeObject[]> {
  const o = owner as DeploymentLike;
  const { items } = await client.list<ControllerRevisionLike>(
    { group: 'apps', version: 'v1', plural: 'controllerrevisions', namespace: o.metadata.namespace },
    { signal, labelSelector: labelSelectorString(o.spec.selector) },
  );
  return items
    .filter((r) =>
      r.metadata.ownerReferences?.some((ref) => ref.controller === true && ref.uid === o.metadata.uid),
    )
    .sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
}

/**
 * `kubectl rollout undo statefulset/<name>` or `daemonset/<name>` (DaemonSetRollbacker,
 * StatefulSetRollbacker): the second newest ControllerRevision (or `toRevision`'s); skipped when
 * the current template's patch equals it; else its data applied as a strategic merge patch.
 */
export async function undoControllerRevision(
  client: KubernetesClient,
  ref: ResourceRef,
  signal: AbortSignal,
  toRevision = 0,
): Promise<UndoResult> {
  if (toRevision < 0) throw new ActionError(`unable to find specified revision ${toRevision} in history`);
  const target: ResourceRef = { ...ref, group: 'apps', version: 'v1', subresource: undefined };
  const owner = await client.get<DeploymentLike>(target, { signal });
  const history = (await controllerRevisionsOf(client, owner, signal)) as ControllerRevisionLike[];
  if (toRevision === 0 && history.length <= 1) throw new ActionError('no last revision to roll back to');
  const chosen =
    toRevision === 0 ? history[history.length - 2] : history.find((h) => (h.revision ?? 0) === toRevision);
  if (!chosen) throw new ActionError(`unable to find specified revision ${toRevision} in history`);
  const revision = chosen.revision ?? 0;
  const current = { spec: { template: { ...owner.spec.template, $patch: 'replace' } } };
  if (equal(current, chosen.data)) {
    return {
      revision,
      skipped: true,
      message: 'skipped rollback (current template already matches revision)',
    };
  }
  await client.patch(target, chosen.data, { signal, type: 'strategic' });
  return { revision, skipped: false, message: 'rolled back' };
}

/** `kubectl rollout undo` for a Deployment, StatefulSet or DaemonSet (by the ref's plural). */
export function undoWorkload(
  client: KubernetesClient,
  ref: ResourceRef,
  signal: AbortSignal,
  toRevision?: number,
): Promise<UndoResult> {
  if (ref.plural === 'deployments') return undoDeployment(client, ref, signal, toRevision);
  if (ref.plural === 'statefulsets' || ref.plural === 'daemonsets')
    return undoControllerRevision(client, ref, signal, toRevision);
  throw new ActionError(
    `kubectl rollout undo works on ${Object.values(WORKLOAD_KIND).join(', ')}, not ${JSON.stringify(ref.plural)}.`,
  );
}
