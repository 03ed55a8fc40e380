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

/** One rate-limit budget: at most `max` request starts per `perMs`. */
export interface Budget {
  max: number;
  perMs: number;
  /** Most requests in flight at once (across replicas with Redis). */
  maxConcurrent?: number;
  /** Least time between two request starts, in ms (GitHub asks for 1 s between writes). */
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
  // Never log the URL: it may carry a password.
  connection?.on('error', (err) => log.warn({ err }, 'rate limiter lost Redis'));

  const lanes = new Map<string, Lane>();
  for (const [kind, budget] of Object.entries(options.budgets)) {
    const bottleneck = new Bottleneck(bottleneckSettings(options.id, kind, budget, connection));
    bottleneck.on('error', (err) => log.warn({ err, kind }, 'rate limiter error'));
    lanes.set(kind, { bottleneck, waiters: [], pendingSlots: 0 });
  }
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
        const onAbort = (): void => {
          const index = lane.waiters.indexOf(waiter);
          if (index === -1) return; // already running: the request's own signal handles it
          lane.waiters.splice(index, 1);
          reject(cancelledError(signal?.reason));
        };
        const waiter: Waiter = {
          run: async () => {
            signal?.removeEventListener('abort', onAbort);
            try {
              resolve(await fn());
            } catch (err) {
              reject(err);
            }
          },
          fail: (error) => {
            signal?.removeEventListener('abort', onAbort);
            reject(error);
          },
        };
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
      await Promise.all(
        [...lanes.values()].map(async ({ bottleneck }) => {
          await bottleneck.stop({ dropWaitingJobs: true }).catch(() => undefined);
          await bottleneck.disconnect(false);
        }),
      );
      if (connection) await connection.disconnect(true).catch(() => undefined);
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
