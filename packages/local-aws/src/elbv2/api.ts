// ELBv2's API (Query protocol, version 2015-12-01) for Application Load Balancers: target groups
// and their targets, load balancers, listeners, rules, tags. Shapes, validation and error codes
// follow the ELBv2 API reference; messages are AWS's where known (README: ELBv2).
import type { Ec2Network } from '../ec2/index.js';
import { ipToNumber } from '../ec2/index.js';
import {
  list,
  paramTree,
  scalar,
  strings,
  struct,
  toXml,
  type ParamTree,
  type XmlValue,
} from '../ec2/wire.js';
import type { RequestContext } from '../service.js';
import { AwsError } from '../service.js';
import type { TargetHealthMonitor } from './health.js';
import {
  arnScope,
  canonicalHostedZoneId,
  checkAttribute,
  checkName,
  DEFAULT_TARGET_GROUP_ATTRIBUTES,
  defaultHealthCheck,
  dnsName,
  listenerArn,
  loadBalancerArn,
  regionOf,
  ruleArn,
  targetGroupArn,
  type Action,
  type Condition,
  type Elbv2Region,
  type Elbv2State,
  type HealthCheck,
  type ListenerState,
  type LoadBalancerState,
  type RuleState,
  type Tag,
  type TargetGroupState,
  type TargetState,
} from './model.js';
import { listenerXml, loadBalancerXml, ruleXml, targetGroupXml, targetHealthXml } from './render.js';

type Tree = Record<string, ParamTree>;
type Operation = (params: URLSearchParams, ctx: RequestContext) => string;

const validation = (message: string) => new AwsError('ValidationError', message);

/** AWS's wording for a member outside its bounds: "1 validation error detected: Value '1' at 'port' …". */
function outOfBounds(member: string, value: string, bound: string): AwsError {
  return validation(
    `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${bound}`,
  );
}

function integer(tree: Tree, name: string, min: number, max: number): number | undefined {
  const raw = scalar(tree[name]);
  if (raw === undefined) return undefined;
  const member = name[0]!.toLowerCase() + name.slice(1);
  if (!/^-?\d+$/.test(raw)) throw validation(`Value '${raw}' for '${member}' is not an integer`);
  const n = Number(raw);
  if (n < min) throw outOfBounds(member, raw, `Member must have value greater than or equal to ${min}`);
  if (n > max) throw outOfBounds(member, raw, `Member must have value less than or equal to ${max}`);
  return n;
}

