// The contract between the one local-aws server and the services plugged into it.
// The server (server.ts, platform/) owns transport, SigV4, protocol framing, faults, the
// operation log and persistence; a service owns only its operations and its state.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IamCheck } from './platform/access.js';
import type { AuthorizationRequest } from './platform/iam-policy.js';

export type { AuthorizationRequest } from './platform/iam-policy.js';
export type { IamCheck } from './platform/access.js';

/** The verified caller of a request, as STS GetCallerIdentity would describe it. */
export interface Identity {
  accountId: string;
  arn: string;
  userId: string;
  accessKeyId: string;
}

/** One clock for the whole server: real, scaled (--time-scale) or stepped by tests. */
export interface Clock {
  /** Milliseconds since the epoch, in simulated time. */
  now(): number;
}

/** Durable state: each service keeps a JSON-serialisable namespace; blobs live apart. */
export interface StateStore {
  /** The live object for a namespace, created with init() the first time. Mutate it, then call save(). */
  namespace<T extends object>(name: string, init: () => T): T;
  /** Persist after a mutation (a no-op without --data-dir). */
  save(): void;
  /** Where a service may keep files (blobs), or undefined when state is in memory only. */
  readonly dataDir: string | undefined;
}

export interface ServerInfo {
  accountId: string;
  /** Default region; requests carry their own in the credential scope. */
  region: string;
  /** http://127.0.0.1:PORT */
  httpUrl: string;
  /** https://127.0.0.1:PORT, served with a certificate from caCertPath. */
  httpsUrl: string;
  caCertPath: string;
}

/** IAM for one request: what the operation checks beyond the actions the server checked for it. */
export interface RequestAccess {
  /**
   * Evaluates more requests for the caller (actions an operation finds it needs while it runs),
   * keeping each answer for the operation log. Returns the AccessDenied to throw, in the request's
   * protocol, for the first one denied.
   */
  check(requests: readonly AuthorizationRequest[]): AwsError | undefined;
  /** Keeps an answer the operation reached itself (a trust policy) for the operation log. */
  record(check: IamCheck): void;
  /** Whether the request came over TLS (aws:SecureTransport). */
  secure: boolean;
}

export interface RequestContext {
  identity: Identity;
  /** The region of the request's credential scope. */
  region: string;
  requestId: string;
  clock: Clock;
  state: StateStore;
  server: ServerInfo;
  access: RequestAccess;
}

/**
 * Which IAM actions an operation stands for, on which resources (its ARNs, or "*" for actions
 * without a resource type), with which service-specific condition keys. The server evaluates them
 * for the caller before the operation runs; undefined: `<iamPrefix>:<operation>` on "*".
 * An operation with nothing to authorise (sts:GetCallerIdentity) returns [].
 */
export type Authorization<Input> = (
  operation: string,
  input: Input,
  ctx: RequestContext,
) => AuthorizationRequest[] | undefined;

/**
 * An error in AWS's terms. The protocol layer serialises it as that protocol does
 * (JSON 1.1: {"__type": code, "message": …} with x-amzn-ErrorType; Query: <ErrorResponse>).
 */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 400,
    /** Extra members AWS returns with this error (JSON protocols). */
    readonly members: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export type JsonOperation = (input: Record<string, unknown>, ctx: RequestContext) => unknown;

/** AWS JSON 1.1: POST / with X-Amz-Target: `${targetPrefix}.${operation}` (ECR, ECS). */
export interface JsonService {
  protocol: 'json1.1';
  /** SigV4 signing name, also the service name in the operation log and IAM actions ("ecr"). */
  signingName: string;
  targetPrefix: string;
  operations: Record<string, JsonOperation>;
  /** Allowed clock skew of signed requests, ms (default 5 minutes, as most AWS services). */
  skewMs?: number;
  /** The service prefix of its IAM actions (default: the signing name). */
  iamPrefix?: string;
  authorization?: Authorization<Record<string, unknown>>;
}

