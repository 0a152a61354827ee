// The clusters behind EKS's API: one simulated Kubernetes cluster (local-kubernetes) per EKS
// cluster, the clock-driven status transitions (CREATING → ACTIVE, DELETING → gone, updates), and
// the HTTPS endpoint each ACTIVE cluster serves its Kubernetes API at.
//
// The endpoint is a path on local-aws's HTTPS listener, `https://127.0.0.1:<port>/eks/<ID>`: its
// certificate is from local-aws's CA (DescribeCluster's certificateAuthority), client-go keeps a
// server URL's path as the prefix of every request (as behind Rancher's proxy), and
// `aws eks update-kubeconfig` copies the endpoint into the kubeconfig as it is. One listener
// for every cluster, so nothing more is opened; a deleted cluster's ID is never reused.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import {
  createKubernetesCluster,
  unauthorized,
  type KubernetesCluster,
  type KubernetesHost,
  type KubernetesUser,
} from '@aws-containers/local-kubernetes';
import { AwsError, type HttpRoute, type Identity, type RouteEnv, type RouteFaultAnswer } from '../service.js';
import { bootstrapCreatorEntry, type EksLifecycle } from './api.js';
import { authorize, mapIdentity } from './authenticator.js';
import { clustersOf, type ClusterState, type ClusterStatus, type EksState } from './model.js';
import { checkToken } from './token.js';

/** What the lifecycle needs of the clock: timers at a simulated time (LocalClock). */
export interface SchedulingClock {
  now(): number;
  setTimer(delayMs: number, fn: () => void): { cancel(): void };
  at(time: number, fn: () => void): { cancel(): void };
}

export interface ClustersDeps {
  clock: SchedulingClock;
  save(): void;
  resolveImage?: KubernetesHost['resolveImage'];
  /** STS's check of a presigned GetCallerIdentity URL (the server's verifyPresignedUrl). */
  verifyPresignedUrl(url: string, headers: Record<string, string>): Identity | AwsError;
  /** The credential clock tokens are dated on. */
  credentialNow(): number;
}

/** A refused Kubernetes request: why, for tests and the admin API (the op log keeps the call). */
export interface AuthenticationRefusal {
  time: string;
  clusterName: string;
  reason: string;
  identityArn?: string;
}

interface Runtime {
  key: { accountId: string; region: string; name: string };
  kubernetes: KubernetesCluster;
  /** The last identity each username came from: op-log attribution when a log call has no context. */
  identities: Map<string, Identity>;
}

/** The request a Kubernetes API call is being answered for, so host.log can name its caller. */
interface CallContext {
  identity: Identity;
  env: RouteEnv;
  logged: boolean;
}

export const ENDPOINT_PREFIX = '/eks/';

export class EksClusters implements Omit<EksLifecycle, 'endpointOf' | 'caPem'> {
  private readonly runtimes = new Map<string, Runtime>();
  private readonly timers = new Map<string, { cancel(): void }>();
  private readonly calls = new AsyncLocalStorage<CallContext>();
  private env: RouteEnv | undefined;
  readonly refusals: AuthenticationRefusal[] = [];

  constructor(
    private readonly s: EksState,
    private readonly deps: ClustersDeps,
  ) {}

  /** Re-creates the simulated clusters of a reloaded state and re-arms its pending transitions. */
  resume(): void {
    for (const clusters of Object.values(this.s.regions))
      for (const cluster of Object.values(clusters)) {
        if (cluster.status !== 'DELETING') this.ensureRuntime(cluster);
        this.schedule(cluster);
      }
  }

  created(cluster: ClusterState): void {
    cluster.statusDueAt = this.deps.clock.now() + this.s.timings.activationMs;
    this.ensureRuntime(cluster);
    this.schedule(cluster);
  }

  deleting(cluster: ClusterState): void {
    cluster.statusDueAt = this.deps.clock.now() + this.s.timings.deletionMs;
    this.stopRuntime(cluster.id);
    this.schedule(cluster);
  }

  updating(cluster: ClusterState): void {
    this.schedule(cluster);
  }

  /** Sets a cluster's status now (admin), cancelling the transition it was waiting for. */
  setStatus(cluster: ClusterState, status: ClusterStatus): void {
    this.cancel(cluster.id);
    delete cluster.statusDueAt;
    cluster.status = status;
    if (status === 'DELETING') return this.deleting(cluster);
    this.ensureRuntime(cluster);
    this.schedule(cluster); // pending updates still complete
    this.deps.save();
  }

  kubernetes(cluster: ClusterState): KubernetesCluster | undefined {
    return this.runtimes.get(cluster.id)?.kubernetes;
  }

  /** The Kubernetes endpoint route (`/eks/<ID>/…`). */
  route(): HttpRoute {
    return { prefix: ENDPOINT_PREFIX, handle: (req, res, env) => this.serve(req, res, env) };
  }

