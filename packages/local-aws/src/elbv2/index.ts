// ELBv2 for Application Load Balancers (Query protocol, version 2015-12-01, signing name
// elasticloadbalancing): target groups with target health on the server's one clock, load
// balancers, listeners, rules and tags. ECS reaches it through the typed `Elbv2Integration`
// below (register a task's address, say whether it is healthy, hold a target group), not
// through the API.
import { elbv2Authorization } from './authorization.js';
import type { Ec2Network } from '../ec2/index.js';
import type { QueryService, ServiceModule, StateStore } from '../service.js';
import { AwsError } from '../service.js';
import {
  createElbv2Operations,
  deregisterTargets,
  healthOf,
  loadBalancersUsing,
  registerTargets,
  type Elbv2Deps,
} from './api.js';
import {
  REASON_DESCRIPTIONS,
  TargetHealthMonitor,
  type SchedulingClock,
  type TargetHealthChange,
  type TargetRef,
} from './health.js';
import {
  arnScope,
  DEFAULT_TIMINGS,
  loadState,
  regionOf,
  type Elbv2State,
  type Elbv2Timings,
  type TargetGroupState,
} from './model.js';

export type { TargetHealthChange, TargetRef } from './health.js';
export type { Elbv2State, Elbv2Timings, TargetHealthState } from './model.js';
export { afterCheck, REASON_DESCRIPTIONS } from './health.js';

export const ELBV2_VERSION = '2015-12-01';

/** A target group as ECS needs to know it to validate a service's `loadBalancers`. */
export interface TargetGroupInfo {
  targetGroupArn: string;
  targetGroupName: string;
  targetType: 'ip' | 'instance';
  protocol: string;
  port: number;
  vpcId: string;
  /** The load balancers whose listeners or rules forward to it (ECS refuses a group with none). */
  loadBalancerArns: string[];
  healthCheck: {
    intervalSeconds: number;
    timeoutSeconds: number;
    healthyThreshold: number;
    unhealthyThreshold: number;
    path?: string;
    port: string;
  };
  /** The group's deregistration_delay.timeout_seconds attribute. */
  deregistrationDelaySeconds: number;
}

/**
 * What ECS uses to put a service's tasks behind a load balancer, as ECS does on AWS. Targets are
 * named by the target group's ARN (which carries the account and region), the task's private
 * IPv4 address and the container port.
 */
export interface Elbv2Integration {
  /** The group with this ARN, or undefined. */
  targetGroup(targetGroupArn: string): TargetGroupInfo | undefined;
  targetGroups(accountId: string, region: string): TargetGroupInfo[];
  /**
   * Registers a task's address and port (RegisterTargets). Throws an AwsError in ELBv2's terms:
   * TargetGroupNotFound, ValidationError for an address outside the group's VPC.
   */
  registerTarget(target: { targetGroupArn: string; id: string; port: number }): void;
  /** Deregisters it (DeregisterTargets): draining for the group's deregistration delay, then gone. */
  deregisterTarget(target: { targetGroupArn: string; id: string; port: number }): void;
  /** The target's health as DescribeTargetHealth shows it now, or undefined when it is not registered. */
  targetHealth(target: {
    targetGroupArn: string;
    id: string;
    port: number;
  }): { state: string; reason?: string; description?: string } | undefined;
  /**
   * Decides each health check: true passes, false fails. ECS derives it from the task (an image
   * labelled `local-aws.health=fail` fails). Without one every check passes. Replaces the last one.
   */
  setHealthPredicate(predicate: (target: TargetRef) => boolean): void;
  /** Called on every change of a target's state (on the clock); returns the unsubscribe. */
  onTargetHealthChange(listener: (change: TargetHealthChange) => void): () => void;
  /**
   * Marks the group as used by something outside ELBv2 (an ECS service, by its ARN), so that
   * DeleteTargetGroup answers ResourceInUse until `releaseTargetGroup`.
   */
  holdTargetGroup(targetGroupArn: string, holder: string): void;
  releaseTargetGroup(targetGroupArn: string, holder: string): void;
}

/** Test hooks, on the handle startLocalAws() returns as admin.elbv2. */
export interface Elbv2Admin extends Elbv2Integration {
  /** Change timings (simulated ms); unspecified ones keep their value. Applies to new load balancers. */
  setTimings(timings: Partial<Elbv2Timings>): void;
  timings(): Elbv2Timings;
  /** A deep copy of ELBv2's state, for assertions. */
  snapshot(): Elbv2State;
}

