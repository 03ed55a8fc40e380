import { describe, expect, it } from '@jest/globals';
import { concurrencyGroup, passThroughGroup, retryScheduler } from './lean-groups.js';

/** A job that stays running until released, recording when it started. */
function gate() {
  const started: string[] = [];
  const releases = new Map<string, () => void>();
  const job = (name: string) => () =>
    new Promise<string>((resolve) => {
      started.push(name);
      releases.set(name, () => resolve(name));
    });
  return { started, job, release: (name: string) => releases.get(name)?.() };
}

describe('lean throttling groups', () => {
  it('concurrencyGroup keeps at most max jobs running and starts the waiting ones in arrival order', async () => {
    const limiter = concurrencyGroup(2).key('id');
    const g = gate();
    const results = ['a', 'b', 'c', 'd'].map((name) => limiter.schedule({}, g.job(name)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(g.started).toEqual(['a', 'b']);
    g.release('b');
    await results[1];
    await new Promise((resolve) => setImmediate(resolve));
    expect(g.started).toEqual(['a', 'b', 'c']);
    g.release('a');
    g.release('c');
    await new Promise((resolve) => setImmediate(resolve));
    expect(g.started).toEqual(['a', 'b', 'c', 'd']);
    g.release('d');
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c', 'd']);
  });

  it('concurrencyGroup frees the slot of a job that fails, and passes its arguments and error on', async () => {
    const limiter = concurrencyGroup(1).key('id');
    const failing = limiter.schedule({}, async (x: unknown) => Promise.reject(new Error(`no ${String(x)}`)), 'way');
    await expect(failing).rejects.toThrow('no way');
    await expect(
      limiter.schedule({}, async (x: unknown, y: unknown) => `${String(x)}${String(y)}`, 1, 2),
    ).resolves.toBe('12');
  });

  it('passThroughGroup runs every job at once', async () => {
    const limiter = passThroughGroup().key('id');
    const g = gate();
    const results = ['a', 'b', 'c'].map((name) => limiter.schedule({}, g.job(name)));
    expect(g.started).toEqual(['a', 'b', 'c']);
    ['a', 'b', 'c'].forEach(g.release);
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c']);
  });

  it('retryScheduler runs again after the wait a failed listener gives, and rejects when none gives one', async () => {
    const scheduler = retryScheduler() as unknown as {
      on(event: string, fn: (error: unknown, info: { args: unknown[]; retryCount: number }) => unknown): void;
      schedule(fn: (...args: unknown[]) => Promise<unknown>, ...args: unknown[]): Promise<unknown>;
    };
    const seen: Array<[string, number, unknown[]]> = [];
    scheduler.on('failed', (error, info) => {
      seen.push([(error as Error).message, info.retryCount, info.args]);
      // Retry a "rate limit" twice, at once; never anything else.
      return (error as Error).message === 'limited' && info.retryCount < 2 ? 0 : undefined;
    });
    let calls = 0;
    const flaky = async (a: unknown) => {
      calls += 1;
      if (calls < 3) throw new Error('limited');
      return `ok ${String(a)}`;
    };
    await expect(scheduler.schedule(flaky, 'x')).resolves.toBe('ok x');
    expect(seen).toEqual([
      ['limited', 0, ['x']],
      ['limited', 1, ['x']],
    ]);
    seen.length = 0;
    await expect(scheduler.schedule(async () => Promise.reject(new Error('limited')))).rejects.toThrow('limited');
    expect(seen.map(([, n]) => n)).toEqual([0, 1, 2]);
    await expect(scheduler.schedule(async () => Promise.reject(new Error('other')))).rejects.toThrow('other');
  });
});
