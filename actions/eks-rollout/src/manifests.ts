// The `manifests` input: files, globs and folders of YAML or JSON read into Kubernetes objects,
// checked, placed in their namespace and sorted into the order they can be applied in.
import { globSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ParseError, cut, type KubeObject } from '@aws-containers/core';
import { parseAllDocuments } from 'yaml';

/** One object of the manifests and where it was read. */
export interface Manifest {
  object: KubeObject;
  /** `path` or `path#2` (the document's number, from 1, when a file holds several). */
  source: string;
}

export const MANIFESTS_EXPECTED =
  'files, folders or globs of Kubernetes manifests (.yaml, .yml or .json; several documents per file allowed), one per line';

const MANIFEST_FILE = /\.(?:ya?ml|json)$/i;
const GLOB_CHARS = /[*?[\]{}]/;

/** The files a list of paths, folders (their .yaml/.yml/.json files, not recursive, as kubectl -f) and globs names, in order, each once. */
export function manifestFiles(patterns: readonly string[], cwd: string): string[] {
  const files: string[] = [];
  for (const pattern of patterns) {
    let found: string[];
    if (GLOB_CHARS.test(pattern)) {
      found = globSync(pattern, { cwd })
        .map((f) => path.resolve(cwd, f))
        .filter((f) => MANIFEST_FILE.test(f) && statSync(f).isFile())
        .sort();
      if (found.length === 0) {
        throw new ParseError(MANIFESTS_EXPECTED, pattern, 'The glob matches no .yaml, .yml or .json file');
      }
    } else {
      const full = path.resolve(cwd, pattern);
      let stat;
      try {
        stat = statSync(full);
      } catch {
        throw new ParseError(MANIFESTS_EXPECTED, pattern, 'No such file or folder');
      }
      if (stat.isDirectory()) {
        found = readdirSync(full)
          .filter((f) => MANIFEST_FILE.test(f))
          .sort()
          .map((f) => path.join(full, f))
          .filter((f) => statSync(f).isFile());
        if (found.length === 0) {
          throw new ParseError(MANIFESTS_EXPECTED, pattern, 'The folder holds no .yaml, .yml or .json file');
        }
      } else {
        found = [full];
      }
    }
    for (const file of found) if (!files.includes(file)) files.push(file);
  }
  return files;
}

/** The objects of one file's text: YAML documents (or JSON), `kind: List` flattened, empty documents skipped. */
export function parseManifestText(text: string, file: string): Manifest[] {
  const documents = parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(documents) ? documents : [documents];
  const result: Manifest[] = [];
  list.forEach((document, index) => {
    const source = list.length > 1 ? `${file}#${index + 1}` : file;
    const error = document.errors[0];
    if (error) {
      const line = error.linePos?.[0].line;
      throw new ParseError(
        MANIFESTS_EXPECTED,
        file,
        `${source}${line ? ` line ${line}` : ''} is not valid YAML or JSON: ${cut(error.message.split('\n')[0] ?? '', 120)}`,
      );
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return;
    for (const object of flatten(value, source)) result.push({ object, source });
  });
  return result;
}

function flatten(value: unknown, source: string): KubeObject[] {
  const object = checkObject(value, source);
  if (object.kind === 'List' || object.kind.endsWith('List')) {
    const items = object.items;
    if (!Array.isArray(items)) {
      throw new ParseError(MANIFESTS_EXPECTED, source, `${source} is a ${object.kind} without items`);
    }
    return items.flatMap((item) => flatten(item, source));
  }
  if (typeof object.metadata?.name !== 'string' || object.metadata.name === '') {
    throw new ParseError(
      MANIFESTS_EXPECTED,
      source,
      `${source} (${object.kind}) has no metadata.name (generateName is not supported: apply needs a name)`,
    );
  }
  return [object];
}

function checkObject(value: unknown, source: string): KubeObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ParseError(MANIFESTS_EXPECTED, source, `${source} is not a mapping (a Kubernetes object)`);
  }
  const object = value as Record<string, unknown>;
  for (const field of ['apiVersion', 'kind'] as const) {
    if (typeof object[field] !== 'string' || object[field] === '') {
      throw new ParseError(MANIFESTS_EXPECTED, source, `${source} has no ${field}`);
    }
  }
  if (object.metadata === undefined) object.metadata = {};
  if (typeof object.metadata !== 'object' || object.metadata === null) {
    throw new ParseError(MANIFESTS_EXPECTED, source, `${source} has a metadata that is not a mapping`);
  }
  return object as unknown as KubeObject;
}

