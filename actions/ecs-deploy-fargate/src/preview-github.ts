// The GitHub side of a preview: the sticky PR comment and the transient deployment. The preview
// in AWS is the step's result; when GitHub refuses a write (a token without pull-requests: write
// or deployments: write), the step says so as a warning naming the permission, and the preview
// stays up.
import * as core from '@actions/core';
import {
  createGitHubApi,
  deactivateEnvironment,
  fence,
  formatError,
  getGitHubContext,
  gitHubStatus,
  pullRequestState,
  recordDeployment,
  upsertStickyComment,
  type DeploymentState,
  type GitHubApi,
} from '@aws-containers/core';
import { commentBody, commentMarker } from './preview.js';
import { ACTION } from './version.js';

export interface PreviewAnnouncement {
  service: string;
  prNumber: number;
  url: string | undefined;
  commit: string | undefined;
  /** For people: "ready", "failed: …", "torn down". */
  status: string;
  expiresAt: string | undefined;
  deploymentState: DeploymentState;
}

/** What was written on GitHub, for the log and the summary. */
export interface GitHubWrites {
  comment?: 'created' | 'updated' | 'unchanged';
  commentUrl?: string;
  deployment?: 'created' | 'updated' | 'unchanged' | 'inactive';
  /** Writes GitHub refused, each with why. */
  refused: string[];
}

export function previewEnvironment(service: string): string {
  return `preview/${service}`;
}

export function gitHubApi(token: string, signal: AbortSignal): GitHubApi {
  const github = getGitHubContext();
  return createGitHubApi({
    token,
    apiUrl: github.apiUrl,
    signal,
    userAgent: `aws-containers-${ACTION.name}/${ACTION.version}`,
  });
}

const PERMISSION: Record<string, string> = {
  comment: 'pull-requests: write',
  deployment: 'deployments: write',
};

async function attempt(
  writes: GitHubWrites,
  what: 'comment' | 'deployment',
  signal: AbortSignal,
  fn: () => Promise<void>,
): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (signal.aborted) throw error;
    const status = gitHubStatus(error);
    const why =
      status === 403 || status === 404
        ? `GitHub refused the ${what} (${status}): give the job \`permissions: ${PERMISSION[what]}\``
        : `the ${what} could not be written: ${formatError(error)}`;
    writes.refused.push(why);
    core.warning(fence(why));
  }
}

/** Writes (or updates) the sticky comment and the deployment status for the preview. */
export async function announcePreview(
  token: string,
  preview: PreviewAnnouncement,
  signal: AbortSignal,
): Promise<GitHubWrites> {
  const github = getGitHubContext();
  const writes: GitHubWrites = { refused: [] };
  if (!github.owner || !github.repo) {
    writes.refused.push('GITHUB_REPOSITORY is not set: nothing written on GitHub');
    return writes;
  }
  const { owner, repo } = github;
  const client = gitHubApi(token, signal);
  await attempt(writes, 'comment', signal, async () => {
    const comment = await upsertStickyComment(client, {
      owner,
      repo,
      issueNumber: preview.prNumber,
      marker: commentMarker(preview.service),
      body: commentBody({
        service: preview.service,
        url: preview.url,
        commit: preview.commit,
        status: preview.status,
        expiresAt: preview.expiresAt,
        runUrl: github.runUrl,
      }),
    });
    writes.comment = comment.action;
    writes.commentUrl = comment.url;
  });
  await attempt(writes, 'deployment', signal, async () => {
    const environment = previewEnvironment(preview.service);
    if (preview.deploymentState === 'inactive') {
      await deactivateEnvironment(client, {
        owner,
        repo,
        environment,
        ...(github.runUrl && { logUrl: github.runUrl }),
      });
      writes.deployment = 'inactive';
      return;
    }
    if (!preview.commit) throw new Error('no commit to record the deployment of');
    const recorded = await recordDeployment(client, {
      owner,
      repo,
      ref: preview.commit,
      environment,
      description: `PR #${preview.prNumber} preview (${preview.service})`,
      state: preview.deploymentState,
      ...(preview.url && { environmentUrl: preview.url }),
      ...(github.runUrl && { logUrl: github.runUrl }),
    });
    writes.deployment = recorded.created ? 'created' : recorded.statusWritten ? 'updated' : 'unchanged';
  });
  return writes;
}

/** The state of each pull request, for sweep: `unknown` without a token or an answer. */
export async function pullRequestStates(
  token: string | undefined,
  numbers: readonly number[],
  signal: AbortSignal,
): Promise<Map<number, 'open' | 'closed' | 'unknown'>> {
  const states = new Map<number, 'open' | 'closed' | 'unknown'>();
  const github = getGitHubContext();
  if (!token || !github.owner || !github.repo) {
    for (const n of numbers) states.set(n, 'unknown');
    return states;
  }
  const { owner, repo } = github;
  const client = gitHubApi(token, signal);
  for (const n of numbers) states.set(n, await pullRequestState(client, { owner, repo, pullNumber: n }));
  return states;
}
