// Which tags and OCI labels an image gets, computed from the `tags` input and the git context of
// the run. Pure: no I/O, no environment reads, the clock is a parameter.
//
// # The `tags` input
//
// One rule per line. A rule that does not apply to the run (a `branch` rule on a tag push, `pr`
// outside a pull request) gives no tag; duplicates are dropped and the order of the lines is
// kept, so the first line that applies gives the first tag. Blank lines and lines starting with
// `#` are ignored.
//
// | Rule                      | Gives                                        | Applies when                           |
// | ------------------------- | -------------------------------------------- | -------------------------------------- |
// | `sha`                     | `sha-0123abc` (the commit, 7 characters)     | always (the commit is known)           |
// | `sha-long`                | `sha-0123abc…` (all 40 characters)           | always (the commit is known)           |
// | `branch`                  | `main`, `feature-x` for `feature/x`          | the run is on a branch (refs/heads/…)  |
// | `tag`                     | `v1.2.3`, the git tag as it is               | the run is on a git tag (refs/tags/…)  |
// | `semver:<pattern>`        | `semver:{{version}}` → `1.2.3`               | the git tag is a semantic version      |
// | `pr`                      | `pr-42`                                      | pull_request(_target/_review…) events  |
// | `latest`                  | `latest`                                     | the run is on the default branch       |
// | `raw:<value>` or `<value>`| the value: `stable`, `nightly-{{date}}`      | always (see placeholders)              |
//
// Options follow the rule on the same line, separated by spaces:
// - `prefix=<text>`, `suffix=<text>`: added around the value, e.g. `sha prefix=git-` gives
//   `git-0123abc`, `branch suffix=-alpine` gives `main-alpine`. `sha` and `sha-long` have the
//   default prefix `sha-` and `pr` has `pr-` (as in docker/metadata-action); `sha prefix=` removes it.
// - `on=<condition>[,<condition>…]`: the rule applies only when one of the conditions holds:
//   `default-branch`, `branch`, `tag`, `semver-tag` (a git tag that is a semantic version),
//   `stable-tag` (one without a pre-release part), `pr`, or a GitHub event name (`push`,
//   `schedule`, `workflow_dispatch`, `release`, …). `latest` alone means `latest on=default-branch`;
//   `latest on=stable-tag` moves `latest` with each release instead (to the last one pushed,
//   not the highest version, as in metadata-action).
//
// Semantic versions: a git tag `v1.2.3` or `1.2.3`, optionally with a pre-release (`-rc.1`) and
// build metadata (`+build.5`, dropped as in the semver package). Pattern placeholders:
// `{{version}}` (`1.2.3`, `1.2.3-rc.1`), `{{major}}`, `{{minor}}`, `{{patch}}`, `{{raw}}` (the git
// tag as it is, `v1.2.3`). As in docker/metadata-action, a pre-release only ever gets its full
// version: every semver pattern without `{{version}}` or `{{raw}}` gives `1.2.3-rc.1` on
// `v1.2.3-rc.1` (duplicates then collapse), so `1` and `1.2` never point at a release candidate;
// and a pattern whose finest part is `{{major}}` gives nothing for 0.x versions, which promise no
// compatibility.
//
// Placeholders usable in `raw` values, prefixes and suffixes: `{{branch}}`, `{{tag}}`, `{{sha}}`,
// `{{sha-long}}`, `{{pr}}` (the number), `{{date}}` (UTC, `20240131`), `{{timestamp}}` (UTC,
// `20240131235959`). A rule whose placeholder has no value in the run (`{{tag}}` on a branch
// push) gives nothing.
//
// An empty `tags` input means DEFAULT_TAGS: `semver:{{version}}`, `tag`, `pr`, `branch`, `sha`,
// `latest`. So a push to main gives `main`, `sha-0123abc`, `latest`; a feature branch
// `feature-x`, `sha-0123abc`; a tag v1.2.3 `1.2.3`, `v1.2.3`, `sha-0123abc`; pull request 42
// `pr-42`, `sha-<head>`.
//
// Pull requests: `sha` and `{{sha}}` name the PR head commit (what the author pushed, which
// stays browsable), not the temporary merge commit GITHUB_SHA; the revision label agrees.
//
// Values from git are made valid image tags the way metadata-action does it: every run of
// characters other than letters, digits, `_`, `.` and `-` becomes `-` (`feature/x` → `feature-x`),
// a tag may not start with `.` or `-` (they are dropped), and the value is cut so that the whole
// tag fits in 128 characters with its prefix and suffix. What is written in the rules themselves
// is checked when the input is parsed instead: a literal that is not a valid tag is an input
// error, not silently rewritten.
//
// # Labels
//
// `org.opencontainers.image.` + `created` (the given time, ISO 8601), `source` and `url` (the
// repository page), `revision` (the full commit sha, the PR head for pull requests), `version`
// (see ComputedTags.version), `title` (the repository name), and `description` and `licenses`
// (SPDX id) when the event payload's repository carries them. Unknown values are left out.
import { ParseError, isValidImageTag } from '@aws-containers/core';
import type { GitHubContext } from '@aws-containers/core';

