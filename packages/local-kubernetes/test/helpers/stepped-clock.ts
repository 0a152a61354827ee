// A clock that only moves when a test says so, with the KubernetesClock interface the controllers
// use. advance(ms) fires due timers in time order (ties in the order they were set) and lets the
// microtasks and promise callbacks they start run between timers — the store's listeners run on
// microtasks, and host.resolveImage is a promise — so a test sees the cluster as it is at each
// simulated time.
import type { KubernetesClock } from '../../src/host.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Lets pending microtasks and already-resolved promise chains run (a macrotask turn, a few times). */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class SteppedClock implements KubernetesClock {
  private current: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start = Date.UTC(2026, 10, 30, 12, 0, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, fn: () => void): { cancel(): void } {
    const timer: Timer = { at: this.current + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** How many timers are waiting (a stopped cluster must leave none). */
  pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by ms, firing every timer due on the way, each at its own time. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await settle();
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.current = Math.max(this.current, due.at);
      due.fn();
      await settle();
    }
    this.current = target;
    await settle();
  }

  /** Advances in steps of `step` ms up to `ms`, calling `check` after each (for "at every step" assertions). */
  async walk(ms: number, step: number, check: (elapsed: number) => void): Promise<void> {
    for (let elapsed = step; elapsed <= ms; elapsed += step) {
      await this.advance(step);
      check(elapsed);
    }
  }
}
