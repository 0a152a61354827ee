// The stages of a rollout as functions of typed values: apply the manifests, set images, follow
// each workload, diagnose and undo. Each takes the client and the step's signal; the root action
// can call them too.
import { ActionError, type KubeObject, type KubernetesClient, type ResourceRef } from '@aws-containers/core';
import { lastApplied, threeWayMergePatch, withLastApplied } from './client-apply.js';
import { setImagePatch, substituteImages, type ImageChange } from './images.js';
import type { WorkloadRef } from './inputs.js';
import {
  WORKLOAD_KINDS,
  knownKind,
  objectName,
  splitApiVersion,
  withMetadata,
  workloadKindOf,
  type Manifest,
} from './manifests.js';

export const CHANGE_CAUSE = 'kubernetes.io/change-cause';

export interface StageContext {
  client: KubernetesClient;
  signal: AbortSignal;
  log: (text: string) => void;
}

export function workloadRef(w: WorkloadRef): ResourceRef {
  return {
    group: 'apps',
    version: 'v1',
    plural: WORKLOAD_KINDS[w.kind].plural,
    namespace: w.namespace,
    name: w.name,
  };
}

export function workloadName(w: WorkloadRef): string {
  return `${WORKLOAD_KINDS[w.kind].kind}/${w.namespace}/${w.name}`;
}

/**
 * The objects to apply (pure): images substituted, the annotations and labels inputs added, and
 * the change-cause on each workload's metadata (as kubectl --record wrote it).
 */
export function renderManifests(
  manifests: readonly Manifest[],
  options: {
    images: readonly ImageChange[];
    annotations: ReadonlyMap<string, string>;
    labels: ReadonlyMap<string, string>;
    changeCause: string | undefined;
  },
): KubeObject[] {
  return manifests.map((m) => {
    let object = substituteImages(m.object, options.images);
    const annotations = new Map(options.annotations);
    if (options.changeCause !== undefined && workloadKindOf(object))
      annotations.set(CHANGE_CAUSE, options.changeCause);
    object = withMetadata(object, annotations, options.labels);
    return object;
  });
}

/** Where an object goes: known kinds from a table, others by discovery (once per group/version). */
export async function resolveRefs(ctx: StageContext, objects: readonly KubeObject[]): Promise<ResourceRef[]> {
  const discovered = new Map<string, Array<{ name: string; kind: string; namespaced: boolean }>>();
  const refs: ResourceRef[] = [];
  for (const object of objects) {
    const { group, version } = splitApiVersion(object.apiVersion);
    let info = knownKind(object.apiVersion, object.kind);
    if (!info) {
      const key = object.apiVersion;
      let resources = discovered.get(key);
      if (!resources) {
        resources = await ctx.client.resources(group, version, { signal: ctx.signal });
        discovered.set(key, resources);
      }
      const found = resources.find((r) => r.kind === object.kind && !r.name.includes('/'));
      if (!found) {
        throw new ActionError(
          `The cluster does not serve ${object.kind} in ${object.apiVersion} (${objectName(object)}).`,
          {
            hint: 'Install its CustomResourceDefinition first, or check the apiVersion; nothing was applied.',
          },
        );
      }
      info = { plural: found.name, namespaced: found.namespaced, rank: 4 };
    }
    refs.push({
      group,
      version,
      plural: info.plural,
      ...(info.namespaced && { namespace: object.metadata.namespace ?? 'default' }),
      name: object.metadata.name,
    });
  }
  return refs;
}

export interface ApplyOptions {
  fieldManager: string;
  force: boolean;
  /** false: client-side apply with kubectl's last-applied annotation (see client-apply.ts). */
  serverSide: boolean;
}