function info(s: Elbv2State, tg: TargetGroupState): TargetGroupInfo {
  const hc = tg.healthCheck;
  return {
    targetGroupArn: tg.arn,
    targetGroupName: tg.name,
    targetType: tg.targetType,
    protocol: tg.protocol,
    port: tg.port,
    vpcId: tg.vpcId,
    loadBalancerArns: loadBalancersUsing(regionOf(s, tg.accountId, tg.region), tg.arn),
    healthCheck: {
      intervalSeconds: hc.intervalSeconds,
      timeoutSeconds: hc.timeoutSeconds,
      healthyThreshold: hc.healthyThreshold,
      unhealthyThreshold: hc.unhealthyThreshold,
      ...(hc.path !== undefined ? { path: hc.path } : {}),
      port: hc.port,
    },
    deregistrationDelaySeconds: Number(tg.attributes['deregistration_delay.timeout_seconds'] ?? '300'),
  };
}

/** ELBv2 needs the server's clock (to schedule health checks) and EC2's network (VPCs, subnets). */
export function createElbv2(env: {
  clock: { now(): number };
  state: StateStore;
  network: Ec2Network;
}): ServiceModule<Elbv2Admin> {
  const { state, network } = env;
  const clock = env.clock as Partial<SchedulingClock>;
  if (typeof clock.at !== 'function') throw new Error('ELBv2 needs the server clock (with at()).');
  const s = loadState(state);
  const save = () => state.save();

  const groupByArn = (arn: string): TargetGroupState | undefined => {
    const scope = arnScope(arn);
    return scope ? s.regions[`${scope.accountId}/${scope.region}`]?.targetGroups[arn] : undefined;
  };
  const monitor = new TargetHealthMonitor(
    clock as SchedulingClock,
    (tg) => {
      const r = regionOf(s, tg.accountId, tg.region);
      const lbs = loadBalancersUsing(r, tg.arn).map((arn) => r.loadBalancers[arn]!);
      return { inUse: lbs.length > 0, activeAt: Math.min(...lbs.map((lb) => lb.activeAt)) };
    },
    save,
    groupByArn,
  );
  const deps: Elbv2Deps = { s, network, monitor, now: () => clock.now!(), save };

  const service: QueryService = {
    protocol: 'query',
    signingName: 'elasticloadbalancing',
    version: ELBV2_VERSION,
    xmlNamespace: `http://elasticloadbalancing.amazonaws.com/doc/${ELBV2_VERSION}/`,
    operations: createElbv2Operations(deps),
    authorization: elbv2Authorization(),
  };
  monitor.resume(Object.values(s.regions).flatMap((r) => Object.values(r.targetGroups)));

  const mustFind = (arn: string) => {
    const tg = groupByArn(arn);
    if (!tg) throw new AwsError('TargetGroupNotFound', 'One or more target groups not found');
    return tg;
  };

  const admin: Elbv2Admin = {
    targetGroup: (arn) => {
      const tg = groupByArn(arn);
      return tg && info(s, tg);
    },
    targetGroups: (accountId, region) =>
      Object.values(regionOf(s, accountId, region).targetGroups).map((tg) => info(s, tg)),
    registerTarget: ({ targetGroupArn, id, port }) =>
      registerTargets(deps, mustFind(targetGroupArn), [{ id, port }]),
    deregisterTarget: ({ targetGroupArn, id, port }) =>
      deregisterTargets(deps, mustFind(targetGroupArn), [{ id, port }]),
    targetHealth: ({ targetGroupArn, id, port }) => {
      const tg = groupByArn(targetGroupArn);
      const target = tg?.targets.find((t) => t.id === id && t.port === port);
      if (!tg || !target) return undefined;
      const health = healthOf(regionOf(s, tg.accountId, tg.region), tg, target);
      return {
        ...health,
        ...(health.reason !== undefined ? { description: REASON_DESCRIPTIONS[health.reason] } : {}),
      };
    },
    setHealthPredicate: (predicate) => {
      monitor.predicate = predicate;
    },
    onTargetHealthChange: (listener) => monitor.onChange(listener),
    holdTargetGroup: (arn, holder) => {
      const tg = mustFind(arn);
      if (!tg.heldBy.includes(holder)) tg.heldBy.push(holder);
      save();
    },
    releaseTargetGroup: (arn, holder) => {
      const tg = groupByArn(arn);
      if (!tg) return;
      tg.heldBy = tg.heldBy.filter((h) => h !== holder);
      save();
    },
    setTimings: (timings) => {
      for (const [k, v] of Object.entries(timings))
        if (k in DEFAULT_TIMINGS && typeof v === 'number' && v >= 0) s.timings[k as keyof Elbv2Timings] = v;
      save();
    },
    timings: () => ({ ...s.timings }),
    snapshot: () => structuredClone(s),
  };
  return { services: [service], routes: [], admin };
}
