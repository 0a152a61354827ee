// ecr-push: inputs → plan → (read the source, log in, ensure the repository, push, scan) → outputs,
// and a job summary of whatever was reached, written on every exit path.
import * as core from '@actions/core';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECRPUBLICClient } from '@aws-sdk/client-ecr-public';
import {
  ActionError,
  createAwsClient,
  formatError,
  getGitHubContext,
  group,
  logApiCalls,
  info,
  resolveRegion,
  setOutputs,
  type RunContext,
} from '@aws-containers/core';
import { createDockerCli, jobDockerConfig, type DockerCli, type ProbeResult } from './docker.js';
import { getInputs, type Inputs } from './inputs.js';
import { planPush, type PushPlan } from './plan.js';
import { allCounts } from './scan.js';
import {
  ECR_PUBLIC_REGION,
  closeSource,
  ensureRepositoryStage,
  existingImage,
  login,
  push,
  readSource,
  scanGate,
  scanGateError,
  type DockerLogin,
  type EcrClients,
  type OpenedSource,
  type StageContext,
} from './stages.js';
import { buildSummary, emptyReport, type PushReport } from './summary.js';
import { ACTION } from './version.js';

const STATE_LOGINS = 'dockerLogins';
const STATE_DOCKER_CONFIG = 'dockerConfig';

export async function main({ signal }: RunContext): Promise<void> {
  const report = emptyReport();
  try {
    // Everything the user gave is checked, and the source read, before the first AWS call.
    const inputs = getInputs();
    report.repository = inputs.repository;
    report.scanAsked = inputs.scan === 'wait';
    const plan = planPush(inputs, getGitHubContext(), new Date());
    await runPush(inputs, plan, report, signal);
  } catch (err) {
    report.error = formatError(signal.aborted ? signal.reason : err);
    throw err;
  } finally {
    logApiCalls();
    await buildSummary(report).apiCalls().write();
  }
}

/** The image in ECR once the step is through: pushed now, or found under every tag (skip-if-exists). */
export interface PushOutcome {
  repositoryUri: string;
  digest: string;
  pushed: boolean;
}

/**
 * Everything after the plan: read the source, log in, ensure the repository, push, scan gate.
 * Outputs are set as each is known and `report` is filled in stage by stage, so a caller's summary
 * says how far it got; errors pass through. The one-step root action calls this too.
 */
export async function runPush(
  inputs: Inputs,
  plan: PushPlan,
  report: PushReport,
  signal: AbortSignal,
): Promise<PushOutcome> {
  const ctx: StageContext = { log: info, warn: (text) => core.warning(text), signal };
  let source: OpenedSource | undefined;
  try {
    report.tags = plan.tags;
    logPlan(plan);
    const region = resolveRegion(inputs.region);
    const dockerConfig = jobDockerConfig(process.env);
    const docker = createDockerCli({ dockerConfig, log: info, signal });
    const engine = plan.needsEngine || inputs.dockerLogin !== 'false' ? await docker.probe() : undefined;
    checkEngine(inputs, plan, engine);
    source = await readSource(plan.source, engine?.ok ? docker : undefined);

    const clients = ecrClients(region, inputs.maxAttempts);
    const { ecr } = clients;

    report.stage = 'login';
    const loggedIn = await group('Log in to Amazon ECR', () =>
      login(
        clients,
        {
          registryId: inputs.registry,
          region,
          loginRegistries: inputs.loginRegistries,
          docker: dockerLogin(inputs, engine, docker, dockerConfig),
        },
        ctx,
      ),
    );
    report.login = loggedIn;
    const registry = loggedIn.registry;

    report.stage = 'repository';
    const repository = await group('Repository', () =>
      ensureRepositoryStage(
        ecr,
        registry.host,
        {
          registryId: inputs.registry,
          repository: inputs.repository,
          region,
          create: inputs.createRepository,
          update: inputs.updateRepositorySettings,
          settings: inputs.repositorySettings,
        },
        ctx,
      ),
    );
    report.ensured = repository;
    const { registryId, repositoryUri } = repository;
    setOutputs({
      registry: registry.host,
      'repository-uri': repositoryUri,
      tags: plan.tags.join('\n'),
      ...(inputs.outputCredentials
        ? { 'docker-username': registry.username, 'docker-password': registry.password }
        : {}),
    });

    report.stage = 'push';
    const existing = inputs.skipIfExists
      ? await existingImage(ecr, { registryId, repository: inputs.repository, tags: plan.tags }, ctx)
      : undefined;
    if (existing) {
      report.existing = existing;
      setOutputs({
        image: `${repositoryUri}:${plan.tags[0]}`,
        'image-uri': `${repositoryUri}@${existing}`,
        digest: existing,
        pushed: false,
      });
      return { repositoryUri, digest: existing, pushed: false };
    }
    const pushed = await group(`Push ${plan.source.kind}`, () =>
      push(
        ecr,
        source as OpenedSource,
        {
          registry,
          registryId,
          repository: inputs.repository,
          repositoryUri,
          tags: plan.tags,
          labels: plan.labels,
          concurrency: inputs.pushConcurrency,
        },
        docker,
        ctx,
      ),
    );
    report.pushed = pushed;
    // Set now: a scan that fails or times out later does not unsay what was pushed.
    setOutputs({
      image: `${repositoryUri}:${plan.tags[0]}`,
      'image-uri': `${repositoryUri}@${pushed.digest}`,
      digest: pushed.digest,
      pushed: true,
    });

    const outcome = { repositoryUri, digest: pushed.digest, pushed: true };
    if (inputs.scan !== 'wait') return outcome;
    report.stage = 'scan';
    const scan = await group('Scan', () =>
      scanGate(
        ecr,
        {
          registryId,
          repository: inputs.repository,
          digest: pushed.digest,
          timeoutMs: inputs.scanTimeoutMs,
          failOn: inputs.failOnSeverity,
        },
        ctx,
      ),
    );
    report.scan = scan;
    setOutputs({ 'scan-findings': allCounts(scan.report.counts) });
    if (scan.failed) throw scanGateError(scan, `${repositoryUri}@${pushed.digest}`);
    return outcome;
  } finally {
    await closeSource(source);
  }
}

