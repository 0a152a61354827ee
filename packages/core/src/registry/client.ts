// A client for the registry HTTP API (OCI distribution spec / Docker Registry v2): the /v2/ ping
// and its auth challenge (Basic, as ECR uses; Bearer tokens, as Docker Hub and token-auth
// registries use), blob HEAD / mount / upload, manifest HEAD / PUT, and the registry's error
// body turned into an ActionError with a hint.
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { countApiCall } from '../api-calls.js';
import { ActionError } from '../errors.js';
import { HttpClient, type HttpResponse } from './http.js';
import { MANIFEST_MEDIA_TYPES } from './types.js';

export interface RegistryAuth {
  username: string;
  password: string;
}

export interface RegistryConnectionOptions {
  /**
   * The registry's base URL: `https://123456789012.dkr.ecr.us-east-1.amazonaws.com`,
   * `http://127.0.0.1:5000`. A bare `host[:port]` means https.
   */
  registry: string;
  auth?: RegistryAuth | undefined;
  /** PEM certificate(s) to trust besides the usual roots (a registry with its own CA). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** A file holding such PEM certificates (local-aws writes `<caDir>/ca.crt`). */
  caFile?: string;
  /** Skip TLS certificate checks. Tests only. */
  insecureSkipVerify?: boolean;
  userAgent?: string;
  /** Idle socket timeout in ms. Default 120 s. */
  timeoutMs?: number;
}

/** An error answer from the registry, with its code (`NAME_UNKNOWN`, `TAG_INVALID`…) and message. */
export class RegistryError extends ActionError {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly registryMessage: string,
    readonly retriable: boolean,
    readonly retryAfterMs: number | undefined,
    hint: string | undefined,
  ) {
    super(message, hint === undefined ? {} : { hint });
    this.name = 'RegistryError';
  }
}

const STATUS_CODES: Record<number, string> = {
  401: 'UNAUTHORIZED',
  403: 'DENIED',
  404: 'NOT_FOUND',
  405: 'UNSUPPORTED',
  429: 'TOOMANYREQUESTS',
};

function hintFor(
  code: string,
  message: string,
  context: { host: string; repository?: string | undefined },
): string | undefined {
  const repo = context.repository ? `"${context.repository}"` : 'the repository';
  switch (code) {
    case 'NAME_UNKNOWN':
    case 'REPOSITORY_NOT_FOUND':
    case 'RepositoryNotFoundException':
      return `The repository ${repo} does not exist in ${context.host}: create it, or set create-repository: true`;
    case 'TAG_INVALID':
    case 'ImageTagAlreadyExistsException':
      return /immutable|already exists|cannot be overwritten/i.test(message) ||
        code === 'ImageTagAlreadyExistsException'
        ? `${repo} has immutable tags and the tag already names another image: push under a new tag (for example the commit sha), or make the repository's tags MUTABLE`
        : 'Tags are 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"';
    case 'UNAUTHORIZED':
      return `${context.host} did not accept the credentials: log in again (an ECR token expires after 12 hours)`;
    case 'DENIED':
      return (
        `The credentials may not push to ${repo}: on ECR the role needs ecr:BatchCheckLayerAvailability, ` +
        'ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload and ecr:PutImage on it'
      );
    case 'TOOMANYREQUESTS':
      return 'The registry is throttling requests: lower the concurrency or retry later';
    case 'MANIFEST_BLOB_UNKNOWN':
    case 'BLOB_UNKNOWN':
      return 'The manifest refers to a blob the repository does not have; push the whole image again';
    case 'MANIFEST_INVALID':
    case 'MANIFEST_UNKNOWN':
      return code === 'MANIFEST_INVALID'
        ? 'The registry rejected the manifest (it may not support its media type)'
        : undefined;
    case 'DIGEST_INVALID':
      return 'The bytes the registry received do not match their digest; retry the push';
    case 'SIZE_INVALID':
      return 'The bytes the registry received are not the size announced; retry the push';
    default:
      return undefined;
  }
}

