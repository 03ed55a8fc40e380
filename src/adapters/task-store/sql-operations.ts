/**
 * The operators' side of the SQL task store (PostgreSQL, PGlite): the live-queue snapshot, retention, replica
 * reports and intake requests (operations.ts says what each does). Times come from the database clock.
 * No Node-only imports (the Task API runs this in a Worker).
 *
 * Cost: the snapshot reads live rows through the partial indexes of migration 3 (the live rows
 * of tasks_claim_idx; tasks_finished_idx for the oldest finished row), never the finished rows; retention walks tasks_finished_idx
 * from its oldest end. test/integration/retention.test.ts checks both plans with EXPLAIN on PostgreSQL.
 */
import { DaemonError } from '../../domain/errors.js';
import { throwIfAborted } from './sql-errors.js';
import { statusList, type StoreContext } from './store-context.js';
import {
  FINISHED_STATUSES,
  IN_FLIGHT_COLUMNS,
  LIVE_STATUSES,
  liveCounts,
  toInFlight,
  type OperatorAction,
  type ReplicaRecord,
  type StoreOperations,
} from './operations.js';

const LIVE = statusList(LIVE_STATUSES);
const FINISHED = statusList(FINISHED_STATUSES);
const RETENTION_LEASE = 'retention';

/** The snapshot statement; exported for the EXPLAIN test. $1 none. */
export function snapshotStatement(tasks: string): string {
  // A task is claimable since: pending - its last change; retry - when it fell due; a lost worker's task -
  // when its lease expired. Rows not claimable now give NULL, which min() skips.
  return `
    SELECT l.status, l.n, r.ready_age, f.finished_age
      FROM (SELECT status, count(*)::int AS n FROM ${tasks} WHERE status IN (${LIVE}) GROUP BY status
            UNION ALL SELECT NULL, 0) l,
           (SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(CASE
                      WHEN status = 'pending' THEN updated_at
                      WHEN status = 'retry' AND (next_run_at IS NULL OR next_run_at <= now())
                        THEN COALESCE(next_run_at, updated_at)
                      WHEN status IN ('claimed','awaiting_agent') AND lease_expires_at < now() THEN lease_expires_at
                    END)), 0)::float8 AS ready_age
              FROM ${tasks} WHERE status IN (${LIVE})) r,
           (SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(completed_at)), 0)::float8 AS finished_age
              FROM ${tasks} WHERE status IN (${FINISHED})) f`;
}

/** The statement choosing one retention batch; exported for the EXPLAIN test. $1 age ms, $2 batch size. */
export function pruneBatchStatement(tasks: string): string {
  return `SELECT id FROM ${tasks}
           WHERE status IN (${FINISHED}) AND completed_at < now() - $1::bigint * interval '1 millisecond'
           ORDER BY completed_at LIMIT $2::int FOR UPDATE SKIP LOCKED`;
}

interface ReplicaRow {
  name: string;
  reported_at: Date | string;
  started_at: Date | string | null;
  report: unknown;
  intake_request: 'paused' | 'running' | null;
  intake_request_by: string | null;
  intake_request_at: Date | string | null;
}

const iso = (value: Date | string): string => (value instanceof Date ? value : new Date(value)).toISOString();

function toReplica(row: ReplicaRow): ReplicaRecord {
  const report = typeof row.report === 'string' ? (JSON.parse(row.report) as unknown) : row.report;
  return {
    name: row.name,
    reportedAt: iso(row.reported_at),
    ...(row.started_at ? { startedAt: iso(row.started_at) } : {}),
    report: report && typeof report === 'object' && !Array.isArray(report) ? (report as Record<string, unknown>) : {},
    ...(row.intake_request && row.intake_request_by && row.intake_request_at
      ? { intakeRequest: { state: row.intake_request, by: row.intake_request_by, at: iso(row.intake_request_at) } }
      : {}),
  };
}

function checkCount(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new DaemonError(`${name} must be a whole number of at least ${min}, got ${value}`, {
      code: 'invalid-argument',
      category: 'validation',
      dependency: 'task-store',
    });
  }
}

