// ECS and Elastic Load Balancing: a service's `loadBalancers` checked as ECS checks them at
// CreateService and UpdateService, and what ECS does with them while the service's tasks run —
// a task's private IP and container port are registered in each target group when it reaches
// RUNNING and deregistered when it is asked to stop (it stays DEACTIVATING while its targets
// drain), and its targets' health decides whether it is ready.
import type { Elbv2Integration, TargetGroupInfo } from '../elbv2/index.js';
import type { LoadBalancerSpec, TaskState, TaskTarget } from './model.js';
import { invalidParameter, optInt, optString, optStructList, type Input } from './validate.js';

/** ECS attaches at most five target groups to a service. */
export const MAX_LOAD_BALANCERS = 5;

/**
 * ECS's answer when it cannot describe a target group (one that does not exist, or that its
 * service-linked role may not read): the same words either way.
 */
export const TARGET_GROUP_UNREADABLE =
  'Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions.';

/** `loadBalancers` as given (shapes only), or undefined when the member is absent. */
export function readLoadBalancers(input: Input): LoadBalancerSpec[] | undefined {
  const items = optStructList(input, 'loadBalancers');
  if (items === undefined) return undefined;
  if (items.length > MAX_LOAD_BALANCERS)
    throw invalidParameter(`loadBalancers can have at most ${MAX_LOAD_BALANCERS} items.`);
  return items.map((lb, i) => {
    const path = `loadBalancers.${i + 1}.member`;
    const loadBalancerName = optString(lb, 'loadBalancerName', `${path}.loadBalancerName`);
    const targetGroupArn = optString(lb, 'targetGroupArn', `${path}.targetGroupArn`);
    const containerName = optString(lb, 'containerName', `${path}.containerName`);
    const containerPort = optInt(lb, 'containerPort', `${path}.containerPort`);
    if (loadBalancerName !== undefined && targetGroupArn === undefined)
      throw invalidParameter(
        'local-aws does not simulate Classic Load Balancers (loadBalancerName): give the targetGroupArn of an Application Load Balancer target group.',
      );
    if (targetGroupArn === undefined || targetGroupArn === '')
      throw invalidParameter('targetGroupArn can not be blank.');
    if (containerName === undefined || containerName === '')
      throw invalidParameter('containerName can not be blank.');
    if (containerPort === undefined) throw invalidParameter('containerPort can not be null.');
    return { targetGroupArn, containerName, containerPort };
  });
}

/**
 * Checks a service's load balancers as ECS does before it creates or updates the service: the
 * container and its port in the task definition, then the target group — it exists, its target
 * type is `ip` (tasks in awsvpc mode are registered by address), a load balancer uses it, and it
 * is in the service's VPC.
 */
export function checkLoadBalancers(
  specs: readonly LoadBalancerSpec[],
  taskDefinition: Record<string, unknown>,
  vpcId: string | undefined,
  elbv2: Pick<Elbv2Integration, 'targetGroup'>,
): void {
  const containers = (taskDefinition.containerDefinitions as Input[] | undefined) ?? [];
  for (const lb of specs) {
    const container = containers.find((c) => c.name === lb.containerName);
    if (!container)
      throw invalidParameter(`The container ${lb.containerName} does not exist in the task definition.`);
    const ports = ((container.portMappings as Input[] | undefined) ?? []).map((p) => p.containerPort);
    if (!ports.includes(lb.containerPort))
      throw invalidParameter(
        `The container ${lb.containerName} did not have a container port ${lb.containerPort} defined.`,
      );
    const group = elbv2.targetGroup(lb.targetGroupArn);
    if (!group) throw invalidParameter(TARGET_GROUP_UNREADABLE);
    checkTargetGroup(group, taskDefinition, vpcId);
  }
}

function checkTargetGroup(
  group: TargetGroupInfo,
  taskDefinition: Record<string, unknown>,
  vpcId: string | undefined,
): void {
  const networkMode = String(taskDefinition.networkMode ?? 'bridge');
  if (networkMode === 'awsvpc' && group.targetType !== 'ip')
    throw invalidParameter(
      `The provided target group ${group.targetGroupArn} has target type ${group.targetType}, which is incompatible with the awsvpc network mode specified in the task definition.`,
    );
  if (group.loadBalancerArns.length === 0)
    throw invalidParameter(
      `The target group with targetGroupArn ${group.targetGroupArn} does not have an associated load balancer.`,
    );
  if (vpcId !== undefined && group.vpcId !== vpcId)
    throw invalidParameter(
      `The target group ${group.targetGroupArn} is in VPC ${group.vpcId}, but the service's subnets are in VPC ${vpcId}: its tasks could not be registered in it.`,
    );
}

/** Whether two load balancer lists name the same groups, containers and ports (in any order). */
export function sameLoadBalancers(a: readonly LoadBalancerSpec[], b: readonly LoadBalancerSpec[]): boolean {
  const key = (lb: LoadBalancerSpec) => `${lb.targetGroupArn} ${lb.containerName}:${lb.containerPort}`;
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.length === right.length && left.every((k, i) => k === right[i]);
}

/** A target as ELBv2 names it: the group, the task's private IP, the container port. */
const targetOf = (task: TaskState, target: TaskTarget) => ({
  targetGroupArn: target.targetGroupArn,
  id: task.eni.privateIp,
  port: target.containerPort,
});

/** States in which ECS counts a target as passing: healthy, or in a group no load balancer uses. */
const PASSING = new Set(['healthy', 'unused']);

/** What ECS does in ELBv2 for a service's tasks. */
export class TaskLoadBalancing {
  constructor(private readonly elbv2: Elbv2Integration) {}

  /**
   * Registers a task that reached RUNNING in each of its target groups; returns each group with
   * the error ELBv2 answered, if any (a group deleted since the service was created).
   */
  register(task: TaskState): Array<{ targetGroupArn: string; error?: string }> {
    return (task.targets ?? []).map((target) => {
      try {
        this.elbv2.registerTarget(targetOf(task, target));
        target.registered = true;
        return { targetGroupArn: target.targetGroupArn };
      } catch (error) {
        return { targetGroupArn: target.targetGroupArn, error: (error as Error).message };
      }
    });
  }

  /**
   * Deregisters a task that is asked to stop: the groups it left, and how long its targets drain
   * (the longest deregistration delay of those groups a load balancer uses; 0 for the others).
   */
  deregister(task: TaskState): { groups: string[]; drainMs: number } {
    const groups: string[] = [];
    let drainMs = 0;
    for (const target of task.targets ?? []) {
      if (!target.registered) continue;
      target.registered = false;
      const group = this.elbv2.targetGroup(target.targetGroupArn);
      if (!group) continue;
      try {
        this.elbv2.deregisterTarget(targetOf(task, target));
      } catch {
        continue;
      }
      groups.push(target.targetGroupArn);
      if (group.loadBalancerArns.length > 0)
        drainMs = Math.max(drainMs, group.deregistrationDelaySeconds * 1000);
    }
    return { groups, drainMs };
  }

  /** Whether every target of the task passes (a task with none does). */
  healthy(task: TaskState): boolean {
    return (task.targets ?? []).every((target) => {
      const health = target.registered ? this.elbv2.targetHealth(targetOf(task, target)) : undefined;
      return health !== undefined && PASSING.has(health.state);
    });
  }

  /** The first of the task's registered targets that is unhealthy now. */
  unhealthy(task: TaskState): TaskTarget | undefined {
    return (task.targets ?? []).find(
      (target) => target.registered && this.elbv2.targetHealth(targetOf(task, target))?.state === 'unhealthy',
    );
  }
}
