// local-aws: a loopback emulator of the AWS APIs aws-containers calls. startLocalAws() starts the
// one server (HTTP + HTTPS on 127.0.0.1) with every service module plugged in and returns a
// handle with its URLs, credentials, clock, faults, operation log and per-service admin hooks.
// buildOciLayout() and buildImage() make the images to push to it, in code.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createEcr, type EcrAdmin } from './ecr/index.js';
import { createEcrPublic } from './ecr-public/index.js';
import { createEc2, defaultNetworkIds, type Ec2Admin } from './ec2/index.js';
import { createEcsFactory } from './ecs/index.js';
import { createEksFactory, eksAdminEndpoints, type EksAdmin } from './eks/index.js';
import { createElbv2, type Elbv2Admin } from './elbv2/index.js';
import {
  createSecretResolver,
  createSecretsManager,
  type SecretsManagerAdmin,
} from './secretsmanager/index.js';
import type { SecretResolver } from './secret-references.js';
import { createSsm, type SsmAdmin } from './ssm/index.js';
import { createLogs, type LogsAdmin } from './logs/index.js';
import { LocalClock } from './platform/clock.js';
import type { ClockMode } from './platform/clock.js';
import { FaultInjector } from './platform/faults.js';
import { AccessControl } from './platform/access.js';
import { IdentityStore } from './platform/identities.js';
import { createIam, roleDirectory, type IamAdmin } from './iam/index.js';
import type { CredentialSpec } from './platform/identities.js';
import { OpLog } from './platform/oplog.js';
import {
  ApiThrottle,
  THROTTLE_MODES,
  type ThrottleMode,
  type ThrottleSnapshot,
} from './platform/throttle.js';
import { LocalStateStore } from './platform/state.js';
import { leafCertificate, prepareTls } from './platform/tls.js';
import { RegistryHosts, type RegistryAddress } from './registry/hosts.js';
import { LocalAwsServer } from './server.js';
import type { AwsError, Identity, ServiceFactory, ServiceModule } from './service.js';
import { createSts } from './sts/index.js';

export type { ArmedFault, FaultKind, FaultSpec } from './platform/faults.js';
export type { ClockMode, ClockOptions, ClockTimer } from './platform/clock.js';
export type { CredentialSpec, IdentitySummary } from './platform/identities.js';
export type { IamCheck } from './platform/access.js';
export type {
  AuthorizationRequest,
  ContextValue,
  Decision,
  Evaluation,
  PolicyDocument,
  PolicyStatement,
} from './platform/iam-policy.js';
export {
  accessDeniedMessage,
  actionMatches,
  allowedActions,
  evaluate as evaluatePolicies,
  MalformedPolicyError,
  parsePolicy,
  resourceMatches,
} from './platform/iam-policy.js';
export type { IamAdmin } from './iam/index.js';
export type { OpLogEntry, OpLogFilter } from './platform/oplog.js';
export type { BucketState, ThrottleCategory, ThrottleMode, ThrottleSnapshot } from './platform/throttle.js';
export { ApiThrottle, AWS_THROTTLE_CATEGORIES, THROTTLE_MODES } from './platform/throttle.js';
export { LocalClock } from './platform/clock.js';
export { FaultInjector } from './platform/faults.js';
export { OpLog } from './platform/oplog.js';
export { LocalStateStore } from './platform/state.js';
export { IdentityStore } from './platform/identities.js';
export { verifyPresignedStsUrl } from './server.js';
export { AwsError } from './service.js';
export type { Identity, ServerInfo } from './service.js';
export type { EcsAdmin, EcsTimings } from './ecs/index.js';
export type { SecretsManagerAdmin } from './secretsmanager/index.js';
export type { SsmAdmin } from './ssm/index.js';
export type { SecretResolution, SecretResolver, SecretValueFrom } from './secret-references.js';
export { parseValueFrom } from './secret-references.js';
export type { LogEvent, LogGroupRef, LogsAdmin } from './logs/index.js';
export type {
  AuthenticationRefusal,
  ClusterRef,
  EksAdmin,
  EksClusterState,
  EksState,
  EksTimings,
} from './eks/index.js';
export type { Ec2Admin, Ec2Network, NetworkInterface, NetworkInterfaceSpec } from './ec2/index.js';
export type {
  Elbv2Admin,
  Elbv2Integration,
  Elbv2Timings,
  TargetGroupInfo,
  TargetHealthChange,
} from './elbv2/index.js';
export type { RegistryAddress } from './registry/hosts.js';
export {
  blobOf,
  buildImage,
  buildIndex,
  buildOciLayout,
  MEDIA_TYPES,
  sha256,
  tarHeader,
  tarOneFile,
} from './oci-image.js';
export type {
  Blob,
  BuiltImage,
  Descriptor,
  ImageFormat,
  ImageOptions,
  LayerSpec,
  LayoutImage,
  LayoutOptions,
  OciLayout,
  Platform,
} from './oci-image.js';