  endpointOf(cluster: ClusterState, httpsUrl: string): string {
    return `${httpsUrl}${ENDPOINT_PREFIX}${cluster.id}`;
  }

  // -------------------------------------------------------------------------------------------

  private stateOf(key: Runtime['key']): ClusterState | undefined {
    return clustersOf(this.s, key.accountId, key.region)[key.name];
  }

  private ensureRuntime(cluster: ClusterState): Runtime {
    const existing = this.runtimes.get(cluster.id);
    if (existing) return existing;
    const key = { accountId: cluster.accountId, region: cluster.region, name: cluster.name };
    const identities = new Map<string, Identity>();
    const host: KubernetesHost = {
      clock: this.deps.clock,
      ...(this.deps.resolveImage ? { resolveImage: this.deps.resolveImage } : {}),
      authorize: (request) => {
        const state = this.stateOf(key);
        return state ? authorize(state, request) : false;
      },
      log: (call) => {
        const context = this.calls.getStore();
        if (context) context.logged = true;
        const env = context?.env ?? this.env;
        const identity = context?.identity ?? identities.get(call.user);
        env?.log({
          service: 'eks',
          region: key.region,
          operation: `k8s:${call.verb} ${call.resource}`,
          ...(identity ? { identity } : {}),
          status: call.status,
          ...(call.status >= 400 ? { errorCode: String(call.status) } : {}),
        });
      },
    };
    const runtime: Runtime = {
      key,
      kubernetes: createKubernetesCluster(host, {
        version: { major: '1', minor: cluster.version.split('.')[1] ?? '32' },
      }),
      identities,
    };
    this.runtimes.set(cluster.id, runtime);
    return runtime;
  }

  private stopRuntime(id: string): void {
    this.runtimes.get(id)?.kubernetes.stop();
    this.runtimes.delete(id);
  }

  private cancel(id: string): void {
    this.timers.get(id)?.cancel();
    this.timers.delete(id);
  }

  /** Arms the cluster's next transition: its status's due time, or its earliest update's. */
  private schedule(cluster: ClusterState): void {
    this.cancel(cluster.id);
    const pending = Object.values(cluster.updates).filter((u) => u.status === 'InProgress');
    const dues = [
      ...(cluster.statusDueAt !== undefined ? [cluster.statusDueAt] : []),
      ...pending.map((u) => u.dueAt),
    ];
    if (dues.length === 0) return;
    const key = { accountId: cluster.accountId, region: cluster.region, name: cluster.name };
    const id = cluster.id;
    this.timers.set(
      id,
      this.deps.clock.at(Math.min(...dues), () => {
        this.timers.delete(id);
        const state = this.stateOf(key);
        if (state?.id === id) this.transition(state);
      }),
    );
  }

  private transition(cluster: ClusterState): void {
    const now = this.deps.clock.now();
    if (cluster.statusDueAt !== undefined && cluster.statusDueAt <= now) {
      delete cluster.statusDueAt;
      if (cluster.status === 'CREATING') cluster.status = 'ACTIVE';
      else if (cluster.status === 'DELETING') {
        delete clustersOf(this.s, cluster.accountId, cluster.region)[cluster.name];
        this.stopRuntime(cluster.id);
        this.deps.save();
        return;
      }
    }
    for (const update of Object.values(cluster.updates)) {
      if (update.status !== 'InProgress' || update.dueAt > now) continue;
      update.status = 'Successful';
      if (update.authenticationMode) {
        const from = cluster.accessConfig.authenticationMode;
        cluster.accessConfig.authenticationMode = update.authenticationMode;
        if (from === 'CONFIG_MAP') bootstrapCreatorEntry(cluster, now);
      }
    }
    if (
      cluster.status === 'UPDATING' &&
      !Object.values(cluster.updates).some((u) => u.status === 'InProgress')
    )
      cluster.status = 'ACTIVE';
    this.deps.save();
    this.schedule(cluster);
  }

  private findById(id: string): { runtime: Runtime; state: ClusterState } | undefined {
    const runtime = this.runtimes.get(id);
    const state = runtime ? this.stateOf(runtime.key) : undefined;
    return runtime && state && state.id === id ? { runtime, state } : undefined;
  }

