/**
 * The Guard of one external system: retry, rate limit, circuit breaker and per-request timeout, composed once.
 *
 * Order, outermost first: retry( breakerCheck + limiter( breaker( timeout( fn ) ) ) ).
 * - Retry is outermost so every attempt queues for a fresh rate-limit token (each attempt is a real request
 *   the server counts), and so backoff waits happen outside the limiter without holding a concurrency slot.
 * - The limiter sits outside the breaker so the breaker judges the request at the moment it is really sent
 *   (a circuit may open while a request waits for a token), and sees every attempt. An open circuit is also
 *   checked before queueing, so failing fast does not first wait for, and spend, a token.
 * - The timeout is innermost and per attempt: time spent queueing for a token is not request time.
 * - The caller's signal reaches all of them: the retry wait, the queue, and the request itself.
 * Metrics count requests that were actually sent, one per attempt; a call refused by an open circuit is not a
 * request (the circuit gauge shows it).
 */
import type { AppConfig } from '../config/load.js';
import { DaemonError, toDaemonError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createBreaker, type Breaker } from './breaker.js';
import { spacedBudget, type Budget } from './budgets.js';
import { createLimiter, type Limiter } from './limiter.js';
import { abortableSleep, cancelledError, retryWithPolicy, type RetryOptions } from './retry.js';
import type { Guard } from './types.js';

export interface GuardOptions {
  /** Name of the external system: codegen, github, task-store. Labels metrics and errors. */
  dependency: string;
  /** Rate-limit budgets by kind (a `standard` one is required). Without them requests are not rate limited. */
  limiter?: Record<string, Budget>;
  breaker: AppConfig['breaker'] & { rollingCountTimeoutMs?: number };
  retry?: Omit<RetryOptions, 'signal' | 'shouldRetry' | 'onRetry'>;
  /** Timeout of one attempt, in ms. */
  requestTimeoutMs: number;
  /**
   * Kinds whose requests must not be sent twice (e.g. creating an agent run). Once such a request went out,
   * only a rate-limit answer (the server refused it outright) is retried inline; other failures go back to
   * the caller, which can look for what the first attempt may have created.
   */
  nonIdempotentKinds?: readonly string[];
  metrics?: Metrics;
  logger: Logger;
  /** Share the rate-limit budgets with every replica through this Redis. */
  redisUrl?: string;
  /** Replicas drawing on the budgets: without Redis (or while it is unreachable) each uses 1/replicas. Default 1. */
  replicas?: number;
}

