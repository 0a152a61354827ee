// Who a verified IAM identity is in a cluster, as EKS's authenticator maps it: an access entry
// (API and API_AND_CONFIG_MAP modes; it wins over aws-auth), else the `aws-auth` ConfigMap in
// kube-system (`mapRoles` / `mapUsers`, YAML; CONFIG_MAP and API_AND_CONFIG_MAP modes), else —
// in CONFIG_MAP mode — the cluster's creator as `kubernetes-admin` in system:masters. A principal
// none of these maps is not authenticated: EKS answers 401, as for a bad token.
// Then what the user may do: system:masters everything; an access entry's associated access
// policies (rights.ts); nothing else (RBAC is not simulated).
import {
  findByPath,
  RESOURCE_TYPES,
  type AccessRequest,
  type KubernetesUser,
  type ObjectStore,
} from '@aws-containers/local-kubernetes';
import { parse as parseYaml } from 'yaml';
import type { Identity } from '../service.js';
import { canonicalPrincipal, type AccessEntryState, type ClusterState } from './model.js';
import { everyoneMay, policyAllows } from './rights.js';

const MASTERS = 'system:masters';

/** The session name of an assumed-role ARN (`…:assumed-role/<role>/<session>`), or undefined. */
const sessionNameOf = (arn: string) => /:assumed-role\/[^/]+\/(.+)$/.exec(arn)?.[1];

/** Fills `{{AccountID}}`, `{{SessionName}}` (with `@` as `-`, as the authenticator does) and `{{SessionNameRaw}}`. */
export function renderUsername(template: string, identity: Identity): string {
  const session = sessionNameOf(identity.arn) ?? '';
  return template
    .replace(/\{\{AccountID\}\}/g, identity.accountId)
    .replace(/\{\{SessionNameRaw\}\}/g, session)
    .replace(/\{\{SessionName\}\}/g, session.replace(/@/g, '-'));
}

/** The access entry of a principal (entries are matched without their ARN's path). */
export function entryFor(cluster: ClusterState, canonicalArn: string): AccessEntryState | undefined {
  return Object.values(cluster.accessEntries).find(
    (e) => canonicalPrincipal(e.principalArn) === canonicalArn,
  );
}

interface AwsAuthMapping {
  arn: string;
  username?: string;
  groups: string[];
}

/** The `mapRoles` and `mapUsers` of kube-system/aws-auth; a malformed document maps nobody. */
export function awsAuthMappings(store: ObjectStore): { roles: AwsAuthMapping[]; users: AwsAuthMapping[] } {
  const configMaps = findByPath('', 'v1', 'configmaps');
  const data = (configMaps ? store.get(configMaps, 'kube-system', 'aws-auth')?.data : undefined) as
    Record<string, string> | undefined;
  const read = (yaml: string | undefined, arnKey: string): AwsAuthMapping[] => {
    if (!yaml) return [];
    let doc: unknown;
    try {
      doc = parseYaml(yaml);
    } catch {
      return [];
    }
    if (!Array.isArray(doc)) return [];
    return doc.flatMap((item: unknown) => {
      const m = (item ?? {}) as Record<string, unknown>;
      const arn = m[arnKey];
      if (typeof arn !== 'string') return [];
      return [
        {
          arn,
          ...(typeof m.username === 'string' ? { username: m.username } : {}),
          groups: Array.isArray(m.groups) ? m.groups.filter((g): g is string => typeof g === 'string') : [],
        },
      ];
    });
  };
  return { roles: read(data?.mapRoles, 'rolearn'), users: read(data?.mapUsers, 'userarn') };
}

/** The Kubernetes user an identity is in this cluster, or undefined (401). */
export function mapIdentity(
  cluster: ClusterState,
  store: ObjectStore,
  identity: Identity,
): KubernetesUser | undefined {
  const canonical = canonicalPrincipal(identity.arn);
  const mode = cluster.accessConfig.authenticationMode;
  const extra = {
    arn: [identity.arn],
    canonicalArn: [canonical],
    accessKeyId: [identity.accessKeyId],
    principalId: [identity.userId],
    ...(sessionNameOf(identity.arn) ? { sessionName: [sessionNameOf(identity.arn)!] } : {}),
  };
  const uid = `aws-iam-authenticator:${identity.accountId}:${identity.userId}`;
  if (mode !== 'CONFIG_MAP') {
    const entry = entryFor(cluster, canonical);
    if (entry)
      return {
        username: renderUsername(entry.username, identity),
        groups: [...entry.kubernetesGroups],
        uid,
        extra,
      };
  }
  if (mode !== 'API') {
    const { roles, users } = awsAuthMappings(store);
    const mapping = [...roles, ...users].find((m) => canonicalPrincipal(m.arn) === canonical);
    if (mapping)
      return {
        username: renderUsername(mapping.username ?? identity.arn, identity),
        groups: mapping.groups,
        uid,
        extra,
      };
  }
  if (
    mode === 'CONFIG_MAP' &&
    cluster.accessConfig.bootstrapClusterCreatorAdminPermissions &&
    canonical === cluster.creatorArn
  )
    return { username: 'kubernetes-admin', groups: [MASTERS], uid, extra };
  return undefined;
}

/** Whether the resource a request names is namespaced (unknown resources count as namespaced). */
function namespacedResource(group: string, resource: string): boolean {
  const type = RESOURCE_TYPES.find((t) => t.group === group && t.plural === resource);
  return type ? type.namespaced : true;
}

/** KubernetesHost.authorize for a cluster: may this user do this? */
export function authorize(cluster: ClusterState, request: AccessRequest): boolean {
  if (request.user.groups.includes(MASTERS)) return true;
  if (everyoneMay(request)) return true;
  if (cluster.accessConfig.authenticationMode === 'CONFIG_MAP') return false;
  const canonical = request.user.extra?.canonicalArn?.[0];
  if (!canonical) return false;
  const entry = entryFor(cluster, canonical);
  if (!entry) return false;
  const namespaced = namespacedResource(request.group, request.resource);
  return Object.values(entry.policies).some((p) => policyAllows(p, request, namespaced));
}
