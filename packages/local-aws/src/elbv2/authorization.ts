// What IAM evaluates for each ELBv2 call (the Service Authorization Reference for Elastic Load
// Balancing V2): the ARN the call names — target group, load balancer, listener, rule, or each of
// the resources tagged — and "*" for the Describe* calls, which have no resource type. A resource
// being created has no ARN yet: CreateTargetGroup and CreateLoadBalancer are evaluated on the ARN
// pattern its name gives (targetgroup/<name>/*, loadbalancer/<app|net>/<name>/*).
// A Create* call that carries Tags is also evaluated for elasticloadbalancing:AddTags on the
// resource being created, with elasticloadbalancing:CreateAction naming the call ("ELB API
// permissions to tag resources during creation", Elastic Load Balancing user guide).
import type { AuthorizationRequest, ContextValue } from '../platform/iam-policy.js';
import type { Authorization } from '../service.js';
import { paramTree, strings, type ParamTree } from '../ec2/wire.js';

/** elasticloadbalancing:AddTags on a resource a Create* call makes, when the call carries tags. */
function tagOnCreate(operation: string, resource: string, params: URLSearchParams): AuthorizationRequest[] {
  const tree = paramTree(params).Tags;
  const tags = (Array.isArray(tree) ? tree : tree === undefined ? [] : [tree]).filter(
    (t): t is { [key: string]: ParamTree } => typeof t === 'object' && !Array.isArray(t),
  );
  const keys = tags.map((t) => t.Key).filter((k): k is string => typeof k === 'string');
  if (keys.length === 0) return [];
  const context: Record<string, ContextValue> = {
    'elasticloadbalancing:CreateAction': operation,
    'aws:TagKeys': keys,
  };
  for (const t of tags) {
    if (typeof t.Key === 'string')
      context[`aws:RequestTag/${t.Key}`] = typeof t.Value === 'string' ? t.Value : '';
  }
  return [{ action: 'elasticloadbalancing:AddTags', resource, context }];
}

const MEMBER_ARNS = ['TargetGroupArn', 'LoadBalancerArn', 'ListenerArn', 'RuleArn'];

export function elbv2Authorization(): Authorization<URLSearchParams> {
  return (operation, params, ctx) => {
    const action = `elasticloadbalancing:${operation}`;
    if (operation.startsWith('Describe')) return [{ action, resource: '*' }];
    const prefix = `arn:aws:elasticloadbalancing:${ctx.region}:${ctx.identity.accountId}`;
    if (operation === 'CreateTargetGroup') {
      const resource = `${prefix}:targetgroup/${params.get('Name') ?? ''}/*`;
      return [{ action, resource }, ...tagOnCreate(operation, resource, params)];
    }
    if (operation === 'CreateLoadBalancer') {
      const type = params.get('Type') === 'network' ? 'net' : 'app';
      const resource = `${prefix}:loadbalancer/${type}/${params.get('Name') ?? ''}/*`;
      return [{ action, resource }, ...tagOnCreate(operation, resource, params)];
    }
    if (operation === 'CreateListener' || operation === 'CreateRule') {
      // The listener (or rule) being made lives under its load balancer (or listener):
      // listener/app/<lb>/<id>/* and listener-rule/app/<lb>/<id>/<listener id>/*.
      const parent = params.get(operation === 'CreateListener' ? 'LoadBalancerArn' : 'ListenerArn') ?? '';
      const made =
        operation === 'CreateListener'
          ? `${parent.replace(':loadbalancer/', ':listener/')}/*`
          : `${parent.replace(':listener/', ':listener-rule/')}/*`;
      return [{ action, resource: parent }, ...tagOnCreate(operation, made, params)];
    }
    if (operation === 'AddTags' || operation === 'RemoveTags')
      return strings(paramTree(params).ResourceArns).map((resource) => ({ action, resource }));
    if (operation === 'SetRulePriorities') {
      const tree = paramTree(params).RulePriorities;
      const rules = (Array.isArray(tree) ? tree : tree === undefined ? [] : [tree]).map((r) =>
        typeof r === 'object' && !Array.isArray(r) && typeof r.RuleArn === 'string' ? r.RuleArn : '*',
      );
      return rules.map((resource) => ({ action, resource }));
    }
    for (const member of MEMBER_ARNS) {
      const arn = params.get(member);
      if (arn !== null) return [{ action, resource: arn }];
    }
    return [{ action, resource: '*' }];
  };
}
