// pods/log: what the kubelet answers through the apiserver (text/plain), with its checks and
// words: which container (400 naming the choices when the pod has several), whether it has run
// (waiting → 400 "is waiting to start: …"), `previous`, `tailLines`, `sinceSeconds`/`sinceTime`,
// `timestamps`, `limitBytes`, and `follow` (streams until the container stops or the client leaves).
import { badRequest } from '../errors.js';
import type { LogLine } from '../logs.js';
import type { KObject } from '../store.js';
import type { ApiRequest } from './http.js';

interface ContainerStatus {
  name: string;
  state?: { waiting?: { reason?: string }; running?: object; terminated?: object };
  lastState?: { terminated?: object };
}

const FOLLOW_POLL_MS = 100;

function chooseContainer(pod: KObject, asked: string | null): string {
  const spec = (pod.spec ?? {}) as {
    containers?: Array<{ name: string }>;
    initContainers?: Array<{ name: string }>;
  };
  const containers = (spec.containers ?? []).map((c) => c.name);
  const inits = (spec.initContainers ?? []).map((c) => c.name);
  if (asked) {
    if (!containers.includes(asked) && !inits.includes(asked))
      throw badRequest(`container ${asked} is not valid for pod ${pod.metadata.name}`);
    return asked;
  }
  const byAnnotation = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  if (byAnnotation && containers.includes(byAnnotation)) return byAnnotation;
  if (containers.length === 1) return containers[0]!;
  throw badRequest(
    `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${containers.join(' ')}]` +
      (inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : ''),
  );
}

function statusOf(pod: KObject, container: string): ContainerStatus | undefined {
  const status = (pod.status ?? {}) as {
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
  return [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? [])].find(
    (s) => s.name === container,
  );
}

/** Which instance's lines to read, or the kubelet's refusal. */
function instance(
  pod: KObject,
  container: string,
  previous: boolean,
): 'current' | 'previous' | 'last' | 'none' {
  const status = statusOf(pod, container);
  const name = pod.metadata.name;
  if (previous) {
    if (!status?.lastState?.terminated)
      throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    return 'previous';
  }
  if (!status) {
    if (!(pod.spec as { nodeName?: string } | undefined)?.nodeName) return 'none';
    throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
  }
  if (status.state?.running || status.state?.terminated) return 'current';
  if (status.lastState?.terminated) return 'last';
  const reason = status.state?.waiting?.reason ?? 'ContainerCreating';
  if (reason === 'ErrImagePull')
    throw badRequest(`container "${container}" in pod "${name}" is waiting to start: image can't be pulled`);
  if (reason === 'ImagePullBackOff')
    throw badRequest(
      `container "${container}" in pod "${name}" is waiting to start: trying and failing to pull image`,
    );
  throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${reason}`);
}

const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');

export function podLog(r: ApiRequest, onEnd: (status: number) => void): void {
  const pod = r.store.require(r.type, r.namespace, r.name!);
  const container = chooseContainer(pod, r.query.get('container'));
  const previous = r.query.get('previous') === 'true';
  const which = instance(pod, container, previous);
  const tail = r.query.get('tailLines');
  const sinceSeconds = r.query.get('sinceSeconds');
  const sinceTime = r.query.get('sinceTime');
  const timestamps = r.query.get('timestamps') === 'true';
  const limitBytes = r.query.get('limitBytes') ? Number(r.query.get('limitBytes')) : undefined;
  const since =
    sinceSeconds !== null
      ? r.host.clock.now() - Number(sinceSeconds) * 1000
      : sinceTime !== null
        ? Date.parse(sinceTime)
        : undefined;
  const namespace = pod.metadata.namespace!;
  const read = (): LogLine[] => {
    if (which === 'none') return [];
    const options = {
      ...(since !== undefined ? { sinceTime: since } : {}),
      ...(tail !== null ? { tailLines: Number(tail) } : {}),
    };
    if (which === 'previous')
      return r.logs.read(namespace, pod.metadata.name, container, { ...options, previous: true }) ?? [];
    const current = r.logs.read(namespace, pod.metadata.name, container, options) ?? [];
    if (which === 'last' && current.length === 0)
      return r.logs.read(namespace, pod.metadata.name, container, { ...options, previous: true }) ?? [];
    return current;
  };
  const format = (line: LogLine) => `${timestamps ? `${stamp(line.time)} ` : ''}${line.text}\n`;
  const res = r.res;
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/plain');
  let written = 0;
  const emit = (lines: LogLine[]) => {
    for (const line of lines) {
      let text = format(line);
      if (limitBytes !== undefined) {
        if (written >= limitBytes) return;
        text = Buffer.from(text)
          .subarray(0, limitBytes - written)
          .toString('utf8');
      }
      written += Buffer.byteLength(text);
      res.write(text);
    }
  };
  const first = read();
  emit(first);
  if (r.query.get('follow') !== 'true' || previous) {
    res.end();
    onEnd(200);
    return;
  }
  // Follow: new lines as they come, until the container stops, the pod goes, or the client leaves.
  // Lines are only appended to an instance (a restart starts a new, shorter one: follow it from 0).
  let seen = (r.logs.read(namespace, pod.metadata.name, container) ?? []).length;
  const timer = setInterval(() => {
    const all = r.logs.read(namespace, pod.metadata.name, container) ?? [];
    if (all.length < seen) seen = 0;
    emit(all.slice(seen));
    seen = all.length;
    const now = r.store.get(r.type, r.namespace, r.name!);
    const state = now ? statusOf(now, container)?.state : undefined;
    if (!now || state?.terminated) stop();
  }, FOLLOW_POLL_MS);
  timer.unref();
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    if (!res.writableEnded) res.end();
    onEnd(200);
  };
  r.req.on('close', stop);
  res.on('close', stop);
}
