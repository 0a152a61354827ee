// ecs-deploy-fargate: render, register (only what changed), run a one-off task if asked, update or
// create each service, follow our deployment to its end, roll back when ECS did not.
import {
  CreateServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type CreateServiceCommandInput,
  type Service,
  type ServiceEvent,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import {
  ActionError,
  createAwsClient,
  group,
  info,
  resolveRegion,
  setOutputs,
  type RunContext,
} from '@aws-containers/core';
import { diffTaskDefinitions, isSameDefinition } from './diff.js';
import { followDeployment, type FollowOutcome, type FollowStats } from './follow.js';
import { getInputs, type Inputs } from './inputs.js';
import {
  renderTaskDefinition,
  resolveLoadBalancers,
  taskDefinitionFromDocument,
  type RenderedTaskDefinition,
} from './render.js';
import { oneOffVerdict, runOneOffTask } from './run-task.js';
import { buildSummary, type ServiceResult } from './summary.js';
import { ACTION } from './version.js';

/** What the service runs now, or that it must be created. */
interface Target {
  name: string;
  current: Service | undefined;
}

async function describeTargets(
  ecs: ECSClient,
  inputs: Inputs,
  region: string,
  signal: AbortSignal,
): Promise<Target[]> {
  const found: Service[] = [];
  // DescribeServices takes up to 10 services a call.
  for (let i = 0; i < inputs.services.length; i += 10) {
    const page = await ecs
      .send(
        new DescribeServicesCommand({ cluster: inputs.cluster, services: inputs.services.slice(i, i + 10) }),
        { abortSignal: signal },
      )
      .catch((err: unknown) => {
        if (err instanceof Error && err.name === 'ClusterNotFoundException') {
          throw new ActionError(`The cluster ${inputs.cluster} does not exist in ${region}`, {
            hint: 'Check cluster, and region (or AWS_REGION): ECS clusters are regional',
            cause: err,
          });
        }
        throw err;
      });
    found.push(...(page.services ?? []));
  }
  const targets = inputs.services.map((name) => {
    const service = found.find((s) => s.serviceName === name || s.serviceArn === name);
    return { name, current: service && service.status === 'ACTIVE' ? service : undefined };
  });
  const missing = targets.filter((t) => !t.current).map((t) => t.name);
  if (missing.length > 0 && !inputs.createService) {
    throw new ActionError(
      `The service${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist in the cluster ${inputs.cluster}`,
      { hint: 'Create it, or set create-service: true with subnets (and security-groups)' },
    );
  }
  return targets;
}

async function describeTaskDefinition(
  ecs: ECSClient,
  reference: string,
  signal: AbortSignal,
): Promise<{ taskDefinition: TaskDefinition; tags: { key?: string; value?: string }[] }> {
  const described = await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: reference, include: ['TAGS'] }),
    {
      abortSignal: signal,
    },
  );
  if (!described.taskDefinition) throw new ActionError(`ECS returned no task definition for ${reference}`);
  return { taskDefinition: described.taskDefinition, tags: described.tags ?? [] };
}

