// The HTTP face: authentication, the route table, GitHub's errors, headers and pagination.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Representations } from './representations.js';
import {
  DEPLOYMENT_STATES,
  Store,
  now,
  sameRepo,
  type Access,
  type DeploymentState,
  type Scope,
  type TokenSpec,
  type User,
} from './store.js';

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  login?: string;
}

interface Context {
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  caller: User;
  token: TokenSpec;
  url: URL;
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface Route {
  method: string;
  pattern: RegExp;
  docs: string;
  // The fine-grained permissions GitHub accepts for the operation: any one, at this level.
  needs: { scopes: Scope[]; access: Access } | 'user';
  handle: (context: Context) => Answer;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const API_VERSION = '2022-11-28';
const DOCS = 'https://docs.github.com/rest';
const REPO = '/repos/([^/]+)/([^/]+)';

export class GitHubServer {
  readonly store = new Store();
  readonly log: RequestLogEntry[] = [];
  private readonly tokens = new Map<string, TokenSpec>();
  private readonly used = new Map<string, number>();
  private readonly rateLimitReset = Math.floor(Date.now() / 1000) + 3600;
  private readonly server = createServer((req, res) => void this.serve(req, res));
  private view!: Representations;
  url = '';

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.view = new Representations(this.url, this.store);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((e) => (e ? reject(e) : resolve())));
  }

  addToken(spec: TokenSpec): void {
    this.tokens.set(spec.token, spec);
    this.store.user(spec.login, spec.type);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const token = this.tokens.get(bearer(req.headers.authorization) ?? '');
    let route: Route | undefined;
    let answer: Answer;
    try {
      if (!req.headers.authorization) throw new HttpError(401, 'Requires authentication');
      if (!token) throw new HttpError(401, 'Bad credentials');
      let params: string[] = [];
      route = this.routes.find((r) => {
        const match = r.method === method && r.pattern.exec(url.pathname);
        if (match) params = match.slice(1).map(decodeURIComponent);
        return Boolean(match);
      });
      if (!route) throw new HttpError(404, 'Not Found');
      authorize(route, token);
      const body = await readJson(req);
      answer = route.handle({
        params,
        query: url.searchParams,
        body,
        caller: this.caller(token),
        token,
        url,
      });
    } catch (caught) {
      // A fault of the emulator itself still answers, so a test sees it rather than a hang.
      const error =
        caught instanceof HttpError ? caught : new HttpError(500, `local-github: ${String(caught)}`);
      const docs = error.message === 'Bad credentials' || !route ? DOCS : route.docs;
      const body = { message: error.message, documentation_url: docs, status: String(error.status) };
      answer = { status: error.status, body };
    }
    this.log.push({ method, path: url.pathname + url.search, status: answer.status, login: token?.login });
    res.writeHead(answer.status, { ...this.headers(token, route), ...answer.headers });
    res.end(JSON.stringify(answer.body));
  }

  private caller(token: TokenSpec): User {
    return this.store.user(token.login, token.type);
  }

