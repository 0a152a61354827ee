// HTTP for the registry client, on node:http / node:https: Node's fetch cannot take a CA per
// request (and Node does not export its bundled undici), while local-aws and private registries
// serve HTTPS with their own CA. Request bodies stream (a layer never sits in memory); response
// bodies are small (JSON, manifests) and are read whole, up to a limit.
import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { ActionError } from '../errors.js';

export interface HttpClientOptions {
  /** PEM certificate(s) to trust for https, in addition to Node's bundled root CAs. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Skip TLS verification (tests only). */
  insecureSkipVerify?: boolean;
  /** Idle socket timeout in ms. Default 120 s. */
  timeoutMs?: number;
  /** Keep-alive sockets per host. Default 16. */
  maxSockets?: number;
  userAgent?: string;
  /** Where HTTP(S)_PROXY and NO_PROXY are read; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A Buffer, or a stream (set Content-Length in headers to avoid chunked encoding). */
  body?: Buffer | Readable;
  signal?: AbortSignal;
  /** Largest response body kept, in bytes. Default 8 MiB. */
  maxResponseBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const RETRIABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
]);

/** A request that failed without an HTTP response: a dropped connection, a reset, a timeout. */
export class NetworkError extends ActionError {
  readonly retriable: boolean;
  constructor(
    readonly method: string,
    readonly url: string,
    cause: Error & { code?: string },
  ) {
    super(
      `${method} ${url} failed: ${cause.message}${cause.code && !cause.message.includes(cause.code) ? ` (${cause.code})` : ''}`,
      {
        cause,
        hint: /CERT|SELF_SIGNED|ERR_TLS|altnames/i.test(`${cause.code ?? ''} ${cause.message}`)
          ? "The registry's TLS certificate is not trusted by this runner: set NODE_EXTRA_CA_CERTS to the path of its CA certificate (PEM) in the step's env, or add the CA to the runner's trust store"
          : 'Check that the registry is reachable from this runner (proxy, firewall, DNS)',
      },
    );
    this.name = 'NetworkError';
    this.retriable =
      RETRIABLE_CODES.has(cause.code ?? '') ||
      /socket hang up|other side closed|aborted/i.test(cause.message);
  }
}

export class HttpClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(options: HttpClientOptions = {}) {
    const maxSockets = options.maxSockets ?? 16;
    // HTTP(S)_PROXY and NO_PROXY are honoured (Node 24's proxyEnv), as for the AWS SDK clients.
    const proxyEnv = options.env ?? process.env;
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets, proxyEnv });
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      maxSockets,
      proxyEnv,
      ...(options.ca !== undefined
        ? { ca: [...rootCertificates, ...(Array.isArray(options.ca) ? options.ca : [options.ca])] }
        : {}),
      ...(options.insecureSkipVerify ? { rejectUnauthorized: false } : {}),
    });
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.userAgent = options.userAgent ?? 'aws-containers';
  }

  request(req: HttpRequest): Promise<HttpResponse> {
    const { method, url } = req;
    const shown = `${url.origin}${url.pathname}`;
    const limit = req.maxResponseBytes ?? 8 * 1024 * 1024;
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | undefined, response?: HttpResponse): void => {
        if (settled) return;
        settled = true;
        if (error) {
          if (body && typeof (body as Readable).destroy === 'function' && !Buffer.isBuffer(body)) {
            (body as Readable).destroy();
          }
          reject(error);
        } else resolve(response!);
      };
      const body = req.body;
      const transport = url.protocol === 'https:' ? https : http;
      const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...req.headers };
      if (Buffer.isBuffer(body)) headers['Content-Length'] = String(body.length);
      else if (body === undefined && (method === 'PUT' || method === 'POST' || method === 'PATCH')) {
        headers['Content-Length'] = '0';
      }
      let bodyError: Error | undefined;
      const request = transport.request(url, {
        method,
        headers,
        agent: url.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
        ...(req.signal ? { signal: req.signal } : {}),
      });
      request.setTimeout(this.timeoutMs, () => {
        request.destroy(Object.assign(new Error(`no data for ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      });
      request.on('error', (error: Error & { code?: string }) => {
        if (bodyError) return finish(bodyError);
        if (req.signal?.aborted) return finish(abortError(req.signal));
        finish(new NetworkError(method, shown, error));
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let length = 0;
        response.on('data', (chunk: Buffer) => {
          length += chunk.length;
          if (length <= limit) chunks.push(chunk);
        });
        response.on('error', (error: Error & { code?: string }) =>
          finish(new NetworkError(method, shown, error)),
        );
        response.on('end', () => {
          // A server that answers before reading the whole body (an error, an auth challenge):
          // stop sending it; the socket is not reused.
          if (body && !Buffer.isBuffer(body) && !body.readableEnded) {
            body.unpipe(request);
            body.destroy();
            request.destroy();
          }
          if (bodyError) return finish(bodyError);
          finish(undefined, {
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          });
        });
      });
      if (body === undefined) request.end();
      else if (Buffer.isBuffer(body)) request.end(body);
      else {
        body.on('error', (error: Error) => {
          bodyError = error;
          request.destroy(error);
        });
        body.pipe(request);
      }
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
}