/** Reads every manifest file, in the order of manifestFiles. */
export function readManifests(patterns: readonly string[], cwd: string): Manifest[] {
  return manifestFiles(patterns, cwd).flatMap((file) => {
    const shown = path.relative(cwd, file) || file;
    return parseManifestText(readFileSync(file, 'utf8'), shown);
  });
}

// ---------------------------------------------------------------------------------------------
// Kinds: where they live, what they are called in the API, and when they are applied

export interface KindInfo {
  plural: string;
  namespaced: boolean;
  /** 0 namespaces, 1 configuration and identity, 2 services, 3 workloads, 4 the rest. */
  rank: number;
}

/** The built-in kinds, keyed `group/Kind` ('' for the core group). Other kinds are found by discovery. */
const KNOWN_KINDS: Record<string, KindInfo> = {
  '/Namespace': { plural: 'namespaces', namespaced: false, rank: 0 },
  'apiextensions.k8s.io/CustomResourceDefinition': {
    plural: 'customresourcedefinitions',
    namespaced: false,
    rank: 0,
  },
  '/ConfigMap': { plural: 'configmaps', namespaced: true, rank: 1 },
  '/Secret': { plural: 'secrets', namespaced: true, rank: 1 },
  '/ServiceAccount': { plural: 'serviceaccounts', namespaced: true, rank: 1 },
  '/PersistentVolume': { plural: 'persistentvolumes', namespaced: false, rank: 1 },
  '/PersistentVolumeClaim': { plural: 'persistentvolumeclaims', namespaced: true, rank: 1 },
  '/LimitRange': { plural: 'limitranges', namespaced: true, rank: 1 },
  '/ResourceQuota': { plural: 'resourcequotas', namespaced: true, rank: 1 },
  'storage.k8s.io/StorageClass': { plural: 'storageclasses', namespaced: false, rank: 1 },
  'scheduling.k8s.io/PriorityClass': { plural: 'priorityclasses', namespaced: false, rank: 1 },
  'rbac.authorization.k8s.io/ClusterRole': { plural: 'clusterroles', namespaced: false, rank: 1 },
  'rbac.authorization.k8s.io/ClusterRoleBinding': {
    plural: 'clusterrolebindings',
    namespaced: false,
    rank: 1,
  },
  'rbac.authorization.k8s.io/Role': { plural: 'roles', namespaced: true, rank: 1 },
  'rbac.authorization.k8s.io/RoleBinding': { plural: 'rolebindings', namespaced: true, rank: 1 },
  '/Service': { plural: 'services', namespaced: true, rank: 2 },
  'apps/Deployment': { plural: 'deployments', namespaced: true, rank: 3 },
  'apps/StatefulSet': { plural: 'statefulsets', namespaced: true, rank: 3 },
  'apps/DaemonSet': { plural: 'daemonsets', namespaced: true, rank: 3 },
  'apps/ReplicaSet': { plural: 'replicasets', namespaced: true, rank: 3 },
  'batch/Job': { plural: 'jobs', namespaced: true, rank: 3 },
  'batch/CronJob': { plural: 'cronjobs', namespaced: true, rank: 3 },
  '/Pod': { plural: 'pods', namespaced: true, rank: 3 },
  'networking.k8s.io/Ingress': { plural: 'ingresses', namespaced: true, rank: 4 },
  'networking.k8s.io/NetworkPolicy': { plural: 'networkpolicies', namespaced: true, rank: 4 },
  'policy/PodDisruptionBudget': { plural: 'poddisruptionbudgets', namespaced: true, rank: 4 },
  'autoscaling/HorizontalPodAutoscaler': {
    plural: 'horizontalpodautoscalers',
    namespaced: true,
    rank: 4,
  },
};

/** `apps/v1` → { group: 'apps', version: 'v1' }; `v1` → the core group. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export function knownKind(apiVersion: string, kind: string): KindInfo | undefined {
  return KNOWN_KINDS[`${splitApiVersion(apiVersion).group}/${kind}`];
}

/** The workload kinds this action follows, by their `workloads` names. */
export const WORKLOAD_KINDS = {
  deployment: { kind: 'Deployment', plural: 'deployments' },
  statefulset: { kind: 'StatefulSet', plural: 'statefulsets' },
  daemonset: { kind: 'DaemonSet', plural: 'daemonsets' },
} as const;
export type WorkloadKind = keyof typeof WORKLOAD_KINDS;

