// The stages of ecr-push, each a function of typed values (clients, the plan, a log function, the
// AbortSignal) that returns a typed result: read the source, log in, ensure the repository, find
// existing tags, push (daemonless, docker or promote), scan gate. None reads an input or talks to
// the runner: main() does that around them, and the one-step root action calls them as they are.
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  GetAuthorizationTokenCommand,
  type AuthorizationData,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import {
  GetAuthorizationTokenCommand as PublicAuthorizationTokenCommand,
  type ECRPUBLICClient,
} from '@aws-sdk/client-ecr-public';
import {
  ActionError,
  InputError,
  MANIFEST_MEDIA_TYPES,
  RegistryClient,
  RegistryError,
  cut,
  formatError,
  maskSecret,
  pushImage,
  readDockerArchive,
  readOciLayout,
  withoutCommands,
  type ImageSource as RegistryImage,
  type PushResult,
} from '@aws-containers/core';
import type { DockerCli } from './docker.js';
import type { LoginRegistry, RepositorySettings, Severity } from './inputs.js';
import type { PlannedSource } from './plan.js';
import { immutableTagError, promoteImage } from './promote.js';
import { ensureRepository, type EnsuredRepository } from './repository.js';
import { formatCounts, gate, waitForScan, type ScanReport } from './scan.js';
import { ACTION } from './version.js';

const USER_AGENT = `aws-containers-${ACTION.name}/${ACTION.version}`;
/** ECR Public's API is served from us-east-1 only, whatever region the step works in. */
export const ECR_PUBLIC_REGION = 'us-east-1';
export const ECR_PUBLIC_HOST = 'public.ecr.aws';
/** How often the scan gate asks for the findings. */
export const SCAN_INTERVAL_MS = 5_000;

/** What every stage is given besides its own values. */
export interface StageContext {
  /**
   * Prints one line to the step's log. Lines may carry outside text (AWS and registry messages,
   * docker output, scan findings): the function given must make it inert (core's info does).
   */
  log(line: string): void;
  /** A warning annotation. */
  warn(text: string): void;
  /** Aborts on cancellation: every call and command of the stage stops with it. */
  signal: AbortSignal;
}

// ---- read the source --------------------------------------------------------------------------

/** The image source, opened before any AWS call so that a broken one changes nothing. */
export type OpenedSource =
  | {
      kind: 'oci-layout' | 'docker-archive';
      /** The resolved path, as read. */
      path: string;
      image: RegistryImage;
    }
  | Extract<PlannedSource, { kind: 'context' | 'image' | 'promote-from' }>;

/**
 * Reads an OCI layout or a docker archive (its manifests, and for an archive its gzipped layers),
 * or checks that the local engine holds `image`. Close what it returns with closeSource.
 */
export async function readSource(
  source: PlannedSource,
  docker: DockerCli | undefined,
): Promise<OpenedSource> {
  switch (source.kind) {
    case 'oci-layout':
    case 'docker-archive': {
      try {
        const image =
          source.kind === 'oci-layout'
            ? await readOciLayout(source.path, source.ref ? { ref: source.ref } : {})
            : await readDockerArchive(source.path);
        return { kind: source.kind, path: source.path, image };
      } catch (err) {
        if (!(err instanceof ActionError)) throw err;
        // The reader's message names the path; the input is named so the user knows which to fix.
        const hint = err.hint ? `${err.message}. ${err.hint}` : err.message;
        throw new InputError(source.kind, `a readable ${source.kind}`, undefined, hint);
      }
    }
    case 'image':
      if (docker && !(await docker.imageExists(source.image))) {
        throw new InputError(
          'image',
          'an image in the local docker engine',
          source.image,
          'docker image inspect finds no such image: build or pull it in an earlier step',
        );
      }
      return source;
    default:
      return source;
  }
}

export async function closeSource(source: OpenedSource | undefined): Promise<void> {
  // A docker archive's layers are gzipped into temporary files: they go with the step.
  if (source?.kind === 'oci-layout' || source?.kind === 'docker-archive') await source.image.close();
}

// ---- login --------------------------------------------------------------------------------------