export type TagRuleType = 'sha' | 'sha-long' | 'branch' | 'tag' | 'semver' | 'pr' | 'latest' | 'raw';

/** One parsed line of the `tags` input. */
export interface TagRule {
  readonly type: TagRuleType;
  /** The text the tag is made of, with placeholders: `{{sha}}`, a semver pattern, a raw value. */
  readonly value: string;
  readonly prefix: string;
  readonly suffix: string;
  /** The rule applies only when one of these holds; undefined means always (latest: default-branch). */
  readonly on: readonly string[] | undefined;
  /** The line as written, for messages. */
  readonly source: string;
}

/** A rule gave a tag that is not a valid image tag. */
export class TagError extends Error {
  readonly expected = 'tags that are valid image tags';
  constructor(
    /** The rule as written. */
    readonly rule: string,
    /** The tag it gave. */
    readonly tag: string,
    readonly hint: string,
  ) {
    super(`The tag rule "${rule}" gives ${JSON.stringify(tag)}, which is not a valid image tag. ${hint}`);
    this.name = 'TagError';
  }

  /** What InputReader.addError takes as `given`: the rule, since that is what the user wrote. */
  get given(): string {
    return this.rule;
  }
}

export interface ComputedTags {
  /** Valid, unique image tags in the order of the rules. May be empty: no rule applied. */
  readonly tags: string[];
  /** OCI `org.opencontainers.image.*` labels. */
  readonly labels: Record<string, string>;
  /**
   * The version of the image in the user's words: the semantic version of the git tag (without
   * `v`), else the git tag, else `pr-<n>`, else the branch (each in its tag form). Undefined when
   * the run has none of them.
   */
  readonly version: string | undefined;
  /** Rules that gave an invalid tag. Those tags are not in `tags`; report these as input errors. */
  readonly errors: TagError[];
  /** Rules that gave no tag for this run, each with why, in the user's words (for the log). */
  readonly skipped: SkippedRule[];
}

/** A rule that does not apply to the run: `latest` on a tag push, `pr` on a push. */
export interface SkippedRule {
  /** The rule as written. */
  readonly rule: string;
  /** Why it gives nothing: "the run is not on the default branch (refs/tags/v1.2.3)". */
  readonly why: string;
}

export const TAG_RULES_EXPECTED =
  'tag rules, one a line: sha, sha-long, branch, tag, semver:<pattern>, pr, latest, raw:<value> or a literal tag, each with optional prefix=, suffix= and on=';

/** What an empty `tags` input means. */
export const DEFAULT_TAGS = ['semver:{{version}}', 'tag', 'pr', 'branch', 'sha', 'latest'].join('\n');

const MAX_TAG_LENGTH = 128;

const KEYWORD_RULES: ReadonlyMap<string, { value: string; prefix: string }> = new Map([
  ['sha', { value: '{{sha}}', prefix: 'sha-' }],
  ['sha-long', { value: '{{sha-long}}', prefix: 'sha-' }],
  ['branch', { value: '{{branch}}', prefix: '' }],
  ['tag', { value: '{{tag}}', prefix: '' }],
  ['pr', { value: '{{pr}}', prefix: 'pr-' }],
  ['latest', { value: 'latest', prefix: '' }],
]);
const VALUE_RULES = ['semver', 'raw'] as const;
const RULE_NAMES = [...KEYWORD_RULES.keys(), ...VALUE_RULES];

