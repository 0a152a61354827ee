// EKS authentication in process, as `aws eks get-token` and aws-iam-authenticator's client do it:
// a bearer token `k8s-aws-v1.<base64url of a presigned STS GetCallerIdentity URL>` whose signed
// `x-k8s-aws-id` header names the cluster; and the cluster's endpoint and CA from DescribeCluster.
// No aws CLI, no kubectl, no kubeconfig.
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, SourceData } from '@smithy/types';
import type { DescribeClusterCommandOutput, EKSClient } from '@aws-sdk/client-eks';
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { ActionError } from '../errors.js';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** STS accepts a GetCallerIdentity presigned for EKS for 15 minutes from its signing time. */
export const EKS_TOKEN_LIFETIME_MS = 15 * 60_000;
/** A token is refreshed one minute before it expires (aws-iam-authenticator's client does too). */
export const EKS_TOKEN_REFRESH_MS = 14 * 60_000;

export interface EksTokenOptions {
  cluster: string;
  region: string;
  credentials: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  /** The signing time; default now. */
  now?: Date;
  /** Where AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL are read; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface EksToken {
  token: string;
  /** When to make a new one: signing time + 14 minutes (the token itself lives 15). */
  expiresAt: Date;
}

// SigV4 wants a Checksum constructor; node:crypto is enough (no extra dependency in the bundles).
class Sha256 {
  private hash;
  private readonly secret: Uint8Array | string | undefined;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytes(secret);
    this.hash = this.make();
  }
  private make() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.make();
  }
}

function bytes(data: SourceData): Uint8Array | string {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/**
 * The STS endpoint a GetCallerIdentity is presigned for: AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL
 * when set (as the AWS CLI's `eks get-token --endpoint-url`; local-aws accepts its own host), else
 * the regional endpoint (`.amazonaws.com.cn` in China).
 */
export function stsEndpoint(region: string, env: NodeJS.ProcessEnv = process.env): URL {
  const override = env.AWS_ENDPOINT_URL_STS?.trim() || env.AWS_ENDPOINT_URL?.trim();
  if (override) {
    try {
      return new URL(override);
    } catch {
      throw new ActionError(
        `${env.AWS_ENDPOINT_URL_STS?.trim() ? 'AWS_ENDPOINT_URL_STS' : 'AWS_ENDPOINT_URL'} is not a URL.`,
        { hint: 'Set it to an https:// URL, or unset it to use STS in the region.' },
      );
    }
  }
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return new URL(`https://sts.${region}.${suffix}`);
}

/** A bearer token for the cluster's Kubernetes API (what `aws eks get-token` prints). */
export async function eksToken(options: EksTokenOptions): Promise<EksToken> {
  const now = options.now ?? new Date();
  const endpoint = stsEndpoint(options.region, options.env);
  const signer = new SignatureV4({
    service: 'sts',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
    uriEscapePath: true,
    applyChecksum: false,
  });
  const host = endpoint.host;
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host, 'x-k8s-aws-id': options.cluster },
    },
    { expiresIn: 60, signingDate: now },
  );
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(presigned.query ?? {})) {
    if (typeof value === 'string') query.append(key, value);
    else if (Array.isArray(value)) for (const v of value) query.append(key, v);
  }
  const url = `${endpoint.protocol}//${host}/?${query.toString()}`;
  return {
    token: `${EKS_TOKEN_PREFIX}${Buffer.from(url, 'utf8').toString('base64url')}`,
    expiresAt: new Date(now.getTime() + EKS_TOKEN_REFRESH_MS),
  };
}

/**
 * A token provider for createKubernetesClient: a cached token, made again once it reaches its
 * refresh time (so a rollout longer than 14 minutes keeps its access), or when asked to refresh
 * (the client asks after a 401).
 */
export function eksTokenProvider(
  options: Omit<EksTokenOptions, 'now'> & { clock?: () => Date },
): (request?: { refresh?: boolean }) => Promise<string> {
  let current: Promise<EksToken> | undefined;
  const clock = options.clock ?? (() => new Date());
  return async (request) => {
    const now = clock();
    // Asked to refresh (the cluster refused the cached token): made anew.
    if (request?.refresh) current = undefined;
    if (current) {
      try {
        const made = await current;
        if (made.expiresAt.getTime() > now.getTime()) return made.token;
      } catch {
        // made again below
      }
    }
    current = eksToken({ ...options, now });
    return (await current).token;
  };
}

export interface EksCluster {
  name: string;
  endpoint: string;
  /** The cluster's CA certificate(s), PEM. */
  caPem: string;
  version: string;
  arn: string;
  status: string;
}

/** A client that can send DescribeCluster (an EKSClient, typically made with createAwsClient). */
export type EksDescribeClient = Pick<EKSClient, 'send' | 'config'>;

/**
 * The cluster's endpoint, CA and version. Errors say what to do: a cluster that does not exist in
 * the region, one that is not ACTIVE yet, a principal without `eks:DescribeCluster`.
 */
export async function describeEksCluster(
  eks: EksDescribeClient,
  name: string,
  signal: AbortSignal,
): Promise<EksCluster> {
  const region = await regionOf(eks);
  let output: DescribeClusterCommandOutput;
  try {
    output = await eks.send(new DescribeClusterCommand({ name }), { abortSignal: signal });
  } catch (error) {
    if (signal.aborted) throw error;
    const err = error as { name?: string; message?: string };
    if (err.name === 'ResourceNotFoundException') {
      throw new ActionError(`EKS cluster ${JSON.stringify(name)} was not found in ${region}.`, {
        cause: error,
        hint: `Check the cluster input and the region (aws eks list-clusters --region ${region}).`,
      });
    }
    if (
      err.name === 'AccessDeniedException' ||
      err.name === 'AccessDenied' ||
      /not authorized/i.test(err.message ?? '')
    ) {
      const principal = /User: (\S+)/.exec(err.message ?? '')?.[1];
      throw new ActionError(
        `${principal ? `${principal} is` : 'The credentials are'} not allowed eks:DescribeCluster on EKS cluster ${JSON.stringify(name)} in ${region}.`,
        {
          cause: error,
          hint: `Allow eks:DescribeCluster on arn:aws:eks:${region}:<account>:cluster/${name} in the role's IAM policy.`,
        },
      );
    }
    throw error;
  }
  const cluster = output.cluster;
  const status = cluster?.status ?? 'UNKNOWN';
  if (!cluster?.endpoint || !cluster.certificateAuthority?.data) {
    throw new ActionError(
      `EKS cluster ${JSON.stringify(name)} in ${region} has no endpoint yet (its status is ${status}).`,
      { hint: 'Wait until the cluster is ACTIVE (aws eks wait cluster-active) before this step.' },
    );
  }
  if (status !== 'ACTIVE' && status !== 'UPDATING') {
    throw new ActionError(`EKS cluster ${JSON.stringify(name)} in ${region} is ${status}, not ACTIVE.`, {
      hint: 'Wait until the cluster is ACTIVE (aws eks wait cluster-active) before this step.',
    });
  }
  return {
    name,
    endpoint: cluster.endpoint,
    caPem: Buffer.from(cluster.certificateAuthority.data, 'base64').toString('utf8'),
    version: cluster.version ?? '',
    arn: cluster.arn ?? '',
    status,
  };
}

async function regionOf(eks: EksDescribeClient): Promise<string> {
  const region: unknown = (eks.config as { region?: unknown }).region;
  try {
    if (typeof region === 'function') return String(await (region as () => Promise<string>)());
    return String(region ?? 'its region');
  } catch {
    return 'its region';
  }
}
