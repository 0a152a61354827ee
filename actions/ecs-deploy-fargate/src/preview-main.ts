// preview: deploy | teardown | sweep — the named stages of a PR preview, around the ordinary
// deploy. Nothing is created before the plan is complete and max-previews is checked.
import * as core from '@actions/core';
import { DescribeServicesCommand, ECSClient, ListServicesCommand } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  createAwsClient,
  getGitHubContext,
  group,
  info,
  resolveRegion,
  ActionError,
} from '@aws-containers/core';
import type { Inputs } from './inputs.js';
import {
  PREVIEW_TAGS,
  previewLimitProblem,
  previewNames,
  previewTags,
  sweepReason,
  type LivePreview,
  type PreviewNames,
  type PreviewState,
} from './preview.js';
import {
  albUrl,
  ensureHostRule,
  ensureTargetGroup,
  findPreviewService,
  publicIpUrl,
  readBase,
  teardownPreview,
  type PreviewClients,
  type TeardownLine,
} from './preview-stages.js';
import {
  announcePreview,
  pullRequestStates,
  type GitHubWrites,
  type PreviewAnnouncement,
} from './preview-github.js';
import { taskDefinitionFromDocument } from './render.js';
import type { DeployReport } from './summary.js';
import { ACTION } from './version.js';

export interface PreviewReport {
  state: PreviewState | undefined;
  url: string | undefined;
  service: string | undefined;
  teardown: TeardownLine[];
  github: GitHubWrites | undefined;
  /** Why nothing was done (a fork's pull request). */
  skipped: string | undefined;
}

export type DeployFunction = (inputs: Inputs, report: DeployReport, signal: AbortSignal) => Promise<void>;

/** The live previews of this base service in the cluster: its services that carry the preview tag. */
async function livePreviews(c: PreviewClients, cluster: string, base: string): Promise<LivePreview[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await c.ecs.send(new ListServicesCommand({ cluster, nextToken }), { abortSignal: c.signal });
    names.push(
      ...(page.serviceArns ?? [])
        .map((arn) => arn.split('/').pop()!)
        .filter((n) => n.startsWith(`${base}-pr-`)),
    );
    nextToken = page.nextToken;
  } while (nextToken);
  const live: LivePreview[] = [];
  for (let i = 0; i < names.length; i += 10) {
    const described = await c.ecs.send(
      new DescribeServicesCommand({ cluster, services: names.slice(i, i + 10), include: ['TAGS'] }),
      { abortSignal: c.signal },
    );
    for (const s of described.services ?? []) {
      const tags = Object.fromEntries((s.tags ?? []).map((t) => [t.key ?? '', t.value ?? '']));
      if (s.status === 'ACTIVE' && tags[PREVIEW_TAGS.preview] === 'true')
        live.push({ service: s.serviceName!, tags });
    }
  }
  return live;
}

