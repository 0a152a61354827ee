// AWS Signature Version 4, verified the way AWS verifies it: the canonical request is rebuilt from
// the bytes on the wire (URI, query, signed headers, payload hash), the signing key is derived from
// the secret of the access key in the credential scope, and the signatures are compared. Header
// (Authorization) and query-string (presigned URL) forms are both supported.
//
// This module knows nothing about protocols: it throws SigV4Error with a `kind`, and the protocol
// layer (protocols.ts) turns that into AWS's code for that protocol (JSON 1.1 vs Query).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Identity } from '../service.js';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** A key the server accepts: the secret, an optional session token, and who it belongs to. */
export interface SigningCredential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Temporary credentials stop working at this time (ms since the epoch, the credential clock). */
  expiresAt?: number;
  identity: Identity;
}

export interface CredentialLookup {
  get(accessKeyId: string): SigningCredential | undefined;
}

export type SigV4ErrorKind =
  /** No Authorization header and no X-Amz-Algorithm query parameter. */
  | 'missing'
  /** Authorization present but malformed (missing Credential/SignedHeaders/Signature, bad algorithm). */
  | 'incomplete'
  /** The access key id is not known. */
  | 'unknown-key'
  /** The session token is missing, extra or wrong for that key. */
  | 'bad-token'
  /** The signature does not match (wrong secret, tampered request). */
  | 'mismatch'
  /** Request time outside the allowed skew, or a presigned URL past its lifetime. */
  | 'expired'
  /** The credential scope is wrong (date, region, service, terminator). */
  | 'scope'
  /** Temporary credentials past their expiration. */
  | 'expired-token';

export class SigV4Error extends Error {
  constructor(
    readonly kind: SigV4ErrorKind,
    message: string,
    readonly accessKeyId?: string,
  ) {
    super(message);
    this.name = 'SigV4Error';
  }
}

export const MESSAGES = {
  mismatch:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  invalidToken: 'The security token included in the request is invalid.',
  expiredToken: 'The security token included in the request is expired',
} as const;

/** A request as it arrived: raw path and query (undecoded), headers lower-cased, the body. */
export interface WireRequest {
  method: string;
  /** The path exactly as sent, without the query string. */
  rawPath: string;
  /** The query string exactly as sent, without '?'. */
  rawQuery: string;
  /** Lower-case names; repeated headers joined with ','. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface CredentialScope {
  date: string;
  region: string;
  service: string;
}

export interface VerifyOptions {
  credentials: CredentialLookup;
  /** Milliseconds since the epoch to check the request time against. */
  now: number;
  /** Allowed clock skew for header-signed requests, in ms (AWS: 5 min; STS: 15 min). */
  skewMs?: number;
  /** When set, the credential scope's service must be this signing name. */
  service?: string;
  /**
   * Presigned URLs: the lifetime to enforce from X-Amz-Date. Default: X-Amz-Expires. STS accepts a
   * presigned GetCallerIdentity for 15 minutes whatever X-Amz-Expires says (EKS tokens rely on it).
   */
  presignedMaxAgeMs?: number;
  /** S3 does not normalise or double-encode the path; every other service does. */
  s3?: boolean;
}

export interface Verified {
  credential: SigningCredential;
  scope: CredentialScope;
  presigned: boolean;
  /** The request time the client signed, ms since the epoch. */
  signedAt: number;
}

interface ParsedAuth {
  accessKeyId: string;
  scope: CredentialScope;
  terminator: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  presigned: boolean;
  expiresSeconds?: number;
  securityToken?: string;
  /** The query pairs that enter the canonical query string. */
  queryPairs: [string, string][];
  rawCredential: string;
}

// ---------------------------------------------------------------------------------------------
// Encoding helpers (RFC 3986 as SigV4 wants it)

