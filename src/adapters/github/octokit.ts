/**
 * The one Octokit the daemon talks to GitHub through: @octokit/rest with the throttling plugin and retries as
 * @octokit/plugin-retry decides them (the pair the all-in-one `octokit` package uses; the retries are a loop of
 * our own, leanRetry), a per-attempt timeout, token or GitHub App auth, requests over node:http
 * (http-fetch.ts), and a logger adapter that never prints credentials. This is GitHub's resilience chokepoint: throttling spaces
 * writes and notifying requests as GitHub asks, retry covers 5xx, 408 and 425, and rate limits are retried a
 * bounded number of times when the wait is short, else surfaced (the classifier turns them into retryable
 * errors). No other 4xx is ever sent twice.
 */
import { Octokit } from '@octokit/rest';
import { throttling } from '@octokit/plugin-throttling';
import { createAppAuth } from '@octokit/auth-app';
import type { Octokit as CoreOctokit } from '@octokit/core';
import type { OctokitOptions } from '@octokit/core/types';
import Bottleneck from 'bottleneck';
import type { Logger } from '../../observability/logger.js';
import { timeoutSignal } from '../../resilience/timeout-signal.js';
import type { Limiter } from '../../resilience/limiter.js';
import { concurrencyGroup, passThroughGroup, retryScheduler } from './lean-groups.js';
import { createHttpFetch } from '../http-fetch.js';

/** The caller's own signal per request, kept apart from the per-attempt signal written over it. */
const callerSignals = new WeakMap<object, AbortSignal | undefined>();

/** Abort each attempt (not the whole retried call) after `requestTimeoutMs`, on top of the caller's signal. */
function requestTimeout(octokit: CoreOctokit, options: OctokitOptions): void {
  const ms = Number(options.requestTimeoutMs);
  if (!(ms > 0)) return;
  // Registered before retry and throttling, so their wraps sit outside this one and every attempt passes here.
  // Hooks share one options object (a wrap cannot hand a copy inward), so the signal is set on it in place.
  octokit.hook.wrap('request', (request, endpoint) => {
    const req = (endpoint.request ??= {}) as { signal?: AbortSignal };
    if (!callerSignals.has(req)) callerSignals.set(req, req.signal);
    const caller = callerSignals.get(req);
    const limit = timeoutSignal(ms, caller);
    req.signal = limit.signal;
    return Promise.resolve(request(endpoint)).finally(() => limit.clear());
  });
}

/** The signal the caller passed with a request (the per-attempt one is written over it by requestTimeout). */
function callerSignal(endpoint: { request?: unknown }): AbortSignal | undefined {
  const req = (endpoint.request ?? {}) as { signal?: AbortSignal };
  return callerSignals.has(req) ? callerSignals.get(req) : req.signal;
}

/**
 * Space every attempt of a write (and of a write that notifies people) through the `pacing` limiter, shared
 * by every replica through Redis. It sits inside the retry plugin (leanRetry), so a retried write waits its turn like any
 * other, and a caller that aborts while waiting leaves at once.
 */
function sharedPacing(octokit: CoreOctokit, options: OctokitOptions): void {
  const pacing = options.pacing as Limiter | undefined;
  if (!pacing) return;
  octokit.hook.wrap('request', async (request, endpoint) => {
    const method = String(endpoint.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      const signal = callerSignal(endpoint);
      const { pathname } = new URL(String(endpoint.url), 'http://github.test');
      await pacing.schedule('write', async () => undefined, signal);
      if (throttling.triggersNotification(pathname)) {
        await pacing.schedule('notifications', async () => undefined, signal);
      }
    }
    return request(endpoint);
  });
}

/**
 * Retries of 5xx, 408, 425 and network failures, as @octokit/plugin-retry decides them (a RequestError whose
 * status is not in `retry.doNotRetry`, at most `retry.retries` times, waiting (n+1)^2 x `retry.retryAfterBaseValue`
 * before retry n), without the Bottleneck that plugin builds for every request: one loop per request. A caller
 * that aborts during a wait is not kept waiting: the next attempt starts at once and fails as aborted.
 */
function leanRetry(octokit: CoreOctokit, options: OctokitOptions): void {
  const settings = (options.retry ?? {}) as { retries?: number; retryAfterBaseValue?: number; doNotRetry?: number[] };
  const retries = settings.retries ?? 3;
  const baseMs = settings.retryAfterBaseValue ?? 1000;
  const doNotRetry = new Set(settings.doNotRetry ?? DO_NOT_RETRY);
  octokit.hook.wrap('request', async (request, endpoint) => {
    for (let retryCount = 0; ; retryCount++) {
      try {
        return await request(endpoint);
      } catch (error) {
        const status = (error as { status?: unknown }).status;
        const isRequestError = (error as { request?: unknown }).request !== undefined;
        if (!isRequestError || typeof status !== 'number' || status < 400 || doNotRetry.has(status)) throw error;
        if (retryCount >= retries) throw error;
        (endpoint.request as { retryCount?: number }).retryCount = retryCount + 1;
        await pause((retryCount + 1) ** 2 * baseMs, callerSignal(endpoint));
      }
    }
  });
}

