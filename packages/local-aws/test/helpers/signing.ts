// Raw SigV4-signed HTTP requests for protocol-level tests. Signing is done by @smithy/signature-v4
// (the AWS SDK's signer, an implementation independent of local-aws), so every test that passes
// through here is also a conformance check of local-aws's verifier.
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): Record<string, unknown>;
}

export function signer(service: string, region: string, credentials: Creds): SignatureV4 {
  return new SignatureV4({
    service,
    region,
    credentials,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: true,
  });
}

export interface SignedRequestOptions {
  endpoint: string;
  service: string;
  region?: string;
  credentials?: Creds;
  method?: string;
  /** Path as it goes on the wire (already percent-encoded where needed). */
  path?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
  signingDate?: Date;
  /** Send this body instead of the signed one (tampering). */
  sendBody?: string;
  /** Change headers after signing. */
  afterSign?: (headers: Record<string, string>) => void;
}

export async function signedRequest(options: SignedRequestOptions): Promise<RawResponse> {
  const url = new URL(options.endpoint);
  const body = options.body ?? '';
  const request = {
    method: options.method ?? 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: options.path ?? '/',
    query: options.query ?? {},
    headers: {
      host: url.host,
      'content-length': String(Buffer.byteLength(body)),
      ...(options.headers ?? {}),
    },
    body,
  };
  const signed = await signer(
    options.service,
    options.region ?? 'us-east-1',
    options.credentials ?? { accessKeyId: 'test', secretAccessKey: 'test' },
  ).sign(request, options.signingDate ? { signingDate: options.signingDate } : {});
  const headers = { ...(signed.headers as Record<string, string>) };
  const sendBody = options.sendBody ?? body;
  headers['content-length'] = String(Buffer.byteLength(sendBody));
  options.afterSign?.(headers);
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(options.query ?? {})) {
    for (const value of Array.isArray(v) ? v : [v]) query.append(k, value);
  }
  const qs = query.toString().replace(/\+/g, '%20');
  return rawRequest(`${url.origin}${request.path}${qs ? `?${qs}` : ''}`, {
    method: request.method,
    headers,
    body: sendBody,
  });
}

export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; ca?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      {
        method: options.method ?? 'GET',
        hostname: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        headers: options.headers ?? {},
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A JSON 1.1 call: POST / with X-Amz-Target, signed. */
export function jsonCall(
  endpoint: string,
  target: string,
  input: unknown,
  extra: Partial<SignedRequestOptions> & { service: string },
): Promise<RawResponse> {
  return signedRequest({
    endpoint,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
    body: typeof input === 'string' ? input : JSON.stringify(input),
    ...extra,
  });
}
