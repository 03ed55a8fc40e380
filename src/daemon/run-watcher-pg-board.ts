/**
 * The run watchers of replicas that share a PostgreSQL task store (DATABASE_URL) and no Redis share one
 * watcher's reads, as run-watcher-board.ts does through Redis: one replica holds the lead and reads Codegen for
 * all, the others announce their runs and take the states it publishes. Tables of migration 5, in the store's
 * schema; one small pool of the board's own (two connections) with short bounds, so a slow task store never
 * holds a sweep for long and a board that does not answer leaves each replica reading for itself.
 *
 * Why a lease row and not pg_try_advisory_lock: a session lock needs a connection held for the replica's whole
 * life, and is held as long as that session lives, even by a leader that has stopped sweeping (nothing to wait
 * on, or an event loop stuck) while the others need their runs read. A lease row, renewed at each of the
 * leader's sweeps, lapses on its own, exactly as the Redis lease does; its expiry is the database's clock
 * (now()), so replicas' clocks may disagree. A leader with nothing left to watch gives the lease up at once.
 *
 * Why tables and not NOTIFY payloads: a sweep's states (2,000 runs are some 200 KB of JSON) do not fit in
 * NOTIFY's 8,000 bytes, and a follower that starts or reconnects needs the last states, not a stream it missed.
 */
import type { SqlClient } from '../adapters/task-store/sql.js';
import { quoteSchema } from '../adapters/task-store/sql.js';
import type { AgentRun } from '../pipeline/ports.js';
import type { AnnouncedRun, RunBoard } from './run-watcher-board.js';

export interface PgRunBoardOptions {
  /** The board's own connections (close() closes them). */
  sql: SqlClient;
  /** The task store's schema, which holds the tables (migration 5). */
  schema: string;
  /** Distinguishes organizations (and Codegen URLs) sharing one database. */
  namespace: string;
  /** This replica's name, held in the lease. */
  me: string;
  /** How long the lease and an announcement last without renewal, in ms. */
  ttlMs: number;
  /**
   * After a statement fails, the board answers with that failure at once for this long (ms) instead of waiting
   * on a database that is away at every sweep. Default 5_000.
   */
  retryAfterMs?: number;
}

interface Row {
  run_id: string | number;
  created_ms: string | number;
}

/** A run board in PostgreSQL: a lease row, announced runs with their expiry, and the last published states. */
export function createPgRunBoard(options: PgRunBoardOptions): RunBoard {
  const { sql, namespace, me } = options;
  const s = quoteSchema(options.schema);
  const ttl = Math.max(1_000, Math.round(options.ttlMs));
  const retryAfterMs = options.retryAfterMs ?? 5_000;
  let failedAt = -Infinity;
  let failure: unknown;

  /** Runs `work` unless the database failed a moment ago; a failure starts a quiet spell. */
  async function guarded<T>(work: () => Promise<T>): Promise<T> {
    if (Date.now() - failedAt < retryAfterMs) throw failure;
    try {
      return await work();
    } catch (error) {
      failedAt = Date.now();
      failure = error;
      throw error;
    }
  }

  // Puts the states of some runs on the board, replacing what it held for them (publish and update both use it).
  const upsertStates = `INSERT INTO ${s}.run_watch_states (namespace, run_id, run)
    SELECT $1, (r ->> 'id')::bigint, r FROM jsonb_array_elements($2::jsonb) AS r
    ON CONFLICT (namespace, run_id) DO UPDATE SET run = EXCLUDED.run`;
  return {
    ttlMs: ttl,
    lead: () =>
      guarded(async () => {
        // Taken when free or lapsed, renewed when ours; the row that comes back says we hold it.
        const result = await sql.query(
          `INSERT INTO ${s}.run_watch_leaders AS l (namespace, holder, expires_at)
           VALUES ($1, $2, now() + $3 * interval '1 millisecond')
           ON CONFLICT (namespace) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
             WHERE l.holder = EXCLUDED.holder OR l.expires_at < now()
           RETURNING holder`,
          [namespace, me, ttl],
        );
        return result.rowCount === 1;
      }),
    announce: (runs) =>
      guarded(async () => {
        if (runs.length === 0) return;
        // Sorted: two replicas announcing overlapping runs lock the rows in the same order (no deadlock).
        const sorted = [...runs].sort((a, b) => a.id - b.id);
        await sql.query(
          `INSERT INTO ${s}.run_watch_announced (namespace, run_id, created_ms, until)
           SELECT $1, a.id, a.created, now() + $4 * interval '1 millisecond'
             FROM unnest($2::bigint[], $3::bigint[]) AS a (id, created)
           ON CONFLICT (namespace, run_id) DO UPDATE SET until = EXCLUDED.until, created_ms = EXCLUDED.created_ms`,
          [namespace, sorted.map((r) => r.id), sorted.map((r) => Math.round(r.createdAt)), ttl],
        );
      }),
    announced: () =>
      guarded(async () => {
        await sql.query(`DELETE FROM ${s}.run_watch_announced WHERE namespace = $1 AND until < now()`, [namespace]);
        const result = await sql.query<Row>(
          `SELECT run_id, created_ms FROM ${s}.run_watch_announced WHERE namespace = $1`,
          [namespace],
        );
        return result.rows.map((row): AnnouncedRun => ({ id: Number(row.run_id), createdAt: Number(row.created_ms) }));
      }),
    publish: (runs) =>
      guarded(() =>
        // One transaction: a follower reads the previous sweep's states or this one's, never a half.
        sql.transaction(async (tx) => {
          await tx.query(`DELETE FROM ${s}.run_watch_states WHERE namespace = $1`, [namespace]);
          if (runs.length === 0) return;
          await tx.query(upsertStates, [namespace, JSON.stringify(runs)]);
        }),
      ),
    update: (runs) =>
      guarded(async () => {
        if (runs.length === 0) return;
        await sql.query(upsertStates, [namespace, JSON.stringify(runs)]);
      }),
    read: (ids) =>
      guarded(async () => {
        if (ids.length === 0) return [];
        const result = await sql.query<{ run: AgentRun | string }>(
          `SELECT run FROM ${s}.run_watch_states WHERE namespace = $1 AND run_id = ANY($2::bigint[])`,
          [namespace, ids],
        );
        return result.rows.map((row) => (typeof row.run === 'string' ? (JSON.parse(row.run) as AgentRun) : row.run));
      }),
    resign: () =>
      guarded(async () => {
        await sql.query(`DELETE FROM ${s}.run_watch_leaders WHERE namespace = $1 AND holder = $2`, [namespace, me]);
      }),
    close: () => sql.close(),
  };
}
