// ELBv2's state and the facts AWS fixes about it: ARN and DNS name forms, name rules, health
// check defaults, target group attributes. Everything here is plain data (JSON in the state
// store) or a pure function of it.
import { createHash, randomBytes } from 'node:crypto';
import { partitionOf } from '../ec2/index.js';
import type { StateStore } from '../service.js';
import { AwsError } from '../service.js';

export interface Tag {
  Key: string;
  Value: string;
}

export interface HealthCheck {
  protocol: string;
  port: string;
  enabled: boolean;
  path?: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  matcher?: string;
}

export type TargetHealthState = 'initial' | 'healthy' | 'unhealthy' | 'draining' | 'unused' | 'unavailable';

/** One registered target and where its health checks are. */
export interface TargetState {
  id: string;
  port: number;
  /** The zone of the subnet that holds the address, or 'all' for an address outside the VPC. */
  availabilityZone?: string;
  registeredAt: number;
  state: TargetHealthState;
  reason?: string;
  /** Consecutive checks passed / failed. */
  passes: number;
  fails: number;
  /** Checks run since registration (or since the group was put in use). */
  checks: number;
  /** When the next health check runs (none while the group is not in use or the target drains). */
  nextCheckAt?: number;
  /** When a draining target is gone. */
  drainUntil?: number;
}

export interface TargetGroupState {
  arn: string;
  name: string;
  accountId: string;
  region: string;
  targetType: 'ip' | 'instance';
  protocol: string;
  protocolVersion: string;
  port: number;
  vpcId: string;
  ipAddressType: string;
  healthCheck: HealthCheck;
  attributes: Record<string, string>;
  tags: Tag[];
  targets: TargetState[];
  /** Users outside ELBv2 that hold the group (an ECS service), by name: DeleteTargetGroup refuses. */
  heldBy: string[];
  createdAt: number;
}

export type Action =
  | { Type: 'forward'; TargetGroupArn?: string; ForwardConfig: ForwardConfig; Order?: number }
  | { Type: 'fixed-response'; FixedResponseConfig: Record<string, string>; Order?: number }
  | { Type: 'redirect'; RedirectConfig: Record<string, string>; Order?: number };

export interface ForwardConfig {
  TargetGroups: { TargetGroupArn: string; Weight: number }[];
  TargetGroupStickinessConfig: { Enabled: boolean; DurationSeconds?: number };
}

export interface Condition {
  Field: 'host-header' | 'path-pattern';
  Values: string[];
}

export interface LoadBalancerState {
  arn: string;
  name: string;
  accountId: string;
  region: string;
  dnsName: string;
  canonicalHostedZoneId: string;
  scheme: 'internet-facing' | 'internal';
  type: 'application';
  ipAddressType: string;
  vpcId: string;
  zones: { zoneName: string; subnetId: string }[];
  securityGroups: string[];
  tags: Tag[];
  createdAt: number;
  /** Provisioning until then, active after. */
  activeAt: number;
}

export interface ListenerState {
  arn: string;
  loadBalancerArn: string;
  port: number;
  protocol: 'HTTP' | 'HTTPS';
  certificates: { CertificateArn: string }[];
  sslPolicy?: string;
  defaultActions: Action[];
  tags: Tag[];
  createdAt: number;
}

export interface RuleState {
  arn: string;
  listenerArn: string;
  /** A number as a string, or 'default' for the listener's default rule. */
  priority: string;
  conditions: Condition[];
  actions: Action[];
  isDefault: boolean;
  tags: Tag[];
}

export interface Elbv2Region {
  targetGroups: Record<string, TargetGroupState>;
  loadBalancers: Record<string, LoadBalancerState>;
  listeners: Record<string, ListenerState>;
  rules: Record<string, RuleState>;
}

export interface Elbv2Timings {
  /** How long a new load balancer stays `provisioning` before it is `active` (simulated ms). */
  loadBalancerProvisioningMs: number;
}

export const DEFAULT_TIMINGS: Elbv2Timings = { loadBalancerProvisioningMs: 30_000 };

