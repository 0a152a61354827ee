// The access keys the server accepts, each with its own identity (what GetCallerIdentity returns).
import type { Identity } from '../service.js';
import type { CredentialLookup, SigningCredential } from './sigv4.js';

/** One accepted key. Without arn/userId: the account root for long-term keys, an assumed role with a session token. */
export interface CredentialSpec {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests must carry exactly this X-Amz-Security-Token. */
  sessionToken?: string;
  /** Default: arn:aws:iam::<account>:root, or arn:aws:sts::<account>:assumed-role/local-aws/<key> with a session token. */
  arn?: string;
  /** Default: the account id (root), or AROA…:<key> with a session token. */
  userId?: string;
  /** Default: the server's account. */
  accountId?: string;
}

export class IdentityStore implements CredentialLookup {
  private readonly byKey = new Map<string, SigningCredential>();

  constructor(private readonly defaultAccountId: string) {}

  /** Adds (or replaces) an accepted key; returns the identity requests signed with it will have. */
  add(spec: CredentialSpec): Identity {
    const accountId = spec.accountId ?? this.defaultAccountId;
    const assumed = spec.sessionToken !== undefined;
    const identity: Identity = {
      accountId,
      accessKeyId: spec.accessKeyId,
      arn:
        spec.arn ??
        (assumed
          ? `arn:aws:sts::${accountId}:assumed-role/local-aws/${spec.accessKeyId}`
          : `arn:aws:iam::${accountId}:root`),
      userId: spec.userId ?? (assumed ? `AROALOCALAWS00000000:${spec.accessKeyId}` : accountId),
    };
    this.byKey.set(spec.accessKeyId, {
      accessKeyId: spec.accessKeyId,
      secretAccessKey: spec.secretAccessKey,
      ...(spec.sessionToken !== undefined ? { sessionToken: spec.sessionToken } : {}),
      identity,
    });
    return identity;
  }

  remove(accessKeyId: string): boolean {
    return this.byKey.delete(accessKeyId);
  }

  get(accessKeyId: string): SigningCredential | undefined {
    return this.byKey.get(accessKeyId);
  }

  list(): Identity[] {
    return [...this.byKey.values()].map((c) => c.identity);
  }
}
