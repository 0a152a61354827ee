// ecs-deploy-fargate: read and plan, register (only what changed), run a one-off task if asked,
// deploy each service and follow it, roll back. The outputs and the job summary say what was
// observed, on every exit path.
import * as core from '@actions/core';
import { ECSClient, type CreateServiceCommandInput } from '@aws-sdk/client-ecs';
import {
  ActionError,
  FailureReported,
  InputErrors,
  createAwsClient,
  fence,
  formatError,
  group,
  logApiCalls,
  info,
  maskSecret,
  reportPreflight,
  resolveRegion,
  setOutputs,
  type RunContext,
} from '@aws-containers/core';
import { newFollowStats } from './follow.js';
import { preflight } from './preflight-run.js';
import { taskLogReader } from './task-logs.js';
import { runPreview, type PreviewReport } from './preview-main.js';
import { getInputs, type Inputs } from './inputs.js';
import { revisionName } from './plan.js';
import { resolveLoadBalancers, type RenderedTaskDefinition } from './render.js';
import { oneOffVerdict, runOneOffTask, type OneOffTask } from './run-task.js';
import {
  deployService,
  deregisterOld,
  planDeploy,
  registerRevision,
  ServiceNotChanged,
  type DeployPlan,
  type DeployTarget,
  type PlanRequest,
  type ServiceDeployRequest,
  type ServiceResult,
  type StageContext,
} from './stages.js';
import { buildSummary, emptyReport, type DeployReport } from './summary.js';
import { ACTION } from './version.js';

export async function main({ signal }: RunContext): Promise<void> {
  const report = emptyReport();
  const preview: PreviewReport = {
    state: undefined,
    url: undefined,
    service: undefined,
    teardown: [],
    github: undefined,
    skipped: undefined,
  };
  let previewMode: 'deploy' | 'teardown' | 'sweep' | undefined;
  try {
    const inputs = getInputs();
    maskSecret(inputs.preview?.githubToken);
    if (inputs.preview) {
      previewMode = inputs.preview.mode;
      await runPreview(inputs, report, preview, signal, deploy);
    } else await deploy(inputs, report, signal);
  } catch (err) {
    if (err instanceof InputErrors) report.inputErrors = err.errors.map((e) => e.message);
    else if (!(err instanceof FailureReported)) report.stoppedBy = formatError(err);
    throw err;
  } finally {
    writeOutputs(report);
    if (previewMode) {
      writePreviewOutputs(preview);
      report.preview = { ...preview, mode: previewMode };
    }
    logApiCalls();
    await buildSummary(report).apiCalls().write();
  }
}

/** preview-url, preview-state and (for a teardown) the removed parts: what the step saw. */
function writePreviewOutputs(preview: PreviewReport): void {
  setOutputs({ 'preview-url': preview.url, 'preview-state': preview.state });
}

/**
 * Plan, register, run the one-off task, deploy and follow each service, deregister: everything
 * after the inputs, filling in `report` as each part is known. A failed rollout throws
 * FailureReported once every service's end is known. The one-step root action calls this too.
 */
