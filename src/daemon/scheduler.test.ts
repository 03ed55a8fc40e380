import { describe, expect, it } from '@jest/globals';
import type { ClaimedTask, Task } from '../domain/task.js';
import type { ClaimOptions } from '../pipeline/ports.js';
import { silentLogger } from '../observability/logger.js';
import { createIntakeGate } from './intake.js';
import { createPool } from './pool.js';
import { createScheduler } from './scheduler.js';

function claimOf(id: string): ClaimedTask {
  const task = { id, title: id, description: id, status: 'claimed', attempts: 1 } as unknown as Task;
  return { task, lease: { owner: 'w', token: `t-${id}`, expiresAt: new Date().toISOString() } };
}

/** A queue of `count` tasks that records every claim request. */
function fakeQueue(count: number) {
  let next = 0;
  const requests: ClaimOptions[] = [];
  return {
    requests,
    claimTasks: async (options: ClaimOptions) => {
      requests.push(options);
      const out: ClaimedTask[] = [];
      while (out.length < options.limit && next < count) out.push(claimOf(`t${next++}`));
      return out;
    },
  };
}

describe('createScheduler', () => {
  it('claims only as many tasks as there are free slots and refills a slot as soon as it frees', async () => {
    const queue = fakeQueue(7);
    const pool = createPool(3);
    const running: Array<() => void> = [];
    const started: string[] = [];
    let allStarted!: () => void;
    const seven = new Promise<void>((resolve) => (allStarted = resolve));
    const scheduler = createScheduler({
      store: queue,
      pool,
      intake: createIntakeGate(),
      worker: 'w',
      batchSize: 10,
      // A long interval: only slot-freed wake-ups can explain prompt refills.
      pollIntervalMs: 60_000,
      leaseMs: 1000,
      startTask: (claim, slot) => {
        started.push(claim.task.id);
        slot.start({ id: claim.task.id, run: () => new Promise<void>((r) => running.push(r)) });
        if (started.length === 7) allStarted();
      },
      logger: silentLogger(),
      source: 'test',
    });
    scheduler.start();
    // Finish one task at a time; each finish must lead to a new claim without waiting for the interval.
    const drain = setInterval(() => running.shift()?.(), 5);
    await seven;
    clearInterval(drain);
    for (const r of running.splice(0)) r();
    await scheduler.stop();
    await pool.waitIdle(1000);
    expect(started).toHaveLength(7);
    expect(new Set(started).size).toBe(7);
    expect(queue.requests[0]?.limit).toBe(3);
    for (const r of queue.requests) expect(r.limit).toBeLessThanOrEqual(3);
  });

  it('claims nothing while intake is paused', async () => {
    const queue = fakeQueue(5);
    const intake = createIntakeGate();
    intake.pause('authentication');
    const scheduler = createScheduler({
      store: queue,
      pool: createPool(2),
      intake,
      worker: 'w',
      batchSize: 10,
      pollIntervalMs: 10,
      leaseMs: 1000,
      startTask: () => {
        throw new Error('must not start');
      },
      logger: silentLogger(),
      source: 'test',
    });
    scheduler.start();
    await new Promise((r) => setTimeout(r, 60));
    await scheduler.stop();
    expect(queue.requests).toHaveLength(0);
  });

  it('keeps polling after the store fails', async () => {
    let calls = 0;
    let second!: () => void;
    const secondCall = new Promise<void>((resolve) => (second = resolve));
    const scheduler = createScheduler({
      store: {
        claimTasks: async () => {
          calls += 1;
          if (calls === 1) throw new Error('connection refused');
          second();
          return [];
        },
      },
      pool: createPool(1),
      intake: createIntakeGate(),
      worker: 'w',
      batchSize: 1,
      pollIntervalMs: 5,
      leaseMs: 1000,
      startTask: () => {},
      logger: silentLogger(),
      source: 'test',
    });
    scheduler.start();
    await secondCall;
    await scheduler.stop();
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it('claims only for slots nobody else reserved: a processTask holding a slot never meets a full pool', async () => {
    const queue = fakeQueue(5);
    const pool = createPool(2);
    // processTask (or processBatch) reserved a slot and is claiming its own task right now.
    const held = await pool.acquire();
    const started: string[] = [];
    let first!: () => void;
    const one = new Promise<void>((resolve) => (first = resolve));
    const scheduler = createScheduler({
      store: queue,
      pool,
      intake: createIntakeGate(),
      worker: 'w',
      batchSize: 10,
      pollIntervalMs: 60_000,
      leaseMs: 1000,
      startTask: (claim, slot) => {
        started.push(claim.task.id);
        slot.start({ id: claim.task.id, run: () => new Promise<void>(() => {}) });
        first();
      },
      logger: silentLogger(),
      source: 'test',
    });
    scheduler.start();
    await one;
    await scheduler.stop();
    expect(queue.requests.map((r) => r.limit)).toEqual([1]);
    // The held slot is still there for its owner's claim.
    expect(() => held.start({ id: 'mine', run: async () => {} })).not.toThrow();
    expect(started).toEqual(['t0']);
  });
});

describe('push pickup', () => {
  it('a wake-up that comes while a claim is under way is not lost: the loop claims again instead of sleeping', async () => {
    let calls = 0;
    let scheduler: ReturnType<typeof createScheduler> | undefined = undefined;
    let second!: () => void;
    const claimedAgain = new Promise<void>((resolve) => (second = resolve));
    const store = {
      claimTasks: async () => {
        calls += 1;
        // A task is added (and its nudge arrives) while the first claim is still in flight.
        if (calls === 1) scheduler?.wake();
        if (calls === 2) second();
        return [];
      },
    };
    scheduler = createScheduler({
      store,
      pool: createPool(2),
      intake: createIntakeGate(),
      worker: 'w',
      batchSize: 10,
      // Only the wake-up can explain a second claim before the test's own timeout.
      pollIntervalMs: 3_600_000,
      leaseMs: 1000,
      startTask: () => undefined,
      logger: silentLogger(),
      source: 'test',
    });
    scheduler.start();
    await claimedAgain;
    await scheduler.stop();
    expect(calls).toBe(2);
  });
});

describe('long-poll claims', () => {
  it('claims again at once after a long poll the server held and that found nothing', async () => {
    const seen: Array<number | undefined> = [];
    let second!: () => void;
    const claimedAgain = new Promise<void>((resolve) => (second = resolve));
    const store = {
      claimTasks: async (options: ClaimOptions) => {
        seen.push(options.waitMs);
        if (seen.length === 1) await new Promise((r) => setTimeout(r, 20)); // the server holds the request
        if (seen.length === 2) second();
        return [];
      },
    };
    const scheduler = createScheduler({
      store,
      pool: createPool(2),
      intake: createIntakeGate(),
      worker: 'w',
      batchSize: 10,
      // Only the held long poll can explain a second claim before the test's own timeout.
      pollIntervalMs: 3_600_000,
      claimWaitMs: 20,
      leaseMs: 1000,
      startTask: () => undefined,
      logger: silentLogger(),
      source: 'test',
    });
    scheduler.start();
    await claimedAgain;
    await scheduler.stop();
    expect(seen.slice(0, 2)).toEqual([20, 20]);
  });
});
