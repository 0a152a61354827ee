// What the workflow run is about (commit, branch, tag, pull request, links), read once from the
// runner's environment and the event payload. Fields the run does not have are undefined.
import { readFileSync } from 'node:fs';

export interface GitHubContext {
  /** `push`, `pull_request`, `workflow_dispatch`, … */
  readonly eventName: string | undefined;
  /** GITHUB_SHA: for pull_request events the merge commit, not the PR head (see prHeadSha). */
  readonly sha: string | undefined;
  /** The first 7 characters of sha. */
  readonly shortSha: string | undefined;
  /** `refs/heads/main`, `refs/tags/v1.2.3`, `refs/pull/42/merge`. */
  readonly ref: string | undefined;
  /** GITHUB_REF_NAME: `main`, `v1.2.3`, `42/merge`. */
  readonly refName: string | undefined;
  /** The branch: from refs/heads/*, or the PR's head branch (GITHUB_HEAD_REF) on pull_request events. */
  readonly branch: string | undefined;
  /** The tag name, for refs/tags/*. */
  readonly tag: string | undefined;
  /** The pull request number, on pull_request(_target) events and for a merge queue's entry. */
  readonly prNumber: number | undefined;
  /** The PR head commit (`pull_request.head.sha`): what the author pushed, used for sha tags. */
  readonly prHeadSha: string | undefined;
  /** The PR's base branch (GITHUB_BASE_REF). */
  readonly prBaseBranch: string | undefined;
  /**
   * True when the PR's head is another repository (a fork): its pull_request runs get no secrets
   * and a read-only token. undefined when not a PR event or the payload does not say.
   */
  readonly prFromFork: boolean | undefined;
  /** The pull_request event's action: `opened`, `synchronize`, `closed`, … */
  readonly prAction: string | undefined;
  /** `owner/name` */
  readonly repository: string | undefined;
  readonly owner: string | undefined;
  readonly repo: string | undefined;
  /** `https://github.com` or the GHES server. */
  readonly serverUrl: string;
  /** `https://api.github.com` or the GHES API. */
  readonly apiUrl: string;
  /** `https://github.com/owner/name` */
  readonly repositoryUrl: string | undefined;
  readonly runId: string | undefined;
  readonly runAttempt: string | undefined;
  readonly runNumber: string | undefined;
  /** This run (and attempt): `https://github.com/owner/name/actions/runs/123/attempts/2`. */
  readonly runUrl: string | undefined;
  /** From the event payload's repository.default_branch. */
  readonly defaultBranch: string | undefined;
  /** True on a push or dispatch to the default branch; undefined when the default branch is unknown. */
  readonly isDefaultBranch: boolean | undefined;
  readonly actor: string | undefined;
  readonly workspace: string | undefined;
  /** The parsed event payload; {} when GITHUB_EVENT_PATH is unset, missing or not JSON. */
  readonly event: Readonly<Record<string, unknown>>;
}

const PR_EVENTS = new Set([
  'pull_request',
  'pull_request_target',
  'pull_request_review',
  'pull_request_review_comment',
]);

export function getGitHubContext(env: NodeJS.ProcessEnv = process.env): GitHubContext {
  const event = readEvent(env.GITHUB_EVENT_PATH);
  const eventName = nonEmpty(env.GITHUB_EVENT_NAME);
  const sha = nonEmpty(env.GITHUB_SHA);
  const ref = nonEmpty(env.GITHUB_REF);
  const isPr = eventName !== undefined && PR_EVENTS.has(eventName);
  const pullRequest = record(event.pull_request);

  const refBranch = ref?.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
  const tag = ref?.startsWith('refs/tags/') ? ref.slice('refs/tags/'.length) : undefined;
  const branch = isPr ? (nonEmpty(env.GITHUB_HEAD_REF) ?? str(record(pullRequest.head).ref)) : refBranch;
  const prNumber = isPr
    ? (positiveInt(pullRequest.number) ?? positiveInt(event.number) ?? prFromRef(ref))
    : eventName === 'merge_group'
      ? prFromMergeQueue(str(record(event.merge_group).head_ref) ?? ref)
      : undefined;

  const repository = nonEmpty(env.GITHUB_REPOSITORY) ?? str(record(event.repository).full_name);
  const [owner, repo] = repository?.includes('/') ? repository.split('/', 2) : [undefined, undefined];
  const serverUrl = (nonEmpty(env.GITHUB_SERVER_URL) ?? 'https://github.com').replace(/\/+$/, '');
  const repositoryUrl = repository ? `${serverUrl}/${repository}` : undefined;
  const runId = nonEmpty(env.GITHUB_RUN_ID);
  const runAttempt = nonEmpty(env.GITHUB_RUN_ATTEMPT);
  const runUrl =
    repositoryUrl && runId
      ? `${repositoryUrl}/actions/runs/${runId}${runAttempt ? `/attempts/${runAttempt}` : ''}`
      : undefined;
  const defaultBranch = str(record(event.repository).default_branch);

  return {
    eventName,
    sha,
    shortSha: sha?.slice(0, 7),
    ref,
    refName: nonEmpty(env.GITHUB_REF_NAME) ?? refNameOf(ref),
    branch,
    tag,
    prNumber,
    prHeadSha: isPr ? str(record(pullRequest.head).sha) : undefined,
    prBaseBranch: isPr ? (nonEmpty(env.GITHUB_BASE_REF) ?? str(record(pullRequest.base).ref)) : undefined,
    prFromFork: isPr ? forkOf(pullRequest) : undefined,
    prAction: isPr ? str(event.action) : undefined,
    repository,
    owner,
    repo,
    serverUrl,
    apiUrl: (nonEmpty(env.GITHUB_API_URL) ?? 'https://api.github.com').replace(/\/+$/, ''),
    repositoryUrl,
    runId,
    runAttempt,
    runNumber: nonEmpty(env.GITHUB_RUN_NUMBER),
    runUrl,
    defaultBranch,
    isDefaultBranch: defaultBranch === undefined ? undefined : refBranch === defaultBranch,
    actor: nonEmpty(env.GITHUB_ACTOR),
    workspace: nonEmpty(env.GITHUB_WORKSPACE),
    event,
  };
}

function forkOf(pullRequest: Record<string, unknown>): boolean | undefined {
  const head = str(record(record(pullRequest.head).repo).full_name);
  const base = str(record(record(pullRequest.base).repo).full_name);
  if (head === undefined || base === undefined) return undefined;
  return head.toLowerCase() !== base.toLowerCase();
}

/** The event payload, or {} when there is none: local runs and tests have no event file. */
function readEvent(path: string | undefined): Record<string, unknown> {
  if (!path) return {};
  try {
    return record(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return {};
  }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

function prFromRef(ref: string | undefined): number | undefined {
  const m = ref ? /^refs\/pull\/(\d+)\/(?:merge|head)$/.exec(ref) : null;
  return m ? Number(m[1]) : undefined;
}

// A merge queue ref: refs/heads/gh-readonly-queue/<base>/pr-<number>-<sha>
function prFromMergeQueue(ref: string | undefined): number | undefined {
  const m = ref ? /\/pr-(\d+)-[0-9a-f]+$/.exec(ref) : null;
  return m ? Number(m[1]) : undefined;
}

function refNameOf(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  return ref.replace(/^refs\/(?:heads|tags|pull)\//, '');
}