export async function deploy(inputs: Inputs, report: DeployReport, signal: AbortSignal): Promise<void> {
  const region = resolveRegion(inputs.region);
  report.dryRun = inputs.dryRun;
  const ecs = createAwsClient(ECSClient, { region, maxAttempts: inputs.maxAttempts, action: ACTION });
  const ctx: StageContext = { ecs, log: info, onFailure: (message) => core.error(fence(message)), signal };

  // Reads only until the plan is complete: a render error leaves AWS as it was.
  const plan = await group('Render the task definition', () => planDeploy(ctx, planRequest(inputs, region)));
  if (inputs.preflight !== 'off') {
    const findings = await group('Preflight', () => preflight(plan.rendered, region, inputs, signal));
    report.preflight = { mode: inputs.preflight, findings };
    reportPreflight(inputs.preflight, findings);
  }
  report.family = plan.family;
  report.diff = plan.diff;
  report.diffBase = plan.diffBase ? revisionName(plan.diffBase) : undefined;
  info(
    plan.diff.length > 0
      ? `Changes from ${plan.diffBase?.taskDefinitionArn ?? 'nothing'}:\n${plan.diff.map((l) => `  ${l}`).join('\n')}`
      : `No change to the task definition: it equals ${plan.diffBase?.taskDefinitionArn ?? 'the one deployed'}`,
  );
  if (inputs.dryRun) {
    report.taskDefinitionArn = plan.reuse?.taskDefinitionArn;
    report.registered = plan.reuse ? false : undefined;
    info(
      `dry-run: ${plan.reuse ? `would reuse ${plan.reuseReason}` : `would register a new revision of ${plan.family}`} and deploy it to ${plan.targets.map((t) => t.name).join(', ')}; nothing was changed`,
    );
    return;
  }

  const registered = await group('Register the task definition', () => registerRevision(ctx, plan));
  ctx.taskLogs = taskLogReader(plan.rendered, region, inputs.maxAttempts);
  const taskDefinitionArn = registered.taskDefinition.taskDefinitionArn as string;
  report.taskDefinitionArn = taskDefinitionArn;
  report.registered = registered.registered;

  const command = inputs.runTaskBeforeDeploy;
  if (command) {
    await group('Run the one-off task', () =>
      runOneOff(
        ctx,
        oneOffRequest(inputs, plan, taskDefinitionArn, command),
        (ran) => (report.runTask = ran),
      ),
    );
  }

  await deployServices(
    ctx,
    plan.targets.map((target) => serviceRequest(inputs, plan, target, taskDefinitionArn)),
    report,
  );
  const failed = report.services.filter((r) => r.rolloutState !== 'COMPLETED');
  if (failed.length > 0) {
    // Each failure was annotated when it was decidable; this closing line says how it all ended.
    throw new FailureReported(failed.map(closingLine).join('\n'));
  }
  if (inputs.keepRevisions !== undefined) {
    const keep = inputs.keepRevisions;
    await group('Deregister old revisions', () => deregisterOld(ctx, plan.family, keep, [taskDefinitionArn]));
  }
}

/**
 * Deploys each service in turn, recording each result in the report as it is known. One failed
 * service stops the rest: the revision is not spread further once it has failed.
 */
async function deployServices(
  ctx: StageContext,
  requests: ServiceDeployRequest[],
  report: DeployReport,
): Promise<void> {
  for (const request of requests) {
    const failedFirst = report.services.find((r) => r.rolloutState !== 'COMPLETED');
    if (failedFirst) {
      report.services.push(notStarted(request.target, `not deployed: ${failedFirst.service} failed first`));
      continue;
    }
    const stats = newFollowStats();
    // Until the stage returns, the service's state is unknown: an error escaping it says so.
    const entry: ServiceResult = {
      ...notStarted(request.target, 'the step ended before this service was deployed'),
      rolloutState: 'UNKNOWN',
      rollbackState: 'UNKNOWN',
    };
    report.services.push(entry);
    try {
      const result = await group(`Deploy ${request.target.name}`, () =>
        deployService(ctx, request, stats, (deploymentId, serviceArn) => {
          entry.deploymentId = deploymentId;
          entry.serviceArn = serviceArn;
          entry.message = `the step ended while deployment ${deploymentId} was in progress; its end is unknown`;
        }),
      );
      report.services[report.services.indexOf(entry)] = result;
    } catch (err) {
      // ECS refused the change: nothing started, the service is as it was.
      if (err instanceof ServiceNotChanged) {
        Object.assign(entry, { rolloutState: 'NOT_STARTED', rollbackState: 'NONE', message: err.message });
      }
      throw err;
    } finally {
      report.calls.total += stats.calls;
      report.calls.describeServices += stats.describeServicesCalls;
      report.calls.retried += stats.retries;
      entry.events = stats.events;
    }
  }
  info(
    `ECS calls while following: ${report.calls.total} (DescribeServices ${report.calls.describeServices})`,
  );
}

/** The one-off task, run to its end; a non-zero exit fails the step before any service moves. */
async function runOneOff(
  ctx: StageContext,
  request: OneOffTask,
  record: (ran: NonNullable<DeployReport['runTask']>) => void,
): Promise<void> {
  const result = await runOneOffTask(ctx.ecs, { ...request, signal: ctx.signal });
  const verdict = oneOffVerdict(result.task, request.container);
  record({ exitCode: verdict.exitCode, taskArn: result.task.taskArn });
  if (verdict.failure) {
    throw new ActionError(`run-task-before-deploy failed: ${verdict.failure}; the service was not updated`, {
      hint: `Task ${result.task.taskArn}: ${result.task.stoppedReason ?? 'see its logs'}`,
    });
  }
  ctx.log('the task exited 0');
}

