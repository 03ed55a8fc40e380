import { describe, expect, it } from '@jest/globals';
import { codegenBudgets } from './guard.js';
import { replicaShare, spacedBudget, type Budget } from './budgets.js';

/**
 * The earliest start times `count` requests can get from `budget` when all are queued at time 0: spaced by
 * minTimeMs, and at most `max` in each reservoir period [k * perMs, (k + 1) * perMs). This is the densest
 * schedule the limiter allows (bottleneck never starts a job before its spacing or without a token), so a
 * bound that holds for it holds for every real schedule; late timers only spread starts further apart.
 */
function densestSchedule(budget: Budget, count: number): number[] {
  const starts: number[] = [];
  const spacing = budget.minTimeMs ?? 0;
  let next = 0;
  while (starts.length < count) {
    const period = Math.floor(next / budget.perMs);
    const inPeriod = starts.filter((t) => Math.floor(t / budget.perMs) === period).length;
    if (inPeriod >= budget.max) {
      next = (period + 1) * budget.perMs;
      continue;
    }
    starts.push(next);
    next += spacing;
  }
  return starts;
}

/** The most starts any closed window [t, t + windowMs] holds; the busiest one can be slid to begin at a start. */
function busiestClosedWindow(starts: readonly number[], windowMs: number): number {
  let busiest = 0;
  let end = 0;
  for (let begin = 0; begin < starts.length; begin++) {
    const from = starts[begin] as number;
    while (end < starts.length && (starts[end] as number) <= from + windowMs) end++;
    busiest = Math.max(busiest, end - begin);
  }
  return busiest;
}

describe('spacedBudget', () => {
  it('keeps 10 %: 10 per minute becomes 9, spaced 6.67 s', () => {
    expect(spacedBudget(10, 60_000, 10)).toEqual({ max: 9, perMs: 60_000, minTimeMs: 6_667 });
    expect(spacedBudget(60, 30_000, 10)).toEqual({ max: 54, perMs: 30_000, minTimeMs: 556 });
    expect(spacedBudget(1, 60_000, 50)).toEqual({ max: 1, perMs: 60_000, minTimeMs: 60_001 });
  });

  it('does not space a budget of more than 1,000 starts a second (no timer is that fine): the reservoir bounds it', () => {
    // Budgets lifted in configuration (CODEGEN_CREATE_PER_MINUTE=1000000, say) were spaced 1 ms apart: each start
    // then waited for a timer, one per turn of a busy event loop, and runs waited hundreds of ms to be created.
    expect(spacedBudget(1_000_000, 60_000, 10)).toEqual({ max: 900_000, perMs: 60_000 });
    expect(spacedBudget(1_000_000, 30_000, 0)).toEqual({ max: 1_000_000, perMs: 30_000 });
    // At 1,000 a second and below, starts are spaced as before.
    expect(spacedBudget(1_000, 1_000, 0)).toEqual({ max: 1_000, perMs: 1_000, minTimeMs: 2 });
  });

  it('finds the 11 starts in one closed minute that the old spacing (exactly 60 s / 10) allowed', () => {
    const old: Budget = { max: 10, perMs: 60_000, minTimeMs: 6_000 };
    expect(busiestClosedWindow(densestSchedule(old, 40), 60_000)).toBe(11);
    expect(busiestClosedWindow(densestSchedule(spacedBudget(10, 60_000, 0), 40), 60_000)).toBe(10);
  });

  it.each([
    [10, 60_000],
    [60, 30_000],
    [1, 60_000],
    [7, 1_000],
    [100, 10_000],
  ])(
    'never puts more than %i starts in any closed window of %i ms, for any headroom from 0 to 50 %%',
    (limit, perMs) => {
      for (let headroom = 0; headroom <= 50; headroom++) {
        const starts = densestSchedule(spacedBudget(limit, perMs, headroom), limit * 4 + 3);
        expect(busiestClosedWindow(starts, perMs)).toBeLessThanOrEqual(limit);
      }
    },
  );

  it("holds for the Codegen guard's budgets as configured by default", () => {
    const budgets = codegenBudgets({
      rateLimits: {
        codegenCreatePerMinute: 10,
        codegenRequestsPer30s: 60,
        headroom: 10,
        replicas: 1,
        redisUrl: '',
        maxRetryAfterMs: 60_000,
      },
    });
    expect(budgets.create).toEqual({ max: 9, perMs: 60_000, minTimeMs: 6_667 });
    expect(busiestClosedWindow(densestSchedule(budgets.create, 50), 60_000)).toBeLessThanOrEqual(10);
    expect(busiestClosedWindow(densestSchedule(budgets.standard, 300), 30_000)).toBeLessThanOrEqual(60);
  });
});

describe('replicaShare', () => {
  it('divides max and concurrency by the replicas and stretches the spacing to match', () => {
    const create = spacedBudget(10, 60_000, 10);
    expect(replicaShare(create, 1)).toBe(create);
    expect(replicaShare(create, 3)).toEqual({ max: 3, perMs: 60_000, minTimeMs: 20_001 });
    expect(replicaShare(create, 2)).toEqual({ max: 4, perMs: 60_000, minTimeMs: 15_001 });
    expect(replicaShare({ max: 10, perMs: 1_000, maxConcurrent: 4 }, 4)).toEqual({
      max: 2,
      perMs: 1_000,
      maxConcurrent: 1,
    });
    // More replicas than the limit: each keeps one, and the spacing says how rarely.
    expect(replicaShare(spacedBudget(2, 60_000), 5)).toEqual({ max: 1, perMs: 60_000, minTimeMs: 60_002 });
    expect(replicaShare({ max: Infinity, perMs: 60_000, minTimeMs: 1_000 }, 3)).toEqual({
      max: Infinity,
      perMs: 60_000,
      minTimeMs: 3_000,
    });
  });

  it('keeps the replicas together within the limit in every closed window', () => {
    for (const replicas of [2, 3, 4, 7]) {
      const share = replicaShare(spacedBudget(10, 60_000, 10), replicas);
      const oneReplica = densestSchedule(share, 30);
      // Worst case: every replica starts at the same moments.
      expect(busiestClosedWindow(oneReplica, 60_000) * replicas).toBeLessThanOrEqual(10);
    }
  });
});
