// One clock for the whole server. Three modes:
//   real     now() is wall time;
//   scaled   simulated time runs `timeScale` times faster than wall time (60: a minute per second);
//   stepped  time stands still until a test calls advance(ms).
// Any mode can be pushed forward with advance(ms). Work is scheduled on simulated time with
// setTimer()/sleep()/sleepUntil(); timers fire in due order, and advance() fires the ones it
// passes one by one, at their own due time, letting promise continuations run in between — so
// a simulation (an ECS rollout, a scan that completes later) that awaits clock.sleep() in a loop
// progresses correctly however far a test jumps.
import type { Clock } from '../service.js';

export type ClockMode = 'real' | 'scaled' | 'stepped';

export interface ClockOptions {
  /** Simulated ms per wall ms (default 1). Ignored when stepped. */
  timeScale?: number;
  /** Time stands still until advance(). */
  stepped?: boolean;
  /** Simulated start time (default: now). */
  start?: number | Date;
}

export interface ClockTimer {
  /** Simulated time it fires at. */
  readonly due: number;
  cancel(): void;
}

interface Pending {
  id: number;
  due: number;
  fn: () => void;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class LocalClock implements Clock {
  readonly mode: ClockMode;
  readonly timeScale: number;
  private readonly realAnchor = Date.now();
  private readonly simAnchor: number;
  private offset = 0;
  private timers: Pending[] = [];
  private nextId = 1;
  private realTimer: NodeJS.Timeout | undefined;
  private advancing: Promise<void> = Promise.resolve();
  private disposed = false;

  constructor(options: ClockOptions = {}) {
    const start = options.start instanceof Date ? options.start.getTime() : options.start;
    this.simAnchor = start ?? this.realAnchor;
    this.timeScale = options.stepped ? 0 : (options.timeScale ?? 1);
    if (!(this.timeScale >= 0) || !Number.isFinite(this.timeScale)) {
      throw new Error(`timeScale must be a finite number >= 0, got ${options.timeScale}`);
    }
    this.mode =
      options.stepped || this.timeScale === 0 ? 'stepped' : this.timeScale === 1 ? 'real' : 'scaled';
  }

  /** Simulated ms since the epoch. */
  now(): number {
    return Math.floor(this.simAnchor + (Date.now() - this.realAnchor) * this.timeScale + this.offset);
  }

  date(): Date {
    return new Date(this.now());
  }

  /** Runs fn once simulated time reaches now() + delayMs. */
  setTimer(delayMs: number, fn: () => void): ClockTimer {
    return this.at(this.now() + Math.max(0, delayMs), fn);
  }

  /** Runs fn once simulated time reaches `time`. */
  at(time: number, fn: () => void): ClockTimer {
    const pending: Pending = { id: this.nextId++, due: time, fn };
    if (this.disposed) return { due: time, cancel: () => {} };
    // Keep sorted by due, then insertion order.
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1]!.due > time) i--;
    this.timers.splice(i, 0, pending);
    this.arm();
    return {
      due: time,
      cancel: () => {
        this.timers = this.timers.filter((t) => t !== pending);
        this.arm();
      },
    };
  }

  /** Resolves after `ms` of simulated time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.sleepUntil(this.now() + Math.max(0, ms), signal);
  }

  /** Resolves once simulated time reaches `time`. */
  sleepUntil(time: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const onAbort = () => {
        timer.cancel();
        reject(signal!.reason as Error);
      };
      const timer = this.at(time, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Moves simulated time forward by ms, firing every timer it passes in order (each at its due
   * time, with the event loop turning in between so awaiting code can schedule the next step).
   */
  advance(ms: number): Promise<void> {
    if (!(ms >= 0)) return Promise.reject(new Error(`advance(ms) needs ms >= 0, got ${ms}`));
    const run = async () => {
      const target = this.now() + ms;
      for (;;) {
        const next = this.timers[0];
        if (!next || next.due > target) break;
        if (next.due > this.now()) this.offset += next.due - this.now();
        this.fireDue();
        await yieldToEventLoop();
      }
      if (target > this.now()) this.offset += target - this.now();
      this.fireDue();
      await yieldToEventLoop();
    };
    this.advancing = this.advancing.then(run, run);
    return this.advancing;
  }

  /** Number of scheduled timers (for tests and the admin endpoint). */
  pendingTimers(): number {
    return this.timers.length;
  }

  /** Cancels every timer; the clock still tells time. */
  dispose(): void {
    this.disposed = true;
    this.timers = [];
    if (this.realTimer) clearTimeout(this.realTimer);
    this.realTimer = undefined;
  }

  private fireDue(): void {
    const now = this.now();
    while (this.timers.length > 0 && this.timers[0]!.due <= now) {
      const timer = this.timers.shift()!;
      try {
        timer.fn();
      } catch (error) {
        console.error('local-aws: a clock timer threw:', error);
      }
    }
    this.arm();
  }

  /** In real and scaled modes, a wall-clock timeout for the earliest timer. */
  private arm(): void {
    if (this.realTimer) clearTimeout(this.realTimer);
    this.realTimer = undefined;
    const next = this.timers[0];
    if (!next || this.timeScale === 0 || this.disposed) return;
    const wallMs = Math.max(0, (next.due - this.now()) / this.timeScale);
    this.realTimer = setTimeout(() => this.fireDue(), Math.min(Math.ceil(wallMs), 2 ** 31 - 1));
  }
}