/** The step's ECR client, and the ones login-registries may need, all with the step's retries. */
function ecrClients(region: string, maxAttempts: number): EcrClients {
  return {
    ecr: createAwsClient(ECRClient, { region, maxAttempts, action: ACTION }),
    ecrIn: (other) => createAwsClient(ECRClient, { region: other, maxAttempts, action: ACTION }),
    ecrPublic: () =>
      createAwsClient(ECRPUBLICClient, { region: ECR_PUBLIC_REGION, maxAttempts, action: ACTION }),
  };
}

/** The tags, and one line per rule that gives none in this run (and why). */
function logPlan(plan: PushPlan): void {
  info(`Tags: ${plan.tags.join(', ')}`);
  for (const skipped of plan.skippedRules)
    info(`The tag rule "${skipped.rule}" gives no tag: ${skipped.why}`);
}

/** An engine that the source or docker-login: true needs must answer, before any AWS call. */
function checkEngine(inputs: Inputs, plan: PushPlan, engine: ProbeResult | undefined): void {
  const reason = engine && !engine.ok ? engine.reason : 'none found';
  if (plan.needsEngine && !engine?.ok) {
    throw new ActionError(`The ${plan.source.kind} input needs a docker engine: ${reason}`, {
      hint: 'oci-layout, docker-archive and promote-from push without one',
    });
  }
  if (inputs.dockerLogin === 'true' && !engine?.ok) {
    throw new ActionError(`docker-login: true needs the docker CLI and an engine: ${reason}`, {
      hint: 'Set docker-login: auto to log docker in only where it can be',
    });
  }
}

/** Whether docker is logged in, and how the post step finds what to log out of. */
function dockerLogin(
  inputs: Inputs,
  engine: ProbeResult | undefined,
  docker: DockerCli,
  dockerConfig: string,
): DockerLogin {
  if (inputs.dockerLogin === 'false') return { skipped: 'docker-login: false' };
  if (!engine?.ok) return { skipped: `docker-login: auto, and ${engine?.reason ?? 'no engine was found'}` };
  core.exportVariable('DOCKER_CONFIG', dockerConfig);
  core.saveState(STATE_DOCKER_CONFIG, dockerConfig);
  const hosts: string[] = [];
  return {
    cli: docker,
    keep: inputs.skipLogout,
    onLoggedIn(host) {
      hosts.push(host);
      // Saved after each login, so a failure later still logs out of what was logged in to.
      if (!inputs.skipLogout) core.saveState(STATE_LOGINS, JSON.stringify(hosts));
    },
  };
}

export async function post(): Promise<void> {
  const hosts = JSON.parse(core.getState(STATE_LOGINS) || '[]') as string[];
  const dockerConfig = core.getState(STATE_DOCKER_CONFIG);
  if (hosts.length === 0 || !dockerConfig) return;
  const docker = createDockerCli({ dockerConfig, log: info });
  for (const host of hosts) {
    await docker.logout(host);
    info(`docker logged out of ${host}`);
  }
}
