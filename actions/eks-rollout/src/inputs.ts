// Every input of eks-rollout, read and checked at once before any call: a bad input changes nothing.
import {
  InputReader,
  ParseError,
  getGitHubContext,
  parseImageReference,
  type KubeObject,
} from '@aws-containers/core';
import { IMAGES_KEY_EXPECTED, classifyImages, parseImagesKey, type ImageChange } from './images.js';
import {
  MANIFESTS_EXPECTED,
  WORKLOAD_KINDS,
  placeAndOrder,
  readManifests,
  workloadKindOf,
  type Manifest,
  type WorkloadKind,
} from './manifests.js';

export interface WorkloadRef {
  kind: WorkloadKind;
  name: string;
  /** Set once known: the manifest's, else the namespace input's, else `default`. */
  namespace: string;
}

export interface Inputs {
  cluster: string;
  region: string | undefined;
  namespace: string | undefined;
  /** Undefined without `manifests`; else the objects in the order they are applied. */
  manifests: Manifest[] | undefined;
  serverSideApply: boolean;
  fieldManager: string;
  forceConflicts: boolean;
  images: ImageChange[];
  /** The workloads to change and follow. */
  workloads: WorkloadRef[];
  timeoutMs: number;
  maxRestarts: number;
  rollbackOnFailure: boolean;
  /** kubernetes.io/change-cause on each workload; undefined: none. */
  changeCause: string | undefined;
  annotations: Map<string, string>;
  labels: Map<string, string>;
  /** A Job run to completion before any workload changes (migrations). */
  preDeployJob: KubeObject | undefined;
  preDeployJobTimeoutMs: number;
  /** Server-side dry run: every write sent with dryRun=All, the diffs printed, nothing changed. */
  dryRun: boolean;
  /** Before the first write: ECR images and namespaces (stop, warn or skip). */
  preflight: 'on' | 'warn' | 'off';
  /** Where to write a kubeconfig for later steps. */
  writeKubeconfig: string | undefined;
}

/** An EKS cluster name: 1 to 100 letters, digits, - and _, starting with a letter or digit. */
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
/** A namespace: a DNS label. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A workload's name: a DNS subdomain. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A label or annotation key: an optional DNS-subdomain prefix and a name of up to 63 characters. */
const METADATA_KEY =
  /^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const FIELD_MANAGER = /^[\x21-\x7e][\x20-\x7e]{0,127}$/;

const KIND_ALIASES: Record<string, WorkloadKind> = {
  deployment: 'deployment',
  deployments: 'deployment',
  deploy: 'deployment',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  sts: 'statefulset',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  ds: 'daemonset',
};
export const WORKLOADS_EXPECTED =
  'workloads as kind/name (deployment/web, statefulset/db, daemonset/agent), one per line or comma';
const MAX_WORKLOADS = 50;

export function parseWorkload(text: string): { kind: WorkloadKind; name: string } {
  const slash = text.indexOf('/');
  const kind = KIND_ALIASES[text.slice(0, Math.max(slash, 0)).toLowerCase()];
  const name = text.slice(slash + 1);
  if (slash < 0 || !kind) {
    throw new ParseError(
      WORKLOADS_EXPECTED,
      text,
      slash < 0
        ? 'Write the kind before the name: deployment/web'
        : `The kind is not one of ${Object.keys(WORKLOAD_KINDS).join(', ')}`,
    );
  }
  if (!OBJECT_NAME.test(name) || name.length > 253) {
    throw new ParseError(
      WORKLOADS_EXPECTED,
      text,
      `"${name}" is not a Kubernetes object name (lowercase DNS subdomain)`,
    );
  }
  return { kind, name };
}

/** The default change-cause: the commit and the run, when the runner says them. */
export function defaultChangeCause(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const github = getGitHubContext(env);
  const parts = [
    github.repository && github.sha ? `${github.repository}@${github.sha.slice(0, 12)}` : undefined,
    github.runUrl,
  ].filter((p) => p !== undefined);
  return parts.length > 0 ? parts.join(' ') : undefined;
}

