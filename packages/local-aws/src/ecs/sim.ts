// The simulation: Fargate task lifecycles and the service scheduler (rolling deployments, the
// deployment circuit breaker), all on the server's one clock. Every change is a clock timer, so
// the state is a function of simulated time: a test can advance() a stepped clock by any amount
// and DescribeServices shows what ECS would show at that moment.
//
// Each task keeps `nextAt`, the time of its next lifecycle step; each service is reconciled a
// scheduler delay after anything about it changes. Both are re-armed from state at start, so a
// server restarted with --data-dir carries on where it was.
//
// A task's network interface is EC2's (created at launch in one of its subnets, deleted once the
// task is STOPPED); a service's tasks behind load balancers are registered in ELBv2's target
// groups while they run, and their targets' health decides whether they are ready or stopped.
import type { Ec2Network, Subnet } from '../ec2/index.js';
import type { TargetHealthChange, TargetRef } from '../elbv2/index.js';
import type { TaskLoadBalancing } from './load-balancing.js';
import type { TaskRuntime } from './task-init.js';
import {
  arnPrefix,
  breakerThreshold,
  newDeploymentId,
  newTaskId,
  newUuid,
  parseDuration,
  resolvePlatformVersion,
  taskArn,
  throttleDelayMs,
  type ContainerState,
  type DeploymentState,
  type EcsRegion,
  type EcsState,
  type LoadBalancerSpec,
  type ResolvedImage,
  type ServiceState,
  type TaskScript,
  type TaskState,
  type TaskTarget,
  type Tag,
} from './model.js';

/** The part of the server's clock the simulation needs (LocalClock has it). */
export interface SchedulingClock {
  now(): number;
  at(time: number, fn: () => void): { cancel(): void };
}

export interface LaunchSpec {
  region: EcsRegion;
  clusterName: string;
  taskDefinition: { arn: string; body: Record<string, unknown> };
  /** A one-off task (RunTask): its command may script it in the documented forms (scriptFor). */
  oneOff: boolean;
  images: Record<string, ResolvedImage>;
  group: string;
  startedBy?: string;
  serviceName?: string;
  deploymentId?: string;
  /** Its awsvpcConfiguration: a subnet is chosen among `subnets` (spread over zones). */
  network: AwsvpcNetwork;
  /** A service task's target groups (registered when it runs). */
  loadBalancers?: LoadBalancerSpec[];
  /** A service task's health check grace period (ms). */
  healthCheckGraceMs?: number;
  overrides: Record<string, unknown>;
  tags: Tag[];
  /** Resolved (never LATEST). */
  platformVersion: string;
  enableExecuteCommand: boolean;
  /** The task size and ephemeral storage it runs with (RunTask's overrides applied). */
  cpu: string;
  memory: string;
  ephemeralStorageGiB: number;
}

/** A task's or service's awsvpcConfiguration, as the simulation uses it. */
export interface AwsvpcNetwork {
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
}

/** What the simulation needs beyond ECS's state and the clock: EC2's network and ELBv2. */
export interface SimulationDeps {
  network: Ec2Network;
  loadBalancing: TaskLoadBalancing;
  /** The agent's checks before containers start, and where their output goes (task-init.ts). */
  runtime?: TaskRuntime;
}

const MAX_EVENTS = 100;
/** ECS omits a repeated service event until its cause is resolved or six hours have passed. */
const REPEAT_EVENT_AFTER_MS = 6 * 60 * 60 * 1000;
/** The AWS account that requests the network interfaces of Fargate tasks (EC2's RequesterId). */
export const ECS_REQUESTER_ID = '578734482556';

/** Target-group events of one service, gathered during a scheduler pass and given after it. */
interface TargetEvents {
  deregistered: Map<string, number>;
  /** Tasks that began draining, by deployment (ECS names it as the task set). */
  draining: Map<string, number>;
}

/** The ENI attachment's status as DescribeTasks shows it at each task status. */
export function attachmentStatus(task: Pick<TaskState, 'lastStatus'>): string {
  if (task.lastStatus === 'PROVISIONING') return 'PRECREATED';
  if (task.lastStatus === 'DEPROVISIONING' || task.lastStatus === 'STOPPED') return 'DELETED';
  return 'ATTACHED';
}

type Container = Record<string, unknown>;

export class EcsSimulation {
  private readonly taskTimers = new Map<string, { at: number; cancel(): void }>();
  private readonly serviceTimers = new Map<string, { at: number; cancel(): void }>();

  /** While a scheduler pass (or an ELB stop) runs: target-group events to give after its own. */
  private targetEvents: Map<ServiceState, TargetEvents> | undefined;

  constructor(
    private readonly s: EcsState,
    private readonly clock: SchedulingClock,
    private readonly save: () => void,
    private readonly deps: SimulationDeps,
  ) {}

