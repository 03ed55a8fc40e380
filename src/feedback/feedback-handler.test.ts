import { describe, expect, it } from '@jest/globals';
import type { AppConfig } from '../config/load.js';
import { DaemonError, type ErrorCategory } from '../domain/errors.js';
import { defaultConfig, makeTask } from '../../test/fixtures/prompt-fixtures.js';
import { FeedbackHandler } from './feedback-handler.js';

const base = defaultConfig().feedbackHandler;

/** A handler on a clock the test moves by hand. */
function setup(config: Partial<AppConfig['feedbackHandler']> = {}, historyCapacity?: number) {
  let t = Date.parse('2024-01-15T10:00:00.000Z');
  const handler = new FeedbackHandler(
    { ...base, ...config },
    { maxRetries: 3, maxRetryAfterMs: 60_000, now: () => new Date(t), random: () => 0.5, historyCapacity },
  );
  return { handler, advance: (ms: number) => (t += ms) };
}

const err = (category: ErrorCategory, code = `test-${category}`, extra: { retryAfterMs?: number } = {}) =>
  new DaemonError(`${category} failure`, { code, category, ...extra });

describe('FeedbackHandler.handleError', () => {
  it('coerces anything thrown, decides, and records the failure', async () => {
    const { handler } = setup();
    const task = makeTask({ attempts: 1, maxAttempts: 4 });
    const decision = await handler.handleError(task.id, new Error('boom'), task);
    expect(decision).toMatchObject({ action: 'retry', countAttempt: true, delayMs: 1000 });
    expect(handler.getFailureHistory(task)).toEqual([
      { at: '2024-01-15T10:00:00.000Z', category: 'unknown', code: 'unexpected-error', message: 'boom', attempt: 1 },
    ]);
    expect(handler.getMetrics()).toEqual({
      failuresByCategory: { unknown: 1 },
      successes: 0,
      failures: 1,
      consecutiveFailures: 1,
      errorRate: 1,
      retriesScheduled: 1,
      recovered: 0,
      averageSuccessDurationMs: 0,
    });
  });

  it("fails once the task's attempts are used up", async () => {
    const { handler } = setup();
    const task = makeTask({ attempts: 4, maxAttempts: 4 });
    expect(await handler.handleError(task.id, err('server'), task)).toMatchObject({ action: 'fail' });
  });

  it('grows the rate-limit backoff with rate limits in a row (they use no attempt)', async () => {
    const { handler } = setup();
    const task = makeTask({ attempts: 1 });
    const delays = [];
    for (let i = 0; i < 3; i++)
      delays.push(((await handler.handleError(task.id, err('rate_limit'), task)) as { delayMs: number }).delayMs);
    expect(delays).toEqual([1000, 2000, 4000]);
  });

  it('does not count a cancellation as a failure', async () => {
    const { handler } = setup();
    const task = makeTask();
    // An Error named AbortError, as an aborted fetch or got request throws. (A DOMException from
    // AbortController is one too in Node, but under Jest's VM it comes from another realm.)
    const aborted = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(await handler.handleError(task.id, aborted, task)).toMatchObject({
      action: 'release',
    });
    expect(handler.getMetrics()).toMatchObject({ failures: 0, consecutiveFailures: 0, errorRate: 0 });
    expect(handler.getFailureHistory(task)).toEqual([]);
  });

  it('keeps per-task history bounded to the newest 20 failures', async () => {
    const { handler } = setup();
    const task = makeTask();
    for (let i = 0; i < 25; i++) await handler.handleError(task.id, err('network', `net-${i}`), task);
    const history = handler.getFailureHistory(task);
    expect(history).toHaveLength(20);
    expect(history[0]!.code).toBe('net-5');
  });

  it('forgets the least recently used task beyond the capacity (10,000 by default)', async () => {
    const { handler } = setup();
    for (let i = 0; i <= 10_000; i++) await handler.handleError(`t${i}`, err('network'), makeTask({ id: `t${i}` }));
    expect(handler.getFailureHistory(makeTask({ id: 't0' }))).toEqual([]);
    expect(handler.getFailureHistory(makeTask({ id: 't1' }))).toHaveLength(1);
    expect(handler.getFailureHistory(makeTask({ id: 't10000' }))).toHaveLength(1);
  });

  it('with patternAnalysis off, keeps no history or categories', async () => {
    const { handler } = setup({ feedback: { ...base.feedback, patternAnalysis: false } });
    const task = makeTask();
    await handler.handleError(task.id, err('agent'), task);
    expect(handler.getFailureHistory(task)).toEqual([]);
    expect(handler.getMetrics()).toMatchObject({ failures: 1, failuresByCategory: {} });
  });
});

