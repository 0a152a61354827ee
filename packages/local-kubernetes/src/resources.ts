// The resource types the API server serves: what discovery lists, what the store keys objects by,
// and what `kubectl get` names them (short names, kinds). One table, used by every part.

export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  /** The path segment: `deployments`. */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  /** Subresources served (`status`, `log`, `scale`). */
  subresources: string[];
  categories?: string[];
  /** Whether a spec change bumps metadata.generation (objects with a spec/status split). */
  hasGeneration: boolean;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const READ_ONLY_VERBS = ['get', 'list', 'watch'];

function type(
  group: string,
  version: string,
  kind: string,
  plural: string,
  options: Partial<Omit<ResourceType, 'group' | 'version' | 'kind' | 'plural'>> = {},
): ResourceType {
  return {
    group,
    version,
    kind,
    plural,
    singular: options.singular ?? kind.toLowerCase(),
    namespaced: options.namespaced ?? true,
    shortNames: options.shortNames ?? [],
    verbs: options.verbs ?? ALL_VERBS,
    subresources: options.subresources ?? [],
    ...(options.categories ? { categories: options.categories } : {}),
    hasGeneration: options.hasGeneration ?? false,
  };
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  type('', 'v1', 'Namespace', 'namespaces', {
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: ['status'],
  }),
  type('', 'v1', 'Node', 'nodes', { namespaced: false, shortNames: ['no'], subresources: ['status'] }),
  type('', 'v1', 'Pod', 'pods', {
    shortNames: ['po'],
    subresources: ['status', 'log'],
    categories: ['all'],
  }),
  type('', 'v1', 'Event', 'events', { shortNames: ['ev'] }),
  type('', 'v1', 'ConfigMap', 'configmaps', { shortNames: ['cm'] }),
  type('', 'v1', 'Secret', 'secrets'),
  type('', 'v1', 'Service', 'services', {
    shortNames: ['svc'],
    subresources: ['status'],
    categories: ['all'],
  }),
  type('', 'v1', 'ServiceAccount', 'serviceaccounts', { shortNames: ['sa'] }),
  type('apps', 'v1', 'Deployment', 'deployments', {
    shortNames: ['deploy'],
    subresources: ['status', 'scale'],
    categories: ['all'],
    hasGeneration: true,
  }),
  type('apps', 'v1', 'ReplicaSet', 'replicasets', {
    shortNames: ['rs'],
    subresources: ['status', 'scale'],
    categories: ['all'],
    hasGeneration: true,
  }),
  type('apps', 'v1', 'StatefulSet', 'statefulsets', {
    shortNames: ['sts'],
    subresources: ['status', 'scale'],
    categories: ['all'],
    hasGeneration: true,
  }),
  type('apps', 'v1', 'DaemonSet', 'daemonsets', {
    shortNames: ['ds'],
    subresources: ['status'],
    categories: ['all'],
    hasGeneration: true,
  }),
  type('apps', 'v1', 'ControllerRevision', 'controllerrevisions'),
  type('batch', 'v1', 'Job', 'jobs', { subresources: ['status'], categories: ['all'], hasGeneration: true }),
  type('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', {
    shortNames: ['hpa'],
    subresources: ['status'],
    categories: ['all'],
    hasGeneration: true,
  }),
  type('networking.k8s.io', 'v1', 'Ingress', 'ingresses', {
    shortNames: ['ing'],
    subresources: ['status'],
    hasGeneration: true,
  }),
  type('events.k8s.io', 'v1', 'Event', 'events', { shortNames: ['ev'] }),
  type('authorization.k8s.io', 'v1', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', {
    namespaced: false,
    verbs: ['create'],
  }),
  type('authorization.k8s.io', 'v1', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', {
    namespaced: false,
    verbs: ['create'],
  }),
];

export { READ_ONLY_VERBS };

/** `apps/v1` or `v1`. */
export const groupVersionOf = (t: Pick<ResourceType, 'group' | 'version'>) =>
  t.group ? `${t.group}/${t.version}` : t.version;

/** The key objects of a type are stored under: `deployments.apps`, `pods`. */
export const storeKeyOf = (t: Pick<ResourceType, 'group' | 'plural'>) =>
  t.group ? `${t.plural}.${t.group}` : t.plural;

/** The type served at /api(s)/<group>/<version>/<plural>, or undefined. */
export function findByPath(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

/** The type of an object's apiVersion and kind, or undefined ("no matches for kind"). */
export function findByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => groupVersionOf(t) === apiVersion && t.kind === kind);
}
