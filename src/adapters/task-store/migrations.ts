/**
 * Versioned schema migrations for the task store, applied at startup. Replicas that start together are safe:
 * everything runs in one transaction that first takes a transaction-scoped advisory lock keyed on the schema,
 * so one replica migrates while the others wait, then find every version recorded and do nothing.
 * Each migration is a list of single statements (PGlite's parameterised protocol runs one at a time).
 * No Node-only imports: the Task API runs this module in a Cloudflare Worker too.
 */
import { DEFAULT_SCHEMA, quoteSchema, type SqlClient } from './sql.js';

/** One schema version. `statements` receives the quoted schema name. Never edit a released migration. */
export interface Migration {
  version: number;
  name: string;
  statements: (s: string) => string[];
}

/** The statuses the CHECK constraint allows; kept here as literal SQL so a migration never changes later. */
const STATUS_CHECK = `status IN ('pending','claimed','awaiting_agent','retry','completed','failed','cancelled')`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'tasks and task_events',
    statements: (s) => [
      `CREATE TABLE ${s}.tasks (
        id text PRIMARY KEY,
        -- insertion order: breaks created_at ties so claims and pages follow the order tasks were added
        seq bigint GENERATED ALWAYS AS IDENTITY,
        title text NOT NULL,
        description text NOT NULL,
        -- type, priority and labels are not constrained on purpose: a malformed row must still be claimable
        -- so the daemon's validate step can fail it with a clear validation error
        type text NOT NULL DEFAULT 'default',
        priority text NOT NULL DEFAULT 'medium',
        priority_rank smallint GENERATED ALWAYS AS (
          CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END
        ) STORED,
        labels jsonb NOT NULL DEFAULT '[]'::jsonb,
        repository text,
        context jsonb,
        status text NOT NULL DEFAULT 'pending' CONSTRAINT tasks_status_check CHECK (${STATUS_CHECK}),
        attempts integer NOT NULL DEFAULT 0,
        max_attempts integer NOT NULL DEFAULT 3,
        next_run_at timestamptz,
        lease_owner text,
        lease_token uuid,
        lease_expires_at timestamptz,
        agent_run_id bigint,
        agent_run_url text,
        pr_url text,
        pr_number integer,
        pr_branch text,
        pr_state text,
        error_category text,
        error_code text,
        error_message text,
        feedback jsonb NOT NULL DEFAULT '[]'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz
      )`,
      // Serves the claim query: only live tasks, already in claim order (priority, then age).
      `CREATE INDEX tasks_claim_idx ON ${s}.tasks (priority_rank, created_at, seq)
        WHERE status IN ('pending','retry','claimed','awaiting_agent')`,
      // Serves listing (keyset pagination) with and without a status filter, and countByStatus.
      `CREATE INDEX tasks_list_idx ON ${s}.tasks (created_at, seq)`,
      `CREATE INDEX tasks_status_list_idx ON ${s}.tasks (status, created_at, seq)`,
      `CREATE TABLE ${s}.task_events (
        id bigserial PRIMARY KEY,
        task_id text NOT NULL REFERENCES ${s}.tasks (id) ON DELETE CASCADE,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        kind text NOT NULL,
        from_status text,
        to_status text,
        detail jsonb
      )`,
      `CREATE INDEX task_events_task_idx ON ${s}.task_events (task_id, id)`,
    ],
  },
  {
    version: 2,
    name: 'run intents, lease expiries and the task deadline',
    statements: (s) => [
      // The nonce an attempt records before it asks Codegen for a run (it travels in the run's metadata), and
      // when: a later attempt looks for that run, back to this time, before it creates another.
      `ALTER TABLE ${s}.tasks ADD COLUMN run_intent text`,
      `ALTER TABLE ${s}.tasks ADD COLUMN run_intent_at timestamptz`,
      // Re-claims after a lost worker spend no attempt; this bounds a task that takes its workers down with it.
      `ALTER TABLE ${s}.tasks ADD COLUMN lease_expiries integer NOT NULL DEFAULT 0`,
      // The first claim since the task was added or retried by a person: its wall-clock deadline counts from here.
      `ALTER TABLE ${s}.tasks ADD COLUMN started_at timestamptz`,
    ],
  },
  {
    version: 3,
    name: 'retention, live-row indexes, replica reports and operator actions',
    statements: (s) => [
      // Queue depth and the oldest ready task read live rows through tasks_claim_idx (version 1), whose
      // condition is exactly the live statuses: no index of their own is needed.
      // Retention's batches and the oldest finished task: finished rows in the order they finished.
      `CREATE INDEX tasks_finished_idx ON ${s}.tasks (completed_at)
        WHERE status IN ('completed','failed','cancelled')`,
      // Each replica's last report (intake, breakers, budgets), written with its heartbeat; the status page
      // reads it. intake_request is what a person asked from the status page (paused, running), by whom.
      `CREATE TABLE ${s}.replicas (
        name text PRIMARY KEY,
        reported_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        report jsonb NOT NULL DEFAULT '{}'::jsonb,
        intake_request text CONSTRAINT replicas_intake_request_check CHECK (intake_request IN ('paused','running')),
        intake_request_by text,
        intake_request_at timestamptz
      )`,
      // Jobs one replica at a time runs (retention): a lease row, taken when free or expired.
      `CREATE TABLE ${s}.maintenance_leases (
        name text PRIMARY KEY,
        holder text NOT NULL,
        expires_at timestamptz NOT NULL,
        last_run_at timestamptz,
        last_result jsonb
      )`,
      // What people did that is not a task's (pausing and resuming intake), with who did it.
      `CREATE TABLE ${s}.operator_actions (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        action text NOT NULL,
        target text NOT NULL,
        detail jsonb
      )`,
    ],
  },
  {
    version: 4,
    name: 'dedupe keys and per-repository claim counts',
    statements: (s) => [
      // A caller's key that makes adding idempotent while the task is live.
      `ALTER TABLE ${s}.tasks ADD COLUMN dedupe_key text`,
      // At most one live task per key, enforced by the database so two concurrent adds cannot both win; a task
      // leaves the index when it completes, fails or is cancelled, and the key may then be used again.
      `CREATE UNIQUE INDEX tasks_dedupe_idx ON ${s}.tasks (dedupe_key)
        WHERE dedupe_key IS NOT NULL AND status IN ('pending','retry','claimed','awaiting_agent')`,
      // The per-repository cap counts held tasks by repository on every capped claim.
      `CREATE INDEX tasks_held_repository_idx ON ${s}.tasks (repository)
        WHERE status IN ('claimed','awaiting_agent')`,
    ],
  },
  {
    version: 5,
    name: 'run watcher board: leader lease, announced runs, published run states',
    statements: (s) => [
      // Replicas sharing this database share one run watcher's Codegen reads (src/daemon/run-watcher-pg-board.ts).
      // UNLOGGED: rewritten every few seconds and worthless after a crash (the next sweep rebuilds them), so
      // they spare the WAL and the standbys; a server crash empties them, which costs one sweep.
      `CREATE UNLOGGED TABLE ${s}.run_watch_leaders (
        namespace text PRIMARY KEY,
        holder text NOT NULL,
        expires_at timestamptz NOT NULL
      )`,
      // Runs a follower waits on, renewed at each of its sweeps; the leader reads them too until \`until\`.
      `CREATE UNLOGGED TABLE ${s}.run_watch_announced (
        namespace text NOT NULL,
        run_id bigint NOT NULL,
        created_ms bigint NOT NULL,
        until timestamptz NOT NULL,
        PRIMARY KEY (namespace, run_id)
      )`,
      // What the leader read in its last sweep, as the watcher's AgentRun.
      `CREATE UNLOGGED TABLE ${s}.run_watch_states (
        namespace text NOT NULL,
        run_id bigint NOT NULL,
        run jsonb NOT NULL,
        PRIMARY KEY (namespace, run_id)
      )`,
    ],
  },
];

