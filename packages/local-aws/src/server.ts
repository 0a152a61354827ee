// The one local-aws server: HTTP and HTTPS listeners on 127.0.0.1 sharing one handler, which
// routes each request to the admin API (/_local-aws/), an HTTP route (/v2/ registry, /eks/ clusters…),
// an AWS JSON 1.1 service (X-Amz-Target), an AWS REST-JSON service (its method and path: EKS) or an
// AWS Query service (Action=…, chosen by the signing name in the credential scope), after
// verifying SigV4 and applying armed faults; and records every operation in the operation log.
// Services never see transport, signatures or framing.
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { AwsError } from './service.js';
import type {
  Authorization,
  HttpRoute,
  Identity,
  JsonService,
  QueryService,
  RequestAccess,
  RequestContext,
  RestJsonService,
  RouteEnv,
  RouteFaultAnswer,
  ServerInfo,
  ServiceModule,
} from './service.js';
import type { AccessControl, IamCheck } from './platform/access.js';
import type { AuthorizationRequest, PolicyDocument } from './platform/iam-policy.js';
import type { LocalClock } from './platform/clock.js';
import type { FaultInjector, FaultSpec } from './platform/faults.js';
import type { CredentialSpec, IdentityStore } from './platform/identities.js';
import type { OpLog, OpLogFilter } from './platform/oplog.js';
import type { ApiThrottle } from './platform/throttle.js';
import {
  accessDenied,
  authError,
  faultError,
  internalFailure,
  queryNamespace,
  sendError,
  sendEc2Query,
  sendJson,
  sendQuery,
} from './platform/protocols.js';
import type { Protocol } from './platform/protocols.js';
import {
  claimedAccessKeyId,
  claimedScope,
  headersFromRaw,
  parseQueryPairs,
  signatureLocation,
  SigV4Error,
  verifyRequest,
} from './platform/sigv4.js';
import type { CredentialLookup, VerifyOptions, WireRequest } from './platform/sigv4.js';
import type { LocalStateStore } from './platform/state.js';
import type { TlsMaterial } from './platform/tls.js';
import { adminRefusal } from './platform/admin-guard.js';
import { declaresTooMuch, discardBody, readBodyWithin } from './platform/bodies.js';
import { compileRoute, matchRoute, pathKnown, sendRestJson } from './platform/rest-json.js';
import type { CompiledRoute } from './platform/rest-json.js';

/** Requests to the AWS APIs carry small bodies; the registry (an HttpRoute) streams its own. */
const MAX_API_BODY = 16 * 1024 * 1024;
const FIVE_MINUTES = 5 * 60_000;
const FIFTEEN_MINUTES = 15 * 60_000;

export interface ServerConfig {
  accountId: string;
  region: string;
  identities: IdentityStore;
  /** IAM: which calls each caller may make. */
  access: AccessControl;
  clock: LocalClock;
  state: LocalStateStore;
  faults: FaultInjector;
  opLog: OpLog;
  /** AWS's rate limits, consulted after armed faults (platform/throttle.ts). */
  throttle?: ApiThrottle;
  /** The account and region of the registry served on a local port: whose buckets its calls take from. */
  registryAt?: (localPort: number) => { accountId: string; region: string } | undefined;
  tls: TlsMaterial;
  /** Check request times against wall time (default; what clients sign with) or the simulated clock. */
  signatureClock: 'real' | 'simulated';
  /** Where server-side failures are reported (one line each). */
  logError: (line: string) => void;
  /** More for GET /_local-aws/health (the registry hosts). */
  health?: () => Record<string, unknown>;
  /** More admin endpoints (`POST /_local-aws/iam/oidc-discovery`): the JSON body in, the answer out. */
  adminEndpoints?: AdminEndpoint[];
}

/** An admin endpoint a module adds. It throws an Error to answer 400 with its message. */
export interface AdminEndpoint {
  method: string;
  path: string;
  handle(body: Record<string, unknown>): unknown;
}

/** One line of the operation log, before the server adds the time and the action. */
interface CallRecord {
  requestId: string;
  service: string;
  operation: string;
  identity?: Identity | undefined;
  accessKeyId?: string | undefined;
  region?: string | undefined;
  status: number;
  errorCode?: string | undefined;
  iam?: IamCheck[] | undefined;
  throttled?: boolean;
}

/** A call as the operation log names it, before its outcome. */
type LoggedCall = Omit<CallRecord, 'status' | 'errorCode'>;

/** The caller of an operation answered without a signature (sts:AssumeRoleWithWebIdentity). */
const ANONYMOUS: Identity = { accountId: '', arn: '', userId: '', accessKeyId: '' };

const overTls = (req: IncomingMessage) => (req.socket as TLSSocket).encrypted === true;

const isAdminPath = (rawPath: string) => rawPath === '/_local-aws' || rawPath.startsWith('/_local-aws/');

/** Listens on 127.0.0.1:port (0: ephemeral); resolves with the port. */
function listenOn(server: Server, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    try {
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    } catch (error) {
      reject(error as Error);
    }
  });
}

