// The ECS control plane (AWS JSON 1.1, target prefix AmazonEC2ContainerServiceV20141113): clusters,
// task definitions, services and tasks on Fargate. Shapes and errors follow the ECS API reference;
// what happens over time is the simulation's (sim.ts).
import { randomBytes } from 'node:crypto';
import type { Ec2Network } from '../ec2/index.js';
import type { Elbv2Integration } from '../elbv2/index.js';
import { AwsError, type JsonOperation, type RequestContext } from '../service.js';
import { checkLoadBalancers, readLoadBalancers, sameLoadBalancers } from './load-balancing.js';
import {
  arnPrefix,
  clusterArn,
  fargateMemoryFor,
  newUuid,
  partitionOf,
  regionOf,
  resolvePlatformVersion,
  serviceArn,
  taskDefinitionArn,
  type CapacityProviderStrategyItem,
  type ClusterState,
  type DeploymentControllerType,
  type DeploymentState,
  type EcsRegion,
  type EcsState,
  type LoadBalancerSpec,
  type ResolvedImage,
  type ServiceState,
  type Tag,
  type TaskDefinitionState,
  type TaskState,
} from './model.js';
import { checkAwsvpcConfiguration } from './network.js';
import {
  attachmentStatus,
  awsvpcOf,
  combineTags,
  ephemeralStorageOf,
  managedTags,
  type EcsSimulation,
} from './sim.js';
import {
  clientError,
  invalidParameter,
  mergeTags,
  optBool,
  optInt,
  optList,
  optObject,
  optString,
  optStringList,
  optStructList,
  reqString,
  tagList,
  type Input,
} from './validate.js';

/** Resolves a container image as a Fargate task would pull it. */
export type ImageResolver = (image: string, ctx: RequestContext) => Promise<ResolvedImage>;

const NAME_RE = /^[a-zA-Z0-9_-]{1,255}$/;
const NETWORK_MODES = ['bridge', 'host', 'awsvpc', 'none'];

const clusterNotFound = () => new AwsError('ClusterNotFoundException', 'Cluster not found.');
/** Fargate's capacity providers: every account has both, and no others here. */
const FARGATE_PROVIDERS = ['FARGATE', 'FARGATE_SPOT'];
const LAUNCH_TYPES = ['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES'];
const DEPLOYMENT_CONTROLLERS: DeploymentControllerType[] = ['ECS', 'CODE_DEPLOY', 'EXTERNAL'];
/** ECS's wording when a task cannot be exec'd into. */
const EXEC_NOT_ENABLED =
  'The execute command failed because execute command was not enabled when the task was run or the execute command agent isn’t running. Wait and try again or run a new task with execute command enabled and try again.';
/**
 * Account settings as ECS reports them for an account that never changed one (ListAccountSettings
 * with effectiveSettings).
 */
const DEFAULT_ACCOUNT_SETTINGS: Array<[string, string]> = [
  ['awsvpcTrunking', 'disabled'],
  ['containerInsights', 'disabled'],
  ['containerInstanceLongArnFormat', 'enabled'],
  ['defaultLogDriverMode', 'non-blocking'],
  ['fargateFIPSMode', 'disabled'],
  ['fargateTaskRetirementWaitPeriod', '7'],
  ['guardDutyActivate', 'off'],
  ['serviceLongArnFormat', 'enabled'],
  ['tagResourceAuthorization', 'on'],
  ['taskLongArnFormat', 'enabled'],
];
const serviceNotFound = () => new AwsError('ServiceNotFoundException', 'Service not found.');
const serviceNotActive = () => new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.');

/** Task-level cpu: "256", "0.25 vCPU", "1 vcpu" → units. */
function cpuUnits(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(vcpu)?\s*$/i.exec(text);
  if (!m) return undefined;
  return m[2] ? Math.round(Number(m[1]) * 1024) : Number(m[1]);
}
/** Task-level memory: "512", "0.5 GB", "2GB" → MiB. */
function memoryMiB(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(gb)?\s*$/i.exec(text);
  if (!m) return undefined;
  return m[2] ? Math.round(Number(m[1]) * 1024) : Number(m[1]);
}

function page<T>(items: T[], input: Input, max = 100): { items: T[]; nextToken?: string } {
  const maxResults = optInt(input, 'maxResults');
  if (maxResults !== undefined && (maxResults < 1 || maxResults > max))
    throw invalidParameter(`maxResults must be between 1 and ${max}.`);
  const token = optString(input, 'nextToken');
  let start = 0;
  if (token !== undefined) {
    const n = Number(Buffer.from(token, 'base64').toString('utf8'));
    if (!Number.isInteger(n) || n < 0) throw invalidParameter('Invalid nextToken.');
    start = n;
  }
  const size = maxResults ?? max;
  const out = items.slice(start, start + size);
  return start + size < items.length
    ? { items: out, nextToken: Buffer.from(String(start + size)).toString('base64') }
    : { items: out };
}

/** Fargate's ephemeral storage: 21–200 GiB when given (20 GiB when not), in the wording ECS answers. */
function ephemeralStorageSize(es: Input, path: string, error: (message: string) => AwsError): number {
  const size = optInt(es, 'sizeInGiB', `${path}.sizeInGiB`);
  if (size === undefined) throw error('EphemeralStorage sizeInGiB should not be null.');
  if (size < 21) throw error('EphemeralStorage size should be at least 21');
  if (size > 200) throw error('EphemeralStorage size should be at most 200');
  return size;
}

/**
 * Port mappings as ECS checks them at registration: under awsvpc a hostPort is blank or equal to
 * its containerPort, and no port is mapped twice for one protocol in the task.
 */
function checkPortMappings(containers: Array<Record<string, unknown>>, networkMode: string): void {
  const seen = new Set<string>();
  for (const [i, c] of containers.entries()) {
    for (const [j, p] of ((c.portMappings as Input[] | undefined) ?? []).entries()) {
      const path = `containerDefinitions.${i + 1}.member.portMappings.${j + 1}.member`;
      const containerPort = optInt(p, 'containerPort', `${path}.containerPort`);
      const hostPort = optInt(p, 'hostPort', `${path}.hostPort`);
      const protocol = (optString(p, 'protocol', `${path}.protocol`) ?? 'tcp').toLowerCase();
      if (protocol !== 'tcp' && protocol !== 'udp')
        throw clientError(
          `Invalid protocol '${protocol}' in port mappings of container '${String(c.name)}'.`,
        );
      if (networkMode === 'awsvpc' && hostPort !== undefined && hostPort !== containerPort)
        throw clientError(
          'When networkMode=awsvpc, the host ports and container ports in port mappings must match.',
        );
      const port = networkMode === 'awsvpc' || networkMode === 'host' ? containerPort : hostPort;
      if (port === undefined || port === 0) continue;
      const key = `${protocol}:${port}`;
      if (seen.has(key))
        throw clientError(`${protocol.toUpperCase()} host port '${port}' is mapped multiple times in task.`);
      seen.add(key);
    }
  }
}

const secs = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

