import { afterEach, describe, expect, it } from '@jest/globals';
import { DaemonError, type ErrorCategory } from '../domain/errors.js';
import { silentLogger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { createBreaker, type Breaker } from './breaker.js';
import type { CircuitState } from './types.js';

const failure = (category: ErrorCategory): DaemonError =>
  new DaemonError(`failed: ${category}`, { code: `test-${category}`, category, retryable: category !== 'validation' });

let breaker: Breaker | undefined;
afterEach(() => breaker?.shutdown());

/** A breaker that opens after 2 counted failures out of 2 and half-opens 100 ms later. */
function setup(): { breaker: Breaker; metrics: Metrics; next: (state: CircuitState) => Promise<void> } {
  const metrics = createMetrics({ defaultMetrics: false });
  const waiting: Array<{ state: CircuitState; resolve: () => void }> = [];
  breaker = createBreaker({
    dependency: 'test-dep',
    errorThresholdPercentage: 50,
    resetTimeoutMs: 100,
    volumeThreshold: 2,
    metrics,
    logger: silentLogger(),
    onStateChange: (state) => {
      for (const w of waiting.filter((x) => x.state === state)) w.resolve();
    },
  });
  const next = (state: CircuitState): Promise<void> => new Promise((resolve) => waiting.push({ state, resolve }));
  return { breaker, metrics, next };
}

async function gaugeValue(metrics: Metrics): Promise<number | undefined> {
  const data = await metrics.circuitState.get();
  return data.values.find((v) => v.labels.dependency === 'test-dep')?.value;
}

describe('createBreaker', () => {
  it('opens after failures that count, then fails fast without running the task', async () => {
    const { breaker, metrics } = setup();
    expect(await gaugeValue(metrics)).toBe(0);
    for (const category of ['server', 'network'] as const) {
      await expect(breaker.fire(() => Promise.reject(failure(category)))).rejects.toMatchObject({ category });
    }
    expect(breaker.state()).toBe('open');
    expect(await gaugeValue(metrics)).toBe(2);

    let ran = false;
    const fast = breaker.fire(async () => {
      ran = true;
    });
    await expect(fast).rejects.toMatchObject({
      code: 'circuit-open',
      category: 'server',
      retryable: true,
      dependency: 'test-dep',
    });
    expect(ran).toBe(false);
    const error = (await fast.then(
      () => undefined,
      (e: unknown) => e,
    )) as DaemonError;
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(100);
    expect(() => breaker.assertCallable()).toThrow(expect.objectContaining({ code: 'circuit-open' }));
  });

  it('lets 4xx-type failures pass through without opening', async () => {
    const { breaker } = setup();
    for (const category of ['validation', 'authentication', 'quota', 'rate_limit', 'conflict'] as const) {
      const error = failure(category);
      for (let i = 0; i < 3; i++) await expect(breaker.fire(() => Promise.reject(error))).rejects.toBe(error);
    }
    expect(breaker.state()).toBe('closed');
    await expect(breaker.fire(async () => 'still open for business')).resolves.toBe('still open for business');
  });

  it('half-opens after resetTimeout and closes on a successful trial', async () => {
    const { breaker, metrics, next } = setup();
    const halfOpen = next('half-open');
    for (let i = 0; i < 2; i++) await breaker.fire(() => Promise.reject(failure('timeout'))).catch(() => undefined);
    expect(breaker.state()).toBe('open');
    await halfOpen;
    expect(breaker.state()).toBe('half-open');
    expect(await gaugeValue(metrics)).toBe(1);

    const closed = next('closed');
    await expect(breaker.fire(async () => 'ok')).resolves.toBe('ok');
    await closed;
    expect(breaker.state()).toBe('closed');
    expect(await gaugeValue(metrics)).toBe(0);
  });

  it('re-opens when the half-open trial fails, and when it is cancelled', async () => {
    const { breaker, next } = setup();
    let halfOpen = next('half-open');
    for (let i = 0; i < 2; i++) await breaker.fire(() => Promise.reject(failure('server'))).catch(() => undefined);
    await halfOpen;

    halfOpen = next('half-open');
    await expect(breaker.fire(() => Promise.reject(failure('server')))).rejects.toMatchObject({ code: 'test-server' });
    expect(breaker.state()).toBe('open');
    await halfOpen;

    await expect(breaker.fire(() => Promise.reject(failure('cancelled')))).rejects.toMatchObject({
      category: 'cancelled',
    });
    expect(breaker.state()).toBe('open');
  });

  it('refuses calls after shutdown', async () => {
    const { breaker } = setup();
    breaker.shutdown();
    await expect(breaker.fire(async () => 1)).rejects.toMatchObject({ code: 'guard-closed' });
  });
});