const CONTEXT_PLACEHOLDERS = ['branch', 'tag', 'sha', 'sha-long', 'pr', 'date', 'timestamp'];
const SEMVER_PLACEHOLDERS = ['version', 'major', 'minor', 'patch', 'raw'];

const CONDITIONS = ['default-branch', 'branch', 'tag', 'semver-tag', 'stable-tag', 'pr'];
// Every event a workflow can run on (docs.github.com, "Events that trigger workflows"); a closed
// list so that a misspelt condition is an error rather than a rule that silently never applies.
const EVENTS = new Set([
  'branch_protection_rule',
  'check_run',
  'check_suite',
  'create',
  'delete',
  'deployment',
  'deployment_status',
  'discussion',
  'discussion_comment',
  'fork',
  'gollum',
  'issue_comment',
  'issues',
  'label',
  'merge_group',
  'milestone',
  'page_build',
  'public',
  'pull_request',
  'pull_request_review',
  'pull_request_review_comment',
  'pull_request_target',
  'push',
  'registry_package',
  'release',
  'repository_dispatch',
  'schedule',
  'status',
  'watch',
  'workflow_call',
  'workflow_dispatch',
  'workflow_run',
]);

const OPTIONS = ['prefix', 'suffix', 'on'] as const;
type OptionName = (typeof OPTIONS)[number];

const TAG_CHARACTERS = /^[A-Za-z0-9_.-]*$/;
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

// ---------------------------------------------------------------------------------------------
// Parsing

/**
 * Parses the `tags` input into rules, checking everything that does not depend on the run:
 * rule names, options, placeholders, and the characters and length of literal text. Throws
 * ParseError naming the line. Blank text gives [] (computeTags then uses DEFAULT_TAGS).
 */
export function parseTagRules(text: string): TagRule[] {
  const rules: TagRule[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    rules.push(parseLine(line, index + 1));
  });
  return rules;
}

function parseLine(line: string, lineNumber: number): TagRule {
  const fail = (problem: string): never => {
    throw new ParseError(TAG_RULES_EXPECTED, line, `Line ${lineNumber}: ${problem}`);
  };
  if (/^type=/.test(line)) {
    fail(
      'this is docker/metadata-action syntax; here a rule is a word with options after spaces, ' +
        'e.g. "semver:{{version}}", "branch prefix=br-", "raw:stable"',
    );
  }
  const [head = '', ...optionWords] = line.split(/\s+/);
  const { type, value, defaultPrefix } = parseHead(head, fail);
  const options = parseOptions(optionWords, fail);
  const prefix = options.get('prefix') ?? defaultPrefix;
  const suffix = options.get('suffix') ?? '';

  const placeholders =
    type === 'semver' ? [...CONTEXT_PLACEHOLDERS, ...SEMVER_PLACEHOLDERS] : CONTEXT_PLACEHOLDERS;
  checkTemplate(value, type === 'raw' ? 'the value' : 'the pattern', placeholders, fail);
  checkTemplate(prefix, 'the prefix', CONTEXT_PLACEHOLDERS, fail);
  checkTemplate(suffix, 'the suffix', CONTEXT_PLACEHOLDERS, fail);
  if (type === 'semver' && !SEMVER_PLACEHOLDERS.some((name) => placeholdersOf(value).includes(name))) {
    fail(`the semver pattern "${value}" uses none of {{version}}, {{major}}, {{minor}}, {{patch}}, {{raw}}`);
  }
  if (/^[.-]/.test(prefix + value + suffix)) {
    fail('a tag cannot start with "." or "-"');
  }
  const literalLength = (prefix + value + suffix).replace(PLACEHOLDER, '').length;
  if (literalLength > MAX_TAG_LENGTH) {
    fail(`the tag has ${literalLength} characters without its placeholders; the limit is ${MAX_TAG_LENGTH}`);
  }

  const on = options.get('on');
  return {
    type,
    value,
    prefix,
    suffix,
    on: on === undefined ? undefined : parseConditions(on, fail),
    source: line,
  };
}

