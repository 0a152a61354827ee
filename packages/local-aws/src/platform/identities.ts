// The access keys the server accepts, each with its own identity (what GetCallerIdentity returns)
// and what IAM evaluates for it: nothing (a key without a policy may do anything, as local-aws
// always allowed), the identity policy it was given, or — for a role session from STS — the role's
// policies, read from IAM on every request, and the session policy it was issued with.
import { createHash } from 'node:crypto';
import type { Identity } from '../service.js';
import { parsePolicy, type PolicyDocument } from './iam-policy.js';
import type { CredentialLookup, SigningCredential } from './sigv4.js';

/** One accepted key. Without arn/userId: the account root for long-term keys, an assumed role with a session token. */
export interface CredentialSpec {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests must carry exactly this X-Amz-Security-Token. */
  sessionToken?: string;
  /**
   * Default: arn:aws:iam::<account>:root; arn:aws:iam::<account>:user/<key> for a key given a
   * policy; arn:aws:sts::<account>:assumed-role/local-aws/<key> with a session token.
   */
  arn?: string;
  /** Default: the account id (root), AIDA… for a user, or AROA…:<key> with a session token. */
  userId?: string;
  /** Default: the server's account. */
  accountId?: string;
  /**
   * The identity-based policy (a document, or its JSON) IAM evaluates for every call made with this
   * key. Without one, the key may call anything (local-aws's behaviour before IAM was evaluated).
   */
  policy?: PolicyDocument | string;
  /** When the key stops working (ms since the epoch, on the server's credential clock). */
  expiresAt?: number;
  /** A role session: the role whose policies (read from IAM at each request) the key carries. */
  roleArn?: string;
  /** A role session's session policy: it narrows what the role's policies allow. */
  sessionPolicy?: PolicyDocument;
}

/** What IAM evaluates for a key. */
export interface KeyPolicies {
  /** The key's own identity policy (undefined: none). */
  policy?: PolicyDocument;
  /** For a role session: the role. */
  roleArn?: string;
  sessionPolicy?: PolicyDocument;
}

/** An identity as the admin API lists it: never its secret or session token. */
export interface IdentitySummary extends Identity {
  policy?: PolicyDocument;
  roleArn?: string;
  expiresAt?: string;
}

function fakeId(prefix: string, seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = prefix;
  for (let i = 0; i < 17; i++) out += alphabet[digest[i]! % 32];
  return out;
}

export class IdentityStore implements CredentialLookup {
  private readonly byKey = new Map<string, SigningCredential>();
  private readonly policies = new Map<string, KeyPolicies>();

  constructor(private readonly defaultAccountId: string) {}

  /** Adds (or replaces) an accepted key; returns the identity requests signed with it will have. */
  add(spec: CredentialSpec): Identity {
    const accountId = spec.accountId ?? this.defaultAccountId;
    const assumed = spec.sessionToken !== undefined;
    const policy = spec.policy === undefined ? undefined : parsePolicy(spec.policy, 'identity');
    const user = !assumed && policy !== undefined;
    const identity: Identity = {
      accountId,
      accessKeyId: spec.accessKeyId,
      arn:
        spec.arn ??
        (assumed
          ? `arn:aws:sts::${accountId}:assumed-role/local-aws/${spec.accessKeyId}`
          : user
            ? `arn:aws:iam::${accountId}:user/${spec.accessKeyId}`
            : `arn:aws:iam::${accountId}:root`),
      userId:
        spec.userId ??
        (assumed
          ? `AROALOCALAWS00000000:${spec.accessKeyId}`
          : user
            ? fakeId('AIDA', `${accountId}/${spec.accessKeyId}`)
            : accountId),
    };
    this.byKey.set(spec.accessKeyId, {
      accessKeyId: spec.accessKeyId,
      secretAccessKey: spec.secretAccessKey,
      ...(spec.sessionToken !== undefined ? { sessionToken: spec.sessionToken } : {}),
      ...(spec.expiresAt !== undefined ? { expiresAt: spec.expiresAt } : {}),
      identity,
    });
    this.policies.set(spec.accessKeyId, {
      ...(policy ? { policy } : {}),
      ...(spec.roleArn !== undefined ? { roleArn: spec.roleArn } : {}),
      ...(spec.sessionPolicy !== undefined ? { sessionPolicy: spec.sessionPolicy } : {}),
    });
    return identity;
  }

  /**
   * Gives a key an identity policy (a document or its JSON), or takes it away (undefined: the key
   * may call anything again). The key's ARN stays what it was. Throws for an unknown key or a
   * document IAM would refuse.
   */
  setPolicy(accessKeyId: string, policy: PolicyDocument | string | undefined): Identity {
    const credential = this.byKey.get(accessKeyId);
    if (!credential) throw new Error(`no access key ${accessKeyId}`);
    const current = this.policies.get(accessKeyId) ?? {};
    const next: KeyPolicies = { ...current };
    if (policy === undefined) delete next.policy;
    else next.policy = parsePolicy(policy, 'identity');
    this.policies.set(accessKeyId, next);
    return credential.identity;
  }

  remove(accessKeyId: string): boolean {
    this.policies.delete(accessKeyId);
    return this.byKey.delete(accessKeyId);
  }

  get(accessKeyId: string): SigningCredential | undefined {
    return this.byKey.get(accessKeyId);
  }

  /** What IAM evaluates for a key; undefined for a key this store does not hold. */
  policiesOf(accessKeyId: string): KeyPolicies | undefined {
    return this.policies.get(accessKeyId);
  }

  list(): Identity[] {
    return [...this.byKey.values()].map((c) => c.identity);
  }

  /** Every key's identity with its policy, role and expiry, for the admin API (no secrets). */
  summaries(): IdentitySummary[] {
    return [...this.byKey.values()].map((c) => {
      const p = this.policies.get(c.accessKeyId) ?? {};
      return {
        ...c.identity,
        ...(p.policy ? { policy: p.policy } : {}),
        ...(p.roleArn !== undefined ? { roleArn: p.roleArn } : {}),
        ...(c.expiresAt !== undefined ? { expiresAt: new Date(c.expiresAt).toISOString() } : {}),
      };
    });
  }
}
