// What IAM evaluates for each EKS call (the Service Authorization Reference, "Actions defined by
// Amazon Elastic Kubernetes Service"): cluster actions on `arn:aws:eks:<region>:<account>:cluster/<name>`,
// access-entry actions on the entry's ARN (`…:access-entry/<cluster>/<role|user>/<account>/<name>/<uuid>`;
// `…/*` for an entry that does not exist yet), ListClusters and ListAccessPolicies on "*".
// CreateCluster is also iam:PassRole of its role to eks.amazonaws.com, and tags on create are
// aws:RequestTag / aws:TagKeys; the access-entry condition keys (eks:principalArn,
// eks:kubernetesGroups, eks:username, eks:policyArn, eks:accessScope, eks:namespaces) are set.
import type { Authorization } from '../service.js';
import type { AuthorizationRequest, ContextValue } from '../platform/iam-policy.js';
import { clusterArn, clustersOf, principalParts, partitionOf, type EksState } from './model.js';

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

const CLUSTER_ACTIONS = new Set([
  'DescribeCluster',
  'DeleteCluster',
  'UpdateClusterConfig',
  'DescribeUpdate',
  'ListUpdates',
  'ListAccessEntries',
  'CreateAccessEntry',
]);

const ENTRY_ACTIONS = new Set([
  'DescribeAccessEntry',
  'UpdateAccessEntry',
  'DeleteAccessEntry',
  'AssociateAccessPolicy',
  'DisassociateAccessPolicy',
  'ListAssociatedAccessPolicies',
]);

export function eksAuthorization(s: EksState): Authorization<Record<string, unknown>> {
  return (operation, input, ctx) => {
    const action = `eks:${operation}`;
    const name = text(input.name) ?? '';
    const cluster = clusterArn(ctx.identity.accountId, ctx.region, name);
    if (operation === 'CreateCluster') {
      const tags = Object.entries(
        typeof input.tags === 'object' && input.tags !== null ? (input.tags as Record<string, unknown>) : {},
      ).filter((e): e is [string, string] => typeof e[1] === 'string');
      const context: Record<string, ContextValue> = {};
      if (tags.length > 0) context['aws:TagKeys'] = tags.map(([k]) => k);
      for (const [k, v] of tags) context[`aws:RequestTag/${k}`] = v;
      const requests: AuthorizationRequest[] = [{ action, resource: cluster, context }];
      const role = text(input.roleArn);
      if (role)
        requests.push({
          action: 'iam:PassRole',
          resource: role,
          context: { 'iam:PassedToService': 'eks.amazonaws.com' },
        });
      return requests;
    }
    if (CLUSTER_ACTIONS.has(operation)) {
      const existing = clustersOf(s, ctx.identity.accountId, ctx.region)[name];
      const context: Record<string, ContextValue> = {};
      for (const [k, v] of Object.entries(existing?.tags ?? {})) context[`aws:ResourceTag/${k}`] = v;
      if (operation === 'CreateAccessEntry') {
        const principal = text(input.principalArn);
        if (principal) context['eks:principalArn'] = principal;
        context['eks:kubernetesGroups'] = strings(input.kubernetesGroups);
        const username = text(input.username);
        if (username) context['eks:username'] = username;
        context['eks:accessEntryType'] = text(input.type) ?? 'STANDARD';
      }
      return [{ action, resource: cluster, context }];
    }
    if (ENTRY_ACTIONS.has(operation)) {
      const principal = text(input.principalArn) ?? '';
      const existing = clustersOf(s, ctx.identity.accountId, ctx.region)[name]?.accessEntries[principal];
      const parts = principalParts(principal);
      const resource =
        existing?.accessEntryArn ??
        `arn:${partitionOf(ctx.region)}:eks:${ctx.region}:${ctx.identity.accountId}:access-entry/${name}/${
          parts ? `${parts.type}/${parts.accountId}/${parts.name}` : 'unknown'
        }/*`;
      const context: Record<string, ContextValue> = { 'eks:principalArn': principal };
      if (operation === 'AssociateAccessPolicy') {
        const policy = text(input.policyArn);
        if (policy) context['eks:policyArn'] = policy;
        const scope = (input.accessScope ?? {}) as Record<string, unknown>;
        if (text(scope.type)) context['eks:accessScope'] = scope.type as string;
        const namespaces = strings(scope.namespaces);
        if (namespaces.length > 0) context['eks:namespaces'] = namespaces;
      }
      if (operation === 'DisassociateAccessPolicy') {
        const policy = text(input.policyArn);
        if (policy) context['eks:policyArn'] = policy;
      }
      return [{ action, resource, context }];
    }
    return [{ action, resource: '*' }];
  };
}
