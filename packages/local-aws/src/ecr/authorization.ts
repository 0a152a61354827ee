// What IAM evaluates for each ECR call, API and registry alike (the Service Authorization
// Reference, "Actions defined by Amazon Elastic Container Registry"): the repository's ARN for every
// repository action, "*" for GetAuthorizationToken and the registry-level actions (creation
// templates), with the repository's tags as aws:ResourceTag/… and ecr:ResourceTag/…, and
// CreateRepository's tags as aws:RequestTag/… and aws:TagKeys.
import type { Authorization } from '../service.js';
import type { AuthorizationRequest, ContextValue } from '../platform/iam-policy.js';
import type { EcrState, Tag } from './model.js';

export function repositoryArnOf(accountId: string, region: string, name: string): string {
  return `arn:aws:ecr:${region}:${accountId}:repository/${name}`;
}

/** The condition keys a repository's tags give. */
export function resourceTagContext(tags: readonly Tag[] | undefined): Record<string, ContextValue> {
  const context: Record<string, ContextValue> = {};
  for (const tag of tags ?? []) {
    context[`aws:ResourceTag/${tag.Key}`] = tag.Value;
    context[`ecr:ResourceTag/${tag.Key}`] = tag.Value;
  }
  return context;
}

/** `ecr:<operation>` on a repository of a registry (account and region). */
export function repositoryRequest(
  ecr: EcrState,
  operation: string,
  registry: { accountId: string; region: string },
  name: string,
): AuthorizationRequest {
  const repo = ecr.registries[`${registry.accountId}/${registry.region}`]?.repositories[name];
  return {
    action: `ecr:${operation}`,
    resource: repositoryArnOf(registry.accountId, registry.region, name),
    context: resourceTagContext(repo?.tags),
  };
}

/** Registry-wide actions: no resource type, so IAM evaluates them on "*". */
const REGISTRY_ACTIONS = new Set([
  'GetAuthorizationToken',
  'CreateRepositoryCreationTemplate',
  'DescribeRepositoryCreationTemplates',
  'DeleteRepositoryCreationTemplate',
  'UpdateRepositoryCreationTemplate',
  'DescribeRegistry',
  'GetRegistryPolicy',
  'PutRegistryPolicy',
  'DeleteRegistryPolicy',
  'PutReplicationConfiguration',
  'PutRegistryScanningConfiguration',
  'GetRegistryScanningConfiguration',
]);

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

export function ecrAuthorization(ecr: EcrState): Authorization<Record<string, unknown>> {
  return (operation, input, ctx) => {
    const action = `ecr:${operation}`;
    if (REGISTRY_ACTIONS.has(operation)) return [{ action, resource: '*' }];
    const registryId = /^\d{12}$/.test(String(input.registryId))
      ? String(input.registryId)
      : ctx.identity.accountId;
    const registry = { accountId: registryId, region: ctx.region };
    if (operation === 'TagResource' || operation === 'UntagResource' || operation === 'ListTagsForResource') {
      const arn = text(input.resourceArn);
      const name = arn && /^arn:aws:ecr:[^:]+:\d{12}:repository\/(.+)$/.exec(arn)?.[1];
      return name
        ? [{ ...repositoryRequest(ecr, operation, registry, name), resource: arn }]
        : [{ action, resource: arn ?? '*' }];
    }
    if (operation === 'DescribeRepositories') {
      const names = Array.isArray(input.repositoryNames)
        ? input.repositoryNames.filter((n): n is string => typeof n === 'string')
        : [];
      if (names.length === 0) return [{ action, resource: repositoryArnOf(registryId, ctx.region, '*') }];
      return names.map((n) => repositoryRequest(ecr, operation, registry, n));
    }
    const name = text(input.repositoryName);
    if (name === undefined) return [{ action, resource: '*' }];
    const request = repositoryRequest(ecr, operation, registry, name);
    if (operation === 'CreateRepository' && Array.isArray(input.tags)) {
      const tags = (input.tags as Array<Record<string, unknown>>).filter(
        (t) => typeof t?.Key === 'string' && typeof t.Value === 'string',
      );
      const context: Record<string, ContextValue> = { 'aws:TagKeys': tags.map((t) => t.Key as string) };
      for (const t of tags) context[`aws:RequestTag/${t.Key as string}`] = t.Value as string;
      request.context = context;
      // Tagging on create is authorised as a TagResource too, with the same request tags.
      if (tags.length > 0)
        return [request, { action: 'ecr:TagResource', resource: request.resource, context }];
    }
    return [request];
  };
}
