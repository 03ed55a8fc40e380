/**
 * The operators' side of the SQLite task store: the same contract as sql-operations.ts (live-queue snapshot,
 * retention in small batches under a lease, replica reports, intake requests), on SQLite's types. Times are the
 * store's clock (`now()`), as every other write of this store.
 *
 * The snapshot and retention read partial indexes (tasks_claim_idx, whose condition is the live statuses;
 * tasks_finished_idx of migration 3): finished rows are never scanned to count the queue.
 */
import { DaemonError } from '../../../domain/errors.js';
import { throwIfAborted } from '../sql-errors.js';
import { statusList } from '../store-context.js';
import {
  FINISHED_STATUSES,
  IN_FLIGHT_COLUMNS,
  LIVE_STATUSES,
  liveCounts,
  toInFlight,
  type OperatorAction,
  type ReplicaRecord,
  type StoreOperations,
} from '../operations.js';
import { replicaNotFound } from '../sql-operations.js';
import { later, stamp, type SqliteContext } from './context.js';

const LIVE = statusList(LIVE_STATUSES);
const FINISHED = statusList(FINISHED_STATUSES);
const RETENTION_LEASE = 'retention';

type Raw = Record<string, unknown>;

function parseObject(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const parsed = JSON.parse(value) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function toReplica(row: Raw): ReplicaRecord {
  const request = row.intake_request as 'paused' | 'running' | null;
  return {
    name: String(row.name),
    reportedAt: String(row.reported_at),
    ...(row.started_at ? { startedAt: String(row.started_at) } : {}),
    report: parseObject(row.report) ?? {},
    ...(request && row.intake_request_by && row.intake_request_at
      ? { intakeRequest: { state: request, by: String(row.intake_request_by), at: String(row.intake_request_at) } }
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

const ageSeconds = (now: string, since: unknown): number =>
  typeof since === 'string' ? Math.max(0, (Date.parse(now) - Date.parse(since)) / 1000) : 0;

export function createSqliteOperations(c: SqliteContext): StoreOperations {
  const { database } = c;
  return {
    async listInFlight(limit, signal) {
      throwIfAborted(signal);
      checkCount(limit, 'limit', 1);
      const rows = database
        .statement(
          `SELECT ${IN_FLIGHT_COLUMNS} FROM tasks WHERE status IN ('claimed','awaiting_agent') ORDER BY updated_at LIMIT ?`,
        )
        .all(Math.min(limit, 500)) as Raw[];
      return rows.map(toInFlight);
    },

    async queueSnapshot(signal) {
      throwIfAborted(signal);
      return database.read(() => {
        const now = stamp(c);
        const rows = database
          .statement(`SELECT status, count(*) AS n FROM tasks WHERE status IN (${LIVE}) GROUP BY status`)
          .all() as Array<{ status: string; n: number }>;
        const ready = database
          .statement(
            `SELECT min(CASE
                 WHEN status = 'pending' THEN updated_at
                 WHEN status = 'retry' AND (next_run_at IS NULL OR next_run_at <= @now) THEN coalesce(next_run_at, updated_at)
                 WHEN status IN ('claimed','awaiting_agent') AND lease_expires_at < @now THEN lease_expires_at
               END) AS since
               FROM tasks WHERE status IN (${LIVE})`,
          )
          .get({ now }) as { since: string | null };
        const finished = database
          .statement(`SELECT min(completed_at) AS since FROM tasks WHERE status IN (${FINISHED})`)
          .get() as { since: string | null };
        return {
          live: liveCounts(rows),
          oldestReadyAgeSeconds: ageSeconds(now, ready.since),
          oldestFinishedAgeSeconds: ageSeconds(now, finished.since),
        };
      });
    },

    async pruneFinished(options, signal) {
      throwIfAborted(signal);
      checkCount(options.olderThanMs, 'olderThanMs', 1);
      checkCount(options.batchSize, 'batchSize', 1);
      checkCount(options.maxBatches, 'maxBatches', 1);
      checkCount(options.leaseMs, 'leaseMs', 1);
      const holdLease = (): boolean =>
        database.write(() => {
          const now = stamp(c);
          const row = database
            .statement(
              `INSERT INTO maintenance_leases AS l (name, holder, expires_at) VALUES (@name, @holder, @until)
               ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                WHERE l.expires_at <= @now OR l.holder = excluded.holder
               RETURNING holder`,
            )
            .get({ name: RETENTION_LEASE, holder: options.holder, until: later(now, options.leaseMs), now });
          return row !== undefined;
        });
      const lastRunAt = (): string | undefined => {
        const row = database
          .statement('SELECT last_run_at FROM maintenance_leases WHERE name = ?')
          .get(RETENTION_LEASE) as { last_run_at: string | null } | undefined;
        return row?.last_run_at ?? undefined;
      };
      if (!holdLease()) {
        const at = lastRunAt();
        return { ran: false, tasks: 0, events: 0, batches: 0, ...(at ? { lastRunAt: at } : {}) };
      }
      let tasks = 0;
      let events = 0;
      let batches = 0;
      while (batches < options.maxBatches) {
        throwIfAborted(signal);
        const done = database.write(() => {
          const now = stamp(c);
          const held = database
            .statement('UPDATE maintenance_leases SET expires_at = ? WHERE name = ? AND holder = ?')
            .run(later(now, options.leaseMs), RETENTION_LEASE, options.holder);
          if (held.changes === 0) return undefined;
          const cutoff = later(now, -options.olderThanMs);
          const ids = (
            database
              .statement(
                `SELECT id FROM tasks WHERE status IN (${FINISHED}) AND completed_at < ? ORDER BY completed_at LIMIT ?`,
              )
              .all(cutoff, options.batchSize) as Array<{ id: string }>
          ).map((r) => r.id);
          if (ids.length === 0) return { tasks: 0, events: 0 };
          const list = JSON.stringify(ids);
          const ev = database
            .statement('DELETE FROM task_events WHERE task_id IN (SELECT value FROM json_each(?))')
            .run(list);
          const tk = database
            .statement(`DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(?)) AND status IN (${FINISHED})`)
            .run(list);
          return { tasks: tk.changes, events: ev.changes };
        });
        if (!done || done.tasks === 0) break;
        batches += 1;
        tasks += done.tasks;
        events += done.events;
        if (done.tasks < options.batchSize) break;
      }
      const at = database.write(() => {
        const now = stamp(c);
        const row = database
          .statement(
            `UPDATE maintenance_leases SET expires_at = @now, last_run_at = @now, last_result = @result
              WHERE name = @name AND holder = @holder RETURNING last_run_at`,
          )
          .get({
            now,
            result: JSON.stringify({ tasks, events, batches }),
            name: RETENTION_LEASE,
            holder: options.holder,
          }) as { last_run_at: string } | undefined;
        return row?.last_run_at;
      });
      return { ran: true, tasks, events, batches, ...(at ? { lastRunAt: at } : {}) };
    },

    async reportReplica(name, startedAt, report, signal) {
      throwIfAborted(signal);
      return database.write(() => {
        const row = database
          .statement(
            `INSERT INTO replicas (name, reported_at, started_at, report) VALUES (@name, @now, @startedAt, @report)
             ON CONFLICT (name) DO UPDATE SET reported_at = excluded.reported_at, started_at = excluded.started_at,
                                              report = excluded.report
             RETURNING *`,
          )
          .get({ name, now: stamp(c), startedAt, report: JSON.stringify(report) }) as Raw;
        return toReplica(row);
      });
    },

    async listReplicas(withinMs, signal) {
      throwIfAborted(signal);
      const since = withinMs === undefined ? '' : later(stamp(c), -withinMs);
      const rows = database
        .statement('SELECT * FROM replicas WHERE reported_at > ? ORDER BY reported_at DESC, name LIMIT 200')
        .all(since) as Raw[];
      return rows.map(toReplica);
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
      database.write(() => {
        const now = stamp(c);
        const changed = database
          .statement(
            `UPDATE replicas SET intake_request = @state, intake_request_by = @actor, intake_request_at = @now
              WHERE name = @target OR @target = '*'`,
          )
          .run({ state, actor, now, target });
        if (changed.changes === 0 && target !== '*') throw replicaNotFound(target);
        database
          .statement('INSERT INTO operator_actions (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)')
          .run(
            now,
            actor,
            state === 'paused' ? 'pause-intake' : 'resume-intake',
            target,
            JSON.stringify({ replicas: changed.changes }),
          );
      });
    },

    async listOperatorActions(limit, signal) {
      throwIfAborted(signal);
      checkCount(limit, 'limit', 1);
      const rows = database
        .statement('SELECT * FROM operator_actions ORDER BY id DESC LIMIT ?')
        .all(Math.min(limit, 500)) as Raw[];
      return rows.map((row): OperatorAction => {
        const detail = parseObject(row.detail);
        return {
          id: Number(row.id),
          at: String(row.at),
          actor: String(row.actor),
          action: String(row.action),
          target: String(row.target),
          ...(detail ? { detail } : {}),
        };
      });
    },
  };
}