export async function runPreview(
  inputs: Inputs,
  report: DeployReport,
  previewReport: PreviewReport,
  signal: AbortSignal,
  deploy: DeployFunction,
): Promise<void> {
  const p = inputs.preview!;
  const region = resolveRegion(inputs.region);
  const c: PreviewClients = {
    ecs: createAwsClient(ECSClient, { region, maxAttempts: inputs.maxAttempts, action: ACTION }),
    elbv2: createAwsClient(ElasticLoadBalancingV2Client, {
      region,
      maxAttempts: inputs.maxAttempts,
      action: ACTION,
    }),
    ec2: createAwsClient(EC2Client, { region, maxAttempts: inputs.maxAttempts, action: ACTION }),
    signal,
    log: info,
  };
  const github = getGitHubContext();
  const tellGitHub = async (announcement: PreviewAnnouncement) => {
    if (!p.githubToken) {
      info('github-token is empty: no PR comment or deployment is written');
      return;
    }
    const token = p.githubToken;
    previewReport.github = await group(`Tell pull request #${announcement.prNumber}`, () =>
      announcePreview(token, announcement, signal),
    );
  };
  const tearDown = async (prNumber: number, why: string) => {
    const names = previewNames(inputs.cluster, p.baseService, prNumber, p.domain);
    await group(`Tear down ${names.service} (${why})`, async () => {
      const from = previewReport.teardown.length;
      try {
        await teardownPreview(
          c,
          inputs.cluster,
          names,
          p.listenerArn,
          inputs.timeoutMs,
          previewReport.teardown,
        );
      } finally {
        for (const l of previewReport.teardown.slice(from)) info(`${l.what}: ${l.state}`);
      }
    });
    await tellGitHub({
      service: names.service,
      prNumber,
      url: undefined,
      commit: undefined,
      status: `torn down (${why})`,
      expiresAt: undefined,
      deploymentState: 'inactive',
    });
  };

  if (p.mode === 'sweep') {
    // Previews of this repository only: another repository's previews of the same base are its own.
    const live = (await livePreviews(c, inputs.cluster, p.baseService)).filter(
      (l) => github.repository === undefined || l.tags[PREVIEW_TAGS.repository] === github.repository,
    );
    const numbers = live.map((l) => Number(l.tags[PREVIEW_TAGS.pr])).filter(Number.isInteger);
    const states = await pullRequestStates(p.githubToken, numbers, signal);
    const now = new Date();
    let swept = 0;
    for (const preview of live) {
      const pr = Number(preview.tags[PREVIEW_TAGS.pr]);
      const why = sweepReason(preview, now, states.get(pr) ?? 'unknown');
      if (!why || !Number.isInteger(pr)) {
        info(`${preview.service}: kept (expires ${preview.tags[PREVIEW_TAGS.expiresAt] ?? 'never'})`);
        continue;
      }
      await tearDown(pr, why);
      swept++;
    }
    info(`sweep: ${swept} of ${live.length} previews torn down`);
    previewReport.state = swept > 0 ? 'DELETED' : 'SKIPPED';
    return;
  }

  const prNumber = p.prNumber!;
  const names = previewNames(inputs.cluster, p.baseService, prNumber, p.domain);
  previewReport.service = names.service;

  if (p.mode === 'teardown') {
    await tearDown(prNumber, 'the pull request is closed');
    previewReport.state = previewReport.teardown.some((l) => l.state === 'removed') ? 'DELETED' : 'SKIPPED';
    return;
  }

  if (github.prFromFork === true) {
    // A fork's pull_request run has no secrets and a read-only token: nothing could be done right.
    previewReport.state = 'SKIPPED';
    previewReport.skipped = `pull request #${prNumber} comes from a fork: previews are not deployed for forks (their runs get no secrets and a read-only token)`;
    core.notice(previewReport.skipped);
    return;
  }
  await deployPreview({ inputs, report, previewReport, signal, deploy, c, names, prNumber, tellGitHub });
}

