/**
 * The backends every task-store suite runs against: SQLite (the embedded default, on a file in a temporary
 * directory) and PGlite in memory always, PostgreSQL when DATABASE_URL is set (each file in a fresh schema of its
 * own, dropped afterwards). Suites use `describe.each(storeBackends(tag))`.
 *
 * Raw SQL in suites is written so that it runs on all three (no casts, no PostgreSQL-only functions); moving
 * time goes through `backdate`, because time arithmetic has no common syntax.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createPostgresClient,
  createSqlTaskStore,
  migrate,
  type SqlClient,
} from '../../../src/adapters/task-store/index.js';
import { openPgliteClient } from '../../../src/adapters/task-store/pglite.js';
import {
  createSqliteTaskStore,
  migrateSqlite,
  openSqliteDatabase,
  type SqliteDatabase,
} from '../../../src/adapters/task-store/sqlite/index.js';
import type { TaskStore } from '../../../src/pipeline/ports.js';

export const DATABASE_URL = process.env.DATABASE_URL;

/** Columns holding a time that suites move into the past. */
export type TimeColumn = 'lease_expires_at' | 'next_run_at';

/** An open store plus raw SQL access to its tables, for moving time by writing it into rows. */
export interface StoreHarness {
  store: TaskStore;
  sql: SqlClient;
  /** Qualified table names for raw SQL. */
  tasks: string;
  events: string;
  /** Set `column` of task `id` to one second before the store's clock (an expired lease, a retry now due). */
  backdate(id: string, column: TimeColumn): Promise<void>;
  /** The SQL for bind parameter `n` holding JSON text, cast to the column type (jsonb on PostgreSQL). */
  json(n: number): string;
  /** Empty both tables (between tests). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreBackend {
  name: 'sqlite' | 'pglite' | 'postgres';
  open(): Promise<StoreHarness>;
  /**
   * The bound on a hook that opens this backend. PGlite starts a PostgreSQL in WebAssembly: a few seconds on a
   * quiet machine, over 30 s (the default test timeout) on a loaded 2-core one; the hook awaits it either way.
   */
  openTimeoutMs: number;
}

/** Hook bounds: generous, since a bound only ends a hang; nothing is asserted about how long an open takes. */
const OPEN_TIMEOUT_MS = 60_000;
const PGLITE_OPEN_TIMEOUT_MS = 180_000;

/** A schema name unique to this file and process. */
export function uniqueSchema(tag: string): string {
  return `test_${tag.replace(/[^a-z0-9]/g, '_')}_${process.pid}_${randomBytes(3).toString('hex')}`;
}

function pgHarness(sql: SqlClient, schema: string, store: TaskStore, dropSchema: boolean): StoreHarness {
  const tasks = `"${schema}".tasks`;
  const events = `"${schema}".task_events`;
  return {
    store,
    sql,
    tasks,
    events,
    backdate: async (id, column) => {
      await sql.query(`UPDATE ${tasks} SET ${column} = now() - interval '1 second' WHERE id = $1`, [id]);
    },
    json: (n) => `$${n}::text::jsonb`,
    reset: async () => {
      await sql.query(`TRUNCATE ${events}, ${tasks}`);
    },
    close: async () => {
      if (dropSchema) await sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await store.close();
    },
  };
}

/** Raw SQL on a SQLite database with the `$1..$n` parameters the suites write. */
export function sqliteSqlClient(database: SqliteDatabase): SqlClient {
  const self: SqlClient = {
    async query<T>(text: string, params: unknown[] = []) {
      const statement = database.db.prepare(text);
      const named = Object.fromEntries(params.map((value, i) => [String(i + 1), value]));
      if (statement.reader) {
        const rows = statement.all(named) as T[];
        return { rows, rowCount: rows.length };
      }
      return { rows: [] as T[], rowCount: statement.run(named).changes };
    },
    transaction: (fn) => fn(self),
    close: async () => database.close(),
  };
  return self;
}

function sqliteBackend(): StoreBackend {
  return {
    name: 'sqlite',
    openTimeoutMs: OPEN_TIMEOUT_MS,
    open: async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'codegen-pr-sqlite-'));
      const database = openSqliteDatabase(path.join(dir, 'codegen-pr.db'));
      migrateSqlite(database);
      const store = createSqliteTaskStore(database);
      return {
        store,
        sql: sqliteSqlClient(database),
        tasks: 'tasks',
        events: 'task_events',
        json: (n) => `$${n}`,
        backdate: async (id, column) => {
          database.db
            .prepare(`UPDATE tasks SET ${column} = ? WHERE id = ?`)
            .run(new Date(Date.now() - 1_000).toISOString(), id);
        },
        reset: async () => {
          database.db.exec('DELETE FROM task_events; DELETE FROM tasks;');
        },
        close: async () => {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** The backends to run, warning once (with the reason) when PostgreSQL is skipped. */
export function storeBackends(tag: string): StoreBackend[] {
  const backends: StoreBackend[] = [
    sqliteBackend(),
    {
      name: 'pglite',
      openTimeoutMs: PGLITE_OPEN_TIMEOUT_MS,
      open: async () => {
        const sql = await openPgliteClient('memory://');
        await migrate(sql);
        return pgHarness(sql, 'codegen_pr', createSqlTaskStore(sql), false);
      },
    },
  ];
  if (DATABASE_URL) {
    backends.push({
      name: 'postgres',
      openTimeoutMs: OPEN_TIMEOUT_MS,
      open: async () => {
        const schema = uniqueSchema(tag);
        const sql = createPostgresClient({ connectionString: DATABASE_URL, poolSize: 10 });
        await migrate(sql, { schema });
        return pgHarness(sql, schema, createSqlTaskStore(sql, { schema }), true);
      },
    });
  } else {
    console.warn(`${tag}: DATABASE_URL is not set, so the PostgreSQL variants are skipped (SQLite and PGlite run)`);
  }
  return backends;
}
