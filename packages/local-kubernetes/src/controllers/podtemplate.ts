// A pod from a controller's template (controller.GetPodFromTemplate), with the defaults the API
// server would give it — the controllers write to the store directly, so they default what the API
// would have: restartPolicy Always, terminationGracePeriodSeconds 30, dnsPolicy ClusterFirst,
// imagePullPolicy, terminationMessagePath.
import type { KObject, NewObject, OwnerReference } from '../store.js';
import type { Container, PodSpec } from './pods.js';

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: PodSpec;
}

export const templateOf = (object: KObject) =>
  ((object.spec as { template?: PodTemplate } | undefined)?.template ?? {}) as PodTemplate;

function defaultPullPolicy(image: string | undefined): string {
  const last = (image ?? '').slice((image ?? '').lastIndexOf('/') + 1);
  if ((image ?? '').includes('@')) return 'IfNotPresent';
  return !last.includes(':') || last.endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

export function defaultPodSpec(spec: PodSpec | undefined): PodSpec {
  const s = structuredClone(spec ?? { containers: [] });
  return {
    ...s,
    containers: (s.containers ?? []).map((c: Container) => ({
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      resources: {},
      ...c,
      imagePullPolicy: c.imagePullPolicy ?? defaultPullPolicy(c.image),
    })),
    restartPolicy: s.restartPolicy ?? 'Always',
    terminationGracePeriodSeconds: s.terminationGracePeriodSeconds ?? 30,
    dnsPolicy: (s as { dnsPolicy?: string }).dnsPolicy ?? 'ClusterFirst',
    securityContext: (s as { securityContext?: unknown }).securityContext ?? {},
    schedulerName: (s as { schedulerName?: string }).schedulerName ?? 'default-scheduler',
    serviceAccountName: (s as { serviceAccountName?: string }).serviceAccountName ?? 'default',
  } as PodSpec;
}

export function podFromTemplate(
  template: PodTemplate,
  owner: KObject,
  naming: { name: string } | { generateName: string },
  extra: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    spec?: Partial<PodSpec>;
  } = {},
): NewObject {
  const ref: OwnerReference = {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
  const labels = { ...(template.metadata?.labels ?? {}), ...(extra.labels ?? {}) };
  const annotations = { ...(template.metadata?.annotations ?? {}), ...(extra.annotations ?? {}) };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...naming,
      namespace: owner.metadata.namespace,
      labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [ref],
    },
    spec: { ...defaultPodSpec(template.spec), ...(extra.spec ?? {}) },
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  };
}
