/**
 * Rate-limit budgets on bottleneck. Each budget is a reservoir of `max` requests refreshed every `perMs`; with
 * Redis, bottleneck's clustering keeps the reservoir in Redis so every replica draws from the same budget.
 *
 * Callers wait in our own FIFO, not in bottleneck's queue: bottleneck cannot take one job back out of its queue,
 * so each bottleneck job is an anonymous "slot" that serves whichever caller is oldest when it runs. A caller
 * that aborts while waiting leaves at once, and its slot goes to the next caller instead of being wasted (a
 * token is only lost when nobody at all is left waiting).
 *
 * Redis is a convenience, never a dependency a call can fail on. Each budget has a shared lane (bottleneck on
 * Redis) and a local one holding this replica's share (the budget divided by `replicas`). While Redis answers
 * PINGs the shared lanes serve; when it errors, closes or stops answering, the limiter switches to the local
 * lanes (one log line, the `codegen_pr_rate_limiter_shared` gauge at 0) and moves everyone waiting there.
 * Once Redis answers again it builds fresh shared lanes (bottleneck instances that saw Redis fail stay broken)
 * and switches back, again with one line. Without Redis the local lanes are all there is.
 *
 * A local budget that is only a reservoir (no spacing, no concurrency bound: a budget lifted in configuration,
 * CODEGEN_CREATE_PER_MINUTE=1000000 say) is kept by a plain counter here instead: bottleneck's local store
 * yields to the event loop on a timer before each start, so a busy daemon started about one request per turn of
 * its loop through each budget (seen: run creations waiting 1.4 s on average at 62 a second, in S2). The counter
 * keeps the same rule (at most `max` starts, refilled every `perMs`) and starts a caller at once when it can.
 */
