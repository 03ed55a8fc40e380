/**
 * The Redis connection a limiter shares its budgets through, and the one question it keeps asking: does Redis
 * answer? Every command has a timeout (ioredis would otherwise queue commands for a server that accepts bytes
 * but never replies, and bottleneck would wait on them for ever), and `probe()` is a PING bounded the same way.
 */
import Bottleneck from 'bottleneck';
import { Redis, type RedisOptions } from 'ioredis';
import { DaemonError } from '../domain/errors.js';

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

export interface RedisLink {
  /** For bottleneck: a command client and a subscriber. */
  connection: Bottleneck.IORedisConnection;
  /** One PING; true when Redis answered within the timeout. Never throws. */
  probe(): Promise<boolean>;
  /** Told when a connection errors or closes (Redis went away, or is restarting). */
  onTrouble(listener: (error?: Error) => void): void;
  /** Close both connections at once, without waiting for a Redis that may not answer. */
  close(): Promise<void>;
}

/** Connect to `url`; `timeoutMs` bounds connecting and every command. Never log the URL: it may carry a password. */
export function openRedisLink(url: string, timeoutMs: number): RedisLink {
  const client = new Redis({ ...redisClientOptions(url), commandTimeout: timeoutMs, connectTimeout: timeoutMs });
  const connection = new Bottleneck.IORedisConnection({ client, Redis });
  // bottleneck forgets a limiter by unsubscribing without catching the result: on a Redis that stopped
  // answering the rejection would go unhandled and end the process. A failed unsubscribe costs nothing here.
  const subscriber = (connection as unknown as { subscriber: Redis }).subscriber;
  const unsubscribe = subscriber.unsubscribe.bind(subscriber) as (...channels: string[]) => Promise<unknown>;
  Object.assign(subscriber, {
    unsubscribe: (...channels: string[]) => unsubscribe(...channels).catch(() => 0),
  });
  const listeners: Array<(error?: Error) => void> = [];
  const tell = (error?: Error): void => listeners.forEach((listener) => listener(error));
  // bottleneck relays client and subscriber errors here (and thereby keeps ioredis from printing them).
  connection.on('error', (error: Error) => tell(error));
  client.on('close', () => tell());
  let closed = false;

  return {
    connection,
    async probe(): Promise<boolean> {
      if (closed) return false;
      let timer: NodeJS.Timeout | undefined;
      // commandTimeout bounds the PING; this timer only guards against a client that never sends it.
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs + 100);
        timer.unref();
      });
      const answered = client.ping().then(
        (reply) => reply === 'PONG',
        () => false,
      );
      const result = await Promise.race([answered, late]);
      clearTimeout(timer);
      return result;
    },
    onTrouble(listener) {
      listeners.push(listener);
    },
    async close(): Promise<void> {
      closed = true;
      await connection.disconnect(false).catch(() => undefined);
    },
  };
}
