import { describe, expect, it } from '@jest/globals';
import { createPool } from './pool.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('createPool', () => {
  it('refuses a job beyond its size and frees a slot as soon as one job ends', async () => {
    const pool = createPool(2);
    const a = deferred();
    const b = deferred();
    pool.start({ id: 'a', run: () => a.promise });
    pool.start({ id: 'b', run: () => b.promise });
    expect(pool.free()).toBe(0);
    expect(() => pool.start({ id: 'c', run: async () => {} })).toThrow('pool is full');

    const freed = new Promise<void>((resolve) => pool.onSlotFreed(resolve));
    a.resolve();
    await freed;
    // b is still running: no batch barrier held the slot back.
    expect(pool.activeIds()).toEqual(['b']);
    expect(pool.free()).toBe(1);
    b.resolve();
    expect(await pool.waitIdle(1000)).toBe(true);
  });

  it('gives each job its own signal and aborts them all with the reason', async () => {
    const pool = createPool(3);
    const reasons: unknown[] = [];
    for (const id of ['x', 'y']) {
      pool.start({
        id,
        run: (signal) =>
          new Promise<void>((resolve) =>
            signal.addEventListener('abort', () => (reasons.push(signal.reason), resolve())),
          ),
      });
    }
    const reason = new Error('shutdown');
    pool.abortAll(reason);
    expect(await pool.waitIdle(1000)).toBe(true);
    expect(reasons).toEqual([reason, reason]);
  });

  it('keeps its accounting when a job throws', async () => {
    const pool = createPool(1);
    pool.start({ id: 'boom', run: async () => Promise.reject(new Error('boom')) });
    expect(await pool.waitIdle(1000)).toBe(true);
    expect(pool.free()).toBe(1);
  });

  it('reports not idle when the timeout passes first', async () => {
    const pool = createPool(1);
    const d = deferred();
    pool.start({ id: 'slow', run: () => d.promise });
    expect(await pool.waitIdle(20)).toBe(false);
    d.resolve();
    expect(await pool.waitIdle(1000)).toBe(true);
  });
});