export function replicaNotFound(name: string): DaemonError {
  return new DaemonError(`no replica named "${name}" has reported to this store`, {
    code: 'replica-not-found',
    category: 'validation',
    dependency: 'task-store',
  });
}

export function createSqlOperations(c: StoreContext): StoreOperations {
  const schema = c.tasks.slice(0, -'.tasks'.length);
  const replicas = `${schema}.replicas`;
  const leases = `${schema}.maintenance_leases`;
  const actions = `${schema}.operator_actions`;
  const replicaColumns = 'name, reported_at, started_at, report, intake_request, intake_request_by, intake_request_at';

  async function lastRunAt(): Promise<string | undefined> {
    const found = await c.sql.query<{ last_run_at: Date | string | null }>(
      `SELECT last_run_at FROM ${leases} WHERE name = $1`,
      [RETENTION_LEASE],
    );
    const at = found.rows[0]?.last_run_at;
    return at ? iso(at) : undefined;
  }

  return {
    async listInFlight(limit, signal) {
      throwIfAborted(signal);
      checkCount(limit, 'limit', 1);
      const result = await c.sql.query<Record<string, unknown>>(
        `SELECT ${IN_FLIGHT_COLUMNS} FROM ${c.tasks}
          WHERE status IN ('claimed','awaiting_agent') ORDER BY updated_at LIMIT $1::int`,
        [Math.min(limit, 500)],
        signal,
      );
      return result.rows.map(toInFlight);
    },

    async queueSnapshot(signal) {
      throwIfAborted(signal);
      const result = await c.sql.query<{ status: string | null; n: number; ready_age: number; finished_age: number }>(
        snapshotStatement(c.tasks),
        [],
        signal,
      );
      const first = result.rows[0];
      return {
        live: liveCounts(result.rows.flatMap((r) => (r.status === null ? [] : [{ status: r.status, n: r.n }]))),
        oldestReadyAgeSeconds: Math.max(0, Number(first?.ready_age ?? 0)),
        oldestFinishedAgeSeconds: Math.max(0, Number(first?.finished_age ?? 0)),
      };
    },

    async pruneFinished(options, signal) {
      throwIfAborted(signal);
      checkCount(options.olderThanMs, 'olderThanMs', 1);
      checkCount(options.batchSize, 'batchSize', 1);
      checkCount(options.maxBatches, 'maxBatches', 1);
      checkCount(options.leaseMs, 'leaseMs', 1);
      // Take the lease when it is free, expired or already ours; another holder means another replica is at it.
      const taken = await c.sql.query(
        `INSERT INTO ${leases} AS l (name, holder, expires_at)
         VALUES ($1, $2, now() + $3::int * interval '1 millisecond')
         ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
          WHERE l.expires_at <= now() OR l.holder = EXCLUDED.holder
         RETURNING holder`,
        [RETENTION_LEASE, options.holder, options.leaseMs],
        signal,
      );
      if (taken.rowCount === 0) {
        return {
          ran: false,
          tasks: 0,
          events: 0,
          batches: 0,
          ...((at) => (at ? { lastRunAt: at } : {}))(await lastRunAt()),
        };
      }
      let tasks = 0;
      let events = 0;
      let batches = 0;
      while (batches < options.maxBatches) {
        throwIfAborted(signal);
        const done = await c.sql.transaction(async (tx) => {
          // Fenced: a holder whose lease was taken over (it stalled past leaseMs) stops here.
          const held = await tx.query(
            `UPDATE ${leases} SET expires_at = now() + $3::int * interval '1 millisecond'
              WHERE name = $1 AND holder = $2`,
            [RETENTION_LEASE, options.holder, options.leaseMs],
          );
          if (held.rowCount === 0) return undefined;
          const batch = await tx.query<{ id: string }>(pruneBatchStatement(c.tasks), [
            options.olderThanMs,
            options.batchSize,
          ]);
          const ids = batch.rows.map((r) => r.id);
          if (ids.length === 0) return { tasks: 0, events: 0 };
          const ev = await tx.query(`DELETE FROM ${c.events} WHERE task_id = ANY($1::text[])`, [ids]);
          const tk = await tx.query(`DELETE FROM ${c.tasks} WHERE id = ANY($1::text[]) AND status IN (${FINISHED})`, [
            ids,
          ]);
          return { tasks: tk.rowCount, events: ev.rowCount };
        }, signal);
        if (!done || done.tasks === 0) break;
        batches += 1;
        tasks += done.tasks;
        events += done.events;
        if (done.tasks < options.batchSize) break;
      }
      // Release the lease (any replica may run next time) and record the run.
      const finished = await c.sql.query<{ last_run_at: Date | string }>(
        `UPDATE ${leases} SET expires_at = now(), last_run_at = now(), last_result = $3::text::jsonb
          WHERE name = $1 AND holder = $2 RETURNING last_run_at`,
        [RETENTION_LEASE, options.holder, JSON.stringify({ tasks, events, batches })],
        signal,
      );
      const at = finished.rows[0]?.last_run_at;
      return { ran: true, tasks, events, batches, ...(at ? { lastRunAt: iso(at) } : {}) };
    },

    async reportReplica(name, startedAt, report, signal) {
      throwIfAborted(signal);
      const result = await c.sql.query<ReplicaRow>(
        `INSERT INTO ${replicas} AS r (name, reported_at, started_at, report)
         VALUES ($1, now(), $2::text::timestamptz, $3::text::jsonb)
         ON CONFLICT (name) DO UPDATE SET reported_at = now(), started_at = EXCLUDED.started_at,
                                          report = EXCLUDED.report
         RETURNING ${replicaColumns}`,
        [name, startedAt, JSON.stringify(report)],
        signal,
      );
      return toReplica(result.rows[0] as ReplicaRow);
    },

    async listReplicas(withinMs, signal) {
      throwIfAborted(signal);
      const result = await c.sql.query<ReplicaRow>(
        `SELECT ${replicaColumns} FROM ${replicas}
          WHERE $1::bigint IS NULL OR reported_at > now() - $1::bigint * interval '1 millisecond'
          ORDER BY reported_at DESC, name LIMIT 200`,
        [withinMs ?? null],
        signal,
      );
      return result.rows.map(toReplica);
    },

    async requestIntake(target, state, actor, signal) {
      throwIfAborted(signal);
      if (state !== 'paused' && state !== 'running') {
        throw new DaemonError(`state must be paused or running, got "${String(state)}"`, {
          code: 'invalid-argument',
          category: 'validation',
          dependency: 'task-store',
        });
      }
      await c.sql.transaction(async (tx) => {
        const changed = await tx.query(
          `UPDATE ${replicas} SET intake_request = $2, intake_request_by = $3, intake_request_at = now()
            WHERE name = $1 OR $1 = '*'`,
          [target, state, actor],
        );
        if (changed.rowCount === 0 && target !== '*') throw replicaNotFound(target);
        await tx.query(`INSERT INTO ${actions} (actor, action, target, detail) VALUES ($1, $2, $3, $4::text::jsonb)`, [
          actor,
          state === 'paused' ? 'pause-intake' : 'resume-intake',
          target,
          JSON.stringify({ replicas: changed.rowCount }),
        ]);
      }, signal);
    },

    async listOperatorActions(limit, signal) {
      throwIfAborted(signal);
      checkCount(limit, 'limit', 1);
      const result = await c.sql.query<{
        id: string | number;
        at: Date | string;
        actor: string;
        action: string;
        target: string;
        detail: unknown;
      }>(`SELECT id, at, actor, action, target, detail FROM ${actions} ORDER BY id DESC LIMIT $1::int`, [
        Math.min(limit, 500),
      ]);
      return result.rows.map((row): OperatorAction => ({
        id: Number(row.id),
        at: iso(row.at),
        actor: row.actor,
        action: row.action,
        target: row.target,
        ...(row.detail && typeof row.detail === 'object' ? { detail: row.detail as Record<string, unknown> } : {}),
      }));
    },
  };
}
