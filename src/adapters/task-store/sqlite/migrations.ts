/**
 * Versioned schema of the SQLite task store, applied when the store opens. The tables mirror the PostgreSQL
 * store's (src/adapters/task-store/migrations.ts) column for column, so the same row mapping (task-row.ts) serves
 * both; SQLite's own types are used: timestamps are ISO-8601 UTC text with milliseconds (they sort as text),
 * JSON is text, the lease token is text. Tables are STRICT, so a wrongly typed value is refused at the write.
 *
 * Everything runs in one BEGIN IMMEDIATE transaction: two processes opening a fresh file at once serialise on
 * the write lock, and the second finds every version recorded.
 */
import type { SqliteDatabase } from './database.js';

/** One schema version. Never edit a released migration: add the next one. */
export interface SqliteMigration {
  version: number;
  name: string;
  statements: string[];
}

const STATUS_CHECK = `status IN ('pending','claimed','awaiting_agent','retry','completed','failed','cancelled')`;

/** SQLite's clock as the store writes times; only defaults of rows written by other tools use it. */
const NOW_TEXT = `(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'tasks and task_events, with run intents, lease expiries and the task deadline',
    statements: [
      `CREATE TABLE tasks (
        -- insertion order: breaks created_at ties so claims and pages follow the order tasks were added
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        -- type, priority and labels are not constrained on purpose: a malformed row must still be claimable
        -- so the daemon's validate step can fail it with a clear validation error
        type TEXT NOT NULL DEFAULT 'default',
        priority TEXT NOT NULL DEFAULT 'medium',
        priority_rank INTEGER GENERATED ALWAYS AS (
          CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END
        ) STORED,
        labels TEXT NOT NULL DEFAULT '[]',
        repository TEXT,
        context TEXT,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (${STATUS_CHECK}),
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL DEFAULT 3,
        next_run_at TEXT,
        lease_owner TEXT,
        lease_token TEXT,
        lease_expires_at TEXT,
        lease_expiries INTEGER NOT NULL DEFAULT 0,
        started_at TEXT,
        run_intent TEXT,
        run_intent_at TEXT,
        agent_run_id INTEGER,
        agent_run_url TEXT,
        pr_url TEXT,
        pr_number INTEGER,
        pr_branch TEXT,
        pr_state TEXT,
        error_category TEXT,
        error_code TEXT,
        error_message TEXT,
        feedback TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL DEFAULT ${NOW_TEXT},
        updated_at TEXT NOT NULL DEFAULT ${NOW_TEXT},
        completed_at TEXT
      ) STRICT`,
      // Serves the claim query: only live tasks, already in claim order (priority, then age).
      `CREATE INDEX tasks_claim_idx ON tasks (priority_rank, created_at, seq)
        WHERE status IN ('pending','retry','claimed','awaiting_agent')`,
      // Serve listing (keyset pagination) with and without a status filter, and countByStatus.
      `CREATE INDEX tasks_list_idx ON tasks (created_at, seq)`,
      `CREATE INDEX tasks_status_list_idx ON tasks (status, created_at, seq)`,
      `CREATE TABLE task_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        at TEXT NOT NULL DEFAULT ${NOW_TEXT},
        actor TEXT NOT NULL,
        kind TEXT NOT NULL,
        from_status TEXT,
        to_status TEXT,
        detail TEXT
      ) STRICT`,
      `CREATE INDEX task_events_task_idx ON task_events (task_id, id)`,
    ],
  },
  // Version 2 of the PostgreSQL store is part of version 1 here; 3 is numbered like its PostgreSQL twin.
  {
    version: 3,
    name: 'retention, live-row indexes, replica reports and operator actions',
    statements: [
      // Queue depth and the oldest ready task read live rows through tasks_claim_idx (version 1), whose
      // condition is exactly the live statuses: no index of their own is needed.
      // Retention's batches and the oldest finished task: finished rows in the order they finished.
      `CREATE INDEX tasks_finished_idx ON tasks (completed_at)
        WHERE status IN ('completed','failed','cancelled')`,
      `CREATE TABLE replicas (
        name TEXT PRIMARY KEY,
        reported_at TEXT NOT NULL DEFAULT ${NOW_TEXT},
        started_at TEXT,
        report TEXT NOT NULL DEFAULT '{}',
        intake_request TEXT CHECK (intake_request IN ('paused','running')),
        intake_request_by TEXT,
        intake_request_at TEXT
      ) STRICT`,
      `CREATE TABLE maintenance_leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        last_run_at TEXT,
        last_result TEXT
      ) STRICT`,
      `CREATE TABLE operator_actions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL DEFAULT ${NOW_TEXT},
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT
      ) STRICT`,
    ],
  },
  {
    version: 4,
    name: 'dedupe keys and per-repository claim counts',
    statements: [
      `ALTER TABLE tasks ADD COLUMN dedupe_key TEXT`,
      // At most one live task per key (see the PostgreSQL twin): a finished task leaves the index.
      `CREATE UNIQUE INDEX tasks_dedupe_idx ON tasks (dedupe_key)
        WHERE dedupe_key IS NOT NULL AND status IN ('pending','retry','claimed','awaiting_agent')`,
      `CREATE INDEX tasks_held_repository_idx ON tasks (repository)
        WHERE status IN ('claimed','awaiting_agent')`,
    ],
  },
];

/** Bring the schema up to date; returns the versions applied (empty when it was current). */
export function migrateSqlite(
  database: SqliteDatabase,
  migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS,
): { applied: number[] } {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  return database.write(() => {
    database.db.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at TEXT NOT NULL DEFAULT ${NOW_TEXT}
      ) STRICT`,
    );
    const rows = database.db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>;
    const have = new Set(rows.map((row) => Number(row.version)));
    const applied: number[] = [];
    for (const migration of ordered) {
      if (have.has(migration.version)) continue;
      for (const statement of migration.statements) database.db.exec(statement);
      database.db
        .prepare('INSERT INTO schema_migrations (version, name) VALUES (?, ?)')
        .run(migration.version, migration.name);
      applied.push(migration.version);
    }
    return { applied };
  });
}
