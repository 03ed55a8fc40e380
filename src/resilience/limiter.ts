/**
 * Rate-limit budgets on bottleneck. Each budget is a reservoir of `max` requests refreshed every `perMs`; with
 * Redis, bottleneck's clustering keeps the reservoir in Redis so every replica draws from the same budget.
 *
 * Callers wait in our own FIFO, not in bottleneck's queue: bottleneck cannot take one job back out of its queue,
 * so each bottleneck job is an anonymous "slot" that serves whichever caller is oldest when it runs. A caller
 * that aborts while waiting leaves at once, and its slot goes to the next caller instead of being wasted (a
 * token is only lost when nobody at all is left waiting).
 */
import Bottleneck from 'bottleneck';
import { Redis, type RedisOptions } from 'ioredis';
import { DaemonError, toDaemonError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import { cancelledError } from './retry.js';

/**
 * One rate-limit budget: a reservoir of `max` request starts, refilled to `max` every `perMs`.
 *
 * The reservoir alone counts in its own fixed windows: `max` late in one window and `max` early in the next
 * can start within moments of each other. The server's windows do not line up with ours, so to stay within
 * "max per perMs" over every window set `minTimeMs` to perMs / max (createCodegenGuard does): starts are then
 * spaced so that no interval of perMs holds more than `max`, at the price of no bursts.
 */
export interface Budget {
  max: number;
  perMs: number;
  /** Most requests in flight at once (across replicas with Redis). */
  maxConcurrent?: number;
  /** Least time between two request starts, in ms (across replicas with Redis). Default 0. */
  minTimeMs?: number;
}

export interface LimiterOptions {
  /** Names the Redis keys: `codegen-pr:<id>:<kind>`. Replicas sharing a budget use the same id. */
  id: string;
  /** Budgets by request kind. Kinds without a budget of their own use `standard`, which must exist. */
  budgets: Record<string, Budget>;
  /** Share the budgets through this Redis. Without it each process has its own. */
  redis?: { url: string };
  logger: Logger;
  /** With maxConcurrent: a request slot is freed after this long even if its holder vanished. Default 120_000. */
  jobExpirationMs?: number;
  /** Until Redis first answers, a caller waits at most this long, then gets a retryable error. Default 10_000. */
  redisConnectTimeoutMs?: number;
}

export interface Limiter {
  /** Run `fn` when `kind`'s budget allows. Rejects with a cancelled DaemonError as soon as `signal` aborts. */
  schedule<T>(kind: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Reject everyone still waiting, stop the timers and close the Redis connections. */
  close(): Promise<void>;
}

interface Waiter {
  run: () => Promise<void>;
  fail: (error: DaemonError) => void;
}

interface Lane {
  bottleneck: Bottleneck;
  waiters: Waiter[];
  /** Slots submitted to bottleneck and not yet started or dropped. */
  pendingSlots: number;
}

/** The Redis key prefix bottleneck uses for a budget (its keys are `b_<this>_*`). */
export function budgetId(id: string, kind: string): string {
  return `codegen-pr:${id}:${kind}`;
}

/** ioredis options from a redis:// or rediss:// URL (bottleneck passes an options object, not a URL). */
export function redisClientOptions(url: string): RedisOptions {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new DaemonError('REDIS_URL must start with redis:// or rediss://', {
      code: 'invalid-redis-url',
      category: 'configuration',
    });
  }
  const db = Number(parsed.pathname.replace(/^\//, '') || '0');
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(Number.isInteger(db) ? { db } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** Build the limiter; see the module comment for how waiting and cancelling work. */
export function createLimiter(options: LimiterOptions): Limiter {
  const log = options.logger.child({ component: 'limiter', limiter: options.id });
  if (!options.budgets.standard) {
    throw new DaemonError(`limiter ${options.id} needs a "standard" budget`, {
      code: 'missing-standard-budget',
      category: 'configuration',
    });
  }
  // One connection (a command client and a subscriber) per limiter, shared by all its budgets.
  const connection = options.redis
    ? new Bottleneck.IORedisConnection({ clientOptions: redisClientOptions(options.redis.url), Redis })
    : undefined;
  let connected = connection === undefined;
  // While Redis is away every reconnect attempt and heartbeat fails; one line per 30 s says enough. Never log
  // the URL: it may carry a password.
  const warn = throttled(log, 30_000);
  connection?.on('error', (err) => warn({ err }, 'rate limiter cannot reach Redis'));

  const lanes = new Map<string, Lane>();
  for (const [kind, budget] of Object.entries(options.budgets)) {
    const bottleneck = new Bottleneck(bottleneckSettings(options.id, kind, budget, connection));
    bottleneck.on('error', (err) => warn({ err, kind }, 'rate limiter error'));
    lanes.set(kind, { bottleneck, waiters: [], pendingSlots: 0 });
  }
  void Promise.all([...lanes.values()].map((lane) => lane.bottleneck.ready())).then(() => (connected = true));
  const jobOptions = (kind: string): Bottleneck.JobOptions => {
    const budget = options.budgets[kind];
    return budget?.maxConcurrent ? { expiration: options.jobExpirationMs ?? 120_000 } : {};
  };
  let closed = false;

  const submitSlot = (kind: string, lane: Lane): void => {
    let started = false;
    lane.pendingSlots++;
    lane.bottleneck
      .schedule(jobOptions(kind), async () => {
        started = true;
        lane.pendingSlots--;
        const waiter = lane.waiters.shift();
        // Everyone who asked for this slot gave up; the token is spent but nobody is left to use it.
        if (!waiter) return;
        await waiter.run();
      })
      .catch((raw: unknown) => {
        if (started) return; // expiration of a long job: its caller is settled by run() itself
        lane.pendingSlots--;
        // Fewer slots than waiters now: the oldest waiter would never be served, so it gets the error.
        if (lane.waiters.length > lane.pendingSlots) {
          lane.waiters.shift()?.fail(limiterFailure(raw, closed));
        }
      });
  };

  return {
    schedule<T>(kind: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      const laneKind = lanes.has(kind) ? kind : 'standard';
      const lane = lanes.get(laneKind) as Lane;
      if (closed) return Promise.reject(limiterFailure(undefined, true));
      if (signal?.aborted) return Promise.reject(cancelledError(signal.reason));
      return new Promise<T>((resolve, reject) => {
        const leave = (): boolean => {
          const index = lane.waiters.indexOf(waiter);
          if (index !== -1) lane.waiters.splice(index, 1);
          return index !== -1;
        };
        const settle = (): void => {
          signal?.removeEventListener('abort', onAbort);
          clearTimeout(connectTimer);
        };
        const onAbort = (): void => {
          // Once running, the request's own signal stops it; here we only take a waiting caller out.
          if (leave()) waiter.fail(cancelledError(signal?.reason));
        };
        const waiter: Waiter = {
          run: async () => {
            settle();
            try {
              resolve(await fn());
            } catch (err) {
              reject(err);
            }
          },
          fail: (error) => {
            settle();
            reject(error);
          },
        };
        // Bottleneck waits for Redis forever; a caller should learn that the budget cannot be checked.
        const connectTimer = connected
          ? undefined
          : setTimeout(() => {
              if (!connected && leave()) waiter.fail(limiterFailure(new Error('Redis did not answer'), false));
            }, options.redisConnectTimeoutMs ?? 10_000);
        connectTimer?.unref();
        signal?.addEventListener('abort', onAbort, { once: true });
        lane.waiters.push(waiter);
        submitSlot(laneKind, lane);
      });
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const lane of lanes.values()) {
        for (const waiter of lane.waiters.splice(0)) waiter.fail(limiterFailure(undefined, true));
      }
      const bottlenecks = [...lanes.values()].map((lane) => lane.bottleneck);
      // stop() drops queued slots and waits for running ones; it never returns while Redis is unreachable.
      const stopped = Promise.all(bottlenecks.map((b) => b.stop({ dropWaitingJobs: true }).catch(() => undefined)));
      if (connected) await within(stopped, options.jobExpirationMs ?? 120_000);
      await Promise.all(bottlenecks.map((b) => b.disconnect(false)));
      // QUIT waits for an answer, so only ask a Redis that is there.
      await connection?.disconnect(connected).catch(() => undefined);
    },
  };
}

function bottleneckSettings(
  id: string,
  kind: string,
  budget: Budget,
  connection: Bottleneck.IORedisConnection | undefined,
): Bottleneck.ConstructorOptions {
  // The reservoir is refreshed by a heartbeat; a coarse one makes refreshes late (never early). Beat often
  // enough that a refresh is at most ~5% late, without hammering Redis for minute-long budgets.
  const heartbeatInterval = connection
    ? Math.min(5_000, Math.max(100, Math.floor(budget.perMs / 20)))
    : Math.min(250, Math.max(10, Math.floor(budget.perMs / 20)));
  const settings = {
    id: budgetId(id, kind),
    reservoir: budget.max,
    reservoirRefreshAmount: budget.max,
    reservoirRefreshInterval: budget.perMs,
    maxConcurrent: budget.maxConcurrent ?? null,
    minTime: budget.minTimeMs ?? 0,
    heartbeatInterval,
    ...(connection
      ? {
          datastore: 'ioredis',
          connection,
          clearDatastore: false,
          // Idle budgets expire from Redis: they are full again by then, and changed settings take effect.
          timeout: Math.max(budget.perMs * 2, 300_000),
        }
      : {}),
  };
  // heartbeatInterval is a real bottleneck option that its typings leave out.
  return settings as Bottleneck.ConstructorOptions;
}

/** Wait for `promise`, but no longer than `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([promise, timeout]);
  clearTimeout(timer);
}

/** A warn logger that speaks at most once per `intervalMs`, saying how many lines it held back. */
function throttled(log: Logger, intervalMs: number): (fields: Record<string, unknown>, message: string) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (fields, message) => {
    const now = Date.now();
    if (now - last < intervalMs) {
      suppressed++;
      return;
    }
    last = now;
    log.warn({ ...fields, suppressed }, message);
    suppressed = 0;
  };
}

function limiterFailure(raw: unknown, closed: boolean): DaemonError {
  if (closed) {
    return new DaemonError('rate limiter is closed', { code: 'limiter-closed', category: 'cancelled', cause: raw });
  }
  const cause = toDaemonError(raw);
  return new DaemonError(`rate limiter unavailable: ${cause.message}`, {
    code: 'rate-limiter-unavailable',
    category: 'network',
    retryable: true,
    dependency: 'redis',
    cause: raw,
  });
}