  private headers(token: TokenSpec | undefined, route: Route | undefined): Record<string, string> {
    const key = token?.token ?? '';
    const used = (this.used.get(key) ?? 0) + 1;
    this.used.set(key, used);
    const limit = token ? 5000 : 60;
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'x-github-api-version-selected': API_VERSION,
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': `${(this.log.length + 1).toString(16).toUpperCase()}:LOCAL`,
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(0, limit - used)),
      'x-ratelimit-reset': String(this.rateLimitReset),
      'x-ratelimit-used': String(used),
      'x-ratelimit-resource': 'core',
    };
    const needs = route?.needs;
    if (needs && needs !== 'user') {
      headers['x-accepted-github-permissions'] = needs.scopes.map((s) => `${s}=${needs.access}`).join('; ');
    }
    return headers;
  }

  private paginate<T>(items: T[], context: Context): Answer {
    const perPage = Math.min(100, Math.max(1, Number(context.query.get('per_page') ?? 30) || 30));
    const page = Math.max(1, Number(context.query.get('page') ?? 1) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (n: number, rel: string) => {
      const target = new URL(context.url.pathname, this.url);
      context.query.forEach((value, name) => target.searchParams.set(name, value));
      target.searchParams.set('page', String(n));
      return `<${target.href}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(link(Math.min(page - 1, last), 'prev'));
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    if (page > 1) links.push(link(1, 'first'));
    const body = items.slice((page - 1) * perPage, page * perPage);
    return { status: 200, body, headers: links.length ? { link: links.join(', ') } : {} };
  }

  private repository(context: Context) {
    const [owner = '', repo = ''] = context.params;
    if (!this.store.repository(owner, repo)) throw new HttpError(404, 'Not Found');
    return { owner, repo };
  }

  private pull(context: Context, number: string | undefined) {
    const { owner, repo } = this.repository(context);
    const pull = this.store.pullRequest(owner, repo, Number(number));
    if (!pull) throw new HttpError(404, 'Not Found');
    return pull;
  }

  private deployment(context: Context) {
    const { owner, repo } = this.repository(context);
    const id = Number(context.params[2]);
    const deployment = this.store.deployments.find((d) => d.id === id && sameRepo(d, owner, repo));
    if (!deployment) throw new HttpError(404, 'Not Found');
    return deployment;
  }

  private readonly routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/user$/,
      docs: `${DOCS}/users/users#get-the-authenticated-user`,
      needs: 'user',
      handle: ({ caller }) => ({ status: 200, body: this.view.privateUser(caller) }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${REPO}/pulls/(\\d+)$`),
      docs: `${DOCS}/pulls/pulls#get-a-pull-request`,
      needs: { scopes: ['pull_requests'], access: 'read' },
      handle: (c) => ({ status: 200, body: this.view.pullRequest(this.pull(c, c.params[2])) }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${REPO}/pulls$`),
      docs: `${DOCS}/pulls/pulls#list-pull-requests`,
      needs: { scopes: ['pull_requests'], access: 'read' },
      handle: (c) => {
        const { owner, repo } = this.repository(c);
        const state = c.query.get('state') ?? 'open';
        const head = c.query.get('head');
        const pulls = this.store.pullRequests
          .filter((p) => sameRepo(p, owner, repo) && (state === 'all' || p.state === state))
          .filter((p) => !head || `${p.headOwner}:${p.headRef}` === head)
          .sort((a, b) => b.id - a.id);
        return this.paginate(
          pulls.map((p) => this.view.pullRequestSimple(p)),
          c,
        );
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${REPO}/issues/(\\d+)/comments$`),
      docs: `${DOCS}/issues/comments#list-issue-comments`,
      needs: { scopes: ['issues', 'pull_requests'], access: 'read' },
      handle: (c) => {
        const pull = this.pull(c, c.params[2]);
        const comments = this.store.comments.filter(
          (m) => sameRepo(m, pull.owner, pull.repo) && m.issueNumber === pull.number,
        );
        return this.paginate(
          comments.map((m) => this.view.comment(m)),
          c,
        );
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${REPO}/issues/(\\d+)/comments$`),
      docs: `${DOCS}/issues/comments#create-an-issue-comment`,
      needs: { scopes: ['issues', 'pull_requests'], access: 'write' },
      handle: (c) => {
        const pull = this.pull(c, c.params[2]);
        const body = requireString(c.body, 'body');
        const time = now();
        const comment = {
          id: this.store.nextId(),
          owner: pull.owner,
          repo: pull.repo,
          issueNumber: pull.number,
          body,
          user: c.caller.login,
          createdAt: time,
          updatedAt: time,
        };
        this.store.comments.push(comment);
        const created = this.view.comment(comment);
        return { status: 201, body: created, headers: { location: created.url } };
      },
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^${REPO}/issues/comments/(\\d+)$`),
      docs: `${DOCS}/issues/comments#update-an-issue-comment`,
      needs: { scopes: ['issues', 'pull_requests'], access: 'write' },
      handle: (c) => {
        const { owner, repo } = this.repository(c);
        const id = Number(c.params[2]);
        const comment = this.store.comments.find((m) => m.id === id && sameRepo(m, owner, repo));
        if (!comment) throw new HttpError(404, 'Not Found');
        comment.body = requireString(c.body, 'body');
        comment.updatedAt = now();
        return { status: 200, body: this.view.comment(comment) };
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${REPO}/deployments$`),
      docs: `${DOCS}/deployments/deployments#create-a-deployment`,
      needs: { scopes: ['deployments'], access: 'write' },
      handle: (c) => {
        const { owner, repo } = this.repository(c);
        const ref = requireString(c.body, 'ref');
        const sha = this.store.resolveRef(owner, repo, ref);
        if (!sha) throw new HttpError(422, `No ref found for: ${ref}`);
        const environment = optional(c.body, 'environment', 'string') ?? 'production';
        const payload = c.body.payload;
        const time = now();
        const deployment = {
          id: this.store.nextId(),
          owner,
          repo,
          sha,
          ref,
          task: optional(c.body, 'task', 'string') ?? 'deploy',
          environment,
          description: c.body.description === null ? null : (optional(c.body, 'description', 'string') ?? ''),
          payload: typeof payload === 'string' || isObject(payload) ? payload : {},
          transientEnvironment: optional(c.body, 'transient_environment', 'boolean') ?? false,
          productionEnvironment:
            optional(c.body, 'production_environment', 'boolean') ?? environment === 'production',
          creator: c.caller.login,
          createdAt: time,
          updatedAt: time,
        };
        this.store.deployments.push(deployment);
        const created = this.view.deployment(deployment);
        return { status: 201, body: created, headers: { location: created.url } };
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${REPO}/deployments$`),
      docs: `${DOCS}/deployments/deployments#list-deployments`,
      needs: { scopes: ['deployments'], access: 'read' },
      handle: (c) => {
        const { owner, repo } = this.repository(c);
        const filters = (['sha', 'ref', 'task', 'environment'] as const).flatMap((name) => {
          const value = c.query.get(name);
          return value === null ? [] : [[name, value] as const];
        });
        const deployments = this.store.deployments
          .filter((d) => sameRepo(d, owner, repo) && filters.every(([name, value]) => d[name] === value))
          .sort((a, b) => b.id - a.id);
        return this.paginate(
          deployments.map((d) => this.view.deployment(d)),
          c,
        );
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${REPO}/deployments/(\\d+)/statuses$`),
      docs: `${DOCS}/deployments/statuses#create-a-deployment-status`,
      needs: { scopes: ['deployments'], access: 'write' },
      handle: (c) => {
        const deployment = this.deployment(c);
        const state = requireString(c.body, 'state');
        if (!(DEPLOYMENT_STATES as readonly string[]).includes(state)) {
          throw new HttpError(
            422,
            `Invalid request.\n\nFor 'properties/state', "${state}" is not one of [${DEPLOYMENT_STATES.join(', ')}].`,
          );
        }
        const previous = this.store.statusesOf(deployment.id).at(-1);
        const description = optional(c.body, 'description', 'string') ?? '';
        if (description.length > 140) throw new HttpError(422, 'Validation Failed');
        const status = this.store.addStatus(
          deployment,
          {
            state: state as DeploymentState,
            description,
            environment:
              optional(c.body, 'environment', 'string') ?? previous?.environment ?? deployment.environment,
            environmentUrl: optional(c.body, 'environment_url', 'string') ?? '',
            logUrl: optional(c.body, 'log_url', 'string') ?? optional(c.body, 'target_url', 'string') ?? '',
            creator: c.caller.login,
          },
          optional(c.body, 'auto_inactive', 'boolean') ?? true,
        );
        const created = this.view.status(deployment, status);
        return { status: 201, body: created, headers: { location: created.url } };
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${REPO}/deployments/(\\d+)/statuses$`),
      docs: `${DOCS}/deployments/statuses#list-deployment-statuses`,
      needs: { scopes: ['deployments'], access: 'read' },
      handle: (c) => {
        const deployment = this.deployment(c);
        const statuses = this.store.statusesOf(deployment.id).sort((a, b) => b.id - a.id);
        return this.paginate(
          statuses.map((s) => this.view.status(deployment, s)),
          c,
        );
      },
    },
  ];
}

// GitHub takes `token X` and `Bearer X` alike.
function bearer(header: string | undefined): string | undefined {
  return /^(?:token|bearer)\s+(\S+)$/i.exec(header ?? '')?.[1];
}

function authorize(route: Route, token: TokenSpec): void {
  const needs = route.needs;
  // An installation token (GITHUB_TOKEN) is not a user: GET /user is not for it.
  if (needs === 'user') {
    if (token.type === 'Bot') throw new HttpError(403, 'Resource not accessible by integration');
    return;
  }
  const granted = needs.scopes.some((scope) => {
    const level = token.permissions[scope];
    return level === 'write' || (level === 'read' && needs.access === 'read');
  });
  if (!granted) throw new HttpError(403, 'Resource not accessible by integration');
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObject(parsed)) return parsed;
  } catch {
    // answered below, as GitHub does for any body that is not a JSON object
  }
  throw new HttpError(400, 'Problems parsing JSON');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (value === undefined) throw new HttpError(422, `Invalid request.\n\n"${name}" wasn't supplied.`);
  if (typeof value !== 'string') {
    throw new HttpError(
      422,
      `Invalid request.\n\nFor 'properties/${name}', ${JSON.stringify(value)} is not a string.`,
    );
  }
  return value;
}

function optional<K extends 'string' | 'boolean'>(
  body: Record<string, unknown>,
  name: string,
  type: K,
): (K extends 'string' ? string : boolean) | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type) {
    throw new HttpError(
      422,
      `Invalid request.\n\nFor 'properties/${name}', ${JSON.stringify(value)} is not a ${type}.`,
    );
  }
  return value as K extends 'string' ? string : boolean;
}