/** One object applied (or dry-run): the object the server answered, and what happened to it. */
export async function applyOne(
  ctx: StageContext,
  ref: ResourceRef,
  body: KubeObject,
  options: ApplyOptions,
  dryRun = false,
): Promise<{ object: KubeObject; verb: 'applied' | 'created' | 'configured' | 'unchanged' }> {
  if (options.serverSide) {
    const object = await ctx.client.apply(ref, body, {
      signal: ctx.signal,
      fieldManager: options.fieldManager,
      force: options.force,
      dryRun,
    });
    return { object, verb: 'applied' };
  }
  const modified = withLastApplied(body);
  const live = await ctx.client.find(ref, { signal: ctx.signal });
  if (!live) {
    const { name: _name, ...collection } = ref;
    const object = await ctx.client.create(collection, modified, { signal: ctx.signal, dryRun });
    return { object, verb: 'created' };
  }
  const patch = threeWayMergePatch(
    lastApplied(live),
    modified as unknown as Record<string, unknown>,
    live as unknown as Record<string, unknown>,
  );
  if (!patch) return { object: live, verb: 'unchanged' };
  const object = await ctx.client.patch(ref, patch, {
    signal: ctx.signal,
    type: 'merge',
    fieldManager: options.fieldManager,
    dryRun,
  });
  return { object, verb: 'configured' };
}

/** Apply of each object in order (server-side, or client-side); `onApplied` hears each one as it is applied. */
export async function applyObjects(
  ctx: StageContext,
  objects: readonly KubeObject[],
  options: ApplyOptions,
  onApplied: (name: string) => void,
): Promise<void> {
  // Every object's place is known before the first write: an unknown kind changes nothing.
  const refs = await resolveRefs(ctx, objects);
  for (const [index, object] of objects.entries()) {
    const ref = refs[index] as ResourceRef;
    const body: KubeObject = ref.namespace
      ? { ...object, metadata: { ...object.metadata, namespace: ref.namespace } }
      : object;
    const { verb } = await applyOne(ctx, ref, body, options);
    const name = objectName(body);
    ctx.log(`${verb} ${name}`);
    onApplied(name);
  }
}

/** A workload with its containers changed by `set image`, before the write. */
export interface SetImagePlan {
  workload: WorkloadRef;
  patch: Record<string, unknown>;
  changed: string[];
}

/**
 * Reads every workload and plans its patch; a missing workload or container is an error before
 * any write (kubectl set image refuses the same).
 */
export async function planSetImages(
  ctx: StageContext,
  workloads: readonly WorkloadRef[],
  images: readonly ImageChange[],
  annotations: Record<string, string>,
): Promise<SetImagePlan[]> {
  const containers = images.filter((i) => i.target === 'container');
  const plans: SetImagePlan[] = [];
  const problems: string[] = [];
  for (const w of workloads) {
    const live = await ctx.client.find(workloadRef(w), { signal: ctx.signal });
    if (!live) {
      problems.push(`${workloadName(w)} does not exist`);
      continue;
    }
    const { patch, missing, changed } = setImagePatch(live, containers, annotations);
    if (missing.length === containers.length) {
      problems.push(`${workloadName(w)} has no container named ${missing.map((m) => `"${m}"`).join(', ')}`);
      continue;
    }
    plans.push({ workload: w, patch, changed });
  }
  if (problems.length > 0) {
    throw new ActionError(`Cannot set the images: ${problems.join('; ')}.`, {
      hint: 'Check the workloads and images inputs (kubectl get deployment -o jsonpath={.spec.template.spec.containers[*].name}); nothing was changed.',
    });
  }
  return plans;
}

/** Sends each planned patch (strategic merge, as kubectl set image). */
export async function setImages(
  ctx: StageContext,
  plans: readonly SetImagePlan[],
  fieldManager: string,
): Promise<void> {
  for (const plan of plans) {
    await ctx.client.patch(workloadRef(plan.workload), plan.patch, {
      signal: ctx.signal,
      type: 'strategic',
      fieldManager,
    });
    ctx.log(
      plan.changed.length > 0
        ? `set image of ${plan.changed.join(', ')} on ${workloadName(plan.workload)}`
        : `${workloadName(plan.workload)} already runs these images`,
    );
  }
}