/** AWS Query: form-encoded Action=…&Version=… (or a presigned GET); the result is XML. */
export interface QueryService {
  protocol: 'query';
  signingName: string;
  version: string;
  /** Returns the inner XML of <{Action}Result>; the server wraps it with the response and metadata. */
  operations: Record<string, (params: URLSearchParams, ctx: RequestContext) => string | Promise<string>>;
  /** xmlns of responses and errors (default https://{signingName}.amazonaws.com/doc/{version}/). */
  xmlNamespace?: string;
  /** Allowed clock skew of signed requests, ms (default 5 minutes; STS: 15). */
  skewMs?: number;
  /** Lifetime of presigned URLs from X-Amz-Date, ms (default: X-Amz-Expires; STS: 15 min). */
  presignedMaxAgeMs?: number;
  /**
   * 'ec2': EC2's flavour of Query. The operation's XML goes straight into <{Action}Response>
   * after <requestId> (no <{Action}Result>), and errors are
   * <Response><Errors><Error>…</Error></Errors><RequestID>…</RequestID></Response>.
   */
  flavour?: 'ec2';
  /** The service prefix of its IAM actions (default: the signing name). */
  iamPrefix?: string;
  authorization?: Authorization<URLSearchParams>;
  /** Operations answered without a signature (sts:AssumeRoleWithWebIdentity); signed ones are checked. */
  unsignedOperations?: string[];
}

/**
 * A raw HTTP surface under a path prefix (the OCI registry at /v2/, later the Kubernetes API).
 * It does its own authentication, then records what it did with log().
 */
export interface HttpRoute {
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse, env: RouteEnv): Promise<void>;
}

export interface RouteEnv {
  clock: Clock;
  state: StateStore;
  server: ServerInfo;
  /** Records one operation in the operation log, with the IAM action it stands for. */
  log(entry: {
    service: string;
    operation: string;
    identity?: Identity;
    /** The region the call was for (default: the server's). */
    region?: string;
    status: number;
    errorCode?: string;
    /** The IAM questions asked for it and their answers. */
    iam?: IamCheck[];
  }): void;
  /**
   * Evaluates IAM for a caller of the route; the checks go into the operation log through log().
   * `denied` is AWS's AccessDenied message for the first request denied.
   */
  authorize(
    identity: Identity,
    requests: readonly AuthorizationRequest[],
    facts: { region: string; secure: boolean },
  ): { checks: IamCheck[]; denied?: string };
  /**
   * Applies an injected fault for this service/operation, if one is armed; true when it answered.
   * `answer` frames the error the route's way (default: the distribution spec's `{"errors": […]}`).
   */
  fault(
    service: string,
    operation: string,
    res: ServerResponse,
    answer?: RouteFaultAnswer,
    identity?: Identity,
  ): Promise<boolean>;
}

/** One REST-JSON operation's route: `POST /clusters/{name}/update-config` (labels are one path segment each). */
export interface RestJsonRoute {
  method: string;
  path: string;
  operation: string;
  /** The status of a success (default 200). */
  successStatus?: number;
}

/**
 * AWS REST-JSON (restJson1: EKS): the method and path select the operation; its input is the
 * path's labels, the query string's parameters (as strings) and the JSON body's members, merged.
 */
export interface RestJsonService {
  protocol: 'rest-json';
  signingName: string;
  routes: RestJsonRoute[];
  operations: Record<string, JsonOperation>;
  /** Allowed clock skew of signed requests, ms (default 5 minutes). */
  skewMs?: number;
  iamPrefix?: string;
  authorization?: Authorization<Record<string, unknown>>;
}

/** How a route words an injected fault: its status, body and content type, and the op log's error code. */
export type RouteFaultAnswer = (
  kind: 'throttling' | 'internal-error' | 'unavailable',
  override: { code?: string; message?: string; status?: number },
) => {
  status: number;
  errorCode: string;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
};

export type Service = JsonService | QueryService | RestJsonService;

/**
 * What a service module (sts/, ecr/, later ecs/ and eks/) gives the server. Factories run once
 * at start; per-request facts (identity, region, URLs) arrive in RequestContext / RouteEnv.
 */
export interface ServiceModule<Admin = unknown> {
  services: Service[];
  routes: HttpRoute[];
  /** Programmatic hooks for tests, exposed on the handle startLocalAws() returns. */
  admin: Admin;
}

export type ServiceFactory<Admin = unknown> = (env: {
  clock: Clock;
  state: StateStore;
  /**
   * Verifies a presigned STS GetCallerIdentity URL (an EKS token's payload) as STS would, with
   * the headers the client signed (x-k8s-aws-id). Present when the server builds the module.
   */
  verifyPresignedUrl?: (url: string, headers?: Record<string, string>) => Identity | AwsError;
  /** The time credentials are checked against (wall time, or the simulated clock with signatureClock 'simulated'). */
  credentialNow?: () => number;
}) => ServiceModule<Admin>;
