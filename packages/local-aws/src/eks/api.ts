// EKS's control plane operations (REST-JSON): clusters, their authentication mode, and access
// entries with their access policies, with EKS's errors and wording. Status transitions
// (CREATING → ACTIVE, DELETING → gone, an update's InProgress → Successful) run on the clock
// through the lifecycle (clusters.ts).
import { randomUUID } from 'node:crypto';
import type { Ec2Network } from '../ec2/index.js';
import { AwsError, type JsonOperation, type RequestContext } from '../service.js';
import {
  ACCESS_POLICY_NAMES,
  AUTHENTICATION_MODES,
  accessPolicyArn,
  accessPolicyName,
  canonicalPrincipal,
  clusterArn,
  clustersOf,
  newClusterId,
  newUpdateId,
  principalParts,
  type AccessEntryState,
  type AccessScope,
  type AuthenticationMode,
  type ClusterState,
  type EksState,
} from './model.js';

/** What the operations need of the rest of EKS: the clock-driven lifecycle and the cluster's face. */
export interface EksLifecycle {
  /** A cluster was created (CREATING): make its Kubernetes cluster and schedule ACTIVE. */
  created(cluster: ClusterState): void;
  /** DeleteCluster: stop serving now, schedule the removal. */
  deleting(cluster: ClusterState): void;
  /** An update was started: schedule its completion. */
  updating(cluster: ClusterState, updateId: string): void;
  /** The cluster's endpoint URL and the CA's PEM, for DescribeCluster. */
  endpointOf(cluster: ClusterState, ctx: RequestContext): string;
  caPem(ctx: RequestContext): string;
}

const NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const SUPPORTED_VERSIONS = ['1.28', '1.29', '1.30', '1.31', '1.32', '1.33'];
export const DEFAULT_VERSION = '1.32';

const invalidParameter = (message: string, members: Record<string, unknown> = {}) =>
  new AwsError('InvalidParameterException', message, 400, members);
const invalidRequest = (message: string, members: Record<string, unknown> = {}) =>
  new AwsError('InvalidRequestException', message, 400, members);
const notFound = (message: string, members: Record<string, unknown> = {}) =>
  new AwsError('ResourceNotFoundException', message, 404, members);
const inUse = (message: string, members: Record<string, unknown> = {}) =>
  new AwsError('ResourceInUseException', message, 409, members);

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
const record = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const tagsOf = (v: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(record(v)).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );

/** maxResults / nextToken paging over a sorted list, as EKS's List* calls page. */
function page<T>(
  items: T[],
  input: Record<string, unknown>,
  limit = 100,
): { items: T[]; nextToken?: string } {
  const max = input.maxResults === undefined ? limit : Number(input.maxResults);
  if (!Number.isInteger(max) || max < 1 || max > limit)
    throw invalidParameter(`maxResults must be between 1 and ${limit}`);
  let start = 0;
  const token = text(input.nextToken);
  if (token) {
    const decoded = Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(decoded) || decoded < 0 || decoded > items.length)
      throw invalidParameter('The nextToken provided is invalid.');
    start = decoded;
  }
  const end = start + max;
  return {
    items: items.slice(start, end),
    ...(end < items.length ? { nextToken: Buffer.from(String(end)).toString('base64url') } : {}),
  };
}

const entryArn = (c: ClusterState, principalArn: string) => {
  const p = principalParts(principalArn)!;
  return `arn:${p.partition}:eks:${c.region}:${c.accountId}:access-entry/${c.name}/${p.type}/${p.accountId}/${p.name}/${randomUUID()}`;
};

/** Adds an access entry (principalArn checked by the caller), with EKS's default username. */
export function addEntry(
  c: ClusterState,
  principalArn: string,
  now: number,
  options: { kubernetesGroups?: string[]; username?: string; type?: string; tags?: Record<string, string> },
): AccessEntryState {
  const p = principalParts(principalArn)!;
  const entry: AccessEntryState = {
    principalArn,
    accessEntryArn: entryArn(c, principalArn),
    kubernetesGroups: options.kubernetesGroups ?? [],
    username:
      options.username ??
      (p.type === 'role'
        ? `arn:${p.partition}:sts::${p.accountId}:assumed-role/${p.name}/{{SessionName}}`
        : principalArn),
    type: options.type ?? 'STANDARD',
    createdAt: now,
    modifiedAt: now,
    tags: options.tags ?? {},
    policies: {},
  };
  c.accessEntries[principalArn] = entry;
  return entry;
}