export function getInputs(
  reader: InputReader = new InputReader(),
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Inputs {
  const cwd = options.cwd ?? process.env.GITHUB_WORKSPACE ?? process.cwd();
  const cluster = reader.string('cluster', {
    required: true,
    pattern: CLUSTER_NAME,
    expected: 'an EKS cluster name (1 to 100 letters, digits, - and _)',
  });
  const region = reader.region('region');
  const namespace = reader.string('namespace', {
    pattern: NAMESPACE,
    expected: 'a Kubernetes namespace (a lowercase DNS label of up to 63 characters)',
  });

  let manifests = reader.parsed('manifests', MANIFESTS_EXPECTED, (value) =>
    readManifests(
      value
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== ''),
      cwd,
    ),
  );
  if (manifests !== undefined) {
    try {
      manifests = placeAndOrder(manifests, namespace);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      reader.addError('manifests', error.expected, error.given, error.hint);
      manifests = undefined;
    }
  }
  if (manifests !== undefined && manifests.length === 0) {
    reader.addError(
      'manifests',
      MANIFESTS_EXPECTED,
      reader.raw('manifests'),
      'The files hold no Kubernetes object',
    );
  }

  const serverSideApply = reader.boolean('server-side-apply', { default: true });
  const fieldManager = reader.string('field-manager', {
    default: 'aws-containers',
    pattern: FIELD_MANAGER,
    expected: 'a field manager name (up to 128 printable ASCII characters)',
  });
  const forceConflicts = reader.boolean('force-conflicts', { default: false });

  const imageEntries =
    reader.keyValues('images', {
      keyPattern: /^[^\s=]+$/,
      keyExpected: IMAGES_KEY_EXPECTED,
    }) ?? new Map<string, string>();
  let imagesOk = true;
  for (const [name, image] of imageEntries) {
    try {
      parseImagesKey(name);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      reader.addError('images', error.expected, error.given, error.hint);
      imagesOk = false;
    }
    try {
      parseImageReference(image);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      reader.addError('images', `an image reference for "${name}": ${error.expected}`, image, error.hint);
      imagesOk = false;
    }
  }

  const workloadList = reader.list('workloads', { unique: true, maxItems: MAX_WORKLOADS });
  const workloads: WorkloadRef[] = [];
  for (const item of workloadList ?? []) {
    try {
      workloads.push({ ...parseWorkload(item), namespace: namespace ?? 'default' });
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      reader.addError('workloads', error.expected, error.given, error.hint);
    }
  }

  if (!reader.has('manifests') && !reader.has('images')) {
    reader.addError(
      'manifests, images',
      'at least one of "manifests" and "images" to be set',
      undefined,
      'None is set: there is nothing to roll out',
    );
  }
  if (!reader.has('manifests') && reader.has('images') && !reader.has('workloads')) {
    reader.addError(
      'workloads',
      'the workloads whose containers "images" names (deployment/web…), since no manifests are given',
      undefined,
    );
  }

  let images: ImageChange[] = [];
  const manifestsReady = manifests !== undefined || !reader.has('manifests');
  if (imagesOk && manifestsReady) {
    const { changes, problems } = classifyImages(imageEntries, manifests);
    images = changes;
    for (const p of problems) reader.addError('images', IMAGES_KEY_EXPECTED, p.name, p.problem);
  }

  // With manifests the workloads are those of the manifests (all of them, or those listed).
  if (manifests !== undefined) {
    const inManifests = manifests
      .map((m) => ({ kind: workloadKindOf(m.object), object: m.object }))
      .filter((w): w is { kind: WorkloadKind; object: KubeObject } => w.kind !== undefined)
      .map((w) => ({
        kind: w.kind,
        name: w.object.metadata.name,
        namespace: w.object.metadata.namespace ?? 'default',
      }));
    if (workloadList === undefined) workloads.push(...inManifests);
    else {
      for (const w of workloads) {
        const found = inManifests.find((m) => m.kind === w.kind && m.name === w.name);
        if (found) w.namespace = found.namespace;
        else if (reader.has('images')) {
          // A listed workload outside the manifests gets its images set on the live object.
        } else {
          reader.addError(
            'workloads',
            'workloads that the manifests define',
            `${w.kind}/${w.name}`,
            'It is not in the manifests',
          );
        }
      }
    }
  }

  const timeoutMs = reader.duration('timeout', { min: 1000, max: 6 * 3600_000, default: 10 * 60_000 });
  const maxRestarts = reader.int('max-restarts', { min: 0, max: 1000, default: 3 });
  const rollbackOnFailure = reader.boolean('rollback-on-failure', { default: true });
  const changeCause = reader.has('change-cause')
    ? reader.raw('change-cause')
    : defaultChangeCause(options.env);
  const annotations =
    reader.keyValues('annotations', {
      keyPattern: METADATA_KEY,
      keyExpected: 'annotation keys ([prefix/]name, the name up to 63 letters, digits, - _ .)',
    }) ?? new Map<string, string>();
  const labels =
    reader.keyValues('labels', {
      keyPattern: METADATA_KEY,
      keyExpected: 'label keys ([prefix/]name, the name up to 63 letters, digits, - _ .)',
    }) ?? new Map<string, string>();
  for (const [key, value] of labels) {
    if (!LABEL_VALUE.test(value)) {
      reader.addError(
        'labels',
        'label values of up to 63 letters, digits, - _ . (starting and ending alphanumeric)',
        undefined,
        `The value of "${key}" is not one`,
      );
    }
  }

  const dryRun = reader.boolean('dry-run', { default: false });
  const preflight = reader.enum('preflight', ['on', 'warn', 'off'], { default: 'on' });
  const writeKubeconfig = reader.string('write-kubeconfig', {
    pattern: /^[^\0]+$/,
    expected: 'a file path for the kubeconfig',
  });
  const preDeployJob = reader.parsed('pre-deploy-job', PRE_DEPLOY_JOB_EXPECTED, (value) =>
    parsePreDeployJob(value, cwd, namespace),
  );
  const preDeployJobTimeoutMs = reader.duration('pre-deploy-job-timeout', {
    min: 1000,
    max: 6 * 3600_000,
    default: 10 * 60_000,
  });

  return reader.finish({
    cluster,
    region,
    namespace,
    manifests,
    serverSideApply: serverSideApply ?? true,
    fieldManager,
    forceConflicts,
    images,
    workloads,
    timeoutMs,
    maxRestarts,
    rollbackOnFailure,
    changeCause,
    annotations,
    labels,
    preDeployJob,
    preDeployJobTimeoutMs,
    dryRun,
    preflight,
    writeKubeconfig,
  });
}

