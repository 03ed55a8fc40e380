/**
 * The people's side of the SQLite task store: adding, reading, listing, retrying, cancelling, feedback, PR state
 * and counts. The same contract as sql-task-admin.ts: state changes write their history row in the same
 * transaction, listing is newest first with keyset pages behind an opaque cursor, and one duplicate id refuses
 * a whole batch.
 */
import { DaemonError, DuplicateTaskError } from '../../../domain/errors.js';
import { canTransition, sourcesOf } from '../../../domain/task-state.js';
import { batchProblems, validateNewTask } from '../../../domain/task-validation.js';
import { TASK_PRIORITIES, TASK_STATUSES, type NewTask, type Task, type TaskStatus } from '../../../domain/task.js';
import type { TaskStore } from '../../../pipeline/ports.js';
import { taskExistsError, taskNotFoundError, throwIfAborted } from '../sql-errors.js';
import { invalidBatch } from '../sql-task-admin.js';
import { decodeCursor, encodeCursor, rowToEvent, rowToTask } from '../task-row.js';
import {
  decodeEvent,
  decodeTask,
  explainRefusal,
  insertEvent,
  newTaskId,
  selectTask,
  stamp,
  updateTask,
  type SqliteContext,
} from './context.js';
import type { SqliteLeasedOps } from './leased-writes.js';
import { noteSqliteSighting } from './sightings.js';

type AdminOps = Omit<TaskStore, keyof SqliteLeasedOps | 'ping' | 'close'>;
type Raw = Record<string, unknown>;

const PERSON_RETRY_FROM: TaskStatus[] = (['failed', 'cancelled'] as const).filter((s) => canTransition(s, 'pending'));

function invalidArgument(message: string): DaemonError {
  return new DaemonError(message, { code: 'invalid-argument', category: 'validation', dependency: 'task-store' });
}