function required(tree: Tree, name: string): string {
  const value = scalar(tree[name]);
  if (value === undefined || value === '')
    throw validation(
      `1 validation error detected: Value null at '${name[0]!.toLowerCase() + name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

function boolean(tree: Tree, name: string): boolean | undefined {
  const raw = scalar(tree[name]);
  if (raw === undefined) return undefined;
  if (raw !== 'true' && raw !== 'false') throw validation(`Value '${raw}' for '${name}' is not a boolean`);
  return raw === 'true';
}

function oneOf<T extends string>(value: string, member: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw outOfBounds(member, value, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  return value as T;
}

function tagsOf(tree: Tree): Tag[] {
  const tags = list(tree.Tags).map((t) => {
    const tag = struct(t);
    const Key = scalar(tag.Key) ?? '';
    if (Key.length === 0 || Key.length > 128)
      throw validation(`Tag key '${Key}' must be between 1 and 128 characters long`);
    if (Key.toLowerCase().startsWith('aws:'))
      throw validation(`Tag keys starting with 'aws:' are reserved for internal use`);
    return { Key, Value: scalar(tag.Value) ?? '' };
  });
  const seen = new Set<string>();
  for (const t of tags) {
    if (seen.has(t.Key))
      throw new AwsError('DuplicateTagKeys', `Tag key was specified more than once: ${t.Key}`);
    seen.add(t.Key);
  }
  return tags;
}

function targetSpecs(raw: ParamTree | undefined): TargetSpec[] {
  return list(raw).map((t) => {
    const target = struct(t);
    const port = integer(target, 'Port', 1, 65535);
    const zone = scalar(target.AvailabilityZone);
    return {
      id: scalar(target.Id) ?? '',
      ...(port !== undefined ? { port } : {}),
      ...(zone !== undefined ? { availabilityZone: zone } : {}),
    };
  });
}

function mergeTags(existing: Tag[], added: Tag[]): Tag[] {
  const byKey = new Map(existing.map((t) => [t.Key, t.Value]));
  for (const t of added) byKey.set(t.Key, t.Value);
  if (byKey.size > 50)
    throw new AwsError(
      'TooManyTags',
      'The quota for the number of tags that can be assigned to a resource has been reached',
    );
  return [...byKey].map(([Key, Value]) => ({ Key, Value }));
}

/** PageSize/Marker over a list (the marker is an offset, opaque to clients). */
function paginate<T>(items: T[], tree: Tree): { page: T[]; nextMarker?: string } {
  const size = integer(tree, 'PageSize', 1, 400);
  const marker = scalar(tree.Marker);
  const start = marker === undefined ? 0 : Number(Buffer.from(marker, 'base64url').toString('utf8'));
  if (!Number.isInteger(start) || start < 0) throw validation(`Invalid marker '${marker}'`);
  if (size === undefined) return { page: items.slice(start) };
  const end = start + size;
  return {
    page: items.slice(start, end),
    ...(end < items.length ? { nextMarker: Buffer.from(String(end)).toString('base64url') } : {}),
  };
}

const ARN_FORMS = {
  'target group':
    /^arn:aws(-cn|-us-gov)?:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[^/]+\/[0-9a-f]{16}$/,
  'load balancer':
    /^arn:aws(-cn|-us-gov)?:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/app\/[^/]+\/[0-9a-f]{16}$/,
  listener:
    /^arn:aws(-cn|-us-gov)?:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/app\/[^/]+\/[0-9a-f]{16}\/[0-9a-f]{16}$/,
  rule: /^arn:aws(-cn|-us-gov)?:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener-rule\/app\/[^/]+\/[0-9a-f]{16}\/[0-9a-f]{16}\/[0-9a-f]{16}$/,
} as const;

function checkArn(kind: keyof typeof ARN_FORMS, arn: string): void {
  if (!ARN_FORMS[kind].test(arn)) throw validation(`'${arn}' is not a valid ${kind} ARN`);
}

const notFound = {
  targetGroups: () => new AwsError('TargetGroupNotFound', 'One or more target groups not found'),
  loadBalancers: () => new AwsError('LoadBalancerNotFound', 'One or more load balancers not found'),
  listeners: () => new AwsError('ListenerNotFound', 'One or more listeners not found'),
  rules: () => new AwsError('RuleNotFound', 'One or more rules not found'),
};

const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'];

function inRange(ip: number, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const first = ipToNumber(base!)!;
  return ip >= first && ip < first + size;
}

// ---------------------------------------------------------------------------------------------

export interface Elbv2Deps {
  s: Elbv2State;
  network: Ec2Network;
  monitor: TargetHealthMonitor;
  now(): number;
  save(): void;
}

/** Which load balancers use a target group (through a listener's default actions or a rule). */
export function loadBalancersUsing(r: Elbv2Region, tgArn: string): string[] {
  const arns = new Set<string>();
  const forwardsTo = (actions: Action[]) =>
    actions.some(
      (a) => a.Type === 'forward' && a.ForwardConfig.TargetGroups.some((t) => t.TargetGroupArn === tgArn),
    );
  for (const rule of Object.values(r.rules)) {
    if (!forwardsTo(rule.actions)) continue;
    const listener = r.listeners[rule.listenerArn];
    if (listener) arns.add(listener.loadBalancerArn);
  }
  return [...arns];
}

/** A target's health as DescribeTargetHealth shows it: draining, unused while no load balancer uses the group, or its checked state. */
export function healthOf(
  r: Elbv2Region,
  tg: TargetGroupState,
  t: TargetState,
): { state: string; reason?: string } {
  if (t.drainUntil !== undefined) return { state: 'draining', reason: 'Target.DeregistrationInProgress' };
  if (loadBalancersUsing(r, tg.arn).length === 0) return { state: 'unused', reason: 'Target.NotInUse' };
  return { state: t.state, ...(t.reason !== undefined ? { reason: t.reason } : {}) };
}

/** Where an ip target is: the zone of the VPC subnet holding it, or 'all' for an address outside the VPC. */
function targetZone(network: Ec2Network, tg: TargetGroupState, id: string, zone: string | undefined): string {
  const n = ipToNumber(id);
  if (n === undefined) throw validation(`The IP address '${id}' is not a valid IPv4 address`);
  const subnet = network.subnetOfAddress(tg.accountId, tg.region, tg.vpcId, id);
  if (subnet) {
    if (zone === 'all')
      throw validation(
        `The IP address '${id}' is within the VPC, and cannot have its Availability Zone overridden to 'all' from '${subnet.availabilityZone}'`,
      );
    if (zone !== undefined && zone !== subnet.availabilityZone)
      throw validation(
        `The IP address '${id}' is in Availability Zone '${subnet.availabilityZone}', not '${zone}'`,
      );
    return subnet.availabilityZone;
  }
  if (zone === undefined)
    throw validation(`The Availability Zone is required for IP address '${id}' because it is not in the VPC`);
  if (zone !== 'all')
    throw validation(
      `You must specify a valid Availability Zone or select 'all' for all enabled Availability zones, since the IP address '${id}' is outside the VPC`,
    );
  if (!PRIVATE_RANGES.some((cidr) => inRange(n, cidr)))
    throw validation(`The IP address '${id}' is not in a private range (RFC 1918 or 100.64.0.0/10)`);
  return 'all';
}

export interface TargetSpec {
  id: string;
  /** Default: the group's port. */
  port?: number;
  availabilityZone?: string;
}

/**
 * RegisterTargets: every target is checked before any is registered; one already registered
 * (and not draining) is left as it is, a draining one is registered again.
 */
export function registerTargets(deps: Elbv2Deps, tg: TargetGroupState, targets: TargetSpec[]): void {
  if (targets.length === 0) throw validation(`At least one target must be specified`);
  const resolved = targets.map((t) => {
    if (tg.targetType === 'instance')
      throw new AwsError(
        'InvalidTarget',
        `The following targets are not valid instances: '${t.id}' (local-aws has no EC2 instances; use target type 'ip')`,
      );
    return {
      id: t.id,
      port: t.port ?? tg.port,
      availabilityZone: targetZone(deps.network, tg, t.id, t.availabilityZone),
    };
  });
  for (const target of resolved) {
    const existing = tg.targets.find((x) => x.id === target.id && x.port === target.port);
    if (existing && existing.drainUntil === undefined) continue;
    if (existing) {
      deps.monitor.register(tg, existing);
      continue;
    }
    const fresh: TargetState = {
      ...target,
      registeredAt: deps.now(),
      state: 'initial',
      passes: 0,
      fails: 0,
      checks: 0,
    };
    tg.targets.push(fresh);
    deps.monitor.register(tg, fresh);
  }
  deps.save();
}

/** DeregisterTargets: as ELBv2 does, a target not registered (at that port) is passed over silently. */
export function deregisterTargets(deps: Elbv2Deps, tg: TargetGroupState, targets: TargetSpec[]): void {
  if (targets.length === 0) throw validation(`At least one target must be specified`);
  for (const t of targets) {
    const found = tg.targets.find((x) => x.id === t.id && x.port === (t.port ?? tg.port));
    if (found && found.drainUntil === undefined) deps.monitor.deregister(tg, found);
  }
  deps.save();
}

export function createElbv2Operations(deps: Elbv2Deps): Record<string, Operation> {
  const { s, network, monitor, now, save } = deps;
  const region = (ctx: RequestContext) => regionOf(s, ctx.identity.accountId, ctx.region);

  const targetGroup = (r: Elbv2Region, arn: string): TargetGroupState => {
    checkArn('target group', arn);
    const tg = r.targetGroups[arn];
    if (!tg) throw notFound.targetGroups();
    return tg;
  };
  const loadBalancer = (r: Elbv2Region, arn: string): LoadBalancerState => {
    checkArn('load balancer', arn);
    const lb = r.loadBalancers[arn];
    if (!lb) throw notFound.loadBalancers();
    return lb;
  };
  const listener = (r: Elbv2Region, arn: string): ListenerState => {
    checkArn('listener', arn);
    const l = r.listeners[arn];
    if (!l) throw notFound.listeners();
    return l;
  };
  const rule = (r: Elbv2Region, arn: string): RuleState => {
    checkArn('rule', arn);
    const found = r.rules[arn];
    if (!found) throw notFound.rules();
    return found;
  };

  /** Tells the health monitor about every group whose use may have changed. */
  const usesChanged = (r: Elbv2Region, arns: Iterable<string>) => {
    for (const arn of new Set(arns)) {
      const tg = r.targetGroups[arn];
      if (tg) monitor.useChanged(tg);
    }
  };
  const groupsOf = (actions: Action[]) =>
    actions.flatMap((a) =>
      a.Type === 'forward' ? a.ForwardConfig.TargetGroups.map((t) => t.TargetGroupArn) : [],
    );

  // -------------------------------------------------------------------------------------------
  // Actions and conditions

  function parseActions(
    r: Elbv2Region,
    raw: ParamTree | undefined,
    member: string,
    lb: LoadBalancerState,
  ): Action[] {
    const items = list(raw).map(struct);
    if (items.length === 0) throw validation(`At least one action must be specified`);
    if (items.length > 1)
      throw validation(
        `local-aws supports one action per listener or rule (forward, fixed-response or redirect); got ${items.length}`,
      );
    return items.map((item, i): Action => {
      const type = scalar(item.Type);
      if (type === undefined) throw validation(`An action type must be specified`);
      const order = integer(item, 'Order', 1, 50000);
      const withOrder = order !== undefined ? { Order: order } : {};
      if (type === 'authenticate-oidc' || type === 'authenticate-cognito' || type === 'jwt-validation')
        throw validation(`local-aws does not implement '${type}' actions`);
      switch (
        oneOf(type, `${member}.${i + 1}.member.type`, [
          'forward',
          'authenticate-oidc',
          'authenticate-cognito',
          'redirect',
          'fixed-response',
          'jwt-validation',
        ] as const)
      ) {
        case 'forward': {
          const config = struct(item.ForwardConfig);
          const tuples = list(config.TargetGroups).map((t) => {
            const tuple = struct(t);
            return {
              TargetGroupArn: scalar(tuple.TargetGroupArn) ?? '',
              Weight: integer(tuple, 'Weight', 0, 999) ?? 1,
            };
          });
          const single = scalar(item.TargetGroupArn);
          if (
            single !== undefined &&
            tuples.length > 0 &&
            !(tuples.length === 1 && tuples[0]!.TargetGroupArn === single)
          )
            throw validation(
              `You cannot specify both a target group ARN and a forward config with different target groups`,
            );
          const groups =
            tuples.length > 0 ? tuples : single !== undefined ? [{ TargetGroupArn: single, Weight: 1 }] : [];
          if (groups.length === 0)
            throw validation(`A target group ARN must be specified for a forward action`);
          for (const g of groups) {
            checkArn('target group', g.TargetGroupArn);
            const tg = r.targetGroups[g.TargetGroupArn];
            if (!tg)
              throw new AwsError('TargetGroupNotFound', `Target groups '${g.TargetGroupArn}' not found`);
            if (tg.vpcId !== lb.vpcId)
              throw validation(
                `The target group '${tg.arn}' is in VPC '${tg.vpcId}', not in the load balancer's VPC '${lb.vpcId}'`,
              );
            const others = loadBalancersUsing(r, tg.arn).filter((arn) => arn !== lb.arn);
            if (others.length > 0)
              throw new AwsError(
                'TargetGroupAssociationLimit',
                `The following target groups cannot be associated with more than one load balancer: ${tg.arn}`,
              );
          }
          const stickiness = struct(config.TargetGroupStickinessConfig);
          const duration = integer(stickiness, 'DurationSeconds', 1, 604800);
          return {
            Type: 'forward',
            ...(groups.length === 1 ? { TargetGroupArn: groups[0]!.TargetGroupArn } : {}),
            ...withOrder,
            ForwardConfig: {
              TargetGroups: groups,
              TargetGroupStickinessConfig: {
                Enabled: boolean(stickiness, 'Enabled') ?? false,
                ...(duration !== undefined ? { DurationSeconds: duration } : {}),
              },
            },
          };
        }
        case 'fixed-response': {
          const config = struct(item.FixedResponseConfig);
          const statusCode = scalar(config.StatusCode);
          if (statusCode === undefined || !/^[245]\d\d$/.test(statusCode))
            throw validation(
              `The fixed response status code must be a 2XX, 4XX or 5XX code, got '${statusCode ?? ''}'`,
            );
          const contentType = scalar(config.ContentType);
          if (contentType !== undefined)
            oneOf(contentType, `${member}.${i + 1}.member.fixedResponseConfig.contentType`, [
              'text/plain',
              'text/css',
              'text/html',
              'application/javascript',
              'application/json',
            ]);
          const body = scalar(config.MessageBody);
          if (body !== undefined && Buffer.byteLength(body) > 1024)
            throw validation(`The fixed response message body cannot be longer than 1024 characters`);
          return {
            Type: 'fixed-response',
            ...withOrder,
            FixedResponseConfig: {
              ...(body !== undefined ? { MessageBody: body } : {}),
              StatusCode: statusCode,
              ...(contentType !== undefined ? { ContentType: contentType } : {}),
            },
          };
        }
        case 'redirect': {
          const config = struct(item.RedirectConfig);
          const statusCode = oneOf(
            scalar(config.StatusCode) ?? '',
            `${member}.${i + 1}.member.redirectConfig.statusCode`,
            ['HTTP_301', 'HTTP_302'],
          );
          return {
            Type: 'redirect',
            ...withOrder,
            RedirectConfig: {
              Protocol: scalar(config.Protocol) ?? '#{protocol}',
              Port: scalar(config.Port) ?? '#{port}',
              Host: scalar(config.Host) ?? '#{host}',
              Path: scalar(config.Path) ?? '/#{path}',
              Query: scalar(config.Query) ?? '#{query}',
              StatusCode: statusCode,
            },
          };
        }
        default:
          throw validation(`local-aws does not implement '${type}' actions`);
      }
    });
  }

  const CONDITION_FIELDS = [
    'http-header',
    'http-request-method',
    'host-header',
    'path-pattern',
    'query-string',
    'source-ip',
  ];

  function parseConditions(raw: ParamTree | undefined): Condition[] {
    const items = list(raw).map(struct);
    if (items.length === 0) throw validation(`At least one condition must be specified`);
    const conditions = items.map((item): Condition => {
      const field = scalar(item.Field) ?? '';
      if (!CONDITION_FIELDS.includes(field))
        throw validation(`Condition field '${field}' must be one of '[${CONDITION_FIELDS.join(', ')}]'`);
      if (field !== 'host-header' && field !== 'path-pattern')
        throw validation(`local-aws implements host-header and path-pattern conditions only, not '${field}'`);
      const configName = field === 'host-header' ? 'HostHeaderConfig' : 'PathPatternConfig';
      const plain = strings(item.Values);
      const configured = strings(struct(item[configName]).Values);
      if (plain.length > 0 && configured.length > 0)
        throw validation(`You cannot specify both 'Values' and '${configName}' for a condition`);
      const values = plain.length > 0 ? plain : configured;
      if (values.length === 0) throw validation(`A '${field}' condition must have at least one value`);
      const allowed =
        field === 'host-header' ? /^[A-Za-z0-9\-.*?]+$/ : /^[A-Za-z0-9_\-.$/~"'@:+&*?=%,;!()]+$/;
      for (const v of values) {
        if (v.length > 128)
          throw validation(`The '${field}' value '${v}' cannot be longer than 128 characters`);
        if (!allowed.test(v))
          throw validation(`The '${field}' value '${v}' contains characters that are not allowed`);
      }
      return { Field: field, Values: values };
    });
    for (const field of ['host-header', 'path-pattern'])
      if (conditions.filter((c) => c.Field === field).length > 1)
        throw validation(`A rule can only have one '${field}' condition`);
    const total = conditions.reduce((n, c) => n + c.Values.length, 0);
    if (total > 5) throw validation(`A rule can have at most '5' condition values, got '${total}'`);
    return conditions;
  }

  // -------------------------------------------------------------------------------------------
  // Tags, on any ELBv2 resource

  function taggable(r: Elbv2Region, arn: string): { tags: Tag[] } {
    const resource = arnScope(arn)?.resource ?? '';
    if (resource.startsWith('targetgroup/')) return targetGroup(r, arn);
    if (resource.startsWith('loadbalancer/')) return loadBalancer(r, arn);
    if (resource.startsWith('listener/')) return listener(r, arn);
    if (resource.startsWith('listener-rule/')) return rule(r, arn);
    throw validation(`'${arn}' is not a valid Elastic Load Balancing resource ARN`);
  }

  // -------------------------------------------------------------------------------------------

  const result = (members: Record<string, XmlValue>) => toXml(members, 'member');

  return {
    CreateTargetGroup: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const name = required(tree, 'Name');
      checkName('Target group', name);
      const targetType = oneOf(scalar(tree.TargetType) ?? 'instance', 'targetType', [
        'instance',
        'ip',
        'lambda',
        'alb',
      ]);
      if (targetType !== 'ip' && targetType !== 'instance')
        throw validation(
          `local-aws implements target groups of type 'ip' and 'instance', not '${targetType}'`,
        );
      const protocolRaw = scalar(tree.Protocol);
      if (protocolRaw === undefined) throw validation(`A protocol must be specified`);
      const protocol = oneOf(protocolRaw, 'protocol', [
        'HTTP',
        'HTTPS',
        'TCP',
        'TLS',
        'UDP',
        'TCP_UDP',
        'GENEVE',
        'QUIC',
        'TCP_QUIC',
      ]);
      if (protocol !== 'HTTP' && protocol !== 'HTTPS')
        throw validation(
          `local-aws implements target groups for Application Load Balancers (HTTP, HTTPS), not '${protocol}'`,
        );
      const port = integer(tree, 'Port', 1, 65535);
      if (port === undefined) throw validation(`A port must be specified`);
      const vpcId = scalar(tree.VpcId);
      if (vpcId === undefined) throw validation(`A VPC ID must be specified`);
      if (!network.vpc(ctx.identity.accountId, ctx.region, vpcId))
        throw validation(`The VPC ID '${vpcId}' is not found`);
      const protocolVersion = oneOf(scalar(tree.ProtocolVersion) ?? 'HTTP1', 'protocolVersion', [
        'HTTP1',
        'HTTP2',
        'GRPC',
      ]);
      const ipAddressType = oneOf(scalar(tree.IpAddressType) ?? 'ipv4', 'ipAddressType', ['ipv4', 'ipv6']);
      const healthCheck: HealthCheck = defaultHealthCheck(protocol);
      const hcProtocol = scalar(tree.HealthCheckProtocol);
      if (hcProtocol !== undefined)
        healthCheck.protocol = oneOf(hcProtocol, 'healthCheckProtocol', ['HTTP', 'HTTPS']);
      const hcPort = scalar(tree.HealthCheckPort);
      if (hcPort !== undefined) {
        if (
          hcPort !== 'traffic-port' &&
          !(/^\d+$/.test(hcPort) && Number(hcPort) >= 1 && Number(hcPort) <= 65535)
        )
          throw validation(
            `Health check port '${hcPort}' must be 'traffic-port' or a port between 1 and 65535`,
          );
        healthCheck.port = hcPort;
      }
      const enabled = boolean(tree, 'HealthCheckEnabled');
      if (enabled === false)
        throw validation(
          `Health check enabled must be true for target groups with target type '${targetType}'`,
        );
      const path = scalar(tree.HealthCheckPath);
      if (path !== undefined) {
        if (!path.startsWith('/') || path.length > 1024)
          throw validation(
            `Health check path '${path}' must begin with '/' and be at most 1024 characters long`,
          );
        healthCheck.path = path;
      }
      healthCheck.intervalSeconds =
        integer(tree, 'HealthCheckIntervalSeconds', 5, 300) ?? healthCheck.intervalSeconds;
      healthCheck.timeoutSeconds =
        integer(tree, 'HealthCheckTimeoutSeconds', 2, 120) ?? healthCheck.timeoutSeconds;
      healthCheck.healthyThreshold =
        integer(tree, 'HealthyThresholdCount', 2, 10) ?? healthCheck.healthyThreshold;
      healthCheck.unhealthyThreshold =
        integer(tree, 'UnhealthyThresholdCount', 2, 10) ?? healthCheck.unhealthyThreshold;
      if (healthCheck.timeoutSeconds >= healthCheck.intervalSeconds)
        throw validation(
          `Health check timeout '${healthCheck.timeoutSeconds}' must be smaller than the interval '${healthCheck.intervalSeconds}'`,
        );
      const matcher = scalar(struct(tree.Matcher).HttpCode);
      if (matcher !== undefined) {
        const codes = matcher.split(',').flatMap((part) => part.split('-'));
        if (!codes.every((c) => /^\d{3}$/.test(c) && Number(c) >= 200 && Number(c) <= 499))
          throw validation(`Health check matcher HTTP code '${matcher}' must be within '200-499'`);
        healthCheck.matcher = matcher;
      }
      const tags = tagsOf(tree);

      const existing = Object.values(r.targetGroups).find((t) => t.name === name);
      if (existing) {
        const same =
          existing.protocol === protocol &&
          existing.port === port &&
          existing.vpcId === vpcId &&
          existing.targetType === targetType &&
          existing.protocolVersion === protocolVersion &&
          existing.ipAddressType === ipAddressType &&
          JSON.stringify(existing.healthCheck) === JSON.stringify(healthCheck);
        if (!same)
          throw new AwsError(
            'DuplicateTargetGroupName',
            `A target group with the same name '${name}' exists, but with different settings`,
          );
        return result({ TargetGroups: [targetGroupXml(existing, loadBalancersUsing(r, existing.arn))] });
      }
      const tg: TargetGroupState = {
        arn: targetGroupArn(ctx.identity.accountId, ctx.region, name),
        name,
        accountId: ctx.identity.accountId,
        region: ctx.region,
        targetType,
        protocol,
        protocolVersion,
        port,
        vpcId,
        ipAddressType,
        healthCheck,
        attributes: { ...DEFAULT_TARGET_GROUP_ATTRIBUTES },
        tags,
        targets: [],
        heldBy: [],
        createdAt: now(),
      };
      r.targetGroups[tg.arn] = tg;
      save();
      return result({ TargetGroups: [targetGroupXml(tg, [])] });
    },

    DescribeTargetGroups: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const names = strings(tree.Names);
      const arns = strings(tree.TargetGroupArns);
      const lbArn = scalar(tree.LoadBalancerArn);
      if ([names.length > 0, arns.length > 0, lbArn !== undefined].filter(Boolean).length > 1)
        throw validation(
          `Target group names, target group ARNs and a load balancer ARN cannot be specified at the same time`,
        );
      let found = Object.values(r.targetGroups);
      if (names.length > 0) {
        const missing = names.filter((n) => !found.some((t) => t.name === n));
        if (missing.length > 0) throw notFound.targetGroups();
        found = names.map((n) => found.find((t) => t.name === n)!);
      } else if (arns.length > 0) {
        arns.forEach((a) => checkArn('target group', a));
        if (arns.some((a) => !r.targetGroups[a])) throw notFound.targetGroups();
        found = arns.map((a) => r.targetGroups[a]!);
      } else if (lbArn !== undefined) {
        loadBalancer(r, lbArn);
        found = found.filter((t) => loadBalancersUsing(r, t.arn).includes(lbArn));
      }
      const { page, nextMarker } = paginate(found, tree);
      return result({
        TargetGroups: page.map((t) => targetGroupXml(t, loadBalancersUsing(r, t.arn))),
        NextMarker: nextMarker,
      });
    },

    DeleteTargetGroup: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const arn = required(tree, 'TargetGroupArn');
      checkArn('target group', arn);
      const tg = r.targetGroups[arn];
      if (!tg) return '';
      if (loadBalancersUsing(r, arn).length > 0 || tg.heldBy.length > 0)
        throw new AwsError(
          'ResourceInUse',
          `Target group '${arn}' is currently in use by a listener or a rule`,
        );
      monitor.forget(tg);
      delete r.targetGroups[arn];
      save();
      return '';
    },

    RegisterTargets: (params, ctx) => {
      const tree = paramTree(params);
      const tg = targetGroup(region(ctx), required(tree, 'TargetGroupArn'));
      registerTargets(deps, tg, targetSpecs(tree.Targets));
      return '';
    },

    DeregisterTargets: (params, ctx) => {
      const tree = paramTree(params);
      const tg = targetGroup(region(ctx), required(tree, 'TargetGroupArn'));
      deregisterTargets(deps, tg, targetSpecs(tree.Targets));
      return '';
    },

    DescribeTargetHealth: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const tg = targetGroup(r, required(tree, 'TargetGroupArn'));
      const asked = targetSpecs(tree.Targets);
      const described =
        asked.length === 0
          ? tg.targets.map((t) => targetHealthXml(tg, t, healthOf(r, tg, t)))
          : asked.map((a) => {
              const port = a.port ?? tg.port;
              const found = tg.targets.find((t) => t.id === a.id && t.port === port);
              if (found) return targetHealthXml(tg, found, healthOf(r, tg, found));
              return targetHealthXml(
                tg,
                {
                  id: a.id,
                  port,
                  ...(a.availabilityZone !== undefined ? { availabilityZone: a.availabilityZone } : {}),
                },
                { state: 'unused', reason: 'Target.NotRegistered' },
              );
            });
      return result({ TargetHealthDescriptions: described });
    },

    DescribeTargetGroupAttributes: (params, ctx) => {
      const tree = paramTree(params);
      const tg = targetGroup(region(ctx), required(tree, 'TargetGroupArn'));
      return result({ Attributes: Object.entries(tg.attributes).map(([Key, Value]) => ({ Key, Value })) });
    },

    ModifyTargetGroupAttributes: (params, ctx) => {
      const tree = paramTree(params);
      const tg = targetGroup(region(ctx), required(tree, 'TargetGroupArn'));
      const changes = list(tree.Attributes).map((a) => {
        const attribute = struct(a);
        const key = scalar(attribute.Key) ?? '';
        const value = scalar(attribute.Value) ?? '';
        checkAttribute(key, value);
        return [key, value] as const;
      });
      if (changes.length === 0) throw validation(`At least one attribute must be specified`);
      for (const [key, value] of changes) tg.attributes[key] = value;
      save();
      return result({ Attributes: Object.entries(tg.attributes).map(([Key, Value]) => ({ Key, Value })) });
    },

    CreateLoadBalancer: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const { accountId } = ctx.identity;
      const name = required(tree, 'Name');
      checkName('Load balancer', name);
      const type = oneOf(scalar(tree.Type) ?? 'application', 'type', ['application', 'network', 'gateway']);
      if (type !== 'application')
        throw validation(`local-aws implements Application Load Balancers only, not '${type}'`);
      const scheme = oneOf(scalar(tree.Scheme) ?? 'internet-facing', 'scheme', [
        'internet-facing',
        'internal',
      ]);
      const ipAddressType = oneOf(scalar(tree.IpAddressType) ?? 'ipv4', 'ipAddressType', [
        'ipv4',
        'dualstack',
        'dualstack-without-public-ipv4',
      ]);
      const subnetIds = [
        ...strings(tree.Subnets),
        ...list(tree.SubnetMappings).map((m) => scalar(struct(m).SubnetId) ?? ''),
      ];
      if (subnetIds.length === 0)
        throw validation(`At least two subnets in two different Availability Zones must be specified`);
      const subnets = subnetIds.map((id) => {
        const subnet = network.subnet(accountId, ctx.region, id);
        if (!subnet) throw new AwsError('SubnetNotFound', `The subnet ID '${id}' does not exist`);
        return subnet;
      });
      const vpcId = subnets[0]!.vpcId;
      if (subnets.some((sn) => sn.vpcId !== vpcId))
        throw new AwsError('InvalidConfigurationRequest', `The subnets must all belong to the same VPC`);
      const zones = new Set(subnets.map((sn) => sn.availabilityZone));
      if (zones.size < subnets.length)
        throw validation(
          `A load balancer cannot be attached to multiple subnets in the same Availability Zone`,
        );
      if (zones.size < 2)
        throw validation(`At least two subnets in two different Availability Zones must be specified`);
      const groups = network.securityGroups(accountId, ctx.region).filter((g) => g.vpcId === vpcId);
      const securityGroups = strings(tree.SecurityGroups);
      for (const id of securityGroups)
        if (!groups.some((g) => g.groupId === id))
          throw new AwsError(
            'InvalidSecurityGroup',
            `The security group '${id}' does not exist in VPC '${vpcId}'`,
          );
      const chosenGroups =
        securityGroups.length > 0 ? securityGroups : [groups.find((g) => g.groupName === 'default')!.groupId];
      const tags = tagsOf(tree);
      const zonesOf = subnets
        .map((sn) => ({ zoneName: sn.availabilityZone, subnetId: sn.subnetId }))
        .sort((a, b) => a.zoneName.localeCompare(b.zoneName));

      const existing = Object.values(r.loadBalancers).find((lb) => lb.name === name);
      if (existing) {
        const same =
          existing.scheme === scheme &&
          existing.ipAddressType === ipAddressType &&
          JSON.stringify(existing.zones) === JSON.stringify(zonesOf) &&
          JSON.stringify([...existing.securityGroups].sort()) === JSON.stringify([...chosenGroups].sort());
        if (!same)
          throw new AwsError(
            'DuplicateLoadBalancerName',
            `A load balancer with the same name '${name}' exists, but with different settings`,
          );
        return result({ LoadBalancers: [loadBalancerXml(existing, now())] });
      }
      const arn = loadBalancerArn(accountId, ctx.region, name);
      const createdAt = now();
      const lb: LoadBalancerState = {
        arn,
        name,
        accountId,
        region: ctx.region,
        dnsName: dnsName(name, ctx.region, scheme, arn),
        canonicalHostedZoneId: canonicalHostedZoneId(ctx.region),
        scheme,
        type: 'application',
        ipAddressType,
        vpcId,
        zones: zonesOf,
        securityGroups: chosenGroups,
        tags,
        createdAt,
        activeAt: createdAt + s.timings.loadBalancerProvisioningMs,
      };
      r.loadBalancers[arn] = lb;
      save();
      return result({ LoadBalancers: [loadBalancerXml(lb, now())] });
    },

    DescribeLoadBalancers: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const names = strings(tree.Names);
      const arns = strings(tree.LoadBalancerArns);
      if (names.length > 0 && arns.length > 0)
        throw validation(`Load balancer names and load balancer ARNs cannot be specified at the same time`);
      let found = Object.values(r.loadBalancers);
      if (names.length > 0) {
        const missing = names.filter((n) => !found.some((lb) => lb.name === n));
        if (missing.length > 0)
          throw new AwsError('LoadBalancerNotFound', `Load balancers '[${missing.join(', ')}]' not found`);
        found = names.map((n) => found.find((lb) => lb.name === n)!);
      } else if (arns.length > 0) {
        arns.forEach((a) => checkArn('load balancer', a));
        if (arns.some((a) => !r.loadBalancers[a])) throw notFound.loadBalancers();
        found = arns.map((a) => r.loadBalancers[a]!);
      }
      const { page, nextMarker } = paginate(found, tree);
      return result({ LoadBalancers: page.map((lb) => loadBalancerXml(lb, now())), NextMarker: nextMarker });
    },

    DeleteLoadBalancer: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const arn = required(tree, 'LoadBalancerArn');
      checkArn('load balancer', arn);
      if (!r.loadBalancers[arn]) return '';
      const affected: string[] = [];
      for (const l of Object.values(r.listeners).filter((x) => x.loadBalancerArn === arn)) {
        for (const ru of Object.values(r.rules).filter((x) => x.listenerArn === l.arn)) {
          affected.push(...groupsOf(ru.actions));
          delete r.rules[ru.arn];
        }
        delete r.listeners[l.arn];
      }
      delete r.loadBalancers[arn];
      usesChanged(r, affected);
      save();
      return '';
    },

    CreateListener: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const lb = loadBalancer(r, required(tree, 'LoadBalancerArn'));
      const protocolRaw = scalar(tree.Protocol);
      if (protocolRaw === undefined) throw validation(`A listener protocol must be specified`);
      const protocol = oneOf(protocolRaw, 'protocol', [
        'HTTP',
        'HTTPS',
        'TCP',
        'TLS',
        'UDP',
        'TCP_UDP',
        'GENEVE',
        'QUIC',
        'TCP_QUIC',
      ]);
      if (protocol !== 'HTTP' && protocol !== 'HTTPS')
        throw new AwsError(
          'UnsupportedProtocol',
          `Protocol '${protocol}' is not supported by Application Load Balancers`,
        );
      const port = integer(tree, 'Port', 1, 65535);
      if (port === undefined) throw validation(`A listener port must be specified`);
      const certificates = list(tree.Certificates).map((c) => ({
        CertificateArn: scalar(struct(c).CertificateArn) ?? '',
      }));
      if (protocol === 'HTTPS' && certificates.length === 0)
        throw validation(`A certificate must be specified for HTTPS listeners`);
      const sslPolicy =
        protocol === 'HTTPS' ? (scalar(tree.SslPolicy) ?? 'ELBSecurityPolicy-2016-08') : undefined;
      const defaultActions = parseActions(r, tree.DefaultActions, 'defaultActions', lb);
      const tags = tagsOf(tree);

      const existing = Object.values(r.listeners).find(
        (l) => l.loadBalancerArn === lb.arn && l.port === port,
      );
      if (existing) {
        const same =
          existing.protocol === protocol &&
          JSON.stringify(existing.defaultActions) === JSON.stringify(defaultActions) &&
          JSON.stringify(existing.certificates) === JSON.stringify(protocol === 'HTTPS' ? certificates : []);
        if (!same)
          throw new AwsError(
            'DuplicateListener',
            `A listener already exists on this port for this load balancer '${lb.arn}'`,
          );
        return result({ Listeners: [listenerXml(existing)] });
      }
      const l: ListenerState = {
        arn: listenerArn(lb.arn),
        loadBalancerArn: lb.arn,
        port,
        protocol,
        certificates: protocol === 'HTTPS' ? certificates : [],
        ...(sslPolicy !== undefined ? { sslPolicy } : {}),
        defaultActions,
        tags,
        createdAt: now(),
      };
      r.listeners[l.arn] = l;
      const defaultRule: RuleState = {
        arn: ruleArn(l.arn),
        listenerArn: l.arn,
        priority: 'default',
        conditions: [],
        actions: defaultActions,
        isDefault: true,
        tags: [],
      };
      r.rules[defaultRule.arn] = defaultRule;
      usesChanged(r, groupsOf(defaultActions));
      save();
      return result({ Listeners: [listenerXml(l)] });
    },

    DescribeListeners: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const lbArn = scalar(tree.LoadBalancerArn);
      const arns = strings(tree.ListenerArns);
      if ((lbArn === undefined) === (arns.length === 0))
        throw validation(`You must specify either listener ARNs or a load balancer ARN`);
      let found: ListenerState[];
      if (lbArn !== undefined) {
        loadBalancer(r, lbArn);
        found = Object.values(r.listeners).filter((l) => l.loadBalancerArn === lbArn);
      } else {
        arns.forEach((a) => checkArn('listener', a));
        if (arns.some((a) => !r.listeners[a])) throw notFound.listeners();
        found = arns.map((a) => r.listeners[a]!);
      }
      const { page, nextMarker } = paginate(found, tree);
      return result({ Listeners: page.map(listenerXml), NextMarker: nextMarker });
    },

    DeleteListener: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const l = listener(r, required(tree, 'ListenerArn'));
      const affected: string[] = [];
      for (const ru of Object.values(r.rules).filter((x) => x.listenerArn === l.arn)) {
        affected.push(...groupsOf(ru.actions));
        delete r.rules[ru.arn];
      }
      delete r.listeners[l.arn];
      usesChanged(r, affected);
      save();
      return '';
    },

    CreateRule: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const l = listener(r, required(tree, 'ListenerArn'));
      const priority = integer(tree, 'Priority', 1, 50000);
      if (priority === undefined) throw validation(`A rule priority must be specified`);
      const conditions = parseConditions(tree.Conditions);
      const actions = parseActions(r, tree.Actions, 'actions', r.loadBalancers[l.loadBalancerArn]!);
      const tags = tagsOf(tree);
      if (Object.values(r.rules).some((x) => x.listenerArn === l.arn && x.priority === String(priority)))
        throw new AwsError('PriorityInUse', `Priority '${priority}' is currently in use`);
      const created: RuleState = {
        arn: ruleArn(l.arn),
        listenerArn: l.arn,
        priority: String(priority),
        conditions,
        actions,
        isDefault: false,
        tags,
      };
      r.rules[created.arn] = created;
      usesChanged(r, groupsOf(actions));
      save();
      return result({ Rules: [ruleXml(created)] });
    },

    DescribeRules: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const lArn = scalar(tree.ListenerArn);
      const arns = strings(tree.RuleArns);
      if ((lArn === undefined) === (arns.length === 0))
        throw validation(`You must specify either listener ARN or rule ARNs`);
      let found: RuleState[];
      if (lArn !== undefined) {
        listener(r, lArn);
        const order = (x: RuleState) => (x.isDefault ? Infinity : Number(x.priority));
        found = Object.values(r.rules)
          .filter((x) => x.listenerArn === lArn)
          .sort((a, b) => order(a) - order(b));
      } else {
        arns.forEach((a) => checkArn('rule', a));
        if (arns.some((a) => !r.rules[a])) throw notFound.rules();
        found = arns.map((a) => r.rules[a]!);
      }
      const { page, nextMarker } = paginate(found, tree);
      return result({ Rules: page.map(ruleXml), NextMarker: nextMarker });
    },

    DeleteRule: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const found = rule(r, required(tree, 'RuleArn'));
      if (found.isDefault)
        throw new AwsError('OperationNotPermitted', `Default rule '${found.arn}' cannot be deleted`);
      delete r.rules[found.arn];
      usesChanged(r, groupsOf(found.actions));
      save();
      return '';
    },

    SetRulePriorities: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const pairs = list(tree.RulePriorities).map((p) => {
        const pair = struct(p);
        const target = rule(r, scalar(pair.RuleArn) ?? '');
        if (target.isDefault)
          throw new AwsError('OperationNotPermitted', `Default rule '${target.arn}' cannot be modified`);
        const priority = integer(pair, 'Priority', 1, 50000);
        if (priority === undefined) throw validation(`A rule priority must be specified`);
        return { target, priority: String(priority) };
      });
      if (pairs.length === 0) throw validation(`At least one rule priority must be specified`);
      const next = new Map(pairs.map((p) => [p.target.arn, p.priority]));
      for (const listenerArnOf of new Set(pairs.map((p) => p.target.listenerArn))) {
        const seen = new Set<string>();
        for (const x of Object.values(r.rules).filter(
          (y) => y.listenerArn === listenerArnOf && !y.isDefault,
        )) {
          const priority = next.get(x.arn) ?? x.priority;
          if (seen.has(priority)) {
            const inRequest = pairs.filter(
              (p) => p.priority === priority && p.target.listenerArn === listenerArnOf,
            );
            if (inRequest.length > 1) throw validation(`Priority '${priority}' was provided multiple times`);
            throw new AwsError('PriorityInUse', `Priority '${priority}' is currently in use`);
          }
          seen.add(priority);
        }
      }
      for (const p of pairs) p.target.priority = p.priority;
      save();
      return result({ Rules: pairs.map((p) => ruleXml(p.target)) });
    },

    AddTags: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const arns = strings(tree.ResourceArns);
      if (arns.length === 0) throw validation(`At least one resource ARN must be specified`);
      const tags = tagsOf(tree);
      if (tags.length === 0) throw validation(`At least one tag must be specified`);
      const resources = arns.map((a) => taggable(r, a));
      for (const resource of resources) resource.tags = mergeTags(resource.tags, tags);
      save();
      return '';
    },

    RemoveTags: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const arns = strings(tree.ResourceArns);
      const keys = strings(tree.TagKeys);
      if (arns.length === 0) throw validation(`At least one resource ARN must be specified`);
      const resources = arns.map((a) => taggable(r, a));
      for (const resource of resources) resource.tags = resource.tags.filter((t) => !keys.includes(t.Key));
      save();
      return '';
    },

    DescribeTags: (params, ctx) => {
      const tree = paramTree(params);
      const r = region(ctx);
      const arns = strings(tree.ResourceArns);
      if (arns.length === 0) throw validation(`At least one resource ARN must be specified`);
      if (arns.length > 20)
        throw outOfBounds(
          'resourceArns',
          `[${arns.join(', ')}]`,
          'Member must have length less than or equal to 20',
        );
      return result({
        TagDescriptions: arns.map((a) => ({
          ResourceArn: a,
          Tags: taggable(r, a).tags.map((t) => ({ ...t })),
        })),
      });
    },
  };
}
