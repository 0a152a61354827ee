// Server-side printing (meta.k8s.io/v1 Table), what `kubectl get` asks for: the columns and cells
// kube-apiserver's printers give each kind (pkg/printers/internalversion), so kubectl prints what
// a real cluster prints. Ages are measured on the cluster's clock, as the objects' timestamps are.
import type { KObject } from '../store.js';

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

const col = (name: string, type = 'string', priority = 0, format = ''): Column => ({
  name,
  type,
  format,
  description: `${name} of the object`,
  priority,
});
const NAME = col('Name', 'string', 0, 'name');
const AGE = col('Age');

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** apimachinery's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 192)
    return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const years = Math.floor(hours / 24 / 365);
  const days = Math.floor(hours / 24) % 365;
  if (hours < 24 * 365 * 8) return days === 0 ? `${years}y` : `${years}y${days}d`;
  return `${years}y`;
}

const since = (now: number, ts: string | undefined) =>
  ts ? humanDuration(now - Date.parse(ts)) : '<unknown>';

const containersOf = (spec: Any | undefined): Any[] => spec?.template?.spec?.containers ?? [];
const names = (cs: Any[]) => cs.map((c) => c.name).join(',');
const images = (cs: Any[]) => cs.map((c) => c.image).join(',');
function selectorText(selector: Any | undefined): string {
  if (!selector) return '<none>';
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.length ? parts.join(',') : '<none>';
}

