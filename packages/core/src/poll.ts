// Waiting for AWS to reach a state: a steady pace, a deadline, an early failure, cancellation.
// The SDK waiters back off exponentially (up to minutes between checks) and turn every API error
// into a timeout; this loop checks at a steady pace and lets API errors through at once.
import { setTimeout as delay } from 'node:timers/promises';
import { ActionError } from './errors.js';

export interface Clock {
  /** Milliseconds on a monotonic scale; only differences matter. */
  now(): number;
}

/** Resolves after `ms`, or as soon as `signal` aborts (it must not reject on abort). */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface WaitProgress<T> {
  readonly value: T;
  /** 1 for the first check. */
  readonly attempt: number;
  readonly elapsedMs: number;
  readonly remainingMs: number;
}

export interface WaitOptions<T> {
  /**
   * Fetches the current state. It receives a signal that aborts on cancellation and at the
   * deadline, to pass to its calls, so a call that never answers cannot hold the wait. A throw
   * ends the wait at once with that error, unless `retryWhen` says it is worth retrying.
   */
  check: (signal: AbortSignal) => Promise<T> | T;
  /** True when the wait succeeded. */
  until: (value: T) => boolean;
  /**
   * A reason to stop now as failed, or undefined to keep waiting. Consulted before `until`, so a
   * state that is both failed and settled (a rolled-back deployment is "stable") counts as failed.
   */
  failWhen?: (value: T) => string | undefined;
  /**
   * Milliseconds between the end of one check and the start of the next, and the base of the
   * back-off after errors. Fixed, never grows.
   */
  intervalMs: number;
  /**
   * The pause after a check that neither finished nor failed, when it depends on what the check
   * saw (a rollout paced by its phase); default intervalMs.
   */
  pace?: (value: T, progress: WaitProgress<T>) => number;
  /** Milliseconds before the first check (default 0: at once). */
  firstCheckAfterMs?: number;
  /** Milliseconds from the start after which the wait gives up; a last check runs at the deadline. */
  timeoutMs: number;
  /** Called after every check that neither finished nor failed the wait. */
  onProgress?: (progress: WaitProgress<T>) => void;
  /**
   * Errors of `check` that are worth trying again (isTransientError: throttling, 5xx, resets,
   * timeouts): the wait backs off (interval, doubling up to MAX_RETRY_DELAY_MS) and checks again
   * until its deadline. Any other error ends the wait at once, thrown. Default: none is retried.
   */
  retryWhen?: (error: unknown) => boolean;
  /** Called before each retry of a check that failed with a retryable error. */
  onRetry?: (retry: WaitRetry) => void;
  /** Abort to stop the wait at once (see cancellationSignal). */
  signal?: AbortSignal;
  clock?: Clock;
  sleep?: Sleep;
}

export interface WaitRetry {
  readonly error: unknown;
  /** Consecutive failed checks so far, 1 for the first. */
  readonly failures: number;
  readonly delayMs: number;
}

/**
 * How a wait ended. A value, not an exception: timeouts and failures are expected outcomes that
 * the caller reports in its own words (with the last state seen). Only errors thrown by `check`
 * (and not retried) or by the predicates are thrown.
 */
export type WaitResult<T> =
  | { readonly status: 'done'; readonly value: T; readonly attempts: number; readonly elapsedMs: number }
  | {
      readonly status: 'failed';
      readonly reason: string;
      readonly value: T;
      readonly attempts: number;
      readonly elapsedMs: number;
    }
  | {
      readonly status: 'timeout';
      readonly last: T | undefined;
      /** The error of the last check, when the wait ran out while checks were failing or hanging. */
      readonly lastError?: unknown;
      readonly attempts: number;
      readonly elapsedMs: number;
    }
  | {
      readonly status: 'cancelled';
      readonly last: T | undefined;
      readonly attempts: number;
      readonly elapsedMs: number;
    };

export const systemClock: Clock = { now: () => performance.now() };

