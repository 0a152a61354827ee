// A small OCI distribution client over node:http(s) for protocol-level tests of the registry
// (local-aws's and the reference docker-registry): raw status, headers and bytes, no retries.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Blob, BuiltImage } from '../../src/index.js';

export interface RegistryResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  header(name: string): string | undefined;
  json(): Record<string, unknown>;
  /** The first error code of a distribution error body. */
  errorCode(): string | undefined;
}

export interface RegistryClientOptions {
  /** http://127.0.0.1:PORT or https://… */
  baseUrl: string;
  /** Basic credentials, e.g. { user: 'AWS', password }. */
  auth?: { user: string; password: string };
  ca?: string;
}

export class RegistryClient {
  constructor(readonly options: RegistryClientOptions) {}

  request(
    method: string,
    path: string,
    opts: { headers?: Record<string, string>; body?: Buffer | string; noAuth?: boolean } = {},
  ): Promise<RegistryResponse> {
    const url = new URL(path, this.options.baseUrl);
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (this.options.auth && !opts.noAuth && !('authorization' in headers)) {
      headers.authorization =
        'Basic ' + Buffer.from(`${this.options.auth.user}:${this.options.auth.password}`).toString('base64');
    }
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        {
          method,
          hostname: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          headers,
          agent: false,
          ...(this.options.ca ? { ca: this.options.ca } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body,
              header: (name) => {
                const v = res.headers[name.toLowerCase()];
                return Array.isArray(v) ? v.join(', ') : v;
              },
              json: () => JSON.parse(body.toString('utf8')) as Record<string, unknown>,
              errorCode: () => {
                try {
                  const errors = (JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: string }> })
                    .errors;
                  return errors?.[0]?.code;
                } catch {
                  return undefined;
                }
              },
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  /** Monolithic upload in one POST ?digest=. */
  async uploadMonolithic(repo: string, blob: Blob): Promise<RegistryResponse> {
    return this.request('POST', `/v2/${repo}/blobs/uploads/?digest=${blob.digest}`, {
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    });
  }

  /** POST, one PATCH with the whole blob, then PUT ?digest= (what skopeo and docker do). */
  async uploadSession(repo: string, blob: Blob): Promise<RegistryResponse> {
    const start = await this.request('POST', `/v2/${repo}/blobs/uploads/`);
    if (start.status !== 202) return start;
    const patch = await this.request('PATCH', start.header('location')!, {
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    });
    if (patch.status !== 202) return patch;
    const loc = new URL(patch.header('location')!, this.options.baseUrl);
    loc.searchParams.set('digest', blob.digest);
    return this.request('PUT', loc.pathname + loc.search);
  }

  putManifest(
    repo: string,
    ref: string,
    manifest: Blob | { mediaType: string; bytes: Buffer },
  ): Promise<RegistryResponse> {
    return this.request('PUT', `/v2/${repo}/manifests/${ref}`, {
      headers: { 'content-type': manifest.mediaType },
      body: manifest.bytes,
    });
  }

  /** Uploads an image's config and layers, then its manifest under `tag`. */
  async pushImage(repo: string, image: BuiltImage, tag: string): Promise<RegistryResponse> {
    for (const b of [image.config, ...image.layers]) {
      const r = await this.uploadSession(repo, b);
      if (r.status !== 201) throw new Error(`upload of ${b.digest} failed: ${r.status} ${r.body.toString()}`);
    }
    return this.putManifest(repo, tag, image.manifest);
  }
}

export const ALL_MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** The Basic password inside an ECR authorization token (base64 of AWS:<password>). */
export function passwordFromToken(token: string): string {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  if (!decoded.startsWith('AWS:')) throw new Error('not an ECR token');
  return decoded.slice(4);
}
