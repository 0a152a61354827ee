// The one way to make an AWS SDK v3 client. Generic over the client class so that core never
// imports a service client at runtime: each action bundles only the clients it uses.
import http from 'node:http';
import https from 'node:https';
import { countApiCall } from './api-calls.js';
import { ActionError } from './errors.js';
import { formatError, isThrottlingError } from './format.js';
import { cut, info } from './log.js';
import { systemSleep } from './poll.js';
import { ParseError, REGION_EXPECTED, parseRegion } from './parse.js';

/** The action that makes the calls; it names itself in every request's user agent. */
export interface ActionIdentity {
  /** e.g. `ecr-push` */
  readonly name: string;
  /** the action's release, e.g. `1.4.0` */
  readonly version: string;
}

export interface AwsClientOptions {
  /** The `region` input; empty or undefined falls back to AWS_REGION, then AWS_DEFAULT_REGION. */
  readonly region?: string | undefined;
  /**
   * Attempts per call, first one included, with the SDK's adaptive retry (backoff plus a client-side
   * rate limiter once AWS throttles). Default: AWS_MAX_ATTEMPTS when set, else 5.
   */
  readonly maxAttempts?: number | undefined;
  readonly action: ActionIdentity;
  /** The region fallback, AWS_MAX_ATTEMPTS and the proxy variables; the SDK itself reads process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Milliseconds an answer may take once a request is sent; default REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs?: number;
}

/** Where and what a failed SDK call was: attached to the error by the factory's middleware. */
export interface AwsCall {
  /** The SDK's service id: `ECR`, `ECS`, `STS`. */
  readonly service: string;
  /** The API operation: `DescribeRepositories`. */
  readonly operation: string;
  /** The IAM action the call needs: signing name + operation, `ecr:DescribeRepositories`. */
  readonly iamAction: string;
  /** The endpoint the request went to, without user info or query (undefined if never resolved). */
  readonly endpoint: string | undefined;
}

export const DEFAULT_MAX_ATTEMPTS = 5;

const AWS_CALL = Symbol.for('aws-containers.awsCall');

/** The call an SDK error came from, when the client was made by createAwsClient. */
export function getAwsCall(err: unknown): AwsCall | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  return (err as { [AWS_CALL]?: AwsCall })[AWS_CALL];
}

/**
 * The region the clients use: the input, else AWS_REGION, else AWS_DEFAULT_REGION. A region from
 * the environment is checked as the input is: a malformed one would otherwise surface as a
 * signature or DNS error from the first call, far from its cause.
 */
export function resolveRegion(input: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const sources: [string, string | undefined][] = [
    ['the region input', input],
    ['AWS_REGION', env.AWS_REGION],
    ['AWS_DEFAULT_REGION', env.AWS_DEFAULT_REGION],
  ];
  const found = sources
    .map(([from, value]) => [from, value?.trim()] as const)
    .find(([, value]) => value !== undefined && value !== '');
  if (found === undefined) {
    throw new ActionError('No AWS region: the region input is empty and AWS_REGION is not set.', {
      hint: 'Set the region input, or run aws-actions/configure-aws-credentials with aws-region before this step.',
    });
  }
  const [from, region] = found as readonly [string, string];
  try {
    return parseRegion(region);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    throw new ActionError(
      `${from} is ${JSON.stringify(cut(region))}, which is not ${REGION_EXPECTED}${error.hint ? ` (${error.hint})` : ''}.`,
      { hint: 'Set the region input, or fix the aws-region given to aws-actions/configure-aws-credentials.' },
    );
  }
}

/**
 * Deadlines of every request, so a call that AWS (or a proxy) never answers cannot hold the step:
 * a connection must open within CONNECTION_TIMEOUT_MS and an answer arrive within
 * REQUEST_TIMEOUT_MS of the request being sent; each attempt is then retried as a network error.
 * Waits bound by an input (timeout, scan-timeout, run-task-timeout) also abort their calls at that
 * deadline through the AbortSignal they pass (waitFor).
 */
export const CONNECTION_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;

