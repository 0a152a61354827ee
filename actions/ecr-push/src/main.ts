// ecr-push: validate everything, log in, make sure of the repository, push (or promote), scan.
import * as core from '@actions/core';
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  type AuthorizationData,
} from '@aws-sdk/client-ecr';
import {
  ECRPUBLICClient,
  GetAuthorizationTokenCommand as PublicAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr-public';
import {
  ActionError,
  MANIFEST_MEDIA_TYPES,
  RegistryClient,
  RegistryError,
  createAwsClient,
  getGitHubContext,
  group,
  info,
  maskSecret,
  pushImage,
  readDockerArchive,
  readOciLayout,
  resolveRegion,
  setOutputs,
  withoutCommands,
  type PushResult,
  type RunContext,
} from '@aws-containers/core';
import { createDockerCli, jobDockerConfig, type DockerCli } from './docker.js';
import { getInputs, type ImageSource, type Inputs } from './inputs.js';
import { planPush, type PushPlan } from './plan.js';
import { ensureRepository } from './repository.js';
import { immutableTagError, promoteImage } from './promote.js';
import { formatCounts, gate, waitForScan, type ScanReport } from './scan.js';
import { buildSummary } from './summary.js';
import { ACTION } from './version.js';

const STATE_LOGINS = 'dockerLogins';
const STATE_DOCKER_CONFIG = 'dockerConfig';
const SCAN_INTERVAL_MS = 5_000;
const USER_AGENT = `aws-containers-${ACTION.name}/${ACTION.version}`;

interface RegistryLogin {
  host: string;
  /** https://host, as GetAuthorizationToken gives it. */
  endpoint: string;
  username: string;
  password: string;
}

/** Decodes one authorization entry; the password is masked before anything can print it. */
export function decodeAuthorization(data: AuthorizationData): RegistryLogin {
  const decoded = Buffer.from(data.authorizationToken ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  maskSecret(password);
  maskSecret(data.authorizationToken);
  const endpoint = data.proxyEndpoint ?? '';
  if (colon < 0 || !endpoint)
    throw new ActionError('ECR returned an authorization token without a user or endpoint');
  return { host: new URL(endpoint).host, endpoint, username, password };
}

async function login(
  ecr: ECRClient,
  registryIds: string[] | undefined,
  signal: AbortSignal,
): Promise<RegistryLogin> {
  const token = await ecr.send(new GetAuthorizationTokenCommand(registryIds ? { registryIds } : {}), {
    abortSignal: signal,
  });
  const data = token.authorizationData?.[0];
  if (!data) throw new ActionError('ECR returned no authorization data');
  return decodeAuthorization(data);
}

/** ECR Public's API is served from us-east-1 only, whatever region the step works in. */
export const ECR_PUBLIC_REGION = 'us-east-1';
export const ECR_PUBLIC_HOST = 'public.ecr.aws';

async function loginPublic(maxAttempts: number, signal: AbortSignal): Promise<RegistryLogin> {
  const client = createAwsClient(ECRPUBLICClient, { region: ECR_PUBLIC_REGION, maxAttempts, action: ACTION });
  const token = await client.send(new PublicAuthorizationTokenCommand({}), { abortSignal: signal });
  const data = token.authorizationData;
  if (!data) throw new ActionError('ECR Public returned no authorization data');
  return decodeAuthorization({ ...data, proxyEndpoint: `https://${ECR_PUBLIC_HOST}` });
}

/** The tags that already point at an image, and that image's digest (for skip-if-exists). */
async function existingTags(
  ecr: ECRClient,
  registryId: string,
  repositoryName: string,
  tags: string[],
  signal: AbortSignal,
): Promise<{ found: string[]; digest: string | undefined }> {
  const got = await ecr.send(
    new BatchGetImageCommand({
      registryId,
      repositoryName,
      imageIds: tags.map((imageTag) => ({ imageTag })),
      acceptedMediaTypes: [...MANIFEST_MEDIA_TYPES],
    }),
    { abortSignal: signal },
  );
  const found = (got.images ?? []).map((i) => i.imageId?.imageTag).filter((t): t is string => !!t);
  return { found, digest: got.images?.[0]?.imageId?.imageDigest };
}

async function imageSize(
  ecr: ECRClient,
  registryId: string,
  repositoryName: string,
  digest: string,
  signal: AbortSignal,
): Promise<number | undefined> {
  const found = await ecr.send(
    new DescribeImagesCommand({ registryId, repositoryName, imageIds: [{ imageDigest: digest }] }),
    { abortSignal: signal },
  );
  return found.imageDetails?.[0]?.imageSizeInBytes;
}

/**
 * The tag of an immutable-tag refusal, from our registry client (ECR's TAG_INVALID) or from the
 * text docker relays ("tag invalid: The image tag 'v1' already exists … immutable"); else undefined.
 */
export function refusedImmutableTag(err: unknown, tags: readonly string[]): string | undefined {
  if (err instanceof RegistryError) {
    if (err.code !== 'TAG_INVALID' || !/immutable/i.test(err.message)) return undefined;
    return tags.find((t) => err.message.includes(`'${t}'`)) ?? tags[0];
  }
  if (err instanceof ActionError) {
    return /tag invalid: The image tag '([^']+)' already exists[^\n]*immutable/i.exec(err.message)?.[1];
  }
  return undefined;
}