/**
 * The cluster creator's admin access as an access entry with AmazonEKSClusterAdminPolicy: at
 * creation in the API modes, and when a CONFIG_MAP cluster moves to an API mode (its creator's
 * implicit system:masters becomes this entry, so the creator keeps administering the cluster).
 */
export function bootstrapCreatorEntry(c: ClusterState, now: number): void {
  if (!c.accessConfig.bootstrapClusterCreatorAdminPermissions || !principalParts(c.creatorArn)) return;
  if (c.accessEntries[c.creatorArn]) return;
  const entry = addEntry(c, c.creatorArn, now, {});
  const policyArn = accessPolicyArn('AmazonEKSClusterAdminPolicy');
  entry.policies[policyArn] = {
    policyArn,
    accessScope: { type: 'cluster', namespaces: [] },
    associatedAt: now,
    modifiedAt: now,
  };
}

export function createEksOperations(
  s: EksState,
  save: () => void,
  deps: { network: Ec2Network; lifecycle: EksLifecycle; now: () => number },
): Record<string, JsonOperation> {
  const { network, lifecycle } = deps;
  const date = (ms: number) => new Date(ms);

  const requireCluster = (name: unknown, ctx: RequestContext): ClusterState => {
    const cluster = clustersOf(s, ctx.identity.accountId, ctx.region)[String(name)];
    if (!cluster)
      throw notFound(`No cluster found for name: ${String(name)}.`, { clusterName: String(name) });
    return cluster;
  };

  /** Access entries need the API in the authentication mode. */
  const requireApiMode = (cluster: ClusterState) => {
    if (cluster.accessConfig.authenticationMode === 'CONFIG_MAP')
      throw invalidRequest(
        "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
        { clusterName: cluster.name },
      );
  };

  const requireEntry = (cluster: ClusterState, principalArn: unknown): AccessEntryState => {
    const entry = cluster.accessEntries[String(principalArn)];
    if (!entry)
      throw notFound(
        `The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.`,
        { clusterName: cluster.name },
      );
    return entry;
  };

  const describeCluster = (c: ClusterState, ctx: RequestContext) => {
    const serving = c.status === 'ACTIVE' || c.status === 'UPDATING';
    return {
      name: c.name,
      arn: c.arn,
      createdAt: date(c.createdAt),
      version: c.version,
      ...(serving ? { endpoint: lifecycle.endpointOf(c, ctx) } : {}),
      roleArn: c.roleArn,
      resourcesVpcConfig: c.resourcesVpcConfig,
      kubernetesNetworkConfig: c.kubernetesNetworkConfig,
      logging: c.logging,
      identity: { oidc: { issuer: `https://oidc.eks.${c.region}.amazonaws.com/id/${c.id}` } },
      status: c.status,
      certificateAuthority: serving ? { data: Buffer.from(lifecycle.caPem(ctx)).toString('base64') } : {},
      platformVersion: c.platformVersion,
      tags: c.tags,
      health: { issues: [] },
      accessConfig: c.accessConfig,
      upgradePolicy: { supportType: 'STANDARD' },
    };
  };

  const describeEntry = (c: ClusterState, e: AccessEntryState) => ({
    clusterName: c.name,
    principalArn: e.principalArn,
    kubernetesGroups: e.kubernetesGroups,
    accessEntryArn: e.accessEntryArn,
    createdAt: date(e.createdAt),
    modifiedAt: date(e.modifiedAt),
    tags: e.tags,
    username: e.username,
    type: e.type,
  });

  const describeAssociation = (p: AccessEntryState['policies'][string]) => ({
    policyArn: p.policyArn,
    accessScope: p.accessScope,
    associatedAt: date(p.associatedAt),
    modifiedAt: date(p.modifiedAt),
  });

  const describeUpdate = (u: ClusterState['updates'][string]) => ({
    id: u.id,
    status: u.status,
    type: u.type,
    params: u.params,
    createdAt: date(u.createdAt),
    errors: [],
  });

  /** Subnets and security groups must exist in the caller's EC2, in one VPC, across two zones. */
  const validateVpcConfig = (input: Record<string, unknown>, ctx: RequestContext) => {
    const subnetIds = strings(input.subnetIds);
    const securityGroupIds = strings(input.securityGroupIds);
    if (subnetIds.length === 0) throw invalidParameter('Subnets must be specified.');
    const subnets = subnetIds.map((id) => {
      const subnet = network.subnet(ctx.identity.accountId, ctx.region, id);
      if (!subnet) throw invalidParameter(`The subnet ID '${id}' does not exist`);
      return subnet;
    });
    const vpcIds = [...new Set(subnets.map((x) => x.vpcId))];
    if (vpcIds.length > 1) throw invalidParameter('Subnets specified must be in the same VPC');
    if (new Set(subnets.map((x) => x.availabilityZone)).size < 2)
      throw invalidParameter('Subnets specified must be in at least two different AZs', {
        clusterName: text(input.name),
      });
    const groups = network.securityGroups(ctx.identity.accountId, ctx.region);
    for (const id of securityGroupIds) {
      const group = groups.find((g) => g.groupId === id);
      if (!group) throw invalidParameter(`The security group '${id}' does not exist`);
      if (group.vpcId !== vpcIds[0])
        throw invalidParameter(`The security group '${id}' is not in the same VPC as the subnets`);
    }
    return {
      subnetIds,
      securityGroupIds,
      clusterSecurityGroupId: `sg-${randomUUID().replace(/-/g, '').slice(0, 17)}`,
      vpcId: vpcIds[0]!,
      endpointPublicAccess: input.endpointPublicAccess !== false,
      endpointPrivateAccess: input.endpointPrivateAccess === true,
      publicAccessCidrs:
        strings(input.publicAccessCidrs).length > 0 ? strings(input.publicAccessCidrs) : ['0.0.0.0/0'],
    };
  };

  const validateMode = (mode: unknown): AuthenticationMode => {
    if (!AUTHENTICATION_MODES.includes(mode as AuthenticationMode))
      throw invalidParameter(
        `1 validation error detected: Value '${String(mode)}' at 'accessConfig.authenticationMode' failed to satisfy constraint: Member must satisfy enum value set: [API, API_AND_CONFIG_MAP, CONFIG_MAP]`,
      );
    return mode as AuthenticationMode;
  };

  /** Groups an access entry may carry: none of Kubernetes' own `system:` groups. */
  const validateGroups = (groups: string[]) => {
    for (const g of groups)
      if (g.startsWith('system:'))
        throw invalidParameter(`The kubernetes group name ${g} is invalid, it cannot start with system:`);
  };

  const validateScope = (scope: unknown): AccessScope => {
    const r = record(scope);
    const type = r.type;
    const namespaces = strings(r.namespaces);
    if (type !== 'cluster' && type !== 'namespace')
      throw invalidParameter(
        `1 validation error detected: Value '${String(type)}' at 'accessScope.type' failed to satisfy constraint: Member must satisfy enum value set: [cluster, namespace]`,
      );
    if (type === 'namespace' && namespaces.length === 0)
      throw invalidParameter('Namespaces must be specified for the namespace access scope type.');
    if (type === 'cluster' && namespaces.length > 0)
      throw invalidParameter('Namespaces cannot be specified for the cluster access scope type.');
    return { type, namespaces };
  };

  return {
    CreateCluster(input, ctx) {
      const name = text(input.name);
      if (!name || !NAME.test(name))
        throw invalidParameter(
          `1 validation error detected: Value '${String(input.name)}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9A-Za-z][A-Za-z0-9\\-_]*`,
        );
      const roleArn = text(input.roleArn);
      if (!roleArn || !/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(roleArn))
        throw invalidParameter(`Role ARN ${String(input.roleArn)} is not valid.`, { clusterName: name });
      const clusters = clustersOf(s, ctx.identity.accountId, ctx.region);
      if (clusters[name]) throw inUse(`Cluster already exists with name: ${name}`, { clusterName: name });
      const version = text(input.version) ?? DEFAULT_VERSION;
      if (!SUPPORTED_VERSIONS.includes(version))
        throw invalidParameter(`unsupported Kubernetes version ${version}`, { clusterName: name });
      const access = record(input.accessConfig);
      const authenticationMode =
        access.authenticationMode === undefined
          ? 'API_AND_CONFIG_MAP'
          : validateMode(access.authenticationMode);
      const bootstrap = access.bootstrapClusterCreatorAdminPermissions !== false;
      if (!bootstrap && authenticationMode === 'CONFIG_MAP')
        throw invalidParameter(
          'bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is set to CONFIG_MAP',
          { clusterName: name },
        );
      const resourcesVpcConfig = validateVpcConfig(record(input.resourcesVpcConfig), ctx);
      const knc = record(input.kubernetesNetworkConfig);
      const now = deps.now();
      const cluster: ClusterState = {
        name,
        arn: clusterArn(ctx.identity.accountId, ctx.region, name),
        accountId: ctx.identity.accountId,
        region: ctx.region,
        id: newClusterId(),
        createdAt: now,
        version,
        roleArn,
        platformVersion: 'eks.1',
        status: 'CREATING',
        resourcesVpcConfig,
        kubernetesNetworkConfig: {
          serviceIpv4Cidr: text(knc.serviceIpv4Cidr) ?? '10.100.0.0/16',
          ipFamily: text(knc.ipFamily) ?? 'ipv4',
        },
        logging: {
          clusterLogging: [
            {
              types: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'],
              enabled: false,
            },
          ],
        },
        tags: tagsOf(input.tags),
        accessConfig: { authenticationMode, bootstrapClusterCreatorAdminPermissions: bootstrap },
        creatorArn: canonicalPrincipal(ctx.identity.arn),
        accessEntries: {},
        updates: {},
      };
      // The creator's admin access: an access entry in the API modes (EKS shows it), implicit
      // system:masters in CONFIG_MAP mode (authenticator.ts).
      if (authenticationMode !== 'CONFIG_MAP') bootstrapCreatorEntry(cluster, now);
      clusters[name] = cluster;
      lifecycle.created(cluster);
      save();
      return { cluster: describeCluster(cluster, ctx) };
    },

    DescribeCluster(input, ctx) {
      return { cluster: describeCluster(requireCluster(input.name, ctx), ctx) };
    },

    ListClusters(input, ctx) {
      const names = Object.keys(clustersOf(s, ctx.identity.accountId, ctx.region)).sort();
      const { items, nextToken } = page(names, input);
      return { clusters: items, ...(nextToken ? { nextToken } : {}) };
    },

    DeleteCluster(input, ctx) {
      const cluster = requireCluster(input.name, ctx);
      if (cluster.status !== 'DELETING') {
        cluster.status = 'DELETING';
        lifecycle.deleting(cluster);
        save();
      }
      return { cluster: describeCluster(cluster, ctx) };
    },

    UpdateClusterConfig(input, ctx) {
      const cluster = requireCluster(input.name, ctx);
      const access = record(input.accessConfig);
      if (access.authenticationMode === undefined)
        throw invalidParameter(
          input.logging !== undefined || input.resourcesVpcConfig !== undefined
            ? 'local-aws simulates only accessConfig.authenticationMode updates, not logging or resourcesVpcConfig.'
            : 'No changes needed for the cluster configuration.',
          { clusterName: cluster.name },
        );
      const mode = validateMode(access.authenticationMode);
      if (cluster.status !== 'ACTIVE')
        throw inUse(
          cluster.status === 'UPDATING'
            ? 'Cannot update cluster because an update is in progress.'
            : `Cluster status is ${cluster.status}`,
          { clusterName: cluster.name },
        );
      const from = cluster.accessConfig.authenticationMode;
      // EKS moves one way only: CONFIG_MAP → API_AND_CONFIG_MAP → API.
      if (AUTHENTICATION_MODES.indexOf(mode) <= AUTHENTICATION_MODES.indexOf(from))
        throw invalidParameter(`Unsupported authentication mode update from ${from} to ${mode}`, {
          clusterName: cluster.name,
        });
      const now = deps.now();
      const id = newUpdateId();
      cluster.updates[id] = {
        id,
        status: 'InProgress',
        type: 'AccessConfigUpdate',
        params: [{ type: 'AuthenticationMode', value: mode }],
        createdAt: now,
        authenticationMode: mode,
        dueAt: now + s.timings.updateMs,
      };
      cluster.status = 'UPDATING';
      lifecycle.updating(cluster, id);
      save();
      return { update: describeUpdate(cluster.updates[id]!) };
    },

    DescribeUpdate(input, ctx) {
      const cluster = requireCluster(input.name, ctx);
      const update = cluster.updates[String(input.updateId)];
      if (!update)
        throw notFound(`No update found for ID: ${String(input.updateId)}`, { clusterName: cluster.name });
      return { update: describeUpdate(update) };
    },

    ListUpdates(input, ctx) {
      const cluster = requireCluster(input.name, ctx);
      const ids = Object.values(cluster.updates)
        .sort((a, b) => a.createdAt - b.createdAt)
        .map((u) => u.id);
      const { items, nextToken } = page(ids, input);
      return { updateIds: items, ...(nextToken ? { nextToken } : {}) };
    },

    CreateAccessEntry(input, ctx) {
      const cluster = requireCluster(input.name, ctx);
      requireApiMode(cluster);
      const principalArn = text(input.principalArn);
      if (!principalArn || !principalParts(principalArn))
        throw invalidParameter(`The specified principalArn is invalid: invalid ARN.`, {
          clusterName: cluster.name,
        });
      const type = text(input.type) ?? 'STANDARD';
      if (type !== 'STANDARD')
        throw invalidParameter(`local-aws only simulates STANDARD access entries, not ${type}.`, {
          clusterName: cluster.name,
        });
      if (cluster.accessEntries[principalArn])
        throw inUse('The specified access entry resource is already in use on this cluster.', {
          clusterName: cluster.name,
        });
      const kubernetesGroups = strings(input.kubernetesGroups);
      validateGroups(kubernetesGroups);
      const username = text(input.username);
      if (username?.startsWith('system:'))
        throw invalidParameter(`The username ${username} is invalid, it cannot start with system:`);
      const entry = addEntry(cluster, principalArn, deps.now(), {
        kubernetesGroups,
        ...(username ? { username } : {}),
        type,
        tags: tagsOf(input.tags),
      });
      save();
      return { accessEntry: describeEntry(cluster, entry) };
    },

    DescribeAccessEntry(input, ctx) {
      const cluster = requireCluster(input.name, ctx);
      requireApiMode(cluster);
      return { accessEntry: describeEntry(cluster, requireEntry(cluster, input.principalArn)) };
    },

    UpdateAccessEntry(input, ctx) {
      const cluster = requireCluster(input.name, ctx);
      requireApiMode(cluster);
      const entry = requireEntry(cluster, input.principalArn);
      if (input.kubernetesGroups !== undefined) {
        const groups = strings(input.kubernetesGroups);
        validateGroups(groups);
        entry.kubernetesGroups = groups;
      }
      const username = text(input.username);
      if (username) entry.username = username;
      entry.modifiedAt = deps.now();
      save();
      return { accessEntry: describeEntry(cluster, entry) };
    },

    ListAccessEntries(input, ctx) {
      const cluster = requireCluster(input.name, ctx);
      requireApiMode(cluster);
      const filter = text(input.associatedPolicyArn);
      const arns = Object.values(cluster.accessEntries)
        .filter((e) => !filter || e.policies[filter])
        .map((e) => e.principalArn)
        .sort();
      const { items, nextToken } = page(arns, input);
      return { accessEntries: items, ...(nextToken ? { nextToken } : {}) };
    },

    DeleteAccessEntry(input, ctx) {
      const cluster = requireCluster(input.name, ctx);
      requireApiMode(cluster);
      requireEntry(cluster, input.principalArn);
      delete cluster.accessEntries[String(input.principalArn)];
      save();
      return {};
    },

    AssociateAccessPolicy(input, ctx) {
      const cluster = requireCluster(input.name, ctx);
      requireApiMode(cluster);
      const entry = requireEntry(cluster, input.principalArn);
      const policyArn = text(input.policyArn);
      if (!policyArn || !accessPolicyName(policyArn))
        throw invalidParameter(`The specified policyArn ${String(input.policyArn)} is invalid.`, {
          clusterName: cluster.name,
        });
      const accessScope = validateScope(input.accessScope);
      const now = deps.now();
      const previous = entry.policies[policyArn];
      entry.policies[policyArn] = {
        policyArn,
        accessScope,
        associatedAt: previous?.associatedAt ?? now,
        modifiedAt: now,
      };
      save();
      return {
        clusterName: cluster.name,
        principalArn: entry.principalArn,
        associatedAccessPolicy: describeAssociation(entry.policies[policyArn]),
      };
    },

    DisassociateAccessPolicy(input, ctx) {
      const cluster = requireCluster(input.name, ctx);
      requireApiMode(cluster);
      const entry = requireEntry(cluster, input.principalArn);
      const policyArn = String(input.policyArn);
      if (!entry.policies[policyArn])
        throw notFound(`The specified policyArn ${policyArn} is not associated with the principalArn.`, {
          clusterName: cluster.name,
        });
      delete entry.policies[policyArn];
      save();
      return {};
    },

    ListAssociatedAccessPolicies(input, ctx) {
      const cluster = requireCluster(input.name, ctx);
      requireApiMode(cluster);
      const entry = requireEntry(cluster, input.principalArn);
      const associations = Object.values(entry.policies)
        .sort((a, b) => a.policyArn.localeCompare(b.policyArn))
        .map(describeAssociation);
      const { items, nextToken } = page(associations, input);
      return {
        clusterName: cluster.name,
        principalArn: entry.principalArn,
        associatedAccessPolicies: items,
        ...(nextToken ? { nextToken } : {}),
      };
    },

    ListAccessPolicies(input) {
      const all = ACCESS_POLICY_NAMES.map((name) => ({ name, arn: accessPolicyArn(name) }));
      const { items, nextToken } = page(all, input);
      return { accessPolicies: items, ...(nextToken ? { nextToken } : {}) };
    },
  };
}

