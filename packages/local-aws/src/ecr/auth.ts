// Registry passwords: what GetAuthorizationToken hands out and the registry's Basic auth checks.
// The password is self-describing and HMAC-signed with a per-server secret, so the registry can
// verify it without a lookup: it names the identity, the registry (account + region) and the expiry.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Identity } from '../service.js';

export const TOKEN_LIFETIME_MS = 12 * 60 * 60 * 1000;

export interface RegistryCredential {
  identity: Identity;
  /** The registry the token is for. */
  accountId: string;
  region: string;
  expiresAt: number;
}

interface Payload {
  v: 1;
  acct: string;
  arn: string;
  uid: string;
  akid: string;
  reg: string;
  region: string;
  exp: number;
}

export function mintPassword(secret: string, cred: RegistryCredential): string {
  const payload: Payload = {
    v: 1,
    acct: cred.identity.accountId,
    arn: cred.identity.arn,
    uid: cred.identity.userId,
    akid: cred.identity.accessKeyId,
    reg: cred.accountId,
    region: cred.region,
    exp: cred.expiresAt,
  };
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${sign(secret, body)}`;
}

export type VerifyResult =
  { ok: true; cred: RegistryCredential } | { ok: false; reason: 'invalid' | 'expired' };

export function verifyPassword(secret: string, password: string, now: number): VerifyResult {
  const [body, mac, ...rest] = password.split('.');
  if (!body || !mac || rest.length > 0) return { ok: false, reason: 'invalid' };
  const want = Buffer.from(sign(secret, body));
  const got = Buffer.from(mac);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return { ok: false, reason: 'invalid' };
  let p: Payload;
  try {
    p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload;
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  if (p.exp <= now) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    cred: {
      identity: { accountId: p.acct, arn: p.arn, userId: p.uid, accessKeyId: p.akid },
      accountId: p.reg,
      region: p.region,
      expiresAt: p.exp,
    },
  };
}

/** Parses `Authorization: Basic base64(AWS:<password>)`. */
export function basicPassword(header: string | undefined): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+(\S+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

function sign(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}
