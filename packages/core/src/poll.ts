// Waiting for AWS to reach a state: a fixed interval, a deadline, an early failure, cancellation.
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
  /** Fetches the current state. A throw (an API error) ends the wait at once with that error. */
  check: (signal: AbortSignal) => Promise<T> | T;
  /** True when the wait succeeded. */
  until: (value: T) => boolean;
  /**
   * A reason to stop now as failed, or undefined to keep waiting. Consulted before `until`, so a
   * state that is both failed and settled (a rolled-back deployment is "stable") counts as failed.
   */
  failWhen?: (value: T) => string | undefined;
  /** Milliseconds between the end of one check and the start of the next. Fixed, never grows. */
  intervalMs: number;
  /** Milliseconds from the start after which the wait gives up; a last check runs at the deadline. */
  timeoutMs: number;
  /** Called after every check that neither finished nor failed the wait. */
  onProgress?: (progress: WaitProgress<T>) => void;
  /** Abort to stop the wait at once (see cancellationSignal). */
  signal?: AbortSignal;
  clock?: Clock;
  sleep?: Sleep;
}

/**
 * How a wait ended. A value, not an exception: timeouts and failures are expected outcomes that
 * the caller reports in its own words (with the last state seen). Only errors thrown by `check`
 * or the predicates are thrown.
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

export async function waitFor<T>(options: WaitOptions<T>): Promise<WaitResult<T>> {
  const { check, until, failWhen, onProgress } = options;
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
  let last: T | undefined;

  for (;;) {
    if (signal.aborted) return { status: 'cancelled', last, attempts, elapsedMs: elapsed() };
    const checked = await untilAborted(
      Promise.resolve().then(() => check(signal)),
      signal,
    );
    if (!checked.settled) return { status: 'cancelled', last, attempts, elapsedMs: elapsed() };
    const value = checked.value;
    attempts += 1;
    last = value;

    const reason = failWhen?.(value);
    if (reason !== undefined) return { status: 'failed', reason, value, attempts, elapsedMs: elapsed() };
    if (until(value)) return { status: 'done', value, attempts, elapsedMs: elapsed() };

    const remainingMs = deadline - clock.now();
    if (remainingMs <= 0) return { status: 'timeout', last, attempts, elapsedMs: elapsed() };
    onProgress?.({ value, attempt: attempts, elapsedMs: elapsed(), remainingMs });
    await sleep(Math.min(options.intervalMs, remainingMs), signal);
  }
}

/** Settles with the promise, or with `settled: false` the moment `signal` aborts. */
async function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal,
): Promise<{ settled: true; value: T } | { settled: false }> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return { settled: false };
  }
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<{ settled: false }>((resolve) => {
    onAbort = () => resolve({ settled: false });
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise.then((value) => ({ settled: true as const, value })), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
    // A check still running after a cancel may fail later; nobody is waiting for it any more.
    promise.catch(() => undefined);
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