export const systemSleep: Sleep = async (ms, signal) => {
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  }
};

/**
 * A pause that grows with the wait, for states that take as long as they take (an image scan):
 * a quarter of the time waited so far, at least `intervalMs` and at most `maxMs`, shortened by up
 * to a fifth at random so that many jobs started together do not call in step. The answer comes
 * at most a quarter of the wait (and never more than maxMs) after it is there.
 */
export function growingPaceMs(
  elapsedMs: number,
  intervalMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const pause = Math.min(maxMs, Math.max(intervalMs, elapsedMs / 4));
  return Math.round(pause * (0.8 + 0.2 * random()));
}

/** The longest back-off between two checks that failed with a retryable error. */
export const MAX_RETRY_DELAY_MS = 30_000;
/** A check that starts at (or just before) the deadline still gets this long to answer. */
const LAST_CHECK_MS = 5_000;

/** Thrown into a check's signal when the wait's deadline aborts it. */
export class DeadlineExceeded extends ActionError {
  constructor(readonly timeoutMs: number) {
    super(`No answer before the deadline (${Math.round(timeoutMs / 1000)} s)`);
    this.name = 'DeadlineExceeded';
  }
}

export async function waitFor<T>(options: WaitOptions<T>): Promise<WaitResult<T>> {
  const { check, until, failWhen, onProgress, retryWhen, onRetry } = options;
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? systemSleep;
  const signal = options.signal ?? new AbortController().signal;
  if (!(options.intervalMs > 0))
    throw new RangeError(`intervalMs must be positive, got ${options.intervalMs}`);
  if (!(options.timeoutMs >= 0))
    throw new RangeError(`timeoutMs must not be negative, got ${options.timeoutMs}`);

  const start = clock.now();
  const deadline = start + options.timeoutMs;
  const elapsed = () => clock.now() - start;
  let attempts = 0;
  let failures = 0;
  let last: T | undefined;

  if (options.firstCheckAfterMs !== undefined && options.firstCheckAfterMs > 0) {
    await sleep(Math.min(options.firstCheckAfterMs, options.timeoutMs), signal);
  }
  for (;;) {
    if (signal.aborted) return { status: 'cancelled', last, attempts, elapsedMs: elapsed() };
    const checkEnd = Math.max(deadline, clock.now() + Math.min(options.intervalMs, LAST_CHECK_MS));
    const checked = await runCheck(check, signal, checkEnd - clock.now(), options.timeoutMs);
    if (checked.kind === 'cancelled') return { status: 'cancelled', last, attempts, elapsedMs: elapsed() };
    attempts += 1;
    if (checked.kind === 'deadline') {
      return { status: 'timeout', last, lastError: checked.error, attempts, elapsedMs: elapsed() };
    }
    if (checked.kind === 'error') {
      if (signal.aborted) return { status: 'cancelled', last, attempts, elapsedMs: elapsed() };
      if (!retryWhen?.(checked.error)) throw checked.error;
      failures += 1;
      const remainingMs = deadline - clock.now();
      if (remainingMs <= 0) {
        return { status: 'timeout', last, lastError: checked.error, attempts, elapsedMs: elapsed() };
      }
      const backoff = Math.min(
        options.intervalMs * 2 ** (failures - 1),
        Math.max(options.intervalMs, MAX_RETRY_DELAY_MS),
      );
      const delayMs = Math.min(backoff, remainingMs);
      onRetry?.({ error: checked.error, failures, delayMs });
      await sleep(delayMs, signal);
      continue;
    }
    failures = 0;
    const value = checked.value;
    last = value;

    const reason = failWhen?.(value);
    if (reason !== undefined) return { status: 'failed', reason, value, attempts, elapsedMs: elapsed() };
    if (until(value)) return { status: 'done', value, attempts, elapsedMs: elapsed() };

    const remainingMs = deadline - clock.now();
    if (remainingMs <= 0) return { status: 'timeout', last, attempts, elapsedMs: elapsed() };
    const progress: WaitProgress<T> = { value, attempt: attempts, elapsedMs: elapsed(), remainingMs };
    onProgress?.(progress);
    const pauseMs = options.pace?.(value, progress) ?? options.intervalMs;
    await sleep(Math.min(Math.max(0, pauseMs), remainingMs), signal);
  }
}

