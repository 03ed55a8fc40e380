/**
 * The run watchers of replicas that share REDIS_URL share one watcher's reads. One replica holds a lease (a
 * Redis key with a TTL, renewed at each of its sweeps) and reads Codegen for all: the runs it waits on and the
 * runs the others announce. It publishes what it read; the others read that from Redis instead of Codegen. When
 * the leader has nothing left to wait on it gives the lease up; when it died the lease lapses; either way the next
 * replica that sweeps takes it. A Redis that does not answer makes every replica read for itself, as without Redis.
 */
import { Redis } from 'ioredis';
import type { AgentRun } from '../pipeline/ports.js';
import { redisClientOptions } from '../resilience/redis-link.js';

/** A run some replica waits on, as announced: its id and creation time (epoch ms). */
export interface AnnouncedRun {
  id: number;
  createdAt: number;
}

/** Where watchers of several replicas meet. Every method may throw when the board cannot be reached. */
export interface RunBoard {
  /** How long the lease and an announcement last without renewal, in ms. */
  readonly ttlMs: number;
  /** Take or renew the leader lease; true when this replica reads Codegen for everyone. */
  lead(): Promise<boolean>;
  /** A follower's runs: the leader reads them too. */
  announce(runs: AnnouncedRun[]): Promise<void>;
  /** The runs followers announced and still wait on (leader). */
  announced(): Promise<AnnouncedRun[]>;
  /** The states the leader read in one sweep (replacing the previous sweep's). */
  publish(runs: AgentRun[]): Promise<void>;
  /** States read during a sweep (one page's), added to or replacing those published of the same runs. */
  update(runs: AgentRun[]): Promise<void>;
  /** The published states of these runs (those the leader read in its last sweep). */
  read(ids: number[]): Promise<AgentRun[]>;
  /** Give the lead up if this replica holds it (it has nothing left to watch, or stops): the next sweeper leads. */
  resign(): Promise<void>;
  close(): Promise<void>;
}

export interface RedisRunBoardOptions {
  url: string;
  /** Distinguishes organizations (and deployments) sharing one Redis. */
  namespace: string;
  /** This replica's name, held in the lease. */
  me: string;
  /** How long the lease and an announcement last without renewal, in ms. */
  ttlMs: number;
  /** Bounds connecting and every command, in ms. */
  commandTimeoutMs: number;
}

const LEAD = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`;

const RESIGN = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

/** A run board in Redis: a lease key, a hash of announced runs, and a hash of published states. */
export function createRedisRunBoard(options: RedisRunBoardOptions): RunBoard {
  const client = new Redis({
    ...redisClientOptions(options.url),
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.commandTimeoutMs,
    // Fail soon while Redis is away (commandTimeout bounds each command): the watcher then reads for itself.
    maxRetriesPerRequest: 1,
  });
  // Errors reach the callers as rejected commands; without a listener ioredis would print each reconnect attempt.
  client.on('error', () => undefined);
  const prefix = `codegen-pr:run-watch:${options.namespace}:`;
  const leaseKey = `${prefix}leader`;
  const watchKey = `${prefix}watched`;
  const statesKey = `${prefix}states`;
  const ttl = String(Math.max(1_000, Math.round(options.ttlMs)));

  return {
    ttlMs: Number(ttl),
    async lead() {
      return (await client.eval(LEAD, 1, leaseKey, options.me, ttl)) === 1;
    },
    async announce(runs) {
      if (runs.length === 0) return;
      const until = Date.now() + Number(ttl);
      const fields = runs.flatMap((run) => [String(run.id), `${until}:${run.createdAt}`]);
      await client
        .multi()
        .hset(watchKey, ...fields)
        .pexpire(watchKey, Number(ttl) * 2)
        .exec();
    },
    async announced() {
      const all = await client.hgetall(watchKey);
      const now = Date.now();
      const live: AnnouncedRun[] = [];
      const expired: string[] = [];
      for (const [id, value] of Object.entries(all)) {
        const [until = 0, createdAt = now] = value.split(':').map(Number);
        if (until < now) expired.push(id);
        else live.push({ id: Number(id), createdAt });
      }
      if (expired.length > 0) await client.hdel(watchKey, ...expired);
      return live;
    },
    async publish(runs) {
      const fields = runs.flatMap((run) => [String(run.id), JSON.stringify(run)]);
      const tx = client.multi().del(statesKey);
      if (fields.length > 0) tx.hset(statesKey, ...fields).pexpire(statesKey, Number(ttl));
      await tx.exec();
    },
    async update(runs) {
      if (runs.length === 0) return;
      const fields = runs.flatMap((run) => [String(run.id), JSON.stringify(run)]);
      await client
        .multi()
        .hset(statesKey, ...fields)
        .pexpire(statesKey, Number(ttl))
        .exec();
    },
    async read(ids) {
      if (ids.length === 0) return [];
      const values = await client.hmget(statesKey, ...ids.map(String));
      return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as AgentRun);
    },
    async resign() {
      await client.eval(RESIGN, 1, leaseKey, options.me);
    },
    async close() {
      client.disconnect(false);
    },
  };
}
