// ECS's state: clusters, task definitions, services with their deployments, tasks. Everything is
// JSON-serialisable and lives in the StateStore namespace "ecs"; times are simulated epoch ms.
import { randomBytes, randomUUID } from 'node:crypto';
import type { StateStore } from '../service.js';

export interface Tag {
  key: string;
  value: string;
}

/** How long each phase of a Fargate task takes, simulated ms (see the README's "ECS on Fargate"). */
export interface EcsTimings {
  /** PROVISIONING → PENDING: the ENI is created and attached. */
  provisioningMs: number;
  /** PENDING: image pull (a failed pull also takes this long: it is retried). */
  pullMs: number;
  /** ACTIVATING → RUNNING: containers start, the ENI is registered. */
  activatingMs: number;
  /** DEACTIVATING → STOPPING. */
  deactivatingMs: number;
  /** STOPPING: how long a container takes to exit after SIGTERM (unless it ignores it: stopTimeout). */
  stoppingMs: number;
  /** DEPROVISIONING → STOPPED: the ENI is detached and deleted. */
  deprovisioningMs: number;
  /**
   * How long a service's new tasks must have been RUNNING (and HEALTHY, with a health check)
   * before their deployment counts as COMPLETED: a task that exits sooner is a failed start.
   */
  steadyStateMs: number;
  /** How long after a change the service scheduler acts. */
  schedulerDelayMs: number;
  /** How long a STOPPED task stays visible to DescribeTasks/ListTasks. */
  stoppedRetentionMs: number;
  /** The scheduler's first back-off once a service's tasks keep failing to start; it doubles each time. */
  throttleBaseMs: number;
  /** The longest back-off (ECS documents 27 minutes). */
  throttleMaxMs: number;
}

export const DEFAULT_TIMINGS: EcsTimings = {
  provisioningMs: 10_000,
  pullMs: 15_000,
  activatingMs: 5_000,
  deactivatingMs: 5_000,
  stoppingMs: 2_000,
  deprovisioningMs: 10_000,
  steadyStateMs: 30_000,
  schedulerDelayMs: 1_000,
  stoppedRetentionMs: 60 * 60 * 1000,
  throttleBaseMs: 60_000,
  throttleMaxMs: 27 * 60_000,
};

export interface CapacityProviderStrategyItem {
  capacityProvider: string;
  weight: number;
  base: number;
}

export interface ClusterState {
  name: string;
  arn: string;
  status: 'ACTIVE' | 'INACTIVE';
  tags: Tag[];
  settings: Array<{ name: string; value: string }>;
  createdAt: number;
  /** PutClusterCapacityProviders: FARGATE and/or FARGATE_SPOT (absent in state written before). */
  capacityProviders?: string[];
  defaultCapacityProviderStrategy?: CapacityProviderStrategyItem[];
}

export interface TaskDefinitionState {
  arn: string;
  family: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS';
  /** The task definition as DescribeTaskDefinition returns it (normalised, defaults filled). */
  body: Record<string, unknown>;
  tags: Tag[];
  registeredAt: number;
  registeredBy: string;
  deregisteredAt?: number;
}

/** What an image resolved to when a deployment (or RunTask) was created. */
export type ResolvedImage =
  { pullable: true; digest?: string; labels: Record<string, string> } | { pullable: false; error: string };

/** One of a service's `loadBalancers`: its tasks' container port, registered in a target group. */
export interface LoadBalancerSpec {
  targetGroupArn: string;
  containerName: string;
  containerPort: number;
}

export interface DeploymentState {
  id: string;
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
  taskDefinition: string;
  /** Resolved images by container name. */
  images: Record<string, ResolvedImage>;
  desiredCount: number;
  failedTasks: number;
  createdAt: number;
  updatedAt: number;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  networkConfiguration: Record<string, unknown>;
  /** The version its tasks run: LATEST resolved (1.4.0), as ECS shows it on deployments. */
  platformVersion: string;
  /** Whether its tasks get ECS Exec (the service's setting when the deployment was created). */
  enableExecuteCommand?: boolean;
  /** The target groups its tasks are registered in (the service's when it was created). */
  loadBalancers?: LoadBalancerSpec[];
}

export type DeploymentControllerType = 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL';

/**
 * The service scheduler's throttle (ECS's "service throttle logic"): tasks that stop before they
 * reach RUNNING, in a row, delay the next launch more and more.
 */
export interface ThrottleState {
  /** Consecutive tasks that stopped before RUNNING since the last that ran (or a new task definition). */
  startFailures: number;
  /** No task is launched before this time (simulated ms). */
  until?: number;
  /** When the "is unable to consistently start tasks successfully." event was last given. */
  notifiedAt?: number;
}

export interface ServiceEvent {
  id: string;
  createdAt: number;
  message: string;
}

