// A stand-in of GitHub's OIDC token service for tests, on 127.0.0.1: it answers the runner's token
// request — GET ${ACTIONS_ID_TOKEN_REQUEST_URL}&audience=<aud> with `Authorization: Bearer
// ${ACTIONS_ID_TOKEN_REQUEST_TOKEN}` → {"value": "<JWT>"} — as @actions/core's getIDToken() makes it,
// and publishes its issuer's discovery document and keys (/.well-known/openid-configuration,
// /.well-known/jwks) the way token.actions.githubusercontent.com does, so that local-aws's STS can
// verify the tokens it signs (RS256, a fresh 2048-bit key per stand-in).
//
// The tokens carry GitHub's claims: iss, aud, sub (`repo:<owner>/<repo>:ref:refs/heads/main`, or
// `…:environment:<name>`, or `…:pull_request`), repository, ref, sha, workflow, run_id and the rest.
// The issuer is the stand-in's own URL by default; give `issuer: GITHUB_ISSUER` to mint tokens whose
// `iss` is GitHub's, and route that issuer to the stand-in in local-aws (`oidcIssuers`), so that
// trust policies read exactly as GitHub's documentation writes them.
//
// Test tooling only: it imports nothing from core, the actions or local-aws.
import { generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

/** What a workflow run looks like to the token service. */
export interface WorkflowRun {
  /** owner/name. Default octo-org/octo-repo. */
  repository: string;
  /** Default refs/heads/main. */
  ref: string;
  sha: string;
  /** Default push. */
  eventName: string;
  workflow: string;
  /** A pull_request run's head and base branches (the head_ref and base_ref claims); default ''. */
  headRef?: string;
  baseRef?: string;
  /** A deployment environment the job runs in (sub becomes repo:<r>:environment:<name>). */
  environment?: string;
  actor: string;
  runId: string;
  runNumber: string;
  runAttempt: string;
}

export interface OidcStandInOptions {
  /** `iss` of the tokens; default the stand-in's own base URL. */
  issuer?: string;
  /** Serve HTTPS with this certificate and key (local-aws's issueCertificate()); default HTTP. */
  tls?: { cert: string; key: string };
  run?: Partial<WorkflowRun>;
  /** Seconds from iat to exp (GitHub's: 300). */
  lifetimeSeconds?: number;
  /** The clock tokens are minted on, ms since the epoch. Default Date.now. */
  now?: () => number;
}

export interface MintOptions {
  /** Claims to add or replace (undefined removes one). */
  claims?: Record<string, unknown>;
  /** Sign with a key the issuer does not publish. */
  foreignKey?: boolean;
}

export interface OidcStandIn {
  /** The stand-in's base URL (http(s)://127.0.0.1:<port>). */
  url: string;
  /** The tokens' `iss`. */
  issuer: string;
  /** The two variables the runner gives a job with `permissions: id-token: write`. */
  env: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  run: WorkflowRun;
  /** The `sub` GitHub gives this run. */
  subject: string;
  /** A token for `audience`, as the token endpoint would answer it. */
  mint(audience?: string, options?: MintOptions): string;
  /** Every token request answered: the audience asked for (undefined: none) and the status. */
  requests: Array<{ audience: string | undefined; status: number }>;
  stop(): Promise<void>;
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

function subjectOf(run: WorkflowRun): string {
  const repo = `repo:${run.repository}`;
  if (run.environment) return `${repo}:environment:${run.environment}`;
  if (run.eventName === 'pull_request' || run.eventName === 'pull_request_target')
    return `${repo}:pull_request`;
  return `${repo}:ref:${run.ref}`;
}

export async function startOidcStandIn(options: OidcStandInOptions = {}): Promise<OidcStandIn> {
  const run: WorkflowRun = {
    repository: 'octo-org/octo-repo',
    ref: 'refs/heads/main',
    sha: 'a'.repeat(40),
    eventName: 'push',
    workflow: 'release',
    actor: 'octocat',
    runId: '1234567890',
    runNumber: '42',
    runAttempt: '1',
    ...options.run,
  };
  const now = options.now ?? Date.now;
  const lifetime = options.lifetimeSeconds ?? 300;
  const keyPair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { privateKey, publicKey } = keyPair();
  const foreign = keyPair().privateKey;
  const kid = randomBytes(20).toString('hex').toUpperCase();
  const jwk = {
    ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
    kid,
    use: 'sig',
    alg: 'RS256',
  };
  const requestToken = randomBytes(24).toString('base64url');
  const requests: OidcStandIn['requests'] = [];
  const [owner] = run.repository.split('/');

  let base = '';
  let issuer = '';
  const subject = subjectOf(run);

  const signJwt = (claims: Record<string, unknown>, key: KeyObject) => {
    const header = { typ: 'JWT', alg: 'RS256', x5t: kid, kid };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
  };

  const mint = (audience: string = `https://github.com/${owner}`, mintOptions: MintOptions = {}): string => {
    const iat = Math.floor(now() / 1000);
    const claims: Record<string, unknown> = {
      jti: randomUUID(),
      sub: subject,
      aud: audience,
      ref: run.ref,
      sha: run.sha,
      repository: run.repository,
      repository_owner: owner,
      repository_owner_id: '1000',
      run_id: run.runId,
      run_number: run.runNumber,
      run_attempt: run.runAttempt,
      repository_visibility: 'private',
      repository_id: '2000',
      actor_id: '3000',
      actor: run.actor,
      workflow: run.workflow,
      head_ref: run.headRef ?? '',
      base_ref: run.baseRef ?? '',
      event_name: run.eventName,
      ref_protected: 'false',
      ref_type: run.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
      workflow_ref: `${run.repository}/.github/workflows/${run.workflow}.yml@${run.ref}`,
      workflow_sha: run.sha,
      job_workflow_ref: `${run.repository}/.github/workflows/${run.workflow}.yml@${run.ref}`,
      job_workflow_sha: run.sha,
      runner_environment: 'github-hosted',
      ...(run.environment ? { environment: run.environment } : {}),
      iss: issuer,
      nbf: iat - 600,
      exp: iat + lifetime,
      iat,
    };
    for (const [k, v] of Object.entries(mintOptions.claims ?? {})) {
      if (v === undefined) delete claims[k];
      else claims[k] = v;
    }
    return signJwt(claims, mintOptions.foreignKey ? foreign : privateKey);
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const payload = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(payload),
    });
    res.end(payload);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', base);
    if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
      return send(res, 200, {
        issuer,
        jwks_uri: `${issuer.replace(/\/+$/, '')}/.well-known/jwks`,
        subject_types_supported: ['public', 'pairwise'],
        response_types_supported: ['id_token'],
        claims_supported: [
          'sub',
          'aud',
          'exp',
          'iat',
          'iss',
          'jti',
          'nbf',
          'ref',
          'sha',
          'repository',
          'repository_id',
          'repository_owner',
          'repository_owner_id',
          'run_id',
          'run_number',
          'run_attempt',
          'actor',
          'actor_id',
          'workflow',
          'workflow_ref',
          'workflow_sha',
          'head_ref',
          'base_ref',
          'event_name',
          'ref_type',
          'ref_protected',
          'environment',
          'job_workflow_ref',
          'job_workflow_sha',
          'repository_visibility',
          'runner_environment',
        ],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid'],
      });
    }
    if (req.method === 'GET' && url.pathname === '/.well-known/jwks') return send(res, 200, { keys: [jwk] });
    if (req.method === 'GET' && url.pathname === '/_apis/distributedtask/idtoken') {
      const audience = url.searchParams.get('audience') ?? undefined;
      const authorization = req.headers.authorization ?? '';
      if (!/^bearer\s+/i.test(authorization) || authorization.replace(/^bearer\s+/i, '') !== requestToken) {
        requests.push({ audience, status: 401 });
        return send(res, 401, { message: 'Bad credentials' });
      }
      requests.push({ audience, status: 200 });
      return send(res, 200, { value: mint(audience) });
    }
    send(res, 404, { message: `no ${req.method} ${url.pathname} here` });
  };

  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handle)
    : createHttpServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  base = `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = options.issuer ?? base;

  return {
    url: base,
    issuer,
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/_apis/distributedtask/idtoken?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
    },
    run,
    subject,
    mint,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