export const DEFAULT_ACCOUNT_ID = '000000000000';
export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

/**
 * The default network local-aws gives an account in a region (default: the default account and
 * region): its VPC, its default subnets (one per Availability Zone) and its default security
 * group. The ids are the same on every run, so a test can name them before the server starts.
 */
export function defaultNetwork(
  accountId: string = DEFAULT_ACCOUNT_ID,
  region: string = DEFAULT_REGION,
): { vpcId: string; subnetIds: string[]; securityGroupId: string } {
  return defaultNetworkIds(accountId, region);
}

/**
 * The registry an image host names: a loopback host (`127.0.0.1:<port>`, `localhost:<port>`) of
 * this server, or ECR's own form `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]` (and the
 * dual-stack `<account>.dkr-ecr.<region>.on.aws`) — a task definition or pod that names ECR as on
 * AWS pulls from the registry local-aws keeps for that account and region, and fails to pull
 * what it does not have, as on AWS.
 */
function registryAt(hosts: RegistryHosts, host: string): { accountId: string; region: string } | undefined {
  const loopback = /^(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)$/.exec(host);
  if (loopback) return hosts.at(Number(loopback[1]));
  const ecr =
    /^(\d{12})\.dkr(?:\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|-ecr(?:-fips)?\.([a-z0-9-]+)\.on\.aws)$/.exec(
      host.toLowerCase(),
    );
  if (!ecr) return undefined;
  const [, accountId = '', region = ecr[3] ?? ''] = ecr;
  return { accountId, region };
}

export interface LocalAwsOptions {
  /** HTTP port on 127.0.0.1 (default 0: ephemeral). */
  port?: number;
  /** HTTPS port on 127.0.0.1 (default 0: ephemeral). */
  httpsPort?: number;
  /** Default 000000000000. */
  accountId?: string;
  /** Default region (requests carry their own in the credential scope). Default us-east-1. */
  region?: string;
  /**
   * The keys the server accepts (default test/test). The first is the handle's `credentials`.
   * Give several for several identities; a sessionToken makes the token mandatory for that key.
   */
  credentials?: CredentialSpec | CredentialSpec[];
  /** Persist state (state.json) and blobs here and reload them at start. Default: memory only. */
  dataDir?: string;
  /**
   * Where the CA certificate lives (ca.crt, alone); its key is kept in `<caDir>-private/`. An
   * existing CA there is reused. Default <dataDir>/ca, or a temp dir.
   */
  caDir?: string;
  /** Simulated time runs this many times faster than wall time (60: a minute per second). */
  timeScale?: number;
  /** Time stands still until clock.advance() (or POST /_local-aws/clock/advance). */
  steppedClock?: boolean;
  /** Simulated start time (default now). */
  startTime?: number | Date;
  /**
   * Which time SigV4 request dates are checked against: 'real' (default; clients sign with wall
   * time) or 'simulated' (then responses also carry the simulated Date, so SDKs correct skew).
   */
  signatureClock?: 'real' | 'simulated';
  /** Where server-side failures (a handler that threw) are reported. Default: console.error. */
  logError?: (line: string) => void;
  /** More service modules to mount after the built-in ones (tests; services not yet built in). */
  modules?: ServiceFactory[];
  /**
   * Issuers whose OIDC discovery is fetched elsewhere: issuer URL → a loopback base URL serving
   * /.well-known/openid-configuration (a stand-in of GitHub's token service). Also
   * admin.iam.routeIssuer() and POST /_local-aws/iam/oidc-discovery.
   */
  oidcIssuers?: Record<string, string>;
  /**
   * 'aws': AWS's per-account, per-region API rate limits (token buckets on the simulated clock;
   * README, Throttling); a call over them is refused as AWS refuses it. Default 'off'.
   */
  throttle?: ThrottleMode;
}