// Structural types for the few parts of a smithy client the factory touches; a real SDK client
// (ECRClient, ECSClient, …) satisfies them without core depending on @smithy/types.
type Next = (args: unknown) => Promise<unknown>;
interface MiddlewareContext {
  clientName?: string;
  commandName?: string;
  endpointV2?: { url?: URL };
  __smithy_context?: { operation?: string; abortSignal?: AbortSignal };
}
type AddMiddleware = (
  middleware: (next: Next, context: MiddlewareContext) => Next,
  options: { step: 'initialize' | 'deserialize'; name: string; priority: 'high'; override: boolean },
) => void;
interface SmithyClientLike {
  readonly config: object;
  // never[]: any client's overloaded, generic `add` fits; the one call below states its own shape.
  readonly middlewareStack: { add: (...args: never[]) => void };
}

/**
 * A client of any AWS service, configured the same way everywhere:
 * - region: the input, else AWS_REGION, else AWS_DEFAULT_REGION (an ActionError when none);
 * - credentials: the SDK's default chain (environment, web identity, SSO, IMDS, …), never passed here;
 * - endpoint: the SDK's own AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> (local-aws uses these);
 * - retries: adaptive mode, maxAttempts attempts; throttling past those is waited out (see
 *   waitOutThrottling), never shown as a failure;
 * - counting: every request sent, and every one throttled, goes to the process's api-calls tally;
 * - deadlines: CONNECTION_TIMEOUT_MS to connect, REQUEST_TIMEOUT_MS for an answer, per attempt;
 * - proxies: HTTPS_PROXY, HTTP_PROXY and NO_PROXY (upper or lower case), as curl reads them — the
 *   SDK's default agents do not, so a self-hosted runner behind a proxy could not reach AWS;
 * - user agent: `aws-containers-<action>/<version>`, so CloudTrail shows which action called;
 * - errors: annotated with the service, operation and endpoint for formatError (see getAwsCall).
 */
export function createAwsClient<Client extends SmithyClientLike, Config extends object>(
  ClientCtor: new (...args: [] | [Config]) => Client,
  options: AwsClientOptions,
): Client {
  const env = options.env ?? process.env;
  const region = resolveRegion(options.region, env);
  const maxAttempts = options.maxAttempts ?? (env.AWS_MAX_ATTEMPTS ? undefined : DEFAULT_MAX_ATTEMPTS);
  if (maxAttempts !== undefined && !(Number.isInteger(maxAttempts) && maxAttempts >= 1)) {
    throw new ActionError(`maxAttempts must be a whole number of at least 1, got ${maxAttempts}.`);
  }
  const config = {
    region,
    // undefined lets the SDK read AWS_MAX_ATTEMPTS itself
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
    retryMode: 'adaptive',
    requestHandler: {
      // The SDK's own agents ignore HTTPS_PROXY; these follow HTTP(S)_PROXY and NO_PROXY (Node 24).
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: 50, proxyEnv: env }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 50, proxyEnv: env }),
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      // Without it this handler only warns when requestTimeout passes, and the call hangs on.
      throwOnRequestTimeout: true,
      requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    },
    customUserAgent: [[`aws-containers-${options.action.name}`, options.action.version]],
  };
  const client = new ClientCtor(config as Config);
  // Added first, so it runs outside the annotation: the errors it sees name their call.
  countAndWaitOutThrottling(client);
  annotateErrors(client);
  return client;
}

/** One client per region, made on first use: for calls whose region comes from what they name. */
export function clientsPerRegion<Client>(make: (region: string) => Client): (region: string) => Client {
  const made = new Map<string, Client>();
  return (region) => {
    let client = made.get(region);
    if (!client) made.set(region, (client = make(region)));
    return client;
  };
}

function serviceIdOf(client: SmithyClientLike): string | undefined {
  const { serviceId } = client.config as { serviceId?: unknown };
  return typeof serviceId === 'string' && serviceId !== '' ? serviceId : undefined;
}

/** How long throttled calls are waited out at most, when the call carries no signal to end it. */
export const THROTTLE_PATIENCE_MS = 15 * 60_000;
/** The middleware that waits throttling out; a caller that wants the SDK's own error removes it. */
export const WAIT_OUT_THROTTLING_MIDDLEWARE = 'awsContainersWaitOutThrottling';
/** The longest single wait before a throttled call is sent again. */
const MAX_THROTTLE_WAIT_MS = 20_000;

