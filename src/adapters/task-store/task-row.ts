/**
 * Rows of the tasks and task_events tables, and how they become domain values. Mapping is lenient on purpose:
 * a row written by another tool (labels not a list, an unknown type) passes through as it is, without throwing,
 * so claim and list keep working and the daemon's validate step (validateStoredTask) can fail that task with a
 * validation error. Drivers differ (pg: int8 as string; PGlite: as number), so numbers and dates are coerced.
 * No Node-only imports: this runs in the Task API's Worker too.
 */
import { DaemonError } from '../../domain/errors.js';
import type { Lease, Task, TaskCheckpoint, TaskStatus } from '../../domain/task.js';
import type { TaskEvent } from '../../pipeline/ports.js';

/** The columns every task query returns, for a table aliased `alias`. */
export function taskColumns(alias: string): string {
  const a = alias;
  return [
    'id',
    'title',
    'description',
    'type',
    'priority',
    'labels',
    'repository',
    'context',
    'status',
    'attempts',
    'max_attempts',
    'next_run_at',
    'lease_owner',
    'lease_expires_at',
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
    'run_intent',
    'run_intent_at',
    'lease_expiries',
    'started_at',
    'dedupe_key',
    'created_at',
    'updated_at',
  ]
    .map((c) => `${a}.${c}`)
    .concat([
      `${a}.lease_token::text AS lease_token`,
      // Microsecond-exact sort key for keyset pages: a JS Date would drop the microseconds.
      `to_char(${a}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at`,
      `${a}.seq::text AS cursor_seq`,
    ])
    .join(', ');
}

/** A tasks row as the drivers return it; anything may be malformed. */
export type TaskRow = Record<string, unknown>;

function iso(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}

function num(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function text(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}

function checkpointOf(row: TaskRow): TaskCheckpoint {
  const checkpoint: TaskCheckpoint = {};
  const runId = num(row.agent_run_id);
  if (runId !== undefined) checkpoint.agentRunId = runId;
  if (row.agent_run_url != null) checkpoint.agentRunUrl = String(row.agent_run_url);
  const prNumber = num(row.pr_number);
  if (row.pr_url != null && prNumber !== undefined) {
    checkpoint.pr = { url: String(row.pr_url), number: prNumber, branch: text(row.pr_branch) ?? '' };
    const state = row.pr_state;
    if (state === 'open' || state === 'merged' || state === 'closed') checkpoint.pr.state = state;
  }
  const intentAt = iso(row.run_intent_at);
  if (row.run_intent != null && intentAt) checkpoint.runIntent = { nonce: String(row.run_intent), at: intentAt };
  return checkpoint;
}

/** A row as a Task. Fields keep their stored shape (see the file comment); absent optionals are left out. */
export function rowToTask(row: TaskRow): Task {
  const task = {
    id: String(row.id),
    title: row.title,
    description: row.description,
    type: row.type,
    priority: row.priority,
    labels: row.labels,
    status: row.status as TaskStatus,
    attempts: num(row.attempts) ?? 0,
    maxAttempts: num(row.max_attempts) ?? 0,
    checkpoint: checkpointOf(row),
    createdAt: iso(row.created_at) ?? '',
    updatedAt: iso(row.updated_at) ?? '',
  } as Task;
  if (row.repository != null) task.repository = row.repository as string;
  if (row.context != null) task.context = row.context as Record<string, unknown>;
  if (row.dedupe_key != null) task.dedupeKey = String(row.dedupe_key);
  const nextRunAt = iso(row.next_run_at);
  if (nextRunAt) task.nextRunAt = nextRunAt;
  if (row.error_code != null) {
    task.lastError = {
      category: text(row.error_category) ?? 'unknown',
      code: String(row.error_code),
      message: text(row.error_message) ?? '',
    };
  }
  if (Array.isArray(row.feedback) && row.feedback.length > 0) task.feedback = row.feedback;
  const startedAt = iso(row.started_at);
  if (startedAt) task.startedAt = startedAt;
  const expiries = num(row.lease_expiries);
  if (expiries) task.leaseExpiries = expiries;
  return task;
}

/** The lease a claimed row carries. */
export function rowToLease(row: TaskRow): Lease {
  return {
    owner: text(row.lease_owner) ?? '',
    token: text(row.lease_token) ?? '',
    expiresAt: iso(row.lease_expires_at) ?? '',
  };
}

/** A task_events row as a TaskEvent. */
export function rowToEvent(row: TaskRow): TaskEvent {
  const event: TaskEvent = {
    id: num(row.id) ?? 0,
    taskId: String(row.task_id),
    at: iso(row.at) ?? '',
    actor: String(row.actor),
    kind: String(row.kind),
  };
  if (row.from_status != null) event.fromStatus = row.from_status as TaskStatus;
  if (row.to_status != null) event.toStatus = row.to_status as TaskStatus;
  if (row.detail != null && typeof row.detail === 'object') event.detail = row.detail as Record<string, unknown>;
  return event;
}

// Cursors are opaque to callers: base64url of JSON [created_at with microseconds, seq]. btoa/atob exist in
// Node and in Workers alike; every character in the JSON is ASCII.

/** The cursor that resumes a listing after `row`. */
export function encodeCursor(row: TaskRow): string {
  const json = JSON.stringify([row.cursor_at, row.cursor_seq]);
  return btoa(json).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const CURSOR_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?Z$/;
const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** A UTC time as encodeCursor writes it, and a real one: PostgreSQL refuses month 13 or February 30 with an error. */
function isCursorTime(value: unknown): value is string {
  const m = typeof value === 'string' ? CURSOR_TIME.exec(value) : null;
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Year 0 does not exist in PostgreSQL; Date.UTC maps years below 100 to 19xx, so compare the year as well.
  return (
    year >= 1 &&
    date.getUTCFullYear() === (year < 100 ? 1900 + year : year) &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  );
}

/** A row's seq: a bigint, so at most 2^63-1. */
function isCursorSeq(value: unknown): value is string {
  return typeof value === 'string' && /^\d{1,19}$/.test(value) && BigInt(value) <= MAX_BIGINT;
}

/** Decode a cursor; a cursor not made by encodeCursor is refused with code `invalid-cursor`. */
export function decodeCursor(cursor: string): { at: string; seq: string } {
  try {
    const json = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
    const value: unknown = JSON.parse(json);
    if (Array.isArray(value) && value.length === 2 && isCursorTime(value[0]) && isCursorSeq(value[1])) {
      return { at: value[0], seq: value[1] };
    }
  } catch {
    // fall through to the refusal below
  }
  throw new DaemonError('invalid page cursor: pass nextCursor from a previous page unchanged', {
    code: 'invalid-cursor',
    category: 'validation',
    dependency: 'task-store',
  });
}