interface Pushed {
  digest: string;
  how: string;
  result?: PushResult;
}

async function pushDaemonless(
  inputs: Inputs,
  source: Extract<ImageSource, { kind: 'oci-layout' | 'docker-archive' }>,
  plan: PushPlan,
  registry: RegistryLogin,
  signal: AbortSignal,
): Promise<Pushed> {
  const image =
    source.kind === 'oci-layout'
      ? await readOciLayout(source.path, source.ref ? { ref: source.ref } : {})
      : await readDockerArchive(source.path);
  try {
    const result = await pushImage({
      registry: registry.endpoint,
      auth: { username: registry.username, password: registry.password },
      repository: inputs.repository,
      image,
      tags: plan.tags,
      concurrency: inputs.pushConcurrency,
      userAgent: USER_AGENT,
      signal,
      onProgress: (event) => {
        if (event.type === 'blob') info(`${event.status} ${event.digest} (${event.size} bytes)`);
        else if (event.type === 'retry')
          info(`retrying ${event.what} in ${event.delayMs} ms: ${event.error}`);
        else info(`manifest ${event.reference} → ${event.digest}`);
      },
    });
    const kind = source.kind === 'oci-layout' ? 'OCI layout' : 'docker archive';
    return {
      digest: result.digest,
      how: `Pushed the ${kind} ${source.path} without a docker daemon.`,
      result,
    };
  } finally {
    // A docker archive's layers are gzipped into temporary files: they go with the step.
    await image.close();
  }
}

async function pushWithDocker(
  docker: DockerCli,
  inputs: Inputs,
  plan: PushPlan,
  repositoryUri: string,
): Promise<Pushed> {
  const refs = plan.tags.map((tag) => `${repositoryUri}:${tag}`);
  const source = inputs.source;
  // Build and push output is not ours: no line of it may act as a workflow command.
  return withoutCommands(async () => {
    if (source.kind === 'context') {
      // Several platforms cannot be loaded into the engine: the builder pushes them itself.
      const multiPlatform = source.platforms.length > 1;
      const built = await docker.build({
        context: source.context,
        ...(source.dockerfile ? { dockerfile: source.dockerfile } : {}),
        buildArgs: source.buildArgs,
        ...(source.target ? { target: source.target } : {}),
        platforms: source.platforms,
        labels: plan.labels,
        tags: refs,
        push: multiPlatform,
      });
      if (multiPlatform && built.digest) {
        return {
          digest: built.digest,
          how: `Built ${source.context} for ${source.platforms.join(', ')} with buildx and pushed it.`,
        };
      }
    } else if (source.kind === 'image') {
      for (const ref of refs) await docker.tag(source.image, ref);
    }
    let digest = '';
    for (const ref of refs) digest = (await docker.push(ref)).digest;
    const how =
      source.kind === 'context'
        ? `Built ${source.context} with docker and pushed it.`
        : `Pushed the local image ${(source as { image: string }).image}.`;
    return { digest, how };
  });
}