function retryAfterMs(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['retry-after'];
  if (typeof value !== 'string') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The RegistryError for a response that is not the expected one. `what`: "Uploading blob sha256:…". */
export function registryError(
  response: HttpResponse,
  what: string,
  context: { host: string; repository?: string | undefined },
): RegistryError {
  let code = STATUS_CODES[response.status] ?? (response.status >= 500 ? 'SERVER_ERROR' : 'UNEXPECTED_STATUS');
  let message = '';
  const text = response.body.toString('utf8').trim();
  if (text) {
    try {
      const parsed = JSON.parse(text) as {
        errors?: Array<{ code?: string; message?: string; detail?: unknown }>;
      };
      const first = parsed.errors?.[0];
      if (first) {
        if (first.code) code = first.code;
        message = first.message ?? '';
        if (first.detail !== undefined && first.detail !== null && typeof first.detail !== 'object') {
          message += message ? ` (${String(first.detail)})` : String(first.detail);
        }
      }
    } catch {
      message = text.length > 300 ? `${text.slice(0, 300)}…` : text;
    }
  }
  const retriable = response.status === 429 || response.status === 408 || response.status >= 500;
  return new RegistryError(
    `${what} failed: HTTP ${response.status} ${code}${message ? `: ${message}` : ''}`,
    response.status,
    code,
    message,
    retriable,
    retryAfterMs(response.headers),
    hintFor(code, message, context),
  );
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let m = re.exec(match[2]!); m; m = re.exec(match[2]!)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

export interface SendOptions {
  method: string;
  /** A path under the registry (`/v2/…`) or an absolute URL (an upload location). */
  path: string | URL;
  headers?: Record<string, string>;
  /** A function, so that a request retried after an auth challenge gets a fresh stream. */
  body?: () => Buffer | Readable | Promise<Buffer | Readable>;
  signal?: AbortSignal;
  repository?: string;
}

export class RegistryClient {
  readonly base: URL;
  /** host[:port], for messages. */
  readonly host: string;
  private readonly http: HttpClient;
  private readonly auth: RegistryAuth | undefined;
  private scheme: 'none' | 'basic' | 'bearer' | undefined;
  private bearer: { realm: string; service: string | undefined; token: string | undefined } | undefined;
  private scopes = new Set<string>();

  constructor(options: RegistryConnectionOptions) {
    const raw = /^[a-z][a-z0-9+.-]*:\/\//i.test(options.registry)
      ? options.registry
      : `https://${options.registry}`;
    this.base = new URL(raw.replace(/\/+$/, '') + '/');
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new ActionError(`The registry URL ${options.registry} is neither http nor https`);
    }
    this.host = this.base.host;
    const cas: Array<string | Buffer> = [];
    if (options.ca !== undefined) cas.push(...(Array.isArray(options.ca) ? options.ca : [options.ca]));
    if (options.caFile !== undefined) {
      try {
        cas.push(readFileSync(options.caFile));
      } catch (error) {
        throw new ActionError(`Cannot read the CA file ${options.caFile}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    this.http = new HttpClient({
      ...(cas.length ? { ca: cas } : {}),
      ...(options.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
    this.auth = options.auth;
  }

  close(): void {
    this.http.close();
  }

  url(path: string): URL {
    return new URL(path.replace(/^\/+/, ''), this.base);
  }

  /**
   * GET /v2/ and answer its challenge, so that later requests carry credentials from the start (a
   * streamed layer is then not sent twice). `scopes`: `repository:<name>:pull,push` and the like,
   * for Bearer tokens.
   */
  async ping(scopes: string[] = [], signal?: AbortSignal): Promise<void> {
    for (const scope of scopes) this.scopes.add(scope);
    const response = await this.send({ method: 'GET', path: '/v2/', ...(signal ? { signal } : {}) });
    if (response.status !== 200)
      throw registryError(response, `Connecting to ${this.host}`, { host: this.host });
  }

  private authorization(): string | undefined {
    if (this.scheme === 'basic' && this.auth) {
      return `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}`;
    }
    if (this.scheme === 'bearer' && this.bearer?.token) return `Bearer ${this.bearer.token}`;
    return undefined;
  }

  /** Answers a 401 challenge; false when there is nothing more to try. */
  private async answer(response: HttpResponse, signal?: AbortSignal): Promise<boolean> {
    const header = response.headers['www-authenticate'];
    const challenge = parseChallenge(Array.isArray(header) ? (header[0] ?? '') : (header ?? ''));
    if (!challenge) return false;
    if (challenge.scheme === 'basic') {
      if (!this.auth || this.scheme === 'basic') return false;
      this.scheme = 'basic';
      return true;
    }
    if (challenge.scheme === 'bearer' && challenge.params.realm) {
      const hadToken = this.bearer?.token !== undefined;
      const newScope = challenge.params.scope && !this.scopes.has(challenge.params.scope);
      if (challenge.params.scope) for (const s of challenge.params.scope.split(' ')) this.scopes.add(s);
      if (hadToken && !newScope && challenge.params.error !== 'invalid_token') return false;
      this.scheme = 'bearer';
      this.bearer = { realm: challenge.params.realm, service: challenge.params.service, token: undefined };
      this.bearer.token = await this.fetchToken(signal);
      return true;
    }
    return false;
  }

  private async fetchToken(signal?: AbortSignal): Promise<string> {
    const bearer = this.bearer!;
    const url = new URL(bearer.realm);
    if (bearer.service) url.searchParams.set('service', bearer.service);
    for (const scope of this.scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = {};
    if (this.auth) {
      headers.Authorization = `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}`;
    }
    const response = await this.http.request({ method: 'GET', url, headers, ...(signal ? { signal } : {}) });
    if (response.status !== 200) {
      throw registryError(response, `Getting a token for ${this.host} from ${url.origin}${url.pathname}`, {
        host: this.host,
      });
    }
    let token: string | undefined;
    try {
      const parsed = JSON.parse(response.body.toString('utf8')) as { token?: string; access_token?: string };
      token = parsed.token ?? parsed.access_token;
    } catch {
      token = undefined;
    }
    if (!token)
      throw new ActionError(
        `The token service ${url.origin}${url.pathname} for ${this.host} returned no token`,
      );
    return token;
  }

  /** One request with credentials; a 401 is answered once and the request repeated. */
  async send(options: SendOptions): Promise<HttpResponse> {
    const url = typeof options.path === 'string' ? this.url(options.path) : options.path;
    for (let attempt = 0; ; attempt++) {
      const headers = { ...options.headers };
      const authorization = this.authorization();
      // Credentials go to the registry's own host only (an upload location may point elsewhere).
      if (authorization && url.host === this.base.host) headers.Authorization = authorization;
      const body = options.body ? await options.body() : undefined;
      const response = await this.http.request({
        method: options.method,
        url,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      countApiCall('registry', response.status === 429);
      if (response.status === 401 && attempt === 0 && (await this.answer(response, options.signal))) continue;
      return response;
    }
  }

  /** Whether the repository has the blob (HEAD). */
  async hasBlob(repository: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const response = await this.send({
      method: 'HEAD',
      path: `/v2/${repository}/blobs/${digest}`,
      repository,
      ...(signal ? { signal } : {}),
    });
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw registryError(response, `Checking for blob ${digest} in ${this.host}/${repository}`, {
      host: this.host,
      repository,
    });
  }

  /**
   * Tries to mount the blob from another repository of the same registry. Returns 'mounted', or
   * the upload location the registry opened instead (202).
   */
  async mountBlob(
    repository: string,
    digest: string,
    from: string,
    signal?: AbortSignal,
  ): Promise<'mounted' | URL> {
    const path = `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const response = await this.send({ method: 'POST', path, repository, ...(signal ? { signal } : {}) });
    if (response.status === 201) return 'mounted';
    if (response.status === 202) return this.location(response, `Mounting blob ${digest}`, repository);
    throw registryError(response, `Mounting blob ${digest} from ${from} into ${this.host}/${repository}`, {
      host: this.host,
      repository,
    });
  }

  /** Opens an upload session (POST) and returns its location. */
  async startUpload(repository: string, signal?: AbortSignal): Promise<URL> {
    const response = await this.send({
      method: 'POST',
      path: `/v2/${repository}/blobs/uploads/`,
      repository,
      ...(signal ? { signal } : {}),
    });
    if (response.status !== 202) {
      throw registryError(response, `Starting an upload to ${this.host}/${repository}`, {
        host: this.host,
        repository,
      });
    }
    return this.location(response, 'Starting an upload', repository);
  }

  private location(response: HttpResponse, what: string, repository: string): URL {
    const location = response.headers.location;
    if (!location)
      throw new ActionError(`${what} to ${this.host}/${repository}: the registry sent no Location header`);
    return new URL(location, this.base);
  }

  /**
   * Sends the whole blob to an upload location in one streamed request. `method: 'put'` is the
   * monolithic PUT <location>?digest= with the bytes as body; `'patch'` sends them in one PATCH and
   * closes with an empty PUT (what skopeo and podman do).
   */
  async uploadBlob(
    repository: string,
    location: URL,
    digest: string,
    size: number,
    body: () => Promise<Readable>,
    options: { method?: 'put' | 'patch'; signal?: AbortSignal } = {},
  ): Promise<void> {
    const signal = options.signal ? { signal: options.signal } : {};
    const what = `Uploading blob ${digest} to ${this.host}/${repository}`;
    const context = { host: this.host, repository };
    let url = location;
    let finalBody: (() => Promise<Readable>) | undefined = body;
    if (options.method === 'patch') {
      const response = await this.send({
        method: 'PATCH',
        path: url,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
        body,
        repository,
        ...signal,
      });
      if (response.status !== 202 && response.status !== 201 && response.status !== 204) {
        throw registryError(response, what, context);
      }
      if (response.headers.location) url = new URL(response.headers.location, this.base);
      finalBody = undefined;
    }
    const put = new URL(url);
    put.searchParams.set('digest', digest);
    const response = await this.send({
      method: 'PUT',
      path: put,
      headers: {
        'Content-Type': 'application/octet-stream',
        ...(finalBody ? { 'Content-Length': String(size) } : {}),
      },
      ...(finalBody ? { body: finalBody } : {}),
      repository,
      ...signal,
    });
    if (response.status !== 201 && response.status !== 204) throw registryError(response, what, context);
  }

  /** PUT a manifest under a tag or a digest; returns the digest the registry reports. */
  async putManifest(
    repository: string,
    reference: string,
    mediaType: string,
    bytes: Buffer,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const response = await this.send({
      method: 'PUT',
      path: `/v2/${repository}/manifests/${reference}`,
      headers: { 'Content-Type': mediaType },
      body: () => bytes,
      repository,
      ...(signal ? { signal } : {}),
    });
    if (response.status !== 201 && response.status !== 200 && response.status !== 202) {
      const what = reference.includes(':')
        ? `Pushing manifest ${reference} to ${this.host}/${repository}`
        : `Tagging ${this.host}/${repository}:${reference}`;
      throw registryError(response, what, { host: this.host, repository });
    }
    const digest = response.headers['docker-content-digest'];
    return typeof digest === 'string' ? digest : undefined;
  }

  /** HEAD a manifest by tag or digest; undefined when the registry has no such manifest. */
  async headManifest(
    repository: string,
    reference: string,
    signal?: AbortSignal,
  ): Promise<
    { digest: string | undefined; mediaType: string | undefined; size: number | undefined } | undefined
  > {
    const response = await this.requestManifest('HEAD', repository, reference, signal);
    if (!response) return undefined;
    const digest = response.headers['docker-content-digest'];
    const type = response.headers['content-type'];
    const length = Number(response.headers['content-length']);
    return {
      digest: typeof digest === 'string' ? digest : undefined,
      mediaType: typeof type === 'string' ? type.split(';')[0]!.trim() : undefined,
      size: Number.isFinite(length) ? length : undefined,
    };
  }

  /** GET a manifest by tag or digest; its bytes, or undefined when the registry has no such manifest. */
  async getManifest(
    repository: string,
    reference: string,
    signal?: AbortSignal,
  ): Promise<Buffer | undefined> {
    const response = await this.requestManifest('GET', repository, reference, signal);
    return response?.body;
  }

  /** A manifest request accepting the four manifest media types: 200, or undefined on 404. */
  private async requestManifest(
    method: 'GET' | 'HEAD',
    repository: string,
    reference: string,
    signal?: AbortSignal,
  ): Promise<HttpResponse | undefined> {
    const response = await this.send({
      method,
      path: `/v2/${repository}/manifests/${reference}`,
      headers: { Accept: MANIFEST_MEDIA_TYPES.join(', ') },
      repository,
      ...(signal ? { signal } : {}),
    });
    if (response.status === 404) return undefined;
    if (response.status !== 200) {
      // A HEAD has no body: the error says what the status means.
      const what = method === 'HEAD' ? 'Checking for' : 'Reading';
      throw registryError(response, `${what} ${this.host}/${repository}:${reference}`, {
        host: this.host,
        repository,
      });
    }
    return response;
  }
}