export interface RegistryLogin {
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

async function ecrToken(
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

async function ecrPublicToken(client: ECRPUBLICClient, signal: AbortSignal): Promise<RegistryLogin> {
  const token = await client.send(new PublicAuthorizationTokenCommand({}), { abortSignal: signal });
  const data = token.authorizationData;
  if (!data) throw new ActionError('ECR Public returned no authorization data');
  return decodeAuthorization({ ...data, proxyEndpoint: `https://${ECR_PUBLIC_HOST}` });
}

export interface EcrClients {
  /** The client of the step's region. */
  ecr: ECRClient;
  /** A client for another region (a login registry elsewhere). */
  ecrIn(region: string): ECRClient;
  /** ECR Public's, in us-east-1. */
  ecrPublic(): ECRPUBLICClient;
}

export type DockerLogin =
  | {
      cli: DockerCli;
      /** The logins stay after the job (skip-logout): said in the log. */
      keep: boolean;
      /** Called after each docker login, so a later failure still logs out of it (post step). */
      onLoggedIn(host: string): void;
    }
  /** Docker is not logged in, and why ("docker-login: false"). */
  | { skipped: string };

export interface LoginOptions {
  /** The account of the registry pushed to; undefined: the caller's. */
  registryId: string | undefined;
  region: string;
  /** More registries for docker (base images from other accounts, regions, ECR Public). */
  loginRegistries: readonly LoginRegistry[];
  docker: DockerLogin;
}

export interface LoginResult {
  registry: RegistryLogin;
  /** The hosts docker was logged in to, the step's registry first. */
  dockerHosts: string[];
  /** Why docker was not logged in, when it was not. */
  dockerSkipped: string | undefined;
}

/** What the log and the summary say about a login. */
export function describeLogin(
  result: Pick<LoginResult, 'registry' | 'dockerHosts' | 'dockerSkipped'>,
): string {
  return result.dockerSkipped !== undefined
    ? `Got an ECR token for ${result.registry.host}, used by this step only; docker was not logged in (${result.dockerSkipped})`
    : `Got an ECR token for ${result.registry.host}; docker logged in to ${result.dockerHosts.join(', ')}`;
}

/** Gets an ECR token for the registry, and logs docker in to it and the login registries. */
export async function login(
  clients: EcrClients,
  options: LoginOptions,
  ctx: StageContext,
): Promise<LoginResult> {
  const registry = await ecrToken(
    clients.ecr,
    options.registryId ? [options.registryId] : undefined,
    ctx.signal,
  );
  const docker = options.docker;
  if ('skipped' in docker) {
    if (options.loginRegistries.length > 0) {
      ctx.warn(
        `login-registries: docker is not logged in (${docker.skipped}), so no token was fetched for them`,
      );
    }
    const result = { registry, dockerHosts: [], dockerSkipped: docker.skipped };
    ctx.log(describeLogin(result));
    return result;
  }
  const logins = [registry];
  // One GetAuthorizationToken per registry per step: a login registry that is the step's own (or
  // listed twice) uses the token already fetched.
  // (AWS's registry hosts name their account and region: <account>.dkr.ecr.<region>.amazonaws.com.)
  const asked = new Set<string>();
  for (const extra of options.loginRegistries) {
    const region = extra.type === 'public' ? 'us-east-1' : (extra.region ?? options.region);
    const key = extra.type === 'public' ? ECR_PUBLIC_HOST : `${extra.accountId}.dkr.ecr.${region}.`;
    if (asked.has(key) || registry.host.startsWith(key)) continue;
    asked.add(key);
    if (extra.type === 'public') {
      logins.push(await ecrPublicToken(clients.ecrPublic(), ctx.signal));
    } else {
      const client = region !== options.region ? clients.ecrIn(region) : clients.ecr;
      logins.push(await ecrToken(client, [extra.accountId], ctx.signal));
    }
  }
  const dockerHosts: string[] = [];
  for (const r of logins) {
    await docker.cli.login(r.host, r.username, r.password);
    dockerHosts.push(r.host);
    docker.onLoggedIn(r.host);
    ctx.log(`docker logged in to ${r.host}${docker.keep ? ' (kept after the job: skip-logout)' : ''}`);
  }
  return { registry, dockerHosts, dockerSkipped: undefined };
}

// ---- the repository -----------------------------------------------------------------------------

export interface RepositoryOptions {
  registryId: string | undefined;
  repository: string;
  region: string;
  create: boolean;
  update: boolean;
  settings: RepositorySettings;
}

export interface RepositoryResult extends EnsuredRepository {
  /** The registry that holds it (ECR's answer, else the one asked for). */
  registryId: string;
  repositoryUri: string;
}

/** Finds the repository, or creates it (create-repository); applies settings when asked. */
export async function ensureRepositoryStage(
  ecr: ECRClient,
  registryHost: string,
  options: RepositoryOptions,
  ctx: StageContext,
): Promise<RepositoryResult> {
  const ensured = await ensureRepository(
    ecr,
    { registryId: options.registryId, repositoryName: options.repository, region: options.region },
    { create: options.create, update: options.update, settings: options.settings, signal: ctx.signal },
  );
  const registryId = ensured.repository.registryId ?? options.registryId;
  if (!registryId) throw new ActionError(`ECR did not say which registry holds ${options.repository}`);
  const repositoryUri = ensured.repository.repositoryUri ?? `${registryHost}/${options.repository}`;
  ctx.log(`${repositoryUri}: ${describeRepository(ensured)}`);
  return { ...ensured, registryId, repositoryUri };
}

export function describeRepository(ensured: Pick<EnsuredRepository, 'changes'>): string {
  return ensured.changes.length > 0 ? ensured.changes.join('; ') : 'exists, left as it is';
}

// ---- skip-if-exists -----------------------------------------------------------------------------

/** The image every tag already points at, or undefined when a tag is missing (skip-if-exists). */
export async function existingImage(
  ecr: ECRClient,
  options: { registryId: string; repository: string; tags: readonly string[] },
  ctx: StageContext,
): Promise<string | undefined> {
  const got = await ecr.send(
    new BatchGetImageCommand({
      registryId: options.registryId,
      repositoryName: options.repository,
      imageIds: options.tags.map((imageTag) => ({ imageTag })),
      acceptedMediaTypes: [...MANIFEST_MEDIA_TYPES],
    }),
    { abortSignal: ctx.signal },
  );
  const found = (got.images ?? []).map((i) => i.imageId?.imageTag).filter((t): t is string => !!t);
  const digest = got.images?.[0]?.imageId?.imageDigest;
  if (found.length === options.tags.length && digest) {
    ctx.log(`Every tag already points at an image (${options.tags.join(', ')}): nothing to push`);
    return digest;
  }
  ctx.log(`Missing tags: ${options.tags.filter((t) => !found.includes(t)).join(', ')}: pushing`);
  return undefined;
}

// ---- push ---------------------------------------------------------------------------------------

export interface PushTarget {
  registry: RegistryLogin;
  registryId: string;
  repository: string;
  repositoryUri: string;
  tags: string[];
  /** OCI labels for builds. */
  labels: Record<string, string>;
  /** Blob uploads in parallel (daemonless). */
  concurrency: number;
}

export interface Pushed {
  digest: string;
  /** How the image got there, in the user's words. */
  how: string;
  sizeBytes: number | undefined;
  blobs: PushResult['blobs'] | undefined;
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

/** Pushes the source under every tag: daemonless, through docker, or by retagging in ECR. */
export async function push(
  ecr: ECRClient,
  source: OpenedSource,
  target: PushTarget,
  docker: DockerCli | undefined,
  ctx: StageContext,
): Promise<Pushed> {
  let pushed: Omit<Pushed, 'sizeBytes' | 'blobs'> & Partial<Pushed>;
  try {
    switch (source.kind) {
      case 'oci-layout':
      case 'docker-archive':
        pushed = await pushDaemonless(source, target, ctx);
        break;
      case 'promote-from':
        pushed = await promote(ecr, source, target, ctx);
        break;
      default:
        if (!docker) throw new ActionError(`The ${source.kind} input needs the docker CLI`);
        pushed = await pushWithDocker(docker, source, target);
    }
  } catch (err) {
    const tag = refusedImmutableTag(err, target.tags);
    if (tag !== undefined) {
      throw await immutableTagError(ecr, target.registryId, target.repository, tag, ctx.signal);
    }
    throw err;
  }
  ctx.log(`${target.repositoryUri}@${pushed.digest} tagged ${target.tags.join(', ')}`);
  return {
    digest: pushed.digest,
    how: pushed.how,
    sizeBytes: pushed.sizeBytes ?? (await imageSize(ecr, target, pushed.digest, ctx)),
    blobs: pushed.blobs,
  };
}

async function pushDaemonless(
  source: Extract<OpenedSource, { kind: 'oci-layout' | 'docker-archive' }>,
  target: PushTarget,
  ctx: StageContext,
): Promise<Pushed> {
  const result = await pushImage({
    registry: target.registry.endpoint,
    auth: { username: target.registry.username, password: target.registry.password },
    repository: target.repository,
    image: source.image,
    tags: target.tags,
    concurrency: target.concurrency,
    userAgent: USER_AGENT,
    signal: ctx.signal,
    onProgress: (event) => {
      if (event.type === 'blob') ctx.log(`${event.status} ${event.digest} (${event.size} bytes)`);
      // The error is the registry's answer: outside text, made inert by ctx.log.
      else if (event.type === 'retry')
        ctx.log(`retrying ${event.what} in ${event.delayMs} ms: ${event.error}`);
      else ctx.log(`manifest ${event.reference} → ${event.digest}`);
    },
  });
  const kind = source.kind === 'oci-layout' ? 'OCI layout' : 'docker archive';
  return {
    digest: result.digest,
    how: `Pushed the ${kind} ${source.path} without a docker daemon.`,
    sizeBytes: result.size,
    blobs: result.blobs,
  };
}

async function promote(
  ecr: ECRClient,
  source: Extract<OpenedSource, { kind: 'promote-from' }>,
  target: PushTarget,
  ctx: StageContext,
): Promise<Omit<Pushed, 'sizeBytes' | 'blobs'>> {
  const client = new RegistryClient({
    registry: target.registry.endpoint,
    auth: { username: target.registry.username, password: target.registry.password },
    userAgent: USER_AGENT,
  });
  try {
    const promoted = await promoteImage(ecr, {
      registryId: target.registryId,
      repositoryName: target.repository,
      source: source.reference,
      tags: target.tags,
      registry: client,
      signal: ctx.signal,
    });
    return {
      digest: promoted.digest,
      how: `Promoted ${promoted.sourceRepository}@${promoted.digest} by retagging it without pulling.`,
    };
  } finally {
    client.close();
  }
}

async function pushWithDocker(
  docker: DockerCli,
  source: Extract<OpenedSource, { kind: 'context' | 'image' }>,
  target: PushTarget,
): Promise<Omit<Pushed, 'sizeBytes' | 'blobs'>> {
  const refs = target.tags.map((tag) => `${target.repositoryUri}:${tag}`);
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
        labels: target.labels,
        tags: refs,
        push: multiPlatform,
      });
      if (multiPlatform && built.digest) {
        return {
          digest: built.digest,
          how: `Built ${source.context} for ${source.platforms.join(', ')} with buildx and pushed it.`,
        };
      }
    } else {
      for (const ref of refs) await docker.tag(source.image, ref);
    }
    let digest = '';
    for (const ref of refs) digest = (await docker.push(ref)).digest;
    const how =
      source.kind === 'context'
        ? `Built ${source.context} with docker and pushed it.`
        : `Pushed the local image ${source.image}.`;
    return { digest, how };
  });
}