/** kubectl's pod STATUS: the waiting/terminated reason of a container, Running, Completed, Terminating… */
export function podStatusReason(pod: Any): string {
  const status = pod.status ?? {};
  let reason: string = status.reason || status.phase || 'Pending';
  let initializing = false;
  const inits: Any[] = status.initContainerStatuses ?? [];
  inits.forEach((c, i) => {
    if (initializing) return;
    const t = c.state?.terminated;
    if (t && t.exitCode === 0) return;
    initializing = true;
    if (t)
      reason = t.reason
        ? `Init:${t.reason}`
        : t.signal
          ? `Init:Signal:${t.signal}`
          : `Init:ExitCode:${t.exitCode}`;
    else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing')
      reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${(pod.spec?.initContainers ?? []).length}`;
  });
  if (!initializing) {
    let hasRunning = false;
    const statuses: Any[] = [...(status.containerStatuses ?? [])].reverse();
    for (const c of statuses) {
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated)
        reason = c.state.terminated.signal
          ? `Signal:${c.state.terminated.signal}`
          : `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.ready && c.state?.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = (status.conditions ?? []).some((c: Any) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata?.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

function podRow(pod: Any, now: number): unknown[] {
  const statuses: Any[] = pod.status?.containerStatuses ?? [];
  const total = (pod.spec?.containers ?? []).length;
  const ready = statuses.filter((c) => c.ready).length;
  const restarts = statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const lastFinished = statuses
    .map((c) => c.lastState?.terminated?.finishedAt as string | undefined)
    .filter((t): t is string => !!t)
    .sort()
    .pop();
  const restartText =
    restarts > 0 && lastFinished ? `${restarts} (${since(now, lastFinished)} ago)` : `${restarts}`;
  return [
    pod.metadata.name,
    `${ready}/${total}`,
    podStatusReason(pod),
    restartText,
    since(now, pod.metadata.creationTimestamp),
    pod.status?.podIP || '<none>',
    pod.spec?.nodeName || '<none>',
    pod.status?.nominatedNodeName || '<none>',
    '<none>',
  ];
}

function servicePorts(spec: Any): string {
  const ports: Any[] = spec.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports
    .map((p) =>
      p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`,
    )
    .join(',');
}

function jobStatus(job: Any): string {
  const conditions: Any[] = job.status?.conditions ?? [];
  const has = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (has('Suspended')) return 'Suspended';
  if (has('FailureTarget')) return 'FailureTarget';
  return 'Running';
}

interface Printer {
  columns: Column[];
  row(o: Any, now: number): unknown[];
}

const PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [
      NAME,
      col('Ready'),
      col('Status'),
      col('Restarts', 'string'),
      AGE,
      col('IP', 'string', 1),
      col('Node', 'string', 1),
      col('Nominated Node', 'string', 1),
      col('Readiness Gates', 'string', 1),
    ],
    row: podRow,
  },
  Deployment: {
    columns: [
      NAME,
      col('Ready'),
      col('Up-to-date', 'integer'),
      col('Available', 'integer'),
      AGE,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    row: (d, now) => [
      d.metadata.name,
      `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
      d.status?.updatedReplicas ?? 0,
      d.status?.availableReplicas ?? 0,
      since(now, d.metadata.creationTimestamp),
      names(containersOf(d.spec)),
      images(containersOf(d.spec)),
      selectorText(d.spec?.selector),
    ],
  },
  ReplicaSet: {
    columns: [
      NAME,
      col('Desired', 'integer'),
      col('Current', 'integer'),
      col('Ready', 'integer'),
      AGE,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    row: (r, now) => [
      r.metadata.name,
      r.spec?.replicas ?? 0,
      r.status?.replicas ?? 0,
      r.status?.readyReplicas ?? 0,
      since(now, r.metadata.creationTimestamp),
      names(containersOf(r.spec)),
      images(containersOf(r.spec)),
      selectorText(r.spec?.selector),
    ],
  },
  StatefulSet: {
    columns: [NAME, col('Ready'), AGE, col('Containers', 'string', 1), col('Images', 'string', 1)],
    row: (s, now) => [
      s.metadata.name,
      `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 0}`,
      since(now, s.metadata.creationTimestamp),
      names(containersOf(s.spec)),
      images(containersOf(s.spec)),
    ],
  },
  DaemonSet: {
    columns: [
      NAME,
      col('Desired', 'integer'),
      col('Current', 'integer'),
      col('Ready', 'integer'),
      col('Up-to-date', 'integer'),
      col('Available', 'integer'),
      col('Node Selector'),
      AGE,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    row: (d, now) => [
      d.metadata.name,
      d.status?.desiredNumberScheduled ?? 0,
      d.status?.currentNumberScheduled ?? 0,
      d.status?.numberReady ?? 0,
      d.status?.updatedNumberScheduled ?? 0,
      d.status?.numberAvailable ?? 0,
      Object.entries(d.spec?.template?.spec?.nodeSelector ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || '<none>',
      since(now, d.metadata.creationTimestamp),
      names(containersOf(d.spec)),
      images(containersOf(d.spec)),
      selectorText(d.spec?.selector),
    ],
  },
  Job: {
    columns: [
      NAME,
      col('Status'),
      col('Completions'),
      col('Duration'),
      AGE,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    row: (j, now) => {
      const start = j.status?.startTime ? Date.parse(j.status.startTime) : undefined;
      const end = j.status?.completionTime ? Date.parse(j.status.completionTime) : now;
      return [
        j.metadata.name,
        jobStatus(j),
        `${j.status?.succeeded ?? 0}/${j.spec?.completions ?? 1}`,
        start === undefined ? '' : humanDuration(end - start),
        since(now, j.metadata.creationTimestamp),
        names(containersOf(j.spec)),
        images(containersOf(j.spec)),
        selectorText(j.spec?.selector),
      ];
    },
  },
  Service: {
    columns: [
      NAME,
      col('Type'),
      col('Cluster-IP'),
      col('External-IP'),
      col('Port(s)'),
      AGE,
      col('Selector', 'string', 1),
    ],
    row: (s, now) => [
      s.metadata.name,
      s.spec?.type ?? 'ClusterIP',
      s.spec?.clusterIP || '<none>',
      (s.status?.loadBalancer?.ingress ?? []).map((i: Any) => i.ip ?? i.hostname).join(',') ||
        (s.spec?.externalIPs ?? []).join(',') ||
        (s.spec?.type === 'LoadBalancer' ? '<pending>' : '<none>'),
      servicePorts(s.spec ?? {}),
      since(now, s.metadata.creationTimestamp),
      Object.entries(s.spec?.selector ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || '<none>',
    ],
  },
  Namespace: {
    columns: [NAME, col('Status'), AGE],
    row: (n, now) => [n.metadata.name, n.status?.phase ?? 'Active', since(now, n.metadata.creationTimestamp)],
  },
  Node: {
    columns: [
      NAME,
      col('Status'),
      col('Roles'),
      AGE,
      col('Version'),
      col('Internal-IP', 'string', 1),
      col('External-IP', 'string', 1),
      col('OS-Image', 'string', 1),
      col('Kernel-Version', 'string', 1),
      col('Container-Runtime', 'string', 1),
    ],
    row: (n, now) => {
      const ready = (n.status?.conditions ?? []).find((c: Any) => c.type === 'Ready');
      const address = (type: string) =>
        (n.status?.addresses ?? []).find((a: Any) => a.type === type)?.address ?? '<none>';
      const info = n.status?.nodeInfo ?? {};
      return [
        n.metadata.name,
        (ready?.status === 'True' ? 'Ready' : 'NotReady') +
          (n.spec?.unschedulable ? ',SchedulingDisabled' : ''),
        '<none>',
        since(now, n.metadata.creationTimestamp),
        info.kubeletVersion ?? '',
        address('InternalIP'),
        address('ExternalIP'),
        info.osImage ?? '<unknown>',
        info.kernelVersion ?? '<unknown>',
        info.containerRuntimeVersion ?? '<unknown>',
      ];
    },
  },
  Event: {
    columns: [
      col('Last Seen'),
      col('Type'),
      col('Reason'),
      col('Object'),
      col('Message'),
      col('Source', 'string', 1),
      col('First Seen', 'string', 1),
      col('Count', 'string', 1),
      col('Name', 'string', 1),
    ],
    row: (e, now) => {
      const last = e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
      const first = e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
      const involved = e.involvedObject ?? e.regarding ?? {};
      return [
        since(now, last),
        e.type ?? '',
        e.reason ?? '',
        `${String(involved.kind ?? '').toLowerCase()}/${involved.name ?? ''}`,
        e.message ?? e.note ?? '',
        e.source?.component ?? e.reportingController ?? '',
        since(now, first),
        e.count ?? 1,
        e.metadata.name,
      ];
    },
  },
  ConfigMap: {
    columns: [NAME, col('Data', 'integer'), AGE],
    row: (c, now) => [
      c.metadata.name,
      Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length,
      since(now, c.metadata.creationTimestamp),
    ],
  },
  Secret: {
    columns: [NAME, col('Type'), col('Data', 'integer'), AGE],
    row: (s, now) => [
      s.metadata.name,
      s.type ?? 'Opaque',
      Object.keys(s.data ?? {}).length,
      since(now, s.metadata.creationTimestamp),
    ],
  },
};

Object.assign(PRINTERS, {
  ServiceAccount: {
    columns: [NAME, col('Secrets', 'integer'), AGE],
    row: (s: Any, now: number) => [
      s.metadata.name,
      (s.secrets ?? []).length,
      since(now, s.metadata.creationTimestamp),
    ],
  },
  ControllerRevision: {
    columns: [NAME, col('Controller'), col('Revision', 'integer'), AGE],
    row: (c: Any, now: number) => {
      const owner = (c.metadata.ownerReferences ?? []).find((o: Any) => o.controller);
      const controller = owner
        ? `${String(owner.kind).toLowerCase()}.${String(owner.apiVersion).split('/')[0]}/${owner.name}`
        : '<none>';
      return [c.metadata.name, controller, c.revision ?? 0, since(now, c.metadata.creationTimestamp)];
    },
  },
  Ingress: {
    columns: [NAME, col('Class'), col('Hosts'), col('Address'), col('Ports'), AGE],
    row: (i: Any, now: number) => {
      const hosts = (i.spec?.rules ?? []).map((r: Any) => r.host ?? '*');
      const address = (i.status?.loadBalancer?.ingress ?? []).map((a: Any) => a.ip ?? a.hostname).join(',');
      return [
        i.metadata.name,
        i.spec?.ingressClassName ?? '<none>',
        hosts.length ? hosts.join(',') : '*',
        address,
        (i.spec?.tls ?? []).length ? '80, 443' : '80',
        since(now, i.metadata.creationTimestamp),
      ];
    },
  },
  HorizontalPodAutoscaler: {
    columns: [
      NAME,
      col('Reference'),
      col('Targets'),
      col('MinPods', 'integer'),
      col('MaxPods', 'integer'),
      col('Replicas', 'integer'),
      AGE,
    ],
    row: (h: Any, now: number) => {
      const ref = h.spec?.scaleTargetRef ?? {};
      const targets = (h.spec?.metrics ?? [])
        .map((m: Any) => {
          const target = m.resource?.target;
          const current = (h.status?.currentMetrics ?? []).find(
            (c: Any) => c.resource?.name === m.resource?.name,
          )?.resource?.current;
          if (target?.averageUtilization !== undefined)
            return `${m.resource.name}: ${current?.averageUtilization !== undefined ? `${current.averageUtilization}%` : '<unknown>'}/${target.averageUtilization}%`;
          return '<unknown>';
        })
        .join(', ');
      return [
        h.metadata.name,
        `${ref.kind}/${ref.name}`,
        targets || '<none>',
        h.spec?.minReplicas ?? 1,
        h.spec?.maxReplicas ?? 0,
        h.status?.currentReplicas ?? 0,
        since(now, h.metadata.creationTimestamp),
      ];
    },
  },
} satisfies Record<string, Printer>);

const GENERIC: Printer = {
  columns: [NAME, AGE],
  row: (o, now) => [o.metadata.name, since(now, o.metadata.creationTimestamp)],
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function toTable(
  kind: string,
  objects: KObject[],
  now: number,
  listMeta: Record<string, unknown>,
  include: IncludeObject,
): unknown {
  const printer = PRINTERS[kind] ?? GENERIC;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: printer.columns,
    rows: objects.map((o) => ({
      cells: printer.row(o as Any, now),
      ...(include === 'None'
        ? {}
        : {
            object:
              include === 'Object'
                ? o
                : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
          }),
    })),
  };
}
