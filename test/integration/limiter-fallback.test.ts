/**
 * With Redis unreachable the limiter keeps serving from local budgets (the shared limit divided by the
 * replicas) and says so once, in a log line, the `codegen_pr_rate_limiter_shared` gauge and mode(); a call
 * never fails because Redis is down. Redis is really unreachable here: a REDIS_URL on a closed port, and the
 * real Redis behind a TCP proxy that stops answering mid-run and then comes back.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { AppConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { createCodegenGuard } from '../../src/resilience/guard.js';
import { createLimiter, type Limiter } from '../../src/resilience/limiter.js';
import { startTcpProxy, type TcpProxy } from '../fakes/tcp-proxy.js';

const REDIS_URL = process.env.REDIS_URL;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A logger whose lines the test can read and wait for. */
function recordingLogger() {
  const lines: Array<{ msg: string; level: number }> = [];
  const waiters: Array<{ msg: string; resolve: () => void }> = [];
  const logger = createLogger({
    level: 'info',
    destination: {
      write: (raw: string) => {
        const line = JSON.parse(raw) as { msg: string; level: number };
        lines.push(line);
        for (const w of waiters.filter((x) => line.msg.startsWith(x.msg))) w.resolve();
      },
    },
  });
  const waitFor = (msg: string, count = 1): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (lines.filter((l) => l.msg.startsWith(msg)).length >= count) resolve();
        else waiters.push({ msg, resolve: check });
      };
      check();
    });
  const count = (msg: string): number => lines.filter((l) => l.msg.startsWith(msg)).length;
  return { logger, lines, waitFor, count };
}

const GONE = 'rate limiter cannot reach Redis';
const BACK = 'rate limiter reaches Redis again';

async function sharedGauge(metrics: Metrics, dependency: string): Promise<number | undefined> {
  const { values } = await metrics.rateLimiterShared.get();
  return values.find((v) => v.labels.dependency === dependency)?.value;
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const uniqueId = (tag: string): string => `test-${tag}-${process.pid}-${randomBytes(3).toString('hex')}`;

describe('rate limiter with Redis unreachable', () => {
  it('serves every call from local budgets when REDIS_URL points at a closed port, and says so once', async () => {
    const recorder = recordingLogger();
    const metrics = createMetrics({ defaultMetrics: false });
    const id = uniqueId('closed');
    const limiter: Limiter = createLimiter({
      id,
      budgets: { standard: { max: 100, perMs: 1_000 } },
      redis: { url: `redis://127.0.0.1:${await closedPort()}` },
      replicas: 2,
      logger: recorder.logger,
      metrics,
      redisProbeIntervalMs: 100,
      redisTimeoutMs: 200,
    });
    closers.push(() => limiter.close());
    const results = await Promise.all([1, 2, 3].map((n) => limiter.schedule('standard', async () => n)));
    expect(results).toEqual([1, 2, 3]);
    expect(limiter.mode()).toBe('local');
    expect(await sharedGauge(metrics, id)).toBe(0);
    // Reconnect attempts and failed probes keep coming; the switch was said once.
    await recorder.waitFor(GONE);
    expect(recorder.count(GONE)).toBe(1);
  });

  it("keeps the Codegen guard's calls going and reports local mode", async () => {
    const recorder = recordingLogger();
    const metrics = createMetrics({ defaultMetrics: false });
    const config = {
      rateLimits: {
        codegenCreatePerMinute: 10,
        codegenRequestsPer30s: 60,
        headroom: 10,
        replicas: 3,
        redisUrl: `redis://127.0.0.1:${await closedPort()}`,
        maxRetryAfterMs: 60_000,
      },
      breaker: { errorThresholdPercentage: 50, resetTimeoutMs: 30_000, volumeThreshold: 10 },
      codegen: { requestTimeout: 5_000 },
    } as unknown as AppConfig;
    const guard = createCodegenGuard(config, { logger: recorder.logger, metrics });
    closers.push(() => guard.close());
    let sent = 0;
    await expect(guard.run('get-run', async () => ++sent)).resolves.toBe(1);
    await expect(guard.run('create', async () => ++sent)).resolves.toBe(2);
    expect(sent).toBe(2);
    expect(guard.mode?.()).toBe('local');
    expect(await sharedGauge(metrics, 'codegen')).toBe(0);
  });
});

const describeRedis = REDIS_URL ? describe : describe.skip;
if (!REDIS_URL) console.warn('limiter-fallback: REDIS_URL is not set, so the proxied-Redis test is skipped');

describeRedis('rate limiter with the real Redis behind a proxy that stops answering', () => {
  let proxy: TcpProxy;
  afterEach(async () => {
    await proxy?.close();
  });

  it('switches to local budgets when Redis goes silent mid-run and back to shared when it answers again', async () => {
    proxy = await startTcpProxy({ target: REDIS_URL ?? '' });
    const recorder = recordingLogger();
    const metrics = createMetrics({ defaultMetrics: false });
    const id = uniqueId('paused');
    const limiter = createLimiter({
      id,
      budgets: { standard: { max: 1_000, perMs: 1_000 } },
      redis: { url: proxy.url(REDIS_URL ?? '') },
      logger: recorder.logger,
      metrics,
      redisProbeIntervalMs: 100,
      redisTimeoutMs: 300,
    });
    closers.push(() => limiter.close());

    await expect(limiter.schedule('standard', async () => 'first')).resolves.toBe('first');
    expect(limiter.mode()).toBe('shared');
    expect(await sharedGauge(metrics, id)).toBe(1);

    proxy.pause();
    // Queued while Redis is silent: served once the limiter notices, never failed.
    await expect(limiter.schedule('standard', async () => 'during')).resolves.toBe('during');
    expect(limiter.mode()).toBe('local');
    expect(await sharedGauge(metrics, id)).toBe(0);
    await expect(limiter.schedule('standard', async () => 'still')).resolves.toBe('still');

    proxy.resume();
    await recorder.waitFor(BACK);
    expect(limiter.mode()).toBe('shared');
    expect(await sharedGauge(metrics, id)).toBe(1);
    await expect(limiter.schedule('standard', async () => 'after')).resolves.toBe('after');
    expect([recorder.count(GONE), recorder.count(BACK)]).toEqual([1, 1]);
  });
});
