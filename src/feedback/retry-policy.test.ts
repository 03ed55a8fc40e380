import { describe, expect, it } from '@jest/globals';
import { DaemonError, ERROR_CATEGORIES, type ErrorCategory, type ErrorScope } from '../domain/errors.js';
import {
  computeRetryDelay,
  decideOnFailure,
  MAX_RATE_LIMIT_WAIT_MS,
  QUOTA_PAUSE_MS,
  type FailureInput,
  type RetryConfig,
} from './retry-policy.js';

/** mulberry32: a small seeded generator, so jitter tests are repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const retry: RetryConfig = { maxRetries: 3, baseDelay: 1000, maxDelay: 30_000, backoffMultiplier: 2, jitter: true };
const noJitter: RetryConfig = { ...retry, jitter: false };
const now = new Date('2024-01-15T10:00:00.000Z');

describe('computeRetryDelay', () => {
  it("follows the seed's formula without jitter: base * multiplier^(attempt-1), capped", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => computeRetryDelay(n, noJitter, () => 0))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
    expect(computeRetryDelay(0, noJitter, () => 0)).toBe(1000); // attempts start at 1
  });

  it('applies exactly the seed jitter: delay + (random - 0.5) * 2 * delay * 0.1', () => {
    expect(computeRetryDelay(3, retry, () => 0)).toBe(3600);
    expect(computeRetryDelay(3, retry, () => 0.5)).toBe(4000);
    expect(computeRetryDelay(3, retry, () => 0.75)).toBe(4200);
  });

  it('keeps jittered delays within +-10% and never above maxDelay, for a seeded random', () => {
    const random = seeded(42);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const attempt = 1 + (i % 6);
      const delay = 1000 * 2 ** (attempt - 1);
      const got = computeRetryDelay(attempt, retry, random);
      expect(got).toBeGreaterThanOrEqual(Math.floor(delay * 0.9));
      expect(got).toBeLessThanOrEqual(Math.min(30_000, Math.ceil(delay * 1.1)));
      seen.add(got);
    }
    expect(seen.size).toBeGreaterThan(100); // it really spreads
  });

  it('stays finite for absurd attempt numbers', () => {
    expect(computeRetryDelay(10_000, retry, seeded(1))).toBe(30_000);
  });
});

function input(
  category: ErrorCategory,
  over: Partial<FailureInput> & {
    retryable?: boolean;
    retryAfterMs?: number;
    scope?: ErrorScope;
    dependency?: string;
  } = {},
) {
  const { retryable, retryAfterMs, scope, dependency, ...rest } = over;
  const error = new DaemonError(`${category} happened`, {
    code: `test-${category}`,
    category,
    ...(retryable !== undefined ? { retryable } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(scope !== undefined ? { scope } : {}),
    ...(dependency !== undefined ? { dependency } : {}),
  });
  return {
    error,
    attempts: 1,
    maxAttempts: 4,
    now,
    retry: noJitter,
    random: () => 0.5,
    maxRetryAfterMs: 60_000,
    ...rest,
  };
}

describe('decideOnFailure: the decision table', () => {
  it('rate_limit: retries when the server said, without using an attempt', () => {
    expect(decideOnFailure(input('rate_limit', { retryAfterMs: 12_000, attempts: 4 }))).toEqual({
      action: 'retry',
      retryAt: '2024-01-15T10:00:12.000Z',
      delayMs: 12_000,
      countAttempt: false,
      reason: 'rate_limit error (test-rate_limit); retry in 12000 ms as the server advised, attempt not counted',
    });
  });

  it('rate_limit: backs off when the server did not say, growing with earlier rate limits in a row', () => {
    expect(decideOnFailure(input('rate_limit'))).toMatchObject({ action: 'retry', delayMs: 1000, countAttempt: false });
    expect(decideOnFailure(input('rate_limit', { priorRateLimits: 2 }))).toMatchObject({ delayMs: 4000 });
  });

  it('rate_limit: a wait longer than maxRetryAfterMs also pauses intake; absurd waits are clamped', () => {
    expect(decideOnFailure(input('rate_limit', { retryAfterMs: 600_000 }))).toMatchObject({
      action: 'retry',
      delayMs: 600_000,
      pauseIntakeMs: 600_000,
      pauseReason: 'rate_limit',
    });
    expect(decideOnFailure(input('rate_limit', { retryAfterMs: 86_400_000 }))).toMatchObject({
      delayMs: MAX_RATE_LIMIT_WAIT_MS,
    });
  });

  it('quota: releases without using an attempt and pauses intake (server advice, else QUOTA_PAUSE_MS)', () => {
    expect(decideOnFailure(input('quota'))).toMatchObject({
      action: 'release',
      pauseIntakeMs: QUOTA_PAUSE_MS,
      pauseReason: 'quota',
    });
    expect(decideOnFailure(input('quota', { retryAfterMs: 5000 }))).toMatchObject({ pauseIntakeMs: 5000 });
  });

  it('credential: defers without an attempt while the probe says the credential is refused', () => {
    const refused = input('authentication', { attempts: 4, dependency: 'github' });
    expect(refused.error.scope).toBe('credential');
    expect(decideOnFailure({ ...refused, dependencyHealthy: false })).toMatchObject({
      action: 'retry',
      countAttempt: false,
      delayMs: 15_000,
    });
    // The probe found the credential accepted: this one request's refusal is the task's own.
    expect(decideOnFailure({ ...refused, dependencyHealthy: true })).toMatchObject({ action: 'fail' });
  });

  it.each(['network', 'server', 'timeout'] as const)(
    'dependency (%s): defers without an attempt during an outage, backs off when the probe finds it healthy',
    (category) => {
      const failed = input(category, { dependency: 'codegen', retryable: true, attempts: 4 });
      expect(failed.error.scope).toBe('dependency');
      expect(decideOnFailure({ ...failed, dependencyHealthy: false, outageRetryMs: 5_000 })).toMatchObject({
        action: 'retry',
        countAttempt: false,
        delayMs: 5_000,
      });
      expect(decideOnFailure({ ...failed, attempts: 2, dependencyHealthy: true })).toMatchObject({
        action: 'retry',
        countAttempt: true,
      });
      expect(decideOnFailure({ ...failed, dependencyHealthy: true })).toMatchObject({ action: 'fail' });
    },
  );

  it('repository: parks the task (and its repository) without an attempt, with no intake pause', () => {
    const decision = decideOnFailure(
      input('configuration', { scope: 'repository', dependency: 'github', attempts: 4, repositoryParkMs: 600_000 }),
    );
    expect(decision).toMatchObject({ action: 'retry', countAttempt: false, delayMs: 600_000, parkRepository: true });
    expect(decision).not.toHaveProperty('pauseIntakeMs');
  });

  it('cancelled: releases without a pause', () => {
    const decision = decideOnFailure(input('cancelled'));
    expect(decision).toEqual({
      action: 'release',
      reason: 'cancelled error (test-cancelled); task released without using an attempt',
    });
  });

  it.each(['validation', 'configuration', 'conflict'] as const)(
    '%s: fails at once, even with attempts left',
    (category) => {
      expect(decideOnFailure(input(category, { retryable: true }))).toEqual({
        action: 'fail',
        reason: `${category} error (test-${category}); retrying cannot help`,
      });
    },
  );

  it('prompt: fails when not retryable, backs off when the adapter says it is', () => {
    expect(decideOnFailure(input('prompt'))).toMatchObject({ action: 'fail' });
    expect(decideOnFailure(input('prompt', { retryable: true }))).toMatchObject({
      action: 'retry',
      countAttempt: true,
    });
  });

  it.each(['network', 'server', 'unknown', 'authentication'] as const)(
    '%s of the task itself: retries with backoff while attempts remain, then fails',
    (category) => {
      expect(decideOnFailure(input(category, { attempts: 2 }))).toEqual({
        action: 'retry',
        retryAt: '2024-01-15T10:00:02.000Z',
        delayMs: 2000,
        countAttempt: true,
        reason: `${category} error (test-${category}); retry 3 of 4 in 2000 ms`,
      });
      expect(decideOnFailure(input(category, { attempts: 4 }))).toEqual({
        action: 'fail',
        reason: `${category} error (test-${category}); no attempts left (4 of 4 used)`,
      });
    },
  );

  it('agent: backs off like the rest, and drops the finished run so the retry starts a new one', () => {
    expect(decideOnFailure(input('agent', { attempts: 2 }))).toMatchObject({
      action: 'retry',
      delayMs: 2000,
      countAttempt: true,
      dropRun: true,
    });
    expect(decideOnFailure(input('agent', { attempts: 4 }))).toMatchObject({ action: 'fail', dropRun: true });
  });

  it('timeout: retries a retryable one; a deadline (not retryable) fails at once', () => {
    expect(decideOnFailure(input('timeout', { retryable: true, attempts: 2 }))).toMatchObject({
      action: 'retry',
      countAttempt: true,
    });
    expect(decideOnFailure(input('timeout', { attempts: 1 }))).toMatchObject({ action: 'fail' });
  });

  it('has a row for every error category', () => {
    for (const category of ERROR_CATEGORIES) {
      expect(decideOnFailure(input(category)).reason).not.toMatch(/unhandled/);
    }
  });
});