export function workloadKindOf(object: KubeObject): WorkloadKind | undefined {
  if (splitApiVersion(object.apiVersion).group !== 'apps') return undefined;
  const entry = Object.entries(WORKLOAD_KINDS).find(([, v]) => v.kind === object.kind);
  return entry?.[0] as WorkloadKind | undefined;
}

/** `Kind/namespace/name` (`Kind/name` for cluster-scoped objects), as the `applied` output lists them. */
export function objectName(object: KubeObject): string {
  const ns = object.metadata.namespace;
  return ns ? `${object.kind}/${ns}/${object.metadata.name}` : `${object.kind}/${object.metadata.name}`;
}

/**
 * Each namespaced object of a known kind placed in a namespace (its own, else `namespace`, else
 * `default`), then sorted by rank (stable: the files' order within a rank). Objects of other
 * kinds keep their metadata.namespace; discovery decides later. Throws ParseError for an object
 * whose namespace differs from the `namespace` input (kubectl refuses the same), and for an
 * object given twice.
 */
export function placeAndOrder(manifests: readonly Manifest[], namespace: string | undefined): Manifest[] {
  const seen = new Map<string, string>();
  const placed = manifests.map((m) => {
    const info = knownKind(m.object.apiVersion, m.object.kind);
    const own = m.object.metadata.namespace;
    if (info?.namespaced !== false && own !== undefined && namespace !== undefined && own !== namespace) {
      throw new ParseError(
        MANIFESTS_EXPECTED,
        m.source,
        `${m.source} (${m.object.kind} ${m.object.metadata.name}) is in namespace "${own}", not in "${namespace}" that the namespace input names`,
      );
    }
    const object: KubeObject =
      info?.namespaced && own === undefined
        ? { ...m.object, metadata: { ...m.object.metadata, namespace: namespace ?? 'default' } }
        : info && !info.namespaced && own !== undefined
          ? { ...m.object, metadata: withoutNamespace(m.object.metadata) }
          : m.object;
    const key = `${splitApiVersion(object.apiVersion).group}/${objectName(object)}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ParseError(
        MANIFESTS_EXPECTED,
        m.source,
        `${objectName(object)} is given twice, in ${first} and ${m.source}`,
      );
    }
    seen.set(key, m.source);
    return { ...m, object };
  });
  const rank = (m: Manifest) => knownKind(m.object.apiVersion, m.object.kind)?.rank ?? 4;
  return placed
    .map((m, index) => ({ m, index }))
    .sort((a, b) => rank(a.m) - rank(b.m) || a.index - b.index)
    .map(({ m }) => m);
}

function withoutNamespace(metadata: KubeObject['metadata']): KubeObject['metadata'] {
  const copy = { ...metadata };
  delete copy.namespace;
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Pod templates, and the metadata every object gets

/** The pod spec an object runs (workloads, Jobs, CronJobs, Pods), or undefined. */
export function podSpecOf(object: KubeObject): Record<string, unknown> | undefined {
  const spec = record(object.spec);
  if (object.kind === 'Pod') return spec;
  if (object.kind === 'CronJob')
    return record(record(record(record(spec?.jobTemplate)?.spec)?.template)?.spec);
  return record(record(spec?.template)?.spec);
}

export interface ContainerSpec {
  name: string;
  image?: string;
  [member: string]: unknown;
}

/** The containers and init containers of a pod spec. */
export function containersOf(podSpec: Record<string, unknown> | undefined): ContainerSpec[] {
  if (!podSpec) return [];
  const pick = (v: unknown) =>
    Array.isArray(v) ? v.filter((c): c is ContainerSpec => typeof record(c)?.name === 'string') : [];
  return [...pick(podSpec.initContainers), ...pick(podSpec.containers)];
}

/** Adds `annotations` and `labels` to an object's metadata; for a key the object has too, the input's value wins (as kubectl annotate --overwrite). */
export function withMetadata(
  object: KubeObject,
  annotations: ReadonlyMap<string, string>,
  labels: ReadonlyMap<string, string>,
): KubeObject {
  if (annotations.size === 0 && labels.size === 0) return object;
  const metadata = { ...object.metadata };
  if (annotations.size > 0)
    metadata.annotations = { ...metadata.annotations, ...Object.fromEntries(annotations) };
  if (labels.size > 0) metadata.labels = { ...metadata.labels, ...Object.fromEntries(labels) };
  return { ...object, metadata };
}

export function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