describe('FeedbackHandler.recordSuccess and suggestions', () => {
  it('resets the failure streak, counts recoveries and durations, and drops the history', async () => {
    const { handler } = setup();
    const task = makeTask();
    await handler.handleError(task.id, err('agent', 'agent-no-changes'), task);
    await handler.recordSuccess(task.id, task, { prUrl: 'https://github.com/acme/api/pull/1', durationMs: 4000 });
    await handler.recordSuccess('other', makeTask({ id: 'other' }), { durationMs: 2000 });
    expect(handler.getMetrics()).toMatchObject({
      successes: 2,
      failures: 1,
      consecutiveFailures: 0,
      recovered: 1,
      averageSuccessDurationMs: 3000,
    });
    expect(handler.getMetrics().errorRate).toBeCloseTo(1 / 3);
    expect(handler.getFailureHistory(task)).toEqual([]);
  });

  it('suggests from what failed, falls back to task.lastError after a restart, and is silent with learning off', async () => {
    const { handler } = setup();
    const task = makeTask({ context: { files: ['a.ts'], acceptanceCriteria: ['x'] } });
    await handler.handleError(task.id, err('timeout'), task);
    expect(handler.getImprovementSuggestions(task).processOptimizations[0]).toMatch(/^Split the task/);

    const fresh = setup().handler;
    const restarted = { ...task, lastError: { category: 'agent', code: 'agent-no-changes', message: 'no PR' } };
    expect(fresh.getImprovementSuggestions(restarted).promptOptimizations[0]).toMatch(/more specific/);

    const off = setup({ feedback: { ...base.feedback, enableLearning: false } }).handler;
    await off.handleError(task.id, err('timeout'), task);
    expect(off.getImprovementSuggestions(task)).toEqual({
      promptOptimizations: [],
      contextImprovements: [],
      qualityEnhancements: [],
      processOptimizations: [],
    });
  });
});

describe('FeedbackHandler.intakeAdvice', () => {
  it('polls normally when things go well', async () => {
    const { handler } = setup();
    await handler.recordSuccess('a', makeTask(), { durationMs: 1 });
    expect(handler.intakeAdvice()).toEqual({ pollFactor: 1 });
  });

  it('slows polling while the error rate over the last 20 outcomes is above the threshold', async () => {
    const { handler } = setup();
    for (let i = 0; i < 14; i++) await handler.recordSuccess(`s${i}`, makeTask(), { durationMs: 1 });
    for (let i = 0; i < 6; i++) {
      await handler.handleError(`f${i}`, err('server'), makeTask());
      await handler.recordSuccess(`x${i}`, makeTask(), { durationMs: 1 }); // keeps the streak short
    }
    // 26 outcomes; the last 20 hold 6 failures: 0.3 is not above the 0.3 threshold.
    expect(handler.intakeAdvice()).toEqual({ pollFactor: 1 });
    await handler.handleError('f-last', err('server'), makeTask());
    expect(handler.intakeAdvice()).toEqual({
      pollFactor: 1.5,
      reason: 'error rate 35% over the last 20 outcomes is above 30%',
    });
  });

  it('pauses for retry.maxDelay after maxConsecutiveFailures in a row, then lets intake resume', async () => {
    const { handler, advance } = setup();
    for (let i = 0; i < 4; i++) await handler.handleError(`f${i}`, err('agent'), makeTask());
    expect(handler.intakeAdvice().pauseUntil).toBeUndefined();
    await handler.handleError('f4', err('agent'), makeTask());
    expect(handler.intakeAdvice()).toEqual({
      pollFactor: 1.5,
      pauseUntil: '2024-01-15T10:00:30.000Z',
      reason: '5 failures in a row (threshold 5)',
    });
    advance(30_000);
    expect(handler.intakeAdvice().pauseUntil).toBeUndefined();
  });

  it('never pauses intake for invalid rows in a row, nor counts outages as failures', async () => {
    const { handler } = setup();
    for (let i = 0; i < 8; i++) await handler.handleError(`bad${i}`, err('validation', 'task-invalid'), makeTask());
    expect(handler.intakeAdvice().pauseUntil).toBeUndefined();
    const outage = new DaemonError('Codegen 503', {
      code: 'codegen-server-error',
      category: 'server',
      dependency: 'codegen',
    });
    for (let i = 0; i < 8; i++) {
      const decision = await handler.handleError(`o${i}`, outage, makeTask(), { dependencyHealthy: false });
      expect(decision).toMatchObject({ action: 'retry', countAttempt: false });
    }
    expect(handler.intakeAdvice().pauseUntil).toBeUndefined();
    expect(handler.getMetrics()).toMatchObject({ failures: 8, consecutiveFailures: 0 });
  });

  it('pauses as long as a quota decision asked', async () => {
    const { handler, advance } = setup();
    await handler.handleError('q', err('quota', 'codegen-quota', { retryAfterMs: 120_000 }), makeTask());
    expect(handler.intakeAdvice()).toMatchObject({ pauseUntil: '2024-01-15T10:02:00.000Z' });
    expect(handler.intakeAdvice().reason).toMatch(/^quota error \(codegen-quota\)/);
    advance(120_001);
    expect(handler.intakeAdvice().pauseUntil).toBeUndefined();
  });
});
