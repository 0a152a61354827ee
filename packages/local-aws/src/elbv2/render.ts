// ELBv2's resources as the API answers with them (member names and order as AWS writes them).
import type { XmlValue } from '../ec2/wire.js';
import { REASON_DESCRIPTIONS } from './health.js';
import type {
  Action,
  Condition,
  ListenerState,
  LoadBalancerState,
  RuleState,
  TargetGroupState,
  TargetState,
} from './model.js';

export function targetGroupXml(tg: TargetGroupState, loadBalancerArns: string[]): XmlValue {
  const hc = tg.healthCheck;
  return {
    TargetGroupArn: tg.arn,
    TargetGroupName: tg.name,
    Protocol: tg.protocol,
    Port: tg.port,
    VpcId: tg.vpcId,
    HealthCheckProtocol: hc.protocol,
    HealthCheckPort: hc.port,
    HealthCheckEnabled: hc.enabled,
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThreshold,
    UnhealthyThresholdCount: hc.unhealthyThreshold,
    HealthCheckPath: hc.path,
    Matcher: hc.matcher !== undefined ? { HttpCode: hc.matcher } : undefined,
    LoadBalancerArns: loadBalancerArns,
    TargetType: tg.targetType,
    ProtocolVersion: tg.protocolVersion,
    IpAddressType: tg.ipAddressType,
  };
}

export function loadBalancerXml(lb: LoadBalancerState, now: number): XmlValue {
  return {
    LoadBalancerArn: lb.arn,
    DNSName: lb.dnsName,
    CanonicalHostedZoneId: lb.canonicalHostedZoneId,
    CreatedTime: new Date(lb.createdAt),
    LoadBalancerName: lb.name,
    Scheme: lb.scheme,
    VpcId: lb.vpcId,
    State: { Code: now >= lb.activeAt ? 'active' : 'provisioning' },
    Type: lb.type,
    AvailabilityZones: lb.zones.map((z) => ({
      ZoneName: z.zoneName,
      SubnetId: z.subnetId,
      LoadBalancerAddresses: [],
    })),
    SecurityGroups: lb.securityGroups,
    IpAddressType: lb.ipAddressType,
  };
}

export function actionXml(action: Action): XmlValue {
  switch (action.Type) {
    case 'forward': {
      const config = action.ForwardConfig;
      return {
        Type: 'forward',
        TargetGroupArn: action.TargetGroupArn,
        Order: action.Order,
        ForwardConfig: {
          TargetGroups: config.TargetGroups.map((t) => ({
            TargetGroupArn: t.TargetGroupArn,
            Weight: t.Weight,
          })),
          TargetGroupStickinessConfig: {
            Enabled: config.TargetGroupStickinessConfig.Enabled,
            DurationSeconds: config.TargetGroupStickinessConfig.DurationSeconds,
          },
        },
      };
    }
    case 'fixed-response':
      return {
        Type: 'fixed-response',
        Order: action.Order,
        FixedResponseConfig: { ...action.FixedResponseConfig },
      };
    case 'redirect':
      return { Type: 'redirect', Order: action.Order, RedirectConfig: { ...action.RedirectConfig } };
  }
}

export function listenerXml(listener: ListenerState): XmlValue {
  return {
    ListenerArn: listener.arn,
    LoadBalancerArn: listener.loadBalancerArn,
    Port: listener.port,
    Protocol: listener.protocol,
    Certificates: listener.protocol === 'HTTPS' ? listener.certificates : undefined,
    SslPolicy: listener.sslPolicy,
    DefaultActions: listener.defaultActions.map(actionXml),
  };
}

function conditionXml(c: Condition): XmlValue {
  const config = c.Field === 'host-header' ? 'HostHeaderConfig' : 'PathPatternConfig';
  return { Field: c.Field, Values: c.Values, [config]: { Values: c.Values } };
}

export function ruleXml(rule: RuleState): XmlValue {
  return {
    RuleArn: rule.arn,
    Priority: rule.priority,
    Conditions: rule.conditions.map(conditionXml),
    Actions: rule.actions.map(actionXml),
    IsDefault: rule.isDefault,
  };
}

/** A target's health as DescribeTargetHealth gives it. */
export function targetHealthXml(
  tg: TargetGroupState,
  target: Pick<TargetState, 'id' | 'port' | 'availabilityZone'>,
  health: { state: string; reason?: string },
): XmlValue {
  return {
    Target: { Id: target.id, Port: target.port, AvailabilityZone: target.availabilityZone },
    HealthCheckPort: tg.healthCheck.port === 'traffic-port' ? String(target.port) : tg.healthCheck.port,
    TargetHealth: {
      State: health.state,
      Reason: health.reason,
      Description: health.reason !== undefined ? REASON_DESCRIPTIONS[health.reason] : undefined,
    },
    AdministrativeOverride: {
      State: 'no_override',
      Reason: 'AdministrativeOverride.NoOverride',
      Description: 'No override is currently active on target',
    },
  };
}