/** encodeURIComponent plus the characters it leaves alone that SigV4 encodes. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Splits a raw query string into decoded [key, value] pairs (no '+' to space: SigV4 does not). */
export function parseQueryPairs(rawQuery: string): [string, string][] {
  if (!rawQuery) return [];
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    pairs.push([safeDecode(key), safeDecode(value)]);
  }
  return pairs;
}

export function canonicalQuery(pairs: [string, string][]): string {
  return pairs
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

export function canonicalUri(rawPath: string, s3 = false): string {
  const path = rawPath === '' ? '/' : rawPath;
  if (s3) return path;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalised = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${
    segments.length > 0 && path.endsWith('/') ? '/' : ''
  }`;
  return uriEncode(normalised).replace(/%2F/g, '/');
}

function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function signingKey(secret: string, scope: CredentialScope): Buffer {
  const kDate = hmac(`AWS4${secret}`, scope.date);
  const kRegion = hmac(kDate, scope.region);
  const kService = hmac(kRegion, scope.service);
  return hmac(kService, 'aws4_request');
}

/** Parses 20240101T000000Z (the only form AWS accepts in X-Amz-Date) or an RFC 1123 Date header. */
export function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (m) return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

export function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

// ---------------------------------------------------------------------------------------------
// Parsing the signature out of the request

function parseCredential(
  credential: string,
  raw: string,
): Pick<ParsedAuth, 'accessKeyId' | 'scope' | 'terminator'> {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) {
    throw new SigV4Error(
      'incomplete',
      `Credential should be scoped to a valid region, not '${parts[2] ?? ''}'. ` +
        (parts.length !== 5 ? `Credential=${raw}` : ''),
      parts[0],
    );
  }
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  return { accessKeyId, scope: { date, region, service }, terminator };
}

function parseAuthorizationHeader(header: string, req: WireRequest): ParsedAuth {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw new SigV4Error(
      'incomplete',
      `Unsupported AWS 'algorithm': '${algorithm}'. Authorization=${header}`,
    );
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((f) => !fields.get(f));
  const amzDate = req.headers['x-amz-date'] ?? req.headers['date'];
  if (missing.length > 0 || !amzDate) {
    const problems = missing.map((f) => `Authorization header requires '${f}' parameter.`);
    if (!amzDate) {
      problems.push(`Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.`);
    }
    throw new SigV4Error('incomplete', `${problems.join(' ')} Authorization=${header}`);
  }
  const rawCredential = fields.get('Credential')!;
  const token = req.headers['x-amz-security-token'];
  return {
    ...parseCredential(rawCredential, header),
    signedHeaders: fields
      .get('SignedHeaders')!
      .split(';')
      .map((h) => h.trim().toLowerCase()),
    signature: fields.get('Signature')!,
    amzDate,
    presigned: false,
    ...(token !== undefined ? { securityToken: token } : {}),
    queryPairs: parseQueryPairs(req.rawQuery),
    rawCredential,
  };
}

function parsePresigned(pairs: [string, string][]): ParsedAuth {
  const get = (name: string) => pairs.find(([k]) => k === name)?.[1];
  const algorithm = get('X-Amz-Algorithm');
  if (algorithm !== ALGORITHM) {
    throw new SigV4Error('incomplete', `Unsupported AWS 'algorithm': '${algorithm ?? ''}'.`);
  }
  const required = ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Signature'];
  const missing = required.filter((name) => !get(name));
  if (missing.length > 0) {
    throw new SigV4Error(
      'incomplete',
      missing.map((name) => `AWS query-string parameters must include '${name}'.`).join(' ') +
        ' Re-examine the query-string parameters.',
    );
  }
  const expires = get('X-Amz-Expires');
  const token = get('X-Amz-Security-Token');
  const rawCredential = get('X-Amz-Credential')!;
  return {
    ...parseCredential(rawCredential, rawCredential),
    signedHeaders: get('X-Amz-SignedHeaders')!
      .split(';')
      .map((h) => h.trim().toLowerCase()),
    signature: get('X-Amz-Signature')!,
    amzDate: get('X-Amz-Date')!,
    presigned: true,
    ...(expires !== undefined ? { expiresSeconds: Number(expires) } : {}),
    ...(token !== undefined ? { securityToken: token } : {}),
    queryPairs: pairs.filter(([k]) => k !== 'X-Amz-Signature'),
    rawCredential,
  };
}

/** Where a request's signature is: header, query string, or nowhere. Cheap; no verification. */
export function signatureLocation(
  req: Pick<WireRequest, 'headers' | 'rawQuery'>,
): 'header' | 'query' | 'none' {
  if (req.headers['authorization']) return 'header';
  if (/(^|&)X-Amz-Algorithm=/.test(req.rawQuery)) return 'query';
  return 'none';
}

/** The credential scope a request claims, without verifying anything (to route Query requests). */
export function claimedScope(req: Pick<WireRequest, 'headers' | 'rawQuery'>): CredentialScope | undefined {
  let credential: string | undefined;
  const header = req.headers['authorization'];
  if (header) credential = /Credential=([^,\s]+)/.exec(header)?.[1];
  else credential = parseQueryPairs(req.rawQuery).find(([k]) => k === 'X-Amz-Credential')?.[1];
  const parts = credential?.split('/');
  if (!parts || parts.length !== 5) return undefined;
  return { date: parts[1]!, region: parts[2]!, service: parts[3]! };
}

/** The access key a request claims, for logging failures. */
export function claimedAccessKeyId(req: Pick<WireRequest, 'headers' | 'rawQuery'>): string | undefined {
  const header = req.headers['authorization'];
  const credential = header
    ? /Credential=([^,\s]+)/.exec(header)?.[1]
    : parseQueryPairs(req.rawQuery).find(([k]) => k === 'X-Amz-Credential')?.[1];
  return credential?.split('/')[0];
}

// ---------------------------------------------------------------------------------------------
// Verification

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** The canonical request for the parsed signature (exported for tests and debugging). */
export function canonicalRequest(req: WireRequest, auth: ParsedAuth, s3 = false): string {
  const headers = auth.signedHeaders.map(
    (name) => `${name}:${canonicalHeaderValue(req.headers[name] ?? '')}\n`,
  );
  const declared = req.headers['x-amz-content-sha256'];
  const presignedHash = auth.presigned
    ? auth.queryPairs.find(([k]) => k === 'X-Amz-Content-Sha256')?.[1]
    : undefined;
  let payloadHash: string;
  if (declared === 'UNSIGNED-PAYLOAD' || declared?.startsWith('STREAMING-')) payloadHash = declared;
  else if (presignedHash === 'UNSIGNED-PAYLOAD') payloadHash = presignedHash;
  else payloadHash = req.body.length === 0 ? EMPTY_SHA256 : sha256Hex(req.body);
  return [
    req.method.toUpperCase(),
    canonicalUri(req.rawPath, s3),
    canonicalQuery(auth.queryPairs),
    headers.join(''),
    auth.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

/**
 * Verifies a SigV4-signed request (Authorization header or presigned query string). Returns who
 * signed it, or throws SigV4Error.
 */
export function verifyRequest(req: WireRequest, options: VerifyOptions): Verified {
  const where = signatureLocation(req);
  if (where === 'none') throw new SigV4Error('missing', 'Missing Authentication Token');
  const auth =
    where === 'header'
      ? parseAuthorizationHeader(req.headers['authorization']!, req)
      : parsePresigned(parseQueryPairs(req.rawQuery));

  // Who is it? (AWS reports an unknown key before a bad signature.)
  const credential = options.credentials.get(auth.accessKeyId);
  if (!credential) throw new SigV4Error('unknown-key', MESSAGES.invalidToken, auth.accessKeyId);
  if ((auth.securityToken ?? '') !== (credential.sessionToken ?? '')) {
    throw new SigV4Error('bad-token', MESSAGES.invalidToken, auth.accessKeyId);
  }

  // The credential scope.
  const signedAt = parseAmzDate(auth.amzDate);
  if (signedAt === undefined) {
    throw new SigV4Error(
      'incomplete',
      `Date must be in ISO-8601 'basic format'. Got '${auth.amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
      auth.accessKeyId,
    );
  }
  const isoDate = formatAmzDate(signedAt);
  if (auth.terminator !== 'aws4_request') {
    throw new SigV4Error(
      'scope',
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${auth.terminator}'. `,
      auth.accessKeyId,
    );
  }
  if (auth.scope.date !== isoDate.slice(0, 8)) {
    throw new SigV4Error(
      'scope',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.scope.date}' != '${isoDate.slice(0, 8)}', from '${isoDate}'.`,
      auth.accessKeyId,
    );
  }
  if (!REGION.test(auth.scope.region)) {
    throw new SigV4Error(
      'scope',
      `Credential should be scoped to a valid region, not '${auth.scope.region}'. `,
      auth.accessKeyId,
    );
  }
  if (options.service && auth.scope.service !== options.service) {
    throw new SigV4Error(
      'scope',
      `Credential should be scoped to correct service: '${options.service}'. `,
      auth.accessKeyId,
    );
  }
  if (!auth.signedHeaders.includes('host')) {
    throw new SigV4Error(
      'mismatch',
      `'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.`,
      auth.accessKeyId,
    );
  }

  // Time.
  const now = options.now;
  if (auth.presigned) {
    const maxAgeMs = options.presignedMaxAgeMs ?? (auth.expiresSeconds ?? 900) * 1000;
    if (now > signedAt + maxAgeMs) {
      throw new SigV4Error(
        'expired',
        `Signature expired: ${isoDate} is now earlier than ${formatAmzDate(now - maxAgeMs)} (${formatAmzDate(now)} - ${Math.round(maxAgeMs / 60000)} min.)`,
        auth.accessKeyId,
      );
    }
  }
  const skewMs = options.skewMs ?? 5 * 60_000;
  const minutes = Math.round(skewMs / 60_000);
  if (!auth.presigned && signedAt < now - skewMs) {
    throw new SigV4Error(
      'expired',
      `Signature expired: ${isoDate} is now earlier than ${formatAmzDate(now - skewMs)} (${formatAmzDate(now)} - ${minutes} min.)`,
      auth.accessKeyId,
    );
  }
  if (signedAt > now + skewMs) {
    throw new SigV4Error(
      'expired',
      `Signature not yet current: ${isoDate} is still later than ${formatAmzDate(now + skewMs)} (${formatAmzDate(now)} + ${minutes} min.)`,
      auth.accessKeyId,
    );
  }

  // The signature.
  const scopeString = `${auth.scope.date}/${auth.scope.region}/${auth.scope.service}/aws4_request`;
  const canonical = canonicalRequest(req, auth, options.s3);
  const stringToSign = [ALGORITHM, auth.amzDate, scopeString, sha256Hex(canonical)].join('\n');
  const expected = createHmac('sha256', signingKey(credential.secretAccessKey, auth.scope))
    .update(stringToSign, 'utf8')
    .digest();
  const given = /^[0-9a-f]{64}$/i.test(auth.signature) ? Buffer.from(auth.signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new SigV4Error('mismatch', MESSAGES.mismatch, auth.accessKeyId);
  }
  if (credential.expiresAt !== undefined && now >= credential.expiresAt) {
    throw new SigV4Error('expired-token', MESSAGES.expiredToken, auth.accessKeyId);
  }
  return { credential, scope: auth.scope, presigned: auth.presigned, signedAt };
}

/** Lower-cases header names and joins repeated headers with ',' (from Node's rawHeaders). */
export function headersFromRaw(rawHeaders: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return headers;
}