/** The handle startLocalAws() returns. */
export interface LocalAws {
  /** The endpoint for SDKs and the CLI: the HTTP URL. */
  endpoint: string;
  httpUrl: string;
  httpsUrl: string;
  /**
   * host:port of the registry of the default account and region (the host of httpsUrl): what its
   * repositoryUri and GetAuthorizationToken's proxyEndpoint name.
   */
  registryHost: string;
  /**
   * host:port of another account's (and region's) registry, its listener opened if needed. Each
   * registry has its own host, as on AWS; defaults: the default account and region.
   */
  registryHostFor(accountId?: string, region?: string): Promise<string>;
  /** Every registry host opened so far, the default first. */
  registries(): RegistryAddress[];
  /** The CA certificate (PEM) that signed the HTTPS certificate. */
  caCertPath: string;
  accountId: string;
  region: string;
  /** The first accepted key (test/test by default). */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Every accepted key; add() more at run time. */
  identities: IdentityStore;
  clock: LocalClock;
  faults: FaultInjector;
  opLog: OpLog;
  state: LocalStateStore;
  /** Per-service hooks for tests. */
  admin: {
    ecr: EcrAdmin;
    ecs: ReturnType<ReturnType<typeof createEcsFactory>>['admin'];
    ec2: Ec2Admin;
    elbv2: Elbv2Admin;
    iam: IamAdmin;
    eks: EksAdmin;
    secretsmanager: SecretsManagerAdmin;
    ssm: SsmAdmin;
    /** What ECS's agent finds for a `secrets[].valueFrom` (Secrets Manager or SSM), parsed with parseValueFrom(). */
    secrets: { resolve: SecretResolver };
    logs: LogsAdmin;
    /** AWS's rate limits: whether on, every bucket used so far (refilled to now), calls refused. */
    throttle: { snapshot(): ThrottleSnapshot };
  };
  /**
   * A certificate and key for 127.0.0.1/localhost signed by this server's CA: for a loopback
   * stand-in (an OIDC issuer) that local-aws then trusts over HTTPS.
   */
  issueCertificate(): { cert: string; key: string };
  /** Verifies a presigned STS GetCallerIdentity URL (an EKS token) as STS would. */
  verifyPresignedUrl(url: string, headers?: Record<string, string>): Identity | AwsError;
  stop(): Promise<void>;
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  const region = options.region ?? DEFAULT_REGION;
  if (!/^\d{12}$/.test(accountId))
    throw new Error(`accountId must be 12 digits, got ${JSON.stringify(accountId)}`);
  const throttleMode = options.throttle ?? 'off';
  if (!THROTTLE_MODES.includes(throttleMode))
    throw new Error(
      `throttle must be one of ${THROTTLE_MODES.join(', ')}, got ${JSON.stringify(throttleMode)}`,
    );

  const specs =
    options.credentials === undefined
      ? [{ ...DEFAULT_CREDENTIALS }]
      : Array.isArray(options.credentials)
        ? options.credentials
        : [options.credentials];
  if (specs.length === 0) throw new Error('credentials: give at least one key');
  const identities = new IdentityStore(accountId);
  for (const spec of specs) identities.add(spec);
  const access = new AccessControl(identities);

  const clock = new LocalClock({
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
    ...(options.steppedClock ? { stepped: true } : {}),
    ...(options.startTime !== undefined ? { start: options.startTime } : {}),
  });
  const dataDir = options.dataDir ? resolve(options.dataDir) : undefined;
  const state = new LocalStateStore(dataDir);
  const faults = new FaultInjector();
  const opLog = new OpLog();
  const throttle = new ApiThrottle(clock, throttleMode === 'aws');

  // A temp CA lives in a folder of its own, with its private sibling (platform/tls.ts) inside.
  let tempCaDir: string | undefined;
  const caDir = options.caDir
    ? resolve(options.caDir)
    : dataDir
      ? join(dataDir, 'ca')
      : join((tempCaDir = mkdtempSync(join(tmpdir(), 'local-aws-'))), 'ca');
  const tls = prepareTls(caDir);