import Bottleneck from 'bottleneck';
import { DaemonError, toDaemonError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { replicaShare, type Budget } from './budgets.js';
import { openRedisLink, type RedisLink } from './redis-link.js';
import { cancelledError } from './retry.js';

export type { Budget } from './budgets.js';
export { redisClientOptions } from './redis-link.js';

/** Where budgets are kept: `shared` through Redis with every replica, `local` in this process alone. */
export type LimiterMode = 'shared' | 'local';

export interface LimiterOptions {
  /** Names the Redis keys (`codegen-pr:<id>:<kind>`) and labels the metric. Replicas sharing a budget use one id. */
  id: string;
  /** Budgets by request kind. Kinds without a budget of their own use `standard`, which must exist. */
  budgets: Record<string, Budget>;
  /** Share the budgets through this Redis. Without it each process keeps its share (see `replicas`). */
  redis?: { url: string };
  /** Replicas drawing on these budgets; a replica on local budgets uses 1/replicas of each. Default 1. */
  replicas?: number;
  logger: Logger;
  metrics?: Metrics;
  /** With maxConcurrent: a request slot is freed after this long even if its holder vanished. Default 120_000. */
  jobExpirationMs?: number;
  /** Bound of connecting to Redis and of each Redis command (a PING included). Default 2_000. */
  redisTimeoutMs?: number;
  /** How often Redis is asked whether it answers. Default 2_000. */
  redisProbeIntervalMs?: number;
}

export interface Limiter {
  /** Run `fn` when `kind`'s budget allows. Rejects with a cancelled DaemonError as soon as `signal` aborts. */
  schedule<T>(kind: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Whether the budgets are shared through Redis right now, or kept by this process. */
  mode(): LimiterMode;
  /** Reject everyone still waiting, stop the timers and close the Redis connections. */
  close(): Promise<void>;
}

interface Waiter {
  lane: Lane;
  run: () => Promise<void>;
  fail: (error: DaemonError) => void;
}

interface Lane {
  kind: string;
  shared: boolean;
  /** Absent for a counter lane (a local reservoir-only budget, see the module comment). */
  bottleneck?: Bottleneck;
  counter?: Counter;
  waiters: Waiter[];
  /** Slots submitted to bottleneck and not yet started or dropped. */
  pendingSlots: number;
  /** A shared lane taken out of service after Redis failed; its errors no longer mean anything. */
  retired?: boolean;
}

/** A reservoir-only local budget: `left` starts until `refillAt`, then `max` again for the next `perMs`. */
interface Counter {
  max: number;
  perMs: number;
  left: number;
  refillAt: number;
  timer?: NodeJS.Timeout;
}

/** The Redis key prefix bottleneck uses for a budget (its keys are `b_<this>_*`). */
export function budgetId(id: string, kind: string): string {
  return `codegen-pr:${id}:${kind}`;
}

/** Build the limiter; see the module comment for how waiting, cancelling and the Redis fallback work. */
export function createLimiter(options: LimiterOptions): Limiter {
  const log = options.logger.child({ component: 'limiter', limiter: options.id });
  if (!options.budgets.standard) {
    throw new DaemonError(`limiter ${options.id} needs a "standard" budget`, {
      code: 'missing-standard-budget',
      category: 'configuration',
    });
  }
  const replicas = options.replicas ?? 1;
  const link: RedisLink | undefined = options.redis
    ? openRedisLink(options.redis.url, options.redisTimeoutMs ?? 2_000)
    : undefined;
  const warn = throttled(log, 30_000);
  let closed = false;

  const newLane = (kind: string, budget: Budget, shared: boolean): Lane => {
    if (!shared && onlyReservoir(budget)) {
      const counter = { max: budget.max, perMs: budget.perMs, left: budget.max, refillAt: Date.now() + budget.perMs };
      return { kind, shared, counter, waiters: [], pendingSlots: 0 };
    }
    const settings = bottleneckSettings(options.id, kind, budget, shared ? link?.connection : undefined);
    const bottleneck = new Bottleneck(settings);
    // Errors of a shared lane are Redis trouble, reported once by the mode switch; a local lane has none.
    const lane: Lane = { kind, shared, bottleneck, waiters: [], pendingSlots: 0 };
    bottleneck.on('error', (err) => {
      if (!shared) warn({ err, kind }, 'rate limiter error');
      else if (!lane.retired) goLocal(err);
    });
    return lane;
  };
  const entries = Object.entries(options.budgets);
  const local = new Map(entries.map(([kind, b]) => [kind, newLane(kind, replicaShare(b, replicas), false)]));
  let shared = link ? new Map(entries.map(([kind, b]) => [kind, newLane(kind, b, true)])) : undefined;
  let mode: LimiterMode = link ? 'shared' : 'local';
  options.metrics?.rateLimiterShared.set({ dependency: options.id }, mode === 'shared' ? 1 : 0);

  // Kinds whose budget limits nothing (no reservoir, spacing or concurrency: GitHub's write pacing at 0 ms, say)
  // need no decision at all: they skip bottleneck, whose job machinery costs CPU on every request.
  const unlimited = new Set(entries.filter(([, b]) => limitsNothing(b)).map(([kind]) => kind));

  const jobOptions = (kind: string): Bottleneck.JobOptions =>
    options.budgets[kind]?.maxConcurrent ? { expiration: options.jobExpirationMs ?? 120_000 } : {};

  /** Start the oldest waiters the counter has starts for; wake again at the refill when some are left waiting. */
  function serveCounter(lane: Lane, counter: Counter): void {
    const now = Date.now();
    if (now >= counter.refillAt) {
      counter.left = counter.max;
      counter.refillAt = now + counter.perMs;
    }
    while (counter.left > 0 && lane.waiters.length > 0) {
      counter.left--;
      void (lane.waiters.shift() as Waiter).run();
    }
    if (lane.waiters.length > 0 && !counter.timer && !closed) {
      counter.timer = setTimeout(() => {
        counter.timer = undefined;
        serveCounter(lane, counter);
      }, counter.refillAt - now);
      counter.timer.unref();
    }
  }

  function submitSlot(lane: Lane): void {
    if (lane.counter) return serveCounter(lane, lane.counter);
    const bottleneck = lane.bottleneck as Bottleneck;
    let started = false;
    lane.pendingSlots++;
    bottleneck
      .schedule(jobOptions(lane.kind), async () => {
        started = true;
        lane.pendingSlots--;
        const waiter = lane.waiters.shift();
        // Everyone who asked for this slot gave up or moved lanes; the token is spent but nobody needs it.
        if (!waiter) return;
        await waiter.run();
      })
      .catch((raw: unknown) => {
        if (started) return; // expiration of a long job: its caller is settled by run() itself
        lane.pendingSlots--;
        if (lane.shared && !closed) return lane.retired ? undefined : goLocal(raw);
        // Fewer slots than waiters now: the oldest waiter would never be served, so it gets the error.
        if (lane.waiters.length > lane.pendingSlots) lane.waiters.shift()?.fail(limiterFailure(raw, closed));
      });
  }

  function enqueue(waiter: Waiter, lane: Lane): void {
    waiter.lane = lane;
    lane.waiters.push(waiter);
    submitSlot(lane);
  }

  /** Redis failed: serve from the local shares, starting with everyone who waits on a shared lane. */
  function goLocal(raw?: unknown): void {
    if (closed || mode === 'local' || !shared) return;
    mode = 'local';
    options.metrics?.rateLimiterShared.set({ dependency: options.id }, 0);
    const err = raw === undefined ? undefined : toDaemonError(raw);
    log.warn({ err, replicas }, 'rate limiter cannot reach Redis: using local budgets (1/replicas of each limit)');
    const retired = shared;
    shared = undefined;
    for (const lane of retired.values()) {
      for (const waiter of lane.waiters.splice(0)) enqueue(waiter, local.get(lane.kind) as Lane);
      retire(lane);
    }
  }

  let recovering = false;
  /** Redis answers again: build fresh shared lanes, and switch once they are ready. */
  async function goShared(): Promise<void> {
    if (closed || mode === 'shared' || recovering || !link) return;
    recovering = true;
    const fresh = new Map(entries.map(([kind, b]) => [kind, newLane(kind, b, true)]));
    const ready = Promise.all([...fresh.values()].map((lane) => lane.bottleneck?.ready()));
    const ok = await within(ready, options.redisTimeoutMs ?? 2_000);
    recovering = false;
    // The probe may have run goShared's twin meanwhile; mode is re-read after the wait on purpose.
    if (!ok || closed || (mode as LimiterMode) === 'shared') return fresh.forEach(retire);
    shared = fresh;
    mode = 'shared';
    options.metrics?.rateLimiterShared.set({ dependency: options.id }, 1);
    log.info('rate limiter reaches Redis again: budgets are shared with every replica');
  }

  // While shared, a PING that goes unanswered (a server that accepts bytes but never replies raises no error)
  // switches to local; while local, one that is answered starts the way back.
  let probing = false;
  const probe = link
    ? setInterval(() => {
        if (probing) return; // a PING still waiting for its answer (or its timeout) says enough
        probing = true;
        void link
          .probe()
          .then((answered) => (answered ? goShared() : goLocal()))
          .finally(() => (probing = false));
      }, options.redisProbeIntervalMs ?? 2_000)
    : undefined;
  probe?.unref();
  link?.onTrouble((err) => goLocal(err));

  return {
    schedule<T>(kind: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      const laneKind = local.has(kind) ? kind : 'standard';
      if (closed) return Promise.reject(limiterFailure(undefined, true));
      if (signal?.aborted) return Promise.reject(cancelledError(signal.reason));
      if (unlimited.has(laneKind)) {
        try {
          return fn();
        } catch (err) {
          return Promise.reject(err);
        }
      }
      return new Promise<T>((resolve, reject) => {
        const leave = (): boolean => {
          const index = waiter.lane.waiters.indexOf(waiter);
          if (index !== -1) waiter.lane.waiters.splice(index, 1);
          return index !== -1;
        };
        const onAbort = (): void => {
          // Once running, the request's own signal stops it; here we only take a waiting caller out.
          if (leave()) waiter.fail(cancelledError(signal?.reason));
        };
        const waiter: Waiter = {
          lane: local.get(laneKind) as Lane,
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
        enqueue(waiter, (mode === 'shared' ? shared?.get(laneKind) : undefined) ?? waiter.lane);
      });
    },

    mode: () => mode,

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (probe) clearInterval(probe);
      const lanes = [...local.values(), ...(shared?.values() ?? [])];
      for (const lane of lanes) {
        for (const waiter of lane.waiters.splice(0)) waiter.fail(limiterFailure(undefined, true));
        if (lane.counter?.timer) clearTimeout(lane.counter.timer);
      }
      // stop() drops queued slots and waits for running ones; on a silent Redis it would never return.
      const stopped = Promise.all(
        lanes.map((l) => l.bottleneck?.stop({ dropWaitingJobs: true }).catch(() => undefined)),
      );
      await within(stopped, options.jobExpirationMs ?? 120_000);
      await Promise.all(lanes.map(disconnectLane));
      await link?.close();
    },
  };
}

/** Whether `budget` is a reservoir and nothing else (kept by a counter when local, see the module comment). */
function onlyReservoir(budget: Budget): boolean {
  return Number.isFinite(budget.max) && !(budget.minTimeMs && budget.minTimeMs > 0) && !budget.maxConcurrent;
}

/** Whether `budget` lets every request through at once (a kind that needs no limiter decision). */
function limitsNothing(budget: Budget): boolean {
  return !Number.isFinite(budget.max) && !(budget.minTimeMs && budget.minTimeMs > 0) && !budget.maxConcurrent;
}

/** Stop a lane's heartbeat (and, for a shared lane, its subscriptions); never throws. */
async function disconnectLane(lane: Lane): Promise<void> {
  // A Redis-backed bottleneck returns nothing here, a local one a promise.
  await Promise.resolve()
    .then(() => lane.bottleneck?.disconnect(false))
    .catch(() => undefined);
}

/** Take a shared lane out of service without waiting on Redis: its queued slots are dropped, its timers stopped. */
function retire(lane: Lane): void {
  lane.retired = true;
  const bottleneck = lane.bottleneck;
  if (!bottleneck) return;
  void bottleneck
    .stop({ dropWaitingJobs: true })
    .catch(() => undefined)
    .finally(() => disconnectLane(lane));
  // A lane retired before Redis ever answered finishes setting itself up (heartbeat, subscriptions) once it
  // does; take that down again then.
  bottleneck.ready().then(
    () => disconnectLane(lane),
    () => undefined,
  );
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
  const limited = Number.isFinite(budget.max);
  const settings = {
    id: budgetId(id, kind),
    // A budget that only spaces requests has no reservoir at all.
    reservoir: limited ? budget.max : null,
    ...(limited ? { reservoirRefreshAmount: budget.max, reservoirRefreshInterval: budget.perMs } : {}),
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

/** Wait for `promise`, but no longer than `ms`; true when it settled in time (a rejection counts as false). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  const settled = promise.then(
    () => true,
    () => false,
  );
  const result = await Promise.race([settled, timeout]);
  clearTimeout(timer);
  return result;
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
  return new DaemonError(`rate limiter failed: ${cause.message}`, {
    code: 'rate-limiter-failed',
    category: 'unknown',
    cause: raw,
  });
}
