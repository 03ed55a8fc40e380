/**
 * node-postgres behind SqlClient. One Pool per store; a transaction checks out one client for its whole life.
 * Imports only `pg` (no node: modules), so the Task API can use it in a Worker through Hyperdrive as well.
 *
 * Tables are addressed as `schema.table` in every statement rather than through `search_path`: Hyperdrive and
 * other transaction-mode poolers do not keep session settings, and qualified names work everywhere.
 *
 * Every wait is bounded (see PostgresTimeouts): opening a connection, a statement on the server, a transaction
 * left idle, and the client's own wait for an answer, which is what ends a statement sent to a server or
 * network that stopped answering (the server's statement_timeout never arrives then). A connection whose
 * statement was given up on is destroyed, never returned to the pool.
 */
import { setMaxListeners } from 'node:events';
import pg from 'pg';
import { DaemonError } from '../../domain/errors.js';
import { abortable, sqlCancelled, sqlTimedOut, type SqlClient, type SqlResult } from './sql.js';

/** Bounds of a pool's waits, in ms. 0 turns one off. */
export interface PostgresTimeouts {
  /** Opening a connection, or waiting for one from a full pool. Default 10_000. */
  connectTimeoutMs?: number;
  /** The server's statement_timeout, sent when connecting. Default 30_000. */
  statementTimeoutMs?: number;
  /** The server's idle_in_transaction_session_timeout: it ends a session whose transaction sits idle. Default 60_000. */
  idleInTransactionTimeoutMs?: number;
  /** How long the client waits for the answer to one statement. Default statementTimeoutMs + 5_000 (else 60_000). */
  queryTimeoutMs?: number;
  /** TCP keepalive probes start after the socket has been idle this long. Default 10_000. */
  keepAliveInitialDelayMs?: number;
  /** close() waits this long for statements in flight, then destroys their connections. Default 5_000. */
  closeTimeoutMs?: number;
}

export interface PostgresClientOptions extends PostgresTimeouts {
  /** postgres://user:pass@host:port/db; never logged. */
  connectionString: string;
  /** Most connections the pool opens. Default 10. */
  poolSize?: number;
  /** Shown in pg_stat_activity. Default `codegen-pr`. */
  applicationName?: string;
  /** Errors of idle pooled connections (a restarted server). Without a listener they would crash the process. */
  onIdleError?: (error: Error) => void;
}

/** The defaults of PostgresTimeouts. */
export const POSTGRES_TIMEOUTS = {
  connectTimeoutMs: 10_000,
  statementTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 60_000,
  keepAliveInitialDelayMs: 10_000,
  closeTimeoutMs: 5_000,
} as const;

/** After close() has destroyed what was in flight, how long it still waits for the pool to report it ended. */
const CLOSE_MARGIN_MS = 1_000;

/** Anything that runs a statement: a pooled client, or the Worker's single Client. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

export async function runQuery<T>(conn: Queryable, text: string, params?: unknown[]): Promise<SqlResult<T>> {
  const result = await conn.query(text, params);
  return { rows: result.rows as T[], rowCount: result.rowCount ?? result.rows.length };
}

/** A client bound to one connection inside a transaction; nested transactions join it. For the Worker. */
export function transactionClient(conn: Queryable): SqlClient {
  const self: SqlClient = {
    query: (text, params, signal) => abortable(runQuery(conn, text, params), signal),
    transaction: (fn) => fn(self),
    close: async () => {
      throw new Error('close() called on a transaction client');
    },
  };
  return self;
}

/** Timers must not keep a draining process alive; Workers have no unref. */
function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

/** A signal that aborts when any of `signals` does; dispose() detaches it so long-lived signals do not leak. */
function linkSignals(signals: Array<AbortSignal | undefined>): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const sources = signals.filter((s): s is AbortSignal => s !== undefined);
  const onAbort = (event: Event): void => controller.abort((event.target as AbortSignal).reason);
  for (const source of sources) {
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    source.addEventListener('abort', onAbort, { once: true });
  }
  return {
    signal: controller.signal,
    dispose: () => sources.forEach((source) => source.removeEventListener('abort', onAbort)),
  };
}

