// Target health on the server's one clock. A target group that no listener or rule of a load
// balancer uses has no health checks: its targets are `unused` (Target.NotInUse). Once in use,
// each target is checked every HealthCheckIntervalSeconds, from when its load balancer is active;
// whether a check passes is the health predicate's answer (ECS gives one; by default every check
// passes). As AWS documents: a newly registered target is `initial` until its first check, and
// healthy after one passing check whatever HealthyThresholdCount says; it is unhealthy
// (Target.FailedHealthChecks) after UnhealthyThresholdCount consecutive failures; an unhealthy
// target is healthy again after HealthyThresholdCount consecutive passes. A deregistered target
// is `draining` for the group's deregistration delay, then gone.
//
// Every step is a clock timer whose time is kept in state (nextCheckAt, drainUntil), so a stepped
// clock can be advanced by any amount and a server restarted with --data-dir carries on.
import type { HealthCheck, TargetGroupState, TargetHealthState, TargetState } from './model.js';

/** The descriptions AWS gives with each reason code. */
export const REASON_DESCRIPTIONS: Readonly<Record<string, string>> = {
  'Elb.RegistrationInProgress': 'Target registration is in progress',
  'Elb.InitialHealthChecking': 'Initial health checks in progress',
  'Target.FailedHealthChecks': 'Health checks failed',
  'Target.NotRegistered': 'Target is not registered to the target group',
  'Target.NotInUse': 'Target group is not configured to receive traffic from the load balancer',
  'Target.DeregistrationInProgress': 'Target deregistration is in progress',
};

export interface CheckState {
  state: TargetHealthState;
  reason?: string;
  passes: number;
  fails: number;
  checks: number;
}

/** One health check's outcome applied to a target (pure: the table of AWS's transitions). */
export function afterCheck(
  current: CheckState,
  passed: boolean,
  thresholds: Pick<HealthCheck, 'healthyThreshold' | 'unhealthyThreshold'>,
): CheckState {
  const passes = passed ? current.passes + 1 : 0;
  const fails = passed ? 0 : current.fails + 1;
  const checks = current.checks + 1;
  const next = (state: TargetHealthState, reason?: string): CheckState => ({
    state,
    ...(reason !== undefined ? { reason } : {}),
    passes,
    fails,
    checks,
  });
  const failed = () =>
    fails >= thresholds.unhealthyThreshold ? next('unhealthy', 'Target.FailedHealthChecks') : undefined;
  switch (current.state) {
    case 'initial':
      if (passed) return next('healthy');
      return failed() ?? next('initial', 'Elb.InitialHealthChecking');
    case 'healthy':
      return passed ? next('healthy') : (failed() ?? next('healthy'));
    case 'unhealthy':
      if (passed && passes >= thresholds.healthyThreshold) return next('healthy');
      return next('unhealthy', 'Target.FailedHealthChecks');
    default:
      return { ...current, passes, fails, checks };
  }
}

/** A target as the health predicate and the change listeners see it. */
export interface TargetRef {
  accountId: string;
  region: string;
  targetGroupArn: string;
  id: string;
  port: number;
}

export interface TargetHealthChange extends TargetRef {
  /** 'gone' when a draining target's deregistration delay is over. */
  state: TargetHealthState | 'gone';
  reason?: string;
}

/** The part of the server's clock the monitor needs (LocalClock has it). */
export interface SchedulingClock {
  now(): number;
  at(time: number, fn: () => void): { cancel(): void };
}

/** Whether a target group is in use by a load balancer, and from when that load balancer is active. */
export type GroupUse = (group: TargetGroupState) => { inUse: boolean; activeAt: number };

const key = (group: TargetGroupState, t: { id: string; port: number }) => `${group.arn} ${t.id}:${t.port}`;

export class TargetHealthMonitor {
  private readonly timers = new Map<string, { cancel(): void }>();
  private readonly listeners = new Set<(change: TargetHealthChange) => void>();
  predicate: (target: TargetRef) => boolean = () => true;

  constructor(
    private readonly clock: SchedulingClock,
    private readonly use: GroupUse,
    private readonly save: () => void,
    private readonly group: (arn: string) => TargetGroupState | undefined,
  ) {}

