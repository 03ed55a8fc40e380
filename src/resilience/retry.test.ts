import { describe, expect, it, jest } from '@jest/globals';
import { DaemonError } from '../domain/errors.js';
import { abortableSleep, backoffDelay, retryWithPolicy } from './retry.js';

const serverError = (extra: Partial<ConstructorParameters<typeof DaemonError>[1]> = {}): DaemonError =>
  new DaemonError('boom', { code: 'server-error', category: 'server', retryable: true, ...extra });

/** A sleep that records what it was asked to wait and returns at once. */
function recordingSleep(): { waits: number[]; sleep: (ms: number) => Promise<void> } {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

/** fn that fails with the given errors in turn, then returns 'done'. */
function failingThen(errors: unknown[]): { calls: () => number; fn: () => Promise<string> } {
  let calls = 0;
  return {
    calls: () => calls,
    fn: async () => {
      const error = errors[calls++];
      if (error !== undefined) throw error;
      return 'done';
    },
  };
}

describe('backoffDelay', () => {
  it('doubles per attempt, caps at maxMs and applies full or equal jitter', () => {
    const half = () => 0.5;
    expect(backoffDelay(1, { baseMs: 100, random: half })).toBe(50);
    expect(backoffDelay(3, { baseMs: 100, random: half })).toBe(200);
    expect(backoffDelay(10, { baseMs: 100, maxMs: 1_000, random: () => 0.999_999 })).toBe(1_000);
    expect(backoffDelay(2, { baseMs: 100, jitter: 'equal', random: () => 0 })).toBe(100);
    expect(backoffDelay(2, { baseMs: 100, jitter: 'equal', random: half })).toBe(150);
  });
});

describe('retryWithPolicy', () => {
  it('retries retryable errors with backoff until success', async () => {
    const { waits, sleep } = recordingSleep();
    const f = failingThen([serverError(), serverError()]);
    await expect(retryWithPolicy(f.fn, { baseMs: 100, random: () => 1, sleep })).resolves.toBe('done');
    expect(f.calls()).toBe(3);
    expect(waits).toEqual([100, 200]);
  });

  it('waits exactly the server-advised retryAfterMs', async () => {
    const { waits, sleep } = recordingSleep();
    const f = failingThen([serverError({ category: 'rate_limit', retryAfterMs: 1_234 })]);
    await expect(retryWithPolicy(f.fn, { baseMs: 5, sleep })).resolves.toBe('done');
    expect(waits).toEqual([1_234]);
  });

  it('throws at once when retryAfterMs is over the cap, so the task is rescheduled', async () => {
    const { waits, sleep } = recordingSleep();
    const tooLong = serverError({ category: 'rate_limit', retryAfterMs: 120_000 });
    const f = failingThen([tooLong]);
    await expect(retryWithPolicy(f.fn, { maxRetryAfterMs: 60_000, sleep })).rejects.toBe(tooLong);
    expect(f.calls()).toBe(1);
    expect(waits).toEqual([]);
  });

  it('never retries a non-retryable error, and coerces foreign errors', async () => {
    const { waits, sleep } = recordingSleep();
    const invalid = new DaemonError('bad', { code: 'bad-input', category: 'validation' });
    const f = failingThen([invalid]);
    await expect(retryWithPolicy(f.fn, { sleep })).rejects.toBe(invalid);
    expect(f.calls()).toBe(1);

    const g = failingThen([new TypeError('oops')]);
    await expect(retryWithPolicy(g.fn, { sleep })).rejects.toMatchObject({
      name: 'DaemonError',
      category: 'unknown',
      message: 'oops',
    });
    expect(g.calls()).toBe(1);
    expect(waits).toEqual([]);
  });

  it('stops after maxAttempts and throws the last error', async () => {
    const { waits, sleep } = recordingSleep();
    const last = serverError({ code: 'third' });
    const f = failingThen([serverError(), serverError(), last, serverError()]);
    await expect(retryWithPolicy(f.fn, { maxAttempts: 3, baseMs: 1, sleep })).rejects.toBe(last);
    expect(f.calls()).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it('lets shouldRetry veto a retry', async () => {
    const { sleep } = recordingSleep();
    const f = failingThen([serverError()]);
    await expect(retryWithPolicy(f.fn, { sleep, shouldRetry: () => false })).rejects.toMatchObject({
      code: 'server-error',
    });
    expect(f.calls()).toBe(1);
  });

  it('aborts in the middle of a backoff wait with a cancelled error', async () => {
    const controller = new AbortController();
    const f = failingThen([serverError(), serverError()]);
    // A wait of an hour, far past the test's own time limit: only the abort can end it in time.
    const result = retryWithPolicy(f.fn, {
      baseMs: 3_600_000,
      maxMs: 3_600_000,
      random: () => 1,
      signal: controller.signal,
      // Abort as soon as the loop has decided to wait.
      onRetry: ({ delayMs }) => {
        expect(delayMs).toBe(3_600_000);
        queueMicrotask(() => controller.abort());
      },
    });
    await expect(result).rejects.toMatchObject({ code: 'cancelled', category: 'cancelled' });
    expect(f.calls()).toBe(1);
  });

  it('does not start when the signal is already aborted', async () => {
    const f = failingThen([]);
    await expect(retryWithPolicy(f.fn, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      category: 'cancelled',
    });
    expect(f.calls()).toBe(0);
  });
});

describe('abortableSleep', () => {
  it('does not end before its time by the clock when its timer fires early (a busy loop counts from a stale time)', async () => {
    jest.useFakeTimers({ now: 10_000 });
    try {
      let done = false;
      const sleep = abortableSleep(1_000).then(() => (done = true));
      // The clock is 5 ms behind the timers, as a loop that started its turn late sees it.
      jest.setSystemTime(9_995);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(5);
      expect(done).toBe(true);
      await sleep;
    } finally {
      jest.useRealTimers();
    }
  });

  it('resolves after the delay and rejects promptly on abort', async () => {
    await expect(abortableSleep(5)).resolves.toBeUndefined();
    const controller = new AbortController();
    const pending = abortableSleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toMatchObject({ category: 'cancelled' });
  });
});
