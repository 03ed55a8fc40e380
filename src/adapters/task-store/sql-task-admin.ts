/**
 * The people's side of the SQL task store: adding, reading, listing, retrying, cancelling, feedback and
 * counts. Writes that change state run their guarded UPDATE and history row in one short transaction.
 * No Node-only imports (the Task API runs this in a Worker).
 */
import { DaemonError, DuplicateTaskError } from '../../domain/errors.js';
import { canTransition, LIVE_STATUSES, sourcesOf } from '../../domain/task-state.js';
import { batchProblems, validateNewTask, type FieldError } from '../../domain/task-validation.js';
import { TASK_PRIORITIES, TASK_STATUSES, type NewTask, type Task, type TaskStatus } from '../../domain/task.js';
import type { TaskStore } from '../../pipeline/ports.js';
import type { LeasedOps } from './sql-leased-writes.js';
import { taskExistsError, taskNotFoundError, throwIfAborted } from './sql-errors.js';
import { explainRefusal, insertEvent, statusList, type StoreContext } from './store-context.js';
import { decodeCursor, encodeCursor, rowToEvent, rowToTask, type TaskRow } from './task-row.js';
import { noteSighting } from './sql-sightings.js';

type AdminOps = Omit<TaskStore, keyof LeasedOps | 'ping' | 'close'>;

const PERSON_RETRY_FROM: TaskStatus[] = (['failed', 'cancelled'] as const).filter((s) => canTransition(s, 'pending'));

function invalidArgument(message: string): DaemonError {
  return new DaemonError(message, { code: 'invalid-argument', category: 'validation', dependency: 'task-store' });
}