function parseHead(
  head: string,
  fail: (problem: string) => never,
): { type: TagRuleType; value: string; defaultPrefix: string } {
  const keyword = KEYWORD_RULES.get(head);
  if (keyword) return { type: head as TagRuleType, value: keyword.value, defaultPrefix: keyword.prefix };

  const colon = head.indexOf(':');
  if (colon >= 0) {
    const name = head.slice(0, colon);
    const value = head.slice(colon + 1);
    if (name !== 'semver' && name !== 'raw') {
      const known = KEYWORD_RULES.has(name) ? ` ("${name}" takes no value)` : '';
      fail(`unknown rule "${name}:"${known}; rules are ${RULE_NAMES.join(', ')}`);
    }
    if (value === '')
      fail(`"${name}:" needs a value, e.g. ${name === 'semver' ? 'semver:{{version}}' : 'raw:stable'}`);
    return { type: name as TagRuleType, value, defaultPrefix: '' };
  }

  if (head === 'semver')
    fail('"semver" needs a pattern, e.g. semver:{{version}} or semver:{{major}}.{{minor}}');
  if (head === 'raw') fail('"raw" needs a value, e.g. raw:stable');
  // A bare word is a literal tag, which would also swallow a misspelt rule name: `lastest`
  // would quietly push a tag called "lastest". One edit away from a rule is taken as a typo.
  const near = RULE_NAMES.find((name) => editDistance(head.toLowerCase(), name) <= 1);
  if (near) fail(`"${head}" looks like the rule "${near}"; write raw:${head} for a literal tag`);
  return { type: 'raw', value: head, defaultPrefix: '' };
}

function parseOptions(words: readonly string[], fail: (problem: string) => never): Map<OptionName, string> {
  const options = new Map<OptionName, string>();
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) {
      fail(`"${word}" is not an option; options are ${OPTIONS.map((o) => `${o}=`).join(', ')}`);
    }
    const key = word.slice(0, eq);
    if (!(OPTIONS as readonly string[]).includes(key)) {
      fail(`unknown option "${key}"; options are ${OPTIONS.map((o) => `${o}=`).join(', ')}`);
    }
    if (options.has(key as OptionName)) fail(`the option "${key}" is given twice`);
    options.set(key as OptionName, word.slice(eq + 1));
  }
  return options;
}

function parseConditions(text: string, fail: (problem: string) => never): string[] {
  const conditions = text.split(',');
  for (const condition of conditions) {
    if (CONDITIONS.includes(condition) || EVENTS.has(condition)) continue;
    fail(
      condition === ''
        ? '"on=" needs a condition'
        : `unknown condition "${condition}"; use ${CONDITIONS.join(', ')} or a GitHub event name such as push or schedule`,
    );
  }
  return conditions;
}

function checkTemplate(
  template: string,
  what: string,
  allowed: readonly string[],
  fail: (problem: string) => never,
): void {
  for (const name of placeholdersOf(template)) {
    if (!allowed.includes(name)) {
      fail(
        `${what} has the unknown placeholder {{${name}}}; known are ${allowed.map((p) => `{{${p}}}`).join(', ')}`,
      );
    }
  }
  const literal = template.replace(PLACEHOLDER, '');
  if (literal.includes('{{') || literal.includes('}}')) fail(`${what} has an unclosed placeholder`);
  if (!TAG_CHARACTERS.test(literal)) {
    const bad = [...new Set(literal.replace(/[A-Za-z0-9_.-]/g, ''))].join('');
    fail(
      `${what} "${template}" has characters a tag cannot have (${JSON.stringify(bad)}); use letters, digits, _ . -`,
    );
  }
}

function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
}

/** Levenshtein distance with transpositions (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

// ---------------------------------------------------------------------------------------------
// Computing

interface SemVer {
  major: string;
  minor: string;
  patch: string;
  prerelease: string | undefined;
  /** major.minor.patch[-prerelease], without build metadata. */
  version: string;
}

/** What the run is about, reduced to what rules ask for. */
interface RunFacts {
  /** The built commit: the PR head on pull requests. */
  sha: string | undefined;
  /** Only for runs on refs/heads/*: a PR's head branch is not the branch being built. */
  branch: string | undefined;
  tag: string | undefined;
  semver: SemVer | undefined;
  /** Only on pull request events: a merge queue entry is not the PR's own build. */
  pr: number | undefined;
  isDefaultBranch: boolean;
  eventName: string | undefined;
  /** GITHUB_REF, to say what the run is on when a rule does not apply. */
  ref: string | undefined;
  now: Date;
}