export function createSqliteAdminOps(c: SqliteContext): AdminOps {
  /** A guarded state change without a lease, with its history row; throws the refusal. */
  function guardedChange(
    taskId: string,
    actor: string,
    from: TaskStatus[],
    action: string,
    kind: string,
    changes: (at: string) => Record<string, unknown>,
    detail?: (prev: Raw) => Record<string, unknown> | undefined,
  ): Task {
    return c.database.write(() => {
      const at = stamp(c);
      const prev = selectTask(c, taskId);
      if (!prev || !from.includes(prev.status as TaskStatus)) throw explainRefusal(prev, taskId, action);
      const row = updateTask(c, taskId, { ...changes(at), updated_at: at });
      const extra = detail?.(prev);
      insertEvent(c, at, {
        taskId,
        actor,
        kind,
        from: prev.status as TaskStatus,
        to: row.status as TaskStatus,
        ...(extra ? { detail: extra } : {}),
      });
      return rowToTask(row);
    });
  }

  /** The live task holding `key`, other than `exceptId`. */
  function liveHolder(key: string, exceptId?: string): string | undefined {
    const row = c.database
      .statement(
        `SELECT id FROM tasks WHERE dedupe_key = ? AND status IN ('pending','retry','claimed','awaiting_agent')
            AND id IS NOT ? LIMIT 1`,
      )
      .get(key, exceptId ?? null) as { id: string } | undefined;
    return row ? String(row.id) : undefined;
  }

  function insertTask(task: NewTask, actor: string, at: string): Task {
    const row = c.database
      .statement(
        `INSERT INTO tasks (id, title, description, type, priority, labels, repository, context, max_attempts,
                            dedupe_key, created_at, updated_at)
         VALUES (@id, @title, @description, @type, @priority, @labels, @repository, @context, @maxAttempts,
                 @dedupeKey, @at, @at)
         ON CONFLICT DO NOTHING
         RETURNING *`,
      )
      .get({
        id: task.id ?? newTaskId(),
        title: task.title,
        description: task.description,
        type: task.type ?? 'default',
        priority: task.priority ?? 'medium',
        labels: JSON.stringify(task.labels ?? []),
        repository: task.repository ?? null,
        context: task.context === undefined ? null : JSON.stringify(task.context),
        maxAttempts: task.maxAttempts ?? c.defaultMaxAttempts,
        dedupeKey: task.dedupeKey ?? null,
        at,
      }) as Raw | undefined;
    if (!row) {
      // Either unique index refused it: a live task's dedupe key, or the id.
      const holder = task.dedupeKey === undefined ? undefined : liveHolder(task.dedupeKey);
      if (holder !== undefined) throw new DuplicateTaskError(holder, task.dedupeKey);
      throw taskExistsError(task.id ?? '(generated id)');
    }
    insertEvent(c, at, { taskId: String(row.id), actor, kind: 'created', to: 'pending' });
    return rowToTask(decodeTask(row));
  }

  return {
    async addTasks(tasks, actor = 'system', signal) {
      throwIfAborted(signal);
      const checked = tasks.map((task) => validateNewTask(task));
      const problems = checked.flatMap((r, i) =>
        r.ok ? [] : r.errors.map((e) => `tasks[${i}].${e.field} ${e.message}`),
      );
      if (problems.length > 0) {
        throw new DaemonError(`invalid task: ${problems.join('; ')}`, { code: 'invalid-task', category: 'validation' });
      }
      const valid = checked.flatMap((r) => (r.ok ? [r.task] : []));
      const repeated = batchProblems(valid);
      if (repeated.length > 0) throw invalidBatch(repeated);
      // All or nothing: one duplicate id or live dedupe key refuses the whole batch (the throw rolls it back).
      return c.database.write(() => {
        const at = stamp(c);
        return valid.map((task) => insertTask(task, actor, at));
      });
    },

    async getTask(taskId, signal) {
      throwIfAborted(signal);
      const row = selectTask(c, taskId);
      return row ? rowToTask(decodeTask(row)) : undefined;
    },

    async getTaskHistory(taskId, signal) {
      throwIfAborted(signal);
      const rows = c.database.statement('SELECT * FROM task_events WHERE task_id = ? ORDER BY id').all(taskId);
      return (rows as Raw[]).map((row) => rowToEvent(decodeEvent(row)));
    },

    /** Newest first; keyset pages on (created_at, seq), so concurrent inserts never shift a page. */
    async listTasks(filter, signal) {
      throwIfAborted(signal);
      const limit = filter.limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
        throw invalidArgument(`limit must be a whole number from 1 to 500, got ${limit}`);
      }
      const where: string[] = [];
      const params: Record<string, unknown> = { limit: limit + 1 };
      if (filter.status !== undefined) {
        if (!TASK_STATUSES.includes(filter.status)) throw invalidArgument(`unknown status "${filter.status}"`);
        where.push('status = @status');
        params.status = filter.status;
      }
      if (filter.priority !== undefined) {
        if (!TASK_PRIORITIES.includes(filter.priority)) throw invalidArgument(`unknown priority "${filter.priority}"`);
        where.push('priority = @priority');
        params.priority = filter.priority;
      }
      if (filter.repository !== undefined) {
        where.push('repository = @repository');
        params.repository = filter.repository;
      }
      if (filter.cursor !== undefined) {
        const { at, seq } = decodeCursor(filter.cursor);
        where.push('(created_at, seq) < (@cursorAt, @cursorSeq)');
        // The stored form, whatever precision the cursor's time was written with.
        params.cursorAt = new Date(at).toISOString();
        params.cursorSeq = BigInt(seq);
      }
      const rows = c.database
        .statement(
          `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
            ORDER BY created_at DESC, seq DESC LIMIT @limit`,
        )
        .all(params) as Raw[];
      const page = rows.slice(0, limit).map(decodeTask);
      const last = page[page.length - 1];
      return {
        tasks: page.map(rowToTask),
        ...(rows.length > limit && last ? { nextCursor: encodeCursor(last) } : {}),
      };
    },

    async retryTask(taskId, actor = 'system', signal) {
      throwIfAborted(signal);
      // A fresh start: attempts, lost workers and the deadline reset, lease gone; the checkpoint (run, run intent,
      // PR) stays so an opened PR is not opened twice and a run already asked for is found again.
      // Its dedupe key may have gone to a newer task meanwhile: two live tasks may not share one.
      return c.database.write(() => {
        const key = selectTask(c, taskId)?.dedupe_key;
        const holder = typeof key === 'string' ? liveHolder(key, taskId) : undefined;
        if (holder !== undefined) throw new DuplicateTaskError(holder, String(key));
        return guardedChange(
          taskId,
          actor,
          PERSON_RETRY_FROM,
          'retry it (only failed or cancelled)',
          'retried',
          () => ({
            status: 'pending',
            attempts: 0,
            next_run_at: null,
            completed_at: null,
            lease_owner: null,
            lease_token: null,
            lease_expires_at: null,
            lease_expiries: 0,
            started_at: null,
          }),
        );
      });
    },

    async cancelTask(taskId, actor = 'system', signal) {
      throwIfAborted(signal);
      // Clearing the token makes every later write by a worker still holding the task a stale-lease refusal.
      return guardedChange(
        taskId,
        actor,
        sourcesOf('cancelled'),
        'cancel it',
        'cancelled',
        (at) => ({
          status: 'cancelled',
          completed_at: at,
          next_run_at: null,
          lease_owner: null,
          lease_token: null,
          lease_expires_at: null,
        }),
        (prev) => (prev.lease_owner != null ? { previousOwner: prev.lease_owner } : undefined),
      );
    },

    async addFeedback(taskId, feedback, actor = 'system', signal) {
      throwIfAborted(signal);
      if (typeof feedback !== 'object' || feedback === null || Array.isArray(feedback)) {
        throw invalidArgument('feedback must be an object');
      }
      return c.database.write(() => {
        const at = stamp(c);
        // `at` stamps when the feedback arrived, unless the caller dated it.
        const entry = { at, ...feedback };
        const prev = selectTask(c, taskId);
        if (!prev) throw taskNotFoundError(taskId);
        const current = decodeTask(prev).feedback;
        const list = Array.isArray(current) ? [...(current as unknown[]), entry] : [entry];
        const row = updateTask(c, taskId, { feedback: JSON.stringify(list), updated_at: at });
        insertEvent(c, at, { taskId, actor, kind: 'feedback-added', detail: entry });
        return rowToTask(row);
      });
    },

    async noteAgentRun(taskId, sighting, signal) {
      throwIfAborted(signal);
      return c.database.write(() => noteSqliteSighting(c, taskId, sighting));
    },

    async updatePullRequestState(taskId, state, signal) {
      throwIfAborted(signal);
      if (!['open', 'merged', 'closed'].includes(state)) throw invalidArgument(`unknown PR state "${String(state)}"`);
      c.database.write(() => {
        const prev = selectTask(c, taskId);
        if (!prev) throw taskNotFoundError(taskId);
        if (prev.pr_url === null) {
          throw new DaemonError(`task ${taskId} has no pull request recorded`, {
            code: 'no-pull-request',
            category: 'conflict',
            dependency: 'task-store',
          });
        }
        if (prev.pr_state === state) return;
        const at = stamp(c);
        updateTask(c, taskId, { pr_state: state, updated_at: at });
        insertEvent(c, at, {
          taskId,
          actor: 'system',
          kind: 'pr-state-changed',
          detail: { from: prev.pr_state, to: state },
        });
      });
    },

    async countByStatus(signal) {
      throwIfAborted(signal);
      const rows = c.database.statement('SELECT status, count(*) AS n FROM tasks GROUP BY status').all() as Array<{
        status: TaskStatus;
        n: number;
      }>;
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    },
  };
}
