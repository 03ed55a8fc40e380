/**
 * What the SQL task store's halves share: the client, the qualified table names, and the helpers that write
 * history rows and diagnose a refused write. No Node-only imports (the Task API runs this in a Worker).
 */
import { DaemonError, staleLeaseError } from '../../domain/errors.js';
import { TASK_STATUSES, type TaskStatus } from '../../domain/task.js';
import type { SqlClient } from './sql.js';
import { taskNotFoundError } from './sql-errors.js';
import { taskColumns } from './task-row.js';

export interface StoreContext {
  sql: SqlClient;
  /** Qualified table names, e.g. "codegen_pr".tasks. */
  tasks: string;
  events: string;
  /** taskColumns('t'): the select list of every task query (tables aliased `t`). */
  columns: string;
  now: () => Date;
  defaultMaxAttempts: number;
}

export function createContext(sql: SqlClient, schema: string, now: () => Date, defaultMaxAttempts: number) {
  const context: StoreContext = {
    sql,
    tasks: `${schema}.tasks`,
    events: `${schema}.task_events`,
    columns: taskColumns('t'),
    now,
    defaultMaxAttempts,
  };
  return context;
}

/**
 * `'a','b'` for `status IN (...)`. Statuses come from code, never from callers, and are checked against the
 * known list anyway, so inlining them is safe (and avoids array parameters, which drivers encode differently).
 */
export function statusList(statuses: readonly TaskStatus[]): string {
  if (statuses.length === 0) throw new Error('statusList needs at least one status');
  return statuses
    .map((status) => {
      if (!TASK_STATUSES.includes(status)) throw new Error(`unknown status ${status}`);
      return `'${status}'`;
    })
    .join(',');
}

export interface EventInput {
  taskId: string;
  actor: string;
  kind: string;
  from?: TaskStatus | null;
  to?: TaskStatus | null;
  detail?: Record<string, unknown>;
}

/** Append one history row; call it on the transaction that made the change. */
export async function insertEvent(tx: SqlClient, events: string, event: EventInput): Promise<void> {
  await tx.query(
    `INSERT INTO ${events} (task_id, actor, kind, from_status, to_status, detail)
     VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)`,
    [
      event.taskId,
      event.actor,
      event.kind,
      event.from ?? null,
      event.to ?? null,
      event.detail === undefined ? null : JSON.stringify(event.detail),
    ],
  );
}

/**
 * Why a guarded UPDATE matched no row: the task is missing (task-not-found), the caller's token is not the
 * current one (stale-lease), or the task is in a status the write may not start from (invalid-transition).
 * Pass `token` only for leased writes.
 */
export async function explainRefusal(
  tx: SqlClient,
  context: StoreContext,
  taskId: string,
  action: string,
  token?: string,
): Promise<DaemonError> {
  const found = await tx.query<{ status: string; token: string | null }>(
    `SELECT status, lease_token::text AS token FROM ${context.tasks} WHERE id = $1`,
    [taskId],
  );
  const row = found.rows[0];
  if (!row) return taskNotFoundError(taskId);
  if (token !== undefined && row.token !== token) return staleLeaseError(taskId);
  return new DaemonError(`task ${taskId} is ${row.status}: cannot ${action}`, {
    code: 'invalid-transition',
    category: 'conflict',
    dependency: 'task-store',
  });
}