/** The REST-JSON routes of the EKS API (the model's `@http` traits). */
export const EKS_ROUTES = [
  { method: 'POST', path: '/clusters', operation: 'CreateCluster' },
  { method: 'GET', path: '/clusters', operation: 'ListClusters' },
  { method: 'GET', path: '/clusters/{name}', operation: 'DescribeCluster' },
  { method: 'DELETE', path: '/clusters/{name}', operation: 'DeleteCluster' },
  { method: 'POST', path: '/clusters/{name}/update-config', operation: 'UpdateClusterConfig' },
  { method: 'GET', path: '/clusters/{name}/updates', operation: 'ListUpdates' },
  { method: 'GET', path: '/clusters/{name}/updates/{updateId}', operation: 'DescribeUpdate' },
  { method: 'POST', path: '/clusters/{name}/access-entries', operation: 'CreateAccessEntry' },
  { method: 'GET', path: '/clusters/{name}/access-entries', operation: 'ListAccessEntries' },
  { method: 'GET', path: '/clusters/{name}/access-entries/{principalArn}', operation: 'DescribeAccessEntry' },
  { method: 'POST', path: '/clusters/{name}/access-entries/{principalArn}', operation: 'UpdateAccessEntry' },
  {
    method: 'DELETE',
    path: '/clusters/{name}/access-entries/{principalArn}',
    operation: 'DeleteAccessEntry',
  },
  {
    method: 'POST',
    path: '/clusters/{name}/access-entries/{principalArn}/access-policies',
    operation: 'AssociateAccessPolicy',
  },
  {
    method: 'GET',
    path: '/clusters/{name}/access-entries/{principalArn}/access-policies',
    operation: 'ListAssociatedAccessPolicies',
  },
  {
    method: 'DELETE',
    path: '/clusters/{name}/access-entries/{principalArn}/access-policies/{policyArn}',
    operation: 'DisassociateAccessPolicy',
  },
  { method: 'GET', path: '/access-policies', operation: 'ListAccessPolicies' },
];
