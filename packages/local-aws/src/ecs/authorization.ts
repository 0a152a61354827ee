// What IAM evaluates for each ECS call (the Service Authorization Reference, "Actions defined by
// Amazon Elastic Container Service"): the cluster's ARN for cluster actions, the service's for
// service actions, the task's for task actions, the task definition's (family:revision) for
// RunTask and StartTask, "*" for the actions without a resource type (RegisterTaskDefinition,
// DescribeTaskDefinition, the List* calls). Service and task actions carry ecs:cluster, and a
// cluster's or service's tags are aws:ResourceTag/…. Dependent actions are evaluated too:
// iam:PassRole on each task and execution role RegisterTaskDefinition and RunTask pass (with
// iam:PassedToService ecs-tasks.amazonaws.com), and ecs:TagResource when a create call carries tags
// (ecs:CreateAction names the call), as ECS does with tagResourceAuthorization on.
import type { Authorization } from '../service.js';
import type { AuthorizationRequest, ContextValue } from '../platform/iam-policy.js';
import { partitionOf, type EcsRegion, type EcsState, type Tag } from './model.js';

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

const lastPart = (ref: string) => ref.slice(ref.lastIndexOf('/') + 1);

const tagContext = (tags: readonly Tag[] | undefined): Record<string, ContextValue> =>
  Object.fromEntries((tags ?? []).map((t) => [`aws:ResourceTag/${t.key}`, t.value]));

/** Actions whose resource is the cluster named by the `cluster` member. */
const CLUSTER_ACTIONS = new Set([
  'DescribeClusters',
  'DeleteCluster',
  'PutClusterCapacityProviders',
  'UpdateClusterSettings',
  'ListContainerInstances',
  'CreateCluster',
]);

/** The iam:PassRole requests for the roles a task is given. */
function passRoles(roles: Array<unknown>): AuthorizationRequest[] {
  const arns = [...new Set(roles.filter((r): r is string => typeof r === 'string' && r !== ''))];
  return arns.map((arn) => ({
    action: 'iam:PassRole',
    resource: arn,
    context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
  }));
}

function requestTags(input: Record<string, unknown>): Array<{ key: string; value: string }> {
  return Array.isArray(input.tags)
    ? (input.tags as Array<Record<string, unknown>>)
        .filter((t) => typeof t?.key === 'string')
        .map((t) => ({ key: t.key as string, value: typeof t.value === 'string' ? t.value : '' }))
    : [];
}

/** ecs:TagResource on a resource being created with tags, as ECS asks for it. */
function tagOnCreate(
  operation: string,
  resource: string,
  input: Record<string, unknown>,
): AuthorizationRequest[] {
  const tags = requestTags(input);
  if (tags.length === 0) return [];
  const context: Record<string, ContextValue> = {
    'ecs:CreateAction': operation,
    'aws:TagKeys': tags.map((t) => t.key),
  };
  for (const t of tags) context[`aws:RequestTag/${t.key}`] = t.value;
  return [{ action: 'ecs:TagResource', resource, context }];
}