export async function main({ signal }: RunContext): Promise<void> {
  // Everything the user gave is checked before the first AWS call.
  const inputs = getInputs();
  const github = getGitHubContext();
  const plan = planPush(inputs, github, new Date());
  const region = resolveRegion(inputs.region);
  const dockerConfig = jobDockerConfig(process.env);
  const docker = createDockerCli({ dockerConfig, log: (line) => info(line), signal });
  const engine = plan.needsEngine || inputs.dockerLogin !== 'false' ? await docker.probe() : undefined;
  if (plan.needsEngine && !engine?.ok) {
    throw new ActionError(
      `The ${inputs.source.kind} input needs a docker engine: ${engine && !engine.ok ? engine.reason : 'none found'}`,
      {
        hint: 'oci-layout, docker-archive and promote-from push without one',
      },
    );
  }
  if (inputs.dockerLogin === 'true' && !engine?.ok) {
    throw new ActionError(
      `docker-login: true needs the docker CLI and an engine: ${engine && !engine.ok ? engine.reason : 'none found'}`,
      {
        hint: 'Set docker-login: auto to log docker in only where it can be',
      },
    );
  }
  const loginDocker = inputs.dockerLogin !== 'false' && engine?.ok === true;

  const ecr = createAwsClient(ECRClient, { region, maxAttempts: inputs.maxAttempts, action: ACTION });

  const registry = await group('Log in to Amazon ECR', async () => {
    const main = await login(ecr, inputs.registry ? [inputs.registry] : undefined, signal);
    const others: RegistryLogin[] = [];
    if (inputs.loginRegistries.length > 0 && !loginDocker) {
      core.warning(
        `login-registries: docker is not logged in (${engine && !engine.ok ? engine.reason : `docker-login: ${inputs.dockerLogin}`}), so no token was fetched for them`,
      );
    }
    for (const extra of loginDocker ? inputs.loginRegistries : []) {
      if (extra.type === 'public') {
        others.push(await loginPublic(inputs.maxAttempts, signal));
        continue;
      }
      const client =
        extra.region && extra.region !== region
          ? createAwsClient(ECRClient, {
              region: extra.region,
              maxAttempts: inputs.maxAttempts,
              action: ACTION,
            })
          : ecr;
      others.push(await login(client, [extra.accountId], signal));
    }
    if (loginDocker) {
      core.exportVariable('DOCKER_CONFIG', dockerConfig);
      core.saveState(STATE_DOCKER_CONFIG, dockerConfig);
      const hosts: string[] = [];
      for (const r of [main, ...others]) {
        await docker.login(r.host, r.username, r.password);
        hosts.push(r.host);
        // Saved after each login, so a failure later still logs out of what was logged in to.
        if (!inputs.skipLogout) core.saveState(STATE_LOGINS, JSON.stringify(hosts));
        info(`docker logged in to ${r.host}${inputs.skipLogout ? ' (kept after the job: skip-logout)' : ''}`);
      }
    } else {
      info(
        `Logged in to ${main.host} for this step (docker-login: ${inputs.dockerLogin}${engine && !engine.ok ? `; ${engine.reason}` : ''})`,
      );
    }
    return main;
  });

  const ensured = await group('Repository', async () => {
    const result = await ensureRepository(
      ecr,
      { registryId: inputs.registry, repositoryName: inputs.repository, region },
      {
        create: inputs.createRepository,
        update: inputs.updateRepositorySettings,
        settings: inputs.repositorySettings,
        signal,
      },
    );
    info(
      `${result.repository.repositoryUri}: ${result.changes.length > 0 ? result.changes.join('; ') : 'exists, left as it is'}`,
    );
    return result;
  });
  const registryId = ensured.repository.registryId ?? inputs.registry;
  if (!registryId) throw new ActionError(`ECR did not say which registry holds ${inputs.repository}`);
  const repositoryUri = ensured.repository.repositoryUri ?? `${registry.host}/${inputs.repository}`;

  const outputs = {
    registry: registry.host,
    'repository-uri': repositoryUri,
    tags: plan.tags.join('\n'),
    ...(inputs.outputCredentials
      ? { 'docker-username': registry.username, 'docker-password': registry.password }
      : {}),
  };

  if (inputs.skipIfExists) {
    const existing = await existingTags(ecr, registryId, inputs.repository, plan.tags, signal);
    if (existing.found.length === plan.tags.length && existing.digest) {
      info(`Every tag already points at an image (${plan.tags.join(', ')}): nothing to push`);
      setOutputs({
        ...outputs,
        image: `${repositoryUri}:${plan.tags[0]}`,
        'image-uri': `${repositoryUri}@${existing.digest}`,
        digest: existing.digest,
        pushed: false,
      });
      await buildSummary({
        repositoryUri,
        tags: plan.tags,
        digest: existing.digest,
        pushed: false,
        how: '',
        sizeBytes: undefined,
        blobs: undefined,
        repositoryChanges: ensured.changes,
        scan: undefined,
        gate: undefined,
      }).write();
      return;
    }
    info(`Missing tags: ${plan.tags.filter((t) => !existing.found.includes(t)).join(', ')}: pushing`);
  }

  const pushed = await group(`Push ${inputs.source.kind}`, async (): Promise<Pushed> => {
    try {
      switch (inputs.source.kind) {
        case 'oci-layout':
        case 'docker-archive':
          return await pushDaemonless(inputs, inputs.source, plan, registry, signal);
        case 'promote-from': {
          const client = new RegistryClient({
            registry: registry.endpoint,
            auth: { username: registry.username, password: registry.password },
            userAgent: USER_AGENT,
          });
          try {
            const promoted = await promoteImage(ecr, {
              registryId,
              repositoryName: inputs.repository,
              source: inputs.source.reference,
              tags: plan.tags,
              registry: client,
              signal,
            });
            return {
              digest: promoted.digest,
              how: `Promoted ${promoted.sourceRepository}@${promoted.digest} by retagging it without pulling.`,
            };
          } finally {
            client.close();
          }
        }
        default:
          return await pushWithDocker(docker, inputs, plan, repositoryUri);
      }
    } catch (err) {
      const tag = refusedImmutableTag(err, plan.tags);
      if (tag !== undefined) throw await immutableTagError(ecr, registryId, inputs.repository, tag, signal);
      throw err;
    }
  });
  info(`${repositoryUri}@${pushed.digest} tagged ${plan.tags.join(', ')}`);

  let scan: ScanReport | undefined;
  let decision: ReturnType<typeof gate> | undefined;
  if (inputs.scan === 'wait') {
    scan = await group('Scan', async () => {
      const report = await waitForScan(
        ecr,
        { registryId, repositoryName: inputs.repository, imageDigest: pushed.digest },
        {
          timeoutMs: inputs.scanTimeoutMs,
          intervalMs: SCAN_INTERVAL_MS,
          signal,
          onProgress: (status) => info(`scan ${status}`),
        },
      );
      info(`Findings: ${formatCounts(report.counts)}`);
      for (const f of report.findings.slice(0, 10))
        info(`  ${f.severity} ${f.name}${f.packageName ? ` (${f.packageName})` : ''}`);
      return report;
    });
    decision = gate(scan.counts, inputs.failOnSeverity);
  }

  setOutputs({
    ...outputs,
    image: `${repositoryUri}:${plan.tags[0]}`,
    'image-uri': `${repositoryUri}@${pushed.digest}`,
    digest: pushed.digest,
    pushed: true,
    ...(scan ? { 'scan-findings': scan.counts } : {}),
  });
  await buildSummary({
    repositoryUri,
    tags: plan.tags,
    digest: pushed.digest,
    pushed: true,
    how: pushed.how,
    sizeBytes:
      pushed.result?.size ?? (await imageSize(ecr, registryId, inputs.repository, pushed.digest, signal)),
    blobs: pushed.result?.blobs,
    repositoryChanges: ensured.changes,
    scan,
    gate: decision ? { failOn: inputs.failOnSeverity, ...decision } : undefined,
  }).write();

  if (decision?.failed && scan) {
    const top = scan.findings
      .slice(0, 5)
      .map((f) => `${f.severity} ${f.name}${f.packageName ? ` (${f.packageName})` : ''}`)
      .join('; ');
    throw new ActionError(
      `The scan found ${decision.atOrAbove} finding(s) at or above ${inputs.failOnSeverity} in ${repositoryUri}@${pushed.digest}: ${top}`,
      {
        hint: `The image is pushed and tagged; fix the findings, or raise fail-on-severity (${formatCounts(scan.counts)})`,
      },
    );
  }
}

export async function post(): Promise<void> {
  const hosts = JSON.parse(core.getState(STATE_LOGINS) || '[]') as string[];
  const dockerConfig = core.getState(STATE_DOCKER_CONFIG);
  if (hosts.length === 0 || !dockerConfig) return;
  const docker = createDockerCli({ dockerConfig, log: (line) => info(line) });
  for (const host of hosts) {
    await docker.logout(host);
    info(`docker logged out of ${host}`);
  }
}
