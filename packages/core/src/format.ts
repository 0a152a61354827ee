// The one error formatter: anything thrown becomes text a person can act on. The runner prints
// it as the ::error:: annotation. It reads only names, codes, messages and request ids, never a
// request, a response body or a credential.
import { types } from 'node:util';
import { getAwsCall, safeEndpoint } from './aws.js';
import { ActionError, InputError, InputErrors } from './errors.js';
import { cut } from './log.js';

export interface FormatOptions {
  /** For the AWS_ENDPOINT_URL note on network errors. */
  readonly env?: NodeJS.ProcessEnv;
}

// Error codes per family, across the services the suite calls (and EC2-style codes).
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedException',
  'AuthorizationError',
  'NotAuthorized',
  'NotAuthorizedException',
]);
const BAD_CREDENTIALS = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'TokenRefreshRequired',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'AuthFailure',
  'InvalidToken',
]);
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

const CREDENTIALS_HINT =
  'Check the credentials this job uses: run aws-actions/configure-aws-credentials before this step ' +
  '(with role-to-assume and `permissions: id-token: write`), and make role-duration-seconds cover the whole job.';

/** Anything thrown, as actionable text: one line for AWS errors, more only when there is more to say. */
export function formatError(err: unknown, options: FormatOptions = {}): string {
  const env = options.env ?? process.env;
  if (err instanceof InputErrors) return err.errors.map((e) => e.message).join('\n');
  if (err instanceof InputError) return err.message;
  if (err instanceof ActionError) {
    const lines = [err.message];
    if (err.cause !== undefined) lines.push(`Caused by: ${formatError(err.cause, options)}`);
    if (err.hint) lines.push(err.hint);
    return lines.join('\n');
  }
  if (isError(err)) {
    if (isAbort(err)) return 'Cancelled: the run was cancelled or the step timed out.';
    // before AggregateError: connecting to a name with several addresses fails with one
    // (an AWS answer that mentions a network code is still an AWS answer)
    const answered = isAwsServiceError(err) && err.$metadata?.httpStatusCode !== undefined;
    const code = answered ? undefined : errorCode(err);
    if (code !== undefined && NETWORK.has(code)) return formatNetworkError(err, code, env);
    if (err instanceof AggregateError && err.errors.length > 0) {
      return err.errors.map((e) => formatError(e, options)).join('\n');
    }
    if (isAwsServiceError(err) || getAwsCall(err) !== undefined) return formatAwsError(err);
    if (err.name === 'CredentialsProviderError') {
      return `No AWS credentials: ${err.message}\n${CREDENTIALS_HINT}`;
    }
    const name = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
    return `${name}${err.message || '(no message)'}`;
  }
  if (typeof err === 'string') return err;
  try {
    return `Unexpected error: ${JSON.stringify(err)}`;
  } catch {
    return `Unexpected error: ${String(err)}`;
  }
}

interface AwsErrorShape extends Error {
  Code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
  $retryable?: { throttling?: boolean };
}

function isAwsServiceError(err: Error): err is AwsErrorShape {
  return typeof (err as AwsErrorShape).$metadata === 'object' && (err as AwsErrorShape).$metadata !== null;
}

function isAbort(err: Error): boolean {
  return err.name === 'AbortError';
}

function errorCode(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // fetch (undici) wraps the socket error
  const cause = (err as { cause?: unknown }).cause;
  if (isError(cause) && cause !== err) return errorCode(cause);
  // The SDK re-wraps errors from another realm as text ("AWS SDK error wrapper for Error: connect
  // ECONNREFUSED 127.0.0.1:4566"), which keeps only the code in the message.
  return [...NETWORK].find((c) => new RegExp(`\\b${c}\\b`).test(err.message));
}

// instanceof fails for errors from another realm (vm contexts, as under jest); the tag does not.
function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

function formatAwsError(err: AwsErrorShape): string {
  const call = getAwsCall(err);
  const meta = err.$metadata ?? {};
  const code = awsErrorCode(err);
  const where = call ? `${call.service} ${call.operation} failed` : 'AWS request failed';
  const details = [
    meta.httpStatusCode === undefined ? undefined : `HTTP ${meta.httpStatusCode}`,
    meta.requestId ? `request id ${meta.requestId}` : undefined,
    meta.attempts !== undefined && meta.attempts > 1 ? `after ${meta.attempts} attempts` : undefined,
  ].filter((d) => d !== undefined);
  const message = err.message && err.message !== code ? `: ${oneLine(awsMessage(err.message))}` : '';
  const headline = `${where}: ${code}${message}${details.length ? ` (${details.join(', ')})` : ''}`;

  const denied = deniedAction(err.message);
  if (ACCESS_DENIED.has(code) || denied !== undefined) {
    return [headline, accessDeniedHint(err.message, denied ?? call?.iamAction)].join('\n');
  }
  if (BAD_CREDENTIALS.has(code)) {
    const signature =
      code === 'InvalidSignatureException' || code === 'SignatureDoesNotMatch'
        ? 'The request signature was rejected: a wrong secret access key, or a runner clock that is off. '
        : 'AWS rejected the credentials (expired, revoked or from another partition). ';
    return [headline, signature + CREDENTIALS_HINT].join('\n');
  }
  if (THROTTLING.has(code) || err.$retryable?.throttling === true) {
    const attempts = meta.attempts ?? 1;
    return [
      headline,
      `AWS kept throttling ${call ? `${call.service} ` : ''}calls (${attempts} attempt${attempts === 1 ? '' : 's'} ` +
        'with adaptive retry each, waited out until the step had to stop): other jobs or tools in this account and ' +
        'region are probably calling the same API. Re-run the job later, or ask AWS for a higher quota.',
    ].join('\n');
  }
  if (err.$fault === 'server' || (meta.httpStatusCode !== undefined && meta.httpStatusCode >= 500)) {
    return [
      headline,
      'AWS had a server-side error; re-run the job. If it persists, check the AWS Health Dashboard.',
    ].join('\n');
  }
  return headline;
}

