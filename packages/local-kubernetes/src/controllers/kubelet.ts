// The kubelets of every node, on the clock: for each pod bound to a node, pull each container's
// image through host.resolveImage (ErrImagePull ⇄ ImagePullBackOff with a 10 s back-off doubling to
// 5 min), check the ConfigMaps and Secrets its env names (CreateContainerConfigError), start it,
// and run it as its image's labels script it — the labels local-aws's ECS reads:
//   local-aws.exit-after=30s  exits 30 s after it starts, with local-aws.exit-code (default 0)
//   local-aws.exit-code=3     alone: exits with it as soon as it starts
//   local-aws.oom=true        is OOMKilled (exit 137), at exit-after or at once
//   local-aws.health=fail     its readiness probe fails (Ready False, Unhealthy events); its liveness
//                             probe fails and the container is restarted
//   local-aws.start-delay=90s takes 90 s longer to start
//   local-aws.ignore-sigterm  stopping takes the whole grace period (exit 137)
// A Job's pod (a one-off, like an ECS RunTask task) also exits as its command says when the whole
// command is exactly `sleep N`, `exit N` or `sleep N; exit N` (as words, or the script of `sh -c`),
// the one form local-aws's ECS documents: nothing is guessed from any other command.
// Restarts follow restartPolicy, with the kubelet's crash back-off (restart at once the first time,
// then 10 s doubling to 5 min; reset after 10 min of running). Status, conditions and events are the
// kubelet's; each container writes a few log lines (kubectl logs, --previous).
import { createHash, randomBytes } from 'node:crypto';
import type { ImageInfo } from '../host.js';
import type { Change, KObject } from '../store.js';
import { timestamp } from '../store.js';
import { parseDurationMs } from './labels.js';
import { nodeIpOf } from './nodes.js';
import {
  isTerminal,
  setCondition,
  specOf,
  statusOf,
  type Condition,
  type Container,
  type Probe,
} from './pods.js';
import type { Runtime, Timer } from './runtime.js';
import { T } from './types.js';

/** How long a pull of a present image takes, and a stop of a container that heeds SIGTERM. */
const PULL_MS = 1000;
const STOP_MS = 1000;
const BACKOFF_INITIAL_MS = 10_000;
const BACKOFF_MAX_MS = 300_000;
/** A failing container config (missing ConfigMap key) is retried on the kubelet's next sync. */
const CONFIG_RETRY_MS = 10_000;

type State =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: Terminated };

interface Terminated {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt?: string;
  finishedAt: string;
  containerID?: string;
}

interface Run {
  spec: Container;
  name: string;
  image: string;
  state: State;
  lastState: { terminated?: Terminated };
  restartCount: number;
  ready: boolean;
  started: boolean;
  containerID?: string;
  imageID?: string;
  info?: ImageInfo;
  pullBackoffMs: number;
  crash?: { backoffMs: number; lastUpdate: number };
  /** The running instance's timers (exit, probes), cancelled when it stops. */
  timers: Timer[];
  /** Bumped for each attempt, so a late promise or timer of an earlier one does nothing. */
  attempt: number;
  startedAtMs?: number;
  /** An init container: runs to completion, in order, before the containers start. */
  init?: boolean;
}

interface PodRun {
  uid: string;
  namespace: string;
  name: string;
  node: string;
  ip: string;
  hostIP: string;
  startTime: string;
  runs: Run[];
  inits: Run[];
  terminating: boolean;
  finished: boolean;
  /** Owned by a Job: its containers may script themselves by the one-off command form. */
  oneOff: boolean;
}

const ref = (run: Run) => `spec.${run.init ? 'initContainers' : 'containers'}{${run.name}}`;
const everyRun = (p: PodRun) => [...p.inits, ...p.runs];
const completed = (run: Run) => 'terminated' in run.state && run.state.terminated.exitCode === 0;

