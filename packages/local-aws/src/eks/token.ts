// An EKS bearer token, checked as aws-iam-authenticator checks it before it asks STS: the
// `k8s-aws-v1.` prefix and base64url of a presigned STS GetCallerIdentity URL, on an STS host
// (or local-aws's own endpoint), path `/`, only the query keys a presigned GetCallerIdentity has,
// `x-k8s-aws-id` among the signed headers, and X-Amz-Date at most 15 minutes old. The signature
// itself (and the cluster name the client signed as x-k8s-aws-id) is verified by STS's check,
// called by the authenticator with the cluster's name.

export const TOKEN_PREFIX = 'k8s-aws-v1.';
/** aws-iam-authenticator's limit on a token's length. */
const MAX_TOKEN_LENGTH = 8192;
export const TOKEN_LIFETIME_MS = 15 * 60_000;

const ALLOWED_QUERY_KEYS = new Set([
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-signedheaders',
  'x-amz-signature',
  'x-amz-security-token',
]);

/** STS's public hosts: global, regional, FIPS, China (aws-iam-authenticator's list, as a pattern). */
const STS_HOST = /^sts(-fips)?(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/;

export type TokenCheck = { url: string } | { refused: string };

/**
 * The presigned URL a token carries, or why it is refused (aws-iam-authenticator's reasons).
 * `ownHosts` are local-aws's own endpoint hosts (`127.0.0.1:<port>`), which also answer STS.
 */
export function checkToken(
  authorization: string | undefined,
  options: { ownHosts: readonly string[]; now: number; lifetimeMs?: number },
): TokenCheck {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (!bearer) return { refused: 'no bearer token' };
  if (!bearer.startsWith(TOKEN_PREFIX)) return { refused: 'token is not of type k8s-aws-v1' };
  if (bearer.length > MAX_TOKEN_LENGTH) return { refused: 'token is too large' };
  const encoded = bearer.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(encoded)) return { refused: 'input token was not properly formatted' };
  const url = Buffer.from(encoded, 'base64url').toString('utf8');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { refused: 'input token was not properly formatted: not a URL' };
  }
  const own = options.ownHosts.includes(parsed.host);
  if (!own && !STS_HOST.test(parsed.hostname))
    return { refused: `unexpected hostname "${parsed.hostname}" in pre-signed URL` };
  if (parsed.port !== '' && !own) return { refused: `unexpected port in pre-signed URL` };
  if (parsed.protocol !== 'https:' && !(own && parsed.protocol === 'http:'))
    return { refused: `unexpected scheme "${parsed.protocol.replace(':', '')}" in pre-signed URL` };
  if (parsed.pathname !== '/') return { refused: 'unexpected path in pre-signed URL' };
  for (const key of parsed.searchParams.keys())
    if (!ALLOWED_QUERY_KEYS.has(key.toLowerCase()))
      return { refused: `non-whitelisted query parameter "${key}"` };
  if (parsed.searchParams.get('Action') !== 'GetCallerIdentity')
    return { refused: 'unexpected action parameter in pre-signed URL' };
  const signed = (parsed.searchParams.get('X-Amz-SignedHeaders') ?? '').toLowerCase().split(';');
  if (!signed.includes('x-k8s-aws-id'))
    return { refused: 'client did not sign the x-k8s-aws-id header in the pre-signed URL' };
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(
    parsed.searchParams.get('X-Amz-Date') ?? '',
  );
  if (!date) return { refused: 'error parsing X-Amz-Date parameter' };
  const signedAt = Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!);
  if (options.now > signedAt + (options.lifetimeMs ?? TOKEN_LIFETIME_MS))
    return { refused: 'X-Amz-Date parameter is expired (15 minute expiration)' };
  return { url };
}
