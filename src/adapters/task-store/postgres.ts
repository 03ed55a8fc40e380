/**
 * node-postgres behind SqlClient. One Pool per store; a transaction checks out one client for its whole life.
 * Imports only `pg` (no node: modules), so the Task API can use it in a Worker through Hyperdrive as well.
 *
 * Tables are addressed as `schema.table` in every statement rather than through `search_path`: Hyperdrive and
 * other transaction-mode poolers do not keep session settings, and qualified names work everywhere.
 */
import pg from 'pg';
import type { SqlClient } from './sql.js';

export interface PostgresClientOptions {
  /** postgres://user:pass@host:port/db; never logged. */
  connectionString: string;
  /** Most connections the pool opens. Default 10. */
  poolSize?: number;
  /** Shown in pg_stat_activity. Default `codegen-pr`. */
  applicationName?: string;
  /** Errors of idle pooled connections (a restarted server). Without a listener they would crash the process. */
  onIdleError?: (error: Error) => void;
}

/** Anything that runs a statement: a pooled client, or the Worker's single Client. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

export async function runQuery<T>(conn: Queryable, text: string, params?: unknown[]) {
  const result = await conn.query(text, params);
  return { rows: result.rows as T[], rowCount: result.rowCount ?? result.rows.length };
}

/** A client bound to one connection inside a transaction; nested transactions join it. */
export function transactionClient(conn: Queryable): SqlClient {
  const self: SqlClient = {
    query: (text, params) => runQuery(conn, text, params),
    transaction: (fn) => fn(self),
    close: async () => {
      throw new Error('close() called on a transaction client');
    },
  };
  return self;
}

/** Wrap an existing pool (the caller keeps ownership of its settings; close() ends it). */
export function wrapPgPool(pool: pg.Pool): SqlClient {
  return {
    query: (text, params) => runQuery(pool, text, params),
    async transaction(fn) {
      const conn = await pool.connect();
      let broken = false;
      try {
        await conn.query('BEGIN');
        const result = await fn(transactionClient(conn));
        await conn.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await conn.query('ROLLBACK');
        } catch {
          // The connection is unusable (it was killed, or the network dropped): drop it instead of reusing it.
          broken = true;
        }
        throw error;
      } finally {
        conn.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

/** Open a pool for the given connection string; connections are made lazily on first use. */
export function createPostgresClient(options: PostgresClientOptions): SqlClient {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? 'codegen-pr',
  });
  pool.on('error', (error) => options.onIdleError?.(error));
  return wrapPgPool(pool);
}