/** deploy: read the base and the live previews, check the limit, route, then the ordinary deploy. */
async function deployPreview(s: {
  inputs: Inputs;
  report: DeployReport;
  previewReport: PreviewReport;
  signal: AbortSignal;
  deploy: DeployFunction;
  c: PreviewClients;
  names: PreviewNames;
  prNumber: number;
  tellGitHub: (announcement: PreviewAnnouncement) => Promise<void>;
}): Promise<void> {
  const { inputs, report, previewReport, signal, deploy, c, names, prNumber } = s;
  const p = inputs.preview!;
  const github = getGitHubContext();
  const commit = github.prHeadSha ?? github.sha;
  const tellGitHub = (announcement: Omit<PreviewAnnouncement, 'service' | 'prNumber' | 'commit'>) =>
    s.tellGitHub({ ...announcement, service: names.service, prNumber, commit });
  // deploy: read everything, check the limit, then create.
  const { base, existing } = await group(`Read the base service ${p.baseService}`, async () => {
    const base = await readBase(c, inputs.cluster, p.baseService);
    const existing = await findPreviewService(c, inputs.cluster, names.service);
    if (existing?.status === 'DRAINING') {
      throw new ActionError(`The preview service ${names.service} is still being deleted (DRAINING).`, {
        hint: 'Run the deploy again once the teardown has finished (ECS keeps a deleted service DRAINING until its tasks stop).',
      });
    }
    if (!existing) {
      const problem = previewLimitProblem(
        await livePreviews(c, inputs.cluster, p.baseService),
        names.service,
        p.maxPreviews,
      );
      if (problem) throw new ActionError(problem);
    }
    return { base, existing };
  });
  const existingTags = Object.fromEntries((existing?.tags ?? []).map((t) => [t.key ?? '', t.value ?? '']));
  const createdAt = existingTags[PREVIEW_TAGS.createdAt]
    ? new Date(existingTags[PREVIEW_TAGS.createdAt]!)
    : new Date();
  const tags = previewTags({
    repository: github.repository ?? 'unknown',
    prNumber,
    commit,
    createdAt,
    ttlMs: p.ttlMs,
  });

  let loadBalancers: Inputs['createServiceSettings']['loadBalancers'] = [];
  if (p.routing === 'alb') {
    const routed = await group(`Route ${names.host}`, async () => {
      const tg = await ensureTargetGroup(c, names, base, tags);
      const { rule, created, tries } = await ensureHostRule(
        c,
        p.listenerArn!,
        names,
        tg.TargetGroupArn!,
        tags,
      );
      info(
        `${created ? 'created' : 'kept'} rule ${names.host} at priority ${rule.Priority}${tries > 1 ? ` (after ${tries} tries)` : ''} → ${names.targetGroup}`,
      );
      return tg;
    });
    loadBalancers = [
      {
        targetGroupArn: routed.TargetGroupArn!,
        containerName: base.container?.name,
        containerPort: base.container?.port,
      },
    ];
  }

  const network = base.service.networkConfiguration?.awsvpcConfiguration;
  const stableTags = new Map([
    [PREVIEW_TAGS.preview, 'true'],
    [PREVIEW_TAGS.repository, tags[PREVIEW_TAGS.repository]!],
    [PREVIEW_TAGS.pr, String(prNumber)],
  ]);
  const definition = taskDefinitionFromDocument({
    ...base.taskDefinition,
    family: names.family,
    tags: undefined,
  });
  const previewInputs: Inputs = {
    ...inputs,
    services: [names.service],
    createService: true,
    taskDefinition: { kind: 'file', path: undefined, definition },
    tags: new Map([...inputs.tags, ...stableTags]),
    createServiceSettings: {
      ...inputs.createServiceSettings,
      subnets: network?.subnets ?? [],
      securityGroups: network?.securityGroups ?? [],
      assignPublicIp: p.routing === 'public-ip' || network?.assignPublicIp === 'ENABLED',
      capacityProviderStrategy: (base.service.capacityProviderStrategy ?? []).map((s) => ({
        capacityProvider: s.capacityProvider as 'FARGATE' | 'FARGATE_SPOT',
        weight: s.weight ?? 0,
        base: s.base ?? 0,
      })),
      loadBalancers,
      serviceTags: new Map(Object.entries(tags)),
    },
    preview: undefined,
  };
  try {
    await deploy(previewInputs, report, signal);
  } catch (error) {
    if (signal.aborted) throw error;
    const result = report.services[0];
    await tellGitHub({
      url: undefined,
      status: `failed: ${result ? `rollout ${result.rolloutState}, rollback ${result.rollbackState}` : 'see the run'}`,
      expiresAt: tags[PREVIEW_TAGS.expiresAt],
      deploymentState: 'failure',
    });
    throw error;
  }
  const result = report.services[0];
  previewReport.state = !existing
    ? 'CREATED'
    : result?.unchanged && report.registered === false
      ? 'SKIPPED'
      : 'UPDATED';
  previewReport.url =
    p.routing === 'alb'
      ? await albUrl(c, p.listenerArn!, names.host!)
      : p.routing === 'public-ip'
        ? await publicIpUrl(c, inputs.cluster, names.service, base.container?.port)
        : undefined;
  if (previewReport.url) info(`preview: ${previewReport.url}`);
  await tellGitHub({
    url: previewReport.url,
    status: 'ready',
    expiresAt: tags[PREVIEW_TAGS.expiresAt],
    deploymentState: 'success',
  });
}
