import { EventEmitter } from 'node:events';
import { ActionError } from '../src/errors.js';
import { isTransientError } from '../src/format.js';
import { DeadlineExceeded, cancellationSignal, growingPaceMs, systemSleep, waitFor } from '../src/poll.js';
import type { Clock, Sleep, WaitOptions, WaitProgress } from '../src/poll.js';

/** Time that moves only when the code under test sleeps or a check takes time. */
function fakeTime() {
  let now = 1_000;
  const sleeps: number[] = [];
  const clock: Clock = { now: () => now };
  const sleep: Sleep = async (ms) => {
    sleeps.push(ms);
    now += ms;
  };
  return { clock, sleep, sleeps, advance: (ms: number) => (now += ms) };
}

interface Service {
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  reason?: string;
}

/** A check that returns the scripted states in order, each check taking `checkMs`. */
function scripted(time: ReturnType<typeof fakeTime>, states: Service[], checkMs = 0) {
  let i = 0;
  return async () => {
    time.advance(checkMs);
    const s = states[Math.min(i, states.length - 1)] as Service;
    i += 1;
    return s;
  };
}

const pending: Service = { rolloutState: 'IN_PROGRESS' };
const completed: Service = { rolloutState: 'COMPLETED' };
const failed: Service = { rolloutState: 'FAILED', reason: 'circuit breaker: 3 tasks failed' };

function options(
  time: ReturnType<typeof fakeTime>,
  states: Service[],
  extra: Partial<WaitOptions<Service>> = {},
) {
  return {
    check: scripted(time, states),
    until: (s: Service) => s.rolloutState === 'COMPLETED',
    failWhen: (s: Service) => (s.rolloutState === 'FAILED' ? s.reason : undefined),
    intervalMs: 5_000,
    timeoutMs: 60_000,
    clock: time.clock,
    sleep: time.sleep,
    ...extra,
  } satisfies WaitOptions<Service>;
}

