/**
 * What the SQLite store's halves share: the database, the one clock, and the helpers that read and write a task
 * row, append a history row and explain a refused write. Rows leave here in the shape task-row.ts maps for the
 * PostgreSQL store too (JSON parsed, cursor fields added), so both stores hand out identical Task values.
 *
 * Time: every time the store writes (leases, retries, row stamps, history) comes from `now()`, read once per
 * transaction as PostgreSQL's now() is. Tests move time by writing earlier times into rows, never by sleeping.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DaemonError, staleLeaseError } from '../../../domain/errors.js';
import type { TaskStatus } from '../../../domain/task.js';
import { taskNotFoundError } from '../sql-errors.js';
import type { TaskRow } from '../task-row.js';
import type { SqliteDatabase } from './database.js';

export interface SqliteContext {
  database: SqliteDatabase;
  /** The store's clock. */
  now: () => Date;
  defaultMaxAttempts: number;
}

/** The time of this transaction, as stored (ISO-8601 UTC with milliseconds; sorts as text). */
export function stamp(c: SqliteContext): string {
  return c.now().toISOString();
}

/** `at` plus `ms` milliseconds, as stored. */
export function later(at: string, ms: number): string {
  return new Date(Date.parse(at) + ms).toISOString();
}

/**
 * A caller's timestamp (an ISO-8601 string with any offset) in the stored form. Refused like PostgreSQL refuses a
 * bad timestamptz: code task-store-rejected, category validation, naming the field.
 */
export function toStoredTime(value: string, field: string): string {
  const ms = Date.parse(value);
  const date = new Date(ms);
  if (Number.isNaN(ms) || date.getUTCFullYear() < 1 || date.getUTCFullYear() > 9999) {
    throw new DaemonError(`task store: ${field} "${value}" is not a timestamp between years 1 and 9999`, {
      code: 'task-store-rejected',
      category: 'validation',
      dependency: 'task-store',
    });
  }
  return date.toISOString();
}

/** A new fencing token. */
export function newToken(): string {
  return randomUUID();
}

/** The id of a task added without one: the PostgreSQL store's shape, t- and 16 hex digits. */
export function newTaskId(): string {
  return `t-${randomBytes(8).toString('hex')}`;
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    // Written by another tool and not JSON: pass it on as it is, for validateStoredTask to name.
    return value;
  }
}

/** A raw tasks row as the shared row mapping expects it. */
export function decodeTask(raw: Record<string, unknown>): TaskRow {
  return {
    ...raw,
    labels: parseJson(raw.labels),
    context: raw.context === null ? null : parseJson(raw.context),
    feedback: parseJson(raw.feedback),
    cursor_at: raw.created_at,
    cursor_seq: String(raw.seq),
  };
}

/** A raw task_events row with its detail parsed. */
export function decodeEvent(raw: Record<string, unknown>): TaskRow {
  return { ...raw, detail: raw.detail === null ? null : parseJson(raw.detail) };
}

/** The task's row, undecoded, or undefined. */
export function selectTask(c: SqliteContext, taskId: string): Record<string, unknown> | undefined {
  return c.database.statement('SELECT * FROM tasks WHERE id = ?').get(taskId) as Record<string, unknown> | undefined;
}

/** Columns the store writes; names are checked against it before they are put into SQL text. */
const WRITABLE = new Set([
  'status',
  'attempts',
  'max_attempts',
  'next_run_at',
  'lease_owner',
  'lease_token',
  'lease_expires_at',
  'lease_expiries',
  'started_at',
  'run_intent',
  'run_intent_at',
  'agent_run_id',
  'agent_run_url',
  'pr_url',
  'pr_number',
  'pr_branch',
  'pr_state',
  'error_category',
  'error_code',
  'error_message',
  'feedback',
  'updated_at',
  'completed_at',
]);

/** Set `changes` on the task and return the decoded row. Column names come from code, never from callers. */
export function updateTask(c: SqliteContext, taskId: string, changes: Record<string, unknown>): TaskRow {
  const columns = Object.keys(changes);
  for (const column of columns) if (!WRITABLE.has(column)) throw new Error(`not a writable column: ${column}`);
  const sql = `UPDATE tasks SET ${columns.map((col) => `${col} = @${col}`).join(', ')} WHERE id = @id RETURNING *`;
  const row = c.database.statement(sql).get({ ...changes, id: taskId }) as Record<string, unknown> | undefined;
  if (!row) throw taskNotFoundError(taskId);
  return decodeTask(row);
}

export interface SqliteEventInput {
  taskId: string;
  actor: string;
  kind: string;
  from?: TaskStatus | null;
  to?: TaskStatus | null;
  detail?: Record<string, unknown>;
}

/** Append one history row, inside the transaction that made the change. */
export function insertEvent(c: SqliteContext, at: string, event: SqliteEventInput): void {
  c.database
    .statement(
      `INSERT INTO task_events (task_id, at, actor, kind, from_status, to_status, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      event.taskId,
      at,
      event.actor,
      event.kind,
      event.from ?? null,
      event.to ?? null,
      event.detail === undefined ? null : JSON.stringify(event.detail),
    );
}

/**
 * Why a guarded write did not apply: the task is missing (task-not-found), the caller's token is not the current
 * one (stale-lease), or the task is in a status the write may not start from (invalid-transition). Pass `token`
 * only for leased writes. The same answers, in the same order, as the PostgreSQL store's explainRefusal.
 */
export function explainRefusal(
  row: Record<string, unknown> | undefined,
  taskId: string,
  action: string,
  token?: string,
): DaemonError {
  if (!row) return taskNotFoundError(taskId);
  if (token !== undefined && row.lease_token !== token) return staleLeaseError(taskId);
  return new DaemonError(`task ${taskId} is ${String(row.status)}: cannot ${action}`, {
    code: 'invalid-transition',
    category: 'conflict',
    dependency: 'task-store',
  });
}
