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

  it('reserves slots before claiming: reserved slots are not free, released ones are, waiters get them in order', async () => {
    const pool = createPool(2);
    const slots = pool.reserve(5);
    expect(slots).toHaveLength(2);
    expect(pool.free()).toBe(0);
    expect(() => pool.start({ id: 'x', run: async () => {} })).toThrow('pool is full');
    const order: string[] = [];
    const a = pool.acquire().then((s) => (order.push('a'), s));
    const b = pool.acquire().then((s) => (order.push('b'), s));
    slots[0]!.release();
    const slotA = await a;
    expect(order).toEqual(['a']);
    const d = deferred();
    slots[1]!.start({ id: 'job', run: () => d.promise });
    slotA.release();
    const slotB = await b;
    expect(order).toEqual(['a', 'b']);
    expect(pool.free()).toBe(0);
    slotB.release();
    d.resolve();
    expect(await pool.waitIdle(1000)).toBe(true);
    expect(pool.free()).toBe(2);
  });

  it('gives up a wait for a slot when its signal aborts', async () => {
    const pool = createPool(1);
    const [slot] = pool.reserve(1);
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    slot!.release();
    expect(pool.free()).toBe(1);
  });
});