  /** Re-arms every pending task step and service reconciliation from state (at start). */
  resume(): void {
    for (const region of Object.values(this.s.regions)) {
      for (const task of Object.values(region.tasks)) if (task.nextAt !== undefined) this.arm(region, task);
      for (const [cluster, services] of Object.entries(region.services))
        for (const svc of Object.values(services))
          if (svc.status !== 'INACTIVE') this.scheduleReconcile(region, cluster, svc.name);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Tasks

  launch(spec: LaunchSpec): TaskState {
    const now = this.clock.now();
    const { region } = spec;
    const id = newTaskId();
    const arn = taskArn(region, spec.clusterName, id);
    const body = spec.taskDefinition.body;
    const defs = (body.containerDefinitions as Container[]) ?? [];
    const containerOverrides = (spec.overrides.containerOverrides as Container[] | undefined) ?? [];
    const subnet = this.subnetFor(spec);
    const attachmentId = newUuid();
    // Throws EC2's AwsError when the subnet has no free address left.
    const eni = this.deps.network.createNetworkInterface({
      accountId: region.accountId,
      region: region.region,
      subnetId: subnet.subnetId,
      securityGroupIds: spec.network.securityGroups,
      assignPublicIp: spec.network.assignPublicIp,
      description: `${arnPrefix(region)}:attachment/${attachmentId}`,
      requesterId: ECS_REQUESTER_ID,
      attachment: {},
      now,
    });
    const targets: TaskTarget[] = (spec.loadBalancers ?? []).map((lb) => ({ ...lb }));
    const containers: ContainerState[] = defs.map((c) => ({
      name: String(c.name),
      arn: `${arnPrefix(region)}:container/${spec.clusterName}/${id}/${newUuid()}`,
      image: String(c.image),
      lastStatus: 'PENDING',
      essential: c.essential !== false,
      healthStatus: 'UNKNOWN',
      cpu: String(c.cpu ?? 0),
      ...(c.memory !== undefined ? { memory: String(c.memory as number) } : {}),
    }));
    const task: TaskState = {
      arn,
      id,
      key: `${region.accountId}/${region.region}`,
      clusterArn: `${arnPrefix(region)}:cluster/${spec.clusterName}`,
      clusterName: spec.clusterName,
      taskDefinitionArn: spec.taskDefinition.arn,
      group: spec.group,
      ...(spec.startedBy !== undefined ? { startedBy: spec.startedBy } : {}),
      ...(spec.serviceName !== undefined ? { serviceName: spec.serviceName } : {}),
      ...(spec.deploymentId !== undefined ? { deploymentId: spec.deploymentId } : {}),
      cpu: spec.cpu,
      memory: spec.memory,
      ephemeralStorageGiB: spec.ephemeralStorageGiB,
      enableExecuteCommand: spec.enableExecuteCommand,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      healthStatus: 'UNKNOWN',
      createdAt: now,
      containers,
      ...(targets.length > 0 ? { targets } : {}),
      ...(spec.healthCheckGraceMs ? { healthCheckGraceMs: spec.healthCheckGraceMs } : {}),
      eni: {
        attachmentId,
        eniId: eni.networkInterfaceId,
        subnetId: subnet.subnetId,
        privateIp: eni.privateIpAddress,
        mac: eni.macAddress,
        status: 'PRECREATED',
      },
      availabilityZone: subnet.availabilityZone,
      overrides: {
        containerOverrides: containerOverrides.length
          ? containerOverrides
          : containers.map((c) => ({ name: c.name })),
        inferenceAcceleratorOverrides: [],
        ...Object.fromEntries(Object.entries(spec.overrides).filter(([k]) => k !== 'containerOverrides')),
      },
      tags: spec.tags,
      version: 1,
      platformVersion: spec.platformVersion,
      script: scriptFor(defs, containerOverrides, spec.images, spec.oneOff),
      nextAt: now + this.s.timings.provisioningMs,
    };
    region.tasks[id] = task;
    this.arm(region, task);
    return task;
  }

  /**
   * The subnet a new task goes to: among those of its network configuration, one in the
   * Availability Zone with the fewest running tasks of its group (its service, or RunTask's
   * group) in the cluster, the first given on a tie — tasks spread over zones, as ECS places them.
   */
  private subnetFor(spec: LaunchSpec): Subnet {
    const { region } = spec;
    const subnets = spec.network.subnets
      .map((id) => this.deps.network.subnet(region.accountId, region.region, id))
      .filter((subnet): subnet is Subnet => subnet !== undefined);
    const first = subnets[0];
    if (!first)
      throw new Error(
        `none of the subnets ${spec.network.subnets.join(', ')} exists (checked before launch)`,
      );
    const perZone = new Map<string, number>();
    for (const t of Object.values(region.tasks))
      if (t.clusterName === spec.clusterName && t.group === spec.group && t.desiredStatus === 'RUNNING')
        perZone.set(t.availabilityZone, (perZone.get(t.availabilityZone) ?? 0) + 1);
    return subnets.reduce((best, subnet) =>
      (perZone.get(subnet.availabilityZone) ?? 0) < (perZone.get(best.availabilityZone) ?? 0) ? subnet : best,
    );
  }

  /** Asks a task to stop (StopTask, the scheduler). No-op when it is already stopping. */
  stop(
    region: EcsRegion,
    task: TaskState,
    stopCode: NonNullable<TaskState['stopCode']>,
    reason: string,
    failed = false,
  ): void {
    if (task.desiredStatus === 'STOPPED') return;
    const now = this.clock.now();
    task.desiredStatus = 'STOPPED';
    task.stopCode = stopCode;
    task.stoppedReason = reason;
    task.stoppingAt = now;
    if (failed) task.failed = true;
    if (task.lastStatus === 'RUNNING') {
      // Its targets drain while it is DEACTIVATING, as ECS keeps a task behind a load balancer.
      const drainMs = this.leaveTargetGroups(region, task);
      task.lastStatus = 'DEACTIVATING';
      task.nextAt = now + Math.max(this.s.timings.deactivatingMs, drainMs);
    } else {
      // Not started yet: nothing to stop but the ENI.
      for (const c of task.containers) c.lastStatus = 'STOPPED';
      task.executionStoppedAt = now;
      task.lastStatus = 'DEPROVISIONING';
      task.nextAt = now + this.s.timings.deprovisioningMs;
    }
    task.eni.status = attachmentStatus(task);
    task.version++;
    this.arm(region, task);
    this.touched(region, task);
  }

  private arm(region: EcsRegion, task: TaskState): void {
    this.taskTimers.get(task.id)?.cancel();
    if (task.nextAt === undefined) return;
    const at = task.nextAt;
    const timer = this.clock.at(at, () => {
      this.taskTimers.delete(task.id);
      this.step(region, task);
    });
    this.taskTimers.set(task.id, { at, cancel: () => timer.cancel() });
  }

  private step(region: EcsRegion, task: TaskState): void {
    if (region.tasks[task.id] !== task) return;
    const now = this.clock.now();
    const t = this.s.timings;
    const script = task.script;
    switch (task.lastStatus) {
      case 'PROVISIONING':
        task.lastStatus = 'PENDING';
        task.connectivityAt = now;
        task.pullStartedAt = now;
        task.nextAt = now + t.pullMs;
        break;
      case 'PENDING': {
        // As the agent: secrets and registry auth first, then the images, then the log driver.
        const failure =
          this.initFailure(region, task, 'secrets') ??
          script.pullError ??
          this.initFailure(region, task, 'logging');
        if (failure !== undefined) {
          for (const c of task.containers) {
            c.lastStatus = 'STOPPED';
            if (c.name === script.container || c.reason === undefined) c.reason = failure;
          }
          task.desiredStatus = 'STOPPED';
          task.stopCode = 'TaskFailedToStart';
          task.stoppedReason = failure;
          task.failed = true;
          task.stoppingAt = now;
          task.executionStoppedAt = now;
          task.lastStatus = 'DEPROVISIONING';
          task.nextAt = now + t.deprovisioningMs;
          this.failedToStart(region, task);
        } else {
          task.pullStoppedAt = now;
          task.lastStatus = 'ACTIVATING';
          task.nextAt = now + t.activatingMs + script.startDelayMs;
        }
        break;
      }
      case 'ACTIVATING':
        task.lastStatus = 'RUNNING';
        task.startedAt = now;
        for (const c of task.containers) {
          c.lastStatus = 'RUNNING';
          c.runtimeId = `${task.id}-${Math.abs(hash(c.name)) % 10_000_000_000}`;
          const digest = script.digests?.[c.name];
          if (digest) c.imageDigest = digest;
        }
        this.containerOutput(region, task);
        task.nextAt = this.nextRunningEvent(task, now);
        this.taskStarted(region, task);
        this.joinTargetGroups(region, task);
        break;
      case 'RUNNING':
        this.runningEvent(region, task, now);
        break;
      case 'DEACTIVATING':
        task.lastStatus = 'STOPPING';
        task.nextAt = now + (script.ignoreSigterm ? script.stopTimeoutMs : t.stoppingMs);
        break;
      case 'STOPPING':
        task.lastStatus = 'DEPROVISIONING';
        task.executionStoppedAt ??= now;
        for (const c of task.containers) {
          if (c.lastStatus !== 'STOPPED') {
            if (!script.ignoreSigterm) this.write(region, task, c.name, 'received SIGTERM, exiting');
            c.lastStatus = 'STOPPED';
            c.exitCode = script.ignoreSigterm ? 137 : 0;
          }
        }
        task.nextAt = now + t.deprovisioningMs;
        break;
      case 'DEPROVISIONING':
        task.lastStatus = 'STOPPED';
        task.stoppedAt = now;
        this.deps.network.deleteNetworkInterface(region.accountId, region.region, task.eni.eniId);
        task.nextAt = now + t.stoppedRetentionMs;
        this.taskStoppedForService(region, task);
        break;
      case 'STOPPED':
        delete region.tasks[task.id];
        this.save();
        return;
    }
    task.eni.status = attachmentStatus(task);
    task.version++;
    this.arm(region, task);
    this.touched(region, task);
  }

  /** The agent's check of one stage (task-init.ts); undefined when it passes or is not simulated. */
  private initFailure(region: EcsRegion, task: TaskState, stage: 'secrets' | 'logging'): string | undefined {
    const runtime = this.deps.runtime;
    if (!runtime) return undefined;
    const body = this.taskDefinitionByArn(region, task.taskDefinitionArn)?.body ?? {};
    return runtime.initFailure(region, task, body, stage);
  }

  /** A line a container writes (to its awslogs stream): the same lines local-kubernetes's kubelet writes. */
  private write(region: EcsRegion, task: TaskState, container: string, text: string): void {
    const runtime = this.deps.runtime;
    if (!runtime) return;
    const body = this.taskDefinitionByArn(region, task.taskDefinitionArn)?.body ?? {};
    runtime.write(region, task, body, container, text);
  }

  /** What the containers write as they start (and, for one that exits, what it said it would do). */
  private containerOutput(region: EcsRegion, task: TaskState): void {
    const s = task.script;
    for (const c of task.containers) {
      this.write(
        region,
        task,
        c.name,
        `container ${c.name} started from ${c.image} (${c.imageDigest ?? c.image})`,
      );
      if (c.name === s.container && s.exitAfterMs !== undefined)
        this.write(
          region,
          task,
          c.name,
          `working; will exit with code ${s.exitCode} after ${s.exitAfterMs / 1000}s`,
        );
      else this.write(region, task, c.name, 'serving until stopped');
    }
  }

  /**
   * The next due event of a RUNNING task: its exit, its container health check's verdict, the end
   * of its service's health check grace period for a failing health check; undefined when none.
   */
  private nextRunningEvent(task: TaskState, now: number): number | undefined {
    const s = task.script;
    const started = task.startedAt ?? now;
    const due: number[] = [];
    if (s.exitAfterMs !== undefined) due.push(started + s.exitAfterMs);
    if (task.healthStatus === 'UNKNOWN') {
      if (s.unhealthyAfterMs !== undefined) due.push(started + s.unhealthyAfterMs);
      else if (s.healthyAfterMs !== undefined) due.push(started + s.healthyAfterMs);
    }
    if (task.serviceName !== undefined && task.healthStatus === 'UNHEALTHY')
      due.push(started + (task.healthCheckGraceMs ?? 0));
    if (task.elbCheckAt !== undefined) due.push(task.elbCheckAt);
    const next = due.filter((d) => d >= now);
    return next.length ? Math.min(...next) : undefined;
  }

  private runningEvent(region: EcsRegion, task: TaskState, now: number): void {
    const s = task.script;
    const elapsed = now - (task.startedAt ?? now);
    if (s.exitAfterMs !== undefined && elapsed >= s.exitAfterMs) {
      for (const c of task.containers) {
        c.lastStatus = 'STOPPED';
        c.exitCode = c.name === s.container ? s.exitCode : 0;
        if (c.name === s.container) this.write(region, task, c.name, `exited with code ${c.exitCode}`);
        else this.write(region, task, c.name, 'received SIGTERM, exiting');
      }
      task.desiredStatus = 'STOPPED';
      task.stopCode = 'EssentialContainerExited';
      task.stoppedReason = 'Essential container in task exited';
      task.failed = true;
      task.stoppingAt = now;
      task.executionStoppedAt = now;
      const drainMs = this.leaveTargetGroups(region, task);
      task.lastStatus = 'DEACTIVATING';
      task.nextAt = now + Math.max(this.s.timings.deactivatingMs, drainMs);
      return;
    }
    if (task.healthStatus === 'UNKNOWN') {
      const main = task.containers.find((c) => c.name === s.container);
      if (s.unhealthyAfterMs !== undefined && elapsed >= s.unhealthyAfterMs) {
        task.healthStatus = 'UNHEALTHY';
        if (main) main.healthStatus = 'UNHEALTHY';
      } else if (s.healthyAfterMs !== undefined && elapsed >= s.healthyAfterMs) {
        task.healthStatus = 'HEALTHY';
        if (main) main.healthStatus = 'HEALTHY';
      }
    }
    // The service scheduler replaces an unhealthy task once its grace period is over.
    if (task.serviceName !== undefined && elapsed >= (task.healthCheckGraceMs ?? 0)) {
      if (task.healthStatus === 'UNHEALTHY') {
        task.nextAt = undefined;
        this.stop(region, task, 'ServiceSchedulerInitiated', 'Task failed container health checks', true);
        return;
      }
      if (task.elbCheckAt !== undefined && now >= task.elbCheckAt) {
        delete task.elbCheckAt;
        const failing = this.deps.loadBalancing.unhealthy(task);
        if (failing) {
          this.failElbHealthChecks(region, task, failing);
          return;
        }
      }
    }
    task.nextAt = this.nextRunningEvent(task, now);
  }

  // ------------------------------------------------------------------------------------------
  // Load balancers

  /** A service task reached RUNNING: ECS registers it in its target groups. */
  private joinTargetGroups(region: EcsRegion, task: TaskState): void {
    if (!task.targets?.length) return;
    const svc = this.serviceOf(region, task);
    for (const { targetGroupArn, error } of this.deps.loadBalancing.register(task)) {
      if (!svc) continue;
      this.event(
        svc,
        error === undefined
          ? `(service ${svc.name}) registered 1 targets in (target-group ${targetGroupArn})`
          : `(service ${svc.name}) failed to register targets in (target-group ${targetGroupArn}) with (error ${error})`,
      );
    }
  }

  /**
   * A task is asked to stop: ECS deregisters its targets and it drains for the longest
   * deregistration delay of its groups, which this returns (ms).
   */
  private leaveTargetGroups(region: EcsRegion, task: TaskState): number {
    if (!task.targets?.some((t) => t.registered)) return 0;
    const { groups, drainMs } = this.deps.loadBalancing.deregister(task);
    const svc = this.serviceOf(region, task);
    if (!svc || groups.length === 0) return drainMs;
    const gathered = this.targetEvents;
    const events: TargetEvents = gathered?.get(svc) ?? { deregistered: new Map(), draining: new Map() };
    for (const group of groups) events.deregistered.set(group, (events.deregistered.get(group) ?? 0) + 1);
    const deployment = task.deploymentId ?? '';
    events.draining.set(deployment, (events.draining.get(deployment) ?? 0) + 1);
    if (gathered) gathered.set(svc, events);
    else this.giveTargetEvents(new Map([[svc, events]]));
    return drainMs;
  }

  /** "deregistered N targets" per group, then "has begun draining connections" per deployment. */
  private giveTargetEvents(gathered: Map<ServiceState, TargetEvents>): void {
    for (const [svc, events] of gathered) {
      for (const [group, n] of events.deregistered)
        this.event(svc, `(service ${svc.name}) deregistered ${n} targets in (target-group ${group})`);
      for (const [deployment, n] of events.draining)
        this.event(
          svc,
          `(service ${svc.name}, taskSet ${deployment}) has begun draining connections on ${n} tasks.`,
        );
    }
  }

  /** Runs `fn` with target-group events held back, then gives them (after the events `fn` gave). */
  private withTargetEvents(fn: () => void): void {
    if (this.targetEvents) return fn();
    const gathered = (this.targetEvents = new Map());
    try {
      fn();
    } finally {
      this.targetEvents = undefined;
      this.giveTargetEvents(gathered);
    }
  }

  /** ECS stops a task whose target failed its load balancer's health checks. */
  private failElbHealthChecks(region: EcsRegion, task: TaskState, target: TaskTarget): void {
    const svc = this.serviceOf(region, task);
    this.withTargetEvents(() => {
      if (svc)
        this.event(
          svc,
          `(service ${svc.name}) (task ${task.id}) (port ${target.containerPort}) is unhealthy in (target-group ${target.targetGroupArn}) due to (reason Health checks failed).`,
        );
      task.nextAt = undefined;
      this.stop(
        region,
        task,
        'ServiceSchedulerInitiated',
        `Task failed ELB health checks in (target-group ${target.targetGroupArn})`,
        true,
      );
      if (svc) {
        this.event(svc, `(service ${svc.name}) has stopped 1 running tasks: (task ${task.id}).`);
        svc.steady = false;
      }
    });
  }

  /** The live task a target belongs to (its private IP, a group it is registered in, that port). */
  private taskOfTarget(target: TargetRef): { region: EcsRegion; task: TaskState } | undefined {
    const region = this.s.regions[`${target.accountId}/${target.region}`];
    if (!region) return undefined;
    const task = Object.values(region.tasks).find(
      (t) =>
        t.lastStatus !== 'STOPPED' &&
        t.eni.privateIp === target.id &&
        t.targets?.some((x) => x.targetGroupArn === target.targetGroupArn && x.containerPort === target.port),
    );
    return task && { region, task };
  }

  /**
   * ELBv2's health predicate: a task's target passes unless its image says its health fails
   * (local-aws.health=fail or local-aws.elb-health=fail); an address that is no task's passes.
   */
  targetPasses(target: TargetRef): boolean {
    const found = this.taskOfTarget(target);
    return !found || !found.task.script.elbHealthFails;
  }

  /**
   * A target's health changed (ELBv2 tells): the service scheduler looks again, and a task whose
   * target is unhealthy is stopped — at once, or when its grace period is over if it still is.
   */
  targetHealthChanged(change: TargetHealthChange): void {
    if (change.state === 'gone') return;
    const found = this.taskOfTarget(change);
    if (!found) return;
    const { region, task } = found;
    const now = this.clock.now();
    if (
      change.state === 'unhealthy' &&
      task.serviceName !== undefined &&
      task.lastStatus === 'RUNNING' &&
      task.desiredStatus === 'RUNNING'
    ) {
      const target = task.targets!.find(
        (x) => x.targetGroupArn === change.targetGroupArn && x.containerPort === change.port,
      )!;
      const graceEnd = (task.startedAt ?? now) + (task.healthCheckGraceMs ?? 0);
      if (now >= graceEnd) {
        this.failElbHealthChecks(region, task, target);
        return;
      }
      task.elbCheckAt = graceEnd;
      task.nextAt = this.nextRunningEvent(task, now);
      this.arm(region, task);
    }
    this.touched(region, task);
  }

  private serviceOf(region: EcsRegion, task: TaskState): ServiceState | undefined {
    return task.serviceName === undefined ? undefined : region.services[task.clusterName]?.[task.serviceName];
  }

  private touched(region: EcsRegion, task: TaskState): void {
    this.save();
    if (task.serviceName !== undefined) this.scheduleReconcile(region, task.clusterName, task.serviceName);
  }

  // ------------------------------------------------------------------------------------------
  // Services

  scheduleReconcile(region: EcsRegion, cluster: string, service: string, at?: number): void {
    const key = `${region.accountId}/${region.region}/${cluster}/${service}`;
    at ??= this.clock.now() + this.s.timings.schedulerDelayMs;
    const existing = this.serviceTimers.get(key);
    if (existing && existing.at <= at) return;
    existing?.cancel();
    const timer = this.clock.at(at, () => {
      this.serviceTimers.delete(key);
      const svc = region.services[cluster]?.[service];
      if (svc) this.reconcile(region, cluster, svc);
    });
    this.serviceTimers.set(key, { at, cancel: () => timer.cancel() });
  }

  serviceTasks(region: EcsRegion, cluster: string, service: string): TaskState[] {
    return Object.values(region.tasks).filter((t) => t.clusterName === cluster && t.serviceName === service);
  }

  event(svc: ServiceState, message: string): void {
    svc.events.push({ id: newUuid(), createdAt: this.clock.now(), message });
    if (svc.events.length > MAX_EVENTS) svc.events.splice(0, svc.events.length - MAX_EVENTS);
  }

  newDeployment(
    svc: ServiceState,
    taskDefinition: string,
    images: Record<string, ResolvedImage>,
  ): DeploymentState {
    const now = this.clock.now();
    const id = newDeploymentId();
    const previous = svc.deployments.find((d) => d.status === 'PRIMARY');
    // A new task definition takes a service out of the throttle at once, as ECS documents.
    if (previous && previous.taskDefinition !== taskDefinition) delete svc.throttle;
    for (const d of svc.deployments) if (d.status === 'PRIMARY') d.status = 'ACTIVE';
    const dep: DeploymentState = {
      id,
      status: 'PRIMARY',
      taskDefinition,
      images,
      desiredCount: svc.desiredCount,
      failedTasks: 0,
      createdAt: now,
      updatedAt: now,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: `ECS deployment ${id} in progress.`,
      networkConfiguration: structuredClone(svc.networkConfiguration),
      platformVersion: resolvePlatformVersion(svc.platformVersion),
      enableExecuteCommand: svc.enableExecuteCommand,
      loadBalancers: structuredClone(svc.loadBalancers ?? []),
    };
    svc.deployments.push(dep);
    svc.steady = false;
    return dep;
  }

  /** A service task reached RUNNING: its service starts tasks consistently again. */
  private taskStarted(region: EcsRegion, task: TaskState): void {
    if (task.serviceName === undefined) return;
    const svc = region.services[task.clusterName]?.[task.serviceName];
    if (svc) delete svc.throttle;
  }

  /** A failed service task is STOPPED: the circuit breaker counts it. */
  private taskStoppedForService(region: EcsRegion, task: TaskState): void {
    if (!task.failed || task.serviceName === undefined) return;
    const svc = region.services[task.clusterName]?.[task.serviceName];
    if (svc) this.countFailure(svc, task);
  }

  /**
   * ECS's service throttle logic: service tasks that fail before they reach RUNNING, in a row,
   * delay the next launch (throttleDelayMs) and give the "unable to consistently start" event,
   * once per six hours while it lasts. Tasks that stop after RUNNING are not throttled, as in ECS.
   */
  private failedToStart(region: EcsRegion, task: TaskState): void {
    if (task.serviceName === undefined) return;
    const svc = region.services[task.clusterName]?.[task.serviceName];
    if (!svc) return;
    const now = this.clock.now();
    const th = (svc.throttle ??= { startFailures: 0 });
    th.startFailures++;
    // A circuit breaker still counting this deployment's failures decides first (it counts them
    // when they are STOPPED, a little later): its rollback ends the throttle, its FAILED does not.
    const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
    const breakerCounting =
      (svc.deploymentController ?? 'ECS') === 'ECS' &&
      svc.deploymentConfiguration.deploymentCircuitBreaker.enable &&
      primary?.rolloutState === 'IN_PROGRESS';
    if (breakerCounting) return;
    const delay = throttleDelayMs(th.startFailures, svc.desiredCount, this.s.timings);
    if (delay === undefined) return;
    th.until = now + delay;
    if (th.notifiedAt === undefined || now - th.notifiedAt >= REPEAT_EVENT_AFTER_MS) {
      th.notifiedAt = now;
      this.event(svc, `(service ${svc.name}) is unable to consistently start tasks successfully.`);
    }
  }

  /** Counts a failed task of an IN_PROGRESS primary deployment; trips the circuit breaker. */
  private countFailure(svc: ServiceState, task: TaskState): void {
    // CODE_DEPLOY and EXTERNAL services have task sets, not deployments, and no breaker.
    if ((svc.deploymentController ?? 'ECS') !== 'ECS') return;
    const dep = svc.deployments.find((d) => d.id === task.deploymentId);
    if (!dep || dep.status !== 'PRIMARY' || dep.rolloutState !== 'IN_PROGRESS') return;
    dep.failedTasks++;
    dep.updatedAt = this.clock.now();
    const breaker = svc.deploymentConfiguration.deploymentCircuitBreaker;
    if (!breaker.enable || dep.failedTasks < breakerThreshold(svc.desiredCount)) return;
    dep.rolloutState = 'FAILED';
    dep.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.';
    this.event(svc, `(service ${svc.name}) (deployment ${dep.id}) deployment failed: tasks failed to start.`);
    if (!breaker.rollback) return;
    const target =
      [...svc.deployments].reverse().find((d) => d !== dep && d.rolloutState === 'COMPLETED') ??
      (svc.lastCompleted && !svc.deployments.some((d) => d.id === svc.lastCompleted!.id)
        ? structuredClone(svc.lastCompleted)
        : undefined);
    if (!target) return;
    dep.status = 'ACTIVE';
    if (!svc.deployments.includes(target)) svc.deployments.push(target);
    for (const d of svc.deployments) if (d.status === 'PRIMARY') d.status = 'ACTIVE';
    target.status = 'PRIMARY';
    target.rolloutState = 'IN_PROGRESS';
    target.rolloutStateReason = `ECS deployment circuit breaker: rolling back to deploymentId ${target.id}.`;
    target.desiredCount = svc.desiredCount;
    target.updatedAt = this.clock.now();
    svc.taskDefinition = target.taskDefinition;
    if (target.loadBalancers) svc.loadBalancers = structuredClone(target.loadBalancers);
    delete svc.throttle;
    svc.steady = false;
    this.event(svc, `(service ${svc.name}) rolling back to deployment ${target.id}.`);
  }

  /** One pass of the service scheduler (its target-group events given after its own). */
  reconcile(region: EcsRegion, cluster: string, svc: ServiceState): void {
    this.withTargetEvents(() => this.schedule(region, cluster, svc));
    this.save();
  }

  private schedule(region: EcsRegion, cluster: string, svc: ServiceState): void {
    if (svc.status === 'INACTIVE') return;
    const now = this.clock.now();
    const tasks = this.serviceTasks(region, cluster, svc.name);
    const live = tasks.filter((t) => t.desiredStatus === 'RUNNING');
    const ready = (t: TaskState) =>
      t.desiredStatus === 'RUNNING' &&
      t.lastStatus === 'RUNNING' &&
      (!hasHealthCheck(t.script) || t.healthStatus === 'HEALTHY') &&
      this.deps.loadBalancing.healthy(t);
    const stopped: TaskState[] = [];
    const stopTask = (t: TaskState, reason: string) => {
      this.stop(region, t, 'ServiceSchedulerInitiated', reason);
      stopped.push(t);
    };

    if (svc.status === 'DRAINING') {
      for (const t of live) stopTask(t, 'Service deleted');
      if (tasks.every((t) => t.lastStatus === 'STOPPED') && live.length === 0) {
        svc.status = 'INACTIVE';
        for (const d of svc.deployments) d.status = 'INACTIVE';
        svc.deployments = [];
      }
      this.save();
      return;
    }

    const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
    if (!primary) return;
    const D = svc.desiredCount;
    primary.desiredCount = D;
    const { maximumPercent, minimumHealthyPercent } = svc.deploymentConfiguration;
    const maxTotal = Math.max(D === 0 ? 0 : 1, Math.floor((D * maximumPercent) / 100));
    const minHealthy = Math.ceil((D * minimumHealthyPercent) / 100);
    const byNewest = (a: TaskState, b: TaskState) => b.createdAt - a.createdAt;

    // 1. Too many primary tasks (scale down): stop the ones not yet ready first, newest first.
    const primaryLive = live.filter((t) => t.deploymentId === primary.id);
    if (primaryLive.length > D) {
      const excess = [...primaryLive]
        .sort((a, b) => Number(ready(a)) - Number(ready(b)) || byNewest(a, b))
        .slice(0, primaryLive.length - D);
      for (const t of excess) stopTask(t, `Scaling activity initiated by (deployment ${primary.id})`);
    }

    // 2. Old deployments: tasks not ready go at once; ready ones while minimum healthy holds.
    let liveNow = live.filter((t) => t.desiredStatus === 'RUNNING');
    const olds = liveNow.filter((t) => t.deploymentId !== primary.id);
    for (const t of olds.filter((x) => !ready(x)))
      stopTask(t, `Scaling activity initiated by (deployment ${primary.id})`);
    let readyCount = liveNow.filter((t) => t.desiredStatus === 'RUNNING' && ready(t)).length;
    for (const t of olds.filter(ready).sort(byNewest)) {
      if (readyCount - 1 < minHealthy) break;
      stopTask(t, `Scaling activity initiated by (deployment ${primary.id})`);
      readyCount--;
    }

    // 3. Start primary tasks up to the desired count, within maximum percent.
    liveNow = live.filter((t) => t.desiredStatus === 'RUNNING');
    const primaryCount = liveNow.filter((t) => t.deploymentId === primary.id).length;
    const room = maxTotal - liveNow.length;
    let toStart = Math.max(0, Math.min(D - primaryCount, room));
    const throttledUntil = svc.throttle?.until;
    if (toStart > 0 && throttledUntil !== undefined && throttledUntil > now) {
      toStart = 0;
      this.scheduleReconcile(region, cluster, svc.name, throttledUntil);
    }
    const started: TaskState[] = [];
    const td = this.taskDefinitionByArn(region, primary.taskDefinition);
    if (td) {
      const body = td.body;
      for (let i = 0; i < toStart; i++) {
        try {
          started.push(
            this.launch({
              region,
              clusterName: cluster,
              taskDefinition: td,
              oneOff: false,
              images: primary.images,
              group: `service:${svc.name}`,
              startedBy: primary.id,
              serviceName: svc.name,
              deploymentId: primary.id,
              network: awsvpcOf(primary.networkConfiguration),
              loadBalancers: primary.loadBalancers ?? svc.loadBalancers ?? [],
              healthCheckGraceMs: (svc.healthCheckGracePeriodSeconds ?? 0) * 1000,
              overrides: {},
              tags: serviceTaskTags(svc, cluster, td.tags),
              platformVersion: resolvePlatformVersion(primary.platformVersion),
              enableExecuteCommand: primary.enableExecuteCommand ?? svc.enableExecuteCommand,
              cpu: String(body.cpu),
              memory: String(body.memory),
              ephemeralStorageGiB: ephemeralStorageOf(body),
            }),
          );
        } catch (error) {
          // No network interface (a subnet full or gone): try again after the scheduler's back-off.
          this.event(
            svc,
            `(service ${svc.name}) was unable to place a task. Reason: ${(error as Error).message}.`,
          );
          this.scheduleReconcile(region, cluster, svc.name, now + this.s.timings.throttleBaseMs);
          break;
        }
      }
    }
    if (stopped.length > 0) {
      this.event(
        svc,
        `(service ${svc.name}) has stopped ${stopped.length} running tasks: ${stopped.map((t) => `(task ${t.id})`).join(' ')}.`,
      );
      svc.steady = false;
    }
    if (started.length > 0) {
      this.event(
        svc,
        `(service ${svc.name}) has started ${started.length} tasks: ${started.map((t) => `(task ${t.id})`).join(' ')}.`,
      );
      svc.steady = false;
    }

    // 4. Drained deployments go INACTIVE; the primary completes once it alone runs, all ready.
    const all = this.serviceTasks(region, cluster, svc.name).filter((t) => t.desiredStatus === 'RUNNING');
    for (const d of [...svc.deployments]) {
      if (d === primary) continue;
      const stillThere = this.serviceTasks(region, cluster, svc.name).some(
        (t) => t.deploymentId === d.id && t.lastStatus !== 'STOPPED',
      );
      if (!stillThere) {
        d.status = 'INACTIVE';
        d.updatedAt = now;
        svc.deployments = svc.deployments.filter((x) => x !== d);
      }
    }
    // A deployment completes once its tasks have run for steadyStateMs.
    const steadyMs = this.s.timings.steadyStateMs;
    const primaryReadyTasks = all.filter((t) => t.deploymentId === primary.id && ready(t));
    const primaryReady = primaryReadyTasks.filter((t) => now - (t.startedAt ?? now) >= steadyMs).length;
    const soonest = primaryReadyTasks
      .map((t) => (t.startedAt ?? now) + steadyMs)
      .filter((at) => at > now)
      .sort((a, b) => a - b)[0];
    if (soonest !== undefined) this.scheduleReconcile(region, cluster, svc.name, soonest);
    const draining = this.serviceTasks(region, cluster, svc.name).some(
      (t) => t.desiredStatus === 'STOPPED' && t.lastStatus !== 'STOPPED',
    );
    const settled = svc.deployments.length === 1 && primaryReady === D && all.length === D && !draining;
    if (settled && primary.rolloutState === 'IN_PROGRESS') {
      primary.rolloutState = 'COMPLETED';
      primary.rolloutStateReason = `ECS deployment ${primary.id} completed.`;
      primary.updatedAt = now;
      // A CODE_DEPLOY service's task set has no rollout of ECS's to report.
      if ((svc.deploymentController ?? 'ECS') === 'ECS')
        this.event(svc, `(service ${svc.name}) (deployment ${primary.id}) deployment completed.`);
    }
    if (settled && primary.rolloutState === 'COMPLETED') svc.lastCompleted = structuredClone(primary);
    if (settled && !svc.steady) {
      svc.steady = true;
      this.event(svc, `(service ${svc.name}) has reached a steady state.`);
    }
    if (!settled) svc.steady = false;
    this.save();
  }

  taskDefinitionByArn(
    region: EcsRegion,
    arn: string,
  ): { arn: string; body: Record<string, unknown>; tags: Tag[] } | undefined {
    const m = /:task-definition\/([^:]+):(\d+)$/.exec(arn);
    if (!m) return undefined;
    const td = region.taskDefinitions[m[1]!]?.[Number(m[2]) - 1];
    return td ? { arn: td.arn, body: td.body, tags: td.tags } : undefined;
  }

  /** Cancels every timer of a task (it is being forgotten). */
  forget(taskId: string): void {
    this.taskTimers.get(taskId)?.cancel();
    this.taskTimers.delete(taskId);
  }
}

/** The awsvpcConfiguration of a service's, deployment's or RunTask's network configuration. */
export function awsvpcOf(networkConfiguration: Record<string, unknown>): AwsvpcNetwork {
  const awsvpc = networkConfiguration.awsvpcConfiguration as
    { subnets?: string[]; securityGroups?: string[]; assignPublicIp?: string } | undefined;
  return {
    subnets: awsvpc?.subnets ?? [],
    securityGroups: awsvpc?.securityGroups ?? [],
    assignPublicIp: awsvpc?.assignPublicIp === 'ENABLED',
  };
}

/** The ephemeral storage (GiB) of a task definition: 20 unless it says more. */
export function ephemeralStorageOf(body: Record<string, unknown>): number {
  const es = body.ephemeralStorage as { sizeInGiB?: number } | undefined;
  return es?.sizeInGiB ?? 20;
}

/** Tags the ECS managed tags option adds: the cluster's name, and the service's for its tasks. */
export function managedTags(cluster: string, service?: string): Tag[] {
  return [
    { key: 'aws:ecs:clusterName', value: cluster },
    ...(service !== undefined ? [{ key: 'aws:ecs:serviceName', value: service }] : []),
  ];
}

/** Later lists win for a key already given. */
export function combineTags(...lists: Tag[][]): Tag[] {
  const out = new Map<string, string>();
  for (const list of lists) for (const t of list) out.set(t.key, t.value);
  return [...out].map(([key, value]) => ({ key, value }));
}

/** A service task's tags: propagated from the service or the task definition, and managed tags. */
function serviceTaskTags(svc: ServiceState, cluster: string, taskDefinitionTags: Tag[]): Tag[] {
  const propagated =
    svc.propagateTags === 'SERVICE'
      ? svc.tags
      : svc.propagateTags === 'TASK_DEFINITION'
        ? taskDefinitionTags
        : [];
  return combineTags(
    structuredClone(propagated),
    svc.enableECSManagedTags ? managedTags(cluster, svc.name) : [],
  );
}

function hasHealthCheck(script: TaskScript): boolean {
  return script.healthyAfterMs !== undefined || script.unhealthyAfterMs !== undefined;
}

function hash(s: string): number {
  let h = 0;
  for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) | 0;
  return h;
}

/** The documented one-off forms: exactly `sleep N`, `exit N` or `sleep N; exit N`. */
const ONE_OFF_SCRIPT =
  /^\s*(?:sleep\s+(\d+(?:\.\d+)?)\s*;\s*exit\s+(\d{1,3})|sleep\s+(\d+(?:\.\d+)?)|exit\s+(\d{1,3}))\s*$/;

/**
 * What a one-off task's command says it does, when it says so in the one documented form: the
 * whole command is exactly `sleep N`, `exit N` or `sleep N; exit N`, either as the words
 * themselves (`["sleep", "3600"]`) or as the script of `sh -c` / `/bin/sh -c` (further words are
 * $0, $1… and ignored). Anything else — a server loop, `cmd || exit 1`, a `trap` — says nothing:
 * the container runs until stopped.
 */
export function oneOffCommand(
  argv: readonly string[],
): { exitAfterMs: number; exitCode: number } | undefined {
  let script: string;
  if ((argv[0] === 'sh' || argv[0] === '/bin/sh') && argv[1] === '-c' && argv.length >= 3) script = argv[2]!;
  else if (argv.length > 0 && argv.every((w) => w !== '' && !/\s/.test(w))) script = argv.join(' ');
  else return undefined;
  const m = ONE_OFF_SCRIPT.exec(script);
  if (!m) return undefined;
  const sleep = m[1] ?? m[3];
  const exit = m[2] ?? m[4];
  const exitCode = exit === undefined ? 0 : Number(exit);
  if (exitCode > 255) return undefined;
  return { exitAfterMs: sleep === undefined ? 0 : Math.round(Number(sleep) * 1000), exitCode };
}

/**
 * How the task will behave: from the essential container's image (resolved labels or a pull
 * error), its health check, and — for a one-off task only — its command in the documented form
 * (oneOffCommand), which wins over the exit labels. A service task's command never scripts it.
 */
export function scriptFor(
  defs: Container[],
  containerOverrides: Container[],
  images: Record<string, ResolvedImage>,
  oneOff: boolean,
): TaskScript {
  const digests: Record<string, string> = {};
  let pullError: string | undefined;
  for (const c of defs) {
    const img = images[String(c.name)];
    if (img && !img.pullable) pullError ??= img.error;
    if (img?.pullable && img.digest) digests[String(c.name)] = img.digest;
  }
  const main = defs.find((c) => c.essential !== false) ?? defs[0] ?? {};
  const name = String(main.name);
  const resolved = images[name];
  const labels = resolved?.pullable ? resolved.labels : {};
  const durationOf = (key: string): number | undefined => parseDuration(labels[key]);
  const override = containerOverrides.find((o) => o.name === name);
  const command = (override?.command as string[] | undefined) ?? (main.command as string[] | undefined);
  const entryPoint = (main.entryPoint as string[] | undefined) ?? [];

  let exitAfterMs = durationOf('local-aws.exit-after');
  let exitCode = Number.parseInt(labels['local-aws.exit-code'] ?? '0', 10) || 0;
  if (labels['local-aws.exit-code'] !== undefined && exitAfterMs === undefined) exitAfterMs = 0;
  const scripted = oneOff ? oneOffCommand([...entryPoint, ...(command ?? [])]) : undefined;
  if (scripted) ({ exitAfterMs, exitCode } = scripted);
  const hc = main.healthCheck as
    { interval?: number; retries?: number; startPeriod?: number; timeout?: number } | undefined;
  const interval = (hc?.interval ?? 30) * 1000;
  const retries = hc?.retries ?? 3;
  const startPeriod = (hc?.startPeriod ?? 0) * 1000;
  const healthFails = (labels['local-aws.health'] ?? '').toLowerCase() === 'fail';
  const elbHealthFails = healthFails || (labels['local-aws.elb-health'] ?? '').toLowerCase() === 'fail';
  return {
    ...(pullError !== undefined ? { pullError } : {}),
    startDelayMs: durationOf('local-aws.start-delay') ?? 0,
    ...(exitAfterMs !== undefined ? { exitAfterMs } : {}),
    exitCode,
    ...(hc && healthFails ? { unhealthyAfterMs: startPeriod + interval * retries } : {}),
    ...(hc && !healthFails ? { healthyAfterMs: interval } : {}),
    ...(elbHealthFails ? { elbHealthFails } : {}),
    ignoreSigterm: (labels['local-aws.ignore-sigterm'] ?? '').toLowerCase() === 'true',
    stopTimeoutMs: ((main.stopTimeout as number | undefined) ?? 30) * 1000,
    container: name,
    digests,
  };
}
