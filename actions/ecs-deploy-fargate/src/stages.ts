// The stages of a Fargate deploy, each a function of typed values: read what ECS holds and plan,
// register (or reuse) the revision, run a one-off task, deploy each service (create, update or
// follow what is in flight), roll back, deregister old revisions. Nothing here reads an action
// input: main() and the one-step root action call these with values they parsed.
import {
  CreateServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type CreateServiceCommandInput,
  type Deployment,
  type ECSClient,
  type Service,
  type ServiceEvent,
  type Task,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { ActionError, formatError } from '@aws-containers/core';
import { diffTaskDefinitions } from './diff.js';
import { followDeployment, type FollowOutcome, type FollowStats, type RolloutTimeline } from './follow.js';
import type { TaskDefinitionSource } from './inputs.js';
import { planRevision, planService, revisionName } from './plan.js';
import {
  renderTaskDefinition,
  taskDefinitionFromDocument,
  type RenderedTaskDefinition,
  type TaskDefinitionChanges,
} from './render.js';
import { describeProgress } from './rollout.js';

/** What every stage is given besides its own values. */
export interface StageContext {
  ecs: ECSClient;
  /** One line of the step's log (printed fenced: ECS text is outside text). */
  log: (line: string) => void;
  /** A failure, the moment it is decidable: main() makes it the step's ::error:: annotation. */
  onFailure: (message: string) => void;
  /** Aborts on cancellation; passed to every call. */
  signal: AbortSignal;
  /** The last log lines of a failed task's crashed containers (see task-logs.ts). */
  taskLogs?: (task: Task, signal?: AbortSignal) => Promise<string[]>;
}

/** A service to deploy to, as DescribeServices showed it before anything changed. */
export interface DeployTarget {
  name: string;
  /** Undefined: it does not exist (or is not ACTIVE) and is to be created. */
  current: Service | undefined;
}

// ---------------------------------------------------------------------------------------------
// Read and plan

export interface PlanRequest {
  cluster: string;
  region: string;
  services: readonly string[];
  createService: boolean;
  source: TaskDefinitionSource;
  changes: TaskDefinitionChanges;
}

export interface DeployPlan {
  targets: DeployTarget[];
  rendered: RenderedTaskDefinition;
  family: string;
  /** An ACTIVE revision identical to the rendered one, deployed as it is. */
  reuse: TaskDefinition | undefined;
  reuseReason: string | undefined;
  /** The revision the diff compares against (what the service runs, else the family's latest). */
  diffBase: TaskDefinition | undefined;
  /** Member by member, for the log and the summary; values of outside documents included. */
  diff: string[];
}

/** Reads the services and task definitions, renders, and decides; changes nothing. */
export async function planDeploy(ctx: StageContext, request: PlanRequest): Promise<DeployPlan> {
  const targets = await describeTargets(ctx, request);
  // The revision a service runs is both the base to render from and what the plan compares with:
  // asked for once.
  const asked = new Map<string, ReturnType<typeof describeTaskDefinition>>();
  const describe: DescribeTaskDefinition = (reference) => {
    let answer = asked.get(reference);
    if (!answer) asked.set(reference, (answer = describeTaskDefinition(ctx, reference)));
    return answer;
  };
  const base = await baseDefinition(describe, request.source, targets);
  const rendered = renderTaskDefinition(base, { ...request.changes, region: request.region });
  const family = rendered.family as string;
  const latest = await latestRevision(describe, family);
  const runningArn = targets.find((t) => t.current?.taskDefinition)?.current?.taskDefinition;
  const running = runningArn ? (await describe(runningArn)).taskDefinition : undefined;
  const revision = planRevision(rendered, running, latest);
  for (const t of targets) {
    ctx.log(
      `${t.name}: ${t.current ? `runs ${revisionName(t.current.taskDefinition)}` : 'does not exist yet: it will be created'}`,
    );
  }
  return {
    targets,
    rendered,
    family,
    ...revision,
    diff: diffTaskDefinitions(revision.diffBase, rendered),
  };
}

async function describeTargets(ctx: StageContext, request: PlanRequest): Promise<DeployTarget[]> {
  const found: Service[] = [];
  // DescribeServices takes up to 10 services a call.
  for (let i = 0; i < request.services.length; i += 10) {
    const page = await ctx.ecs
      .send(
        new DescribeServicesCommand({
          cluster: request.cluster,
          services: request.services.slice(i, i + 10),
        }),
        { abortSignal: ctx.signal },
      )
      .catch((err: unknown) => {
        if (err instanceof Error && err.name === 'ClusterNotFoundException') {
          throw new ActionError(`The cluster ${request.cluster} does not exist in ${request.region}`, {
            hint: 'Check cluster, and region (or AWS_REGION): ECS clusters are regional',
            cause: err,
          });
        }
        throw err;
      });
    found.push(...(page.services ?? []));
  }
  const targets = request.services.map((name) => {
    const service = found.find((s) => s.serviceName === name || s.serviceArn === name);
    return { name, current: service && service.status === 'ACTIVE' ? service : undefined };
  });
  const missing = targets.filter((t) => !t.current).map((t) => t.name);
  if (missing.length > 0 && !request.createService) {
    throw new ActionError(
      `The service${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist in the cluster ${request.cluster}`,
      { hint: 'Create it, or set create-service: true with subnets (and security-groups)' },
    );
  }
  return targets;
}

type DescribeTaskDefinition = (reference: string) => ReturnType<typeof describeTaskDefinition>;

async function describeTaskDefinition(
  ctx: StageContext,
  reference: string,
): Promise<{ taskDefinition: TaskDefinition; tags: { key?: string; value?: string }[] }> {
  const described = await ctx.ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: reference, include: ['TAGS'] }),
    { abortSignal: ctx.signal },
  );
  if (!described.taskDefinition) throw new ActionError(`ECS returned no task definition for ${reference}`);
  return { taskDefinition: described.taskDefinition, tags: described.tags ?? [] };
}