function awsErrorCode(err: AwsErrorShape): string {
  if (err.name && err.name !== 'Error') return err.name;
  if (typeof err.Code === 'string' && err.Code) return err.Code;
  return 'Error';
}

const NOT_AUTHORIZED = /is not authorized to perform:?\s*([a-z0-9-]+:[A-Za-z0-9*]+)/;
const PRINCIPAL = /\b(?:User|Principal):?\s*(arn:aws[a-z-]*:[^\s,]+)/;

function deniedAction(message: string): string | undefined {
  return NOT_AUTHORIZED.exec(message)?.[1];
}

function accessDeniedHint(message: string, iamAction: string | undefined): string {
  const principal = PRINCIPAL.exec(message)?.[1];
  const who = principal ?? 'the identity of this job’s credentials (`aws sts get-caller-identity` shows it)';
  const what = iamAction ? `Missing IAM permission ${iamAction}` : 'Missing IAM permission';
  const extra = /explicit deny/i.test(message)
    ? ' An explicit deny (identity policy, permissions boundary or SCP) overrides any allow; remove or narrow it.'
    : ' Allow it in the role’s policy (and check any permissions boundary or SCP).';
  return `${what} for ${who}.${extra}`;
}

function formatNetworkError(err: Error, code: string, env: NodeJS.ProcessEnv): string {
  const call = getAwsCall(err);
  const socket = err as { address?: unknown; port?: unknown };
  const target =
    call?.endpoint ??
    (typeof socket.address === 'string'
      ? `${socket.address}${socket.port === undefined ? '' : `:${String(socket.port)}`}`
      : undefined);
  const attempts = (err as AwsErrorShape).$metadata?.attempts;
  const where = call ? `${call.service} ${call.operation} failed: ` : '';
  const lines = [
    `${where}could not reach ${target ?? 'the endpoint'} (${code})` +
      (attempts !== undefined && attempts > 1 ? ` after ${attempts} attempts` : ''),
  ];
  const serviceVar = call
    ? `AWS_ENDPOINT_URL_${call.service.toUpperCase().replace(/[\s-]+/g, '_')}`
    : undefined;
  const override =
    serviceVar !== undefined && env[serviceVar]
      ? serviceVar
      : env.AWS_ENDPOINT_URL
        ? 'AWS_ENDPOINT_URL'
        : undefined;
  if (override !== undefined) {
    lines.push(
      `${override} is set to ${safeEndpoint(env[override]) ?? '(an invalid URL)'}: is that endpoint running and reachable from the runner?`,
    );
  } else {
    lines.push(
      'Check the runner’s network: DNS, proxy settings (HTTPS_PROXY) and firewall rules towards AWS.',
    );
  }
  return lines.join('\n');
}

/**
 * An AWS error message fit to print: a SignatureDoesNotMatch answer quotes the canonical request
 * and the string to sign it expected (headers, the access key id, the credential scope), which
 * help nobody reading a CI log and should not be kept there; very long messages are cut.
 */
export function awsMessage(message: string): string {
  const signing =
    /\s*(?:The Canonical String for this request should have been|The String-to-Sign should have been|Canonical String:|String to Sign:|StringToSign)/i.exec(
      message,
    );
  const kept = signing ? message.slice(0, signing.index) : message;
  return cut(kept.trim(), 600);
}

/**
 * Whether an error is worth trying again later: throttling, a server-side (5xx) error, a network
 * failure or a timed-out request. Permanent errors (AccessDenied, validation, a missing resource,
 * bad credentials) are not: waiting does not change them. A follow loop retries the first kind
 * until its deadline and ends at once on the second.
 */
export function isTransientError(err: unknown): boolean {
  if (!isError(err)) return false;
  if (isAbort(err)) return false;
  const aws = err as AwsErrorShape;
  const code = isAwsServiceError(err) ? awsErrorCode(aws) : undefined;
  if (code !== undefined && (ACCESS_DENIED.has(code) || BAD_CREDENTIALS.has(code))) return false;
  if (code !== undefined && THROTTLING.has(code)) return true;
  if (aws.$retryable !== undefined) return true;
  if (aws.$fault === 'server') return true;
  const status = aws.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  if (
    err.name === 'TimeoutError' ||
    err.name === 'RequestTimeout' ||
    err.name === 'RequestTimeoutException'
  ) {
    return true;
  }
  const network = errorCode(err);
  return network !== undefined && NETWORK.has(network);
}

/** Whether AWS refused a call as throttled (a rate limit), by its error code or a 429. */
export function isThrottlingError(err: unknown): boolean {
  if (!isError(err) || !isAwsServiceError(err)) return false;
  return THROTTLING.has(awsErrorCode(err)) || err.$metadata?.httpStatusCode === 429;
}

/** Every kind of line break a log reader or the runner splits on becomes one space. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n\u0085\u2028\u2029]+\s*/g, ' ').trim();
}