export interface Elbv2State {
  regions: Record<string, Elbv2Region>;
  timings: Elbv2Timings;
}

export function loadState(state: StateStore): Elbv2State {
  const s = state.namespace<Elbv2State>('elbv2', () => ({ regions: {}, timings: { ...DEFAULT_TIMINGS } }));
  s.timings = { ...DEFAULT_TIMINGS, ...s.timings };
  return s;
}

export function regionOf(s: Elbv2State, accountId: string, region: string): Elbv2Region {
  return (s.regions[`${accountId}/${region}`] ??= {
    targetGroups: {},
    loadBalancers: {},
    listeners: {},
    rules: {},
  });
}

// ---------------------------------------------------------------------------------------------
// Names, ARNs, DNS

const hex16 = () => randomBytes(8).toString('hex');

function arnPrefix(accountId: string, region: string): string {
  return `arn:${partitionOf(region)}:elasticloadbalancing:${region}:${accountId}`;
}

export const targetGroupArn = (accountId: string, region: string, name: string) =>
  `${arnPrefix(accountId, region)}:targetgroup/${name}/${hex16()}`;

export const loadBalancerArn = (accountId: string, region: string, name: string) =>
  `${arnPrefix(accountId, region)}:loadbalancer/app/${name}/${hex16()}`;

/** A listener's ARN extends its load balancer's: …:listener/app/<name>/<lb id>/<id>. */
export const listenerArn = (lbArn: string) => `${lbArn.replace(':loadbalancer/', ':listener/')}/${hex16()}`;

export const ruleArn = (lArn: string) => `${lArn.replace(':listener/', ':listener-rule/')}/${hex16()}`;

/** The account and region an ELBv2 ARN names, or undefined for something else. */
export function arnScope(arn: string): { accountId: string; region: string; resource: string } | undefined {
  const m = /^arn:aws(?:-cn|-us-gov)?:elasticloadbalancing:([a-z0-9-]+):(\d{12}):(.+)$/.exec(arn);
  return m ? { region: m[1]!, accountId: m[2]!, resource: m[3]! } : undefined;
}

/**
 * AWS's DNS name for an Application Load Balancer: <name>-<digits>.<region>.elb.amazonaws.com,
 * prefixed `internal-` for an internal one.
 */
export function dnsName(name: string, region: string, scheme: string, arn: string): string {
  // AWS's are 9 or 10 digits below 2^31 (my-alb-171411087…, my-alb-2080077084…).
  const hash = Number.parseInt(createHash('sha256').update(arn).digest('hex').slice(0, 8), 16);
  const digits = 100_000_000 + (hash % (2 ** 31 - 100_000_000));
  const suffix = region.startsWith('cn-') ? 'elb.amazonaws.com.cn' : 'elb.amazonaws.com';
  return `${scheme === 'internal' ? 'internal-' : ''}${name}-${digits}.${region}.${suffix}`;
}

/** Route 53 hosted zone ids of Application Load Balancers (AWS's per-region constants). */
const HOSTED_ZONES: Record<string, string> = {
  'us-east-1': 'Z35SXDOTRQ7X7K',
  'us-east-2': 'Z3AADJGX6KTTL2',
  'us-west-1': 'Z368ELLRRE2KJ0',
  'us-west-2': 'Z1H1FL5HABSF5',
  'eu-west-1': 'Z32O12XQLNTSW2',
  'eu-west-2': 'ZHURV8PSTC4K8',
  'eu-central-1': 'Z215JYRZR1TBD5',
  'ap-northeast-1': 'Z14GRHDCWA56QT',
  'ap-southeast-1': 'Z1LMS91P8CMLE5',
  'ap-southeast-2': 'Z1GM3OXH4ZPM65',
};

export function canonicalHostedZoneId(region: string): string {
  const derived = createHash('sha256').update(`alb/${region}`).digest('hex').toUpperCase().slice(0, 13);
  return HOSTED_ZONES[region] ?? `Z${derived}`;
}