const SEMVER =
  /^[vV]?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** `v1.2.3-rc.1+build.5` → 1, 2, 3, rc.1; undefined for anything that is not a semantic version. */
export function parseSemVer(text: string): SemVer | undefined {
  const m = SEMVER.exec(text);
  if (!m) return undefined;
  const [, major = '', minor = '', patch = '', prerelease] = m;
  const version = `${major}.${minor}.${patch}${prerelease ? `-${prerelease}` : ''}`;
  return { major, minor, patch, prerelease, version };
}

/**
 * The tags and labels for this run. `rules` empty means DEFAULT_TAGS. Never throws for a rule
 * that parseTagRules accepted: a tag that still comes out invalid is returned in `errors`.
 */
export function computeTags(rules: readonly TagRule[], context: GitHubContext, now: Date): ComputedTags {
  const facts = factsOf(context, now);
  const tags: string[] = [];
  const errors: TagError[] = [];
  const skipped: SkippedRule[] = [];
  for (const rule of rules.length > 0 ? rules : DEFAULT_TAG_RULES) {
    const result = tagOf(rule, facts);
    if (result instanceof TagError) errors.push(result);
    else if (typeof result !== 'string') skipped.push({ rule: rule.source, why: result.why });
    else if (!tags.includes(result)) tags.push(result);
  }
  const version = versionOf(facts);
  return { tags, labels: labelsOf(context, facts, version), version, errors, skipped };
}

const DEFAULT_TAG_RULES = parseTagRules(DEFAULT_TAGS);

function factsOf(context: GitHubContext, now: Date): RunFacts {
  const isPr = context.eventName?.startsWith('pull_request') ?? false;
  const tag = context.ref?.startsWith('refs/tags/') ? context.tag : undefined;
  return {
    sha: isPr ? (context.prHeadSha ?? context.sha) : context.sha,
    branch: context.ref?.startsWith('refs/heads/') ? context.branch : undefined,
    tag,
    semver: tag === undefined ? undefined : parseSemVer(tag),
    pr: isPr ? context.prNumber : undefined,
    isDefaultBranch: context.isDefaultBranch === true,
    eventName: context.eventName,
    ref: context.ref,
    now,
  };
}

function holds(condition: string, facts: RunFacts): boolean {
  switch (condition) {
    case 'default-branch':
      return facts.isDefaultBranch;
    case 'branch':
      return facts.branch !== undefined;
    case 'tag':
      return facts.tag !== undefined;
    case 'semver-tag':
      return facts.semver !== undefined;
    case 'stable-tag':
      return facts.semver !== undefined && facts.semver.prerelease === undefined;
    case 'pr':
      return facts.pr !== undefined;
    default:
      return facts.eventName === condition;
  }
}

/** The rule's tag, why it gives none in this run, or a TagError. */
function tagOf(rule: TagRule, facts: RunFacts): string | TagError | { why: string } {
  const on = rule.on ?? (rule.type === 'latest' ? ['default-branch'] : undefined);
  if (on && !on.some((condition) => holds(condition, facts))) {
    return {
      why:
        rule.on === undefined
          ? `the run is not on the default branch (${runOn(facts)})`
          : `none of its conditions (on=${on.join(',')}) holds for this run (${runOn(facts)})`,
    };
  }

  let pattern = rule.value;
  if (rule.type === 'semver') {
    const semver = facts.semver;
    if (!semver) {
      return {
        why:
          facts.tag === undefined
            ? `the run is not on a git tag (${runOn(facts)})`
            : `the git tag ${facts.tag} is not a semantic version`,
      };
    }
    const used = placeholdersOf(pattern);
    if (semver.prerelease && !used.includes('version') && !used.includes('raw')) pattern = '{{version}}';
    else if (
      semver.major === '0' &&
      used.includes('major') &&
      !used.some((p) => p !== 'major' && SEMVER_PLACEHOLDERS.includes(p))
    ) {
      return { why: `{{major}} alone gives nothing for a 0.x version (${semver.version})` };
    }
  }

  const missing = [rule.prefix, pattern, rule.suffix]
    .flatMap(placeholdersOf)
    .find((name) => !placeholderValue(name, facts));
  if (missing !== undefined) return { why: noValue(missing, facts) };
  const prefix = expand(rule.prefix, facts);
  const value = expand(pattern, facts);
  const suffix = expand(rule.suffix, facts);

  const room = MAX_TAG_LENGTH - prefix.length - suffix.length;
  if (room <= 0) {
    return new TagError(
      rule.source,
      prefix + value + suffix,
      `Its prefix and suffix alone have ${prefix.length + suffix.length} characters; a tag has at most ${MAX_TAG_LENGTH}`,
    );
  }
  // Only values from git can start with "." or "-" here: literal text was checked when parsed.
  const tag = (prefix + value.slice(0, room) + suffix).replace(/^[.-]+/, '');
  if (!isValidImageTag(tag)) {
    return new TagError(
      rule.source,
      tag,
      tag === ''
        ? 'Nothing is left of the value once characters a tag cannot have are removed; add a prefix'
        : `A tag is 1 to ${MAX_TAG_LENGTH} letters, digits, _ . -, not starting with . or -`,
    );
  }
  return tag;
}