/** Wait `ms`, or less if `signal` aborts (the caller then fails on the next attempt). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

// Order matters: the plugin registered last wraps outermost. The retry plugin (leanRetry) goes outside plugin-throttling, so
// each retry attempt queues for a write slot of its own and the waits between attempts are spent outside it:
// with throttling outermost, one write retrying a 5xx held the one-at-a-time write slot through all its waits
// (14 s at the defaults) and every other task's GitHub writes queued behind it.
const GitHubOctokitClass = Octokit.plugin(requestTimeout, sharedPacing, throttling, leanRetry);

/**
 * 4xx statuses that asking again can turn into a success, and who does the asking: 408 (Request Timeout) and
 * 425 (Too Early) by leanRetry; 429 and GitHub's 403 rate limits by plugin-throttling, which reads the
 * rate-limit headers. Every other 4xx (404, 406, 409, 415, 422, ...) is an answer about the request itself
 * and is returned to the caller at once.
 */
const RETRIED_4XX: ReadonlySet<number> = new Set([408, 425]);

/**
 * leanRetry (as plugin-retry) retries every status >= 400 that is not listed in doNotRetry, so the list has to name every
 * 4xx except RETRIED_4XX (its default names 7 of them: 406, 409, 415 ... were each sent 4 times). 429 is
 * listed so throttling alone decides on it: one retry decision per request, not two layers multiplied.
 */
export const DO_NOT_RETRY: readonly number[] = Array.from({ length: 100 }, (_, i) => 400 + i).filter(
  (status) => !RETRIED_4XX.has(status),
);

/** The Octokit type the GitHub adapter works with (the plugins add nothing the adapter calls). */
export type GitHubOctokit = Octokit;

/** GitHub App credentials: installation tokens are created and refreshed by @octokit/auth-app. */
export interface GitHubAppCredentials {
  appId: string;
  privateKey: string;
  installationId: string;
}

export interface CreateOctokitOptions {
  /** https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server. */
  baseUrl: string;
  /** A PAT or fine-grained token. Give this or `app`. */
  token?: string;
  app?: GitHubAppCredentials;
  /** Least time between two write requests (GitHub asks for 1 s). */
  writeMinTimeMs: number;
  /** Least time between two requests that notify people (PR creation, review requests). */
  notificationMinTimeMs: number;
  /** Timeout of one attempt. */
  timeoutMs: number;
  logger: Logger;
  /** Retries of 5xx and network failures (leanRetry). Default 3. */
  retries?: number;
  /** Base of the retry waits: leanRetry waits (n+1)^2 x this; rate-limit waits are seconds x this. Default 1000. */
  retryBaseMs?: number;
  /** How many times a rate-limited request is retried before the error surfaces. Default 2. */
  rateLimitRetries?: number;
  /** Longest rate-limit wait worth sitting out inside one request. Default 60 s. */
  maxRateLimitWaitMs?: number;
  /**
   * Write and notification spacing shared by every replica (createGitHubPacing): it falls back to local
   * spacing while Redis is unreachable. With it, Octokit's own throttling groups stay in this process.
   */
  pacing?: Limiter;
  /**
   * Deprecated, use `pacing`: share the spacing through bottleneck's Redis clustering, which waits for ever
   * (every GitHub write with it) while Redis is unreachable. Ignored when `pacing` is given. The caller owns
   * the connection.
   */
  redis?: { connection: Bottleneck.IORedisConnection | Bottleneck.RedisConnection; id?: string };
  userAgent?: string;
  /** The fetch requests go through. Default: createHttpFetch() (node:http with keep-alive). */
  fetch?: typeof fetch;
}