  const server: LocalAwsServer = new LocalAwsServer({
    accountId,
    region,
    identities,
    access,
    clock,
    state,
    faults,
    opLog,
    throttle,
    registryAt: (port) => hosts.at(port),
    tls,
    signatureClock: options.signatureClock ?? 'real',
    logError: options.logError ?? ((line) => console.error(line)),
    health: (): Record<string, unknown> => ({ registries: hosts.list() }),
    adminEndpoints: [
      {
        method: 'POST',
        path: '/_local-aws/iam/oidc-discovery',
        handle: (body) => {
          if (typeof body.issuer !== 'string' || (body.url !== undefined && typeof body.url !== 'string'))
            throw new Error(
              'give {"issuer": "https://…", "url": "http://127.0.0.1:<port>"} (no url: remove the route)',
            );
          iam.admin.routeIssuer(body.issuer, body.url as string | undefined);
          return { issuer: body.issuer, url: body.url ?? null };
        },
      },
      ...eksAdminEndpoints(() => eks.admin),
      { method: 'GET', path: '/_local-aws/throttle', handle: () => throttle.snapshot() },
    ],
  });
  const hosts: RegistryHosts = new RegistryHosts({
    state,
    open: (port: number): Promise<number> => server.openRegistryListener(port),
  });
  const credentialNow = () => server.credentialNow();
  const env = {
    clock,
    state,
    verifyPresignedUrl: (url: string, headers?: Record<string, string>) =>
      server.verifyPresignedUrl(url, headers),
    credentialNow,
  };
  const iam = createIam(env, { identities });
  access.useRoles(roleDirectory(iam.iam));
  for (const [issuer, url] of Object.entries(options.oidcIssuers ?? {})) iam.admin.routeIssuer(issuer, url);
  const ecr = createEcr({ hosts, credentialNow })(env);
  const sts = createSts({ identities, access, iam: iam.iam, credentialNow, trustedCa: [tls.caCertPem] })(env);
  const ecrPublic = createEcrPublic({ credentialNow })(env);
  const ec2 = createEc2(env);
  const elbv2 = createElbv2({ ...env, network: ec2.admin });
  const logs = createLogs(env);
  const secretsManager = createSecretsManager()(env);
  const ssm = createSsm()(env);
  const secrets = {
    resolve: createSecretResolver({ secretsmanager: secretsManager.admin, ssm: ssm.admin }),
  };
  const ecs = createEcsFactory({
    lookup: (query) => ecr.admin.resolveImage(query),
    network: ec2.admin,
    elbv2: elbv2.admin,
    registryAt: (host) => registryAt(hosts, host),
    // The agent reads secrets with the execution role and writes awslogs streams (ecs/task-init.ts).
    taskInit: { access, logs: logs.admin, secrets: secrets.resolve },
  })(env);
  // EKS's pods pull as ECS's tasks do: local-aws's registries by host, other images unless
  // admin.ecs.setUnpullable() marked them.
  const eks = createEksFactory({
    lookup: (query) => ecr.admin.resolveImage(query),
    registryAt: (host) => registryAt(hosts, host),
    unpullable: (image) => ecs.admin.snapshot().unpullable.some((p) => new RegExp(p).test(image)),
    network: ec2.admin,
    accountId,
    region,
    httpsUrl: () => server.info.httpsUrl,
  })(env);
  for (const module of [sts, iam, ecr, ecrPublic, ecs, ec2, elbv2, eks, logs] as ServiceModule[])
    server.mount(module);
  for (const module of [secretsManager, ssm] as ServiceModule[]) server.mount(module);
  for (const factory of options.modules ?? []) server.mount(factory(env));

  let info;
  try {
    info = await server.listen(options.port ?? 0, options.httpsPort ?? 0);
    const httpsPort = Number(new URL(info.httpsUrl).port);
    const httpPort = Number(new URL(info.httpUrl).port);
    hosts.setDefault(accountId, region, httpsPort, [httpPort], Boolean(options.httpsPort));
    await hosts.reopenSaved();
  } catch (error) {
    await server.close();
    clock.dispose();
    if (tempCaDir) rmSync(tempCaDir, { recursive: true, force: true });
    throw error;
  }

  const first = specs[0]!;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: info.httpUrl,
    httpUrl: info.httpUrl,
    httpsUrl: info.httpsUrl,
    registryHost: new URL(info.httpsUrl).host,
    registryHostFor: async (registryAccount = accountId, registryRegion = region) =>
      (await hosts.ensure(registryAccount, registryRegion)).host,
    registries: () => hosts.list(),
    caCertPath: info.caCertPath,
    accountId,
    region,
    credentials: {
      accessKeyId: first.accessKeyId,
      secretAccessKey: first.secretAccessKey,
      ...(first.sessionToken !== undefined ? { sessionToken: first.sessionToken } : {}),
    },
    identities,
    clock,
    faults,
    opLog,
    state,
    admin: {
      ecr: ecr.admin,
      ecs: ecs.admin,
      ec2: ec2.admin,
      elbv2: elbv2.admin,
      iam: iam.admin,
      eks: eks.admin,
      secretsmanager: secretsManager.admin,
      ssm: ssm.admin,
      secrets,
      logs: logs.admin,
      throttle: { snapshot: () => throttle.snapshot() },
    },
    issueCertificate: () => leafCertificate(tls),
    verifyPresignedUrl: (url, headers) => server.verifyPresignedUrl(url, headers),
    stop: () =>
      (stopped ??= (async () => {
        await server.close();
        clock.dispose();
        state.save();
        if (tempCaDir) rmSync(tempCaDir, { recursive: true, force: true });
      })()),
  };
}

export type { ClockMode as LocalClockMode };
