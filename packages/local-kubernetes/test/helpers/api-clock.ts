// The cluster clock of the API tests: it moves only when a test says so (ages in tables, log
// sinceSeconds); timers fire in time order on advance(). The API itself sets none.
import type { KubernetesClock } from '../../src/host.js';

export class ManualClock implements KubernetesClock {
  private timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];

  constructor(private current = Date.UTC(2026, 10, 30, 12, 0, 0)) {}

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, fn: () => void): { cancel(): void } {
    const timer = { at: this.current + Math.max(0, delayMs), fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.cancelled = true;
      this.current = due.at;
      due.fn();
    }
    this.current = target;
  }
}
