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
 * - `close` releases the pool or database; the client is unusable afterwards.
 */
export interface SqlClient {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[]; rowCount: number }>;
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
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
