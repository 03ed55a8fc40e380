/**
 * The Task API as a Cloudflare Worker (deploy/cloudflare/wrangler.toml). PostgreSQL is reached through a
 * Hyperdrive binding with `pg`, one Client per request, closed after the response with ctx.waitUntil. The
 * schema is migrated once per isolate, on the first request that touches the database.
 *
 * This file is the Worker's composition root, the one place here that reads bindings.
 */
import { migrate } from '../adapters/task-store/migrations.js';
import { createSqlTaskStore } from '../adapters/task-store/index.js';
import type { SqlClient } from '../adapters/task-store/sql.js';
import { classifyingClient } from '../adapters/task-store/sql-errors.js';
import { createTaskApiApp, type ApiLogger } from './app.js';
import { connectOnFirstUse } from './pg-client.js';

/** The bindings wrangler.toml declares. */
export interface TaskApiEnv {
  /** Hyperdrive binding: its connectionString reaches PostgreSQL through Cloudflare's pool. */
  HYPERDRIVE: { connectionString: string };
  /** Secret (`wrangler secret put TASK_API_KEY`): the bearer key callers present. */
  TASK_API_KEY: string;
  /** Optional secret: a status-page credential that may look but not act. */
  STATUS_PAGE_READ_ONLY_KEY?: string;
  /** Optional var: "true" makes the status page read-only for every credential. */
  STATUS_PAGE_READ_ONLY?: string;
  /** Optional var: the PostgreSQL schema of the tables (default codegen_pr). */
  TASK_STORE_SCHEMA?: string;
  /** Optional var: debug logs each request. */
  LOG_LEVEL?: string;
}

/** The part of the Workers ExecutionContext this entry uses. */
export interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void;
}

// Per isolate, not exported: set once the schema is known to be current so later requests skip the check.
let migration: Promise<void> | undefined;

function ensureMigrated(sql: SqlClient, schema: string | undefined): Promise<void> {
  migration ??= migrate(classifyingClient(sql), schema ? { schema } : {}).then(
    () => undefined,
    (err: unknown) => {
      migration = undefined; // let the next request try again
      throw err;
    },
  );
  return migration;
}

/** Every statement waits for the isolate's migration first. */
function migratedFirst(sql: SqlClient, schema: string | undefined): SqlClient {
  return {
    query: async (text, params) => {
      await ensureMigrated(sql, schema);
      return sql.query(text, params);
    },
    transaction: async (fn) => {
      await ensureMigrated(sql, schema);
      return sql.transaction(fn);
    },
    close: () => sql.close(),
  };
}

/** Workers logs are console lines; one JSON object per line so they stay searchable. */
function consoleLogger(debug: boolean): ApiLogger {
  const line = (level: string, obj: object, msg?: string) => {
    const entry: Record<string, unknown> = { level, msg, ...obj };
    const err = (obj as { err?: unknown }).err;
    if (err instanceof Error)
      entry.err = { name: err.name, message: err.message, code: (err as { code?: unknown }).code };
    // eslint-disable-next-line no-console -- console is the Workers logging API
    console.log(JSON.stringify(entry));
  };
  return {
    error: (obj, msg) => line('error', obj, msg),
    warn: (obj, msg) => line('warn', obj, msg),
    info: (obj, msg) => line('info', obj, msg),
    debug: (obj, msg) => (debug ? line('debug', obj, msg) : undefined),
  };
}

export default {
  async fetch(request: Request, env: TaskApiEnv, ctx: WorkerContext): Promise<Response> {
    const logger = consoleLogger(env.LOG_LEVEL === 'debug');
    if (!env.TASK_API_KEY || !env.HYPERDRIVE?.connectionString) {
      logger.error({ hasKey: Boolean(env.TASK_API_KEY) }, 'TASK_API_KEY secret or HYPERDRIVE binding missing');
      return Response.json({ error: 'configuration', message: 'the Task API is not configured' }, { status: 500 });
    }
    const schema = env.TASK_STORE_SCHEMA || undefined;
    const connection = connectOnFirstUse(env.HYPERDRIVE.connectionString);
    const store = createSqlTaskStore(migratedFirst(connection, schema), schema ? { schema } : {});
    const app = createTaskApiApp({
      store,
      apiKey: env.TASK_API_KEY,
      logger,
      statusPage: {
        ...(env.STATUS_PAGE_READ_ONLY_KEY ? { readOnlyKey: env.STATUS_PAGE_READ_ONLY_KEY } : {}),
        readOnly: env.STATUS_PAGE_READ_ONLY === 'true',
      },
    });
    try {
      return await app.fetch(request, env);
    } finally {
      ctx.waitUntil(connection.end());
    }
  },
};