/** The IAM principal an account setting belongs to: an assumed role's role, else the identity. */
function principalOf(arn: string): string {
  const m = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(arn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : arn;
}
function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** The other services ECS checks a service against: EC2's network, ELBv2's target groups. */
export interface EcsOperationDeps {
  network: Ec2Network;
  elbv2: Elbv2Integration;
}

export function createEcsOperations(
  s: EcsState,
  sim: EcsSimulation,
  resolveImage: ImageResolver,
  save: () => void,
  deps: EcsOperationDeps,
): Record<string, JsonOperation> {
  const regionFor = (ctx: RequestContext): EcsRegion => regionOf(s, ctx.identity.accountId, ctx.region);

  /** A cluster by name or ARN (default "default"); ClusterNotFoundException unless ACTIVE. */
  const clusterOf = (r: EcsRegion, input: Input, key = 'cluster'): ClusterState => {
    const ref = optString(input, key) ?? 'default';
    const name = ref.startsWith('arn:') ? ref.slice(ref.lastIndexOf('/') + 1) : ref;
    const c = r.clusters[name];
    if (!c || c.status !== 'ACTIVE') throw clusterNotFound();
    return c;
  };

  const clusterOut = (r: EcsRegion, c: ClusterState, include: string[] = []) => {
    const tasks = Object.values(r.tasks).filter((t) => t.clusterName === c.name);
    const services = Object.values(r.services[c.name] ?? {}).filter((x) => x.status === 'ACTIVE');
    return defined({
      clusterArn: c.arn,
      clusterName: c.name,
      status: c.status,
      registeredContainerInstancesCount: 0,
      runningTasksCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
      pendingTasksCount: tasks.filter((t) => ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(t.lastStatus))
        .length,
      activeServicesCount: c.status === 'ACTIVE' ? services.length : 0,
      statistics: [],
      tags: include.includes('TAGS') ? c.tags : [],
      settings: c.settings,
      capacityProviders: c.capacityProviders ?? [],
      defaultCapacityProviderStrategy: c.defaultCapacityProviderStrategy ?? [],
    });
  };

  // ---- task definitions ----

  /** "family", "family:rev" or an ARN → the revision; undefined when there is none. */
  const findTaskDefinition = (r: EcsRegion, ref: string): TaskDefinitionState | undefined => {
    const m = /^(?:arn:aws[a-z-]*:ecs:[^:]+:\d{12}:task-definition\/)?([a-zA-Z0-9_-]+)(?::(\d+))?$/.exec(ref);
    if (!m) return undefined;
    const revs = r.taskDefinitions[m[1]!];
    if (!revs) return undefined;
    if (m[2] !== undefined) {
      const td = revs[Number(m[2]) - 1];
      return td && td.status !== 'DELETE_IN_PROGRESS' ? td : undefined;
    }
    return [...revs].reverse().find((t) => t.status === 'ACTIVE');
  };

  const containerDefinition = (c: Input, i: number, names: Set<string>): Record<string, unknown> => {
    const path = `containerDefinitions.${i + 1}.member`;
    const name = optString(c, 'name', `${path}.name`);
    if (name === undefined || name === '') throw clientError('Container.name should not be null or empty.');
    if (!NAME_RE.test(name)) throw clientError('Container.name contains invalid characters.');
    if (names.has(name)) throw clientError(`Duplicate container name '${name}' found.`);
    names.add(name);
    const image = optString(c, 'image', `${path}.image`);
    if (image === undefined || image.trim() === '')
      throw clientError('Container.image should not be null or empty.');
    optInt(c, 'cpu', `${path}.cpu`);
    optInt(c, 'memory', `${path}.memory`);
    optInt(c, 'memoryReservation', `${path}.memoryReservation`);
    optBool(c, 'essential', `${path}.essential`);
    optStringList(c, 'command', `${path}.command`);
    optStringList(c, 'entryPoint', `${path}.entryPoint`);
    optStructList(c, 'environment', `${path}.environment`);
    optStructList(c, 'portMappings', `${path}.portMappings`);
    optStructList(c, 'secrets', `${path}.secrets`);
    optInt(c, 'stopTimeout', `${path}.stopTimeout`);
    const hc = optObject(c, 'healthCheck', `${path}.healthCheck`);
    if (hc) {
      const cmd = optStringList(hc, 'command', `${path}.healthCheck.command`);
      if (!cmd || cmd.length === 0)
        throw clientError('Container.healthCheck.command should not be null or empty.');
      for (const k of ['interval', 'timeout', 'retries', 'startPeriod'])
        optInt(hc, k, `${path}.healthCheck.${k}`);
    }
    const out: Record<string, unknown> = {
      name,
      image,
      cpu: 0,
      portMappings: [],
      essential: true,
      environment: [],
      mountPoints: [],
      volumesFrom: [],
      ...c,
    };
    if (Array.isArray(out.portMappings))
      out.portMappings = (out.portMappings as Input[]).map((p) => ({
        ...p,
        ...(p.containerPort !== undefined && p.hostPort === undefined ? { hostPort: p.containerPort } : {}),
        protocol: p.protocol ?? 'tcp',
      }));
    if (hc) out.healthCheck = { interval: 30, timeout: 5, retries: 3, ...hc };
    return out;
  };

  const taskDefinitionOut = (td: TaskDefinitionState) =>
    defined({
      ...td.body,
      status: td.status,
      registeredAt: secs(td.registeredAt),
      registeredBy: td.registeredBy,
      deregisteredAt: secs(td.deregisteredAt),
    });

  // ---- services ----

  const deploymentConfiguration = (input: Input, current?: ServiceState['deploymentConfiguration']) => {
    const dc = optObject(input, 'deploymentConfiguration');
    const out = structuredClone(
      current ?? {
        deploymentCircuitBreaker: { enable: false, rollback: false },
        maximumPercent: 200,
        minimumHealthyPercent: 100,
      },
    );
    if (!dc) return out;
    const max = optInt(dc, 'maximumPercent', 'deploymentConfiguration.maximumPercent');
    const min = optInt(dc, 'minimumHealthyPercent', 'deploymentConfiguration.minimumHealthyPercent');
    const cb = optObject(dc, 'deploymentCircuitBreaker', 'deploymentConfiguration.deploymentCircuitBreaker');
    if (max !== undefined) out.maximumPercent = max;
    if (min !== undefined) out.minimumHealthyPercent = min;
    if (cb) {
      const enable = optBool(cb, 'enable', 'deploymentConfiguration.deploymentCircuitBreaker.enable');
      const rollback = optBool(cb, 'rollback', 'deploymentConfiguration.deploymentCircuitBreaker.rollback');
      if (enable === undefined || rollback === undefined)
        throw invalidParameter('deploymentCircuitBreaker requires both enable and rollback.');
      out.deploymentCircuitBreaker = { enable, rollback };
    }
    if (out.minimumHealthyPercent < 0 || out.minimumHealthyPercent > 100)
      throw invalidParameter('minimumHealthyPercent must be between 0 and 100.');
    if (out.maximumPercent < 100 || out.maximumPercent > 200)
      throw invalidParameter('maximumPercent must be between 100 and 200.');
    return out;
  };

  /**
   * The network configuration as given (checked against EC2 in the caller's account and region),
   * and the VPC its subnets are in.
   */
  const networkConfiguration = (
    input: Input,
    required: boolean,
    r: EcsRegion,
  ): { nc: Record<string, unknown>; vpcId: string } | undefined => {
    const nc = optObject(input, 'networkConfiguration');
    if (!nc) {
      if (required)
        throw invalidParameter(
          "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
        );
      return undefined;
    }
    const a = optObject(nc, 'awsvpcConfiguration', 'networkConfiguration.awsvpcConfiguration');
    if (!a)
      throw invalidParameter(
        "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
      );
    const subnets = optStringList(a, 'subnets', 'networkConfiguration.awsvpcConfiguration.subnets');
    if (!subnets || subnets.length === 0) throw invalidParameter('subnets can not be empty.');
    if (subnets.length > 16) throw invalidParameter('subnets can have at most 16 items.');
    for (const sn of subnets)
      if (!/^subnet-[0-9a-f]{8,17}$/.test(sn))
        throw invalidParameter(
          `Error retrieving subnet information for [${sn}]: The subnet ID '${sn}' is malformed`,
        );
    const sgs = optStringList(a, 'securityGroups', 'networkConfiguration.awsvpcConfiguration.securityGroups');
    const assign = optString(a, 'assignPublicIp', 'networkConfiguration.awsvpcConfiguration.assignPublicIp');
    if (assign !== undefined && assign !== 'ENABLED' && assign !== 'DISABLED')
      throw invalidParameter('assignPublicIp must be ENABLED or DISABLED.');
    const vpcId = checkAwsvpcConfiguration(deps.network, r.accountId, r.region, {
      subnets,
      securityGroups: sgs ?? [],
    });
    return {
      nc: {
        awsvpcConfiguration: { subnets, securityGroups: sgs ?? [], assignPublicIp: assign ?? 'DISABLED' },
      },
      vpcId,
    };
  };

  /** The VPC of a network configuration already accepted (its first subnet's). */
  const vpcOf = (r: EcsRegion, nc: Record<string, unknown>): string | undefined => {
    const first = awsvpcOf(nc).subnets[0];
    return first === undefined ? undefined : deps.network.subnet(r.accountId, r.region, first)?.vpcId;
  };

  /** ECS keeps a service's target groups from being deleted while the service exists. */
  const holdTargetGroups = (svc: ServiceState, lbs: readonly LoadBalancerSpec[]) => {
    for (const lb of lbs) deps.elbv2.holdTargetGroup(lb.targetGroupArn, svc.arn);
  };
  const releaseTargetGroups = (svc: ServiceState) => {
    const groups = new Set(
      [...(svc.loadBalancers ?? []), ...svc.deployments.flatMap((d) => d.loadBalancers ?? [])].map(
        (lb) => lb.targetGroupArn,
      ),
    );
    for (const arn of groups) deps.elbv2.releaseTargetGroup(arn, svc.arn);
  };

  /** The task definition for a service or RunTask: exists, ACTIVE, Fargate-compatible. */
  const usableTaskDefinition = (r: EcsRegion, ref: string): TaskDefinitionState => {
    const td = findTaskDefinition(r, ref);
    if (!td) throw clientError('TaskDefinition not found.');
    if (td.status !== 'ACTIVE') throw clientError('TaskDefinition is inactive');
    const compat = (td.body.compatibilities as string[] | undefined) ?? [];
    if (!compat.includes('FARGATE'))
      throw invalidParameter('Task definition does not support launch_type FARGATE.');
    return td;
  };

  const launchType = (input: Input): void => {
    const lt = optString(input, 'launchType');
    if (lt !== undefined && lt !== 'FARGATE') {
      if (!['EC2', 'EXTERNAL', 'MANAGED_INSTANCES'].includes(lt))
        throw invalidParameter(`Invalid launch type: ${lt}`);
      throw invalidParameter(`local-aws simulates only the FARGATE launch type, not ${lt}.`);
    }
    if (optList(input, 'capacityProviderStrategy')?.length)
      throw invalidParameter(
        'local-aws does not simulate capacity provider strategies; use launchType FARGATE.',
      );
  };

  /** A list filter's launchType: whether Fargate's tasks and services match it (EC2, EXTERNAL: none). */
  const launchTypeFilter = (input: Input): boolean => {
    const lt = optString(input, 'launchType');
    if (lt !== undefined && !LAUNCH_TYPES.includes(lt)) throw invalidParameter(`Invalid launch type: ${lt}`);
    return lt === undefined || lt === 'FARGATE';
  };

  const deploymentControllerOf = (input: Input): DeploymentControllerType => {
    const dc = optObject(input, 'deploymentController');
    const type = dc ? optString(dc, 'type', 'deploymentController.type') : undefined;
    if (dc && type === undefined) throw invalidParameter('deploymentController type can not be blank.');
    if (type !== undefined && !DEPLOYMENT_CONTROLLERS.includes(type as DeploymentControllerType))
      throw invalidParameter(`Invalid deploymentController type: ${type}`);
    return (type as DeploymentControllerType | undefined) ?? 'ECS';
  };

  /** The task size a RunTask runs with: the task definition's, or its overrides, from Fargate's table. */
  const taskSize = (td: TaskDefinitionState, overrides: Input): { cpu: number; memory: number } => {
    const cpuText = optString(overrides, 'cpu', 'overrides.cpu');
    const memText = optString(overrides, 'memory', 'overrides.memory');
    const cpu = cpuText === undefined ? Number(td.body.cpu) : cpuUnits(cpuText);
    const memory = memText === undefined ? Number(td.body.memory) : memoryMiB(memText);
    if (cpu === undefined) throw clientError("Invalid 'cpu' setting for task.");
    if (memory === undefined) throw clientError("Invalid 'memory' setting for task.");
    if (!fargateMemoryFor(cpu).includes(memory))
      throw clientError(
        `No Fargate configuration exists for given values: ${cpu} CPU, ${memory} memory. See the Amazon ECS documentation for the valid values.`,
      );
    return { cpu, memory };
  };

  const capacityProviderStrategy = (items: Input[], path: string): CapacityProviderStrategyItem[] => {
    const out = items.map((item, i) => {
      const at = `${path}.${i + 1}.member`;
      const capacityProvider = optString(item, 'capacityProvider', `${at}.capacityProvider`);
      if (capacityProvider === undefined || capacityProvider === '')
        throw invalidParameter('capacityProvider can not be blank.');
      const weight = optInt(item, 'weight', `${at}.weight`) ?? 0;
      const base = optInt(item, 'base', `${at}.base`) ?? 0;
      if (weight < 0 || weight > 1000) throw invalidParameter('weight must be between 0 and 1000.');
      if (base < 0 || base > 100000) throw invalidParameter('base must be between 0 and 100000.');
      return { capacityProvider, weight, base };
    });
    if (out.filter((item) => item.base > 0).length > 1)
      throw invalidParameter('Only one capacity provider in a strategy can have a base greater than 0.');
    return out;
  };

  const resolveImages = async (td: TaskDefinitionState, ctx: RequestContext) => {
    const images: Record<string, ResolvedImage> = {};
    for (const c of td.body.containerDefinitions as Input[])
      images[String(c.name)] = await resolveImage(String(c.image), ctx);
    return images;
  };

  const counts = (r: EcsRegion, svc: ServiceState, depId?: string) => {
    const tasks = sim
      .serviceTasks(r, svc.clusterArn.slice(svc.clusterArn.lastIndexOf('/') + 1), svc.name)
      .filter((t) => depId === undefined || t.deploymentId === depId);
    return {
      running: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
      pending: tasks.filter(
        (t) =>
          t.desiredStatus === 'RUNNING' && ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(t.lastStatus),
      ).length,
      live: tasks.filter((t) => t.desiredStatus === 'RUNNING').length,
    };
  };

  const deploymentOut = (r: EcsRegion, svc: ServiceState, d: DeploymentState) => {
    const c = counts(r, svc, d.id);
    return {
      id: d.id,
      status: d.status,
      taskDefinition: d.taskDefinition,
      desiredCount: d.status === 'PRIMARY' ? svc.desiredCount : c.live,
      pendingCount: c.pending,
      runningCount: c.running,
      failedTasks: d.failedTasks,
      createdAt: secs(d.createdAt),
      updatedAt: secs(d.updatedAt),
      launchType: 'FARGATE',
      platformVersion: resolvePlatformVersion(d.platformVersion),
      platformFamily: 'Linux',
      networkConfiguration: d.networkConfiguration,
      rolloutState: d.rolloutState,
      rolloutStateReason: d.rolloutStateReason,
    };
  };

  /** A CODE_DEPLOY service's tasks run in a task set, which is how ECS shows them (not as deployments). */
  const taskSetOut = (r: EcsRegion, svc: ServiceState, d: DeploymentState) => {
    const c = counts(r, svc, d.id);
    const cluster = svc.clusterArn.slice(svc.clusterArn.lastIndexOf('/') + 1);
    return {
      id: d.id,
      taskSetArn: `${arnPrefix(r)}:task-set/${cluster}/${svc.name}/${d.id}`,
      serviceArn: svc.arn,
      clusterArn: svc.clusterArn,
      status: d.status,
      taskDefinition: d.taskDefinition,
      computedDesiredCount: svc.desiredCount,
      pendingCount: c.pending,
      runningCount: c.running,
      createdAt: secs(d.createdAt),
      updatedAt: secs(d.updatedAt),
      launchType: 'FARGATE',
      platformVersion: resolvePlatformVersion(d.platformVersion),
      platformFamily: 'Linux',
      networkConfiguration: d.networkConfiguration,
      loadBalancers: d.loadBalancers ?? [],
      serviceRegistries: [],
      scale: { value: 100, unit: 'PERCENT' },
      stabilityStatus: svc.steady ? 'STEADY_STATE' : 'STABILIZING',
      stabilityStatusAt: secs(d.updatedAt),
    };
  };

  const serviceOut = (r: EcsRegion, svc: ServiceState, include: string[] = []) => {
    const c = counts(r, svc);
    const primary = svc.deployments.filter((d) => d.status === 'PRIMARY');
    const others = svc.deployments.filter((d) => d.status !== 'PRIMARY').reverse();
    const controller = svc.deploymentController ?? 'ECS';
    return defined({
      serviceArn: svc.arn,
      serviceName: svc.name,
      clusterArn: svc.clusterArn,
      loadBalancers: svc.loadBalancers ?? [],
      serviceRegistries: [],
      status: svc.status,
      desiredCount: svc.desiredCount,
      runningCount: c.running,
      pendingCount: c.pending,
      launchType: svc.launchType,
      platformVersion: svc.platformVersion,
      platformFamily: 'Linux',
      taskDefinition: svc.taskDefinition || undefined,
      deploymentConfiguration: svc.deploymentConfiguration,
      // Services with a CODE_DEPLOY or EXTERNAL controller have task sets and no deployments.
      taskSets: controller === 'ECS' ? undefined : primary.map((d) => taskSetOut(r, svc, d)),
      deployments: controller === 'ECS' ? [...primary, ...others].map((d) => deploymentOut(r, svc, d)) : [],
      events: [...svc.events]
        .reverse()
        .map((e) => ({ id: e.id, createdAt: secs(e.createdAt), message: e.message })),
      createdAt: secs(svc.createdAt),
      placementConstraints: [],
      placementStrategy: [],
      networkConfiguration: svc.networkConfiguration,
      // ECS shows a service behind load balancers its grace period, 0 unless one was given.
      healthCheckGracePeriodSeconds:
        svc.healthCheckGracePeriodSeconds ?? (svc.loadBalancers?.length ? 0 : undefined),
      schedulingStrategy: 'REPLICA',
      deploymentController: { type: controller },
      tags: include.includes('TAGS') ? svc.tags : undefined,
      createdBy: svc.createdBy,
      enableECSManagedTags: svc.enableECSManagedTags,
      propagateTags: svc.propagateTags,
      enableExecuteCommand: svc.enableExecuteCommand,
      availabilityZoneRebalancing: 'DISABLED',
    });
  };

  const serviceOf = (r: EcsRegion, cluster: ClusterState, ref: string): ServiceState | undefined => {
    const name = ref.startsWith('arn:') ? ref.slice(ref.lastIndexOf('/') + 1) : ref;
    return r.services[cluster.name]?.[name];
  };

  /**
   * healthCheckGracePeriodSeconds: only a service behind load balancers has one, as ECS answers
   * (0, the default, is let through).
   */
  const gracePeriod = (input: Input, loadBalancers: readonly LoadBalancerSpec[]): number | undefined => {
    const grace = optInt(input, 'healthCheckGracePeriodSeconds');
    if (grace === undefined) return undefined;
    if (grace < 0) throw invalidParameter('healthCheckGracePeriodSeconds can not be negative.');
    if (grace > 0 && loadBalancers.length === 0)
      throw invalidParameter(
        'Health check grace period is only valid for services configured to use load balancers',
      );
    return grace;
  };

  /** Launches a one-off task; a network interface EC2 cannot create (a full subnet) refuses the call. */
  const launchOrRefuse = (spec: Parameters<EcsSimulation['launch']>[0]): TaskState => {
    try {
      return sim.launch(spec);
    } catch (error) {
      throw invalidParameter(
        `Unable to create a network interface for the task: ${(error as Error).message}`,
      );
    }
  };

  // ---- tasks ----

  /** EC2's private DNS name for an IP: ec2.internal in us-east-1, <region>.compute.internal elsewhere. */
  const privateDnsName = (ip: string, region: string) =>
    `ip-${ip.replace(/\./g, '-')}.${region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`}`;

  /** ECS Exec's agent in each container of a task that has it, as DescribeTasks shows it. */
  const managedAgents = (t: TaskState, c: TaskState['containers'][number]) =>
    t.enableExecuteCommand
      ? [
          defined({
            lastStartedAt: c.lastStatus === 'PENDING' ? undefined : secs(t.startedAt),
            name: 'ExecuteCommandAgent',
            lastStatus: c.lastStatus,
          }),
        ]
      : undefined;

  const taskOut = (t: TaskState, include: string[] = []) => {
    const region = t.clusterArn.split(':')[3]!;
    const eniStatus = attachmentStatus(t);
    // A PRECREATED ENI has only its subnet; the rest is known once it is attached.
    const attached = eniStatus !== 'PRECREATED';
    return defined({
      attachments: [
        {
          id: t.eni.attachmentId,
          type: 'ElasticNetworkInterface',
          status: eniStatus,
          details: [
            { name: 'subnetId', value: t.eni.subnetId },
            ...(attached
              ? [
                  { name: 'networkInterfaceId', value: t.eni.eniId },
                  { name: 'macAddress', value: t.eni.mac },
                  { name: 'privateDnsName', value: privateDnsName(t.eni.privateIp, region) },
                  { name: 'privateIPv4Address', value: t.eni.privateIp },
                ]
              : []),
          ],
        },
      ],
      attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
      availabilityZone: t.availabilityZone,
      clusterArn: t.clusterArn,
      connectivity: t.connectivityAt !== undefined ? 'CONNECTED' : undefined,
      connectivityAt: secs(t.connectivityAt),
      containers: t.containers.map((c) =>
        defined({
          containerArn: c.arn,
          taskArn: t.arn,
          name: c.name,
          image: c.image,
          imageDigest: c.imageDigest,
          runtimeId: c.runtimeId,
          lastStatus: c.lastStatus,
          exitCode: c.exitCode,
          reason: c.reason,
          networkBindings: [],
          networkInterfaces: attached
            ? [{ attachmentId: t.eni.attachmentId, privateIpv4Address: t.eni.privateIp }]
            : [],
          healthStatus: c.healthStatus,
          managedAgents: managedAgents(t, c),
          cpu: c.cpu,
          memory: c.memory,
        }),
      ),
      cpu: t.cpu,
      createdAt: secs(t.createdAt),
      desiredStatus: t.desiredStatus,
      enableExecuteCommand: t.enableExecuteCommand ?? false,
      executionStoppedAt: secs(t.executionStoppedAt),
      group: t.group,
      healthStatus: t.healthStatus,
      lastStatus: t.lastStatus,
      launchType: 'FARGATE',
      memory: t.memory,
      overrides: t.overrides,
      platformVersion: t.platformVersion,
      platformFamily: 'Linux',
      pullStartedAt: secs(t.pullStartedAt),
      pullStoppedAt: secs(t.pullStoppedAt),
      startedAt: secs(t.startedAt),
      startedBy: t.startedBy,
      stopCode: t.stopCode,
      stoppedAt: secs(t.stoppedAt),
      stoppedReason: t.stoppedReason,
      stoppingAt: secs(t.stoppingAt),
      // Without include TAGS, ECS leaves tags out of DescribeTasks.
      tags: include.includes('TAGS') ? t.tags : undefined,
      taskArn: t.arn,
      taskDefinitionArn: t.taskDefinitionArn,
      version: t.version,
      ephemeralStorage: { sizeInGiB: t.ephemeralStorageGiB ?? 20 },
      fargateEphemeralStorage: { sizeInGiB: t.ephemeralStorageGiB ?? 20 },
    });
  };

  const taskOf = (r: EcsRegion, cluster: ClusterState, ref: string): TaskState | undefined => {
    const id = ref.slice(ref.lastIndexOf('/') + 1);
    const t = r.tasks[id];
    return t && t.clusterName === cluster.name ? t : undefined;
  };

  const includeList = (input: Input): string[] => optStringList(input, 'include') ?? [];

  // ---- tags by ARN ----
  const resourceTags = (r: EcsRegion, arn: string): { tags: Tag[]; set(tags: Tag[]): void } => {
    const m = /^arn:aws[a-z-]*:ecs:([^:]+):(\d{12}):(cluster|service|task|task-definition)\/(.+)$/.exec(arn);
    if (!m || m[1] !== r.region || m[2] !== r.accountId) throw invalidParameter('Invalid arn');
    const kind = m[3]!;
    const rest = m[4]!;
    if (kind === 'cluster') {
      const c = r.clusters[rest];
      if (!c || c.status !== 'ACTIVE') throw clusterNotFound();
      return { tags: c.tags, set: (t) => (c.tags = t) };
    }
    if (kind === 'task-definition') {
      const td = findTaskDefinition(r, rest);
      if (!td || !rest.includes(':')) throw clientError('The specified task definition does not exist.');
      return { tags: td.tags, set: (t) => (td.tags = t) };
    }
    const [cluster, name] = rest.split('/');
    const c = r.clusters[cluster ?? ''];
    if (!c || c.status !== 'ACTIVE') throw clusterNotFound();
    if (kind === 'service') {
      const svc = r.services[c.name]?.[name ?? ''];
      if (!svc || svc.status === 'INACTIVE') throw serviceNotFound();
      return { tags: svc.tags, set: (t) => (svc.tags = t) };
    }
    const task = taskOf(r, c, name ?? '');
    if (!task) throw invalidParameter('The specified task was not found.');
    return { tags: task.tags, set: (t) => (task.tags = t) };
  };

  return {
    // ------------------------------------------------------------------ clusters
    CreateCluster(input, ctx) {
      const r = regionFor(ctx);
      const name = optString(input, 'clusterName') ?? 'default';
      if (!NAME_RE.test(name))
        throw invalidParameter(
          'Cluster name can contain up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens.',
        );
      const tags = tagList(input) ?? [];
      const settings = (optStructList(input, 'settings') ?? []).map((st) => ({
        name: String(st.name),
        value: String(st.value),
      }));
      const existing = r.clusters[name];
      if (existing && existing.status === 'ACTIVE') return { cluster: clusterOut(r, existing, ['TAGS']) };
      const c: ClusterState = {
        name,
        arn: clusterArn(r, name),
        status: 'ACTIVE',
        tags,
        settings: settings.length ? settings : [{ name: 'containerInsights', value: 'disabled' }],
        createdAt: ctx.clock.now(),
      };
      r.clusters[name] = c;
      save();
      return { cluster: clusterOut(r, c, ['TAGS']) };
    },

    DescribeClusters(input, ctx) {
      const r = regionFor(ctx);
      const refs = optStringList(input, 'clusters') ?? ['default'];
      if (refs.length > 100) throw invalidParameter('clusters can have at most 100 items.');
      const include = includeList(input);
      const clusters: unknown[] = [];
      const failures: unknown[] = [];
      for (const ref of refs) {
        const name = ref.startsWith('arn:') ? ref.slice(ref.lastIndexOf('/') + 1) : ref;
        const c = r.clusters[name];
        if (c) clusters.push(clusterOut(r, c, include));
        else failures.push({ arn: clusterArn(r, name), reason: 'MISSING' });
      }
      return { clusters, failures };
    },

    ListClusters(input, ctx) {
      const r = regionFor(ctx);
      const arns = Object.values(r.clusters)
        .filter((c) => c.status === 'ACTIVE')
        .map((c) => c.arn)
        .sort();
      const p = page(arns, input);
      return { clusterArns: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
    },

    PutClusterCapacityProviders(input, ctx) {
      const r = regionFor(ctx);
      if (optString(input, 'cluster') === undefined) throw invalidParameter('cluster can not be null.');
      const c = clusterOf(r, input);
      const refs = optStringList(input, 'capacityProviders');
      if (!refs) throw invalidParameter('capacityProviders can not be null.');
      const items = optStructList(input, 'defaultCapacityProviderStrategy');
      if (!items) throw invalidParameter('defaultCapacityProviderStrategy can not be null.');
      const providers = [...new Set(refs.map((ref) => ref.slice(ref.lastIndexOf('/') + 1)))];
      if (providers.some((p) => !FARGATE_PROVIDERS.includes(p)))
        throw invalidParameter(
          'The specified capacity provider does not exist. Specify a valid name or ARN and try again.',
        );
      const strategy = capacityProviderStrategy(items, 'defaultCapacityProviderStrategy');
      if (strategy.some((item) => !providers.includes(item.capacityProvider)))
        throw invalidParameter(
          'The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.',
        );
      c.capacityProviders = providers;
      c.defaultCapacityProviderStrategy = strategy;
      save();
      return { cluster: clusterOut(r, c) };
    },

    UpdateClusterSettings(input, ctx) {
      const r = regionFor(ctx);
      if (optString(input, 'cluster') === undefined) throw invalidParameter('cluster can not be null.');
      const c = clusterOf(r, input);
      const settings = optStructList(input, 'settings');
      if (!settings) throw invalidParameter('settings can not be null.');
      const changed = settings.map((st, i) => {
        const name = optString(st, 'name', `settings.${i + 1}.member.name`);
        const value = optString(st, 'value', `settings.${i + 1}.member.value`);
        if (name !== 'containerInsights')
          throw invalidParameter(`Invalid cluster setting name: ${String(name)}`);
        if (value === undefined || !['enabled', 'disabled', 'enhanced'].includes(value))
          throw invalidParameter(`Invalid value for containerInsights: ${String(value)}`);
        return { name, value };
      });
      c.settings = [...c.settings.filter((st) => !changed.some((ch) => ch.name === st.name)), ...changed];
      save();
      return { cluster: clusterOut(r, c) };
    },

    ListContainerInstances(input, ctx) {
      const r = regionFor(ctx);
      clusterOf(r, input);
      const status = optString(input, 'status');
      if (
        status !== undefined &&
        !['ACTIVE', 'DRAINING', 'REGISTERING', 'DEREGISTERING', 'REGISTRATION_FAILED'].includes(status)
      )
        throw invalidParameter(`Invalid status: ${status}`);
      optString(input, 'filter');
      page([], input);
      // Fargate runs tasks on no container instance of yours.
      return { containerInstanceArns: [] };
    },

    DescribeCapacityProviders(input, ctx) {
      const r = regionFor(ctx);
      if (optString(input, 'cluster') !== undefined) clusterOf(r, input);
      const refs = optStringList(input, 'capacityProviders');
      const include = includeList(input);
      // FARGATE and FARGATE_SPOT exist in every account; there is no other here.
      const provider = (name: string) => ({
        capacityProviderArn: `${arnPrefix(r)}:capacity-provider/${name}`,
        name,
        status: 'ACTIVE',
        type: name,
        tags: include.includes('TAGS') ? [] : undefined,
      });
      if (refs === undefined || refs.length === 0) {
        const p = page(FARGATE_PROVIDERS, input, 10);
        return {
          capacityProviders: p.items.map((n) => defined(provider(n))),
          failures: [],
          ...(p.nextToken ? { nextToken: p.nextToken } : {}),
        };
      }
      const capacityProviders: unknown[] = [];
      const failures: unknown[] = [];
      for (const ref of refs) {
        const name = ref.slice(ref.lastIndexOf('/') + 1);
        if (FARGATE_PROVIDERS.includes(name)) capacityProviders.push(defined(provider(name)));
        else failures.push({ arn: ref, reason: 'MISSING' });
      }
      return { capacityProviders, failures };
    },

    ListAccountSettings(input, ctx) {
      const name = optString(input, 'name');
      if (name !== undefined && !DEFAULT_ACCOUNT_SETTINGS.some(([n]) => n === name))
        throw invalidParameter(`Invalid setting name: ${name}`);
      const value = optString(input, 'value');
      const principalArn = optString(input, 'principalArn') ?? principalOf(ctx.identity.arn);
      const effective = optBool(input, 'effectiveSettings') ?? false;
      // No setting was ever put here: only the effective ones (the defaults) exist.
      const settings = effective
        ? DEFAULT_ACCOUNT_SETTINGS.filter(([n, v]) => (name ?? n) === n && (value ?? v) === v).map(
            ([n, v]) => ({
              name: n,
              value: v,
              principalArn,
              type: n === 'guardDutyActivate' ? 'aws_managed' : 'user',
            }),
          )
        : [];
      const p = page(settings, input, 10);
      return { settings: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
    },

    DeleteCluster(input, ctx) {
      const r = regionFor(ctx);
      if (optString(input, 'cluster') === undefined) throw invalidParameter('cluster can not be null.');
      const c = clusterOf(r, input);
      if (Object.values(r.services[c.name] ?? {}).some((x) => x.status !== 'INACTIVE'))
        throw new AwsError(
          'ClusterContainsServicesException',
          'The Cluster cannot be deleted while Services are active.',
        );
      if (Object.values(r.tasks).some((t) => t.clusterName === c.name && t.lastStatus !== 'STOPPED'))
        throw new AwsError(
          'ClusterContainsTasksException',
          'The Cluster cannot be deleted while Tasks are active.',
        );
      c.status = 'INACTIVE';
      save();
      return { cluster: clusterOut(r, c, ['TAGS']) };
    },

    // ------------------------------------------------------------------ task definitions
    RegisterTaskDefinition(input, ctx) {
      const r = regionFor(ctx);
      const family = optString(input, 'family');
      if (family === undefined || family === '') throw clientError('Family should not be null or empty.');
      if (!NAME_RE.test(family))
        throw clientError(
          'Family name can contain up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores.',
        );
      const defs = optStructList(input, 'containerDefinitions');
      if (!defs || defs.length === 0) throw clientError('Container list cannot be empty.');
      if (defs.length > 10) throw clientError('Too many containers: at most 10 per task definition.');
      const names = new Set<string>();
      const containers = defs.map((c, i) => containerDefinition(c, i, names));
      if (!containers.some((c) => c.essential !== false))
        throw clientError('Task definition does not have any essential container.');
      const networkMode = optString(input, 'networkMode');
      if (networkMode !== undefined && !NETWORK_MODES.includes(networkMode))
        throw clientError(`Invalid networkMode: ${networkMode}. Valid values: ${NETWORK_MODES.join(', ')}.`);
      const requires = optStringList(input, 'requiresCompatibilities') ?? [];
      for (const c of requires)
        if (!['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES'].includes(c))
          throw invalidParameter(`Invalid requiresCompatibilities value: ${c}`);
      const cpuText = optString(input, 'cpu');
      const memText = optString(input, 'memory');
      const cpu = cpuText === undefined ? undefined : cpuUnits(cpuText);
      const memory = memText === undefined ? undefined : memoryMiB(memText);
      if (cpuText !== undefined && cpu === undefined) throw clientError("Invalid 'cpu' setting for task.");
      if (memText !== undefined && memory === undefined)
        throw clientError("Invalid 'memory' setting for task.");
      const fargateOk =
        networkMode === 'awsvpc' &&
        cpu !== undefined &&
        memory !== undefined &&
        fargateMemoryFor(cpu).includes(memory);
      if (requires.includes('FARGATE')) {
        if (networkMode !== 'awsvpc') throw clientError('Fargate only supports network mode ‘awsvpc’.');
        if (cpu === undefined) throw clientError("Fargate requires that 'cpu' be defined at the task level.");
        if (memory === undefined)
          throw clientError("Fargate requires that 'memory' be defined at the task level.");
        if (!fargateMemoryFor(cpu).includes(memory))
          throw clientError(
            `No Fargate configuration exists for given values: ${cpu} CPU, ${memory} memory. See the Amazon ECS documentation for the valid values.`,
          );
      }
      if (
        memory === undefined &&
        containers.some((c) => c.memory === undefined && c.memoryReservation === undefined)
      )
        throw clientError(
          `Invalid setting for container '${String(containers.find((c) => c.memory === undefined && c.memoryReservation === undefined)!.name)}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
        );
      for (const c of containers)
        if (memory !== undefined && typeof c.memory === 'number' && c.memory > memory)
          throw clientError(
            `The 'memory' setting for container '${String(c.name)}' is greater than for the task.`,
          );
      checkPortMappings(defs, networkMode ?? 'bridge');
      const es = optObject(input, 'ephemeralStorage');
      if (es) ephemeralStorageSize(es, 'ephemeralStorage', clientError);
      const tags = tagList(input) ?? [];
      for (const k of ['taskRoleArn', 'executionRoleArn', 'pidMode', 'ipcMode']) optString(input, k);
      // Fargate's agent writes awslogs with the execution role: ECS refuses a definition without one.
      if (
        requires.includes('FARGATE') &&
        !input.executionRoleArn &&
        containers.some(
          (c) => (c.logConfiguration as { logDriver?: unknown } | undefined)?.logDriver === 'awslogs',
        )
      )
        throw clientError(
          'Fargate requires task definition to have execution role ARN to support log driver awslogs.',
        );
      optStructList(input, 'volumes');
      const runtimePlatform = optObject(input, 'runtimePlatform');
      const revs = (r.taskDefinitions[family] ??= []);
      const revision = revs.length + 1;
      const arn = taskDefinitionArn(r, family, revision);
      const requiresAttributes: Array<{ name: string }> = [];
      if (input.executionRoleArn) requiresAttributes.push({ name: 'ecs.capability.execution-role-ecr-pull' });
      if (input.taskRoleArn) requiresAttributes.push({ name: 'com.amazonaws.ecs.capability.task-iam-role' });
      if (networkMode === 'awsvpc') requiresAttributes.push({ name: 'ecs.capability.task-eni' });
      if (containers.some((c) => c.healthCheck))
        requiresAttributes.push({ name: 'ecs.capability.container-health-check' });
      const body = defined({
        taskDefinitionArn: arn,
        containerDefinitions: containers,
        family,
        taskRoleArn: input.taskRoleArn,
        executionRoleArn: input.executionRoleArn,
        networkMode: networkMode ?? 'bridge',
        revision,
        volumes: input.volumes ?? [],
        requiresAttributes,
        placementConstraints: input.placementConstraints ?? [],
        compatibilities: fargateOk ? ['EC2', 'FARGATE'] : ['EC2'],
        runtimePlatform,
        requiresCompatibilities: requires.length ? requires : undefined,
        cpu: cpu === undefined ? undefined : String(cpu),
        memory: memory === undefined ? undefined : String(memory),
        pidMode: input.pidMode,
        ipcMode: input.ipcMode,
        ephemeralStorage: input.ephemeralStorage,
      });
      const td: TaskDefinitionState = {
        arn,
        family,
        revision,
        status: 'ACTIVE',
        body,
        tags,
        registeredAt: ctx.clock.now(),
        registeredBy: ctx.identity.arn,
      };
      revs.push(td);
      save();
      return { taskDefinition: taskDefinitionOut(td), ...(tags.length ? { tags } : {}) };
    },

    DescribeTaskDefinition(input, ctx) {
      const r = regionFor(ctx);
      const ref = optString(input, 'taskDefinition');
      const td = ref === undefined ? undefined : findTaskDefinition(r, ref);
      if (!td) throw clientError('Unable to describe task definition.');
      const include = includeList(input);
      return {
        taskDefinition: taskDefinitionOut(td),
        ...(include.includes('TAGS') ? { tags: td.tags } : {}),
      };
    },

    DeregisterTaskDefinition(input, ctx) {
      const r = regionFor(ctx);
      const ref = reqString(input, 'taskDefinition', () => clientError('TaskDefinition can not be blank.'));
      if (!/:\d+$/.test(ref))
        throw clientError('Revision must be specified: family:revision or the full ARN.');
      const td = findTaskDefinition(r, ref);
      if (!td) throw clientError('The specified task definition does not exist.');
      if (td.status === 'ACTIVE') {
        td.status = 'INACTIVE';
        td.deregisteredAt = ctx.clock.now();
        save();
      }
      return { taskDefinition: taskDefinitionOut(td) };
    },

    DeleteTaskDefinitions(input, ctx) {
      const r = regionFor(ctx);
      const refs = optStringList(input, 'taskDefinitions');
      if (!refs || refs.length === 0) throw invalidParameter('taskDefinitions can not be empty.');
      if (refs.length > 10) throw invalidParameter('taskDefinitions can have at most 10 items.');
      const taskDefinitions: unknown[] = [];
      const failures: unknown[] = [];
      for (const ref of refs) {
        const td = /:\d+$/.test(ref) ? findTaskDefinition(r, ref) : undefined;
        if (!td) failures.push({ arn: ref, reason: 'The specified task definition does not exist.' });
        else if (td.status === 'ACTIVE')
          failures.push({
            arn: td.arn,
            reason:
              'The specified task definition is still in ACTIVE status. Please deregister the target and try again.',
          });
        else {
          td.status = 'DELETE_IN_PROGRESS';
          taskDefinitions.push(taskDefinitionOut(td));
        }
      }
      save();
      return { taskDefinitions, failures };
    },

    ListTaskDefinitions(input, ctx) {
      const r = regionFor(ctx);
      const prefix = optString(input, 'familyPrefix');
      const status = optString(input, 'status') ?? 'ACTIVE';
      if (!['ACTIVE', 'INACTIVE', 'DELETE_IN_PROGRESS'].includes(status))
        throw invalidParameter(`Invalid status: ${status}`);
      const sort = optString(input, 'sort') ?? 'ASC';
      if (sort !== 'ASC' && sort !== 'DESC') throw invalidParameter(`Invalid sort: ${sort}`);
      let all = Object.keys(r.taskDefinitions)
        .filter((f) => prefix === undefined || f === prefix)
        .sort()
        .flatMap((f) => r.taskDefinitions[f]!.filter((t) => t.status === status).map((t) => t.arn));
      if (sort === 'DESC') all = all.reverse();
      const p = page(all, input);
      return { taskDefinitionArns: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
    },

    ListTaskDefinitionFamilies(input, ctx) {
      const r = regionFor(ctx);
      const prefix = optString(input, 'familyPrefix') ?? '';
      const status = optString(input, 'status') ?? 'ACTIVE';
      if (!['ACTIVE', 'INACTIVE', 'ALL'].includes(status))
        throw invalidParameter(`Invalid status: ${status}`);
      const families = Object.keys(r.taskDefinitions)
        .filter((f) => f.startsWith(prefix))
        .filter((f) => {
          const revs = r.taskDefinitions[f]!;
          if (status === 'ALL') return true;
          const active = revs.some((t) => t.status === 'ACTIVE');
          return status === 'ACTIVE' ? active : !active;
        })
        .sort();
      const p = page(families, input);
      return { families: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
    },

    // ------------------------------------------------------------------ services
    async CreateService(input, ctx) {
      const r = regionFor(ctx);
      const name = optString(input, 'serviceName');
      if (name === undefined || name === '') throw invalidParameter('serviceName can not be blank.');
      if (!NAME_RE.test(name))
        throw invalidParameter(
          'Service name can contain up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens.',
        );
      const cluster = clusterOf(r, input);
      launchType(input);
      const strategy = optString(input, 'schedulingStrategy') ?? 'REPLICA';
      if (strategy !== 'REPLICA')
        throw invalidParameter('local-aws simulates only the REPLICA scheduling strategy.');
      const controller = deploymentControllerOf(input);
      const desired = optInt(input, 'desiredCount');
      if (desired === undefined)
        throw invalidParameter('desiredCount must be specified for the REPLICA scheduling strategy.');
      if (desired < 0) throw invalidParameter('desiredCount can not be negative.');
      const tdRef = optString(input, 'taskDefinition');
      // An EXTERNAL service's task definitions come with its task sets: it may have none.
      if (tdRef === undefined && controller !== 'EXTERNAL')
        throw invalidParameter('TaskDefinition must be specified.');
      const td = tdRef === undefined ? undefined : usableTaskDefinition(r, tdRef);
      const awsvpc = td?.body.networkMode === 'awsvpc';
      const network = networkConfiguration(input, awsvpc && controller !== 'EXTERNAL', r);
      const nc = network?.nc;
      if (td && !awsvpc && nc)
        throw invalidParameter(
          'Network Configuration is not valid for the given networkMode of this task definition.',
        );
      const dc = deploymentConfiguration(input);
      const tags = tagList(input) ?? [];
      const propagateTags = optString(input, 'propagateTags') ?? 'NONE';
      if (!['NONE', 'SERVICE', 'TASK_DEFINITION'].includes(propagateTags))
        throw invalidParameter(`Invalid propagateTags: ${propagateTags}`);
      const loadBalancers = readLoadBalancers(input) ?? [];
      if (td && loadBalancers.length > 0)
        checkLoadBalancers(loadBalancers, td.body, network?.vpcId, deps.elbv2);
      const grace = gracePeriod(input, loadBalancers);
      const platformVersion = optString(input, 'platformVersion') ?? 'LATEST';
      const execCmd = optBool(input, 'enableExecuteCommand') ?? false;
      const managedTags = optBool(input, 'enableECSManagedTags') ?? false;
      const existing = r.services[cluster.name]?.[name];
      if (existing && existing.status !== 'INACTIVE')
        throw invalidParameter('Creation of service was not idempotent.');
      // EXTERNAL: no task runs until a task set is created (CreateTaskSet is not simulated).
      const images = td && controller !== 'EXTERNAL' ? await resolveImages(td, ctx) : undefined;
      // Re-check after the await: a concurrent CreateService may have won.
      const again = r.services[cluster.name]?.[name];
      if (again && again.status !== 'INACTIVE')
        throw invalidParameter('Creation of service was not idempotent.');
      const svc: ServiceState = {
        name,
        arn: serviceArn(r, cluster.name, name),
        clusterArn: cluster.arn,
        status: 'ACTIVE',
        desiredCount: desired,
        taskDefinition: td?.arn ?? '',
        launchType: 'FARGATE',
        platformVersion,
        networkConfiguration: nc ?? {},
        deploymentController: controller,
        deploymentConfiguration: dc,
        ...(grace !== undefined ? { healthCheckGracePeriodSeconds: grace } : {}),
        ...(loadBalancers.length > 0 ? { loadBalancers } : {}),
        enableExecuteCommand: execCmd,
        enableECSManagedTags: managedTags,
        propagateTags,
        deployments: [],
        events: [],
        tags,
        createdAt: ctx.clock.now(),
        createdBy: ctx.identity.arn,
        steady: false,
      };
      // A CODE_DEPLOY service's first task set is run like a deployment that is never replaced.
      if (td && images) sim.newDeployment(svc, td.arn, images);
      (r.services[cluster.name] ??= {})[name] = svc;
      holdTargetGroups(svc, loadBalancers);
      save();
      sim.scheduleReconcile(r, cluster.name, name);
      return { service: serviceOut(r, svc, ['TAGS']) };
    },

    async UpdateService(input, ctx) {
      const r = regionFor(ctx);
      const ref = optString(input, 'service');
      if (ref === undefined || ref === '') throw invalidParameter('service can not be blank.');
      const cluster = clusterOf(r, input);
      const svc = serviceOf(r, cluster, ref);
      if (!svc) throw serviceNotFound();
      if (svc.status !== 'ACTIVE') throw serviceNotActive();
      launchType(input);
      // Validate everything before changing anything.
      const desired = optInt(input, 'desiredCount');
      if (desired !== undefined && desired < 0) throw invalidParameter('desiredCount can not be negative.');
      const tdRef = optString(input, 'taskDefinition');
      const td = tdRef !== undefined ? usableTaskDefinition(r, tdRef) : undefined;
      const effectiveTd = td ?? findTaskDefinition(r, svc.taskDefinition);
      const network = optObject(input, 'networkConfiguration')
        ? networkConfiguration(input, true, r)
        : undefined;
      const nc = network?.nc;
      // The service's load balancers (new ones, or its own) are checked again against what changes.
      const newLoadBalancers = readLoadBalancers(input);
      const loadBalancers = newLoadBalancers ?? svc.loadBalancers ?? [];
      if (loadBalancers.length > 0 && effectiveTd && (newLoadBalancers || td || network))
        checkLoadBalancers(
          loadBalancers,
          effectiveTd.body,
          network?.vpcId ?? vpcOf(r, svc.networkConfiguration),
          deps.elbv2,
        );
      const dc = deploymentConfiguration(input, svc.deploymentConfiguration);
      const force = optBool(input, 'forceNewDeployment') ?? false;
      const platformVersion = optString(input, 'platformVersion');
      const grace = gracePeriod(input, loadBalancers);
      const execCmd = optBool(input, 'enableExecuteCommand');
      const ecsManagedTags = optBool(input, 'enableECSManagedTags');
      const propagateTags = optString(input, 'propagateTags');
      if (propagateTags !== undefined && !['NONE', 'SERVICE', 'TASK_DEFINITION'].includes(propagateTags))
        throw invalidParameter(`Invalid propagateTags: ${propagateTags}`);
      const changes = {
        taskDefinition: td !== undefined && td.arn !== svc.taskDefinition,
        network: nc !== undefined && JSON.stringify(nc) !== JSON.stringify(svc.networkConfiguration),
        platformVersion: platformVersion !== undefined && platformVersion !== svc.platformVersion,
        loadBalancers:
          newLoadBalancers !== undefined && !sameLoadBalancers(newLoadBalancers, svc.loadBalancers ?? []),
      };
      const controller = svc.deploymentController ?? 'ECS';
      if (controller !== 'ECS') {
        // Only CodeDeploy (or the task sets of an external controller) deploys such a service.
        const on = `on services with a ${controller} deployment controller. ${
          controller === 'CODE_DEPLOY'
            ? 'Use AWS CodeDeploy to trigger a new deployment.'
            : 'Use task sets to trigger a new deployment.'
        }`;
        if (changes.taskDefinition) throw invalidParameter(`Unable to update task definition ${on}`);
        if (changes.network) throw invalidParameter(`Unable to update network parameters ${on}`);
        if (changes.platformVersion) throw invalidParameter(`Unable to update platform version ${on}`);
        if (changes.loadBalancers) throw invalidParameter(`Unable to update load balancers ${on}`);
        if (force) throw invalidParameter(`Cannot force a new deployment ${on}`);
      }
      const newDeployment =
        force ||
        changes.taskDefinition ||
        changes.network ||
        changes.platformVersion ||
        changes.loadBalancers;
      const images = newDeployment && effectiveTd ? await resolveImages(effectiveTd, ctx) : undefined;
      if (svc.status !== 'ACTIVE') throw serviceNotActive();
      if (desired !== undefined) svc.desiredCount = desired;
      if (nc) svc.networkConfiguration = nc;
      svc.deploymentConfiguration = dc;
      if (platformVersion !== undefined) svc.platformVersion = platformVersion;
      if (grace !== undefined) svc.healthCheckGracePeriodSeconds = grace;
      if (newLoadBalancers !== undefined) {
        svc.loadBalancers = newLoadBalancers;
        holdTargetGroups(svc, newLoadBalancers);
      }
      if (execCmd !== undefined) svc.enableExecuteCommand = execCmd;
      if (ecsManagedTags !== undefined) svc.enableECSManagedTags = ecsManagedTags;
      if (propagateTags !== undefined) svc.propagateTags = propagateTags;
      if (newDeployment && effectiveTd && images) {
        svc.taskDefinition = effectiveTd.arn;
        sim.newDeployment(svc, effectiveTd.arn, images);
      }
      const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
      if (primary) {
        primary.desiredCount = svc.desiredCount;
        primary.updatedAt = ctx.clock.now();
      }
      svc.steady = svc.steady && !newDeployment && desired === undefined;
      save();
      sim.scheduleReconcile(r, cluster.name, svc.name);
      return { service: serviceOut(r, svc) };
    },

    DescribeServices(input, ctx) {
      const r = regionFor(ctx);
      const cluster = clusterOf(r, input);
      const refs = optStringList(input, 'services');
      if (!refs || refs.length === 0) throw invalidParameter('Services cannot be empty.');
      if (refs.length > 10) throw invalidParameter('Services cannot contain more than 10 items.');
      const include = includeList(input);
      const services: unknown[] = [];
      const failures: unknown[] = [];
      for (const ref of refs) {
        const svc = serviceOf(r, cluster, ref);
        if (svc) services.push(serviceOut(r, svc, include));
        else
          failures.push({
            arn: ref.startsWith('arn:') ? ref : serviceArn(r, cluster.name, ref),
            reason: 'MISSING',
          });
      }
      return { services, failures };
    },

    DeleteService(input, ctx) {
      const r = regionFor(ctx);
      const ref = optString(input, 'service');
      if (ref === undefined || ref === '') throw invalidParameter('service can not be blank.');
      const cluster = clusterOf(r, input);
      const force = optBool(input, 'force') ?? false;
      const svc = serviceOf(r, cluster, ref);
      if (!svc) throw serviceNotFound();
      if (svc.status !== 'ACTIVE') throw serviceNotActive();
      if (svc.desiredCount > 0 && !force)
        throw invalidParameter('The service cannot be stopped while it is scaled above 0.');
      svc.desiredCount = 0;
      svc.status = 'DRAINING';
      releaseTargetGroups(svc);
      save();
      sim.scheduleReconcile(r, cluster.name, svc.name);
      return { service: serviceOut(r, svc) };
    },

    ListServices(input, ctx) {
      const r = regionFor(ctx);
      const cluster = clusterOf(r, input);
      const fargate = launchTypeFilter(input);
      const strategy = optString(input, 'schedulingStrategy');
      if (strategy !== undefined && strategy !== 'REPLICA' && strategy !== 'DAEMON')
        throw invalidParameter(`Invalid schedulingStrategy: ${strategy}`);
      // Every service here is a REPLICA service on Fargate (DAEMON needs EC2).
      const matches = fargate && (strategy ?? 'REPLICA') === 'REPLICA';
      const arns = Object.values(r.services[cluster.name] ?? {})
        .filter((x) => matches && x.status !== 'INACTIVE')
        .map((x) => x.arn)
        .sort();
      const p = page(arns, input);
      return { serviceArns: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
    },

    // ------------------------------------------------------------------ tasks
    async RunTask(input, ctx) {
      const r = regionFor(ctx);
      const cluster = clusterOf(r, input);
      launchType(input);
      const tdRef = optString(input, 'taskDefinition');
      if (tdRef === undefined || tdRef === '') throw invalidParameter('TaskDefinition can not be blank.');
      const td = usableTaskDefinition(r, tdRef);
      const count = optInt(input, 'count') ?? 1;
      if (count < 1 || count > 10) throw invalidParameter('count must be between 1 and 10.');
      const nc = networkConfiguration(input, td.body.networkMode === 'awsvpc', r)?.nc;
      const overrides = optObject(input, 'overrides') ?? {};
      const names = new Set((td.body.containerDefinitions as Input[]).map((c) => String(c.name)));
      for (const [i, o] of (
        optStructList(overrides, 'containerOverrides', 'overrides.containerOverrides') ?? []
      ).entries()) {
        const n = optString(o, 'name', `overrides.containerOverrides.${i + 1}.member.name`);
        if (n === undefined || !names.has(n))
          throw invalidParameter(
            'Override for container named ' + String(n) + ' is not a container in the TaskDefinition.',
          );
        optStringList(o, 'command', `overrides.containerOverrides.${i + 1}.member.command`);
        optStructList(o, 'environment', `overrides.containerOverrides.${i + 1}.member.environment`);
      }
      const size = taskSize(td, overrides);
      const es = optObject(overrides, 'ephemeralStorage', 'overrides.ephemeralStorage');
      const ephemeralStorageGiB = es
        ? ephemeralStorageSize(es, 'overrides.ephemeralStorage', invalidParameter)
        : ephemeralStorageOf(td.body);
      const startedBy = optString(input, 'startedBy');
      if (startedBy !== undefined && startedBy.length > 128)
        throw invalidParameter('startedBy must be at most 128 characters.');
      const group = optString(input, 'group') ?? `family:${td.family}`;
      const propagateTags = optString(input, 'propagateTags') ?? 'NONE';
      if (!['NONE', 'SERVICE', 'TASK_DEFINITION'].includes(propagateTags))
        throw invalidParameter(`Invalid propagateTags: ${propagateTags}`);
      if (propagateTags === 'SERVICE')
        throw invalidParameter('propagateTags SERVICE is only valid for the tasks of a service.');
      const tags = combineTags(
        propagateTags === 'TASK_DEFINITION' ? structuredClone(td.tags) : [],
        tagList(input) ?? [],
        optBool(input, 'enableECSManagedTags') ? managedTags(cluster.name) : [],
      );
      const platformVersion = optString(input, 'platformVersion') ?? 'LATEST';
      const enableExecuteCommand = optBool(input, 'enableExecuteCommand') ?? false;
      const images = await resolveImages(td, ctx);
      const tasks: unknown[] = [];
      for (let i = 0; i < count; i++) {
        const t = launchOrRefuse({
          region: r,
          clusterName: cluster.name,
          taskDefinition: { arn: td.arn, body: td.body },
          oneOff: true,
          images,
          group,
          ...(startedBy !== undefined ? { startedBy } : {}),
          network: awsvpcOf(nc ?? {}),
          overrides: structuredClone(overrides),
          tags: structuredClone(tags),
          platformVersion: resolvePlatformVersion(platformVersion),
          enableExecuteCommand,
          cpu: String(size.cpu),
          memory: String(size.memory),
          ephemeralStorageGiB,
        });
        tasks.push(taskOut(t, ['TAGS']));
      }
      save();
      return { tasks, failures: [] };
    },

    StartTask(input, ctx) {
      const r = regionFor(ctx);
      const cluster = clusterOf(r, input);
      const tdRef = optString(input, 'taskDefinition');
      if (tdRef === undefined || tdRef === '') throw invalidParameter('TaskDefinition can not be blank.');
      usableTaskDefinition(r, tdRef);
      const instances = optStringList(input, 'containerInstances');
      if (!instances || instances.length === 0)
        throw invalidParameter('containerInstances can not be empty.');
      if (instances.length > 10) throw invalidParameter('containerInstances can have at most 10 items.');
      // Fargate clusters have no container instances: every one named is missing.
      return {
        tasks: [],
        failures: instances.map((ci) => ({
          arn: ci.startsWith('arn:') ? ci : `${arnPrefix(r)}:container-instance/${cluster.name}/${ci}`,
          reason: 'MISSING',
        })),
      };
    },

    StopTask(input, ctx) {
      const r = regionFor(ctx);
      const cluster = clusterOf(r, input);
      const ref = optString(input, 'task');
      if (ref === undefined || ref === '') throw invalidParameter('task can not be blank.');
      const reason = optString(input, 'reason');
      if (reason !== undefined && reason.length > 255)
        throw invalidParameter('reason must be at most 255 characters.');
      const t = taskOf(r, cluster, ref);
      if (!t) throw invalidParameter('The referenced task was not found.');
      sim.stop(r, t, 'UserInitiated', reason ?? 'Task stopped by user');
      return { task: taskOut(t) };
    },

    ExecuteCommand(input, ctx) {
      const r = regionFor(ctx);
      const cluster = clusterOf(r, input);
      const command = optString(input, 'command');
      if (command === undefined || command === '') throw invalidParameter('command can not be blank.');
      if (optBool(input, 'interactive') !== true)
        throw invalidParameter('Interactive is the only mode supported currently.');
      const ref = optString(input, 'task');
      if (ref === undefined || ref === '') throw invalidParameter('task can not be blank.');
      const t = taskOf(r, cluster, ref);
      if (!t) throw invalidParameter('The referenced task was not found.');
      const name = optString(input, 'container');
      if (name === undefined && t.containers.length > 1)
        throw invalidParameter('A container name must be specified for tasks with more than one container.');
      const container = name === undefined ? t.containers[0] : t.containers.find((c) => c.name === name);
      if (!container) throw invalidParameter(`The container ${String(name)} is not in the task.`);
      if (!t.enableExecuteCommand || t.lastStatus !== 'RUNNING' || container.lastStatus !== 'RUNNING')
        throw invalidParameter(EXEC_NOT_ENABLED);
      // A session as ECS hands it to the Session Manager plugin; nothing answers at its URL here.
      const sessionId = `ecs-execute-command-${randomBytes(9).toString('hex')}`;
      const host = `ssmmessages.${r.region}.amazonaws.com${partitionOf(r.region) === 'aws-cn' ? '.cn' : ''}`;
      return {
        clusterArn: t.clusterArn,
        containerArn: container.arn,
        containerName: container.name,
        interactive: true,
        session: {
          sessionId,
          streamUrl: `wss://${host}/v1/data-channel/${sessionId}?role=publish_subscribe&cell-number=${newUuid()}`,
          tokenValue: randomBytes(96).toString('base64'),
        },
        taskArn: t.arn,
      };
    },

    DescribeTasks(input, ctx) {
      const r = regionFor(ctx);
      const cluster = clusterOf(r, input);
      const refs = optStringList(input, 'tasks');
      if (!refs || refs.length === 0) throw invalidParameter('Tasks cannot be empty.');
      if (refs.length > 100) throw invalidParameter('Tasks cannot contain more than 100 items.');
      const include = includeList(input);
      const tasks: unknown[] = [];
      const failures: unknown[] = [];
      for (const ref of refs) {
        const t = taskOf(r, cluster, ref);
        if (t) tasks.push(taskOut(t, include));
        else
          failures.push({
            arn: ref.startsWith('arn:') ? ref : `${arnPrefix(r)}:task/${cluster.name}/${ref}`,
            reason: 'MISSING',
          });
      }
      return { tasks, failures };
    },

    ListTasks(input, ctx) {
      const r = regionFor(ctx);
      const cluster = clusterOf(r, input);
      const fargate = launchTypeFilter(input);
      const family = optString(input, 'family');
      const serviceName = optString(input, 'serviceName');
      const startedBy = optString(input, 'startedBy');
      const desired = optString(input, 'desiredStatus') ?? 'RUNNING';
      if (!['RUNNING', 'PENDING', 'STOPPED'].includes(desired))
        throw invalidParameter(`Invalid desiredStatus: ${desired}`);
      // ECS never sets a task's desiredStatus to PENDING; Fargate tasks are on no container instance.
      if (desired === 'PENDING' || !fargate || optString(input, 'containerInstance') !== undefined)
        return { taskArns: [] };
      if (serviceName !== undefined && !serviceOf(r, cluster, serviceName)) throw serviceNotFound();
      const svcName = serviceName?.startsWith('arn:')
        ? serviceName.slice(serviceName.lastIndexOf('/') + 1)
        : serviceName;
      const arns = Object.values(r.tasks)
        .filter((t) => t.clusterName === cluster.name)
        .filter((t) =>
          desired === 'STOPPED' ? t.desiredStatus === 'STOPPED' : t.desiredStatus === 'RUNNING',
        )
        .filter((t) => family === undefined || t.taskDefinitionArn.includes(`:task-definition/${family}:`))
        .filter((t) => svcName === undefined || t.serviceName === svcName)
        .filter((t) => startedBy === undefined || t.startedBy === startedBy)
        .sort((a, b) => a.createdAt - b.createdAt)
        .map((t) => t.arn);
      const p = page(arns, input);
      return { taskArns: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
    },

    // ------------------------------------------------------------------ tags
    TagResource(input, ctx) {
      const r = regionFor(ctx);
      const arn = reqString(input, 'resourceArn', () => invalidParameter('resourceArn can not be blank.'));
      const tags = tagList(input);
      if (!tags || tags.length === 0) throw invalidParameter('tags can not be empty.');
      const res = resourceTags(r, arn);
      const merged = mergeTags(res.tags, tags);
      if (merged.length > 50) throw invalidParameter('Invalid tags: a resource can have at most 50 tags.');
      res.set(merged);
      save();
      return {};
    },

    UntagResource(input, ctx) {
      const r = regionFor(ctx);
      const arn = reqString(input, 'resourceArn', () => invalidParameter('resourceArn can not be blank.'));
      const keys = optStringList(input, 'tagKeys');
      if (!keys) throw invalidParameter('tagKeys can not be null.');
      const res = resourceTags(r, arn);
      res.set(res.tags.filter((t) => !keys.includes(t.key)));
      save();
      return {};
    },

    ListTagsForResource(input, ctx) {
      const r = regionFor(ctx);
      const arn = reqString(input, 'resourceArn', () => invalidParameter('resourceArn can not be blank.'));
      return { tags: resourceTags(r, arn).tags };
    },
  };
}