/** Resolves true if `promise` settles within `ms`, false otherwise (its outcome is not reported). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    unref(timer);
  });
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  const result = await Promise.race([settled, late]);
  clearTimeout(timer);
  return result;
}

/** One checked-out connection; `abandon` destroys it at once (pg ends a busy client by destroying its socket). */
interface Lease {
  conn: pg.PoolClient;
  abandon(): void;
  release(): void;
  /** Released or abandoned: nothing more may run on it. */
  done(): boolean;
}

function lease(conn: pg.PoolClient): Lease {
  let released = false;
  // A checked-out connection has no pool listener: a socket error between statements must not crash us.
  const onError = (): void => undefined;
  conn.on('error', onError);
  const finish = (destroy: boolean): void => {
    if (released) return;
    released = true;
    conn.off('error', onError);
    conn.release(destroy ? new Error('statement abandoned') : undefined);
  };
  return { conn, abandon: () => finish(true), release: () => finish(false), done: () => released };
}

/** Run one statement on the lease, abandoning the connection when `signal` aborts or `timeoutMs` passes. */
function boundedQuery<T>(
  held: Lease,
  text: string,
  params: unknown[] | undefined,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<SqlResult<T>> {
  if (signal.aborted) return Promise.reject(sqlCancelled(signal.reason));
  if (held.done()) return Promise.reject(sqlCancelled(new Error('the connection was given up')));
  return new Promise<SqlResult<T>>((resolve, reject) => {
    let settled = false;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      settle();
    };
    const giveUp = (error: DaemonError): void =>
      finish(() => {
        held.abandon();
        reject(error);
      });
    const onAbort = (): void => giveUp(sqlCancelled(signal.reason));
    const timer = timeoutMs > 0 ? setTimeout(() => giveUp(sqlTimedOut(timeoutMs)), timeoutMs) : undefined;
    if (timer) unref(timer);
    signal.addEventListener('abort', onAbort, { once: true });
    runQuery<T>(held.conn, text, params).then(
      (result) => finish(() => resolve(result)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

/** Bounds wrapPgPool applies on the client side (the server-side ones are pool settings). */
export type PoolBounds = Pick<PostgresTimeouts, 'queryTimeoutMs' | 'closeTimeoutMs' | 'statementTimeoutMs'>;

/** The client-side wait for one statement: a little past the server's own timeout, so the server speaks first. */
function queryTimeout(bounds: PoolBounds): number {
  if (bounds.queryTimeoutMs !== undefined) return bounds.queryTimeoutMs;
  const statement = bounds.statementTimeoutMs ?? POSTGRES_TIMEOUTS.statementTimeoutMs;
  return statement > 0 ? statement + 5_000 : 60_000;
}

/** Wrap an existing pool (the caller keeps ownership of its settings; close() ends it). */
export function wrapPgPool(pool: pg.Pool, bounds: PoolBounds = {}): SqlClient {
  const timeoutMs = queryTimeout(bounds);
  const closeTimeoutMs = bounds.closeTimeoutMs ?? POSTGRES_TIMEOUTS.closeTimeoutMs;
  // Aborted when close() runs out of patience: everything still in flight gives up and frees its connection.
  const closing = new AbortController();
  // Every statement in flight (and every one waiting for a connection) listens on it until it settles: as many
  // as the daemon runs at once, so Node's warning past 10 listeners would be noise, not a leak.
  setMaxListeners(0, closing.signal);
  let closed = false;
  const closedError = () =>
    new DaemonError('task store is closed', {
      code: 'task-store-closed',
      category: 'cancelled',
      dependency: 'task-store',
    });

  /** A connection from the pool, or a rejection as soon as `signal` aborts (the connection then goes back unused). */
  function checkout(signal: AbortSignal): Promise<Lease> {
    if (closed) return Promise.reject(closedError());
    if (signal.aborted) return Promise.reject(sqlCancelled(signal.reason));
    return new Promise<Lease>((resolve, reject) => {
      // Set synchronously on both paths, so a connection arriving just as the caller gives up is never lost.
      let decided = false;
      const onAbort = (): void => {
        if (decided) return;
        decided = true;
        reject(sqlCancelled(signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      pool.connect().then(
        (conn) => {
          signal.removeEventListener('abort', onAbort);
          if (decided) return conn.release();
          decided = true;
          resolve(lease(conn));
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          if (decided) return;
          decided = true;
          reject(error);
        },
      );
    });
  }

  async function withLease<T>(
    callerSignal: AbortSignal | undefined,
    work: (held: Lease, signal: AbortSignal) => Promise<T>,
  ) {
    const link = linkSignals([callerSignal, closing.signal]);
    try {
      const held = await checkout(link.signal);
      try {
        return await work(held, link.signal);
      } finally {
        held.release();
      }
    } finally {
      link.dispose();
    }
  }

  return {
    query: (text, params, signal) =>
      withLease(signal, (held, linked) => boundedQuery(held, text, params, linked, timeoutMs)),

    transaction: (fn, signal) =>
      withLease(signal, async (held, linked) => {
        const tx: SqlClient = {
          query<T>(text: string, params?: unknown[], inner?: AbortSignal) {
            const link = linkSignals([linked, inner]);
            return boundedQuery<T>(held, text, params, link.signal, timeoutMs).finally(link.dispose);
          },
          transaction: (nested) => nested(tx),
          close: async () => {
            throw new Error('close() called on a transaction client');
          },
        };
        await boundedQuery(held, 'BEGIN', undefined, linked, timeoutMs);
        let result;
        try {
          // fn may be waiting on something other than SQL when the signal aborts: stop waiting for it too.
          result = await abortable(fn(tx), linked);
        } catch (error) {
          // An abandoned connection needs no ROLLBACK: the server rolls back when the connection goes.
          if (linked.aborted) held.abandon();
          else if (!held.done()) await boundedQuery(held, 'ROLLBACK', undefined, linked, timeoutMs).catch(held.abandon);
          throw error;
        }
        await boundedQuery(held, 'COMMIT', undefined, linked, timeoutMs);
        return result;
      }),

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const ended = pool.end();
      // pool.end() waits for every checked-out connection; a server that stopped answering would hold it for ever.
      const finished = await settlesWithin(ended, closeTimeoutMs);
      // Whatever still waits gives up now: a statement on a silent server, and a checkout that pool.end() will
      // never serve (an ending pg-pool drops its queue of waiting callers without answering them).
      closing.abort(sqlCancelled(new Error('task store closing')));
      // A connection still being opened is not ours to cut; pg-pool gives it up after connectTimeoutMs.
      if (!finished) await settlesWithin(ended, CLOSE_MARGIN_MS);
    },
  };
}

/** Open a pool for the given connection string; connections are made lazily on first use. */
export function createPostgresClient(options: PostgresClientOptions): SqlClient {
  const statementTimeoutMs = options.statementTimeoutMs ?? POSTGRES_TIMEOUTS.statementTimeoutMs;
  const idleInTransactionMs = options.idleInTransactionTimeoutMs ?? POSTGRES_TIMEOUTS.idleInTransactionTimeoutMs;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? 'codegen-pr',
    connectionTimeoutMillis: options.connectTimeoutMs ?? POSTGRES_TIMEOUTS.connectTimeoutMs,
    // Sent as startup parameters, so they hold for every statement without a round trip; 0 sends none.
    ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
    ...(idleInTransactionMs > 0 ? { idle_in_transaction_session_timeout: idleInTransactionMs } : {}),
    // A peer that vanished without a FIN (a dead host, a dropped NAT entry) is found by the kernel, not never.
    keepAlive: true,
    keepAliveInitialDelayMillis: options.keepAliveInitialDelayMs ?? POSTGRES_TIMEOUTS.keepAliveInitialDelayMs,
  });
  pool.on('error', (error) => options.onIdleError?.(error));
  return wrapPgPool(pool, {
    statementTimeoutMs,
    ...(options.queryTimeoutMs !== undefined ? { queryTimeoutMs: options.queryTimeoutMs } : {}),
    ...(options.closeTimeoutMs !== undefined ? { closeTimeoutMs: options.closeTimeoutMs } : {}),
  });
}
