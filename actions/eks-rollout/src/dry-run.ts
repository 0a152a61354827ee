// dry-run: every write sent with dryRun=All (the API server validates, defaults and admits it,
// and stores nothing); the diff of each object against the live one is printed.
import { isKubernetesApiError, type KubeObject } from '@aws-containers/core';
import { objectDiff } from './diff.js';
import { objectName } from './manifests.js';
import {
  applyOne,
  resolveRefs,
  workloadName,
  workloadRef,
  type ApplyOptions,
  type SetImagePlan,
  type StageContext,
} from './stages.js';

export interface DryRunChange {
  name: string;
  /** undefined: no change. */
  diff: string[] | undefined;
}

export async function dryRunApply(
  ctx: StageContext,
  objects: readonly KubeObject[],
  options: ApplyOptions,
): Promise<DryRunChange[]> {
  const refs = await resolveRefs(ctx, objects);
  const changes: DryRunChange[] = [];
  // Namespaces this step would create: the server cannot dry-run objects inside them.
  const newNamespaces = new Set<string>();
  for (const [index, object] of objects.entries()) {
    const ref = refs[index]!;
    const live = await ctx.client.find(ref, { signal: ctx.signal });
    let after: KubeObject;
    if (ref.namespace && newNamespaces.has(ref.namespace)) after = object;
    else {
      try {
        after = (await applyOne(ctx, ref, object, options, true)).object;
      } catch (error) {
        if (!isKubernetesApiError(error, 404) || !ref.namespace) throw error;
        after = object;
      }
    }
    if (object.kind === 'Namespace' && !live) newNamespaces.add(object.metadata.name);
    changes.push({ name: objectName(object), diff: objectDiff(live, after) });
  }
  return changes;
}

export async function dryRunSetImages(
  ctx: StageContext,
  plans: readonly SetImagePlan[],
  fieldManager: string,
): Promise<DryRunChange[]> {
  const changes: DryRunChange[] = [];
  for (const plan of plans) {
    const ref = workloadRef(plan.workload);
    const live = await ctx.client.get(ref, { signal: ctx.signal });
    const after = await ctx.client.patch(ref, plan.patch, {
      signal: ctx.signal,
      type: 'strategic',
      fieldManager,
      dryRun: true,
    });
    changes.push({ name: workloadName(plan.workload), diff: objectDiff(live, after) });
  }
  return changes;
}

/** The diffs as log text (printed through info(), which fences it). */
export function dryRunText(changes: readonly DryRunChange[]): string {
  return changes
    .map((c) => (c.diff ? `${c.name}:\n${c.diff.map((l) => `  ${l}`).join('\n')}` : `${c.name}: unchanged`))
    .join('\n');
}
