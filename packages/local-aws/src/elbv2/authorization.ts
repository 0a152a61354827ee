// What IAM evaluates for each ELBv2 call (the Service Authorization Reference for Elastic Load
// Balancing V2): the ARN the call names — target group, load balancer, listener, rule, or each of
// the resources tagged — and "*" for the Describe* calls, which have no resource type. A resource
// being created has no ARN yet: CreateTargetGroup and CreateLoadBalancer are evaluated on the ARN
// pattern its name gives (targetgroup/<name>/*, loadbalancer/<app|net>/<name>/*).
import type { Authorization } from '../service.js';
import { paramTree, strings } from '../ec2/wire.js';

const MEMBER_ARNS = ['TargetGroupArn', 'LoadBalancerArn', 'ListenerArn', 'RuleArn'];

export function elbv2Authorization(): Authorization<URLSearchParams> {
  return (operation, params, ctx) => {
    const action = `elasticloadbalancing:${operation}`;
    if (operation.startsWith('Describe')) return [{ action, resource: '*' }];
    const prefix = `arn:aws:elasticloadbalancing:${ctx.region}:${ctx.identity.accountId}`;
    if (operation === 'CreateTargetGroup')
      return [{ action, resource: `${prefix}:targetgroup/${params.get('Name') ?? ''}/*` }];
    if (operation === 'CreateLoadBalancer') {
      const type = params.get('Type') === 'network' ? 'net' : 'app';
      return [{ action, resource: `${prefix}:loadbalancer/${type}/${params.get('Name') ?? ''}/*` }];
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