/** The task definition to render from: the file, a registered family or ARN, or what the service runs. */
async function baseDefinition(
  ecs: ECSClient,
  inputs: Inputs,
  targets: Target[],
  signal: AbortSignal,
): Promise<RenderedTaskDefinition> {
  const source = inputs.taskDefinition;
  if (source.kind === 'file') return source.definition;
  if (source.kind === 'registered') {
    const described = await describeTaskDefinition(ecs, source.reference, signal).catch((err: unknown) => {
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
  return taskDefinitionFromDocument(await describeTaskDefinition(ecs, running, signal));
}

/** The latest ACTIVE revision of a family, or undefined for a new family. */
async function latestRevision(
  ecs: ECSClient,
  family: string,
  signal: AbortSignal,
): Promise<TaskDefinition | undefined> {
  try {
    return (await describeTaskDefinition(ecs, family, signal)).taskDefinition;
  } catch (err) {
    if (err instanceof Error && err.name === 'ClientException') return undefined;
    throw err;
  }
}

function createServiceRequest(
  inputs: Inputs,
  name: string,
  taskDefinitionArn: string,
  rendered: RenderedTaskDefinition,
): CreateServiceCommandInput {
  const settings = inputs.createServiceSettings;
  return {
    cluster: inputs.cluster,
    serviceName: name,
    taskDefinition: taskDefinitionArn,
    desiredCount: inputs.desiredCount ?? 1,
    ...(settings.capacityProviderStrategy.length > 0
      ? { capacityProviderStrategy: settings.capacityProviderStrategy }
      : { launchType: 'FARGATE' }),
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: settings.subnets,
        ...(settings.securityGroups.length > 0 ? { securityGroups: settings.securityGroups } : {}),
        assignPublicIp: settings.assignPublicIp ? 'ENABLED' : 'DISABLED',
      },
    },
    ...(settings.loadBalancers.length > 0
      ? { loadBalancers: resolveLoadBalancers(settings.loadBalancers, rendered, inputs.containerName) }
      : {}),
    deploymentConfiguration: {
      deploymentCircuitBreaker: {
        enable: settings.circuitBreaker !== 'off',
        rollback: settings.circuitBreaker === 'rollback',
      },
      maximumPercent: 200,
      minimumHealthyPercent: 100,
    },
    enableExecuteCommand: settings.enableExecuteCommand,
    propagateTags: settings.propagateTags,
  };
}

function primaryDeploymentId(service: Service | undefined): string | undefined {
  return service?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
}

/** The rollout-state output for an outcome. */
export function rolloutStateOf(outcome: FollowOutcome['status'] | 'unchanged'): string {
  switch (outcome) {
    case 'completed':
    case 'unchanged':
      return 'COMPLETED';
    case 'failed':
      return 'FAILED';
    case 'rolled-back':
      return 'ROLLED_BACK';
    case 'timed-out':
      return 'TIMED_OUT';
    case 'cancelled':
      return 'CANCELLED';
  }
}

export async function main({ signal }: RunContext): Promise<void> {
  const inputs = getInputs();
  const region = resolveRegion(inputs.region);
  const ecs = createAwsClient(ECSClient, { region, maxAttempts: inputs.maxAttempts, action: ACTION });
  const log = (line: string) => info(line);

  // Reads only until the plan is complete: a render error leaves AWS as it was.
  const { targets, rendered, latest, previous } = await group('Render the task definition', async () => {
    const targets = await describeTargets(ecs, inputs, region, signal);
    const base = await baseDefinition(ecs, inputs, targets, signal);
    const rendered = renderTaskDefinition(base, {
      containerName: inputs.containerName,
      image: inputs.image,
      images: inputs.images,
      environment: inputs.environment,
      secrets: inputs.secrets,
      command: inputs.command,
      logConfiguration: inputs.logConfiguration,
      dockerLabels: inputs.dockerLabels,
      cpu: inputs.cpu,
      memory: inputs.memory,
      taskRoleArn: inputs.taskRoleArn,
      executionRoleArn: inputs.executionRoleArn,
      tags: inputs.tags,
      region,
      source: inputs.taskDefinition.kind === 'registered' ? 'task-definition-family' : 'task-definition',
    });
    const latest = await latestRevision(ecs, rendered.family as string, signal);
    const running = targets.find((t) => t.current?.taskDefinition)?.current?.taskDefinition;
    const previous = running
      ? (await describeTaskDefinition(ecs, running, signal)).taskDefinition
      : undefined;
    for (const t of targets) {
      log(
        `${t.name}: ${t.current ? `runs ${t.current.taskDefinition}` : 'does not exist yet: it will be created'}`,
      );
    }
    return { targets, rendered, latest, previous };
  });

  const diff = diffTaskDefinitions(previous, rendered);
  const unchanged = latest !== undefined && isSameDefinition(rendered, latest);
  info(
    diff.length > 0
      ? `Changes from ${previous?.taskDefinitionArn ?? 'nothing'}:\n${diff.map((l) => `  ${l}`).join('\n')}`
      : 'No change to the task definition',
  );

  if (inputs.dryRun) {
    info(
      `dry-run: ${unchanged ? `would reuse ${latest?.taskDefinitionArn}` : `would register a new revision of ${rendered.family}`} and deploy it to ${targets.map((t) => t.name).join(', ')}; nothing was changed`,
    );
    setOutputs({
      'task-definition-arn': unchanged ? latest?.taskDefinitionArn : undefined,
      'rolled-back': false,
    });
    await buildSummary({
      dryRun: true,
      family: rendered.family as string,
      diff,
      taskDefinitionArn: unchanged ? latest?.taskDefinitionArn : undefined,
      services: [],
      runTask: undefined,
    }).write();
    return;
  }

  const registered = await group('Register the task definition', async () => {
    if (unchanged && latest) {
      log(`${latest.taskDefinitionArn} already has this definition: nothing registered`);
      return latest;
    }
    const tags = Array.isArray(rendered.tags) && rendered.tags.length > 0 ? { tags: rendered.tags } : {};
    const answer = await ecs.send(new RegisterTaskDefinitionCommand({ ...rendered, ...tags }), {
      abortSignal: signal,
    });
    if (!answer.taskDefinition?.taskDefinitionArn) throw new ActionError('ECS registered no task definition');
    log(`registered ${answer.taskDefinition.taskDefinitionArn}`);
    return answer.taskDefinition;
  });
  const taskDefinitionArn = registered.taskDefinitionArn as string;
  setOutputs({ 'task-definition-arn': taskDefinitionArn, 'task-definition-revision': registered.revision });

  let runTask: { exitCode: number | undefined; taskArn: string | undefined } | undefined;
  if (inputs.runTaskBeforeDeploy) {
    const command = inputs.runTaskBeforeDeploy;
    runTask = await group('Run the one-off task', async () => {
      const container =
        inputs.containerName ??
        rendered.containerDefinitions.find((c) => c.essential !== false)?.name ??
        (rendered.containerDefinitions[0]?.name as string);
      const service = targets.find((t) => t.current)?.current;
      const result = await runOneOffTask(ecs, {
        cluster: inputs.cluster,
        taskDefinitionArn,
        container,
        command,
        networkConfiguration:
          service?.networkConfiguration ??
          (inputs.createServiceSettings.subnets.length > 0
            ? createServiceRequest(inputs, targets[0]?.name ?? 'run-task', taskDefinitionArn, rendered)
                .networkConfiguration
            : undefined),
        capacityProviderStrategy: service?.capacityProviderStrategy,
        timeoutMs: inputs.runTaskTimeoutMs,
        intervalMs: inputs.pollIntervalMs,
        log,
        signal,
      });
      const verdict = oneOffVerdict(result.task, container);
      setOutputs({ 'run-task-exit-code': verdict.exitCode });
      if (verdict.failure) {
        throw new ActionError(
          `run-task-before-deploy failed: ${verdict.failure}; the service was not updated`,
          {
            hint: `Task ${result.task.taskArn}: ${result.task.stoppedReason ?? 'see its logs'}`,
          },
        );
      }
      log(`the task exited 0`);
      return { exitCode: verdict.exitCode, taskArn: result.task.taskArn };
    });
  }

  let describeServicesCalls = 0;
  const results: ServiceResult[] = [];
  for (const target of targets) {
    // One failed service stops the rest: the revision is not spread further once it has failed.
    if (results.some((r) => r.rolloutState !== 'COMPLETED')) {
      results.push({
        service: target.name,
        serviceArn: target.current?.serviceArn,
        deploymentId: undefined,
        rolloutState: 'NOT_STARTED',
        rolledBack: false,
        message: `not deployed: ${results.find((r) => r.rolloutState !== 'COMPLETED')?.service} failed first`,
        events: [],
      });
      continue;
    }
    const stats: FollowStats = { describeServicesCalls: 0, events: [] };
    let inFlight: { deploymentId: string; serviceArn: string | undefined } | undefined;
    try {
      const result = await group(`Deploy ${target.name}`, () =>
        deployOne(
          ecs,
          inputs,
          target,
          taskDefinitionArn,
          rendered,
          stats,
          signal,
          (deploymentId, serviceArn) => {
            inFlight = { deploymentId, serviceArn };
          },
        ),
      );
      results.push(result);
    } catch (err) {
      // An API error while following: the outputs still say what was started, and that its end
      // is unknown.
      const states = targets.map((t, i) =>
        i < results.length
          ? results[i]
          : t === target && inFlight
            ? { ...inFlight, rolloutState: 'UNKNOWN' }
            : undefined,
      );
      setOutputs({
        'service-arn': states.map((r) => r?.serviceArn ?? '').join('\n'),
        'deployment-id': states.map((r) => r?.deploymentId ?? '').join('\n'),
        'rollout-state': states.map((r) => r?.rolloutState ?? 'NOT_STARTED').join('\n'),
        'rolled-back': results.some((r) => r.rolledBack),
      });
      throw err;
    } finally {
      describeServicesCalls += stats.describeServicesCalls;
    }
  }
  const multi = targets.length > 1;
  setOutputs({
    'service-arn': results.map((r) => r.serviceArn ?? '').join('\n'),
    'deployment-id': results.map((r) => r.deploymentId ?? '').join('\n'),
    'rollout-state': results.map((r) => r.rolloutState).join('\n'),
    'rolled-back': results.some((r) => r.rolledBack),
  });
  await buildSummary({
    dryRun: false,
    family: rendered.family as string,
    diff,
    taskDefinitionArn,
    services: results,
    runTask,
  }).write();
  info(`DescribeServices calls while following: ${describeServicesCalls}`);

  const failed = results.filter((r) => r.rolloutState !== 'COMPLETED');
  if (failed.length > 0) {
    throw new ActionError(failed.map((r) => `${multi ? `${r.service}: ` : ''}${r.message}`).join('\n'), {
      hint: failed.some((r) => r.rolledBack)
        ? 'The service runs its previous task definition again'
        : 'Look at the stopped tasks and service events above',
    });
  }
  if (inputs.keepRevisions !== undefined) {
    await group('Deregister old revisions', () =>
      deregisterOld(
        ecs,
        rendered.family as string,
        inputs.keepRevisions as number,
        [taskDefinitionArn],
        signal,
      ),
    );
  }
}

async function deployOne(
  ecs: ECSClient,
  inputs: Inputs,
  target: Target,
  taskDefinitionArn: string,
  rendered: RenderedTaskDefinition,
  stats: FollowStats,
  signal: AbortSignal,
  onDeployed: (deploymentId: string, serviceArn: string | undefined) => void,
): Promise<ServiceResult> {
  const log = (line: string) => info(line);
  const previousTaskDefinition = target.current?.taskDefinition;
  const alreadyThere =
    target.current !== undefined &&
    previousTaskDefinition === taskDefinitionArn &&
    !inputs.forceNewDeployment &&
    (inputs.desiredCount === undefined || inputs.desiredCount === target.current.desiredCount) &&
    target.current.deployments?.length === 1 &&
    target.current.deployments[0]?.rolloutState !== 'FAILED';
  if (alreadyThere) {
    log(`${target.name} already runs ${taskDefinitionArn}: no new deployment`);
    return {
      service: target.name,
      serviceArn: target.current?.serviceArn,
      deploymentId: primaryDeploymentId(target.current),
      rolloutState: rolloutStateOf('unchanged'),
      rolledBack: false,
      message: 'already running this revision',
      events: [],
    };
  }
  const deployed = target.current
    ? (
        await ecs.send(
          new UpdateServiceCommand({
            cluster: inputs.cluster,
            service: target.name,
            taskDefinition: taskDefinitionArn,
            ...(inputs.desiredCount !== undefined ? { desiredCount: inputs.desiredCount } : {}),
            forceNewDeployment: inputs.forceNewDeployment,
          }),
          { abortSignal: signal },
        )
      ).service
    : (
        await ecs.send(
          new CreateServiceCommand(createServiceRequest(inputs, target.name, taskDefinitionArn, rendered)),
          { abortSignal: signal },
        )
      ).service;
  const deploymentId = primaryDeploymentId(deployed);
  if (!deploymentId) throw new ActionError(`ECS started no deployment for ${target.name}`);
  onDeployed(deploymentId, deployed?.serviceArn);
  // An UpdateService that changes neither the task definition nor anything else a deployment is
  // made of (desired-count alone) starts none: the PRIMARY scales, and stays COMPLETED meanwhile.
  const started = deploymentId !== primaryDeploymentId(target.current);
  // Events before our deployment began are history, not news (ECS's clock, not the runner's).
  const since = deployed?.deployments?.find((d) => d.id === deploymentId)?.createdAt ?? new Date(0);
  log(
    `${target.current ? 'updated' : 'created'} ${target.name}: ${started ? 'deployment' : 'no new deployment, following'} ${deploymentId}`,
  );

  // Events listed before our change, and those already printed (the rollback's follow sees them again).
  const eventIds = (events: readonly ServiceEvent[]) => events.flatMap((e) => (e.id ? [e.id] : []));
  const follow = (id: string, previous: string | undefined, settledOnly: boolean) =>
    followDeployment(
      ecs,
      {
        cluster: inputs.cluster,
        service: target.name,
        deploymentId: id,
        maxFailedTasks: inputs.maxFailedTasks,
        previousTaskDefinition: previous,
        intervalMs: inputs.pollIntervalMs,
        timeoutMs: inputs.timeoutMs,
        since,
        knownEventIds: [...eventIds(target.current?.events ?? []), ...eventIds(stats.events)],
        settledOnly,
        log,
        signal,
      },
      stats,
    );
  const outcome = await follow(deploymentId, previousTaskDefinition, !started);
  const base = { service: target.name, serviceArn: deployed?.serviceArn, deploymentId, events: stats.events };
  if (outcome.status === 'completed') {
    log(outcome.decision.reason);
    return { ...base, rolloutState: 'COMPLETED', rolledBack: false, message: outcome.decision.reason };
  }
  const why =
    outcome.status === 'timed-out'
      ? `Deployment ${deploymentId} did not finish within ${Math.round(inputs.timeoutMs / 1000)} s. Last state: ${outcome.decision?.reason ?? 'unknown'}`
      : outcome.status === 'cancelled'
        ? `Following deployment ${deploymentId} was cancelled`
        : (outcome.decision?.reason ?? 'failed');
  // Said here, in the timeline; the step's one error annotation, at the end, repeats it.
  log(why);
  if (outcome.status === 'rolled-back') {
    return { ...base, rolloutState: 'ROLLED_BACK', rolledBack: true, message: why };
  }
  if (outcome.status === 'cancelled' || !inputs.rollbackOnFailure || !previousTaskDefinition) {
    return { ...base, rolloutState: rolloutStateOf(outcome.status), rolledBack: false, message: why };
  }
  // Failed tasks with the breaker's rollback on: ECS owns the rollback and is about to do it. A
  // second rollback of ours would race it and replace the old, healthy tasks.
  const breaker = (outcome.service ?? deployed)?.deploymentConfiguration?.deploymentCircuitBreaker;
  if (outcome.status === 'failed' && breaker?.enable && breaker.rollback) {
    return {
      ...base,
      rolloutState: 'FAILED',
      rolledBack: false,
      message: `${why}
The deployment circuit breaker rolls the service back to ${previousTaskDefinition}.`,
    };
  }
  // The breaker was off or the timeout hit: put the previous task definition back ourselves.
  log(`rolling back ${target.name} to ${previousTaskDefinition}`);
  const back = await ecs.send(
    new UpdateServiceCommand({
      cluster: inputs.cluster,
      service: target.name,
      taskDefinition: previousTaskDefinition,
      forceNewDeployment: true,
    }),
    { abortSignal: signal },
  );
  const backId = primaryDeploymentId(back.service);
  const rollback = backId ? await follow(backId, taskDefinitionArn, false) : undefined;
  const rolledBack = rollback?.status === 'completed';
  return {
    ...base,
    rolloutState: rolloutStateOf(outcome.status),
    rolledBack,
    message: `${why}\n${rolledBack ? `Rolled back to ${previousTaskDefinition} (deployment ${backId}).` : `The rollback to ${previousTaskDefinition} did not complete: ${rollback?.decision?.reason ?? 'no deployment'}.`}`,
  };
}

/** Keeps the newest `keep` ACTIVE revisions of the family (and any in `inUse`), deregisters the rest. */
async function deregisterOld(
  ecs: ECSClient,
  family: string,
  keep: number,
  inUse: string[],
  signal: AbortSignal,
): Promise<void> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(
      new ListTaskDefinitionsCommand({
        familyPrefix: family,
        status: 'ACTIVE',
        sort: 'DESC',
        ...(nextToken ? { nextToken } : {}),
      }),
      { abortSignal: signal },
    );
    arns.push(
      ...(page.taskDefinitionArns ?? []).filter((arn) => arn.includes(`:task-definition/${family}:`)),
    );
    nextToken = page.nextToken;
  } while (nextToken);
  for (const arn of arns.slice(keep).filter((a) => !inUse.includes(a))) {
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }), { abortSignal: signal });
    info(`deregistered ${arn}`);
  }
}
