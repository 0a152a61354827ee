// Glue to the runner protocol, over @actions/core: the entry point (main and post in one
// bundle), groups, masking, outputs and the job summary. Each lives here once.
import { randomUUID } from 'node:crypto';
import { EOL } from 'node:os';
import * as core from '@actions/core';
import { apiCallTally, describeApiCalls, type ApiCallTally } from './api-calls.js';
import { FailureReported } from './errors.js';
import { formatError } from './format.js';
import { info } from './log.js';
import { cancellationSignal } from './poll.js';

export interface RunContext {
  /** Which step of the action this is. */
  readonly phase: 'main' | 'post';
  /** Aborts on SIGINT/SIGTERM: pass it to waitFor and to SDK calls (`client.send(cmd, { abortSignal })`). */
  readonly signal: AbortSignal;
}

export type Step = (context: RunContext) => Promise<void>;

// The runner runs the same index.js for `main` and `post`; only state saved by main tells them
// apart (it comes back as STATE_isPost), as docker/build-push-action's state-helper does.
const POST_STATE = 'isPost';

/** True when this process is the action's post step. */
export function isPost(): boolean {
  return core.getState(POST_STATE) === 'true';
}

/**
 * The one entry point of a bundle: `await run(main, post)`. Runs main, or post when this is the
 * post step. Anything thrown (or rejected later) is formatted by formatError and reported once
 * with core.setFailed; the exit code is then 1. The stack goes to the debug log only.
 */
export async function run(main: Step, post?: Step): Promise<void> {
  const phase = isPost() ? 'post' : 'main';
  // Saved even without a post function: if action.yml declares `post`, main must not run twice.
  if (phase === 'main') core.saveState(POST_STATE, 'true');
  const step = phase === 'main' ? main : post;
  if (!step) return;

  let failed = false;
  const fail = (err: unknown) => {
    if (failed) return;
    failed = true;
    process.exitCode = 1;
    // The frames only: the message is what the annotation says, and says once.
    const frames = err instanceof Error ? stackFrames(err) : '';
    if (frames) core.debug(frames);
    if (err instanceof FailureReported) {
      // Annotated when it happened; the closing line is plain text.
      if (err.message) info(err.message);
      return;
    }
    core.setFailed(formatError(err));
  };
  // Errors thrown outside the awaited chain (a stray callback) must not crash without a message.
  const onStray = (err: unknown) => {
    fail(err);
    process.exit(1);
  };
  process.on('uncaughtException', onStray);
  process.on('unhandledRejection', onStray);
  const signal = cancellationSignal();
  try {
    await step({ phase, signal });
    // A step that noticed the cancellation and returned quietly must still not look like success.
    if (signal.aborted) fail(signal.reason);
  } catch (err) {
    fail(signal.aborted ? signal.reason : err);
  } finally {
    process.off('uncaughtException', onStray);
    process.off('unhandledRejection', onStray);
  }
  // Cancelled and reported: end now. A handle still open (a watch winding down, a socket) would
  // otherwise keep the process until the grace timer, which exits 143 with the step's report
  // already written — the runner would see a killed step instead of a cancelled one.
  // stdout is a pipe or a file under the runner, both written synchronously on Linux, so nothing
  // printed is lost.
  if (signal.aborted) process.exit(process.exitCode ?? 1);
}

function stackFrames(err: Error): string {
  return (err.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n');
}

/**
 * Runs fn while the runner ignores workflow commands, so that output we do not control (a build's
 * log) cannot set outputs, masks or errors with a line starting `::`. Mask secrets before it.
 */
export async function withoutCommands<T>(fn: () => Promise<T>): Promise<T> {
  const token = randomUUID();
  process.stdout.write(`::stop-commands::${token}${EOL}`);
  try {
    return await fn();
  } finally {
    process.stdout.write(`::${token}::${EOL}`);
  }
}

/** A collapsible log section around one phase; the result or error of fn passes through. */
export function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return core.group(name, fn);
}

/**
 * Masks a secret in every form this suite may print it in, because the runner masks only exact
 * strings:
 * - the value itself, and each of its lines (a multi-line ::add-mask:: is not matched line by line
 *   when the secret is later printed line by line);
 * - base64 of the value, and of `AWS:<value>`: docker keeps registry credentials as
 *   base64("<user>:<password>") in config.json `auths`, and ECR's user is always `AWS`;
 * - the JSON-escaped form, as it appears inside a printed JSON document;
 * - the URL-encoded form, as it appears in a printed URL or form body.
 * Empty values are ignored (masking "" would do nothing useful).
 */
export function maskSecret(value: string | undefined): void {
  if (!value) return;
  for (const form of secretForms(value)) core.setSecret(form);
}

/** The forms maskSecret masks; exported for tests and for a leak scan of logs. */
export function secretForms(value: string): string[] {
  const forms = new Set<string>([value]);
  for (const line of value.split(/\r?\n/)) if (line.trim()) forms.add(line.trim());
  forms.add(Buffer.from(value).toString('base64'));
  forms.add(Buffer.from(`AWS:${value}`).toString('base64'));
  forms.add(JSON.stringify(value).slice(1, -1));
  forms.add(encodeURIComponent(value));
  return [...forms].filter((f) => f !== '');
}

