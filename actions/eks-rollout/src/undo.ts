// StatefulSet and DaemonSet history and undo by kubectl's algorithm (rollback.go): their template
// history is in ControllerRevisions they control; undo takes the revision before the newest and
// puts its template back (kubectl sends the revision's data, `{"spec":{"template":{…,"$patch":
// "replace"}}}`, as a strategic merge patch: a whole-template replace, sent here as a JSON patch).
import { ActionError, type KubeObject, type ResourceRef } from '@aws-containers/core';
import { WORKLOAD_KINDS, record, type WorkloadKind } from './manifests.js';
import type { StageContext } from './stages.js';

/** The ControllerRevisions a workload controls, oldest revision first (pure). */
export function historyOf(workload: KubeObject, revisions: readonly KubeObject[]): KubeObject[] {
  return revisions
    .filter((r) => r.metadata.ownerReferences?.some((o) => o.controller && o.uid === workload.metadata.uid))
    .sort((a, b) => Number(a.revision ?? 0) - Number(b.revision ?? 0));
}

/** The template a ControllerRevision holds, without the patch directive. */
export function revisionTemplate(revision: KubeObject): Record<string, unknown> | undefined {
  const template = record(record(record(revision.data)?.spec)?.template);
  if (!template) return undefined;
  const copy = { ...template };
  delete copy.$patch;
  return copy;
}

async function readHistory(
  ctx: StageContext,
  kind: WorkloadKind,
  namespace: string,
  name: string,
): Promise<{ workload: KubeObject; history: KubeObject[]; ref: ResourceRef } | undefined> {
  const ref: ResourceRef = {
    group: 'apps',
    version: 'v1',
    plural: WORKLOAD_KINDS[kind].plural,
    namespace,
    name,
  };
  const workload = await ctx.client.find(ref, { signal: ctx.signal });
  if (!workload) return undefined;
  const revisions = await ctx.client.list(
    { group: 'apps', version: 'v1', plural: 'controllerrevisions', namespace },
    { signal: ctx.signal },
  );
  return { workload, history: historyOf(workload, revisions.items), ref };
}

/** The newest revision number of a StatefulSet or DaemonSet (what `kubectl rollout history` lists last). */
export async function controllerRevision(
  ctx: StageContext,
  kind: WorkloadKind,
  namespace: string,
  name: string,
): Promise<string | undefined> {
  const found = await readHistory(ctx, kind, namespace, name);
  const newest = found?.history.at(-1)?.revision;
  return newest === undefined ? undefined : String(newest as number);
}

/** `kubectl rollout undo statefulset|daemonset/<name>`: back to the revision before the newest. Returns its number. */
export async function undoControllerRevision(
  ctx: StageContext,
  kind: WorkloadKind,
  namespace: string,
  name: string,
): Promise<string> {
  const found = await readHistory(ctx, kind, namespace, name);
  if (!found)
    throw new ActionError(
      `${WORKLOAD_KINDS[kind].kind} ${namespace}/${name} no longer exists: nothing to undo.`,
    );
  const previous = found.history.at(-2);
  const template = previous ? revisionTemplate(previous) : undefined;
  if (!previous || !template) {
    throw new ActionError(`no rollout history found for ${kind} "${name}"`, {
      hint: 'A workload created by this rollout has no earlier revision to go back to.',
    });
  }
  const revision = String(previous.revision as number);
  const current = record(found.workload.spec)?.template;
  if (JSON.stringify(sorted(current)) === JSON.stringify(sorted(template))) {
    ctx.log(`${namespace}/${name}: skipped rollback (current template already matches revision ${revision})`);
    return revision;
  }
  await ctx.client.patch(found.ref, [{ op: 'replace', path: '/spec/template', value: template }], {
    signal: ctx.signal,
    type: 'json',
  });
  ctx.log(`${namespace}/${name}: rolled back to revision ${revision}`);
  return revision;
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  const object = record(value);
  if (!object) return value;
  return Object.fromEntries(
    Object.keys(object)
      .sort()
      .map((k) => [k, sorted(object[k])]),
  );
}
