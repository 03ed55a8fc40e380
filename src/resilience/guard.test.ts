import { afterEach, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../config/load.js';
import { DaemonError, type ErrorCategory } from '../domain/errors.js';
import { silentLogger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { createCodegenGuard, createGuard, type GuardOptions } from './guard.js';
import type { Guard } from './types.js';

const guards: Guard[] = [];
afterEach(async () => {
  await Promise.all(guards.splice(0).map((g) => g.close()));
});

function makeGuard(overrides: Partial<GuardOptions> = {}): { guard: Guard; metrics: Metrics } {
  const metrics = createMetrics({ defaultMetrics: false });
  const guard = createGuard({
    dependency: 'test-dep',
    limiter: { standard: { max: 100, perMs: 60_000 } },
    breaker: { errorThresholdPercentage: 50, resetTimeoutMs: 60_000, volumeThreshold: 2 },
    retry: { maxAttempts: 3, baseMs: 1, maxMs: 5 },
    requestTimeoutMs: 1_000,
    metrics,
    logger: silentLogger(),
    ...overrides,
  });
  guards.push(guard);
  return { guard, metrics };
}

const failure = (category: ErrorCategory, extra: { retryAfterMs?: number } = {}): DaemonError =>
  new DaemonError(`failed: ${category}`, {
    code: `test-${category}`,
    category,
    retryable: ['server', 'network', 'rate_limit', 'timeout'].includes(category),
    ...extra,
  });

/** Count of externalRequests for one kind and outcome, read back from the registry. */
async function requests(metrics: Metrics, outcome: string, kind = 'standard'): Promise<number> {
  const data = await metrics.externalRequests.get();
  const hit = data.values.find(
    (v) => v.labels.dependency === 'test-dep' && v.labels.kind === kind && v.labels.outcome === outcome,
  );
  return hit?.value ?? 0;
}

/** fn failing with the given errors in turn, then answering 'done'. */
function script(errors: DaemonError[]): { calls: () => number; fn: (signal: AbortSignal) => Promise<string> } {
  let calls = 0;
  return {
    calls: () => calls,
    fn: async () => {
      const error = errors[calls++];
      if (error) throw error;
      return 'done';
    },
  };
}

describe('createGuard', () => {
  it('runs fn and records an ok request with its duration', async () => {
    const { guard, metrics } = makeGuard();
    await expect(guard.run('standard', async (signal) => (signal.aborted ? 'aborted' : 'fine'))).resolves.toBe('fine');
    expect(await requests(metrics, 'ok')).toBe(1);
    const text = await metrics.registry.getSingleMetricAsString('codegen_pr_external_request_duration_seconds');
    expect(text).toContain(
      'codegen_pr_external_request_duration_seconds_count{dependency="test-dep",kind="standard"} 1',
    );
  });

  it('retries a retryable failure and records each attempt', async () => {
    const { guard, metrics } = makeGuard();
    const s = script([failure('server')]);
    await expect(guard.run('standard', s.fn)).resolves.toBe('done');
    expect(s.calls()).toBe(2);
    expect(await requests(metrics, 'server')).toBe(1);
    expect(await requests(metrics, 'ok')).toBe(1);
  });

  it('does not retry validation errors, and coerces what fn throws', async () => {
    const { guard, metrics } = makeGuard();
    const s = script([failure('validation')]);
    await expect(guard.run('standard', s.fn)).rejects.toMatchObject({ code: 'test-validation' });
    expect(s.calls()).toBe(1);
    await expect(guard.run('standard', () => Promise.reject(new Error('plain')))).rejects.toMatchObject({
      name: 'DaemonError',
      category: 'unknown',
    });
    expect(await requests(metrics, 'validation')).toBe(1);
    expect(guard.circuitState()).toBe('closed');
  });

  it('counts rate limiting, and a retry waits for a fresh token', async () => {
    const { guard, metrics } = makeGuard({ limiter: { standard: { max: 1, perMs: 60_000 } } });
    let calls = 0;
    let firstCall: () => void = () => undefined;
    const called = new Promise<void>((resolve) => (firstCall = resolve));
    const controller = new AbortController();
    const run = guard.run(
      'standard',
      async () => {
        calls++;
        firstCall();
        throw failure('rate_limit', { retryAfterMs: 1 });
      },
      controller.signal,
    );
    await called;
    // The first attempt spent the only token; the retry (due after 1 ms) queues for the refresh a minute away.
    // Nothing can show a call that does not happen except giving it time to happen.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toBe(1);
    controller.abort();
    await expect(run).rejects.toMatchObject({ category: 'cancelled' });
    const rateLimited = await metrics.rateLimited.get();
    expect(rateLimited.values.find((v) => v.labels.dependency === 'test-dep')?.value).toBe(1);
    expect(await requests(metrics, 'rate_limit')).toBe(1);
  });

  it('times out each attempt, aborting its signal, as a retryable timeout', async () => {
    const { guard, metrics } = makeGuard({ requestTimeoutMs: 30, retry: { maxAttempts: 2, baseMs: 1 } });
    const seen: AbortSignal[] = [];
    const hang = (signal: AbortSignal): Promise<never> => {
      seen.push(signal);
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    };
    await expect(guard.run('standard', hang)).rejects.toMatchObject({
      code: 'request-timeout',
      category: 'timeout',
      retryable: true,
      dependency: 'test-dep',
    });
    expect(seen).toHaveLength(2);
    expect(seen.every((s) => s.aborted)).toBe(true);
    expect(await requests(metrics, 'timeout')).toBe(2);
  });

  it("enforces the timeout even when fn ignores its signal, and the caller's abort cancels at once", async () => {
    const { guard } = makeGuard({ requestTimeoutMs: 20, retry: { maxAttempts: 1 } });
    await expect(guard.run('standard', () => new Promise<never>(() => undefined))).rejects.toMatchObject({
      category: 'timeout',
    });

    const { guard: slow } = makeGuard({ requestTimeoutMs: 60_000 });
    const controller = new AbortController();
    let calls = 0;
    const run = slow.run(
      'standard',
      () => {
        calls++;
        queueMicrotask(() => controller.abort());
        return new Promise<never>(() => undefined);
      },
      controller.signal,
    );
    await expect(run).rejects.toMatchObject({ category: 'cancelled' });
    expect(calls).toBe(1);
  });

  it('opens the circuit after server failures and then fails fast without calling fn', async () => {
    const { guard, metrics } = makeGuard({ retry: { maxAttempts: 1 } });
    const s = script([failure('server'), failure('network')]);
    await expect(guard.run('standard', s.fn)).rejects.toMatchObject({ category: 'server' });
    await expect(guard.run('standard', s.fn)).rejects.toMatchObject({ category: 'network' });
    expect(guard.circuitState()).toBe('open');
    await expect(guard.run('standard', s.fn)).rejects.toMatchObject({
      code: 'circuit-open',
      retryable: true,
      dependency: 'test-dep',
    });
    expect(s.calls()).toBe(2);
    const gauge = await metrics.circuitState.get();
    expect(gauge.values.find((v) => v.labels.dependency === 'test-dep')?.value).toBe(2);
  });

  it('does not resend a non-idempotent request after it may have been processed', async () => {
    const { guard } = makeGuard({ nonIdempotentKinds: ['create'] });
    const s = script([failure('server')]);
    await expect(guard.run('create', s.fn)).rejects.toMatchObject({ code: 'test-server' });
    expect(s.calls()).toBe(1);
    // A 429 says the server did not take it: that one is retried.
    const r = script([failure('rate_limit', { retryAfterMs: 1 })]);
    await expect(guard.run('create', r.fn)).resolves.toBe('done');
    expect(r.calls()).toBe(2);
  });

  it('refuses work once closed', async () => {
    const { guard } = makeGuard();
    await guard.close();
    await expect(guard.run('standard', async () => 'x')).rejects.toMatchObject({ code: 'guard-closed' });
  });
});

describe('createCodegenGuard', () => {
  it('builds the codegen guard from configuration', async () => {
    const config = loadConfig({ env: {}, dotenvPath: false, configDir: '/nonexistent' });
    const metrics = createMetrics({ defaultMetrics: false });
    const guard = createCodegenGuard(config, { logger: silentLogger(), metrics });
    guards.push(guard);
    expect(guard.dependency).toBe('codegen');
    await expect(guard.run('create', async () => 'run-1')).resolves.toBe('run-1');
    await expect(guard.run('get-run', async () => 'status')).resolves.toBe('status');
    const data = await metrics.externalRequests.get();
    expect(data.values.map((v) => `${v.labels.kind}:${v.labels.outcome}:${v.value}`).sort()).toEqual([
      'create:ok:1',
      'get-run:ok:1',
    ]);
  });
});
