// What the emulated GitHub holds, as plain records, and the rules that change it (GitHub's, not
// a client's idea of them): ids are one increasing sequence, timestamps are ISO 8601 in UTC.
import { createHash } from 'node:crypto';

export type Access = 'read' | 'write';
export type Scope = 'pull_requests' | 'issues' | 'deployments' | 'contents';

export interface TokenSpec {
  token: string;
  login: string;
  type: 'Bot' | 'User';
  permissions: Partial<Record<Scope, Access>>;
}

export interface PullRequestSpec {
  state: 'open' | 'closed';
  headSha: string;
  headRef?: string;
  fork?: boolean;
  merged?: boolean;
}

export interface User {
  id: number;
  login: string;
  type: 'Bot' | 'User';
  createdAt: string;
}

export interface Repository {
  id: number;
  owner: string;
  name: string;
  createdAt: string;
}

export interface PullRequest {
  id: number;
  owner: string;
  repo: string;
  number: number;
  state: 'open' | 'closed';
  headSha: string;
  headRef: string;
  headOwner: string;
  fork: boolean;
  merged: boolean;
  baseRef: string;
  author: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface Comment {
  id: number;
  owner: string;
  repo: string;
  issueNumber: number;
  body: string;
  user: string;
  createdAt: string;
  updatedAt: string;
}

export interface Deployment {
  id: number;
  owner: string;
  repo: string;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  description: string | null;
  payload: Record<string, unknown> | string;
  transientEnvironment: boolean;
  productionEnvironment: boolean;
  creator: string;
  createdAt: string;
  updatedAt: string;
}

export const DEPLOYMENT_STATES = [
  'error',
  'failure',
  'inactive',
  'in_progress',
  'queued',
  'pending',
  'success',
] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

export interface DeploymentStatus {
  id: number;
  deploymentId: number;
  state: DeploymentState;
  description: string;
  environment: string;
  environmentUrl: string;
  logUrl: string;
  creator: string;
  createdAt: string;
  updatedAt: string;
}

// The app GITHUB_TOKEN acts as: its id is the one GitHub gives it everywhere.
export const ACTIONS_BOT = { login: 'github-actions[bot]', id: 41898282 };

export const fakeSha = (seed: string): string => createHash('sha1').update(seed).digest('hex');

export class Store {
  readonly users = new Map<string, User>();
  readonly repositories = new Map<string, Repository>();
  readonly pullRequests: PullRequest[] = [];
  readonly comments: Comment[] = [];
  readonly deployments: Deployment[] = [];
  readonly statuses: DeploymentStatus[] = [];
  private lastId = 0;

  nextId(): number {
    return ++this.lastId;
  }

  user(login: string, type: 'Bot' | 'User' = 'User'): User {
    let user = this.users.get(login);
    if (!user) {
      const id = login === ACTIONS_BOT.login ? ACTIONS_BOT.id : this.nextId();
      user = { id, login, type, createdAt: now() };
      this.users.set(login, user);
    }
    return user;
  }

  repository(owner: string, name: string): Repository | undefined {
    return this.repositories.get(`${owner}/${name}`.toLowerCase());
  }

  ensureRepository(owner: string, name: string): Repository {
    const existing = this.repository(owner, name);
    if (existing) return existing;
    this.user(owner);
    const repository = { id: this.nextId(), owner, name, createdAt: now() };
    this.repositories.set(`${owner}/${name}`.toLowerCase(), repository);
    return repository;
  }

  pullRequest(owner: string, repo: string, number: number): PullRequest | undefined {
    return this.pullRequests.find((p) => sameRepo(p, owner, repo) && p.number === number);
  }

  setPullRequest(owner: string, repo: string, number: number, spec: PullRequestSpec): PullRequest {
    this.ensureRepository(owner, repo);
    // A fork's head lives in the contributor's copy of the repository.
    const headOwner = spec.fork ? 'contributor' : owner;
    this.ensureRepository(headOwner, repo);
    const time = now();
    const existing = this.pullRequest(owner, repo, number);
    const pull: PullRequest = existing ?? {
      id: this.nextId(),
      owner,
      repo,
      number,
      state: spec.state,
      headSha: spec.headSha,
      headRef: spec.headRef ?? `pr-${number}`,
      headOwner,
      fork: false,
      merged: false,
      baseRef: 'main',
      author: this.user(headOwner).login,
      createdAt: time,
      updatedAt: time,
      closedAt: null,
    };
    const closing = spec.state === 'closed' && pull.state !== 'closed';
    Object.assign(pull, {
      state: spec.state,
      headSha: spec.headSha,
      headRef: spec.headRef ?? pull.headRef,
      headOwner,
      fork: spec.fork ?? false,
      merged: spec.state === 'closed' && (spec.merged ?? false),
      updatedAt: time,
      closedAt: spec.state === 'open' ? null : closing ? time : pull.closedAt,
    });
    if (!existing) this.pullRequests.push(pull);
    return pull;
  }

  // A ref GitHub would resolve: a full commit sha, or a pull request's head branch.
  resolveRef(owner: string, repo: string, ref: string): string | undefined {
    if (/^[0-9a-f]{40}$/.test(ref)) return ref;
    const branch = ref.replace(/^refs\/heads\//, '');
    const pulls = this.pullRequests.filter((p) => sameRepo(p, owner, repo) && p.headRef === branch);
    return pulls.at(-1)?.headSha;
  }

  statusesOf(deploymentId: number): DeploymentStatus[] {
    return this.statuses.filter((s) => s.deploymentId === deploymentId);
  }

  addStatus(
    deployment: Deployment,
    fields: Omit<DeploymentStatus, 'id' | 'deploymentId' | 'createdAt' | 'updatedAt'>,
    autoInactive: boolean,
  ): DeploymentStatus {
    const time = now();
    const status = {
      id: this.nextId(),
      deploymentId: deployment.id,
      ...fields,
      createdAt: time,
      updatedAt: time,
    };
    this.statuses.push(status);
    if (status.state === 'success' && autoInactive) this.deactivatePrior(deployment, status);
    return status;
  }

  // GitHub's auto_inactive: "Adds a new inactive status to all prior non-transient, non-production
  // environment deployments with the same repository and environment name as the created status's
  // deployment. An inactive status is only added to deployments that had a success state."
  private deactivatePrior(deployment: Deployment, created: DeploymentStatus): void {
    const prior = this.deployments.filter(
      (d) =>
        d.id < deployment.id &&
        sameRepo(d, deployment.owner, deployment.repo) &&
        d.environment === created.environment &&
        !d.transientEnvironment &&
        !d.productionEnvironment,
    );
    for (const d of prior) {
      const history = this.statusesOf(d.id);
      if (!history.some((s) => s.state === 'success') || history.at(-1)?.state === 'inactive') continue;
      const last = history.at(-1);
      const time = now();
      this.statuses.push({
        id: this.nextId(),
        deploymentId: d.id,
        state: 'inactive',
        description: '',
        environment: last?.environment ?? d.environment,
        environmentUrl: last?.environmentUrl ?? '',
        logUrl: last?.logUrl ?? '',
        creator: created.creator,
        createdAt: time,
        updatedAt: time,
      });
    }
  }
}

export function sameRepo(item: { owner: string; repo: string }, owner: string, repo: string): boolean {
  return item.owner.toLowerCase() === owner.toLowerCase() && item.repo.toLowerCase() === repo.toLowerCase();
}

// GitHub's timestamps have whole seconds.
export const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