export function ecsAuthorization(s: EcsState): Authorization<Record<string, unknown>> {
  return (operation, input, ctx) => {
    const action = `ecs:${operation}`;
    const region: EcsRegion | undefined = s.regions[`${ctx.identity.accountId}/${ctx.region}`];
    const prefix = `arn:${partitionOf(ctx.region)}:ecs:${ctx.region}:${ctx.identity.accountId}`;
    const clusterName = (key = 'cluster') => lastPart(text(input[key]) ?? 'default');
    const clusterArn = (name = clusterName()) => `${prefix}:cluster/${name}`;
    const onCluster = (name = clusterName()): Record<string, ContextValue> => ({
      'ecs:cluster': clusterArn(name),
    });

    if (operation === 'CreateCluster') {
      const name = text(input.clusterName) ?? 'default';
      return [{ action, resource: clusterArn(name) }, ...tagOnCreate(operation, clusterArn(name), input)];
    }
    if (operation === 'DescribeClusters') {
      const names = Array.isArray(input.clusters) && input.clusters.length > 0 ? input.clusters : ['default'];
      return names
        .filter((c): c is string => typeof c === 'string')
        .map((c) => ({
          action,
          resource: clusterArn(lastPart(c)),
          context: tagContext(region?.clusters[lastPart(c)]?.tags),
        }));
    }
    if (CLUSTER_ACTIONS.has(operation)) {
      const name = clusterName();
      return [{ action, resource: clusterArn(name), context: tagContext(region?.clusters[name]?.tags) }];
    }

    const serviceRequest = (ref: string): AuthorizationRequest => {
      const cluster = clusterName();
      const name = lastPart(ref);
      return {
        action,
        resource: `${prefix}:service/${cluster}/${name}`,
        context: { ...onCluster(cluster), ...tagContext(region?.services[cluster]?.[name]?.tags) },
      };
    };
    const taskRequest = (ref: string): AuthorizationRequest => ({
      action,
      resource: `${prefix}:task/${clusterName()}/${lastPart(ref)}`,
      context: onCluster(),
    });

    switch (operation) {
      case 'CreateService': {
        const request = serviceRequest(text(input.serviceName) ?? '');
        const taskDefinition = text(input.taskDefinition);
        if (taskDefinition) request.context = { ...request.context, 'ecs:task-definition': taskDefinition };
        return [request, ...tagOnCreate(operation, request.resource, input)];
      }
      case 'UpdateService':
      case 'DeleteService':
        return [serviceRequest(text(input.service) ?? '')];
      case 'DescribeServices':
        return (Array.isArray(input.services) ? input.services : [])
          .filter((x): x is string => typeof x === 'string')
          .map(serviceRequest);
      case 'ListServices':
      case 'ListTasks':
        return [{ action, resource: '*', context: onCluster() }];
      case 'DescribeTasks':
        return (Array.isArray(input.tasks) ? input.tasks : [])
          .filter((x): x is string => typeof x === 'string')
          .map(taskRequest);
      case 'StopTask':
        return [taskRequest(text(input.task) ?? '')];
      case 'ExecuteCommand':
        return [
          { action, resource: clusterArn(), context: onCluster() },
          { ...taskRequest(text(input.task) ?? ''), context: { ...onCluster(), ...containerContext(input) } },
        ];
      case 'RegisterTaskDefinition':
        return [
          { action, resource: '*' },
          ...passRoles([input.executionRoleArn, input.taskRoleArn]),
          ...tagOnCreate(operation, `${prefix}:task-definition/${text(input.family) ?? ''}:*`, input),
        ];
      case 'RunTask':
      case 'StartTask':
        return runTaskRequests(operation, input, region, prefix, onCluster());
      case 'DeleteTaskDefinitions':
        return (Array.isArray(input.taskDefinitions) ? input.taskDefinitions : [])
          .filter((x): x is string => typeof x === 'string')
          .map((ref) => ({ action, resource: taskDefinitionArnOf(ref, region, prefix) }));
      case 'TagResource':
      case 'UntagResource':
      case 'ListTagsForResource':
        return [{ action, resource: text(input.resourceArn) ?? '*' }];
      default:
        return undefined;
    }
  };
}

function containerContext(input: Record<string, unknown>): Record<string, ContextValue> {
  const container = text(input.container);
  return container ? { 'ecs:container-name': container } : {};
}

/** A task definition reference as IAM sees it: family:revision, the latest ACTIVE when none is named. */
function taskDefinitionArnOf(ref: string, region: EcsRegion | undefined, prefix: string): string {
  const m = /^(?:arn:aws[a-z-]*:ecs:[^:]+:\d{12}:task-definition\/)?([a-zA-Z0-9_-]+)(?::(\d+))?$/.exec(ref);
  if (!m) return ref.startsWith('arn:') ? ref : `${prefix}:task-definition/${ref}`;
  const family = m[1]!;
  if (m[2] !== undefined) return `${prefix}:task-definition/${family}:${m[2]}`;
  const latest = [...(region?.taskDefinitions[family] ?? [])].reverse().find((t) => t.status === 'ACTIVE');
  return latest ? latest.arn : `${prefix}:task-definition/${family}`;
}

function runTaskRequests(
  operation: string,
  input: Record<string, unknown>,
  region: EcsRegion | undefined,
  prefix: string,
  cluster: Record<string, ContextValue>,
): AuthorizationRequest[] {
  const ref = text(input.taskDefinition) ?? '';
  const resource = taskDefinitionArnOf(ref, region, prefix);
  const family = /task-definition\/([^:]+)/.exec(resource)?.[1];
  const revision = Number(/:(\d+)$/.exec(resource)?.[1]);
  const td = family ? region?.taskDefinitions[family]?.[revision - 1] : undefined;
  const overrides = (
    typeof input.overrides === 'object' && input.overrides !== null ? input.overrides : {}
  ) as Record<string, unknown>;
  return [
    { action: `ecs:${operation}`, resource, context: cluster },
    ...passRoles([
      overrides.executionRoleArn ?? td?.body.executionRoleArn,
      overrides.taskRoleArn ?? td?.body.taskRoleArn,
    ]),
    ...tagOnCreate(operation, `${prefix}:task/${String(cluster['ecs:cluster']).split('/').pop()}/*`, input),
  ];
}
