// GitHub's REST API for what the suite writes on a pull request: one sticky comment and a
// deployment with its statuses. Octokit's core makes the requests (typed routes, GitHub's errors);
// ours are the deadline and the step's signal on every request, and the rules GitHub leaves to its
// callers: which comment is ours, and which identity a token writes as.
import { Octokit } from '@octokit/core';
import * as core from '@actions/core';

/** How long one GitHub request may take before it is abandoned. */
export const GITHUB_REQUEST_TIMEOUT_MS = 30_000;

export interface GitHubApiOptions {
  token: string;
  /** GITHUB_API_URL: https://api.github.com, a GHES server's /api/v3, or a test's loopback server. */
  apiUrl: string;
  /** The step's signal: a cancelled step abandons its requests. */
  signal: AbortSignal;
  userAgent: string;
  timeoutMs?: number;
}

export type GitHubApi = Octokit;

export function createGitHubApi(options: GitHubApiOptions): GitHubApi {
  const timeoutMs = options.timeoutMs ?? GITHUB_REQUEST_TIMEOUT_MS;
  return new Octokit({
    auth: options.token,
    baseUrl: options.apiUrl,
    userAgent: options.userAgent,
    log: { debug: () => undefined, info: () => undefined, warn: core.debug, error: core.debug },
    request: {
      fetch: (url: string | URL, init?: RequestInit) =>
        fetch(url, {
          ...init,
          signal: AbortSignal.any([
            options.signal,
            AbortSignal.timeout(timeoutMs),
            ...(init?.signal ? [init.signal] : []),
          ]),
        }),
    },
  });
}

/** The HTTP status of a failed GitHub request (Octokit's RequestError), or undefined. */
export function gitHubStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Who the token writes as: a user token's login (GET /user), or — for an installation token such
 * as GITHUB_TOKEN, which GET /user refuses with 403 — `{ bot: true }`: its comments are a bot's.
 */
export async function tokenIdentity(api: GitHubApi): Promise<{ login: string } | { bot: true }> {
  try {
    const { data } = await api.request('GET /user');
    return { login: data.login };
  } catch (error) {
    if (gitHubStatus(error) === 403) return { bot: true };
    throw error;
  }
}

export interface StickyComment {
  id: number;
  url: string;
  /** What this call did. */
  action: 'created' | 'updated' | 'unchanged';
}

/**
 * Writes `body` as the pull request's one comment carrying `marker`, written by the token's own
 * identity: updated in place when it exists (untouched when equal), created otherwise. A comment
 * of someone else that quotes the marker is not ours.
 */
export async function upsertStickyComment(
  api: GitHubApi,
  target: { owner: string; repo: string; issueNumber: number; marker: string; body: string },
): Promise<StickyComment> {
  const { owner, repo, issueNumber, marker, body } = target;
  const identity = await tokenIdentity(api);
  const ours = (user: { login?: string; type?: string } | null | undefined) =>
    'login' in identity ? user?.login === identity.login : user?.type === 'Bot';
  for (let page = 1; ; page++) {
    const { data } = await api.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      owner,
      repo,
      issue_number: issueNumber,
      per_page: 100,
      page,
    });
    const found = data.find((c) => c.body?.includes(marker) && ours(c.user));
    if (found) {
      if (found.body === body) return { id: Number(found.id), url: found.html_url, action: 'unchanged' };
      const { data: updated } = await api.request(
        'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}',
        {
          owner,
          repo,
          comment_id: Number(found.id),
          body,
        },
      );
      return { id: Number(updated.id), url: updated.html_url, action: 'updated' };
    }
    if (data.length < 100) break;
  }
  const { data: created } = await api.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
    owner,
    repo,
    issue_number: issueNumber,
    body,
  });
  return { id: Number(created.id), url: created.html_url, action: 'created' };
}

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

/**
 * A GitHub deployment of `ref` to a transient `environment` (a preview), with a status: the one
 * already made for that ref and environment is reused, so a re-run adds a status, not a deployment.
 */
export async function recordDeployment(
  api: GitHubApi,
  target: {
    owner: string;
    repo: string;
    ref: string;
    environment: string;
    description: string;
    state: DeploymentState;
    environmentUrl?: string;
    logUrl?: string;
  },
): Promise<{ deploymentId: number; created: boolean; statusWritten: boolean }> {
  const { owner, repo, ref, environment } = target;
  const { data: existing } = await api.request('GET /repos/{owner}/{repo}/deployments', {
    owner,
    repo,
    environment,
    sha: ref,
    per_page: 1,
  });
  let deploymentId = existing[0] === undefined ? undefined : Number(existing[0].id);
  const created = deploymentId === undefined;
  if (deploymentId === undefined) {
    const answer = await api.request('POST /repos/{owner}/{repo}/deployments', {
      owner,
      repo,
      ref,
      environment,
      description: target.description,
      transient_environment: true,
      production_environment: false,
      auto_merge: false,
      // A preview is not gated on the commit's checks: they may still be running.
      required_contexts: [],
    });
    if (!('id' in answer.data))
      throw new Error(`GitHub did not create a deployment: ${answer.data.message ?? ''}`);
    deploymentId = Number(answer.data.id);
  }
  if (!created) {
    // A re-run that found everything as it was says nothing new.
    const { data: latest } = await api.request(
      'GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
      { owner, repo, deployment_id: deploymentId, per_page: 1 },
    );
    const last = latest[0];
    if (last?.state === target.state && (last.environment_url ?? '') === (target.environmentUrl ?? '')) {
      return { deploymentId, created, statusWritten: false };
    }
  }
  await api.request('POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
    owner,
    repo,
    deployment_id: deploymentId,
    state: target.state,
    ...(target.environmentUrl && { environment_url: target.environmentUrl }),
    ...(target.logUrl && { log_url: target.logUrl }),
    auto_inactive: true,
  });
  return { deploymentId, created, statusWritten: true };
}

/** Marks every deployment of `environment` inactive (a torn-down preview); returns how many were active. */
export async function deactivateEnvironment(
  api: GitHubApi,
  target: { owner: string; repo: string; environment: string; logUrl?: string },
): Promise<number> {
  const { owner, repo, environment } = target;
  let changed = 0;
  for (let page = 1; ; page++) {
    const { data } = await api.request('GET /repos/{owner}/{repo}/deployments', {
      owner,
      repo,
      environment,
      per_page: 100,
      page,
    });
    for (const deployment of data) {
      const { data: statuses } = await api.request(
        'GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
        { owner, repo, deployment_id: Number(deployment.id), per_page: 1 },
      );
      if (statuses[0]?.state === 'inactive') continue;
      await api.request('POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
        owner,
        repo,
        deployment_id: Number(deployment.id),
        state: 'inactive',
        ...(target.logUrl && { log_url: target.logUrl }),
      });
      changed++;
    }
    if (data.length < 100) return changed;
  }
}

/** Whether a pull request is open or closed, as GitHub says; `unknown` when GitHub will not say (404, 403). */
export async function pullRequestState(
  api: GitHubApi,
  target: { owner: string; repo: string; pullNumber: number },
): Promise<'open' | 'closed' | 'unknown'> {
  try {
    const { data } = await api.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
      owner: target.owner,
      repo: target.repo,
      pull_number: target.pullNumber,
    });
    return data.state === 'closed' ? 'closed' : 'open';
  } catch (error) {
    const status = gitHubStatus(error);
    if (status === 404 || status === 403) return 'unknown';
    throw error;
  }
}