  /** One Kubernetes API request: authenticate as EKS does, then hand it to the cluster. */
  private async serve(req: IncomingMessage, res: ServerResponse, env: RouteEnv): Promise<void> {
    this.env = env;
    if ((req.socket as TLSSocket).encrypted !== true) {
      // The endpoint is HTTPS only; Go's TLS server answers a plain HTTP request this way.
      req.resume();
      const text = 'Client sent an HTTP request to an HTTPS server.\n';
      res.writeHead(400, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
      return;
    }
    const url = req.url ?? '/';
    const m = /^\/eks\/([0-9A-F]{32})(\/[^?]*)?(\?.*)?$/.exec(url);
    const found = m ? this.findById(m[1]!) : undefined;
    if (!found || (found.state.status !== 'ACTIVE' && found.state.status !== 'UPDATING')) {
      // No cluster serves here (deleted, not yet ACTIVE): what a proxy with nothing behind answers.
      req.resume();
      return sendStatus(res, 404, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'the server could not find the requested resource',
        reason: 'NotFound',
        details: {},
        code: 404,
      });
    }
    const { runtime, state } = found;
    const refuse = (reason: string, identity?: Identity) => {
      req.resume();
      this.refusals.push({
        time: new Date(this.deps.clock.now()).toISOString(),
        clusterName: state.name,
        reason,
        ...(identity ? { identityArn: identity.arn } : {}),
      });
      env.log({
        service: 'eks',
        region: state.region,
        operation: 'k8s:authenticate',
        ...(identity ? { identity } : {}),
        status: 401,
        errorCode: 'Unauthorized',
      });
      sendStatus(res, 401, unauthorized().body());
    };

    const token = checkToken(req.headers.authorization, {
      ownHosts: ownHostsOf(env),
      now: this.deps.credentialNow(),
      ...(this.s.timings.tokenLifetimeMs !== undefined ? { lifetimeMs: this.s.timings.tokenLifetimeMs } : {}),
    });
    if ('refused' in token) return refuse(token.refused);
    // STS checks the signature with the cluster's name as x-k8s-aws-id: a token made for another
    // cluster does not match it.
    const verified = this.deps.verifyPresignedUrl(token.url, { 'x-k8s-aws-id': state.name });
    if (verified instanceof AwsError)
      return refuse(`sts:GetCallerIdentity: ${verified.code}: ${verified.message}`);
    const user: KubernetesUser | undefined = mapIdentity(state, runtime.kubernetes.store, verified);
    if (!user) return refuse(`ARN is not mapped: ${verified.arn}`, verified);
    runtime.identities.set(user.username, verified);
    // Faults apply after authentication, as for every API: `{service: 'eks', operation: 'k8s'}`
    // arms one for the Kubernetes API calls of every cluster.
    if (await env.fault('eks', 'k8s', res, kubernetesFault, verified)) {
      req.resume();
      return;
    }

    const path = `${m![2] ?? '/'}${m![3] ?? ''}`;
    const context: CallContext = { identity: verified, env, logged: false };
    await this.calls.run(context, () => runtime.kubernetes.handle(req, res, user, path));
    // A call the API server did not log (discovery, or an answer before it knew the resource) is
    // still a call of this identity: the op log keeps every Kubernetes request. The API server
    // logs as it finishes the answer, so this looks once the answer is out and that log is done.
    const fallback = () =>
      setImmediate(() => {
        if (context.logged) return;
        env.log({
          service: 'eks',
          region: state.region,
          operation: `k8s:${(req.method ?? 'GET').toLowerCase()} ${m![2] ?? '/'}`,
          identity: verified,
          status: res.statusCode,
          ...(res.statusCode >= 400 ? { errorCode: String(res.statusCode) } : {}),
        });
      });
    if (res.writableEnded) fallback();
    else res.once('close', fallback);
  }
}

/** An injected fault in the apiserver's terms: a Status with its reason (client-go retries a 429 after Retry-After). */
const kubernetesFault: RouteFaultAnswer = (kind, override) => {
  const [code, reason, message] =
    kind === 'throttling'
      ? [429, 'TooManyRequests', 'Too many requests, please try again later.']
      : kind === 'unavailable'
        ? [503, 'ServiceUnavailable', 'the server is currently unable to handle the request']
        : [500, 'InternalError', 'Internal error occurred: a fault injected by local-aws'];
  const status = override.status ?? code;
  return {
    status,
    errorCode: override.code ?? reason,
    contentType: 'application/json',
    ...(kind === 'throttling' ? { headers: { 'Retry-After': '1' } } : {}),
    body: JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: override.message ?? message,
      reason: override.code ?? reason,
      details: kind === 'throttling' ? { retryAfterSeconds: 1 } : {},
      code: status,
    }),
  };
};

/** The hosts local-aws answers on (its own STS endpoint, for tokens presigned against it). */
function ownHostsOf(env: RouteEnv): string[] {
  const hosts: string[] = [];
  for (const url of [env.server.httpUrl, env.server.httpsUrl]) {
    const port = new URL(url).port;
    hosts.push(`127.0.0.1:${port}`, `localhost:${port}`);
  }
  return hosts;
}

function sendStatus(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  const payload = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-cache, private',
  });
  res.end(payload);
}