type CheckOutcome<T> =
  | { kind: 'value'; value: T }
  | { kind: 'error'; error: unknown }
  | { kind: 'deadline'; error: DeadlineExceeded }
  | { kind: 'cancelled' };

/**
 * Runs one check with a signal that aborts on cancellation or after `allowMs`, and settles the
 * moment either happens: a call that ignores its signal is left behind, not waited for. The
 * watchdog is a real timer (a check that hangs, hangs in real time), unref'd and always cleared.
 */
async function runCheck<T>(
  check: (signal: AbortSignal) => Promise<T> | T,
  cancel: AbortSignal,
  allowMs: number,
  timeoutMs: number,
): Promise<CheckOutcome<T>> {
  if (cancel.aborted) return { kind: 'cancelled' };
  const controller = new AbortController();
  let settle: (outcome: CheckOutcome<T>) => void = () => undefined;
  const stopped = new Promise<CheckOutcome<T>>((resolve) => (settle = resolve));
  const onCancel = () => {
    controller.abort(cancel.reason);
    settle({ kind: 'cancelled' });
  };
  cancel.addEventListener('abort', onCancel, { once: true });
  const watchdog = setTimeout(
    () => {
      const error = new DeadlineExceeded(timeoutMs);
      controller.abort(error);
      settle({ kind: 'deadline', error });
    },
    Math.max(0, allowMs),
  );
  watchdog.unref?.();
  const running = Promise.resolve()
    .then(() => check(controller.signal))
    .then(
      (value): CheckOutcome<T> => ({ kind: 'value', value }),
      (error: unknown): CheckOutcome<T> => ({ kind: 'error', error }),
    );
  try {
    return await Promise.race([running, stopped]);
  } finally {
    clearTimeout(watchdog);
    cancel.removeEventListener('abort', onCancel);
  }
}

export interface CancellationOptions {
  /** Default SIGINT and SIGTERM: what the runner sends when a run is cancelled or times out. */
  readonly signals?: readonly NodeJS.Signals[];
  /**
   * Milliseconds the process may keep running after the first signal, to report and clean up,
   * before it exits anyway (the runner itself kills the step about 7.5 s after SIGINT). Default 5000.
   */
  readonly graceMs?: number;
  /** The process to listen on; tests pass an EventEmitter. */
  readonly target?: Pick<NodeJS.Process, 'on' | 'exit'>;
}

let processCancellation: AbortSignal | undefined;

/**
 * An AbortSignal that aborts on SIGINT or SIGTERM, with an ActionError naming the signal as its reason.
 * Listening replaces Node's default "exit at once", so this also guarantees an exit: a second
 * signal, or the grace period running out, ends the process with the conventional 128+n code.
 * Called without options it returns one shared signal for the process.
 */
export function cancellationSignal(options: CancellationOptions = {}): AbortSignal {
  const shared =
    options.signals === undefined && options.target === undefined && options.graceMs === undefined;
  if (shared && processCancellation) return processCancellation;
  const target = options.target ?? process;
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  const graceMs = options.graceMs ?? 5000;
  const controller = new AbortController();
  let received = false;
  const onSignal = (name: NodeJS.Signals) => {
    const code = 128 + (name === 'SIGINT' ? 2 : name === 'SIGTERM' ? 15 : 1);
    if (received) {
      target.exit(code);
      return;
    }
    received = true;
    controller.abort(
      new ActionError(`Cancelled: received ${name} (the run was cancelled, or the step or job timed out).`),
    );
    setTimeout(() => target.exit(code), graceMs).unref();
  };
  for (const s of signals) target.on(s, () => onSignal(s));
  if (shared) processCancellation = controller.signal;
  return controller.signal;
}
