// A Kubernetes API client over node:https, as small as the actions need (KubernetesClient in
// types.ts): the cluster's CA trusted beside Node's roots, HTTP(S)_PROXY/NO_PROXY (Node 24's
// proxyEnv, as core's other clients), a bearer token asked of the caller's provider for every
// request (it refreshes), JSON in and out, a deadline per request and the step's signal on every
// call, retries of throttling, 5xx and dropped connections with back-off honouring Retry-After,
// Status errors as KubernetesApiError, and watches that reconnect from the last resourceVersion
// and relist on 410 Gone.
import { countApiCall } from '../api-calls.js';
import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { rootCertificates } from 'node:tls';
import { fence } from '../log.js';
import type {
  CallOptions,
  KubeObject,
  KubernetesApiErrorShape,
  KubernetesClient,
  ResourceRef,
  WatchEvent,
} from './types.js';

export interface KubernetesClientOptions {
  /** The API server's URL; a path is kept as the prefix of every request (as client-go does). */
  endpoint: string;
  /** The cluster's CA certificate(s), PEM, trusted in addition to Node's bundled roots. */
  caPem?: string;
  /**
   * The bearer token, asked for every request (the provider caches and refreshes it). After a 401
   * it is asked once more with `refresh: true` and the request sent again: a token the cluster
   * already counts as expired (clocks apart, a rollout past its refresh) is made anew.
   */
  token: (options?: { refresh?: boolean }) => Promise<string>;
  userAgent?: string;
  /** Milliseconds one request may take, answer included (not watches). Default 30 s. */
  requestTimeoutMs?: number;
  /** Attempts of a retriable request, the first included. Default 5. */
  maxAttempts?: number;
  /** Where HTTP(S)_PROXY and NO_PROXY are read; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Waits between attempts and reconnections (tests shorten them). Default: real time. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Seconds a watch asks the server to keep it open before it reconnects. Default 290. */
  watchTimeoutSeconds?: number;
}

export const KUBERNETES_REQUEST_TIMEOUT_MS = 30_000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * A failed API call: the Status the server answered (or the HTTP status when there was none).
 * The message is the server's text, fenced (it is outside text); 401 and 403 also name the verb
 * and resource asked, so the action can add who was asking and how to grant it.
 */
export class KubernetesApiError extends Error implements KubernetesApiErrorShape {
  readonly status: number;
  readonly reason: string;
  readonly request: string;
  /** The Kubernetes verb: get, list, watch, create, patch, update, delete. */
  readonly verb: string;
  /** `deployments.apps "web" in namespace "prod"` (or `pods/log …`): the resource asked. */
  readonly resource: string;
  /** The Status' details (name, kind, causes), when the server gave them. */
  readonly details: unknown;
  constructor(fields: {
    status: number;
    reason: string;
    message: string;
    request: string;
    verb: string;
    resource: string;
    details?: unknown;
  }) {
    const said = fence(fields.message || `HTTP ${fields.status}`);
    super(
      fields.status === 401
        ? `${said}: the cluster did not accept the credentials (${fields.verb} ${fields.resource})`
        : fields.status === 403
          ? `${said} (${fields.verb} ${fields.resource})`
          : said,
    );
    this.name = 'KubernetesApiError';
    this.status = fields.status;
    this.reason = fields.reason;
    this.request = fields.request;
    this.verb = fields.verb;
    this.resource = fields.resource;
    this.details = fields.details;
  }
}

/** Whether an error is the API's answer (with this HTTP status, when given: 404, 409, 410…). */
export function isKubernetesApiError(error: unknown, status?: number): error is KubernetesApiError {
  if (typeof error !== 'object' || error === null) return false;
  const named =
    error instanceof KubernetesApiError || (error as { name?: unknown }).name === 'KubernetesApiError';
  return named && (status === undefined || (error as { status?: unknown }).status === status);
}

/** The URL path of a ResourceRef: `/api/v1/namespaces/x/pods/y/log`, `/apis/apps/v1/deployments`. */
export function resourcePath(ref: ResourceRef): string {
  const base = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const ns = ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
  const name = ref.name ? `/${encodeURIComponent(ref.name)}` : '';
  const sub = ref.name && ref.subresource ? `/${ref.subresource}` : '';
  return ref.plural === '' ? base : `${base}${ns}/${ref.plural}${name}${sub}`;
}

