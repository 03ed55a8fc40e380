/**
 * Opening the SQL task store: PGlite (embedded, the default) or PostgreSQL. Both run the migrations before
 * returning, so a fresh database or schema is ready to use. PGlite is loaded only when asked for: it is a large
 * WebAssembly module that PostgreSQL deployments never need.
 */
import type { TaskStore } from '../../pipeline/ports.js';
import { migrate } from './migrations.js';
import { createPostgresClient, type PostgresTimeouts } from './postgres.js';
import { DEFAULT_SCHEMA } from './sql.js';
import { classifyingClient } from './sql-errors.js';
import { createSqlTaskStore } from './sql-task-store.js';

export { createSqlTaskStore, type SqlTaskStoreOptions } from './sql-task-store.js';
export { migrate, MIGRATIONS, type Migration, type MigrateOptions, type MigrateResult } from './migrations.js';
export { DEFAULT_SCHEMA, quoteSchema, type SqlClient, type SqlResult } from './sql.js';
export {
  createPostgresClient,
  wrapPgPool,
  POSTGRES_TIMEOUTS,
  type PostgresClientOptions,
  type PostgresTimeouts,
} from './postgres.js';

export interface PgliteTaskStoreOptions {
  /** Directory of the database (created with its parents when missing), or `memory://`. */
  dataDir: string;
  now?: () => Date;
  defaultMaxAttempts?: number;
}

/** Open the embedded store in `dataDir`, migrated. The tables live in the `codegen_pr` schema. */
export async function openPgliteTaskStore(options: PgliteTaskStoreOptions): Promise<TaskStore> {
  const { openPgliteClient } = await import('./pglite.js');
  const sql = await openPgliteClient(options.dataDir);
  try {
    await migrate(classifyingClient(sql));
  } catch (error) {
    await sql.close();
    throw error;
  }
  return createSqlTaskStore(sql, {
    ...(options.now ? { now: options.now } : {}),
    ...(options.defaultMaxAttempts ? { defaultMaxAttempts: options.defaultMaxAttempts } : {}),
  });
}

export interface PostgresTaskStoreOptions {
  /** postgres://...; never logged. */
  connectionString: string;
  /** Schema holding the tables, created when missing. Default `codegen_pr`; tests use one of their own. */
  schema?: string;
  /** Most pooled connections. Default 10. */
  poolSize?: number;
  now?: () => Date;
  defaultMaxAttempts?: number;
  /** Errors of idle pooled connections; without a listener they are dropped silently. */
  onIdleError?: (error: Error) => void;
  /** Connection, statement, idle-in-transaction, query and close bounds; safe defaults (POSTGRES_TIMEOUTS). */
  timeouts?: PostgresTimeouts;
}

/** Open a pool to PostgreSQL, migrate the schema (safe with many replicas starting at once), return the store. */
export async function openPostgresTaskStore(options: PostgresTaskStoreOptions): Promise<TaskStore> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const sql = createPostgresClient({
    connectionString: options.connectionString,
    ...(options.poolSize ? { poolSize: options.poolSize } : {}),
    ...(options.onIdleError ? { onIdleError: options.onIdleError } : {}),
    ...options.timeouts,
  });
  try {
    await migrate(classifyingClient(sql), { schema });
  } catch (error) {
    await sql.close();
    throw error;
  }
  return createSqlTaskStore(sql, {
    schema,
    ...(options.now ? { now: options.now } : {}),
    ...(options.defaultMaxAttempts ? { defaultMaxAttempts: options.defaultMaxAttempts } : {}),
  });
}
