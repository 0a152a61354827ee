// The defaults kube-apiserver sets on the way in (pkg/apis/*/v1/defaults.go), so kubectl, the
// controllers and `kubectl get -o yaml` see what a real cluster shows. Applied to every written
// object (create, update, the result of a patch); each default only fills what is absent.
import type { KObject } from '../store.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
function ensure(parent: Obj, key: string): Obj {
  if (!parent[key] || typeof parent[key] !== 'object') parent[key] = {};
  return parent[key] as Obj;
}
const fill = (o: Obj, key: string, value: unknown) => {
  if (o[key] === undefined || o[key] === null) o[key] = value;
};

/** Always for `:latest` or no tag (digests pin: IfNotPresent), as the apiserver decides. */
export function pullPolicyOf(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.indexOf(':');
  return colon < 0 || last.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Obj): void {
  if (typeof c.image === 'string') fill(c, 'imagePullPolicy', pullPolicyOf(c.image));
  fill(c, 'terminationMessagePath', '/dev/termination-log');
  fill(c, 'terminationMessagePolicy', 'File');
  fill(c, 'resources', {});
  for (const port of Array.isArray(c.ports) ? c.ports : []) fill(obj(port), 'protocol', 'TCP');
}

export function defaultPodSpec(spec: Obj): void {
  fill(spec, 'restartPolicy', 'Always');
  fill(spec, 'terminationGracePeriodSeconds', 30);
  fill(spec, 'dnsPolicy', 'ClusterFirst');
  fill(spec, 'securityContext', {});
  fill(spec, 'schedulerName', 'default-scheduler');
  for (const list of ['containers', 'initContainers'])
    for (const c of Array.isArray(spec[list]) ? (spec[list] as unknown[]) : []) defaultContainer(obj(c));
}

function defaultTemplate(spec: Obj): void {
  const template = ensure(spec, 'template');
  defaultPodSpec(ensure(template, 'spec'));
}

let nextServiceIp = 1;

/** EKS's default service CIDR is 10.100.0.0/16. */
function allocateClusterIp(): string {
  const n = nextServiceIp++;
  return `10.100.${Math.floor(n / 250) % 256}.${(n % 250) + 1}`;
}

/**
 * Nulls go: the apiserver decodes into Go structs, where a null is the zero value and is not
 * written back (kubectl sends `creationTimestamp: null` in pod templates; a template hash must not
 * see it).
 */
export function dropNulls(value: unknown): void {
  if (Array.isArray(value)) value.forEach(dropNulls);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (v === null) delete (value as Obj)[k];
      else dropNulls(v);
    }
}

export function applyDefaults(object: KObject, existing?: KObject): void {
  dropNulls(object);
  const spec = object.spec !== undefined ? obj(object.spec) : undefined;
  switch (object.kind) {
    case 'Pod':
      if (spec) defaultPodSpec(spec);
      break;
    case 'Deployment': {
      const s = ensure(object, 'spec');
      fill(s, 'replicas', 1);
      const strategy = ensure(s, 'strategy');
      fill(strategy, 'type', 'RollingUpdate');
      if (strategy.type === 'RollingUpdate') {
        const rolling = ensure(strategy, 'rollingUpdate');
        fill(rolling, 'maxSurge', '25%');
        fill(rolling, 'maxUnavailable', '25%');
      }
      fill(s, 'revisionHistoryLimit', 10);
      fill(s, 'progressDeadlineSeconds', 600);
      defaultTemplate(s);
      break;
    }
    case 'ReplicaSet': {
      const s = ensure(object, 'spec');
      fill(s, 'replicas', 1);
      defaultTemplate(s);
      break;
    }
    case 'StatefulSet': {
      const s = ensure(object, 'spec');
      fill(s, 'replicas', 1);
      fill(s, 'podManagementPolicy', 'OrderedReady');
      const strategy = ensure(s, 'updateStrategy');
      fill(strategy, 'type', 'RollingUpdate');
      if (strategy.type === 'RollingUpdate') fill(ensure(strategy, 'rollingUpdate'), 'partition', 0);
      fill(s, 'revisionHistoryLimit', 10);
      fill(s, 'persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' });
      defaultTemplate(s);
      break;
    }
    case 'DaemonSet': {
      const s = ensure(object, 'spec');
      const strategy = ensure(s, 'updateStrategy');
      fill(strategy, 'type', 'RollingUpdate');
      if (strategy.type === 'RollingUpdate') {
        const rolling = ensure(strategy, 'rollingUpdate');
        fill(rolling, 'maxUnavailable', 1);
        fill(rolling, 'maxSurge', 0);
      }
      fill(s, 'revisionHistoryLimit', 10);
      defaultTemplate(s);
      break;
    }
    case 'Job': {
      const s = ensure(object, 'spec');
      fill(s, 'parallelism', 1);
      fill(s, 'completions', 1);
      fill(s, 'backoffLimit', 6);
      fill(s, 'completionMode', 'NonIndexed');
      fill(s, 'suspend', false);
      fill(s, 'podReplacementPolicy', 'TerminatingOrFailed');
      defaultTemplate(s);
      const template = ensure(s, 'template');
      fill(ensure(template, 'spec'), 'restartPolicy', 'Never');
      // The selector and the template's labels name the Job's uid (generated unless manualSelector).
      const uid = object.metadata.uid;
      if (uid && s.manualSelector !== true && !s.selector) {
        const name = object.metadata.name;
        s.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
        const labels = ensure(ensure(template, 'metadata'), 'labels');
        Object.assign(labels, {
          'batch.kubernetes.io/controller-uid': uid,
          'batch.kubernetes.io/job-name': name,
          'controller-uid': uid,
          'job-name': name,
        });
      }
      break;
    }
    case 'Service': {
      const s = ensure(object, 'spec');
      fill(s, 'type', 'ClusterIP');
      fill(s, 'sessionAffinity', 'None');
      fill(s, 'internalTrafficPolicy', 'Cluster');
      fill(s, 'ipFamilies', ['IPv4']);
      fill(s, 'ipFamilyPolicy', 'SingleStack');
      for (const port of Array.isArray(s.ports) ? s.ports : []) {
        const p = obj(port);
        fill(p, 'protocol', 'TCP');
        fill(p, 'targetPort', p.port);
      }
      // The cluster IP is allocated once and kept on every later write.
      const previous = existing ? obj(existing.spec).clusterIP : undefined;
      if (s.clusterIP === undefined || s.clusterIP === '') s.clusterIP = previous ?? allocateClusterIp();
      fill(s, 'clusterIPs', [s.clusterIP]);
      if (object.status === undefined) object.status = { loadBalancer: {} };
      break;
    }
    case 'Namespace': {
      const labels = (object.metadata.labels ??= {});
      labels['kubernetes.io/metadata.name'] = object.metadata.name;
      fill(ensure(object, 'spec'), 'finalizers', ['kubernetes']);
      if (!existing) object.status = { phase: 'Active' };
      break;
    }
    case 'Secret':
      fill(object, 'type', 'Opaque');
      break;
  }
}