/** How kubectl names a resource in messages: `deployments.apps "web" in namespace "prod"`. */
export function describeRef(ref: ResourceRef): string {
  const type = `${ref.plural}${ref.group ? `.${ref.group}` : ''}${ref.subresource ? `/${ref.subresource}` : ''}`;
  return `${type}${ref.name ? ` ${JSON.stringify(ref.name)}` : ''}${ref.namespace ? ` in namespace ${JSON.stringify(ref.namespace)}` : ''}`;
}

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  verb: string;
  ref: ResourceRef;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal: AbortSignal;
  /** Retried after a dropped connection or 5xx (429 is always retried: the server did nothing). */
  idempotent: boolean;
}

const RETRIABLE_NETWORK =
  /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ECONNABORTED|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|socket hang up|other side closed|aborted|timed out/i;

class NetworkFailure extends Error {
  constructor(
    readonly request: string,
    cause: Error & { code?: string },
  ) {
    super(
      `${request} failed: ${cause.message}${cause.code && !cause.message.includes(cause.code) ? ` (${cause.code})` : ''}`,
      { cause },
    );
    this.name = 'KubernetesNetworkError';
  }
  get retriable(): boolean {
    const cause = this.cause as Error & { code?: string };
    return RETRIABLE_NETWORK.test(`${cause.code ?? ''} ${cause.message}`);
  }
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortReason(signal));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
}

/** Seconds of a Retry-After header (client-go reads seconds only), capped. */
function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Math.min(Number(value) * 1000, 30_000);
}

function backoffMs(attempt: number): number {
  return Math.min(250 * 2 ** attempt, 8_000);
}

export function createKubernetesClient(options: KubernetesClientOptions): KubernetesClient {
  return new HttpKubernetesClient(options);
}

