/**
 * The small SQL surface the task store needs. Adapters wrap node-postgres (a Pool, or `pg` through Cloudflare
 * Hyperdrive) and PGlite behind it, so `sql-task-store.ts` and `migrations.ts` hold no driver- or Node-specific
 * code and run unchanged in a Worker.
 */
import { DaemonError } from '../../domain/errors.js';

/** The outcome of one statement. `rowCount` is what the command tag reports (rows updated, inserted, returned). */
export interface SqlResult<T> {
  rows: T[];
  rowCount: number;
}

/**
 * A connection (or pool) that runs one statement at a time.
 *
 * - `query` runs exactly ONE statement with `$1..$n` parameters (PGlite's extended protocol allows no more).
 *   Pass JSON values as strings with a `::jsonb` cast: drivers disagree on how they serialize objects and arrays.
 * - `transaction` runs `fn` on a single connection between BEGIN and COMMIT, rolling back when it throws. A
 *   `transaction` called on the `tx` client joins the outer transaction (no savepoints). Only SQL may run inside:
 *   never hold a transaction across an HTTP call.
 * - `close` releases the pool or database; the client is unusable afterwards. It returns within a bounded time
 *   even when the database stopped answering.
 *
 * `signal`: the caller stops waiting the moment it aborts, and the promise rejects with a `cancelled`
 * DaemonError. A node-postgres connection that was running the statement is destroyed rather than reused (the
 * server rolls an open transaction back when it notices), so a hung server cannot keep a pool slot. An aborted
 * transaction may still have committed if the abort raced its COMMIT: leased writes are fenced, so a retry is
 * safe either way.
 */
export interface SqlClient {
  query<T = Record<string, unknown>>(text: string, params?: unknown[], signal?: AbortSignal): Promise<SqlResult<T>>;
  transaction<T>(fn: (tx: SqlClient) => Promise<T>, signal?: AbortSignal): Promise<T>;
  close(): Promise<void>;
}

/** The error of a statement or transaction the caller stopped waiting for. */
export function sqlCancelled(reason?: unknown): DaemonError {
  if (reason instanceof DaemonError && reason.category === 'cancelled') return reason;
  return new DaemonError('task store call was cancelled', {
    code: 'cancelled',
    category: 'cancelled',
    dependency: 'task-store',
    cause: reason,
  });
}

/** The error of a statement that got no answer within `ms` (the server or the network stopped answering). */
export function sqlTimedOut(ms: number): DaemonError {
  return new DaemonError(`task store did not answer within ${ms} ms`, {
    code: 'task-store-timeout',
    category: 'timeout',
    retryable: true,
    dependency: 'task-store',
  });
}

/**
 * `work`, or a rejection with sqlCancelled as soon as `signal` aborts, whichever comes first. What `work` does
 * afterwards is ignored (its rejection too): the driver cannot take a statement back, only stop waiting.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(sqlCancelled(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(sqlCancelled(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The schema the tables live in unless told otherwise. */
export const DEFAULT_SCHEMA = 'codegen_pr';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Check a schema name and return it double-quoted for use in SQL text. Schema names cannot be bound as
 * parameters, so they are restricted to lower-case identifiers to keep them out of injection's way.
 */
export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new DaemonError(`invalid schema name "${schema}": use lower-case letters, digits and underscores`, {
      code: 'invalid-schema-name',
      category: 'configuration',
      dependency: 'task-store',
    });
  }
  return `"${schema}"`;
}
