/**
 * The backends every task-store suite runs against: PGlite in memory always, PostgreSQL when DATABASE_URL is
 * set (each file in a fresh schema of its own, dropped afterwards). Suites use `describe.each(storeBackends(tag))`.
 */
import { randomBytes } from 'node:crypto';
import {
  createPostgresClient,
  createSqlTaskStore,
  migrate,
  type SqlClient,
} from '../../../src/adapters/task-store/index.js';
import { openPgliteClient } from '../../../src/adapters/task-store/pglite.js';
import type { TaskStore } from '../../../src/pipeline/ports.js';

export const DATABASE_URL = process.env.DATABASE_URL;

/** An open store plus raw SQL access to its tables, for moving time by writing it into rows. */
export interface StoreHarness {
  store: TaskStore;
  sql: SqlClient;
  /** Qualified table names for raw SQL. */
  tasks: string;
  events: string;
  /** Empty both tables (between tests). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreBackend {
  name: 'pglite' | 'postgres';
  open(): Promise<StoreHarness>;
}

/** A schema name unique to this file and process. */
export function uniqueSchema(tag: string): string {
  return `test_${tag.replace(/[^a-z0-9]/g, '_')}_${process.pid}_${randomBytes(3).toString('hex')}`;
}

function harness(sql: SqlClient, schema: string, store: TaskStore, dropSchema: boolean): StoreHarness {
  const tasks = `"${schema}".tasks`;
  const events = `"${schema}".task_events`;
  return {
    store,
    sql,
    tasks,
    events,
    reset: async () => {
      await sql.query(`TRUNCATE ${events}, ${tasks}`);
    },
    close: async () => {
      if (dropSchema) await sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await store.close();
    },
  };
}

/** The backends to run, warning once (with the reason) when PostgreSQL is skipped. */
export function storeBackends(tag: string): StoreBackend[] {
  const backends: StoreBackend[] = [
    {
      name: 'pglite',
      open: async () => {
        const sql = await openPgliteClient('memory://');
        await migrate(sql);
        return harness(sql, 'codegen_pr', createSqlTaskStore(sql), false);
      },
    },
  ];
  if (DATABASE_URL) {
    backends.push({
      name: 'postgres',
      open: async () => {
        const schema = uniqueSchema(tag);
        const sql = createPostgresClient({ connectionString: DATABASE_URL, poolSize: 10 });
        await migrate(sql, { schema });
        return harness(sql, schema, createSqlTaskStore(sql, { schema }), true);
      },
    });
  } else {
    console.warn(`${tag}: DATABASE_URL is not set, so the PostgreSQL variants are skipped (PGlite variants run)`);
  }
  return backends;
}
