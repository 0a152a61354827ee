// Unknown fields, as the apiserver's decoder treats them (fieldValidation): Strict (what kubectl
// sends) refuses them with 400 "strict decoding error: unknown field \"spec.replica\"", Warn (the
// default) and Ignore drop them, Warn with a Warning header kubectl prints. Checked where this
// server knows every field of the struct (the workloads' specs, pod templates, containers, object
// metadata, the top level of the common kinds); elsewhere everything is kept.
import { badRequest } from '../errors.js';
import type { ResourceType } from '../resources.js';
import type { KObject } from '../store.js';

type Obj = Record<string, unknown>;
type Shape = { keys: readonly string[]; children?: Record<string, Shape | { list: Shape }> };

const META: Shape = {
  keys: [
    'name',
    'generateName',
    'namespace',
    'selfLink',
    'uid',
    'resourceVersion',
    'generation',
    'creationTimestamp',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'labels',
    'annotations',
    'ownerReferences',
    'finalizers',
    'managedFields',
  ],
};
const CONTAINER: Shape = {
  keys: [
    'name',
    'image',
    'command',
    'args',
    'workingDir',
    'ports',
    'envFrom',
    'env',
    'resources',
    'resizePolicy',
    'restartPolicy',
    'volumeMounts',
    'volumeDevices',
    'livenessProbe',
    'readinessProbe',
    'startupProbe',
    'lifecycle',
    'terminationMessagePath',
    'terminationMessagePolicy',
    'imagePullPolicy',
    'securityContext',
    'stdin',
    'stdinOnce',
    'tty',
  ],
};
const POD_SPEC: Shape = {
  keys: [
    'volumes',
    'initContainers',
    'containers',
    'ephemeralContainers',
    'restartPolicy',
    'terminationGracePeriodSeconds',
    'activeDeadlineSeconds',
    'dnsPolicy',
    'nodeSelector',
    'serviceAccountName',
    'serviceAccount',
    'automountServiceAccountToken',
    'nodeName',
    'hostNetwork',
    'hostPID',
    'hostIPC',
    'shareProcessNamespace',
    'securityContext',
    'imagePullSecrets',
    'hostname',
    'subdomain',
    'affinity',
    'schedulerName',
    'tolerations',
    'hostAliases',
    'priorityClassName',
    'priority',
    'dnsConfig',
    'readinessGates',
    'runtimeClassName',
    'enableServiceLinks',
    'preemptionPolicy',
    'overhead',
    'topologySpreadConstraints',
    'setHostnameAsFQDN',
    'os',
    'hostUsers',
    'schedulingGates',
    'resourceClaims',
    'resources',
  ],
  children: { containers: { list: CONTAINER }, initContainers: { list: CONTAINER } },
};
const TEMPLATE: Shape = { keys: ['metadata', 'spec'], children: { metadata: META, spec: POD_SPEC } };
const workload = (keys: string[]): Shape => ({ keys, children: { template: TEMPLATE } });
const top = (keys: string[], spec?: Shape): Shape => ({
  keys: ['apiVersion', 'kind', 'metadata', ...keys],
  children: { metadata: META, ...(spec ? { spec } : {}) },
});

const SHAPES: Record<string, Shape> = {
  Deployment: top(
    ['spec', 'status'],
    workload([
      'replicas',
      'selector',
      'template',
      'strategy',
      'minReadySeconds',
      'revisionHistoryLimit',
      'paused',
      'progressDeadlineSeconds',
    ]),
  ),
  ReplicaSet: top(['spec', 'status'], workload(['replicas', 'minReadySeconds', 'selector', 'template'])),
  StatefulSet: top(
    ['spec', 'status'],
    workload([
      'replicas',
      'selector',
      'template',
      'volumeClaimTemplates',
      'serviceName',
      'podManagementPolicy',
      'updateStrategy',
      'revisionHistoryLimit',
      'minReadySeconds',
      'persistentVolumeClaimRetentionPolicy',
      'ordinals',
    ]),
  ),
  DaemonSet: top(
    ['spec', 'status'],
    workload(['selector', 'template', 'updateStrategy', 'minReadySeconds', 'revisionHistoryLimit']),
  ),
  Job: top(
    ['spec', 'status'],
    workload([
      'parallelism',
      'completions',
      'activeDeadlineSeconds',
      'podFailurePolicy',
      'successPolicy',
      'backoffLimit',
      'backoffLimitPerIndex',
      'maxFailedIndexes',
      'selector',
      'manualSelector',
      'template',
      'ttlSecondsAfterFinished',
      'completionMode',
      'suspend',
      'podReplacementPolicy',
      'managedBy',
    ]),
  ),
  Pod: top(['spec', 'status'], POD_SPEC),
  ConfigMap: top(['data', 'binaryData', 'immutable']),
  Secret: top(['data', 'stringData', 'type', 'immutable']),
  Namespace: top(['spec', 'status']),
  Service: top(['spec', 'status']),
};

function unknown(value: unknown, shape: Shape, path: string, drop: boolean, out: string[]): void {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return;
  const object = value as Obj;
  for (const key of Object.keys(object)) {
    const here = path ? `${path}.${key}` : key;
    if (!shape.keys.includes(key)) {
      out.push(here);
      if (drop) delete object[key];
      continue;
    }
    const child = shape.children?.[key];
    if (!child) continue;
    if ('list' in child) {
      const list = object[key];
      if (Array.isArray(list))
        list.forEach((item, i) => unknown(item, child.list, `${here}[${i}]`, drop, out));
    } else unknown(object[key], child, here, drop, out);
  }
}

/**
 * Applies the request's fieldValidation to an object about to be stored: throws 400 for Strict,
 * otherwise drops the unknown fields and returns the warnings (Warn, the default) or none (Ignore).
 */
export function checkUnknownFields(type: ResourceType, object: KObject, directive: string | null): string[] {
  const shape = SHAPES[object.kind];
  if (!shape) return [];
  const mode = directive === 'Strict' || directive === 'Ignore' ? directive : 'Warn';
  const found: string[] = [];
  unknown(object, shape, '', mode !== 'Strict', found);
  if (found.length === 0) return [];
  const text = found.map((f) => `unknown field "${f}"`);
  if (mode === 'Strict')
    throw badRequest(
      `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${text.join(', ')}`,
    );
  return mode === 'Warn' ? text : [];
}