describe('waitFor', () => {
  test.each([
    ['done at once', [completed], { status: 'done', value: completed, attempts: 1, elapsedMs: 0 }, []],
    [
      'done after three checks, at a fixed interval',
      [pending, pending, completed],
      { status: 'done', value: completed, attempts: 3, elapsedMs: 10_000 },
      [5_000, 5_000],
    ],
    [
      'fails early with the reason',
      [pending, failed],
      {
        status: 'failed',
        reason: 'circuit breaker: 3 tasks failed',
        value: failed,
        attempts: 2,
        elapsedMs: 5_000,
      },
      [5_000],
    ],
    [
      'times out with the last value; a last check runs at the deadline',
      [pending],
      { status: 'timeout', last: pending, attempts: 13, elapsedMs: 60_000 },
      Array(12).fill(5_000),
    ],
  ])('%s', async (_name, states, expected, sleeps) => {
    const time = fakeTime();
    await expect(waitFor(options(time, states))).resolves.toEqual(expected);
    expect(time.sleeps).toEqual(sleeps);
  });

  test('pace sets each pause from what the check saw; the first check can wait', async () => {
    const time = fakeTime();
    const slow: Service = { rolloutState: 'IN_PROGRESS', reason: 'provisioning' };
    const result = await waitFor(
      options(time, [slow, slow, pending, completed], {
        firstCheckAfterMs: 3_000,
        pace: (s) => (s.reason === 'provisioning' ? 10_000 : 5_000),
      }),
    );
    expect(time.sleeps).toEqual([3_000, 10_000, 10_000, 5_000]);
    expect(result).toMatchObject({ status: 'done', attempts: 4, elapsedMs: 28_000 });
  });

  test('a paced pause is still cut to the deadline', async () => {
    const time = fakeTime();
    const result = await waitFor(options(time, [pending], { timeoutMs: 15_000, pace: () => 10_000 }));
    expect(time.sleeps).toEqual([10_000, 5_000]);
    expect(result).toMatchObject({ status: 'timeout', attempts: 3 });
  });

  test('failWhen wins over until for a state that is both', async () => {
    const time = fakeTime();
    const result = await waitFor({ ...options(time, [failed]), until: () => true });
    expect(result.status).toBe('failed');
  });

  test('the last sleep is cut to the deadline, then one more check runs', async () => {
    const time = fakeTime();
    const result = await waitFor(options(time, [pending], { intervalMs: 7_000, timeoutMs: 10_000 }));
    expect(time.sleeps).toEqual([7_000, 3_000]);
    expect(result).toMatchObject({ status: 'timeout', attempts: 3, elapsedMs: 10_000 });
  });

  test('time spent in checks counts against the deadline', async () => {
    const time = fakeTime();
    const result = await waitFor({
      ...options(time, [pending], { intervalMs: 1_000, timeoutMs: 10_000 }),
      check: scripted(time, [pending], 4_000),
    });
    // checks end at 4 s, 9 s and 14 s: the last sleep is cut to the 1 s left, the last check overruns
    expect(result).toMatchObject({ status: 'timeout', attempts: 3, elapsedMs: 14_000 });
    expect(time.sleeps).toEqual([1_000, 1_000]);
  });

  test('a zero timeout checks once', async () => {
    const time = fakeTime();
    const result = await waitFor(options(time, [pending], { timeoutMs: 0 }));
    expect(result).toMatchObject({ status: 'timeout', attempts: 1, last: pending });
  });

  test('progress is reported after each pending check', async () => {
    const time = fakeTime();
    const seen: WaitProgress<Service>[] = [];
    await waitFor(options(time, [pending, pending, completed], { onProgress: (p) => seen.push(p) }));
    expect(seen).toEqual([
      { value: pending, attempt: 1, elapsedMs: 0, remainingMs: 60_000 },
      { value: pending, attempt: 2, elapsedMs: 5_000, remainingMs: 55_000 },
    ]);
  });

  test('an error thrown by check propagates at once, not retried until the deadline', async () => {
    const time = fakeTime();
    let calls = 0;
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    const result = waitFor({
      ...options(time, [pending]),
      check: async () => {
        calls += 1;
        if (calls === 2) throw denied;
        return pending;
      },
    });
    await expect(result).rejects.toBe(denied);
    expect(calls).toBe(2);
    expect(time.sleeps).toEqual([5_000]);
  });

  const throttled = () =>
    Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400, attempts: 5 },
    });
  const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

  test('transient errors are retried with a doubling back-off, then the wait goes on', async () => {
    const time = fakeTime();
    const errors = [throttled(), reset(), throttled()];
    let calls = 0;
    const retries: number[] = [];
    const result = await waitFor({
      ...options(time, [pending]),
      retryWhen: isTransientError,
      onRetry: ({ delayMs }) => retries.push(delayMs),
      check: async () => {
        calls += 1;
        const error = errors.shift();
        if (error) throw error;
        return calls >= 5 ? completed : pending;
      },
    });
    expect(result).toMatchObject({ status: 'done', attempts: 5 });
    expect(retries).toEqual([5_000, 10_000, 20_000]);
    // back-off sleeps, then the fixed interval once a check answers again
    expect(time.sleeps).toEqual([5_000, 10_000, 20_000, 5_000]);
  });

  test('transient errors until the deadline end as a timeout that carries the last error', async () => {
    const time = fakeTime();
    const last = throttled();
    const result = await waitFor({
      ...options(time, [pending], { timeoutMs: 30_000 }),
      retryWhen: isTransientError,
      check: async () => {
        throw last;
      },
    });
    expect(result).toMatchObject({ status: 'timeout', last: undefined, lastError: last, elapsedMs: 30_000 });
    expect(time.sleeps).toEqual([5_000, 10_000, 15_000]);
  });

  test('a permanent error among transient ones ends the wait at once', async () => {
    const time = fakeTime();
    const denied = Object.assign(new Error('not authorized'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    const errors = [throttled(), denied];
    await expect(
      waitFor({
        ...options(time, [pending]),
        retryWhen: isTransientError,
        check: async () => {
          throw errors.shift();
        },
      }),
    ).rejects.toBe(denied);
    expect(time.sleeps).toEqual([5_000]);
  });

  test('a check that never answers is abandoned at the deadline, its signal aborted', async () => {
    let seen: AbortSignal | undefined;
    const started = performance.now();
    const result = await waitFor({
      check: (signal) => {
        seen = signal;
        return new Promise<Service>(() => undefined);
      },
      until: () => false,
      intervalMs: 100,
      timeoutMs: 300,
    });
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ status: 'timeout', last: undefined, attempts: 1 });
    expect(result.status === 'timeout' && result.lastError).toBeInstanceOf(DeadlineExceeded);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(DeadlineExceeded);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2_000);
  });

  test('a check that starts at the deadline still gets up to one interval to answer', async () => {
    let calls = 0;
    const result = await waitFor({
      check: async () => {
        calls += 1;
        await new Promise((r) => setTimeout(r, calls === 1 ? 0 : 150));
        return pending;
      },
      until: () => false,
      intervalMs: 200,
      timeoutMs: 100,
    });
    // the second check began at the deadline (100 ms) and answered 150 ms later: not abandoned
    expect(result).toMatchObject({ status: 'timeout', last: pending, attempts: 2 });
    expect(result.status === 'timeout' && result.lastError).toBeUndefined();
  });

  test('a synchronous throw from check also propagates', async () => {
    const time = fakeTime();
    const boom = new Error('sync');
    await expect(
      waitFor({
        ...options(time, [pending]),
        check: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
  });

  test('an already aborted signal checks nothing', async () => {
    const time = fakeTime();
    let calls = 0;
    const check = async () => {
      calls += 1;
      return pending;
    };
    const result = await waitFor({ ...options(time, [pending]), check, signal: AbortSignal.abort() });
    expect(result).toEqual({ status: 'cancelled', last: undefined, attempts: 0, elapsedMs: 0 });
    expect(calls).toBe(0);
  });

  test('abort during a check stops at once, without waiting for the check', async () => {
    const time = fakeTime();
    const controller = new AbortController();
    let calls = 0;
    const result = waitFor({
      ...options(time, [pending]),
      signal: controller.signal,
      check: (signal) => {
        calls += 1;
        if (calls === 1) return pending;
        controller.abort();
        expect(signal.aborted).toBe(true);
        return new Promise<Service>(() => undefined); // never settles
      },
    });
    await expect(result).resolves.toEqual({
      status: 'cancelled',
      last: pending,
      attempts: 1,
      elapsedMs: 5_000,
    });
  });

  test('abort during the sleep stops at once with the real sleep', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const result = waitFor({
      check: async () => pending,
      until: () => false,
      intervalMs: 60_000,
      timeoutMs: 600_000,
      signal: controller.signal,
      onProgress: () => setTimeout(() => controller.abort(), 10),
    });
    await expect(result).resolves.toMatchObject({ status: 'cancelled', last: pending, attempts: 1 });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test.each([
    [{ intervalMs: 0 }, /intervalMs/],
    [{ intervalMs: Number.NaN }, /intervalMs/],
    [{ timeoutMs: -1 }, /timeoutMs/],
  ])('rejects bad timing %p', async (bad, message) => {
    const time = fakeTime();
    await expect(waitFor(options(time, [pending], bad))).rejects.toThrow(message);
  });
});

describe('growingPaceMs', () => {
  test.each([
    // [elapsed, pause with no jitter]
    [0, 5_000],
    [20_000, 5_000],
    [40_000, 10_000],
    [80_000, 20_000],
    [600_000, 20_000],
  ])('after %i ms waited: %i ms', (elapsed, expected) => {
    expect(growingPaceMs(elapsed, 5_000, 20_000, () => 1)).toBe(expected);
    // jitter only shortens, by a fifth at most
    expect(growingPaceMs(elapsed, 5_000, 20_000, () => 0)).toBe(expected * 0.8);
  });
});

describe('systemSleep', () => {
  test('resolves after the delay', async () => {
    const started = performance.now();
    await systemSleep(20);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
  });

  test('resolves (does not reject) as soon as the signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 5);
    const started = performance.now();
    await expect(systemSleep(60_000, controller.signal)).resolves.toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('cancellationSignal', () => {
  function fakeProcess() {
    const emitter = new EventEmitter();
    const exits: number[] = [];
    const target = {
      on: (event: string, fn: () => void) => emitter.on(event, fn),
      exit: (code?: number) => {
        exits.push(code ?? 0);
      },
    } as unknown as Pick<NodeJS.Process, 'on' | 'exit'>;
    return { emitter, exits, target };
  }

  test.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s aborts with a reason; a second signal exits with %i', (name, code) => {
    const proc = fakeProcess();
    const signal = cancellationSignal({ target: proc.target, graceMs: 60_000 });
    expect(signal.aborted).toBe(false);
    proc.emitter.emit(name);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(ActionError);
    expect(signal.reason.message).toBe(
      `Cancelled: received ${name} (the run was cancelled, or the step or job timed out).`,
    );
    expect(proc.exits).toEqual([]);
    proc.emitter.emit(name);
    expect(proc.exits).toEqual([code]);
  });

  test('the grace period ends the process if nothing else does', async () => {
    const proc = fakeProcess();
    cancellationSignal({ target: proc.target, graceMs: 5 });
    proc.emitter.emit('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(proc.exits).toEqual([143]);
  });
});