/** The pushed image's size, for the summary; unknown (not a failure) when ECR does not say. */
async function imageSize(
  ecr: ECRClient,
  target: PushTarget,
  digest: string,
  ctx: StageContext,
): Promise<number | undefined> {
  try {
    const found = await ecr.send(
      new DescribeImagesCommand({
        registryId: target.registryId,
        repositoryName: target.repository,
        imageIds: [{ imageDigest: digest }],
      }),
      { abortSignal: ctx.signal },
    );
    return found.imageDetails?.[0]?.imageSizeInBytes;
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    ctx.log(`The image size is unknown: ${formatError(err).split('\n')[0]}`);
    return undefined;
  }
}

// ---- scan gate ----------------------------------------------------------------------------------

export interface ScanGateOptions {
  registryId: string;
  repository: string;
  digest: string;
  timeoutMs: number;
  /** Fail at or above this severity; NONE only reports. */
  failOn: Severity | 'NONE';
  intervalMs?: number;
}

export interface ScanGateResult {
  report: ScanReport;
  failOn: Severity | 'NONE';
  failed: boolean;
  /** Findings at or above failOn. */
  atOrAbove: number;
}

/** One line of a finding for the log and errors: severity, name, package (all scanner text). */
export function describeFinding(f: ScanReport['findings'][number]): string {
  return `${f.severity} ${oneLine(f.name)}${f.packageName ? ` (${oneLine(f.packageName)})` : ''}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*(?:\r\n|\r|\n)\s*/g, ' ');
}

/** Waits for the scan within timeoutMs, logs the findings, and decides the gate (never throws for it). */
export async function scanGate(
  ecr: ECRClient,
  options: ScanGateOptions,
  ctx: StageContext,
): Promise<ScanGateResult> {
  const report = await waitForScan(
    ecr,
    { registryId: options.registryId, repositoryName: options.repository, imageDigest: options.digest },
    {
      timeoutMs: options.timeoutMs,
      intervalMs: options.intervalMs ?? SCAN_INTERVAL_MS,
      signal: ctx.signal,
      onProgress: (status) => ctx.log(`scan ${status}`),
      onRetry: (error, delayMs) =>
        ctx.log(`retrying DescribeImageScanFindings in ${Math.round(delayMs / 1000)} s: ${error}`),
    },
  );
  ctx.log(`Findings: ${formatCounts(report.counts)}`);
  for (const f of report.findings.slice(0, 10)) {
    const description = f.description ? `: ${cut(oneLine(f.description).trim(), 120)}` : '';
    ctx.log(`  ${describeFinding(f)}${description}`);
  }
  return { report, failOn: options.failOn, ...gate(report.counts, options.failOn) };
}

/** The error of a failed gate: how many findings, the top ones, and that the image stays pushed. */
export function scanGateError(result: ScanGateResult, imageUri: string): ActionError {
  const top = result.report.findings.slice(0, 5).map(describeFinding).join('; ');
  return new ActionError(
    `The scan found ${result.atOrAbove} finding(s) at or above ${result.failOn} in ${imageUri}: ${top}`,
    {
      hint: `The image is pushed and tagged; fix the findings, or raise fail-on-severity (${formatCounts(result.report.counts)})`,
    },
  );
}