/** Target group and load balancer names: 1–32 characters, letters, digits and hyphens, no hyphen at an end. */
export function checkName(kind: 'Target group' | 'Load balancer', name: string): void {
  if (name.length === 0) throw new AwsError('ValidationError', `${kind} name cannot be empty`);
  if (name.length > 32)
    throw new AwsError('ValidationError', `${kind} name '${name}' cannot be longer than '32' characters`);
  if (!/^[A-Za-z0-9-]+$/.test(name))
    throw new AwsError(
      'ValidationError',
      `${kind} name '${name}' can only contain characters that are alphanumeric characters or hyphens(-)`,
    );
  if (name.startsWith('-') || name.endsWith('-'))
    throw new AwsError('ValidationError', `${kind} name '${name}' cannot begin or end with '-'`);
  if (kind === 'Load balancer' && name.toLowerCase().startsWith('internal-'))
    throw new AwsError('ValidationError', `Load balancer name '${name}' cannot begin with 'internal-'`);
}

// ---------------------------------------------------------------------------------------------
// Target groups: health check defaults and attributes

/** Health check defaults of an HTTP/HTTPS target group (Application Load Balancer). */
export function defaultHealthCheck(protocol: string): HealthCheck {
  return {
    protocol,
    port: 'traffic-port',
    enabled: true,
    path: '/',
    intervalSeconds: 30,
    timeoutSeconds: 5,
    healthyThreshold: 5,
    unhealthyThreshold: 2,
    matcher: '200',
  };
}

/** The attributes DescribeTargetGroupAttributes lists for an ip/instance HTTP target group, with AWS's defaults. */
export const DEFAULT_TARGET_GROUP_ATTRIBUTES: Readonly<Record<string, string>> = {
  'stickiness.enabled': 'false',
  'deregistration_delay.timeout_seconds': '300',
  'stickiness.app_cookie.cookie_name': '',
  'stickiness.type': 'lb_cookie',
  'stickiness.lb_cookie.duration_seconds': '86400',
  'slow_start.duration_seconds': '0',
  'stickiness.app_cookie.duration_seconds': '86400',
  'load_balancing.algorithm.type': 'round_robin',
  'load_balancing.algorithm.anomaly_mitigation': 'off',
  'load_balancing.cross_zone.enabled': 'use_load_balancer_configuration',
  'target_group_health.dns_failover.minimum_healthy_targets.count': '1',
  'target_group_health.dns_failover.minimum_healthy_targets.percentage': 'off',
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': '1',
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': 'off',
};

/** Checks one attribute as ELBv2 does for the attributes whose values local-aws acts on or bounds. */
export function checkAttribute(key: string, value: string): void {
  if (!(key in DEFAULT_TARGET_GROUP_ATTRIBUTES))
    throw new AwsError('ValidationError', `Target group attribute key '${key}' is not recognized`);
  const integer = (min: number, max: number) => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max)
      throw new AwsError(
        'ValidationError',
        `'${key}' must be an integer between ${min} and ${max}, got '${value}'`,
      );
  };
  const oneOf = (...allowed: string[]) => {
    if (!allowed.includes(value))
      throw new AwsError(
        'ValidationError',
        `'${key}' must be one of '${allowed.join(', ')}', got '${value}'`,
      );
  };
  switch (key) {
    case 'deregistration_delay.timeout_seconds':
      return integer(0, 3600);
    case 'slow_start.duration_seconds':
      if (value !== '0') integer(30, 900);
      return;
    case 'stickiness.lb_cookie.duration_seconds':
    case 'stickiness.app_cookie.duration_seconds':
      return integer(1, 604800);
    case 'stickiness.enabled':
      return oneOf('true', 'false');
    case 'stickiness.type':
      return oneOf('lb_cookie', 'app_cookie');
    case 'load_balancing.algorithm.type':
      return oneOf('round_robin', 'least_outstanding_requests', 'weighted_random');
    default:
      return;
  }
}