function closingLine(r: ServiceResult): string {
  const note = r.rolledBack
    ? ' (the service runs its previous task definition again)'
    : r.rolloutState === 'NOT_STARTED'
      ? ` (${r.message})`
      : '';
  return `${r.service}: rollout ${r.rolloutState}, rollback ${r.rollbackState}${note}`;
}

// ---------------------------------------------------------------------------------------------
// From the inputs to the stages' typed requests

function planRequest(inputs: Inputs, region: string): PlanRequest {
  return {
    cluster: inputs.cluster,
    region,
    services: inputs.services,
    createService: inputs.createService,
    source: inputs.taskDefinition,
    changes: {
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
      source: inputs.taskDefinition.kind === 'registered' ? 'task-definition-family' : 'task-definition',
    },
  };
}

function oneOffRequest(
  inputs: Inputs,
  plan: DeployPlan,
  taskDefinitionArn: string,
  command: string[],
): OneOffTask {
  const containers = plan.rendered.containerDefinitions;
  const container =
    inputs.containerName ??
    containers.find((c) => c.essential !== false)?.name ??
    (containers[0]?.name as string);
  // The network of the (first) existing service, else that of the service to be created.
  const service = plan.targets.find((t) => t.current)?.current;
  const created =
    inputs.createServiceSettings.subnets.length > 0
      ? createServiceRequest(inputs, plan.targets[0]?.name ?? 'run-task', taskDefinitionArn, plan.rendered)
      : undefined;
  return {
    cluster: inputs.cluster,
    taskDefinitionArn,
    container,
    command,
    networkConfiguration: service?.networkConfiguration ?? created?.networkConfiguration,
    capacityProviderStrategy: service?.capacityProviderStrategy,
    timeoutMs: inputs.runTaskTimeoutMs,
    intervalMs: inputs.pollIntervalMs,
    log: info,
  };
}

function serviceRequest(
  inputs: Inputs,
  plan: DeployPlan,
  target: DeployTarget,
  taskDefinitionArn: string,
): ServiceDeployRequest {
  return {
    cluster: inputs.cluster,
    target,
    taskDefinitionArn,
    create: target.current
      ? undefined
      : createServiceRequest(inputs, target.name, taskDefinitionArn, plan.rendered),
    desiredCount: inputs.desiredCount,
    forceNewDeployment: inputs.forceNewDeployment,
    maxFailedTasks: inputs.maxFailedTasks,
    intervalMs: inputs.pollIntervalMs,
    timeoutMs: inputs.timeoutMs,
    rollbackOnFailure: inputs.rollbackOnFailure,
    waitForRollback: inputs.waitForRollback,
    label: plan.targets.length > 1 ? `${target.name}: ` : '',
  };
}

function notStarted(target: DeployTarget, message: string): ServiceResult {
  return {
    service: target.name,
    serviceArn: target.current?.serviceArn,
    deploymentId: undefined,
    rolloutState: 'NOT_STARTED',
    rollbackState: 'NONE',
    rolledBack: false,
    message,
    events: [],
  };
}

/** Every output from what the report observed; nothing is set for what was not reached. */
export function writeOutputs(report: DeployReport): void {
  if (report.inputErrors) return;
  const services = report.services;
  const lines = (pick: (r: ServiceResult) => string | undefined) =>
    services.length > 0 ? services.map((r) => pick(r) ?? '').join('\n') : undefined;
  setOutputs({
    'task-definition-arn': report.taskDefinitionArn,
    'task-definition-revision': report.taskDefinitionArn?.split(':').at(-1),
    'service-arn': lines((r) => r.serviceArn),
    'deployment-id': lines((r) => r.deploymentId),
    'rollout-state': lines((r) => r.rolloutState),
    'rollback-state': lines((r) => r.rollbackState),
    'rolled-back': services.some((r) => r.rolledBack),
    'run-task-exit-code': report.runTask?.exitCode,
  });
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
    ...(settings.serviceTags && settings.serviceTags.size > 0
      ? { tags: [...settings.serviceTags].map(([key, value]) => ({ key, value })) }
      : {}),
  };
}
