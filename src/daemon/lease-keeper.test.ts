import { describe, expect, it } from '@jest/globals';
import { DaemonError } from '../domain/errors.js';
import { silentLogger } from '../observability/logger.js';
import { keepLease, LeaseLostError } from './lease-keeper.js';

/** A heartbeat that never answers, counting the calls it got. */
function hangingStore() {
  const store = {
    calls: 0,
    heartbeat: () => {
      store.calls += 1;
      return new Promise<never>(() => {});
    },
  };
  return store;
}

function lostPromise(): { promise: Promise<LeaseLostError>; onLost: (e: LeaseLostError) => void } {
  let onLost!: (e: LeaseLostError) => void;
  const promise = new Promise<LeaseLostError>((resolve) => (onLost = resolve));
  return { promise, onLost };
}

describe('keepLease', () => {
  it('stops the task before the lease can run out when no heartbeat gets through, one heartbeat at a time', async () => {
    const store = hangingStore();
    const lost = lostPromise();
    const keeper = keepLease({
      store,
      taskId: 't1',
      token: 'tok',
      leaseMs: 300,
      logger: silentLogger(),
      signal: new AbortController().signal,
      onLost: lost.onLost,
    });
    const error = await lost.promise;
    keeper.stop();
    expect(error).toBeInstanceOf(LeaseLostError);
    expect(error.message).toMatch(/no heartbeat got through/);
    // The first heartbeat hung; no second one was piled up behind it.
    expect(store.calls).toBe(1);
  });

  it('keeps the task going while heartbeats succeed, and stops it at once on a stale token', async () => {
    let calls = 0;
    const stale = lostPromise();
    const store = {
      heartbeat: async () => {
        calls += 1;
        if (calls === 4) throw new DaemonError('stale', { code: 'stale-lease', category: 'conflict' });
        return { owner: 'w', token: 'tok', expiresAt: new Date().toISOString() };
      },
    };
    const keeper = keepLease({
      store,
      taskId: 't1',
      token: 'tok',
      leaseMs: 900,
      logger: silentLogger(),
      signal: new AbortController().signal,
      onLost: stale.onLost,
    });
    const error = await stale.promise;
    keeper.stop();
    // Three good heartbeats kept it alive past the first lease length; the fourth said another worker has it.
    expect(calls).toBe(4);
    expect(error.message).toMatch(/stale-lease/);
  });

  it('counts the lease from when it was granted, not from when the keeper started', async () => {
    const store = hangingStore();
    const lost = lostPromise();
    const grantedAt = Date.now() - 10_000;
    const keeper = keepLease({
      store,
      taskId: 't1',
      token: 'tok',
      leaseMs: 5_000,
      logger: silentLogger(),
      signal: new AbortController().signal,
      onLost: lost.onLost,
      grantedAt,
    });
    // Granted 10 s ago with a 5 s lease: it may already belong to someone else; stop before any heartbeat.
    await lost.promise;
    keeper.stop();
    expect(store.calls).toBe(0);
  });
});
