// PR preview environments (issue 14): the names, tags, routing and the decisions of a preview, as
// pure functions of the inputs and what AWS shows. What a preview of PR <n> of a base service is:
// - the service `<base>-pr-<n>` in the base's cluster, a copy of the base's network
//   configuration, capacity strategy and roles, running its own task definition family
//   `<base>-pr-<n>` (so a teardown deletes only the preview's revisions);
// - with `alb` routing, an `ip` target group `pv-<n>-<hash>` (ELBv2 names are ≤ 32 characters and
//   unique per region: the hash of the cluster, base and PR keeps two repositories' PR 7 apart)
//   and a host-header rule `pr-<n>.<preview-domain>` on `listener-arn`, at a priority chosen from
//   the same hash and moved on (after re-reading the rules) when another preview took it;
// - every resource tagged with PREVIEW_TAGS, which is how sweep finds previews and their age.
import { createHash } from 'node:crypto';

export type PreviewMode = 'deploy' | 'teardown' | 'sweep';
export type PreviewRouting = 'alb' | 'public-ip' | 'none';
export type PreviewState = 'CREATED' | 'UPDATED' | 'DELETED' | 'SKIPPED';

/** The preview inputs, parsed (see getInputs). */
export interface PreviewInputs {
  mode: PreviewMode;
  baseService: string;
  /** The pull request; undefined for sweep, which finds its previews by tag. */
  prNumber: number | undefined;
  routing: PreviewRouting;
  listenerArn: string | undefined;
  domain: string | undefined;
  ttlMs: number;
  maxPreviews: number;
  /** Never printed; masked when read. */
  githubToken: string | undefined;
}

export const PREVIEW_TAG = 'aws-containers:preview';
export const PREVIEW_TAGS = {
  preview: PREVIEW_TAG,
  repository: 'aws-containers:repository',
  pr: 'aws-containers:pr',
  commit: 'aws-containers:commit',
  createdAt: 'aws-containers:created-at',
  expiresAt: 'aws-containers:expires-at',
} as const;

/** ALB listener rule priorities previews use: high, so a team's own rules (low numbers) win first. */
export const PREVIEW_PRIORITIES = { min: 40_000, max: 49_999 } as const;

export interface PreviewNames {
  service: string;
  family: string;
  targetGroup: string;
  host: string | undefined;
  /** The first priority tried; see nextPriority. */
  priority: number;
}

/** The hash that names and places one preview: cluster, base service and PR together. */
function previewHash(cluster: string, baseService: string, prNumber: number): string {
  return createHash('sha256').update(`${cluster}\n${baseService}\n${prNumber}`).digest('hex');
}

/** The names of PR `prNumber`'s preview of `baseService` in `cluster` (pure). */
export function previewNames(
  cluster: string,
  baseService: string,
  prNumber: number,
  domain: string | undefined,
): PreviewNames {
  const hash = previewHash(cluster, baseService, prNumber);
  const span = PREVIEW_PRIORITIES.max - PREVIEW_PRIORITIES.min + 1;
  return {
    service: `${baseService}-pr-${prNumber}`,
    family: `${baseService}-pr-${prNumber}`,
    targetGroup: `pv-${prNumber}-${hash.slice(0, 8)}`,
    host: domain === undefined ? undefined : `pr-${prNumber}.${domain}`,
    priority: PREVIEW_PRIORITIES.min + (parseInt(hash.slice(8, 16), 16) % span),
  };
}

/**
 * The priority to try after `tried` was refused with PriorityInUse, given the priorities the
 * listener's rules hold now (re-read): the next free one after it, wrapping inside
 * PREVIEW_PRIORITIES; undefined when every one is taken (pure).
 */
export function nextPriority(tried: number, inUse: ReadonlySet<number>): number | undefined {
  const span = PREVIEW_PRIORITIES.max - PREVIEW_PRIORITIES.min + 1;
  for (let step = 0; step < span; step++) {
    const candidate = PREVIEW_PRIORITIES.min + ((tried - PREVIEW_PRIORITIES.min + step) % span);
    if (!inUse.has(candidate)) return candidate;
  }
  return undefined;
}

/** The tags of everything a preview creates (pure). Times are ISO 8601. */
export function previewTags(options: {
  repository: string;
  prNumber: number;
  commit: string | undefined;
  createdAt: Date;
  ttlMs: number;
}): Record<string, string> {
  return {
    [PREVIEW_TAGS.preview]: 'true',
    [PREVIEW_TAGS.repository]: options.repository,
    [PREVIEW_TAGS.pr]: String(options.prNumber),
    ...(options.commit && { [PREVIEW_TAGS.commit]: options.commit }),
    [PREVIEW_TAGS.createdAt]: options.createdAt.toISOString(),
    [PREVIEW_TAGS.expiresAt]: new Date(options.createdAt.getTime() + options.ttlMs).toISOString(),
  };
}

/** A preview as sweep sees it: a service's preview tags. */
export interface LivePreview {
  service: string;
  tags: Readonly<Record<string, string>>;
}

/**
 * Why sweep tears a preview down, or undefined to keep it (pure): its expiry has passed, or its
 * pull request is closed. A service without the preview tag is never a preview, whatever its name.
 */
export function sweepReason(
  preview: LivePreview,
  now: Date,
  prState: 'open' | 'closed' | 'unknown',
): string | undefined {
  if (preview.tags[PREVIEW_TAGS.preview] !== 'true') return undefined;
  const expires = Date.parse(preview.tags[PREVIEW_TAGS.expiresAt] ?? '');
  if (Number.isFinite(expires) && expires <= now.getTime()) {
    return `its TTL ended at ${new Date(expires).toISOString()}`;
  }
  if (prState === 'closed') return `pull request #${preview.tags[PREVIEW_TAGS.pr] ?? '?'} is closed`;
  return undefined;
}

/**
 * max-previews: a new preview is refused, before anything is created, when the repository's live
 * previews already number `max` (pure). Updating an existing preview is never refused.
 */
export function previewLimitProblem(
  live: readonly LivePreview[],
  service: string,
  max: number,
): string | undefined {
  if (live.some((p) => p.service === service)) return undefined;
  if (live.length < max) return undefined;
  const list = live.map((p) => `${p.service} (PR #${p.tags[PREVIEW_TAGS.pr] ?? '?'})`).join(', ');
  return `max-previews is ${max} and ${live.length} previews are live: ${list}. Close a pull request or tear one down (preview: teardown), or raise max-previews.`;
}

/** The marker that finds the preview's sticky comment among a PR's comments. */
export function commentMarker(service: string): string {
  return `<!-- aws-containers:preview ${service} -->`;
}

/** The sticky comment's body (pure): what a reviewer needs — where, which commit, in what state, until when. */
export function commentBody(options: {
  service: string;
  url: string | undefined;
  commit: string | undefined;
  status: string;
  expiresAt: string | undefined;
  runUrl: string | undefined;
}): string {
  const rows = [
    ['Preview', options.url ? `<${options.url}>` : '(no URL: routing is none)'],
    ['Commit', options.commit ?? '(unknown)'],
    ['Status', options.status],
    ['Expires', options.expiresAt ?? '(never)'],
    ...(options.runUrl ? [['Run', options.runUrl]] : []),
  ];
  return [
    commentMarker(options.service),
    `**Preview environment** \`${options.service}\``,
    '',
    '| | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
  ].join('\n');
}
