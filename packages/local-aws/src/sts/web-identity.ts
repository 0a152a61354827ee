// OpenID Connect ID tokens as STS checks them for AssumeRoleWithWebIdentity: the JWT is decoded,
// its issuer's keys are fetched (/.well-known/openid-configuration → jwks_uri) and its signature
// verified with the key its header names. Fetching happens on loopback only — the issuer itself
// when it is a 127.0.0.1/localhost URL, or the stand-in a test routed the issuer to (IAM's
// routeIssuer) — with a deadline, over HTTP or HTTPS (trusting the system's CAs and local-aws's).
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';

export interface DecodedJwt {
  header: { alg?: unknown; kid?: unknown; typ?: unknown };
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** The JWT's parts, or undefined when it is not one (three base64url parts, JSON header and claims). */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown;
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null)
      return undefined;
    return {
      header: header as DecodedJwt['header'],
      claims: claims as Record<string, unknown>,
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

const ALGORITHMS: Record<string, { hash: string; ec: boolean }> = {
  RS256: { hash: 'sha256', ec: false },
  RS384: { hash: 'sha384', ec: false },
  RS512: { hash: 'sha512', ec: false },
  ES256: { hash: 'sha256', ec: true },
  ES384: { hash: 'sha384', ec: true },
};

/**
 * Verifies the JWT's signature with the issuer's keys: the key its `kid` names (or the only key
 * when it names none). 'no-key' when no key fits, false when the signature does not verify.
 */
export function verifyJwt(jwt: DecodedJwt, keys: readonly JsonWebKey[]): boolean | 'no-key' {
  const alg = typeof jwt.header.alg === 'string' ? ALGORITHMS[jwt.header.alg] : undefined;
  if (!alg) return false;
  const kid = jwt.header.kid;
  const candidates =
    typeof kid === 'string' ? keys.filter((k) => k.kid === kid) : keys.length === 1 ? keys : [];
  const usable = candidates.filter((k) => (alg.ec ? k.kty === 'EC' : k.kty === 'RSA'));
  if (usable.length === 0) return 'no-key';
  return usable.some((jwk) => {
    try {
      const key = createPublicKey({ key: jwk, format: 'jwk' });
      return verify(
        alg.hash,
        Buffer.from(jwt.signingInput),
        alg.ec ? { key, dsaEncoding: 'ieee-p1363' } : key,
        jwt.signature,
      );
    } catch {
      return false;
    }
  });
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const FETCH_DEADLINE_MS = 5000;
const MAX_BODY = 1024 * 1024;

/** GET a JSON document over loopback, within the deadline. */
function getJson(url: URL, extraCa: string[]): Promise<unknown> {
  if (!LOOPBACK.has(url.hostname)) return Promise.reject(new Error(`${url.origin} is not on loopback`));
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return Promise.reject(new Error(`${url.protocol} is not http(s)`));
  return new Promise((resolve, reject) => {
    const options = {
      method: 'GET',
      headers: { accept: 'application/json' },
      timeout: FETCH_DEADLINE_MS,
      ...(url.protocol === 'https:' ? { ca: [...rootCertificates, ...extraCa] } : {}),
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) req.destroy(new Error('the document is over 1 MiB'));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        if ((res.statusCode ?? 0) !== 200) return reject(new Error(`${url.href} answered ${res.statusCode}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(new Error(`${url.href} is not JSON`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () =>
      req.destroy(new Error(`${url.href} did not answer within ${FETCH_DEADLINE_MS} ms`)),
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * The issuer's signing keys: its discovery document from `base` (the issuer, or where a test
 * routed it), then its jwks_uri — itself moved to `base` when it names the issuer's own origin.
 */
export async function fetchIssuerKeys(
  issuer: string,
  base: string,
  extraCa: string[],
): Promise<JsonWebKey[]> {
  const root = base.replace(/\/+$/, '');
  const discovery = (await getJson(new URL(`${root}/.well-known/openid-configuration`), extraCa)) as {
    jwks_uri?: unknown;
  };
  if (typeof discovery?.jwks_uri !== 'string') throw new Error('the discovery document has no jwks_uri');
  let jwksUrl = new URL(discovery.jwks_uri);
  const issuerOrigin = new URL(issuer).origin;
  if (jwksUrl.origin === issuerOrigin && issuerOrigin !== new URL(root).origin)
    jwksUrl = new URL(
      `${root}${jwksUrl.pathname.slice(new URL(issuer).pathname.replace(/\/+$/, '').length)}${jwksUrl.search}`,
    );
  const jwks = (await getJson(jwksUrl, extraCa)) as { keys?: unknown };
  if (!Array.isArray(jwks?.keys)) throw new Error('the JWKS has no keys');
  return jwks.keys.filter((k): k is JsonWebKey => typeof k === 'object' && k !== null);
}