/** What the run is on, for a rule that does not apply: the ref, or the event without one. */
function runOn(facts: RunFacts): string {
  return facts.ref ?? `${facts.eventName ?? 'an unknown'} event without a ref`;
}

/** Why a placeholder has no value in this run. */
function noValue(name: string, facts: RunFacts): string {
  switch (name) {
    case 'branch':
      return `the run is not on a branch (${runOn(facts)})`;
    case 'tag':
    case 'raw':
      return `the run is not on a git tag (${runOn(facts)})`;
    case 'pr':
      return `the run is not a pull request (${facts.eventName ?? 'unknown'} event)`;
    case 'sha':
    case 'sha-long':
      return 'the commit is not known (GITHUB_SHA is not set)';
    default:
      return `{{${name}}} has no value in this run`;
  }
}

/** Fills in placeholders (the caller has checked that each has a value in this run). */
function expand(template: string, facts: RunFacts): string {
  return template.replace(PLACEHOLDER, (_, name: string) => placeholderValue(name, facts) ?? '');
}

function placeholderValue(name: string, facts: RunFacts): string | undefined {
  const iso = facts.now.toISOString();
  switch (name) {
    case 'branch':
      return facts.branch === undefined ? undefined : sanitize(facts.branch);
    case 'tag':
    case 'raw':
      return facts.tag === undefined ? undefined : sanitize(facts.tag);
    case 'sha':
      return facts.sha?.slice(0, 7);
    case 'sha-long':
      return facts.sha;
    case 'pr':
      return facts.pr?.toString();
    case 'date':
      return iso.slice(0, 10).replace(/-/g, '');
    case 'timestamp':
      return iso.slice(0, 19).replace(/[-T:]/g, '');
    case 'version':
    case 'major':
    case 'minor':
    case 'patch':
      return facts.semver?.[name];
    default:
      return undefined;
  }
}

/** metadata-action's rule: each run of characters a tag cannot have becomes one "-". */
function sanitize(value: string): string {
  return value.replace(/[^A-Za-z0-9_.-]+/g, '-');
}

function versionOf(facts: RunFacts): string | undefined {
  if (facts.semver) return facts.semver.version;
  if (facts.tag !== undefined) return sanitize(facts.tag);
  if (facts.pr !== undefined) return `pr-${facts.pr}`;
  if (facts.branch !== undefined) return sanitize(facts.branch);
  return undefined;
}

function labelsOf(
  context: GitHubContext,
  facts: RunFacts,
  version: string | undefined,
): Record<string, string> {
  const repository = record(context.event.repository);
  const license = record(repository.license).spdx_id;
  const labels: Record<string, string | undefined> = {
    created: facts.now.toISOString(),
    description: nonEmptyString(repository.description),
    licenses: license !== 'NOASSERTION' ? nonEmptyString(license) : undefined,
    revision: facts.sha,
    source: context.repositoryUrl,
    title: context.repo,
    url: context.repositoryUrl,
    version,
  };
  return Object.fromEntries(
    Object.entries(labels)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([key, value]) => [`org.opencontainers.image.${key}`, value]),
  );
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}
