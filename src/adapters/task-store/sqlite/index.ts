/**
 * The embedded task store on SQLite (better-sqlite3): the default store when neither CLOUDFLARE_API_URL nor
 * DATABASE_URL is set. It keeps the TaskStore contract of the PostgreSQL store (fenced leased writes that
 * recognise their own repeat, run intents, lease expiries, history rows in the same transaction, keyset pages)
 * and runs the same test suites. Only one process opens a data directory's database at a time: see
 * src/adapters/owner/ for how other processes reach it.
 *
 * This module loads a native addon; import it lazily (open-store.ts does) so PostgreSQL and HTTP deployments
 * never load it.
 */
import type { TaskStore } from '../../../pipeline/ports.js';
import { throwIfAborted } from '../sql-errors.js';
import { openSqliteDatabase, type SqliteDatabase, type SqliteOpenOptions } from './database.js';
import { classifyingSqliteStore, classifySqliteError } from './errors.js';
import { createSqliteLeasedOps } from './leased-writes.js';
import { migrateSqlite } from './migrations.js';
import { createSqliteAdminOps } from './task-admin.js';
import { createSqliteOperations } from './operations.js';
import type { StoreOperations } from '../operations.js';

export { openSqliteDatabase, SQLITE_FILE_NAME, SQLITE_MEMORY, type SqliteDatabase } from './database.js';
export { migrateSqlite, SQLITE_MIGRATIONS, type SqliteMigration } from './migrations.js';
export { classifySqliteError } from './errors.js';

export interface SqliteTaskStoreOptions {
  /** The store's one clock: leases, retries, row stamps and history all read it. Default `new Date()`. */
  now?: () => Date;
  /** maxAttempts of tasks added without one. Default 3. */
  defaultMaxAttempts?: number;
}

/** Build a TaskStore on an open, migrated database. close() closes the database. */
export function createSqliteTaskStore(
  database: SqliteDatabase,
  options: SqliteTaskStoreOptions = {},
): TaskStore & StoreOperations {
  const context = {
    database,
    now: options.now ?? (() => new Date()),
    defaultMaxAttempts: options.defaultMaxAttempts ?? 3,
  };
  return classifyingSqliteStore({
    ...createSqliteLeasedOps(context),
    ...createSqliteAdminOps(context),
    // Operators' queries (../operations.ts): found by storeOperations(), not part of the TaskStore port.
    ...createSqliteOperations(context),
    async ping(signal?: AbortSignal) {
      throwIfAborted(signal);
      database.statement('SELECT 1').get();
    },
    async close() {
      database.close();
    },
  });
}

export interface OpenSqliteTaskStoreOptions extends SqliteTaskStoreOptions, SqliteOpenOptions {
  /** The database file (parents created when missing), or `memory://`. */
  file: string;
}

/** Open (creating when missing) and migrate the database at `file`, and return the store on it. */
export async function openSqliteTaskStore(options: OpenSqliteTaskStoreOptions): Promise<TaskStore> {
  let database: SqliteDatabase;
  try {
    database = openSqliteDatabase(options.file, options);
  } catch (error) {
    throw classifySqliteError(error);
  }
  try {
    migrateSqlite(database);
  } catch (error) {
    database.close();
    throw classifySqliteError(error);
  }
  return createSqliteTaskStore(database, options);
}