export interface MigrateOptions {
  /** PostgreSQL schema holding the tables; created when missing. Default `codegen_pr`. */
  schema?: string;
  /** The migrations to apply (tests pass their own); default MIGRATIONS. */
  migrations?: readonly Migration[];
}

export interface MigrateResult {
  /** Versions this call applied, ascending; empty when the schema was already current. */
  applied: number[];
}

/** A stable 32-bit key per schema (FNV-1a), so replicas of one deployment contend and other schemas do not. */
function lockKey(schema: string): number {
  let hash = 0x811c9dc5;
  for (const char of `codegen-pr:migrate:${schema}`) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** Bring the schema up to date; safe to call from many processes at once. */
export async function migrate(sql: SqlClient, options: MigrateOptions = {}): Promise<MigrateResult> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const s = quoteSchema(schema);
  const migrations = [...(options.migrations ?? MIGRATIONS)].sort((a, b) => a.version - b.version);
  return sql.transaction(async (tx) => {
    // Held until COMMIT/ROLLBACK: even CREATE SCHEMA IF NOT EXISTS races without it.
    await tx.query('SELECT pg_advisory_xact_lock($1::int)', [lockKey(schema)]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
    const done = await tx.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`);
    const have = new Set(done.rows.map((row) => Number(row.version)));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (have.has(migration.version)) continue;
      for (const statement of migration.statements(s)) await tx.query(statement);
      await tx.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return { applied };
  });
}