export interface ServiceState {
  name: string;
  arn: string;
  clusterArn: string;
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  desiredCount: number;
  taskDefinition: string;
  launchType: 'FARGATE';
  /** As given (LATEST by default): ECS keeps LATEST on the service and resolves it on deployments. */
  platformVersion: string;
  networkConfiguration: Record<string, unknown>;
  /** ECS (rolling, the default), CODE_DEPLOY or EXTERNAL; absent in state written before it was kept. */
  deploymentController?: DeploymentControllerType;
  /** The scheduler's back-off for tasks that fail to start; absent until one has. */
  throttle?: ThrottleState;
  deploymentConfiguration: {
    deploymentCircuitBreaker: { enable: boolean; rollback: boolean };
    maximumPercent: number;
    minimumHealthyPercent: number;
  };
  healthCheckGracePeriodSeconds?: number;
  /** The target groups its tasks are registered in; absent in state written before: none. */
  loadBalancers?: LoadBalancerSpec[];
  enableExecuteCommand: boolean;
  enableECSManagedTags: boolean;
  propagateTags: string;
  /** Newest last here; DescribeServices shows them newest first. */
  deployments: DeploymentState[];
  /** The last deployment that COMPLETED, kept after it went INACTIVE (a rollback target). */
  lastCompleted?: DeploymentState;
  events: ServiceEvent[];
  tags: Tag[];
  createdAt: number;
  createdBy: string;
  /** Whether the last "has reached a steady state" event still holds. */
  steady: boolean;
}

export interface ContainerState {
  name: string;
  arn: string;
  image: string;
  imageDigest?: string;
  runtimeId?: string;
  lastStatus: 'PENDING' | 'RUNNING' | 'STOPPED';
  exitCode?: number;
  reason?: string;
  essential: boolean;
  healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
  cpu: string;
  memory?: string;
}

/** How the task's essential container behaves, decided when the task starts (labels, one-off command). */
export interface TaskScript {
  pullError?: string;
  /** Extra time the containers take to start (local-aws.start-delay). */
  startDelayMs: number;
  /** The essential container exits this long after RUNNING (local-aws.exit-after, a one-off `sleep N`). */
  exitAfterMs?: number;
  exitCode: number;
  /** The container health check fails (local-aws.health=fail) and the task has a health check. */
  unhealthyAfterMs?: number;
  /** The task has a container health check: HEALTHY this long after RUNNING. */
  healthyAfterMs?: number;
  /** Its load balancers' health checks fail (local-aws.health=fail or local-aws.elb-health=fail). */
  elbHealthFails?: boolean;
  /** The container ignores SIGTERM: stopping takes stopTimeout, exit code 137. */
  ignoreSigterm: boolean;
  stopTimeoutMs: number;
  /** Which container the script is about. */
  container: string;
  /** Resolved image digests by container name. */
  digests?: Record<string, string>;
}

/** A target group a service task is registered in, at its private IP and this container port. */
export interface TaskTarget {
  targetGroupArn: string;
  containerName: string;
  containerPort: number;
  /** Registered when the task reached RUNNING (until it was asked to stop). */
  registered?: boolean;
}

export type TaskStatus =
  | 'PROVISIONING'
  | 'PENDING'
  | 'ACTIVATING'
  | 'RUNNING'
  | 'DEACTIVATING'
  | 'STOPPING'
  | 'DEPROVISIONING'
  | 'STOPPED';

export interface TaskState {
  arn: string;
  id: string;
  key: string;
  clusterArn: string;
  clusterName: string;
  taskDefinitionArn: string;
  group: string;
  startedBy?: string;
  serviceName?: string;
  deploymentId?: string;
  /** Task size it runs with: the task definition's, or RunTask's overrides. */
  cpu: string;
  memory: string;
  /** Ephemeral storage (GiB) it runs with; absent in state written before: 20. */
  ephemeralStorageGiB?: number;
  enableExecuteCommand?: boolean;
  lastStatus: TaskStatus;
  desiredStatus: 'RUNNING' | 'STOPPED';
  healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
  createdAt: number;
  connectivityAt?: number;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  stoppingAt?: number;
  executionStoppedAt?: number;
  stoppedAt?: number;
  stopCode?: 'TaskFailedToStart' | 'EssentialContainerExited' | 'UserInitiated' | 'ServiceSchedulerInitiated';
  stoppedReason?: string;
  /** Whether the stop counts as a failure (for the circuit breaker). */
  failed?: boolean;
  containers: ContainerState[];
  /** Where a service task behind load balancers is registered (none for other tasks). */
  targets?: TaskTarget[];
  /** Its service's health check grace period: health checks that fail before then are ignored. */
  healthCheckGraceMs?: number;
  /** When ECS looks again at a target that turned unhealthy within the grace period. */
  elbCheckAt?: number;
  /** Its ENI (EC2's network interface); the attachment's status follows the task's lastStatus (see attachmentStatus()). */
  eni: {
    attachmentId: string;
    eniId: string;
    subnetId: string;
    privateIp: string;
    mac: string;
    status: string;
  };
  availabilityZone: string;
  overrides: Record<string, unknown>;
  tags: Tag[];
  version: number;
  platformVersion: string;
  script: TaskScript;
  /** When the next lifecycle step is due (undefined once STOPPED and purged-timer armed). */
  nextAt?: number;
}

