/**
 * Push pickup on PostgreSQL: every process that adds, retries or releases a task sends NOTIFY on the schema's
 * channel, and every daemon LISTENs on it and wakes its scheduler at once, instead of waiting for the next poll.
 * Polling stays the backstop: a nudge lost while the listening connection is down (it reconnects, backing off)
 * costs at most one poll interval, never a task.
 *
 * One dedicated connection per process does both: LISTEN is a session setting, so it cannot go through the
 * store's pool (or through a transaction-mode pooler; such deployments keep polling).
 */
import pg from 'pg';
import type { Logger } from '../../observability/logger.js';

export interface TaskNudges {
  /**
   * Tell every listening process (this one too) that a task may be claimable now. Never rejects; best effort:
   * waits at most a moment for a listening connection still being opened.
   */
  nudge(): Promise<void>;
  /** Called on every nudge, ours or another process's; returns the unsubscribe function. */
  onNudge(listener: () => void): () => void;
  close(): Promise<void>;
}

export interface PgTaskNudgesOptions {
  connectionString: string;
  /** The store's schema: each schema (each queue) has its own channel. */
  schema: string;
  logger: Logger;
  /** Bounds connecting, in ms. Default 10_000. */
  connectTimeoutMs?: number;
  /** Longest wait before reconnecting a lost listening connection, in ms. Default 30_000. */
  maxReconnectMs?: number;
}

/** The channel of a schema: an identifier of at most 63 bytes. */
export function nudgeChannel(schema: string): string {
  return `codegen_pr_tasks_${schema}`.slice(0, 63);
}

/** How long a nudge waits for a listening connection being opened (a CLI that adds a task at once). */
const NUDGE_CONNECT_WAIT_MS = 1_000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export function createPgTaskNudges(options: PgTaskNudgesOptions): TaskNudges {
  const log = options.logger.child({ component: 'task-nudges' });
  const channel = nudgeChannel(options.schema);
  const listeners = new Set<() => void>();
  const maxReconnectMs = options.maxReconnectMs ?? 30_000;
  let client: pg.Client | undefined;
  let ready = false;
  let closed = false;
  let retryMs = 500;
  let timer: NodeJS.Timeout | undefined;
  let connecting: Promise<void> | undefined;

  function fire(): void {
    for (const listener of [...listeners]) {
      try {
        listener();
      } catch (err) {
        log.warn({ err }, 'a task nudge listener failed');
      }
    }
  }

  function reconnectLater(): void {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      connecting = connect();
    }, retryMs);
    timer.unref();
    retryMs = Math.min(maxReconnectMs, retryMs * 2);
  }

  async function connect(): Promise<void> {
    if (closed) return;
    const next = new pg.Client({
      connectionString: options.connectionString,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      application_name: 'codegen-pr-nudges',
      keepAlive: true,
    });
    const lost = (err?: Error): void => {
      if (client !== next) return;
      client = undefined;
      ready = false;
      if (!closed) log.debug({ err }, 'task nudge connection lost; reconnecting (polling covers the gap)');
      next.end().catch(() => undefined);
      reconnectLater();
    };
    next.on('error', lost);
    next.on('end', () => lost());
    next.on('notification', (message) => {
      if (message.channel === channel) fire();
    });
    client = next;
    try {
      await next.connect();
      await next.query(`LISTEN "${channel.replace(/"/g, '""')}"`);
      if (closed) {
        await next.end().catch(() => undefined);
        return;
      }
      ready = true;
      retryMs = 500;
    } catch (err) {
      lost(err as Error);
    }
  }

  connecting = connect();

  return {
    async nudge() {
      if (!ready && connecting) await Promise.race([connecting, delay(NUDGE_CONNECT_WAIT_MS)]);
      const current = client;
      if (!ready || !current) {
        // No connection: at least this process hears it; the others poll.
        fire();
        return;
      }
      // The notification comes back to this session too: that is how this process hears its own nudges.
      await current.query('SELECT pg_notify($1, $2)', [channel, '']).then(
        () => undefined,
        (err: unknown) => {
          log.debug({ err }, 'could not send a task nudge; the other processes poll');
          fire();
        },
      );
    },
    onNudge(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const current = client;
      client = undefined;
      ready = false;
      await current?.end().catch(() => undefined);
    },
  };
}
