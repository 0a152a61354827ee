// IAM's state: per account, roles (trust policy, inline and attached policies), customer managed
// policies and OpenID Connect providers; and, server-wide, where the discovery document of an
// issuer that is not on loopback is fetched from (a test's stand-in of GitHub's token service).
import { createHash } from 'node:crypto';
import type { StateStore } from '../service.js';
import { parsePolicy, type PolicyDocument } from '../platform/iam-policy.js';
import { awsManagedPolicy } from './managed-policies.js';

export interface Tag {
  Key: string;
  Value: string;
}

export interface RoleState {
  name: string;
  path: string;
  roleId: string;
  arn: string;
  createdAt: number;
  /** The trust policy as it was given (IAM answers it back as given). */
  trustPolicy: string;
  description?: string;
  maxSessionDuration: number;
  tags: Tag[];
  /** Inline policies: name → document text. */
  inline: Record<string, string>;
  /** Attached managed policies' ARNs, in attach order. */
  attached: string[];
}

export interface CustomerPolicyState {
  name: string;
  path: string;
  policyId: string;
  arn: string;
  description?: string;
  document: string;
  createdAt: number;
  tags: Tag[];
}

export interface OidcProviderState {
  /** As given, scheme included: https://token.actions.githubusercontent.com. */
  url: string;
  arn: string;
  clientIds: string[];
  thumbprints: string[];
  createdAt: number;
  tags: Tag[];
}

export interface AccountIam {
  /** Keyed by the lower-cased name: IAM role names are unique whatever their case. */
  roles: Record<string, RoleState>;
  policies: Record<string, CustomerPolicyState>;
  /** Keyed by the URL without its scheme (the provider ARN's last part). */
  oidcProviders: Record<string, OidcProviderState>;
}

export interface IamState {
  accounts: Record<string, AccountIam>;
  /** Issuer URL → the loopback base URL its /.well-known/openid-configuration is fetched from. */
  discovery: Record<string, string>;
}

export function loadState(state: StateStore): IamState {
  const iam = state.namespace<IamState>('iam', () => ({ accounts: {}, discovery: {} }));
  iam.accounts ??= {};
  iam.discovery ??= {};
  return iam;
}

export function accountOf(iam: IamState, accountId: string): AccountIam {
  return (iam.accounts[accountId] ??= { roles: {}, policies: {}, oidcProviders: {} });
}

/** An IAM unique id: a prefix (AROA role, ANPA policy) and 17 characters, stable for a seed. */
export function uniqueId(prefix: string, seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = prefix;
  for (let i = 0; i < 17; i++) out += alphabet[digest[i]! % 32];
  return out;
}

/** The provider key of an issuer or provider URL: without its scheme and trailing slash. */
export function providerKey(url: string): string {
  return url.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
}

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;

export function roleByArn(iam: IamState, arn: string): RoleState | undefined {
  const m = ROLE_ARN.exec(arn);
  if (!m) return undefined;
  const role = iam.accounts[m[1]!]?.roles[m[2]!.toLowerCase()];
  return role && role.arn === arn ? role : undefined;
}

// Documents are stored as text and parsed once per distinct text.
const parsed = new Map<string, PolicyDocument>();
export function documentOf(text: string, kind: 'identity' | 'resource' = 'identity'): PolicyDocument {
  const key = `${kind}:${text}`;
  let doc = parsed.get(key);
  if (!doc) {
    doc = parsePolicy(text, kind);
    if (parsed.size > 2000) parsed.clear();
    parsed.set(key, doc);
  }
  return doc;
}

/** A managed policy's document: AWS's or the account's own. */
export function managedDocument(iam: IamState, arn: string): PolicyDocument | undefined {
  const aws = awsManagedPolicy(arn);
  if (aws) return aws.document;
  const account = /^arn:aws:iam::(\d{12}):policy\//.exec(arn)?.[1];
  const policy = account ? iam.accounts[account]?.policies[arn] : undefined;
  return policy ? documentOf(policy.document) : undefined;
}

/** Every identity-based document of a role: its inline policies and its attached ones. */
export function rolePolicies(iam: IamState, role: RoleState): PolicyDocument[] {
  return [
    ...Object.values(role.inline).map((text) => documentOf(text)),
    ...role.attached
      .map((arn) => managedDocument(iam, arn))
      .filter((d): d is PolicyDocument => d !== undefined),
  ];
}