/** Strip anything that looks like a credential from a message Octokit wants to log. */
function scrub(message: unknown): string {
  return String(message)
    .replace(/\b(token|bearer|basic)\s+[^\s"',]+/gi, '$1 [redacted]')
    .replace(/\b(gh[pousr]_|github_pat_)[A-Za-z0-9_]+/g, '[redacted]');
}

/**
 * Octokit's log calls carry request options (with headers) as a second argument; only the message is kept.
 * Per-request lines (request-log plugin) go to debug: the adapter logs what matters after classifying.
 */
function octokitLog(logger: Logger): NonNullable<OctokitOptions['log']> {
  return {
    // request-log's "request" line carries the request options, which are dropped anyway: skip it.
    debug: (message: string) => (message === 'request' ? undefined : logger.debug(scrub(message))),
    info: (message: string) => logger.debug(scrub(message)),
    warn: (message: string) => logger.warn(scrub(message)),
    error: (message: string) => logger.debug(scrub(message)),
  };
}

/** Build the Octokit for GitHub from options (see CreateOctokitOptions). */
export function createOctokit(options: CreateOctokitOptions): GitHubOctokit {
  const { logger } = options;
  const baseMs = options.retryBaseMs ?? 1000;
  const rateLimitRetries = options.rateLimitRetries ?? 2;
  const maxWaitMs = options.maxRateLimitWaitMs ?? 60_000;
  // The plugin's own groups are module-wide (the first Octokit's settings, and its Redis connection, would
  // stick for every later one); it takes `throttle.<group> ?? its own`, so pass all five, shaped as its are.
  const redis = options.pacing ? undefined : options.redis;
  const common = { timeout: 2 * 60_000, ...(redis ? { connection: redis.connection } : {}) };
  const group = (name: string, settings: Bottleneck.ConstructorOptions) =>
    new Bottleneck.Group({ id: `codegen-pr-github-${name}`, ...settings, ...common });
  // With `pacing` the spacing of writes is done there, so each request meets one limiter decision: the write
  // and notification groups (which only ever run a no-op before the request) pass through, and the global
  // group's in-flight bound is a plain counter (lean-groups.ts). Without it, Bottleneck groups do it all.
  const groups = options.pacing
    ? {
        global: concurrencyGroup(10),
        auth: group('auth', { maxConcurrent: 1 }),
        search: group('search', { maxConcurrent: 1, minTime: 2000 }),
        write: passThroughGroup(),
        notifications: passThroughGroup(),
      }
    : {
        global: group('global', { maxConcurrent: 10 }),
        auth: group('auth', { maxConcurrent: 1 }),
        search: group('search', { maxConcurrent: 1, minTime: 2000 }),
        write: group('write', { maxConcurrent: 1, minTime: options.writeMinTimeMs }),
        notifications: group('notifications', { maxConcurrent: 1, minTime: options.notificationMinTimeMs }),
      };

  const onLimit =
    (kind: string) =>
    (retryAfter: number, request: { method?: string; url?: string }, _o: unknown, retryCount: number) => {
      const waitMs = retryAfter * 1000;
      const willRetry = retryCount < rateLimitRetries && waitMs <= maxWaitMs;
      logger.warn(
        { kind, method: request.method, route: request.url, retryAfterS: retryAfter, retryCount, willRetry },
        willRetry ? `GitHub ${kind} rate limit: waiting before retrying` : `GitHub ${kind} rate limit: giving up`,
      );
      return willRetry;
    };

  let auth: Pick<OctokitOptions, 'auth' | 'authStrategy'> = {};
  if (options.token) auth = { auth: options.token };
  else if (options.app) {
    const { appId, privateKey, installationId } = options.app;
    auth = { authStrategy: createAppAuth, auth: { appId, privateKey, installationId } };
  } else {
    logger.warn('no GitHub token or App credentials: requests go unauthenticated and writes will be refused');
  }

  return new GitHubOctokitClass({
    ...auth,
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    userAgent: options.userAgent ?? 'codegen-pr',
    log: octokitLog(logger),
    // node:http with keep-alive rather than the global fetch: a fraction of the CPU per request (http-fetch.ts).
    // Successful answers are parsed by createHttpFetch with JSON.parse and handed over as they are: Octokit's
    // own parser (BigInt-aware, in plain JS) costs several times that on every pull request's JSON.
    request: options.fetch ? { fetch: options.fetch } : { fetch: createHttpFetch(), parseSuccessResponseBody: false },
    requestTimeoutMs: options.timeoutMs,
    // 429 and 403 rate limits are left to the throttling plugin, which knows the rate-limit headers; retry
    // handles 5xx, network failures, per-attempt timeouts, 408 and 425.
    retry: {
      retries: options.retries ?? 3,
      retryAfterBaseValue: baseMs,
      doNotRetry: [...DO_NOT_RETRY],
    },
    ...(options.pacing ? { pacing: options.pacing } : {}),
    throttle: {
      ...(redis ? { connection: redis.connection, Bottleneck, id: redis.id ?? 'codegen-pr' } : {}),
      retryAfterBaseValue: baseMs,
      ...groups,
      // The plugin's per-request Bottleneck for rate-limit retries, as a loop (lean-groups.ts). Its typings
      // leave the option out, though the plugin takes it.
      ...({ retryLimiter: retryScheduler() } as object),
      onRateLimit: onLimit('primary'),
      onSecondaryRateLimit: onLimit('secondary'),
    },
  });
}