/** One account in one region. */
export interface EcsRegion {
  accountId: string;
  region: string;
  clusters: Record<string, ClusterState>;
  /** family → revisions (index = revision - 1). */
  taskDefinitions: Record<string, TaskDefinitionState[]>;
  /** cluster name → service name → service. */
  services: Record<string, Record<string, ServiceState>>;
  /** task id → task. */
  tasks: Record<string, TaskState>;
}

export interface EcsState {
  regions: Record<string, EcsRegion>;
  timings: EcsTimings;
  /** Regular expressions (sources) of image URIs that cannot be pulled. */
  unpullable: string[];
  /** Unused since EC2 allocates the addresses (kept: state written before has it). */
  ipCounter: number;
}

export function loadState(state: StateStore): EcsState {
  const s = state.namespace<EcsState>('ecs', () => ({
    regions: {},
    timings: { ...DEFAULT_TIMINGS },
    unpullable: [],
    ipCounter: 0,
  }));
  s.timings = { ...DEFAULT_TIMINGS, ...s.timings };
  return s;
}

export function regionOf(s: EcsState, accountId: string, region: string): EcsRegion {
  const key = `${accountId}/${region}`;
  let r = s.regions[key];
  if (!r) {
    r = { accountId, region, clusters: {}, taskDefinitions: {}, services: {}, tasks: {} };
    s.regions[key] = r;
  }
  return r;
}

/** The ARN partition of a region: aws-cn for cn-*, aws-us-gov for us-gov-*, else aws. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}
export const arnPrefix = (r: EcsRegion): string =>
  `arn:${partitionOf(r.region)}:ecs:${r.region}:${r.accountId}`;
export const clusterArn = (r: EcsRegion, name: string): string => `${arnPrefix(r)}:cluster/${name}`;
export const serviceArn = (r: EcsRegion, cluster: string, name: string): string =>
  `${arnPrefix(r)}:service/${cluster}/${name}`;
export const taskArn = (r: EcsRegion, cluster: string, id: string): string =>
  `${arnPrefix(r)}:task/${cluster}/${id}`;
export const taskDefinitionArn = (r: EcsRegion, family: string, revision: number): string =>
  `${arnPrefix(r)}:task-definition/${family}:${revision}`;

export const newTaskId = (): string => randomBytes(16).toString('hex');
export const newUuid = (): string => randomUUID();
/** ecs-svc/ and 19 digits, as ECS names deployments. */
export const newDeploymentId = (): string =>
  'ecs-svc/' + (BigInt('0x' + randomBytes(8).toString('hex')) % 10n ** 19n).toString().padStart(19, '1');

/** Fargate's task sizes: cpu units → allowed memory (MiB). */
export function fargateMemoryFor(cpu: number): number[] {
  const range = (from: number, to: number, step: number) => {
    const out: number[] = [];
    for (let m = from; m <= to; m += step) out.push(m);
    return out;
  };
  switch (cpu) {
    case 256:
      return [512, 1024, 2048];
    case 512:
      return range(1024, 4096, 1024);
    case 1024:
      return range(2048, 8192, 1024);
    case 2048:
      return range(4096, 16384, 1024);
    case 4096:
      return range(8192, 30720, 1024);
    case 8192:
      return range(16384, 61440, 4096);
    case 16384:
      return range(32768, 122880, 8192);
    default:
      return [];
  }
}

/** The platform version Fargate runs for LATEST. */
export const LATEST_PLATFORM_VERSION = '1.4.0';
export const resolvePlatformVersion = (v: string): string => (v === 'LATEST' ? LATEST_PLATFORM_VERSION : v);

/** The circuit breaker's failure threshold: 0.5 × desired count, at least 3, at most 200. */
export function breakerThreshold(desiredCount: number): number {
  return Math.min(200, Math.max(3, Math.ceil(desiredCount * 0.5)));
}

/**
 * How long the scheduler waits before launching again after `startFailures` tasks in a row failed
 * before RUNNING: nothing for as many as the circuit breaker's threshold (so a breaker trips, and
 * rolls back, as fast as without a throttle), then the base back-off for the next, doubling with
 * each further failure, at most the maximum. ECS documents the throttle and its 27-minute maximum,
 * not its steps.
 */
export function throttleDelayMs(
  startFailures: number,
  desiredCount: number,
  timings: Pick<EcsTimings, 'throttleBaseMs' | 'throttleMaxMs'>,
): number | undefined {
  const beyond = startFailures - breakerThreshold(desiredCount);
  if (beyond <= 0) return undefined;
  return Math.min(timings.throttleMaxMs, timings.throttleBaseMs * 2 ** Math.min(30, beyond - 1));
}

/** "90s", "2m", "1500ms", "1h", or a bare number of seconds → ms; undefined when unreadable. */
export function parseDuration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!);
}