/** A batch that repeats a dedupe key, refused as a whole like any invalid task. */
export function invalidBatch(problems: FieldError[]): DaemonError {
  return new DaemonError(`invalid task: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, {
    code: 'invalid-task',
    category: 'validation',
  });
}

export function createAdminOps(c: StoreContext): AdminOps {
  /** A guarded state change without a lease; returns the row with `prev_status`, or throws the refusal. */
  async function guardedUpdate(
    tx: StoreContext['sql'],
    taskId: string,
    from: TaskStatus[],
    set: string,
    action: string,
  ): Promise<TaskRow> {
    const result = await tx.query<TaskRow>(
      `UPDATE ${c.tasks} t SET ${set}, updated_at = now()
         FROM (SELECT id, status AS prev_status, lease_owner AS prev_owner FROM ${c.tasks} WHERE id = $1 FOR UPDATE) p
        WHERE t.id = p.id AND t.status IN (${statusList(from)})
        RETURNING p.prev_status, p.prev_owner, ${c.columns}`,
      [taskId],
    );
    const row = result.rows[0];
    if (row) return row;
    throw await explainRefusal(tx, c, taskId, action);
  }

  /** The live task holding `key`, other than `exceptId`. */
  async function liveHolder(tx: StoreContext['sql'], key: string, exceptId?: string): Promise<string | undefined> {
    const found = await tx.query<{ id: string }>(
      `SELECT id FROM ${c.tasks} WHERE dedupe_key = $1 AND status IN (${statusList(LIVE_STATUSES)})
          AND ($2::text IS NULL OR id <> $2::text)`,
      [key, exceptId ?? null],
    );
    return found.rows[0] ? String(found.rows[0].id) : undefined;
  }

  async function insertTask(tx: StoreContext['sql'], task: NewTask, actor: string): Promise<Task> {
    // Any unique index may refuse the row: the id, or a live task's dedupe key. A concurrent add of either
    // waits here for the other transaction and then sees its row, so two adds cannot both win.
    const params = [
      task.id ?? null,
      task.title,
      task.description,
      task.type ?? 'default',
      task.priority ?? 'medium',
      JSON.stringify(task.labels ?? []),
      task.repository ?? null,
      task.context === undefined ? null : JSON.stringify(task.context),
      task.maxAttempts ?? c.defaultMaxAttempts,
      task.dedupeKey ?? null,
    ];
    // A refusal whose cause is gone by the time it is looked up (the key's holder just finished) is tried again.
    for (let attempt = 1; ; attempt++) {
      const result = await tx.query<TaskRow>(
        `INSERT INTO ${c.tasks} AS t (id, title, description, type, priority, labels, repository, context,
                                      max_attempts, dedupe_key)
         VALUES (COALESCE($1, 't-' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 16)),
                 $2, $3, $4, $5, $6::text::jsonb, $7, $8::text::jsonb, $9::int, $10::text)
         ON CONFLICT DO NOTHING
         RETURNING ${c.columns}`,
        params,
      );
      const row = result.rows[0];
      if (row) {
        await insertEvent(tx, c.events, { taskId: String(row.id), actor, kind: 'created', to: 'pending' });
        return rowToTask(row);
      }
      const holder = task.dedupeKey === undefined ? undefined : await liveHolder(tx, task.dedupeKey);
      if (holder !== undefined) throw new DuplicateTaskError(holder, task.dedupeKey);
      const exists = attempt >= 3 || (task.id !== undefined && (await taskExists(tx, task.id)));
      if (exists) throw taskExistsError(task.id ?? '(generated id)');
    }
  }

  async function taskExists(tx: StoreContext['sql'], taskId: string): Promise<boolean> {
    const found = await tx.query(`SELECT 1 FROM ${c.tasks} WHERE id = $1`, [taskId]);
    return found.rows.length > 0;
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
      // All or nothing: one duplicate id or live dedupe key refuses the whole batch.
      return c.sql.transaction(async (tx) => {
        const added: Task[] = [];
        for (const task of valid) added.push(await insertTask(tx, task, actor));
        return added;
      });
    },

    async getTask(taskId, signal) {
      throwIfAborted(signal);
      const result = await c.sql.query<TaskRow>(
        `SELECT ${c.columns} FROM ${c.tasks} t WHERE t.id = $1`,
        [taskId],
        signal,
      );
      return result.rows[0] ? rowToTask(result.rows[0]) : undefined;
    },

    async getTaskHistory(taskId, signal) {
      throwIfAborted(signal);
      const result = await c.sql.query<TaskRow>(
        `SELECT * FROM ${c.events} WHERE task_id = $1 ORDER BY id`,
        [taskId],
        signal,
      );
      return result.rows.map(rowToEvent);
    },

    /** Newest first; keyset pages on (created_at, seq), so concurrent inserts never shift a page. */
    async listTasks(filter, signal) {
      throwIfAborted(signal);
      const limit = filter.limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
        throw invalidArgument(`limit must be a whole number from 1 to 500, got ${limit}`);
      }
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (clause: (n: number) => string, ...values: unknown[]) => {
        params.push(...values);
        where.push(clause(params.length - values.length + 1));
      };
      if (filter.status !== undefined) {
        if (!TASK_STATUSES.includes(filter.status)) throw invalidArgument(`unknown status "${filter.status}"`);
        add((n) => `t.status = $${n}`, filter.status);
      }
      if (filter.priority !== undefined) {
        if (!TASK_PRIORITIES.includes(filter.priority)) throw invalidArgument(`unknown priority "${filter.priority}"`);
        add((n) => `t.priority = $${n}`, filter.priority);
      }
      if (filter.repository !== undefined) add((n) => `t.repository = $${n}`, filter.repository);
      if (filter.cursor !== undefined) {
        const { at, seq } = decodeCursor(filter.cursor);
        add((n) => `(t.created_at, t.seq) < ($${n}::text::timestamptz, $${n + 1}::text::bigint)`, at, seq);
      }
      params.push(limit + 1);
      const result = await c.sql.query<TaskRow>(
        `SELECT ${c.columns} FROM ${c.tasks} t ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY t.created_at DESC, t.seq DESC LIMIT $${params.length}`,
        params,
        signal,
      );
      const rows = result.rows.slice(0, limit);
      const last = rows[rows.length - 1];
      return {
        tasks: rows.map(rowToTask),
        ...(result.rows.length > limit && last ? { nextCursor: encodeCursor(last) } : {}),
      };
    },

    async retryTask(taskId, actor = 'system', signal) {
      throwIfAborted(signal);
      return c.sql.transaction(async (tx) => {
        // A fresh start: attempts, lost workers and the deadline reset, lease gone; the checkpoint (run, run
        // intent, PR) stays so an opened PR is not opened twice and a run already asked for is found again.
        const set = `status = 'pending', attempts = 0, next_run_at = NULL, completed_at = NULL,
                     lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
                     lease_expiries = 0, started_at = NULL`;
        // Its dedupe key may have gone to a newer task meanwhile: two live tasks may not share one.
        const key = await tx.query<{ dedupe_key: string | null }>(`SELECT dedupe_key FROM ${c.tasks} WHERE id = $1`, [
          taskId,
        ]);
        const dedupeKey = key.rows[0]?.dedupe_key;
        const holder = dedupeKey ? await liveHolder(tx, dedupeKey, taskId) : undefined;
        if (holder !== undefined && dedupeKey) throw new DuplicateTaskError(holder, dedupeKey);
        const row = await guardedUpdate(tx, taskId, PERSON_RETRY_FROM, set, 'retry it (only failed or cancelled)');
        await insertEvent(tx, c.events, {
          taskId,
          actor,
          kind: 'retried',
          from: row.prev_status as TaskStatus,
          to: 'pending',
        });
        return rowToTask(row);
      });
    },

    async cancelTask(taskId, actor = 'system', signal) {
      throwIfAborted(signal);
      return c.sql.transaction(async (tx) => {
        // Clearing the token makes every later write by a worker still holding the task a stale-lease refusal.
        const set = `status = 'cancelled', completed_at = now(), next_run_at = NULL,
                     lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL`;
        const row = await guardedUpdate(tx, taskId, sourcesOf('cancelled'), set, 'cancel it');
        await insertEvent(tx, c.events, {
          taskId,
          actor,
          kind: 'cancelled',
          from: row.prev_status as TaskStatus,
          to: 'cancelled',
          ...(row.prev_owner ? { detail: { previousOwner: row.prev_owner } } : {}),
        });
        return rowToTask(row);
      });
    },

    async addFeedback(taskId, feedback, actor = 'system', signal) {
      throwIfAborted(signal);
      if (typeof feedback !== 'object' || feedback === null || Array.isArray(feedback)) {
        throw invalidArgument('feedback must be an object');
      }
      // `at` stamps when the feedback arrived, unless the caller dated it.
      const entry = { at: c.now().toISOString(), ...feedback };
      return c.sql.transaction(async (tx) => {
        const result = await tx.query<TaskRow>(
          `UPDATE ${c.tasks} t
              SET feedback = CASE WHEN jsonb_typeof(t.feedback) = 'array' THEN t.feedback ELSE '[]'::jsonb END
                             || jsonb_build_array($2::text::jsonb),
                  updated_at = now()
            WHERE t.id = $1 RETURNING ${c.columns}`,
          [taskId, JSON.stringify(entry)],
        );
        const row = result.rows[0];
        if (!row) throw taskNotFoundError(taskId);
        await insertEvent(tx, c.events, { taskId, actor, kind: 'feedback-added', detail: entry });
        return rowToTask(row);
      });
    },

    async noteAgentRun(taskId, sighting, signal) {
      throwIfAborted(signal);
      return c.sql.transaction((tx) => noteSighting(tx, c, taskId, sighting), signal);
    },

    async updatePullRequestState(taskId, state, signal) {
      throwIfAborted(signal);
      if (!['open', 'merged', 'closed'].includes(state)) throw invalidArgument(`unknown PR state "${String(state)}"`);
      await c.sql.transaction(async (tx) => {
        const found = await tx.query<{ pr_url: string | null; pr_state: string | null }>(
          `SELECT pr_url, pr_state FROM ${c.tasks} WHERE id = $1 FOR UPDATE`,
          [taskId],
        );
        const row = found.rows[0];
        if (!row) throw taskNotFoundError(taskId);
        if (row.pr_url === null) {
          throw new DaemonError(`task ${taskId} has no pull request recorded`, {
            code: 'no-pull-request',
            category: 'conflict',
            dependency: 'task-store',
          });
        }
        if (row.pr_state === state) return;
        await tx.query(`UPDATE ${c.tasks} SET pr_state = $2, updated_at = now() WHERE id = $1`, [taskId, state]);
        await insertEvent(tx, c.events, {
          taskId,
          actor: 'system',
          kind: 'pr-state-changed',
          detail: { from: row.pr_state, to: state },
        });
      });
    },

    async countByStatus(signal) {
      throwIfAborted(signal);
      const result = await c.sql.query<{ status: TaskStatus; n: number }>(
        `SELECT status, count(*)::int AS n FROM ${c.tasks} GROUP BY status`,
        [],
        signal,
      );
      return Object.fromEntries(result.rows.map((r) => [r.status, Number(r.n)]));
    },
  };
}