export const PRE_DEPLOY_JOB_EXPECTED = 'the path of a YAML or JSON file holding one Job (batch/v1)';

/** One Job from a file, placed in its namespace (its own, else the namespace input, else default). */
export function parsePreDeployJob(value: string, cwd: string, namespace: string | undefined): KubeObject {
  let objects;
  try {
    objects = readManifests([value], cwd);
  } catch (error) {
    if (error instanceof ParseError) throw new ParseError(PRE_DEPLOY_JOB_EXPECTED, value, error.hint);
    throw error;
  }
  const job = objects[0]?.object;
  if (objects.length !== 1 || !job || job.kind !== 'Job' || job.apiVersion !== 'batch/v1') {
    throw new ParseError(
      PRE_DEPLOY_JOB_EXPECTED,
      value,
      objects.length !== 1
        ? `It holds ${objects.length} objects`
        : `It holds a ${job?.kind ?? '?'} (${job?.apiVersion ?? '?'})`,
    );
  }
  const own = job.metadata.namespace;
  if (own !== undefined && namespace !== undefined && own !== namespace) {
    throw new ParseError(
      PRE_DEPLOY_JOB_EXPECTED,
      value,
      `The Job is in namespace "${own}", not in "${namespace}" that the namespace input names`,
    );
  }
  return { ...job, metadata: { ...job.metadata, namespace: own ?? namespace ?? 'default' } };
}