class HttpKubernetesClient implements KubernetesClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly userAgent: string;
  private readonly watchTimeoutSeconds: number;

  constructor(private readonly options: KubernetesClientOptions) {
    this.base = new URL(options.endpoint);
    if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:') {
      throw new Error(`The Kubernetes endpoint must be an https:// URL, got ${this.base.protocol}`);
    }
    const proxyEnv = options.env ?? process.env;
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            maxSockets: 32,
            proxyEnv,
            ...(options.caPem ? { ca: [...rootCertificates, options.caPem] } : {}),
          })
        : new http.Agent({ keepAlive: true, maxSockets: 32, proxyEnv });
    this.timeoutMs = options.requestTimeoutMs ?? KUBERNETES_REQUEST_TIMEOUT_MS;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.sleep = options.sleep ?? defaultSleep;
    this.userAgent = options.userAgent ?? 'aws-containers';
    this.watchTimeoutSeconds = options.watchTimeoutSeconds ?? 290;
  }

  private url(ref: ResourceRef, query: Call['query'] = {}): URL {
    const prefix = this.base.pathname.replace(/\/+$/, '');
    const url = new URL(this.base.origin);
    url.pathname = `${prefix}${resourcePath(ref)}`;
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  /** One HTTP exchange; resolves with the response stream (the caller reads or destroys it). */
  private async open(
    call: Call,
    url: URL,
    signal: AbortSignal,
    timeoutMs: number | undefined,
    refreshed = false,
  ): Promise<{ response: IncomingMessage; request: http.ClientRequest }> {
    const token = await this.options.token(refreshed ? { refresh: true } : undefined);
    const body =
      call.body === undefined
        ? undefined
        : Buffer.from(typeof call.body === 'string' ? call.body : JSON.stringify(call.body), 'utf8');
    const headers: Record<string, string> = {
      'User-Agent': this.userAgent,
      Accept: call.accept ?? 'application/json',
      Authorization: `Bearer ${token}`,
    };
    if (body !== undefined) {
      headers['Content-Type'] = call.contentType ?? 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    const shown = `${call.method} ${url.pathname}`;
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, { method: call.method, headers, agent: this.agent, signal });
      let timer: NodeJS.Timeout | undefined;
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          request.destroy(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
        }, timeoutMs);
      }
      request.on('error', (error: Error & { code?: string }) => {
        clearTimeout(timer);
        countApiCall('Kubernetes', false);
        if (signal.aborted) return reject(abortReason(signal));
        reject(new NetworkFailure(shown, error));
      });
      request.on('response', (response) => {
        clearTimeout(timer);
        countApiCall('Kubernetes', response.statusCode === 429);
        if (response.statusCode === 401 && !refreshed) {
          // Once, with a token made anew: the cluster may count the cached one as expired.
          response.resume();
          this.open(call, url, signal, timeoutMs, true).then(resolve, reject);
          return;
        }
        resolve({ response, request });
      });
      request.end(body);
    });
  }

  private async readAll(response: IncomingMessage, signal: AbortSignal, request: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let length = 0;
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        length += chunk.length;
        if (length > MAX_BODY_BYTES) throw new Error(`the answer is larger than ${MAX_BODY_BYTES} bytes`);
        chunks.push(chunk);
      }
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      throw new NetworkFailure(request, error as Error);
    }
    return Buffer.concat(chunks);
  }

  private apiError(call: Call, status: number, body: Buffer, url: URL): KubernetesApiError {
    let reason = http.STATUS_CODES[status]?.replace(/\s+/g, '') ?? 'Unknown';
    let message = '';
    let details: unknown;
    try {
      const parsed = JSON.parse(body.toString('utf8')) as {
        kind?: string;
        reason?: string;
        message?: string;
        details?: unknown;
      };
      if (parsed.kind === 'Status') {
        reason = parsed.reason || reason;
        message = parsed.message ?? '';
        details = parsed.details;
      }
    } catch {
      message = body.toString('utf8').slice(0, 500).trim();
    }
    return new KubernetesApiError({
      status,
      reason,
      message: message || `${status} ${http.STATUS_CODES[status] ?? ''}`.trim(),
      request: `${call.method} ${url.pathname}`,
      verb: call.verb,
      resource: describeRef(call.ref),
      details,
    });
  }

  /** A request with retries; resolves with the body of a 2xx answer. */
  private async send(call: Call): Promise<{ status: number; body: Buffer }> {
    const url = this.url(call.ref, call.query);
    const request = `${call.method} ${url.pathname}`;
    for (let attempt = 0; ; attempt++) {
      if (call.signal.aborted) throw abortReason(call.signal);
      let wait: number | undefined;
      let failure: Error;
      try {
        const { response } = await this.open(call, url, call.signal, this.timeoutMs);
        const body = await this.readAll(response, call.signal, request);
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) return { status, body };
        failure = this.apiError(call, status, body, url);
        const retriable = status === 429 || (call.idempotent && status >= 500 && status !== 501);
        if (!retriable) throw failure;
        wait = retryAfterMs(response.headers['retry-after']);
      } catch (error) {
        if (call.signal.aborted) throw abortReason(call.signal);
        if (error instanceof KubernetesApiError) {
          if (!(error.status === 429 || (call.idempotent && error.status >= 500 && error.status !== 501)))
            throw error;
          failure = error;
        } else if (error instanceof NetworkFailure) {
          if (!call.idempotent || !error.retriable) throw error;
          failure = error;
        } else throw error;
      }
      if (attempt + 1 >= this.maxAttempts) throw failure;
      await this.sleep(wait ?? backoffMs(attempt), call.signal);
    }
  }

  private async json<T>(call: Call): Promise<T> {
    const { body } = await this.send(call);
    if (body.length === 0) return undefined as T;
    try {
      return JSON.parse(body.toString('utf8')) as T;
    } catch {
      throw new Error(`${call.method} ${resourcePath(call.ref)}: the answer is not JSON`);
    }
  }

  get<T = KubeObject>(ref: ResourceRef, options: CallOptions): Promise<T> {
    return this.json<T>({ method: 'GET', verb: 'get', ref, signal: options.signal, idempotent: true });
  }

  async find<T = KubeObject>(ref: ResourceRef, options: CallOptions): Promise<T | undefined> {
    try {
      return await this.get<T>(ref, options);
    } catch (error) {
      if (error instanceof KubernetesApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async list<T = KubeObject>(
    ref: ResourceRef,
    options: CallOptions & { labelSelector?: string; fieldSelector?: string },
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let resourceVersion = '';
    let next: string | undefined;
    do {
      const page = await this.json<{
        items?: T[];
        metadata?: { resourceVersion?: string; continue?: string };
      }>({
        method: 'GET',
        verb: 'list',
        ref: { ...ref, name: undefined },
        query: {
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          limit: 500,
          continue: next,
        },
        signal: options.signal,
        idempotent: true,
      });
      items.push(...(page.items ?? []));
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      next = page.metadata?.continue || undefined;
    } while (next);
    return { items, resourceVersion };
  }

  async *watch<T = KubeObject>(
    ref: ResourceRef,
    options: CallOptions & { labelSelector?: string; fieldSelector?: string; resourceVersion?: string },
  ): AsyncIterable<WatchEvent<T>> {
    const { signal } = options;
    let resourceVersion = options.resourceVersion;
    let failures = 0;
    const base: ResourceRef = { ...ref, name: undefined };
    /** The objects seen, by namespace/name, so a relist can tell which went away meanwhile. */
    const known = new Map<string, KubeObject>();
    const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    // A watch of one object is a watch of its collection narrowed by name, as kubectl does it.
    const fieldSelector = ref.name
      ? [`metadata.name=${ref.name}`, options.fieldSelector].filter(Boolean).join(',')
      : options.fieldSelector;
    const relist = async function* (this: HttpKubernetesClient): AsyncGenerator<WatchEvent<T>> {
      const listed = await this.list<T>(base, {
        signal,
        ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
        ...(fieldSelector ? { fieldSelector } : {}),
      });
      resourceVersion = listed.resourceVersion;
      const present = new Set<string>();
      for (const object of listed.items) {
        const key = keyOf(object as unknown as KubeObject);
        present.add(key);
        known.set(key, object as unknown as KubeObject);
        yield { type: 'MODIFIED', object };
      }
      // What went away while the watch was down: the last state seen, as DELETED.
      for (const [key, object] of [...known]) {
        if (present.has(key)) continue;
        known.delete(key);
        yield { type: 'DELETED', object: object as unknown as T };
      }
    }.bind(this);

    while (!signal.aborted) {
      const call: Call = {
        method: 'GET',
        verb: 'watch',
        ref: base,
        query: {
          watch: 1,
          allowWatchBookmarks: true,
          timeoutSeconds: this.watchTimeoutSeconds,
          labelSelector: options.labelSelector,
          fieldSelector,
          resourceVersion,
        },
        signal,
        idempotent: true,
      };
      const url = this.url(base, call.query);
      let gone = false;
      try {
        const { response, request } = await this.open(call, url, signal, this.timeoutMs);
        const status = response.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          const body = await this.readAll(response, signal, `GET ${url.pathname}`);
          const error = this.apiError(call, status, body, url);
          if (status === 410) gone = true;
          else if (status === 429 || status >= 500) throw error;
          else throw Object.assign(error, { fatal: true });
        } else {
          // No answer for longer than the server's own timeout: the connection is dead.
          request.setTimeout((this.watchTimeoutSeconds + 30) * 1000, () =>
            request.destroy(Object.assign(new Error('the watch went silent'), { code: 'ETIMEDOUT' })),
          );
          let pending = '';
          try {
            for await (const chunk of response as AsyncIterable<Buffer>) {
              pending += chunk.toString('utf8');
              let newline: number;
              while ((newline = pending.indexOf('\n')) >= 0) {
                const line = pending.slice(0, newline).trim();
                pending = pending.slice(newline + 1);
                if (line === '') continue;
                const event = JSON.parse(line) as { type: string; object: Record<string, unknown> };
                if (event.type === 'ERROR') {
                  const status = Number((event.object as { code?: unknown }).code);
                  if (status === 410) {
                    gone = true;
                    break;
                  }
                  throw this.apiError(call, status || 500, Buffer.from(JSON.stringify(event.object)), url);
                }
                const object = event.object as unknown as KubeObject;
                if (object.metadata?.resourceVersion) resourceVersion = object.metadata.resourceVersion;
                failures = 0;
                if (event.type === 'DELETED') known.delete(keyOf(object));
                else if (event.type !== 'BOOKMARK') known.set(keyOf(object), object);
                yield { type: event.type as WatchEvent['type'], object: object as unknown as T };
              }
              if (gone) break;
            }
          } finally {
            response.destroy();
          }
        }
      } catch (error) {
        if (signal.aborted) return;
        if ((error as { fatal?: boolean }).fatal) throw error;
        failures++;
        if (failures >= this.maxAttempts * 2) throw error;
        await this.sleep(backoffMs(failures - 1), signal).catch(() => undefined);
        continue;
      }
      if (signal.aborted) return;
      if (gone) {
        try {
          yield* relist();
        } catch (error) {
          if (signal.aborted) return;
          throw error;
        }
      }
      // The server ended the watch (its timeout, a restart): go on from the last version seen.
    }
  }

  create<T = KubeObject>(
    ref: ResourceRef,
    body: unknown,
    options: CallOptions & { dryRun?: boolean },
  ): Promise<T> {
    return this.json<T>({
      method: 'POST',
      verb: 'create',
      ref: { ...ref, name: undefined },
      query: { dryRun: options.dryRun ? 'All' : undefined },
      body,
      signal: options.signal,
      idempotent: false,
    });
  }

  apply<T = KubeObject>(
    ref: ResourceRef,
    body: KubeObject,
    options: CallOptions & { fieldManager: string; force?: boolean; dryRun?: boolean },
  ): Promise<T> {
    return this.json<T>({
      method: 'PATCH',
      verb: 'patch',
      ref: { ...ref, name: ref.name ?? body.metadata.name },
      query: {
        fieldManager: options.fieldManager,
        force: options.force ? true : undefined,
        dryRun: options.dryRun ? 'All' : undefined,
      },
      body,
      contentType: 'application/apply-patch+yaml',
      signal: options.signal,
      // The same apply twice gives the same object.
      idempotent: true,
    });
  }

  patch<T = KubeObject>(
    ref: ResourceRef,
    patch: unknown,
    options: CallOptions & { type: 'strategic' | 'merge' | 'json'; fieldManager?: string; dryRun?: boolean },
  ): Promise<T> {
    const contentType = {
      strategic: 'application/strategic-merge-patch+json',
      merge: 'application/merge-patch+json',
      json: 'application/json-patch+json',
    }[options.type];
    return this.json<T>({
      method: 'PATCH',
      verb: 'patch',
      ref,
      query: { fieldManager: options.fieldManager, dryRun: options.dryRun ? 'All' : undefined },
      body: patch,
      contentType,
      signal: options.signal,
      idempotent: false,
    });
  }

  async delete(
    ref: ResourceRef,
    options: CallOptions & { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' },
  ): Promise<void> {
    await this.send({
      method: 'DELETE',
      verb: 'delete',
      ref,
      body: {
        kind: 'DeleteOptions',
        apiVersion: 'v1',
        ...(options.propagationPolicy ? { propagationPolicy: options.propagationPolicy } : {}),
      },
      signal: options.signal,
      idempotent: true,
    });
  }

  async logs(
    ref: ResourceRef,
    options: CallOptions & { container?: string; previous?: boolean; tailLines?: number },
  ): Promise<string> {
    const { body } = await this.send({
      method: 'GET',
      verb: 'get',
      ref: { ...ref, subresource: ref.subresource ?? 'log' },
      query: {
        container: options.container,
        previous: options.previous ? true : undefined,
        tailLines: options.tailLines,
      },
      accept: 'text/plain, */*',
      signal: options.signal,
      idempotent: true,
    });
    return body.toString('utf8');
  }

  async resources(
    group: string,
    version: string,
    options: CallOptions,
  ): Promise<Array<{ name: string; kind: string; namespaced: boolean }>> {
    const list = await this.json<{ resources?: Array<{ name: string; kind: string; namespaced: boolean }> }>({
      method: 'GET',
      verb: 'get',
      ref: { group, version, plural: '' },
      signal: options.signal,
      idempotent: true,
    });
    return (list.resources ?? [])
      .filter((r) => !r.name.includes('/'))
      .map((r) => ({ name: r.name, kind: r.kind, namespaced: r.namespaced }));
  }
}
