import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { DaemonError } from '../domain/errors.js';
import { silentLogger } from '../observability/logger.js';
import { spacedBudget } from './budgets.js';
import { createLimiter, redisClientOptions, type Budget, type Limiter } from './limiter.js';

const limiters: Limiter[] = [];
afterEach(async () => {
  await Promise.all(limiters.splice(0).map((l) => l.close()));
});

function limiterWith(budgets: Record<string, Budget>): { limiter: Limiter; createdAt: number } {
  const createdAt = Date.now();
  const limiter = createLimiter({ id: 'unit', budgets, logger: silentLogger() });
  limiters.push(limiter);
  return { limiter, createdAt };
}

/** Resolves once `fn` has been started `n` times; records start times. */
function startCounter(): { starts: number[]; job: () => Promise<number>; reached: (n: number) => Promise<void> } {
  const starts: number[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  return {
    starts,
    job: async () => {
      starts.push(Date.now());
      for (const w of waiters.filter((x) => x.n <= starts.length)) w.resolve();
      return starts.length;
    },
    reached: (n) => new Promise((resolve) => (starts.length >= n ? resolve() : waiters.push({ n, resolve }))),
  };
}

describe('createLimiter', () => {
  it('starts at most max calls per refresh: 9 calls at 3 per 500 ms need two refreshes', async () => {
    // Time moves only when the test moves it, so a busy machine cannot make a refresh look early or late.
    jest.useFakeTimers({ now: 0 });
    try {
      const { limiter } = limiterWith({ standard: { max: 3, perMs: 500 } });
      const counter = startCounter();
      const all = Promise.all(Array.from({ length: 9 }, () => limiter.schedule('standard', counter.job)));
      await jest.advanceTimersByTimeAsync(499);
      expect(counter.starts).toHaveLength(3);
      await jest.advanceTimersByTimeAsync(500);
      expect(counter.starts).toHaveLength(6);
      await jest.advanceTimersByTimeAsync(500);
      await all;
      expect(counter.starts).toHaveLength(9);
      // No refresh came early: the 4th start is at or after 500 ms, the 7th at or after 1,000 ms.
      expect(counter.starts[3]).toBeGreaterThanOrEqual(500);
      expect(counter.starts[6]).toBeGreaterThanOrEqual(1_000);
    } finally {
      jest.useRealTimers();
    }
  });

  it('serves a lifted budget (a million a minute) without waiting on a timer per start', async () => {
    // Time stands still: with starts spaced 1 ms apart, only one of the 50 could start before the clock moved.
    jest.useFakeTimers({ now: 0 });
    try {
      const { limiter } = limiterWith({ standard: spacedBudget(1_000_000, 60_000, 10) });
      const counter = startCounter();
      const all = Promise.all(Array.from({ length: 50 }, () => limiter.schedule('standard', counter.job)));
      await jest.advanceTimersByTimeAsync(0);
      expect(counter.starts).toHaveLength(50);
      await all;
    } finally {
      jest.useRealTimers();
    }
  });

  it('runs a kind whose budget limits nothing at once, without queueing it; limited kinds still queue', async () => {
    const { limiter } = limiterWith({
      standard: { max: Infinity, perMs: 60_000 },
      spaced: { max: Infinity, perMs: 60_000, minTimeMs: 5 },
    });
    const started: string[] = [];
    const free = limiter.schedule('standard', async () => started.push('free'));
    const spaced = limiter.schedule('spaced', async () => started.push('spaced'));
    // No bottleneck job for the free kind: it started before schedule() returned.
    expect(started).toEqual(['free']);
    await Promise.all([free, spaced]);
    expect(started).toEqual(['free', 'spaced']);
    const aborted = AbortSignal.abort();
    await expect(limiter.schedule('standard', async () => 'never', aborted)).rejects.toMatchObject({
      code: 'cancelled',
    });
    await expect(limiter.schedule('standard', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await limiter.close();
    await expect(limiter.schedule('standard', async () => 'late')).rejects.toMatchObject({ code: 'limiter-closed' });
  });

  it('sends kinds without a budget to "standard", and budgets are independent', async () => {
    const { limiter } = limiterWith({ standard: { max: 1, perMs: 60_000 }, create: { max: 5, perMs: 60_000 } });
    await expect(limiter.schedule('get-run', async () => 'first')).resolves.toBe('first');
    const controller = new AbortController();
    let secondRan = false;
    const second = limiter.schedule('list-runs', async () => void (secondRan = true), controller.signal);
    // The standard budget is spent, but create has its own.
    await expect(limiter.schedule('create', async () => 'created')).resolves.toBe('created');
    controller.abort();
    await expect(second).rejects.toMatchObject({ code: 'cancelled', category: 'cancelled' });
    expect(secondRan).toBe(false);
  });

  it('rejects at once on abort while queued and hands the slot to the next caller', async () => {
    jest.useFakeTimers({ now: 0 });
    try {
      const { limiter } = limiterWith({ standard: { max: 1, perMs: 500 } });
      const counter = startCounter();
      const first = limiter.schedule('standard', counter.job);
      // bottleneck hands out a slot on its next turns (timers of 0 ms); well before the 500 ms refresh.
      await jest.advanceTimersByTimeAsync(50);
      await first;
      const controller = new AbortController();
      const abandoned = limiter.schedule('standard', counter.job, controller.signal);
      const patient = limiter.schedule('standard', counter.job);
      controller.abort();
      // At once: the rejection arrives with the clock standing still, not at the next refresh.
      await expect(abandoned).rejects.toMatchObject({ category: 'cancelled' });
      expect(counter.starts).toHaveLength(1);
      // The patient caller runs on the first refresh (the abandoned one's slot), not the second.
      await jest.advanceTimersByTimeAsync(999);
      await patient;
      expect(counter.starts).toHaveLength(2);
      expect(counter.starts[1]).toBeGreaterThanOrEqual(500);
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses an already aborted signal without running fn, and passes fn errors through', async () => {
    const { limiter } = limiterWith({ standard: { max: 5, perMs: 1_000 } });
    let ran = false;
    await expect(
      limiter.schedule('standard', async () => void (ran = true), AbortSignal.abort()),
    ).rejects.toMatchObject({ category: 'cancelled' });
    expect(ran).toBe(false);
    const failure = new DaemonError('nope', { code: 'nope', category: 'validation' });
    await expect(limiter.schedule('standard', () => Promise.reject(failure))).rejects.toBe(failure);
  });

  it('rejects waiting and later callers once closed', async () => {
    const { limiter } = limiterWith({ standard: { max: 1, perMs: 60_000 } });
    await limiter.schedule('standard', async () => undefined);
    const waiting = expect(limiter.schedule('standard', async () => 'never')).rejects.toMatchObject({
      code: 'limiter-closed',
      category: 'cancelled',
    });
    await limiter.close();
    await waiting;
    await expect(limiter.schedule('standard', async () => 'never')).rejects.toMatchObject({ category: 'cancelled' });
  });

  it('needs a standard budget', () => {
    expect(() =>
      createLimiter({ id: 'x', budgets: { create: { max: 1, perMs: 1_000 } }, logger: silentLogger() }),
    ).toThrow(expect.objectContaining({ code: 'missing-standard-budget', category: 'configuration' }));
  });
});

describe('redisClientOptions', () => {
  it('reads host, port, credentials, db and TLS from the URL', () => {
    expect(redisClientOptions('redis://127.0.0.1:6379')).toEqual({ host: '127.0.0.1', port: 6379, db: 0 });
    expect(redisClientOptions('rediss://user:p%40ss@cache.internal:6380/2')).toEqual({
      host: 'cache.internal',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
      tls: {},
    });
    expect(() => redisClientOptions('http://example.com')).toThrow(
      expect.objectContaining({ code: 'invalid-redis-url' }),
    );
  });
});