  onChange(listener: (change: TargetHealthChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-arms every pending check and drain from state (at start). */
  resume(groups: TargetGroupState[]): void {
    for (const group of groups)
      for (const target of group.targets) {
        if (target.drainUntil !== undefined) this.armDrain(group, target);
        else if (target.nextCheckAt !== undefined) this.armCheck(group, target);
      }
  }

  /** A new registration (or one that interrupts draining): initial, checked once the group is in use. */
  register(group: TargetGroupState, target: TargetState): void {
    this.cancel(group, target);
    Object.assign(target, {
      state: 'initial',
      reason: 'Elb.RegistrationInProgress',
      passes: 0,
      fails: 0,
      checks: 0,
    });
    delete target.drainUntil;
    delete target.nextCheckAt;
    const use = this.use(group);
    if (use.inUse) this.scheduleFirstCheck(group, target, use.activeAt);
  }

  /**
   * Deregistration: draining for the group's deregistration delay while the group is in use,
   * gone at once otherwise (no load balancer sends it anything to drain).
   */
  deregister(group: TargetGroupState, target: TargetState): void {
    this.cancel(group, target);
    delete target.nextCheckAt;
    const delayMs = Number(group.attributes['deregistration_delay.timeout_seconds'] ?? '300') * 1000;
    if (!this.use(group).inUse || delayMs === 0) {
      this.remove(group, target);
      return;
    }
    target.state = 'draining';
    target.reason = 'Target.DeregistrationInProgress';
    target.drainUntil = this.clock.now() + delayMs;
    this.armDrain(group, target);
    this.emit(group, target);
  }

  /** A listener or rule started or stopped using the group (or its load balancer went). */
  useChanged(group: TargetGroupState): void {
    const use = this.use(group);
    for (const target of [...group.targets]) {
      if (target.drainUntil !== undefined) {
        if (!use.inUse) {
          this.cancel(group, target);
          this.remove(group, target);
        }
        continue;
      }
      if (use.inUse && target.nextCheckAt === undefined) {
        this.register(group, target);
      } else if (!use.inUse && target.nextCheckAt !== undefined) {
        this.cancel(group, target);
        delete target.nextCheckAt;
        Object.assign(target, { state: 'initial', passes: 0, fails: 0, checks: 0 });
      }
    }
  }

  /** The group is deleted: its timers go with it. */
  forget(group: TargetGroupState): void {
    for (const target of group.targets) this.cancel(group, target);
  }

  // -------------------------------------------------------------------------------------------

  private scheduleFirstCheck(group: TargetGroupState, target: TargetState, activeAt: number): void {
    target.nextCheckAt = Math.max(this.clock.now(), activeAt) + group.healthCheck.intervalSeconds * 1000;
    this.armCheck(group, target);
  }

  private armCheck(group: TargetGroupState, target: TargetState): void {
    const k = key(group, target);
    this.timers.get(k)?.cancel();
    this.timers.set(
      k,
      this.clock.at(target.nextCheckAt!, () => this.check(group.arn, target.id, target.port)),
    );
  }

  private armDrain(group: TargetGroupState, target: TargetState): void {
    const k = key(group, target);
    this.timers.get(k)?.cancel();
    this.timers.set(
      k,
      this.clock.at(target.drainUntil!, () => {
        const live = this.group(group.arn);
        const t = live?.targets.find((x) => x.id === target.id && x.port === target.port);
        if (live && t?.drainUntil !== undefined) this.remove(live, t);
      }),
    );
  }

  private check(groupArn: string, id: string, port: number): void {
    const group = this.group(groupArn);
    const target = group?.targets.find((t) => t.id === id && t.port === port);
    if (!group || !target || target.nextCheckAt === undefined) return;
    this.timers.delete(key(group, target));
    const passed = this.predicate({
      accountId: group.accountId,
      region: group.region,
      targetGroupArn: group.arn,
      id,
      port,
    });
    const before = target.state;
    const after = afterCheck(target, passed, group.healthCheck);
    target.state = after.state;
    if (after.reason !== undefined) target.reason = after.reason;
    else delete target.reason;
    target.passes = after.passes;
    target.fails = after.fails;
    target.checks = after.checks;
    target.nextCheckAt = target.nextCheckAt + group.healthCheck.intervalSeconds * 1000;
    this.armCheck(group, target);
    this.save();
    if (after.state !== before) this.emit(group, target);
  }

  private remove(group: TargetGroupState, target: TargetState): void {
    this.timers.delete(key(group, target));
    group.targets = group.targets.filter((t) => t !== target);
    this.save();
    this.emit(group, target, 'gone');
  }

  private cancel(group: TargetGroupState, target: TargetState): void {
    const k = key(group, target);
    this.timers.get(k)?.cancel();
    this.timers.delete(k);
  }

  private emit(group: TargetGroupState, target: TargetState, state?: 'gone'): void {
    const change: TargetHealthChange = {
      accountId: group.accountId,
      region: group.region,
      targetGroupArn: group.arn,
      id: target.id,
      port: target.port,
      state: state ?? target.state,
      ...(state === undefined && target.reason !== undefined ? { reason: target.reason } : {}),
    };
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        console.error('local-aws: a target health listener threw:', error);
      }
    }
  }
}