/** Build a Guard; see the module comment for the order of the layers. */
export function createGuard(options: GuardOptions): Guard {
  const { dependency, metrics } = options;
  const log = options.logger.child({ dependency, component: 'guard' });
  const breaker: Breaker = createBreaker({ dependency, ...options.breaker, logger: options.logger, metrics });
  const limiter: Limiter | undefined = options.limiter
    ? createLimiter({
        id: dependency,
        budgets: options.limiter,
        logger: options.logger,
        jobExpirationMs: options.requestTimeoutMs * 2,
        ...(options.redisUrl ? { redis: { url: options.redisUrl } } : {}),
        ...(options.replicas ? { replicas: options.replicas } : {}),
        ...(metrics ? { metrics } : {}),
      })
    : undefined;
  const unsafeKinds = new Set(options.nonIdempotentKinds ?? []);
  /** Per kind: no request before this time (a Retry-After the service gave). */
  const heldUntil = new Map<string, number>();
  const holdWhileRateLimited = async (kind: string, signal?: AbortSignal): Promise<void> => {
    for (let wait = (heldUntil.get(kind) ?? 0) - Date.now(); wait > 0; wait = (heldUntil.get(kind) ?? 0) - Date.now()) {
      await abortableSleep(wait, signal);
    }
  };
  let closed = false;

  /** One request with its own signal: the caller's, plus this attempt's timeout. */
  async function attempt<T>(kind: string, fn: (signal: AbortSignal) => Promise<T>, caller?: AbortSignal) {
    if (caller?.aborted) throw cancelledError(caller.reason);
    const controller = new AbortController();
    let timedOut = false;
    const onCallerAbort = (): void => controller.abort(caller?.reason);
    caller?.addEventListener('abort', onCallerAbort, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DaemonError(`${dependency} request timed out`, { code: 'timeout', category: 'timeout' }));
    }, options.requestTimeoutMs);
    timer.unref();
    // fn may ignore its signal; the race makes the timeout and the caller's abort hold regardless.
    const aborted = new Promise<never>((_, reject) => {
      const fail = (): void => reject(controller.signal.reason);
      if (controller.signal.aborted) fail();
      else controller.signal.addEventListener('abort', fail, { once: true });
    });
    aborted.catch(() => undefined);
    const started = performance.now();
    try {
      const result = await Promise.race([fn(controller.signal), aborted]);
      record(kind, 'ok', started);
      return result;
    } catch (raw) {
      const error = timedOut
        ? new DaemonError(`${dependency} ${kind} request timed out after ${options.requestTimeoutMs} ms`, {
            code: 'request-timeout',
            category: 'timeout',
            retryable: true,
            dependency,
            cause: raw,
          })
        : caller?.aborted
          ? cancelledError(caller.reason)
          : toDaemonError(raw);
      record(kind, error.category, started);
      if (error.category === 'rate_limit') {
        metrics?.rateLimited.inc({ dependency });
        // A rate limit concerns the budget, not this one request: hold the whole lane for the advised wait.
        if (error.retryAfterMs !== undefined && error.retryAfterMs > 0) {
          const until = Date.now() + Math.min(error.retryAfterMs, options.retry?.maxRetryAfterMs ?? 60_000);
          heldUntil.set(kind, Math.max(heldUntil.get(kind) ?? 0, until));
        }
      }
      throw error;
    } finally {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onCallerAbort);
    }
  }

  function record(kind: string, outcome: string, started: number): void {
    if (!metrics) return;
    metrics.externalRequests.inc({ dependency, kind, outcome });
    metrics.externalRequestDuration.observe({ dependency, kind }, (performance.now() - started) / 1000);
  }

  return {
    dependency,
    async run<T>(kind: string, fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (closed)
        throw new DaemonError(`${dependency} guard is closed`, {
          code: 'guard-closed',
          category: 'cancelled',
          dependency,
        });
      let sent = false;
      const once = async (): Promise<T> => {
        sent = false;
        breaker.assertCallable();
        // The service said the budget is spent until then: no request of this kind goes out before it.
        await holdWhileRateLimited(kind, signal);
        const send = async () => {
          // Checked again at the moment of sending: a request that queued before a 429 arrived must not go out
          // inside the window that 429 asked for.
          await holdWhileRateLimited(kind, signal);
          return breaker.fire(() => {
            sent = true;
            return attempt(kind, fn, signal);
          });
        };
        return limiter ? limiter.schedule(kind, send, signal) : send();
      };
      return retryWithPolicy(once, {
        ...options.retry,
        ...(signal ? { signal } : {}),
        // A request that never left (circuit open, limiter trouble) is always safe to try again.
        shouldRetry: (error) => !unsafeKinds.has(kind) || !sent || error.category === 'rate_limit',
        onRetry: ({ attempt: n, delayMs, error }) =>
          log.warn({ kind, attempt: n, delayMs, err: error }, 'request failed; retrying'),
      });
    },
    circuitState: () => breaker.state(),
    mode: () => limiter?.mode() ?? 'none',
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await limiter?.close();
      breaker.shutdown();
    },
  };
}

/**
 * Codegen's documented budgets (10 agent-run creations per minute, 60 other requests per 30 s, or what the
 * configuration says), each kept `rateLimits.headroom` percent below the limit and spaced over every window.
 */
export function codegenBudgets(config: Pick<AppConfig, 'rateLimits'>): Record<'create' | 'standard', Budget> {
  const { codegenCreatePerMinute, codegenRequestsPer30s, headroom } = config.rateLimits;
  return {
    create: spacedBudget(codegenCreatePerMinute, 60_000, headroom),
    standard: spacedBudget(codegenRequestsPer30s, 30_000, headroom),
  };
}

/**
 * The Codegen guard: its documented budgets (agent-run creation; everything else), shared through Redis when
 * configured. Creating an agent run is not idempotent, so it is only retried inline when refused outright.
 */
export function createCodegenGuard(config: AppConfig, deps: { logger: Logger; metrics?: Metrics }): Guard {
  return createGuard({
    dependency: 'codegen',
    limiter: codegenBudgets(config),
    breaker: config.breaker,
    retry: { maxAttempts: 3, baseMs: 1_000, maxMs: 30_000, maxRetryAfterMs: config.rateLimits.maxRetryAfterMs },
    requestTimeoutMs: config.codegen.requestTimeout,
    nonIdempotentKinds: ['create'],
    logger: deps.logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(config.rateLimits.redisUrl ? { redisUrl: config.rateLimits.redisUrl } : {}),
    replicas: config.rateLimits.replicas,
  });
}