/** 403 for an admin request from outside (admin-guard.ts); its body, if any, is drained. */
function refuseAdmin(req: IncomingMessage, res: ServerResponse, reason: string): void {
  discardBody(req);
  const payload =
    JSON.stringify({ error: `local-aws admin endpoints refuse this request: ${reason}` }) + '\n';
  res.writeHead(403, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
  res.end(payload);
}

function splitUrl(url: string): { rawPath: string; rawQuery: string } {
  const q = url.indexOf('?');
  return q < 0 ? { rawPath: url, rawQuery: '' } : { rawPath: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

// Unref'd: a long latency fault (a call that never answers) must not keep a stopped server's
// process alive.
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** An error in the distribution spec's shape, as a registry answers it. */
function sendRegistryError(res: ServerResponse, status: number, code: string, message: string): void {
  const payload = JSON.stringify({ errors: [{ code, message, detail: null }] });
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    'Docker-Distribution-API-Version': 'registry/2.0',
  });
  res.end(payload);
}

const stackOf = (error: unknown): string => (error as Error)?.stack ?? String(error);

/** Verifies SigV4: the signer's identity and region, or the error to answer with in the protocol's terms. */
function verifySignature(
  request: WireRequest,
  options: VerifyOptions,
  protocol: Protocol,
): { identity: Identity; region: string } | AwsError {
  try {
    const verified = verifyRequest(request, options);
    return { identity: verified.credential.identity, region: verified.scope.region };
  } catch (error) {
    if (error instanceof SigV4Error) return authError(error.kind, error.message, protocol);
    throw error;
  }
}

/**
 * Verifies a presigned STS GetCallerIdentity URL the way STS (and the aws-iam-authenticator in
 * front of it) does: SigV4 in the query string, scoped to sts, accepted for 15 minutes from
 * X-Amz-Date whatever X-Amz-Expires says. `headers` are the headers sent with it (x-k8s-aws-id);
 * host defaults to the URL's. Returns the identity, or an AwsError in Query terms.
 */
export function verifyPresignedStsUrl(
  url: string,
  headers: Record<string, string>,
  credentials: CredentialLookup,
  now: number,
): Identity | AwsError {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return new AwsError('InvalidParameterValue', `Not a URL: ${url}`, 400);
  }
  const { rawPath, rawQuery } = splitUrl(
    url.slice(url.indexOf(parsed.host) + parsed.host.length).replace(/#.*/, ''),
  );
  const lower: Record<string, string> = { host: parsed.host };
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  const params = new Map(parseQueryPairs(rawQuery));
  if (params.get('Action') !== 'GetCallerIdentity') {
    return new AwsError(
      'InvalidAction',
      `Could not find operation ${params.get('Action') ?? ''} for version 2011-06-15`,
    );
  }
  if (!params.has('X-Amz-Signature')) return authError('missing', 'Missing Authentication Token', 'query');
  const signer = verifySignature(
    { method: 'GET', rawPath: rawPath || '/', rawQuery, headers: lower, body: Buffer.alloc(0) },
    { credentials, now, service: 'sts', skewMs: FIFTEEN_MINUTES, presignedMaxAgeMs: FIFTEEN_MINUTES },
    'query',
  );
  return signer instanceof AwsError ? signer : signer.identity;
}

export class LocalAwsServer {
  readonly jsonServices = new Map<string, JsonService>();
  readonly queryServices = new Map<string, QueryService>();
  /** REST-JSON services by signing name, with their compiled routes. */
  readonly restServices = new Map<string, { service: RestJsonService; routes: CompiledRoute[] }>();
  readonly routes: HttpRoute[] = [];
  private httpServer: Server | undefined;
  private httpsServer: Server | undefined;
  /** HTTPS listeners of the registries of other accounts and regions (registry/hosts.ts). */
  private readonly registryServers: Server[] = [];
  private serverInfo: ServerInfo | undefined;
  /** Calls refused by the rate limits whose failure is still to be logged (by `fail`, through record()). */
  private readonly throttledRequests = new Set<string>();

  private readonly routeEnv: RouteEnv;

  constructor(private readonly config: ServerConfig) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const server = this;
    this.routeEnv = {
      clock: config.clock,
      state: config.state,
      get server(): ServerInfo {
        return server.info;
      },
      log: (entry) => this.record({ requestId: randomUUID(), ...entry }),
      fault: (service, operation, res, answer, identity) =>
        this.routeFault(service, operation, res, answer, identity),
      authorize: (identity, requests, facts) => {
        const outcome = config.access.check(identity, requests, {
          ...facts,
          now: this.credentialNow(),
        });
        return {
          checks: outcome.checks,
          ...(outcome.denied ? { denied: outcome.denied.message } : {}),
        };
      },
    };
  }

  /** Plugs in a module's services and routes. */
  mount(module: ServiceModule): void {
    for (const service of module.services) {
      if (service.protocol === 'json1.1') this.jsonServices.set(service.targetPrefix, service);
      else if (service.protocol === 'rest-json')
        this.restServices.set(service.signingName, { service, routes: service.routes.map(compileRoute) });
      else this.queryServices.set(service.signingName, service);
    }
    this.routes.push(...module.routes);
    this.routes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  get info(): ServerInfo {
    if (!this.serverInfo) throw new Error('local-aws: the server is not listening yet');
    return this.serverInfo;
  }

  async listen(port = 0, httpsPort = 0): Promise<ServerInfo> {
    this.httpServer = this.withHandlers(createHttpServer({ keepAliveTimeout: 5000 }));
    this.httpsServer = this.httpsListener();
    const httpPort = await listenOn(this.httpServer, port);
    let actualHttps: number;
    try {
      actualHttps = await listenOn(this.httpsServer, httpsPort);
    } catch (error) {
      await this.close();
      throw error;
    }
    this.serverInfo = {
      accountId: this.config.accountId,
      region: this.config.region,
      httpUrl: `http://127.0.0.1:${httpPort}`,
      httpsUrl: `https://127.0.0.1:${actualHttps}`,
      caCertPath: this.config.tls.caCertPath,
    };
    return this.serverInfo;
  }

  async close(): Promise<void> {
    const close = (server: Server | undefined) =>
      new Promise<void>((resolve) => {
        if (!server?.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    await Promise.all([this.httpServer, this.httpsServer, ...this.registryServers].map(close));
  }

  /**
   * One more HTTPS listener on 127.0.0.1 serving everything the others do: the host of another
   * account's or region's registry. Resolves with its port (`port` 0: ephemeral).
   */
  async openRegistryListener(port: number): Promise<number> {
    const server = this.httpsListener();
    const actual = await listenOn(server, port);
    this.registryServers.push(server);
    return actual;
  }

  verifyPresignedUrl(url: string, headers: Record<string, string> = {}): Identity | AwsError {
    return verifyPresignedStsUrl(url, headers, this.config.identities, this.credentialNow());
  }

  /**
   * The time credentials are checked against: SigV4 request dates and presigned URLs, and the
   * expiry of the registry tokens ECR hands out. Wall time by default (clients sign and read
   * expiresAt with their own clock), the simulated clock with signatureClock 'simulated'.
   */
  credentialNow(): number {
    return this.config.signatureClock === 'simulated' ? this.config.clock.now() : Date.now();
  }

  // -------------------------------------------------------------------------------------------

  private httpsListener(): Server {
    return this.withHandlers(createHttpsServer({ key: this.config.tls.key, cert: this.config.tls.cert }));
  }

  /**
   * Every request goes to handle(). One that waits for `100 Continue` gets it unless its declared
   * body is over the API limit: then it is answered 413 at once and never sends the body.
   */
  private withHandlers(server: Server): Server {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      if (!this.refusesBodyUnread(req)) res.writeContinue();
      else res.setHeader('Connection', 'close');
      void this.handle(req, res);
    });
    return server;
  }

  /** An AWS API request (not admin, not a route) whose declared body is over the limit. */
  private refusesBodyUnread(req: IncomingMessage): boolean {
    const { rawPath } = splitUrl(req.url ?? '/');
    if (isAdminPath(rawPath) || this.routes.some((r) => rawPath.startsWith(r.prefix))) return false;
    return declaresTooMuch(req, MAX_API_BODY);
  }

  private record(entry: CallRecord): void {
    const timeMs = this.config.clock.now();
    const accessKeyId = entry.identity?.accessKeyId || entry.accessKeyId;
    this.config.opLog.record({
      time: new Date(timeMs).toISOString(),
      timeMs,
      requestId: entry.requestId,
      service: entry.service,
      operation: entry.operation,
      action: `${entry.service}:${entry.operation}`,
      ...(entry.identity?.arn ? { identityArn: entry.identity.arn } : {}),
      ...(accessKeyId ? { accessKeyId } : {}),
      region: entry.region ?? this.config.region,
      status: entry.status,
      ...(entry.errorCode ? { errorCode: entry.errorCode } : {}),
      ...(entry.throttled || this.throttledRequests.delete(entry.requestId)
        ? { throttled: true as const }
        : {}),
      ...(entry.iam && entry.iam.length > 0 ? { iam: [...entry.iam] } : {}),
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    req.on('error', () => {});
    res.on('error', () => {});
    try {
      if (this.config.signatureClock === 'simulated') {
        res.setHeader('Date', new Date(this.config.clock.now()).toUTCString());
      }
      const { rawPath, rawQuery } = splitUrl(req.url ?? '/');
      if (isAdminPath(rawPath)) {
        const refusal = adminRefusal(req);
        if (refusal) return refuseAdmin(req, res, refusal);
        return await this.handleAdmin(req, res, rawPath, rawQuery);
      }
      const route = this.routes.find((r) => rawPath.startsWith(r.prefix));
      if (route) return await this.handleRoute(route, req, res, requestId);

      const headers = headersFromRaw(req.rawHeaders);
      const target = headers['x-amz-target'];
      if (req.method === 'POST' && target) {
        return await this.handleJson(req, res, { rawPath, rawQuery, headers, target, requestId });
      }
      const rest = this.restServiceFor(req.method ?? 'GET', rawPath, headers, rawQuery);
      if (rest) return await this.handleRestJson(req, res, rest, { rawPath, rawQuery, headers, requestId });
      return await this.handleQuery(req, res, { rawPath, rawQuery, headers, requestId });
    } catch (error) {
      this.config.logError(
        `local-aws: ${req.method} ${req.url} failed (request ${requestId}): ${stackOf(error)}`,
      );
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const { rawPath } = splitUrl(req.url ?? '/');
      const protocol: Protocol = req.headers['x-amz-target']
        ? 'json1.1'
        : [...this.restServices.values()].some((e) => pathKnown(e.routes, rawPath))
          ? 'rest-json'
          : 'query';
      sendError(res, protocol, internalFailure(), requestId);
    }
  }

  /** An HTTP route; if it throws, a distribution-spec style 500 (routes are not AWS protocols). */
  private async handleRoute(
    route: HttpRoute,
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
  ): Promise<void> {
    try {
      await route.handle(req, res, this.routeEnv);
    } catch (error) {
      this.config.logError(
        `local-aws: route ${route.prefix} failed on ${req.method} ${req.url} (request ${requestId}): ${stackOf(error)}`,
      );
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const payload = JSON.stringify({
        errors: [{ code: 'UNKNOWN', message: 'internal error', detail: null }],
      });
      res.writeHead(500, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(payload),
      });
      res.end(payload);
    }
  }

  /**
   * The body of an API request; undefined when it is over the limit and was answered 413 through
   * `fail` (which logs it) — before reading when Content-Length says so, else once the limit is
   * passed. Either way the rest of the body is drained, not reset.
   */
  private async readApiBody(
    req: IncomingMessage,
    fail: (error: AwsError) => void,
  ): Promise<Buffer | undefined> {
    const tooLarge = new AwsError('RequestEntityTooLargeException', 'Request body too large', 413);
    if (declaresTooMuch(req, MAX_API_BODY)) {
      discardBody(req);
      fail(tooLarge);
      return undefined;
    }
    const body = await readBodyWithin(req, MAX_API_BODY);
    if (body !== 'too-large') return body;
    fail(tooLarge);
    return undefined;
  }

  /**
   * Applies the fault armed for the call, if any, then AWS's rate limits. Returns true when the
   * call was answered: failed through `fail` (which logs it), or dropped (logged here: there is no
   * answer to log).
   */
  private async applyFault(
    call: LoggedCall,
    res: ServerResponse,
    fail: (error: AwsError) => void,
    protocol: Protocol,
  ): Promise<boolean> {
    const decision = this.config.faults.take(call.service, call.operation);
    if (decision.latencyMs > 0) await delay(decision.latencyMs);
    const fault = decision.fault;
    if (fault?.kind === 'drop') {
      res.socket?.destroy();
      this.record({ ...call, status: 0, errorCode: 'ConnectionDropped' });
      return true;
    }
    if (fault && fault.kind !== 'latency') {
      fail(faultError(fault.kind, protocol, fault));
      return true;
    }
    if (!call.identity || this.admitted(call.identity.accountId, call.region, call.service, call.operation))
      return false;
    // Refused as the service refuses a call over its rate: 400 ThrottlingException (JSON 1.1),
    // 400 Throttling (Query), 429 ThrottlingException (REST-JSON); logged as throttled.
    this.throttledRequests.add(call.requestId);
    fail(faultError('throttling', protocol));
    return true;
  }

  /**
   * Whether AWS's rate limits let a call through (a token taken from its bucket), or it is to be
   * refused. An unsigned call (no account) is not throttled.
   */
  private admitted(account: string, region: string | undefined, service: string, operation: string): boolean {
    const { throttle } = this.config;
    if (!throttle || account === '') return true;
    return throttle.admit(account, region ?? this.config.region, service, operation);
  }

  /** Answers with an AWS error and logs the call as failed with it. */
  private sendFailure(
    res: ServerResponse,
    protocol: Protocol,
    error: AwsError,
    call: LoggedCall,
    xmlns?: string,
  ): void {
    sendError(res, protocol, error, call.requestId, xmlns);
    this.record({ ...call, status: error.statusCode, errorCode: error.code });
  }

  /** The error to answer an operation's throw with: its own AwsError, or a logged InternalFailure. */
  private operationFailure(error: unknown, operation: string, requestId: string): AwsError {
    if (error instanceof AwsError) return error;
    this.config.logError(`local-aws: ${operation} threw (request ${requestId}): ${stackOf(error)}`);
    return internalFailure();
  }

  private requestContext(
    identity: Identity,
    region: string,
    requestId: string,
    access: RequestAccess,
  ): RequestContext {
    return {
      identity,
      region,
      requestId,
      clock: this.config.clock,
      state: this.config.state,
      server: this.info,
      access,
    };
  }

  /** IAM for one request: every answer goes into `checks`, which the operation log keeps. */
  private requestAccess(
    identity: Identity,
    region: string,
    secure: boolean,
    protocol: Protocol,
    checks: IamCheck[],
  ): RequestAccess {
    return {
      secure,
      check: (requests) => {
        const outcome = this.config.access.check(identity, requests, {
          region,
          secure,
          now: this.credentialNow(),
        });
        checks.push(...outcome.checks);
        return outcome.denied ? accessDenied(protocol, outcome.denied.message) : undefined;
      },
      record: (check) => {
        checks.push(check);
      },
    };
  }

  /** What the server authorises before an operation runs: the service's answer, or `<prefix>:<op>` on "*". */
  private requestsFor<Input>(
    service: { signingName: string; iamPrefix?: string; authorization?: Authorization<Input> },
    operation: string,
    input: Input,
    ctx: RequestContext,
  ): AuthorizationRequest[] {
    let requests: AuthorizationRequest[] | undefined;
    try {
      requests = service.authorization?.(operation, input, ctx);
    } catch (error) {
      this.config.logError(
        `local-aws: the authorization of ${service.signingName}:${operation} threw (request ${ctx.requestId}); ${operation} is evaluated on "*": ${stackOf(error)}`,
      );
    }
    return (
      requests ?? [{ action: `${service.iamPrefix ?? service.signingName}:${operation}`, resource: '*' }]
    );
  }

  private async handleJson(
    req: IncomingMessage,
    res: ServerResponse,
    r: {
      rawPath: string;
      rawQuery: string;
      headers: Record<string, string>;
      target: string;
      requestId: string;
    },
  ): Promise<void> {
    const { requestId } = r;
    const dot = r.target.lastIndexOf('.');
    const prefix = dot < 0 ? r.target : r.target.slice(0, dot);
    const operationName = dot < 0 ? '' : r.target.slice(dot + 1);
    const service = this.jsonServices.get(prefix);
    const scope = claimedScope(r);
    const serviceName = service?.signingName ?? scope?.service ?? 'unknown';
    // Failures are logged with the claimed scope's region until the signature names the signer.
    const failed: LoggedCall = {
      requestId,
      service: serviceName,
      operation: operationName || r.target,
      accessKeyId: claimedAccessKeyId(r),
      region: scope?.region,
    };
    const fail = (error: AwsError) => this.sendFailure(res, 'json1.1', error, failed);
    const body = await this.readApiBody(req, fail);
    if (!body) return;

    // Authenticate.
    const signer = verifySignature(
      { method: req.method ?? 'POST', rawPath: r.rawPath, rawQuery: r.rawQuery, headers: r.headers, body },
      {
        credentials: this.config.identities,
        now: this.credentialNow(),
        skewMs: service?.skewMs ?? FIVE_MINUTES,
        ...(service ? { service: service.signingName } : {}),
      },
      'json1.1',
    );
    if (signer instanceof AwsError) return fail(signer);
    const { identity, region } = signer;
    failed.identity = identity;
    failed.region = region;

    const operation =
      service && Object.hasOwn(service.operations, operationName)
        ? service.operations[operationName]
        : undefined;
    if (!service || !operation)
      return fail(new AwsError('UnknownOperationException', `Unknown operation ${r.target}`, 400));

    const answered = await this.applyFault(
      { requestId, service: serviceName, operation: operationName, identity, region },
      res,
      fail,
      'json1.1',
    );
    if (answered) return;

    let input: unknown;
    try {
      const text = body.toString('utf8');
      input = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      return fail(
        new AwsError('SerializationException', 'Start of structure or map found where not expected.', 400),
      );
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return fail(
        new AwsError('SerializationException', 'Start of structure or map found where not expected.', 400),
      );
    }

    const checks: IamCheck[] = [];
    failed.iam = checks;
    const access = this.requestAccess(identity, region, overTls(req), 'json1.1', checks);
    const ctx = this.requestContext(identity, region, requestId, access);
    const denied = access.check(
      this.requestsFor(service, operationName, input as Record<string, unknown>, ctx),
    );
    if (denied) return fail(denied);
    let result: unknown;
    try {
      result = await operation(input as Record<string, unknown>, ctx);
    } catch (error) {
      return fail(this.operationFailure(error, `${service.signingName}:${operationName}`, requestId));
    }
    sendJson(res, 200, result ?? {}, requestId);
    this.record({
      requestId,
      service: serviceName,
      operation: operationName,
      identity,
      region,
      status: 200,
      iam: checks,
    });
  }

  /**
   * The REST-JSON service a request is for: the one whose routes have its method and path, or —
   * for a path none has — the one its credential scope names (answered 404 UnknownOperation then).
   * A request for `/` stays with the Query services.
   */
  private restServiceFor(
    method: string,
    rawPath: string,
    headers: Record<string, string>,
    rawQuery: string,
  ): { service: RestJsonService; routes: CompiledRoute[] } | undefined {
    if (this.restServices.size === 0 || rawPath === '/' || rawPath === '') return undefined;
    for (const entry of this.restServices.values())
      if (matchRoute(entry.routes, method, rawPath) || pathKnown(entry.routes, rawPath)) return entry;
    const scope = claimedScope({ rawQuery, headers });
    return scope ? this.restServices.get(scope.service) : undefined;
  }

  private async handleRestJson(
    req: IncomingMessage,
    res: ServerResponse,
    entry: { service: RestJsonService; routes: CompiledRoute[] },
    r: { rawPath: string; rawQuery: string; headers: Record<string, string>; requestId: string },
  ): Promise<void> {
    const { requestId } = r;
    const { service } = entry;
    const method = req.method ?? 'GET';
    const matched = matchRoute(entry.routes, method, r.rawPath);
    const operationName = matched?.route.operation ?? '';
    const scope = claimedScope(r);
    const failed: LoggedCall = {
      requestId,
      service: service.signingName,
      operation: operationName || `${method} ${r.rawPath}`,
      accessKeyId: claimedAccessKeyId(r),
      region: scope?.region,
    };
    const fail = (error: AwsError) => this.sendFailure(res, 'rest-json', error, failed);
    const body = await this.readApiBody(req, fail);
    if (!body) return;

    const signer = verifySignature(
      { method, rawPath: r.rawPath, rawQuery: r.rawQuery, headers: r.headers, body },
      {
        credentials: this.config.identities,
        now: this.credentialNow(),
        skewMs: service.skewMs ?? FIVE_MINUTES,
        service: service.signingName,
      },
      'rest-json',
    );
    if (signer instanceof AwsError) return fail(signer);
    const { identity, region } = signer;
    failed.identity = identity;
    failed.region = region;

    const operation =
      matched && Object.hasOwn(service.operations, operationName)
        ? service.operations[operationName]
        : undefined;
    if (!matched || !operation) {
      return fail(
        pathKnown(entry.routes, r.rawPath)
          ? new AwsError('MethodNotAllowedException', `Method ${method} is not allowed on ${r.rawPath}`, 405)
          : new AwsError('UnknownOperationException', `Unknown operation ${method} ${r.rawPath}`, 404),
      );
    }

    const answered = await this.applyFault(
      { requestId, service: service.signingName, operation: operationName, identity, region },
      res,
      fail,
      'rest-json',
    );
    if (answered) return;

    // Input: the query's parameters, the body's members, then the path's labels (they win).
    const input: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(r.rawQuery)) {
      const previous = input[k];
      input[k] = previous === undefined ? v : Array.isArray(previous) ? [...previous, v] : [previous, v];
    }
    const text = body.toString('utf8');
    if (text.trim() !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return fail(new AwsError('SerializationException', 'Could not parse request body into json', 400));
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        return fail(new AwsError('SerializationException', 'Could not parse request body into json', 400));
      Object.assign(input, parsed);
    }
    Object.assign(input, matched.labels);

    const checks: IamCheck[] = [];
    failed.iam = checks;
    const access = this.requestAccess(identity, region, overTls(req), 'rest-json', checks);
    const ctx = this.requestContext(identity, region, requestId, access);
    const denied = access.check(this.requestsFor(service, operationName, input, ctx));
    if (denied) return fail(denied);
    let result: unknown;
    try {
      result = await operation(input, ctx);
    } catch (error) {
      return fail(this.operationFailure(error, `${service.signingName}:${operationName}`, requestId));
    }
    sendRestJson(res, matched.route.successStatus ?? 200, result ?? {}, requestId);
    this.record({
      requestId,
      service: service.signingName,
      operation: operationName,
      identity,
      region,
      status: matched.route.successStatus ?? 200,
      iam: checks,
    });
  }

  /** A Query request refused before its body was read: framed and logged as far as its scope tells. */
  private queryBodyFailure(
    res: ServerResponse,
    r: { rawQuery: string; headers: Record<string, string>; requestId: string },
    scope: ReturnType<typeof claimedScope>,
    error: AwsError,
  ): void {
    const service = scope ? this.queryServices.get(scope.service) : undefined;
    const call: LoggedCall = {
      requestId: r.requestId,
      service: service?.signingName ?? scope?.service ?? 'unknown',
      operation: new URLSearchParams(r.rawQuery).get('Action') ?? '',
      accessKeyId: claimedAccessKeyId(r),
      region: scope?.region,
    };
    if (!service) return this.sendFailure(res, 'query', error, call);
    const xmlns = service.xmlNamespace ?? queryNamespace(service.signingName, service.version);
    this.sendFailure(res, service.flavour === 'ec2' ? 'ec2' : 'query', error, call, xmlns);
  }

  private async handleQuery(
    req: IncomingMessage,
    res: ServerResponse,
    r: { rawPath: string; rawQuery: string; headers: Record<string, string>; requestId: string },
  ): Promise<void> {
    const { requestId } = r;
    const scope = claimedScope(r);
    const body =
      req.method === 'GET' || req.method === 'HEAD'
        ? Buffer.alloc(0)
        : await this.readApiBody(req, (error) => this.queryBodyFailure(res, r, scope, error));
    if (!body) return;
    const params = new URLSearchParams(r.rawQuery);
    const contentType = r.headers['content-type'] ?? '';
    if (body.length > 0 && contentType.startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
    }
    const action = params.get('Action');
    const signed = signatureLocation(r) !== 'none';
    let service = scope ? this.queryServices.get(scope.service) : undefined;
    if (!service && !signed && action) service = this.queryServices.get('sts');
    if (!service) {
      if (!action && !signed) {
        const text = `local-aws: nothing here (${req.method} ${r.rawPath}); see /_local-aws/health\n`;
        res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      const error = new AwsError(
        'InvalidAction',
        `Could not find operation ${action ?? ''} for version ${params.get('Version') ?? ''}`,
      );
      return this.sendFailure(res, 'query', error, {
        requestId,
        service: scope?.service ?? 'unknown',
        operation: action ?? '',
        accessKeyId: claimedAccessKeyId(r),
        region: scope?.region,
      });
    }
    const xmlns = service.xmlNamespace ?? queryNamespace(service.signingName, service.version);
    const protocol: Protocol = service.flavour === 'ec2' ? 'ec2' : 'query';
    // Failures are logged with the claimed scope's region until the signature names the signer.
    const failed: LoggedCall = {
      requestId,
      service: service.signingName,
      operation: action ?? '',
      accessKeyId: claimedAccessKeyId(r),
      region: scope?.region,
    };
    const fail = (error: AwsError) => this.sendFailure(res, protocol, error, failed, xmlns);

    const anonymous = !signed && action !== null && (service.unsignedOperations ?? []).includes(action);
    const signer = anonymous
      ? { identity: ANONYMOUS, region: scope?.region ?? this.config.region }
      : verifySignature(
          { method: req.method ?? 'GET', rawPath: r.rawPath, rawQuery: r.rawQuery, headers: r.headers, body },
          {
            credentials: this.config.identities,
            now: this.credentialNow(),
            service: service.signingName,
            skewMs: service.skewMs ?? FIVE_MINUTES,
            ...(service.presignedMaxAgeMs !== undefined
              ? { presignedMaxAgeMs: service.presignedMaxAgeMs }
              : {}),
          },
          protocol,
        );
    if (signer instanceof AwsError) return fail(signer);
    const { identity, region } = signer;
    failed.identity = identity;
    failed.region = region;

    if (!action) return fail(new AwsError('MissingAction', 'Missing Action', 400));
    const version = params.get('Version');
    const operation = Object.hasOwn(service.operations, action) ? service.operations[action] : undefined;
    if (!operation || (version !== null && version !== service.version)) {
      return fail(
        new AwsError(
          'InvalidAction',
          `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`,
        ),
      );
    }

    const answered = await this.applyFault(
      { requestId, service: service.signingName, operation: action, identity, region },
      res,
      fail,
      protocol,
    );
    if (answered) return;

    const checks: IamCheck[] = [];
    failed.iam = checks;
    const access = this.requestAccess(identity, region, overTls(req), protocol, checks);
    const ctx = this.requestContext(identity, region, requestId, access);
    if (!anonymous) {
      const denied = access.check(this.requestsFor(service, action, params, ctx));
      if (denied) return fail(denied);
    }
    let resultXml: string;
    try {
      resultXml = await operation(params, ctx);
    } catch (error) {
      return fail(this.operationFailure(error, `${service.signingName}:${action}`, requestId));
    }
    (protocol === 'ec2' ? sendEc2Query : sendQuery)(res, action, resultXml, xmlns, requestId);
    this.record({
      requestId,
      service: service.signingName,
      operation: action,
      identity,
      region,
      status: 200,
      iam: checks,
    });
  }

  // -------------------------------------------------------------------------------------------
  // HTTP routes

  private async routeFault(
    service: string,
    operation: string,
    res: ServerResponse,
    answer?: RouteFaultAnswer,
    identity?: Identity,
  ): Promise<boolean> {
    const decision = this.config.faults.take(service, operation);
    if (decision.latencyMs > 0) await delay(decision.latencyMs);
    const fault = decision.fault;
    if (!fault || fault.kind === 'latency') return this.routeThrottled(service, operation, res, identity);
    const requestId = randomUUID();
    if (fault.kind === 'drop') {
      res.socket?.destroy();
      this.record({ requestId, service, operation, identity, status: 0, errorCode: 'ConnectionDropped' });
      return true;
    }
    if (answer) {
      const framed = answer(fault.kind, fault);
      res.writeHead(framed.status, {
        'Content-Type': framed.contentType,
        'Content-Length': Buffer.byteLength(framed.body),
        ...framed.headers,
      });
      res.end(framed.body);
      this.record({
        requestId,
        service,
        operation,
        identity,
        status: framed.status,
        errorCode: framed.errorCode,
      });
      return true;
    }
    // ECR's registry answers throttling with 429 TOOMANYREQUESTS.
    const [status, code, message] =
      fault.kind === 'throttling'
        ? [429, 'TOOMANYREQUESTS', 'Rate exceeded']
        : fault.kind === 'unavailable'
          ? [503, 'UNAVAILABLE', 'Service is unavailable']
          : [500, 'UNKNOWN', 'Internal failure'];
    sendRegistryError(res, fault.status ?? status, fault.code ?? code, fault.message ?? message);
    this.record({
      requestId,
      service,
      operation,
      status: fault.status ?? status,
      errorCode: fault.code ?? code,
    });
    return true;
  }

  /**
   * AWS's rate limits for a registry call (ECR's API it maps to, in the account and region of the
   * registry its port serves): when its bucket is empty, the distribution spec's 429
   * TOOMANYREQUESTS, as ECR's registry answers, logged as throttled. Returns true when refused.
   */
  private routeThrottled(
    service: string,
    operation: string,
    res: ServerResponse,
    identity?: Identity,
  ): boolean {
    const port = res.socket?.localPort;
    const registry = port === undefined ? undefined : this.config.registryAt?.(port);
    if (!registry || this.admitted(registry.accountId, registry.region, service, operation)) return false;
    sendRegistryError(res, 429, 'TOOMANYREQUESTS', 'Rate exceeded');
    this.record({
      requestId: randomUUID(),
      service,
      operation,
      identity,
      region: registry.region,
      status: 429,
      errorCode: 'TOOMANYREQUESTS',
      throttled: true,
    });
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Admin API for out-of-process users (no auth: loopback only, and refused to browsers' foreign
  // pages by admin-guard.ts before it gets here)

  private async handleAdmin(
    req: IncomingMessage,
    res: ServerResponse,
    rawPath: string,
    rawQuery: string,
  ): Promise<void> {
    const send = (status: number, body: unknown) => {
      const payload = JSON.stringify(body, null, 2) + '\n';
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(payload),
      });
      res.end(payload);
    };
    const readJson = async (): Promise<Record<string, unknown>> => {
      const body = await readBodyWithin(req, 1024 * 1024);
      if (body === 'too-large') throw new Error('the request body is over 1 MiB');
      const text = body.toString('utf8');
      if (text.trim() === '') return {};
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('expected a JSON object');
      return parsed as Record<string, unknown>;
    };
    const path = rawPath.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    const query = new URLSearchParams(rawQuery);
    const { clock, faults, opLog, state } = this.config;
    try {
      if (path === '/_local-aws/health' && method === 'GET') {
        return send(200, {
          status: 'ok',
          ...this.info,
          now: new Date(clock.now()).toISOString(),
          services: [
            ...[...this.jsonServices.values()].map((s) => ({
              protocol: s.protocol,
              signingName: s.signingName,
              targetPrefix: s.targetPrefix,
            })),
            ...[...this.queryServices.values()].map((s) => ({
              protocol: s.protocol,
              signingName: s.signingName,
              version: s.version,
            })),
            ...[...this.restServices.values()].map(({ service: s }) => ({
              protocol: s.protocol,
              signingName: s.signingName,
            })),
          ],
          routes: this.routes.map((r) => r.prefix),
          ...this.config.health?.(),
        });
      }
      if (path === '/_local-aws/ca.crt' && method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'application/x-pem-file' });
        res.end(this.config.tls.caCertPem);
        return;
      }
      if (path === '/_local-aws/oplog') {
        if (method === 'GET') {
          const filter: OpLogFilter = {};
          for (const key of ['service', 'operation', 'action', 'errorCode'] as const) {
            const value = query.get(key);
            if (value !== null) filter[key] = value;
          }
          const throttled = query.get('throttled');
          if (throttled !== null) filter.throttled = throttled === 'true';
          return send(200, { entries: opLog.entries(filter) });
        }
        if (method === 'DELETE') {
          opLog.clear();
          return send(200, { cleared: true });
        }
      }
      if (path === '/_local-aws/faults') {
        if (method === 'GET') return send(200, { faults: faults.list() });
        if (method === 'POST')
          return send(201, { fault: faults.arm((await readJson()) as unknown as FaultSpec) });
        if (method === 'DELETE') {
          faults.clear();
          return send(200, { cleared: true });
        }
      }
      const faultId = /^\/_local-aws\/faults\/([^/]+)$/.exec(path)?.[1];
      if (faultId && method === 'DELETE') {
        return faults.disarm(decodeURIComponent(faultId))
          ? send(200, { disarmed: faultId })
          : send(404, { error: `no fault ${faultId}` });
      }
      if (path === '/_local-aws/clock' && method === 'GET') {
        const now = clock.now();
        return send(200, {
          now,
          iso: new Date(now).toISOString(),
          mode: clock.mode,
          timeScale: clock.timeScale,
          pendingTimers: clock.pendingTimers(),
        });
      }
      if (path === '/_local-aws/clock/advance' && method === 'POST') {
        const body = await readJson();
        const ms = Number(body.ms ?? (body.seconds !== undefined ? Number(body.seconds) * 1000 : NaN));
        if (!(ms >= 0)) return send(400, { error: 'give {"ms": n} or {"seconds": n}, n >= 0' });
        await clock.advance(ms);
        const now = clock.now();
        return send(200, { now, iso: new Date(now).toISOString() });
      }
      if (path === '/_local-aws/state' && method === 'GET')
        return send(200, { dataDir: state.dataDir ?? null, namespaces: state.snapshot() });
      if (path === '/_local-aws/identities') {
        if (method === 'GET') return send(200, { identities: this.config.identities.summaries() });
        if (method === 'POST') {
          const body = await readJson();
          for (const key of ['accessKeyId', 'secretAccessKey'] as const)
            if (typeof body[key] !== 'string' || body[key] === '') throw new Error(`give ${key}`);
          const identity = this.config.identities.add(body as unknown as CredentialSpec);
          return send(201, { identity });
        }
      }
      const policyOf = /^\/_local-aws\/identities\/([^/]+)\/policy$/.exec(path)?.[1];
      if (policyOf !== undefined && (method === 'PUT' || method === 'DELETE')) {
        const key = decodeURIComponent(policyOf);
        if (!this.config.identities.get(key)) return send(404, { error: `no access key ${key}` });
        const policy = method === 'PUT' ? ((await readJson()) as unknown as PolicyDocument) : undefined;
        const identity = this.config.identities.setPolicy(key, policy);
        return send(200, { identity, ...(policy ? { policy } : {}) });
      }
      const extra = this.config.adminEndpoints?.find((e) => e.path === path && e.method === method);
      if (extra) return send(200, extra.handle(await readJson()));
      return send(404, {
        error: `no admin endpoint ${method} ${path}`,
        endpoints: [
          'GET /_local-aws/health',
          'GET /_local-aws/ca.crt',
          'GET|DELETE /_local-aws/oplog',
          'GET|POST|DELETE /_local-aws/faults',
          'DELETE /_local-aws/faults/{id}',
          'GET /_local-aws/clock',
          'POST /_local-aws/clock/advance',
          'GET /_local-aws/state',
          'GET|POST /_local-aws/identities',
          'PUT|DELETE /_local-aws/identities/{accessKeyId}/policy',
          ...(this.config.adminEndpoints ?? []).map((e) => `${e.method} ${e.path}`),
        ],
      });
    } catch (error) {
      return send(400, { error: (error as Error).message });
    }
  }
}
