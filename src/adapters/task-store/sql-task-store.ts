/**
 * The durable task store over any SqlClient (node-postgres, pg through Hyperdrive in the Task API's Worker,
 * or PGlite). The worker's half (claims, leased writes) lives in sql-leased-writes.ts, the people's half
 * (add, list, retry, cancel, feedback) in sql-task-admin.ts; this file composes them. No Node-only imports.
 *
 * Guarantees, with the SQL that gives them:
 * - a task is claimed by one worker at a time: one UPDATE over `SELECT ... FOR UPDATE SKIP LOCKED`;
 * - every claim gets a new fencing token and every leased write checks it, so a worker whose lease expired and
 *   was taken over cannot complete, fail or checkpoint the task (stale-lease);
 * - every state change writes its task_events row in the same transaction;
 * - no transaction is ever held open across anything but SQL.
 * Tables live in a schema (default `codegen_pr`) created by `migrate()`, which must run first.
 */
import type { TaskStore } from '../../pipeline/ports.js';
import type { StoreOperations } from './operations.js';
import { DEFAULT_SCHEMA, quoteSchema, type SqlClient } from './sql.js';
import { classifyingClient, throwIfAborted } from './sql-errors.js';
import { createLeasedOps } from './sql-leased-writes.js';
import { createAdminOps } from './sql-task-admin.js';
import { createSqlOperations } from './sql-operations.js';
import { createContext } from './store-context.js';

export interface SqlTaskStoreOptions {
  /**
   * Clock for values the store stamps itself (the `at` of feedback entries). Leases, retries and row
   * timestamps always use the database clock, so replicas agree whatever their own clocks say.
   */
  now?: () => Date;
  /** maxAttempts of tasks added without one. Default 3. */
  defaultMaxAttempts?: number;
  /** PostgreSQL schema of the tables (the one migrate() was given). Default `codegen_pr`. */
  schema?: string;
}

/** Build a TaskStore on `sql`. close() closes `sql`. */
export function createSqlTaskStore(sql: SqlClient, options: SqlTaskStoreOptions = {}): TaskStore & StoreOperations {
  const client = classifyingClient(sql);
  const context = createContext(
    client,
    quoteSchema(options.schema ?? DEFAULT_SCHEMA),
    options.now ?? (() => new Date()),
    options.defaultMaxAttempts ?? 3,
  );
  return {
    ...createLeasedOps(context),
    ...createAdminOps(context),
    // Operators' queries (operations.ts): found by storeOperations(), not part of the TaskStore port.
    ...createSqlOperations(context),
    async ping(signal?: AbortSignal) {
      throwIfAborted(signal);
      await client.query('SELECT 1', [], signal);
    },
    close: () => client.close(),
  };
}