export type OutputValue = string | number | boolean | null | undefined | readonly unknown[] | object;

/**
 * Sets all of a step's outputs in one place, each written the same way: strings as they are,
 * numbers and booleans as `String()` (`true`, `42`), arrays and objects as compact JSON (read them
 * with fromJSON). undefined and null are skipped: an unset output reads as '' in a workflow.
 */
export function setOutputs(outputs: Readonly<Record<string, OutputValue>>): void {
  for (const [name, value] of Object.entries(outputs)) {
    const text = outputText(value);
    if (text !== undefined) core.setOutput(name, text);
  }
}

export function outputText(value: OutputValue): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

// --- Job summary -----------------------------------------------------------------------------

/** Escapes text for HTML, which is what core.summary writes (it escapes nothing itself). */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Escapes text for Markdown (summaries and PR comments written as Markdown, not HTML). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&');
}

export type SummaryCell = string | number | boolean | null | undefined;

/**
 * A job summary built from text, never from HTML strings: every piece is escaped, so an image
 * tag or an AWS message cannot break the page. Nothing is written until write().
 */
export class JobSummary {
  private readonly parts: string[] = [];

  heading(text: string, level: 1 | 2 | 3 | 4 | 5 | 6 = 2): this {
    this.parts.push(`<h${level}>${escapeHtml(text)}</h${level}>`);
    return this;
  }

  paragraph(text: string): this {
    this.parts.push(`<p>${escapeHtml(text)}</p>`);
    return this;
  }

  /** A table with a header row; cells may be numbers, booleans, or empty. */
  table(header: readonly string[], rows: readonly (readonly SummaryCell[])[]): this {
    const head = `<tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
    const body = rows
      .map(
        (row) => `<tr>${row.map((c) => `<td>${escapeHtml(c == null ? '' : String(c))}</td>`).join('')}</tr>`,
      )
      .join('');
    this.parts.push(`<table>${head}${body}</table>`);
    return this;
  }

  /** A two-column table of labelled facts (Image, Tags, Size…): the labels are row headers, no header row. */
  facts(rows: readonly (readonly [string, SummaryCell])[]): this {
    const body = rows
      .map(
        ([label, value]) =>
          `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(value == null ? '' : String(value))}</td></tr>`,
      )
      .join('');
    this.parts.push(`<table>${body}</table>`);
    return this;
  }

  code(text: string, lang?: string): this {
    this.parts.push(codeBlock(text, lang));
    return this;
  }

  /** A collapsed section holding a code block (a diff, a task definition, logs). */
  details(label: string, text: string, lang?: string): this {
    this.parts.push(`<details><summary>${escapeHtml(label)}</summary>${codeBlock(text, lang)}</details>`);
    return this;
  }

  list(items: readonly string[]): this {
    this.parts.push(`<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`);
    return this;
  }

  link(text: string, href: string): this {
    this.parts.push(`<p><a href="${escapeHtml(href)}">${escapeHtml(text)}</a></p>`);
    return this;
  }

  /**
   * A Mermaid diagram, as a ```mermaid fence: GitHub draws those in Markdown, job summaries
   * included, while its sanitizer strips inline <svg>. The blank line before the fence ends the
   * HTML block above it (else the fence would be read as HTML text). Backticks in the source are
   * replaced, so it cannot close the fence early.
   */
  mermaid(source: string): this {
    this.parts.push(`\n\`\`\`mermaid\n${source.replace(/`/g, "'").trimEnd()}\n\`\`\`\n`);
    return this;
  }

  /**
   * What the step's API calls cost (core's api-calls tally: every request, retries included, and
   * how many were throttled), as a line of its own; nothing when no call was made.
   */
  apiCalls(tally: ApiCallTally = apiCallTally()): this {
    if (tally.total.calls === 0) return this;
    return this.facts([['API calls', describeApiCalls(tally)]]);
  }

  /** The HTML that write() appends. */
  toString(): string {
    return this.parts.map((p) => `${p}\n`).join('');
  }

  /**
   * Appends to the job summary. A summary is a courtesy: when the file is missing (a local run)
   * or cannot be written, this warns and returns false instead of failing the action.
   */
  async write(): Promise<boolean> {
    if (!process.env.GITHUB_STEP_SUMMARY) {
      core.debug('GITHUB_STEP_SUMMARY is not set; no job summary written.');
      return false;
    }
    try {
      await core.summary.emptyBuffer().addRaw(this.toString()).write();
      return true;
    } catch (err) {
      core.warning(`Could not write the job summary: ${formatError(err)}`);
      return false;
    } finally {
      core.summary.emptyBuffer();
    }
  }
}

function codeBlock(text: string, lang?: string): string {
  const attrs = lang ? ` lang="${escapeHtml(lang)}"` : '';
  return `<pre${attrs}><code>${escapeHtml(text)}</code></pre>`;
}
