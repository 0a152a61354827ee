// EKS's state: clusters per account and region, each with its access entries (and the access
// policies associated with them) and its updates. JSON-serialisable (state.json); the simulated
// Kubernetes cluster behind each one lives in memory (clusters.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import type { StateStore } from '../service.js';

export type ClusterStatus = 'CREATING' | 'ACTIVE' | 'DELETING' | 'FAILED' | 'UPDATING' | 'PENDING';
export type AuthenticationMode = 'CONFIG_MAP' | 'API' | 'API_AND_CONFIG_MAP';
export const AUTHENTICATION_MODES: readonly AuthenticationMode[] = [
  'CONFIG_MAP',
  'API_AND_CONFIG_MAP',
  'API',
];

export interface AccessScope {
  type: 'cluster' | 'namespace';
  namespaces: string[];
}

export interface AssociatedPolicy {
  policyArn: string;
  accessScope: AccessScope;
  associatedAt: number;
  modifiedAt: number;
}

export interface AccessEntryState {
  principalArn: string;
  accessEntryArn: string;
  kubernetesGroups: string[];
  username: string;
  type: string;
  createdAt: number;
  modifiedAt: number;
  tags: Record<string, string>;
  policies: Record<string, AssociatedPolicy>;
}

export interface UpdateState {
  id: string;
  status: 'InProgress' | 'Successful' | 'Failed' | 'Cancelled';
  type: string;
  params: Array<{ type: string; value: string }>;
  createdAt: number;
  /** What the update applies when it completes. */
  authenticationMode?: AuthenticationMode;
  dueAt: number;
}

export interface ClusterState {
  name: string;
  arn: string;
  accountId: string;
  region: string;
  /** The hex id EKS puts in the endpoint's host and the OIDC issuer; here, the endpoint's path. */
  id: string;
  createdAt: number;
  version: string;
  roleArn: string;
  platformVersion: string;
  status: ClusterStatus;
  /** When the current CREATING / DELETING ends (simulated ms). */
  statusDueAt?: number;
  resourcesVpcConfig: Record<string, unknown>;
  kubernetesNetworkConfig: Record<string, unknown>;
  logging: Record<string, unknown>;
  tags: Record<string, string>;
  accessConfig: { authenticationMode: AuthenticationMode; bootstrapClusterCreatorAdminPermissions: boolean };
  /** The principal that created the cluster (a session's role): cluster admin in CONFIG_MAP mode. */
  creatorArn: string;
  accessEntries: Record<string, AccessEntryState>;
  updates: Record<string, UpdateState>;
}

export interface EksTimings {
  /** CREATING → ACTIVE (default 10 simulated minutes, about what EKS takes). */
  activationMs: number;
  /** DELETING → gone (default 5 simulated minutes). */
  deletionMs: number;
  /** An update's InProgress → Successful, the cluster UPDATING meanwhile (default 1 minute). */
  updateMs: number;
  /**
   * How long after its X-Amz-Date a token is accepted, on the signature clock (EKS: 15 minutes).
   * Tests shorten it to see a client make its token anew mid-rollout.
   */
  tokenLifetimeMs?: number;
}

export const DEFAULT_TIMINGS: EksTimings = {
  activationMs: 10 * 60_000,
  deletionMs: 5 * 60_000,
  updateMs: 60_000,
  tokenLifetimeMs: 15 * 60_000,
};

export interface EksState {
  /** `<account>/<region>` → cluster name → cluster. */
  regions: Record<string, Record<string, ClusterState>>;
  timings: EksTimings;
}

export function loadState(state: StateStore): EksState {
  const s = state.namespace<EksState>('eks', () => ({ regions: {}, timings: { ...DEFAULT_TIMINGS } }));
  s.regions ??= {};
  s.timings = { ...DEFAULT_TIMINGS, ...s.timings };
  return s;
}

export function clustersOf(s: EksState, accountId: string, region: string): Record<string, ClusterState> {
  return (s.regions[`${accountId}/${region}`] ??= {});
}

export const partitionOf = (region: string) =>
  region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';

export const clusterArn = (accountId: string, region: string, name: string) =>
  `arn:${partitionOf(region)}:eks:${region}:${accountId}:cluster/${name}`;

/** EKS's hex cluster id (32 upper-case hex digits, as in `<ID>.gr7.<region>.eks.amazonaws.com`). */
export const newClusterId = () => randomBytes(16).toString('hex').toUpperCase();

export const newUpdateId = () => randomUUID();

/** The access policies EKS has (arn:aws:eks::aws:cluster-access-policy/<Name>). */
export const ACCESS_POLICY_NAMES = [
  'AmazonEKSClusterAdminPolicy',
  'AmazonEKSAdminPolicy',
  'AmazonEKSEditPolicy',
  'AmazonEKSViewPolicy',
] as const;
export type AccessPolicyName = (typeof ACCESS_POLICY_NAMES)[number];

export const accessPolicyArn = (name: string) => `arn:aws:eks::aws:cluster-access-policy/${name}`;

export function accessPolicyName(arn: string): AccessPolicyName | undefined {
  const m = /^arn:aws[\w-]*:eks::aws:cluster-access-policy\/(\w+)$/.exec(arn);
  return ACCESS_POLICY_NAMES.find((n) => n === m?.[1]);
}

/**
 * An IAM principal ARN as access entries and aws-auth name it: an STS assumed-role session is its
 * role (`arn:aws:iam::<acct>:role/<role>`), and a role or user ARN loses its path, as
 * aws-iam-authenticator canonicalises (an STS ARN does not carry the path).
 */
export function canonicalPrincipal(arn: string): string {
  const session = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  if (session) return `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`;
  const iam = /^arn:([\w-]+):iam::(\d{12}):(role|user)\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (iam) return `arn:${iam[1]}:iam::${iam[2]}:${iam[3]}/${iam[4]}`;
  return arn;
}

/** `role` or `user` and the account and name of an IAM principal ARN; undefined when it is not one. */
export function principalParts(
  arn: string,
): { type: 'role' | 'user' | 'root'; accountId: string; name: string; partition: string } | undefined {
  // An account's root user may be a principal too (the creator of a cluster, when it signed).
  const root = /^arn:(aws[\w-]*):iam::(\d{12}):root$/.exec(arn);
  if (root) return { partition: root[1]!, accountId: root[2]!, type: 'root', name: 'root' };
  const m = /^arn:(aws[\w-]*):iam::(\d{12}):(role|user)\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,128})$/.exec(arn);
  return m ? { partition: m[1]!, accountId: m[2]!, type: m[3] as 'role' | 'user', name: m[4]! } : undefined;
}