/** The task definition to render from: the file, a registered family or ARN, or what the service runs. */
async function baseDefinition(
  describe: DescribeTaskDefinition,
  source: TaskDefinitionSource,
  targets: DeployTarget[],
): Promise<RenderedTaskDefinition> {
  if (source.kind === 'file') return source.definition;
  if (source.kind === 'registered') {
    const described = await describe(source.reference).catch((err: unknown) => {
      if (err instanceof Error && err.name === 'ClientException') {
        throw new ActionError(
          `task-definition-family: ECS has no task definition ${source.reference} (${err.message})`,
          {
            hint: 'Give a registered family (its latest ACTIVE revision), family:revision, or a task definition ARN of this account and region',
            cause: err,
          },
        );
      }
      throw err;
    });
    return taskDefinitionFromDocument(described);
  }
  const running = targets.find((t) => t.current?.taskDefinition)?.current?.taskDefinition;
  if (!running) {
    throw new ActionError('There is no task definition to start from: the service does not exist yet', {
      hint: 'Give task-definition (a file) or task-definition-family',
    });
  }
  return taskDefinitionFromDocument(await describe(running));
}

/** The latest ACTIVE revision of a family, or undefined for a new family. */
async function latestRevision(
  describe: DescribeTaskDefinition,
  family: string,
): Promise<TaskDefinition | undefined> {
  try {
    return (await describe(family)).taskDefinition;
  } catch (err) {
    if (err instanceof Error && err.name === 'ClientException') return undefined;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Register

export interface Registered {
  taskDefinition: TaskDefinition;
  /** False when an identical ACTIVE revision was reused. */
  registered: boolean;
}

export async function registerRevision(ctx: StageContext, plan: DeployPlan): Promise<Registered> {
  if (plan.reuse) {
    ctx.log(`${plan.reuseReason} already has this definition: nothing registered`);
    return { taskDefinition: plan.reuse, registered: false };
  }
  const { rendered } = plan;
  const tags = Array.isArray(rendered.tags) && rendered.tags.length > 0 ? { tags: rendered.tags } : {};
  const answer = await ctx.ecs.send(new RegisterTaskDefinitionCommand({ ...rendered, ...tags }), {
    abortSignal: ctx.signal,
  });
  if (!answer.taskDefinition?.taskDefinitionArn) throw new ActionError('ECS registered no task definition');
  ctx.log(`registered ${answer.taskDefinition.taskDefinitionArn}`);
  return { taskDefinition: answer.taskDefinition, registered: true };
}

// ---------------------------------------------------------------------------------------------
// Deploy one service, follow it, roll back

/** rollout-state: how our deployment (or the one in flight we followed) ended, as observed. */
export type RolloutOutcome =
  'COMPLETED' | 'FAILED' | 'ROLLED_BACK' | 'TIMED_OUT' | 'CANCELLED' | 'UNKNOWN' | 'NOT_STARTED';

/** rollback-state: how the rollback that followed a failure ended, as observed. */
export type RollbackOutcome =
  'NONE' | 'COMPLETED' | 'FAILED' | 'IN_PROGRESS' | 'TIMED_OUT' | 'CANCELLED' | 'UNKNOWN';

export interface ServiceResult {
  service: string;
  serviceArn: string | undefined;
  /** The deployment this step started, or the one in flight it followed. */
  deploymentId: string | undefined;
  rolloutState: RolloutOutcome;
  rollbackState: RollbackOutcome;
  /** True only when the service was observed back on the previous revision, its rollout COMPLETED. */
  rolledBack: boolean;
  /** What happened, for a person. */
  message: string;
  /** The service events seen while following, oldest first. */
  events: ServiceEvent[];
  /** What each check saw (deployments and task counts over time): the summary draws it. */
  timeline?: RolloutTimeline;
  /** True when the service already ran the revision, settled, and was left alone. */
  unchanged?: boolean;
}

export interface ServiceDeployRequest {
  cluster: string;
  target: DeployTarget;
  taskDefinitionArn: string;
  /** The CreateService request, for a target that does not exist. */
  create: CreateServiceCommandInput | undefined;
  desiredCount: number | undefined;
  forceNewDeployment: boolean;
  maxFailedTasks: number;
  intervalMs: number;
  /** Bounds following the rollout; a rollback is then followed for up to as long again. */
  timeoutMs: number;
  rollbackOnFailure: boolean;
  waitForRollback: boolean;
  /** Prefixed to failure messages when several services are deployed (`web: `), else empty. */
  label: string;
}

/**
 * Creates or updates the service (or follows the deployment already in flight on this revision),
 * follows it to its end, reports a failure the moment it is decidable (ctx.onFailure), then
 * follows the rollback, ECS's or ours. `onStarted` hears of the deployment as soon as it exists,
 * so a step that ends on an error still names it.
 */
export async function deployService(
  ctx: StageContext,
  request: ServiceDeployRequest,
  stats: FollowStats,
  onStarted: (deploymentId: string, serviceArn: string | undefined) => void,
): Promise<ServiceResult> {
  const { target, taskDefinitionArn } = request;
  const current = target.current;
  const action = planService(current, taskDefinitionArn, request);
  const result = (fields: Omit<ServiceResult, 'service' | 'events'>): ServiceResult => ({
    service: target.name,
    events: stats.events,
    timeline: stats.timeline,
    ...fields,
  });
  const primaryOf = (service: Service | undefined) =>
    service?.deployments?.find((d) => d.status === 'PRIMARY');

  if (action.kind === 'unchanged') {
    const message = `${target.name} already runs ${revisionName(taskDefinitionArn)}, every task running: nothing to do`;
    ctx.log(message);
    return result({
      serviceArn: current?.serviceArn,
      deploymentId: primaryOf(current)?.id,
      rolloutState: 'COMPLETED',
      rollbackState: 'NONE',
      rolledBack: false,
      message,
      unchanged: true,
    });
  }

  let deploymentId: string;
  let serviceArn = current?.serviceArn;
  let previous: string | undefined;
  let since: Date;
  let settledOnly: boolean;
  let followingInFlight = false;
  if (action.kind === 'follow') {
    deploymentId = action.deployment.id ?? '';
    previous = action.previousTaskDefinition;
    since = action.deployment.createdAt ?? new Date(0);
    // A deployment whose rollout already says COMPLETED is believed only once its tasks settle.
    settledOnly = action.deployment.rolloutState === 'COMPLETED';
    followingInFlight = true;
    ctx.log(
      `${target.name}: ${action.why}; following deployment ${deploymentId} instead of starting another`,
    );
  } else {
    previous = primaryOf(current)?.taskDefinition ?? current?.taskDefinition;
    const deployed = await startDeployment(ctx, request, previous);
    const ours = primaryOf(deployed);
    if (!ours?.id) throw new ActionError(`ECS started no deployment for ${target.name}`);
    deploymentId = ours.id;
    serviceArn = deployed?.serviceArn ?? serviceArn;
    // An UpdateService that changes neither the task definition nor anything else a deployment is
    // made of (desired-count alone) starts none: the PRIMARY scales, and stays COMPLETED meanwhile.
    const started = deploymentId !== primaryOf(current)?.id;
    settledOnly = !started;
    since = ours.createdAt ?? new Date(0);
    ctx.log(
      `${current ? 'updated' : 'created'} ${target.name}: ${started ? 'deployment' : 'no new deployment, following'} ${deploymentId}`,
    );
  }
  onStarted(deploymentId, serviceArn);

  // Events listed before this step changed the service are history; a deployment already in
  // flight gets its events since it began (a run killed mid-follow printed them to another log).
  const knownEventIds = followingInFlight ? [] : (current?.events ?? []).flatMap((e) => (e.id ? [e.id] : []));
  const outcome = await followDeployment(
    ctx.ecs,
    {
      cluster: request.cluster,
      service: target.name,
      deploymentId,
      maxFailedTasks: request.maxFailedTasks,
      previousTaskDefinition: previous,
      intervalMs: request.intervalMs,
      // A deployment this step just started has nothing to show yet; one in flight may have.
      ...(followingInFlight ? {} : { firstCheckAfterMs: request.intervalMs }),
      timeoutMs: request.timeoutMs,
      since,
      knownEventIds,
      settledOnly,
      log: ctx.log,
      ...(ctx.taskLogs && { taskLogs: ctx.taskLogs }),
      signal: ctx.signal,
    },
    stats,
  );
  const base = { serviceArn, deploymentId };

  if (outcome.status === 'completed') {
    ctx.log(outcome.decision.reason);
    return result({
      ...base,
      rolloutState: 'COMPLETED',
      rollbackState: 'NONE',
      rolledBack: false,
      message: outcome.decision.reason,
    });
  }
  if (outcome.status === 'cancelled') {
    const message = `Following deployment ${deploymentId} was cancelled: it goes on in ECS${outcome.service ? ` (last seen: ${lastSeen(outcome.service, deploymentId)})` : ''}`;
    ctx.log(message);
    return result({ ...base, rolloutState: 'CANCELLED', rollbackState: 'NONE', rolledBack: false, message });
  }

  // Failed, rolled back by ECS, or timed out: say so now, then follow the rollback.
  const why =
    outcome.status === 'timed-out'
      ? `Deployment ${deploymentId} did not finish within ${Math.round(request.timeoutMs / 1000)} s. Last state: ${outcome.decision?.reason ?? 'unknown'}` +
        (outcome.lastError !== undefined
          ? `. The last checks failed: ${formatError(outcome.lastError).split('\n')[0]}`
          : '')
      : outcome.decision.reason +
        (followingInFlight && outcome.decision.cause === 'ecs-failed'
          ? '. It had failed before this step; set force-new-deployment: true to start it again'
          : '');
  ctx.onFailure(`${request.label}${why}`);
  const rolloutState: RolloutOutcome =
    outcome.status === 'rolled-back'
      ? 'ROLLED_BACK'
      : outcome.status === 'timed-out'
        ? 'TIMED_OUT'
        : 'FAILED';
  const rollback = await rollBack(ctx, request, { deploymentId, previous, outcome }, stats);
  return result({
    ...base,
    rolloutState,
    rollbackState: rollback.state,
    rolledBack: rollback.state === 'COMPLETED',
    message: `${why}\n${rollback.message}`,
  });
}

async function startDeployment(
  ctx: StageContext,
  request: ServiceDeployRequest,
  previous: string | undefined,
): Promise<Service | undefined> {
  const { target, taskDefinitionArn } = request;
  try {
    if (target.current) {
      const answer = await ctx.ecs.send(
        new UpdateServiceCommand({
          cluster: request.cluster,
          service: target.name,
          taskDefinition: taskDefinitionArn,
          ...(request.desiredCount !== undefined ? { desiredCount: request.desiredCount } : {}),
          forceNewDeployment: request.forceNewDeployment,
        }),
        { abortSignal: ctx.signal },
      );
      return answer.service;
    }
    if (!request.create) throw new ActionError(`No settings to create ${target.name} with`);
    return (await ctx.ecs.send(new CreateServiceCommand(request.create), { abortSignal: ctx.signal }))
      .service;
  } catch (err) {
    // Say what state things are in. An error AWS answered with changed nothing: the revision
    // exists, the service did not move. Without an answer (a timeout, a reset) it may have.
    const verb = target.current ? 'Updating' : 'Creating';
    const registeredNote = `${revisionName(taskDefinitionArn)} is registered`;
    if (answeredByAws(err)) {
      const state = target.current
        ? `${target.name} still runs ${revisionName(previous)}`
        : `${target.name} was not created`;
      throw new ServiceNotChanged(
        `${verb} the service ${target.name} failed: ${state}; ${registeredNote} but not deployed`,
        err,
      );
    }
    throw new ActionError(
      `${verb} the service ${target.name} failed without an answer from ECS: it may or may not have changed; ${registeredNote}`,
      {
        cause: err,
        hint: `Look at the service ${target.name} in the ECS console before running the step again`,
      },
    );
  }
}

/** CreateService or UpdateService was refused by ECS: the service is as it was before the step. */
export class ServiceNotChanged extends ActionError {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'ServiceNotChanged';
  }
}

function answeredByAws(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500;
}

function lastSeen(service: Service, deploymentId: string): string {
  const ours = service.deployments?.find((d) => d.id === deploymentId);
  return ours ? describeProgress(ours) : `deployment ${deploymentId} no longer listed`;
}

interface Failure {
  deploymentId: string;
  /** The revision to go back to; undefined when the service had none (created by this step). */
  previous: string | undefined;
  outcome: Exclude<FollowOutcome, { status: 'completed' | 'cancelled' }>;
}

/**
 * After a failure: which rollback there is (ECS's breaker, or ours when rollback-on-failure), and
 * how it ended. Never claims more than DescribeServices shows.
 */
async function rollBack(
  ctx: StageContext,
  request: ServiceDeployRequest,
  failure: Failure,
  stats: FollowStats,
): Promise<{ state: RollbackOutcome; message: string }> {
  const { target, taskDefinitionArn } = request;
  const { outcome, previous } = failure;
  const cause = outcome.decision?.cause;
  const none = (message: string) => {
    ctx.log(message);
    return { state: 'NONE' as const, message };
  };
  if (cause === 'replaced') {
    return none('Nothing was rolled back: the deployment that replaced ours is not ours to undo.');
  }
  if (cause === 'deleted') return none('Nothing was rolled back: the service is being deleted.');
  if (previous === undefined) {
    return none(
      `Nothing to roll back to: ${target.name} had no earlier revision (it was created by this step).`,
    );
  }
  if (previous === taskDefinitionArn) {
    return none(`Nothing to roll back to: the previous revision is ${revisionName(previous)} itself.`);
  }

  // Whose rollback? ECS's breaker, when DescribeServices shows it (a new PRIMARY on the previous
  // revision); else ours. The service is read once more first, so a breaker that tripped since
  // the last poll is followed rather than duplicated. ECS's breaker watches only the PRIMARY
  // deployment: once ours has put the previous revision back, the two cannot race.
  let rollbackDeployment: Deployment | undefined;
  let owner: 'ECS' | 'this step';
  const ecsRollback = (service: Service | undefined) => {
    const primary = service?.deployments?.find((d) => d.status === 'PRIMARY');
    return primary && primary.id !== failure.deploymentId && primary.taskDefinition === previous
      ? primary
      : undefined;
  };
  if (outcome.status === 'rolled-back') {
    rollbackDeployment = outcome.decision.primary;
    owner = 'ECS';
  } else {
    // Bounded: when DescribeServices hangs (the reason a rollout timed out, perhaps), this read
    // must not hold the step for the SDK's attempts; unknown then, and the rollback goes on.
    const now = await describeService(ctx, request.cluster, target.name, stats, REREAD_MS).catch(
      () => undefined,
    );
    rollbackDeployment = ecsRollback(now);
    owner = 'ECS';
    if (!rollbackDeployment) {
      if (!request.rollbackOnFailure) {
        const state = now ? lastSeen(now, failure.deploymentId) : 'unknown';
        return none(
          `Nothing was rolled back (rollback-on-failure is false): ${target.name} is left as it is (${state}).`,
        );
      }
      owner = 'this step';
      ctx.log(`rolling back ${target.name} to ${previous}`);
      stats.calls++;
      const back = await ctx.ecs.send(
        new UpdateServiceCommand({
          cluster: request.cluster,
          service: target.name,
          taskDefinition: previous,
          forceNewDeployment: true,
        }),
        { abortSignal: ctx.signal },
      );
      rollbackDeployment = back.service?.deployments?.find((d) => d.status === 'PRIMARY');
    }
  }
  if (!rollbackDeployment?.id) return none(`No rollback deployment is listed for ${target.name}.`);
  const by = `by ${owner} (deployment ${rollbackDeployment.id})`;
  if (!request.waitForRollback) {
    const message = `The rollback to ${revisionName(previous)} ${by} is in progress; wait-for-rollback is false, so the step does not follow it.`;
    ctx.log(message);
    return { state: 'IN_PROGRESS', message };
  }
  ctx.log(`following the rollback to ${revisionName(previous)} ${by}`);
  const back = await followDeployment(
    ctx.ecs,
    {
      cluster: request.cluster,
      service: target.name,
      deploymentId: rollbackDeployment.id,
      maxFailedTasks: request.maxFailedTasks,
      previousTaskDefinition: taskDefinitionArn,
      intervalMs: request.intervalMs,
      timeoutMs: request.timeoutMs,
      since: rollbackDeployment.createdAt ?? new Date(0),
      settledOnly: true,
      log: ctx.log,
      signal: ctx.signal,
    },
    stats,
  );
  if (back.status === 'completed') {
    const message = `Rolled back to ${previous} ${by}: COMPLETED, ${back.decision.reason.replace(/^Deployment \S+ completed: /, '')}.`;
    ctx.log(message);
    return { state: 'COMPLETED', message };
  }
  const state: RollbackOutcome =
    back.status === 'timed-out' ? 'TIMED_OUT' : back.status === 'cancelled' ? 'CANCELLED' : 'FAILED';
  const seen =
    back.status === 'timed-out'
      ? `it did not finish within ${Math.round(request.timeoutMs / 1000)} s (${back.decision?.reason ?? 'no state seen'})`
      : back.status === 'cancelled'
        ? 'following it was cancelled; it goes on in ECS'
        : back.decision.reason;
  const message = `The rollback to ${previous} ${by} did not complete: ${seen}.`;
  if (back.status !== 'cancelled') ctx.onFailure(`${request.label}${message}`);
  else ctx.log(message);
  return { state, message };
}

/** How long the one read before a rollback may take. */
const REREAD_MS = 10_000;

async function describeService(
  ctx: StageContext,
  cluster: string,
  service: string,
  stats: FollowStats,
  deadlineMs: number,
): Promise<Service | undefined> {
  stats.describeServicesCalls++;
  stats.calls++;
  const described = await ctx.ecs.send(new DescribeServicesCommand({ cluster, services: [service] }), {
    abortSignal: AbortSignal.any([ctx.signal, AbortSignal.timeout(deadlineMs)]),
  });
  return described.services?.[0];
}

// ---------------------------------------------------------------------------------------------
// Deregister

/** Keeps the newest `keep` ACTIVE revisions of the family (and any in `inUse`), deregisters the rest. */
export async function deregisterOld(
  ctx: StageContext,
  family: string,
  keep: number,
  inUse: readonly string[],
): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ctx.ecs.send(
      new ListTaskDefinitionsCommand({
        familyPrefix: family,
        status: 'ACTIVE',
        sort: 'DESC',
        ...(nextToken ? { nextToken } : {}),
      }),
      { abortSignal: ctx.signal },
    );
    arns.push(
      ...(page.taskDefinitionArns ?? []).filter((arn) => arn.includes(`:task-definition/${family}:`)),
    );
    nextToken = page.nextToken;
  } while (nextToken);
  const deregistered: string[] = [];
  for (const arn of arns.slice(keep).filter((a) => !inUse.includes(a))) {
    await ctx.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }), {
      abortSignal: ctx.signal,
    });
    ctx.log(`deregistered ${arn}`);
    deregistered.push(arn);
  }
  return deregistered;
}