/** imagePullPolicy's default: Always for :latest or no tag, IfNotPresent otherwise. */
function pullPolicy(c: Container): string {
  if (c.imagePullPolicy) return c.imagePullPolicy;
  const image = c.image ?? '';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

const repositoryOf = (image: string) => {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(0, at);
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(0, colon) : image;
};

// distribution/reference's grammar: [domain[:port]/]path[:tag][@digest], path components lowercase.
const DOMAIN =
  '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?';
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*';
const REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);
export const validReference = (image: string) =>
  image.length > 0 && image.length <= 255 + 128 + 80 && REFERENCE.test(image);

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

export interface Kubelet {
  onChange(change: Change): void;
}

export function startKubelet(rt: Runtime): Kubelet {
  const pods = new Map<string, PodRun>();
  /** Images present on each node (IfNotPresent pulls nothing the second time). */
  const images = new Map<string, Map<string, ImageInfo>>();
  const podIps = new Map<string, number>();

  const current = (p: PodRun) => rt.store.get(T.pods, p.namespace, p.name);
  const live = (p: PodRun) => pods.get(p.uid) === p && !rt.isStopped;

  const event = (
    p: PodRun,
    run: Run | undefined,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ) => {
    const pod = current(p);
    if (!pod) return;
    rt.events.record(pod, {
      type,
      reason,
      message,
      component: 'kubelet',
      host: p.node,
      ...(run ? { fieldPath: ref(run) } : {}),
    });
  };

  const log = (p: PodRun, run: Run, text: string) =>
    rt.logs.append(p.namespace, p.name, run.name, { time: rt.now(), text });

  const labels = (run: Run) => run.info?.labels ?? {};

  // --- status -------------------------------------------------------------------------------

  function phaseOf(p: PodRun, restartPolicy: string): string {
    if (!p.inits.every(completed)) {
      const failed = p.inits.some((r) => 'terminated' in r.state && r.state.terminated.exitCode !== 0);
      return failed && restartPolicy === 'Never' ? 'Failed' : 'Pending';
    }
    let running = 0;
    let waiting = 0;
    let stopped = 0;
    let succeeded = 0;
    for (const run of p.runs) {
      if ('running' in run.state) running++;
      else if ('terminated' in run.state) {
        stopped++;
        if (run.state.terminated.exitCode === 0) succeeded++;
      } else if (run.lastState.terminated) stopped++;
      else waiting++;
    }
    if (waiting > 0) return 'Pending';
    if (running > 0) return 'Running';
    if (stopped > 0) {
      if (restartPolicy === 'Always') return 'Running';
      if (stopped === succeeded) return 'Succeeded';
      if (restartPolicy === 'OnFailure') return 'Running';
      return 'Failed';
    }
    return 'Pending';
  }

  const containerStatus = (run: Run) => ({
    name: run.name,
    state: run.state,
    lastState: run.lastState,
    ready: run.ready,
    restartCount: run.restartCount,
    image: run.image,
    imageID: run.imageID ?? '',
    ...(run.containerID ? { containerID: run.containerID } : {}),
    started: run.started,
  });

  function writeStatus(p: PodRun): void {
    if (!live(p)) return;
    const pod = current(p);
    if (!pod || pod.metadata.uid !== p.uid) return;
    const spec = specOf(pod);
    const restartPolicy = spec.restartPolicy ?? 'Always';
    const phase = phaseOf(p, restartPolicy);
    const terminal = phase === 'Succeeded' || phase === 'Failed';
    if (terminal) p.finished = true;
    const now = timestamp(rt.now());
    const unready = p.runs.filter((r) => !r.ready).map((r) => r.name);
    const readyCondition = (type: string): Condition =>
      terminal
        ? { type, status: 'False', lastProbeTime: null, lastTransitionTime: now, reason: 'PodCompleted' }
        : unready.length === 0
          ? { type, status: 'True', lastProbeTime: null, lastTransitionTime: now }
          : {
              type,
              status: 'False',
              lastProbeTime: null,
              lastTransitionTime: now,
              reason: 'ContainersNotReady',
              message: `containers with unready status: [${unready.join(' ')}]`,
            };
    const previous = (statusOf(pod).conditions ?? []) as Condition[];
    let conditions: Condition[] = [];
    const keep = (next: Condition) => {
      const before = previous.find((c) => c.type === next.type);
      conditions = setCondition(
        conditions,
        before && before.status === next.status
          ? { ...next, lastTransitionTime: before.lastTransitionTime ?? now }
          : next,
      );
    };
    keep({
      type: 'PodReadyToStartContainers',
      status: terminal ? 'False' : 'True',
      lastProbeTime: null,
      lastTransitionTime: now,
    });
    const incomplete = p.inits.filter((r) => !completed(r)).map((r) => r.name);
    keep(
      incomplete.length === 0
        ? { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: now }
        : {
            type: 'Initialized',
            status: 'False',
            lastProbeTime: null,
            lastTransitionTime: now,
            reason: 'ContainersNotInitialized',
            message: `containers with incomplete status: [${incomplete.join(' ')}]`,
          },
    );
    keep(readyCondition('Ready'));
    keep(readyCondition('ContainersReady'));
    const scheduled = previous.find((c) => c.type === 'PodScheduled');
    conditions.push(
      scheduled ?? { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now },
    );
    const requests = spec.containers.map((c) => c.resources ?? {});
    const qosClass = requests.every((r) => !r.requests && !r.limits)
      ? 'BestEffort'
      : requests.every(
            (r) =>
              r.limits &&
              ['cpu', 'memory'].every(
                (k) => r.limits![k] && (r.requests?.[k] ?? r.limits![k]) === r.limits![k],
              ),
          )
        ? 'Guaranteed'
        : 'Burstable';
    const status = {
      ...statusOf(pod),
      phase,
      conditions,
      hostIP: p.hostIP,
      hostIPs: [{ ip: p.hostIP }],
      podIP: p.ip,
      podIPs: [{ ip: p.ip }],
      startTime: p.startTime,
      ...(p.inits.length ? { initContainerStatuses: p.inits.map(containerStatus) } : {}),
      containerStatuses: p.runs.map(containerStatus),
      qosClass,
    };
    rt.store.update(T.pods, { ...pod, status }, { subresource: 'status' });
  }

  // --- one container's life -----------------------------------------------------------------

  function start(p: PodRun, run: Run): void {
    const attempt = ++run.attempt;
    if (!validReference(run.image)) {
      // The kubelet cannot even name what to pull: InvalidImageName, for good (the spec must change).
      const message = `Failed to apply default image tag "${run.image}": couldn't parse image name "${run.image}": invalid reference format`;
      run.state = { waiting: { reason: 'InvalidImageName', message } };
      event(p, run, 'Warning', 'InspectFailed', message);
      event(p, run, 'Warning', 'Failed', 'Error: InvalidImageName');
      writeStatus(p);
      return;
    }
    const present = images.get(p.node)?.get(run.image);
    if (present && pullPolicy(run.spec) !== 'Always') {
      run.info = present;
      event(p, run, 'Normal', 'Pulled', `Container image "${run.image}" already present on machine`);
      return create(p, run);
    }
    event(p, run, 'Normal', 'Pulling', `Pulling image "${run.image}"`);
    const resolve = rt.host.resolveImage
      ? rt.host.resolveImage(run.image)
      : Promise.resolve<ImageInfo>({
          digest: `sha256:${createHash('sha256').update(run.image).digest('hex')}`,
          labels: {},
        });
    resolve.then(
      (info) => rt.after(PULL_MS, () => pulled(p, run, attempt, info)),
      () => rt.after(PULL_MS, () => pulled(p, run, attempt, undefined)),
    );
  }

  function pulled(p: PodRun, run: Run, attempt: number, info: ImageInfo | undefined): void {
    if (!live(p) || p.terminating || run.attempt !== attempt) return;
    if (!info) {
      const error =
        `rpc error: code = NotFound desc = failed to pull and unpack image "${run.image}": ` +
        `failed to resolve reference "${run.image}": ${run.image}: not found`;
      event(p, run, 'Warning', 'Failed', `Failed to pull image "${run.image}": ${error}`);
      event(p, run, 'Warning', 'Failed', 'Error: ErrImagePull');
      run.state = { waiting: { reason: 'ErrImagePull', message: error } };
      writeStatus(p);
      const wait = run.pullBackoffMs ? Math.min(run.pullBackoffMs * 2, BACKOFF_MAX_MS) : BACKOFF_INITIAL_MS;
      run.pullBackoffMs = wait;
      // The kubelet's next sync finds the image in back-off: ImagePullBackOff until it expires.
      rt.after(PULL_MS, () => {
        if (!live(p) || p.terminating || run.attempt !== attempt) return;
        const message = `Back-off pulling image "${run.image}"`;
        run.state = { waiting: { reason: 'ImagePullBackOff', message } };
        event(p, run, 'Normal', 'BackOff', message);
        event(p, run, 'Warning', 'Failed', 'Error: ImagePullBackOff');
        writeStatus(p);
      });
      rt.after(wait, () => {
        if (live(p) && !p.terminating && run.attempt === attempt) start(p, run);
      });
      return;
    }
    run.info = info;
    run.pullBackoffMs = 0;
    let cache = images.get(p.node);
    if (!cache) images.set(p.node, (cache = new Map()));
    cache.set(run.image, info);
    event(
      p,
      run,
      'Normal',
      'Pulled',
      `Successfully pulled image "${run.image}" in 1s (1s including waiting). Image size: ${info.size ?? 0} bytes.`,
    );
    create(p, run);
  }

  /** The env's ConfigMap and Secret references, as the kubelet resolves them: the first error. */
  function configError(p: PodRun, c: Container): string | undefined {
    const lookup = (kind: 'ConfigMap' | 'Secret', name: string) =>
      rt.store.get(kind === 'ConfigMap' ? T.configmaps : T.secrets, p.namespace, name);
    const missing = (kind: 'ConfigMap' | 'Secret', name: string) =>
      `${kind === 'ConfigMap' ? 'configmap' : 'secret'} "${name}" not found`;
    for (const from of c.envFrom ?? []) {
      for (const [kind, r] of [
        ['ConfigMap', from.configMapRef],
        ['Secret', from.secretRef],
      ] as const) {
        if (r && !r.optional && !lookup(kind, r.name)) return missing(kind, r.name);
      }
    }
    for (const e of c.env ?? []) {
      for (const [kind, r] of [
        ['ConfigMap', e.valueFrom?.configMapKeyRef],
        ['Secret', e.valueFrom?.secretKeyRef],
      ] as const) {
        if (!r || !r.name) continue;
        const object = lookup(kind, r.name);
        if (!object) {
          if (r.optional) continue;
          return missing(kind, r.name);
        }
        const data = {
          ...((object.data as Record<string, string>) ?? {}),
          ...((object.binaryData as Record<string, string>) ?? {}),
        };
        if (r.key !== undefined && !(r.key in data) && !r.optional)
          return `couldn't find key ${r.key} in ${kind} ${p.namespace}/${r.name}`;
      }
    }
    return undefined;
  }

  function create(p: PodRun, run: Run): void {
    if (!live(p) || p.terminating) return;
    const attempt = run.attempt;
    const error = configError(p, run.spec);
    if (error) {
      run.state = { waiting: { reason: 'CreateContainerConfigError', message: error } };
      event(p, run, 'Warning', 'Failed', `Error: ${error}`);
      writeStatus(p);
      rt.afterKeyed(`kubelet/config/${p.uid}/${run.name}`, CONFIG_RETRY_MS, () => {
        if (live(p) && run.attempt === attempt) create(p, run);
      });
      return;
    }
    rt.cancelKeyed(`kubelet/config/${p.uid}/${run.name}`);
    run.containerID = `containerd://${hex(32)}`;
    run.imageID = `${repositoryOf(run.image)}@${run.info?.digest ?? ''}`;
    event(p, run, 'Normal', 'Created', `Created container ${run.name}`);
    const delay = parseDurationMs(labels(run)['local-aws.start-delay']) ?? 0;
    // Out of an image or config error, the container is being created again; a restart keeps
    // showing its CrashLoopBackOff or terminated state until it runs.
    if (
      'waiting' in run.state &&
      !['ContainerCreating', 'CrashLoopBackOff'].includes(run.state.waiting.reason)
    ) {
      run.state = { waiting: { reason: 'ContainerCreating' } };
      writeStatus(p);
    }
    const go = () => {
      if (live(p) && !p.terminating && run.attempt === attempt) running(p, run);
    };
    if (delay > 0) rt.after(delay, go);
    else go();
  }

  function running(p: PodRun, run: Run): void {
    const l = labels(run);
    run.startedAtMs = rt.now();
    run.state = { running: { startedAt: timestamp(rt.now()) } };
    run.started = true;
    run.ready = !run.spec.readinessProbe && !run.init;
    event(p, run, 'Normal', 'Started', `Started container ${run.name}`);
    const scripted = p.oneOff && !run.init ? oneOffCommand(run.spec) : undefined;
    const exitAfter = scripted ? scripted.afterMs : parseDurationMs(l['local-aws.exit-after']);
    const oom = l['local-aws.oom'] === 'true';
    const exitCode = scripted
      ? scripted.code
      : l['local-aws.exit-code'] !== undefined
        ? Number(l['local-aws.exit-code']) || 0
        : undefined;
    log(p, run, `container ${run.name} started from ${run.image} (${run.imageID})`);
    const attempt = run.attempt;
    const at = (ms: number, fn: () => void) =>
      run.timers.push(
        rt.after(ms, () => {
          if (live(p) && run.attempt === attempt && 'running' in run.state) fn();
        }),
      );
    if (oom) {
      log(
        p,
        run,
        `allocating memory until the ${run.spec.resources?.limits?.memory ?? 'node'} limit is reached`,
      );
      at(exitAfter ?? 0, () => exited(p, run, 137, 'OOMKilled'));
    } else if (exitAfter !== undefined || exitCode !== undefined) {
      log(p, run, `working; will exit with code ${exitCode ?? 0} after ${(exitAfter ?? 0) / 1000}s`);
      at(exitAfter ?? 0, () => exited(p, run, exitCode ?? 0));
    } else {
      log(p, run, 'serving until stopped');
    }
    const failing = l['local-aws.health'] === 'fail';
    const probeMessage = (kind: string, probe: Probe) =>
      probe.httpGet
        ? `${kind} probe failed: HTTP probe failed with statuscode: 503`
        : probe.tcpSocket
          ? `${kind} probe failed: dial tcp ${p.ip}:${probe.tcpSocket.port}: connect: connection refused`
          : // An exec probe's event carries the command's output, which a scripted image does not have.
            `${kind} probe failed: `;
    const readiness = run.init ? undefined : run.spec.readinessProbe;
    if (readiness) {
      const period = (readiness.periodSeconds ?? 10) * 1000;
      const first = (readiness.initialDelaySeconds ?? 0) * 1000 + period;
      if (failing) {
        const probe = () => {
          event(p, run, 'Warning', 'Unhealthy', probeMessage('Readiness', readiness));
          at(period, probe);
        };
        at(first, probe);
      } else {
        at(first, () => {
          run.ready = true;
          writeStatus(p);
        });
      }
    }
    const liveness = run.init ? undefined : run.spec.livenessProbe;
    if (liveness && failing) {
      const period = (liveness.periodSeconds ?? 10) * 1000;
      const threshold = liveness.failureThreshold ?? 3;
      let failures = 0;
      const probe = () => {
        failures++;
        event(p, run, 'Warning', 'Unhealthy', probeMessage('Liveness', liveness));
        if (failures >= threshold) {
          event(
            p,
            run,
            'Normal',
            'Killing',
            `Container ${run.name} failed liveness probe, will be restarted`,
          );
          at(STOP_MS, () => exited(p, run, 137, 'Error'));
        } else at(period, probe);
      };
      at((liveness.initialDelaySeconds ?? 0) * 1000 + period, probe);
    }
    writeStatus(p);
  }

  function stopTimers(run: Run): void {
    for (const timer of run.timers.splice(0)) timer.cancel();
  }

  function exited(p: PodRun, run: Run, exitCode: number, reason?: string): void {
    stopTimers(run);
    const startedAt = 'running' in run.state ? run.state.running.startedAt : undefined;
    const finished = rt.now();
    const terminated: Terminated = {
      exitCode,
      reason: reason ?? (exitCode === 0 ? 'Completed' : 'Error'),
      ...(startedAt ? { startedAt } : {}),
      finishedAt: timestamp(finished),
      ...(run.containerID ? { containerID: run.containerID } : {}),
    };
    run.state = { terminated };
    // A completed init container reports ready; the next one (or the containers) start.
    run.ready = !!run.init && exitCode === 0 && !p.terminating;
    log(p, run, reason === 'OOMKilled' ? 'killed: out of memory' : `exited with code ${exitCode}`);
    writeStatus(p);
    if (p.terminating) return maybeGone(p);
    if (run.init && exitCode === 0) {
      const next = p.inits.find((r) => !completed(r));
      if (next) start(p, next);
      else for (const r of p.runs) start(p, r);
      return;
    }
    const pod = current(p);
    const policy = (pod ? specOf(pod).restartPolicy : undefined) ?? 'Always';
    if (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0)) return;
    // The kubelet's container back-off (flowcontrol.Backoff keyed by pod and container): no entry,
    // restart at once; in back-off, CrashLoopBackOff until it expires, then twice as long next time;
    // an entry older than twice the maximum (10 min) is forgotten.
    if (run.crash && finished - run.crash.lastUpdate > 2 * BACKOFF_MAX_MS) run.crash = undefined;
    if (!run.crash) {
      run.crash = { backoffMs: BACKOFF_INITIAL_MS, lastUpdate: finished };
      return restart(p, run);
    }
    const wait = run.crash.backoffMs;
    const podRef = `${p.name}_${p.namespace}(${p.uid})`;
    const goDuration =
      wait >= 60_000 ? `${Math.floor(wait / 60_000)}m${(wait % 60_000) / 1000}s` : `${wait / 1000}s`;
    run.lastState = { terminated };
    run.state = {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `back-off ${goDuration} restarting failed container=${run.name} pod=${podRef}`,
      },
    };
    event(p, run, 'Warning', 'BackOff', `Back-off restarting failed container ${run.name} in pod ${podRef}`);
    writeStatus(p);
    const attempt = run.attempt;
    run.timers.push(
      rt.after(wait, () => {
        if (!live(p) || p.terminating || run.attempt !== attempt) return;
        run.crash = { backoffMs: Math.min(wait * 2, BACKOFF_MAX_MS), lastUpdate: rt.now() };
        restart(p, run);
      }),
    );
  }

  function restart(p: PodRun, run: Run): void {
    if ('terminated' in run.state) run.lastState = { terminated: run.state.terminated };
    run.restartCount++;
    rt.logs.restarted(p.namespace, p.name, run.name);
    run.attempt++;
    event(p, run, 'Normal', 'Pulled', `Container image "${run.image}" already present on machine`);
    create(p, run);
  }

  // --- pods ---------------------------------------------------------------------------------

  const newRun = (c: Container, init: boolean, initializing: boolean): Run => ({
    spec: c,
    name: c.name,
    image: c.image ?? '',
    state: { waiting: { reason: initializing ? 'PodInitializing' : 'ContainerCreating' } },
    lastState: {},
    restartCount: 0,
    ready: false,
    started: false,
    pullBackoffMs: 0,
    timers: [],
    attempt: 0,
    ...(init ? { init } : {}),
  });

  function admit(pod: KObject): void {
    const spec = specOf(pod);
    const initContainers = (spec as { initContainers?: Container[] }).initContainers ?? [];
    const node = rt.store.get(T.nodes, undefined, spec.nodeName!);
    const hostIP = node ? nodeIpOf(node) : '10.0.0.1';
    const [a, b, c] = hostIP.split('.');
    const n = (podIps.get(spec.nodeName!) ?? 0) + 1;
    podIps.set(spec.nodeName!, n);
    const p: PodRun = {
      uid: pod.metadata.uid,
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name,
      node: spec.nodeName!,
      hostIP,
      ip: `${a}.${b}.${c}.${100 + ((n - 1) % 150)}`,
      startTime: timestamp(rt.now()),
      oneOff: (pod.metadata.ownerReferences ?? []).some((o) => o.kind === 'Job' && o.controller),
      terminating: false,
      finished: false,
      runs: (spec.containers ?? []).map((c) => newRun(c, false, initContainers.length > 0)),
      inits: initContainers.map((c) => newRun(c, true, true)),
    };
    pods.set(p.uid, p);
    writeStatus(p);
    if (p.inits.length) start(p, p.inits[0]!);
    else for (const run of p.runs) start(p, run);
  }

  /** Deletion: stop every container (SIGTERM; the grace period for one that ignores it), then remove the pod. */
  function terminate(p: PodRun, pod: KObject): void {
    p.terminating = true;
    const grace =
      ((pod.metadata as { deletionGracePeriodSeconds?: number }).deletionGracePeriodSeconds ?? 30) * 1000;
    for (const run of everyRun(p)) {
      run.attempt++;
      if (!('running' in run.state)) {
        stopTimers(run);
        if (!('terminated' in run.state))
          run.state = {
            terminated: { exitCode: 0, reason: 'ContainerStatusUnknown', finishedAt: timestamp(rt.now()) },
          };
        continue;
      }
      stopTimers(run);
      event(p, run, 'Normal', 'Killing', `Stopping container ${run.name}`);
      const stubborn = labels(run)['local-aws.ignore-sigterm'] === 'true';
      run.timers.push(
        rt.after(stubborn ? grace : Math.min(STOP_MS, grace), () => {
          if (live(p) && 'running' in run.state)
            exited(p, run, stubborn ? 137 : 0, stubborn ? 'Error' : undefined);
        }),
      );
    }
    maybeGone(p);
  }

  function maybeGone(p: PodRun): void {
    if (everyRun(p).some((r) => 'running' in r.state)) return;
    const pod = current(p);
    if (pod && pod.metadata.uid === p.uid) rt.store.delete(T.pods, p.namespace, p.name);
  }

  /**
   * A container's image is the one thing of a pod's spec that may change (kubectl set image on a
   * pod): the kubelet kills the container and starts it again from the new image, at once.
   */
  function specChanged(p: PodRun, pod: KObject): void {
    const specs = [
      ...((specOf(pod) as { initContainers?: Container[] }).initContainers ?? []),
      ...specOf(pod).containers,
    ];
    for (const run of everyRun(p)) {
      const next = specs.find((c) => c.name === run.name);
      if (!next || (next.image ?? '') === run.image || (run.init && completed(run))) continue;
      stopTimers(run);
      rt.cancelKeyed(`kubelet/config/${p.uid}/${run.name}`);
      if ('running' in run.state) {
        event(p, run, 'Normal', 'Killing', `Container ${run.name} definition changed, will be restarted`);
        run.lastState = {
          terminated: {
            exitCode: 0,
            reason: 'Completed',
            startedAt: run.state.running.startedAt,
            finishedAt: timestamp(rt.now()),
            ...(run.containerID ? { containerID: run.containerID } : {}),
          },
        };
        log(p, run, 'received SIGTERM, exiting');
        run.restartCount++;
        rt.logs.restarted(p.namespace, p.name, run.name);
      }
      run.spec = next;
      run.image = next.image ?? '';
      run.info = undefined;
      run.ready = false;
      run.pullBackoffMs = 0;
      run.state = { waiting: { reason: 'ContainerCreating' } };
      writeStatus(p);
      // Init containers still to come start in their turn; others start now.
      if (!run.init || p.inits.find((r) => !completed(r)) === run) start(p, run);
    }
  }

  function forget(uid: string): void {
    const p = pods.get(uid);
    if (!p) return;
    for (const run of everyRun(p)) stopTimers(run);
    for (const run of everyRun(p)) rt.cancelKeyed(`kubelet/config/${p.uid}/${run.name}`);
    pods.delete(uid);
    rt.logs.forget(p.namespace, p.name);
  }

  return {
    onChange(change) {
      if (change.resource === 'configmaps' || change.resource === 'secrets') {
        // A ConfigMap or Secret that appears lets waiting containers of its namespace start.
        for (const p of pods.values()) {
          if (p.namespace !== change.object.metadata.namespace || p.terminating) continue;
          for (const run of everyRun(p))
            if ('waiting' in run.state && run.state.waiting.reason === 'CreateContainerConfigError')
              create(p, run);
        }
        return;
      }
      if (change.resource !== 'pods') return;
      const pod = change.object;
      if (change.type === 'DELETED') return forget(pod.metadata.uid);
      const p = pods.get(pod.metadata.uid);
      if (pod.metadata.deletionTimestamp) {
        if (!p) {
          // Never started here (or the kubelet has finished it): nothing to stop.
          if (
            rt.store.get(T.pods, pod.metadata.namespace, pod.metadata.name)?.metadata.uid === pod.metadata.uid
          )
            rt.store.delete(T.pods, pod.metadata.namespace, pod.metadata.name);
          return;
        }
        if (p.finished) return maybeGone(p);
        if (!p.terminating) terminate(p, pod);
        return;
      }
      if (!p && specOf(pod).nodeName && !isTerminal(pod)) admit(pod);
      else if (p && !p.terminating && !p.finished) specChanged(p, pod);
    },
  };
}

/**
 * A one-off container's command in the documented form — `sleep N`, `exit N` or `sleep N; exit N`
 * as its whole command (command then args), or as the script of `sh -c` / `/bin/sh -c` — as when it
 * exits (ms after it starts) and with which code; undefined for any other command.
 */
export function oneOffCommand(container: {
  command?: string[];
  args?: string[];
}): { afterMs: number; code: number } | undefined {
  const words = [...(container.command ?? []), ...(container.args ?? [])];
  if (words.length === 0) return undefined;
  const script = /^(\/bin\/)?sh$/.test(words[0]!) && words[1] === '-c' ? words[2] : words.join(' ');
  if (script === undefined) return undefined;
  const m = /^\s*(?:sleep\s+(\d+(?:\.\d+)?)\s*(?:;\s*exit\s+(\d{1,3})\s*)?|exit\s+(\d{1,3})\s*)$/.exec(
    script,
  );
  if (!m) return undefined;
  const code = Number(m[2] ?? m[3] ?? 0);
  if (code > 255) return undefined;
  return { afterMs: m[1] !== undefined ? Math.round(Number(m[1]) * 1000) : 0, code };
}