/** 1 s, 2 s, 4 s … up to MAX_THROTTLE_WAIT_MS, each between half and all of it (jitter). */
export function throttleWaitMs(waits: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_THROTTLE_WAIT_MS, 1000 * 2 ** Math.min(waits, 10));
  return Math.round(ceiling * (0.5 + random() / 2));
}

/**
 * Two middlewares: one counts every request sent (each retry is one) and every throttled answer
 * in the api-calls tally; the other, outside the SDK's own retries, waits a call out when AWS still
 * throttles it after those — a rate limit is the account's neighbours, not a reason to fail a
 * deploy — until the call's own signal aborts (the step's deadline or cancellation) or
 * THROTTLE_PATIENCE_MS have passed. AWS throttles before acting, so sending again is safe.
 */
function countAndWaitOutThrottling(client: SmithyClientLike): void {
  const service = serviceIdOf(client) ?? 'AWS';
  const add = client.middlewareStack.add.bind(client.middlewareStack) as unknown as AddMiddleware;
  add(
    (next) => async (args) => {
      try {
        const answer = await next(args);
        countApiCall(service, false);
        return answer;
      } catch (err) {
        countApiCall(service, isThrottlingError(err));
        throw err;
      }
    },
    { step: 'deserialize', name: 'awsContainersCountCalls', priority: 'high', override: true },
  );
  add(
    (next, context) => async (args) => {
      const signal = context.__smithy_context?.abortSignal;
      const started = Date.now();
      for (let waits = 0; ; waits++) {
        try {
          return await next(args);
        } catch (err) {
          const waitMs = throttleWaitMs(waits);
          const patient = Date.now() - started + waitMs <= THROTTLE_PATIENCE_MS;
          if (!isThrottlingError(err) || signal?.aborted || !patient) throw err;
          // AWS's message is outside text: info() fences it.
          const said = formatError(err).split('\n')[0] ?? '';
          info(`${said}; throttling is waited out: sending it again in ${Math.round(waitMs / 1000)} s`);
          await systemSleep(waitMs, signal);
          if (signal?.aborted) throw err;
        }
      }
    },
    { step: 'initialize', name: WAIT_OUT_THROTTLING_MIDDLEWARE, priority: 'high', override: true },
  );
}

function annotateErrors(client: SmithyClientLike): void {
  const clientConfig = client.config as { defaultSigningName?: unknown };
  const service = serviceIdOf(client);
  // The IAM prefix is the SigV4 signing name (ecr, ecs, sts, ecr-public, eks), not the service id.
  const signingName =
    typeof clientConfig.defaultSigningName === 'string'
      ? clientConfig.defaultSigningName
      : service?.toLowerCase().replace(/\s+/g, '-');
  const add = client.middlewareStack.add.bind(client.middlewareStack) as unknown as AddMiddleware;
  add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if (typeof err === 'object' && err !== null && !(AWS_CALL in err)) {
          const operation =
            context.__smithy_context?.operation ?? context.commandName?.replace(/Command$/, '') ?? 'request';
          const call: AwsCall = {
            service: service ?? context.clientName?.replace(/Client$/, '') ?? 'AWS',
            operation,
            iamAction: `${signingName ?? 'unknown'}:${operation}`,
            endpoint: safeEndpoint(context.endpointV2?.url),
          };
          // Not enumerable: the annotation must not change how the SDK's error serialises or compares.
          Object.defineProperty(err, AWS_CALL, { value: call, enumerable: false, configurable: true });
        }
        throw err;
      }
    },
    { step: 'initialize', name: 'awsContainersAnnotateErrors', priority: 'high', override: true },
  );
}

/** An endpoint URL fit to print: no user info, query or fragment. */
export function safeEndpoint(url: URL | string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const u = new URL(String(url));
    const path = u.pathname === '/' ? '' : u.pathname;
    return `${u.protocol}//${u.host}${path}`;
  } catch {
    return undefined;
  }
}
