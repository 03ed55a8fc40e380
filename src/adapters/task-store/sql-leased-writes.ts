/**
 * The worker's side of the SQL task store: claiming, and every write made under a lease.
 *
 * Leases use the database clock (now()), never the Node clock, so replicas with skewed clocks agree on expiry.
 * Every leased write is one guarded UPDATE (`id = $1 AND lease_token = $2 AND status IN (...)`) plus its
 * history row, in one statement; when the UPDATE matches nothing the refusal is explained as
 * stale-lease, invalid-transition or task-not-found. A write with the current token is accepted even when the
 * lease has lapsed but nobody has re-claimed the task yet: the token, not the clock, is the fence.
 */
import { DaemonError } from '../../domain/errors.js';
import { LEASED_STATUSES, leasedSourcesOf } from '../../domain/task-state.js';
import type { ClaimedTask, Lease, PullRequestRef, Task, TaskStatus } from '../../domain/task.js';
import type { ClaimOptions, CompletionReport, FailureReport, TaskStore } from '../../pipeline/ports.js';
import { activeCap } from './claim-cap.js';
import { claimLockKey, claimStatement } from './sql-claim.js';
import { throwIfAborted } from './sql-errors.js';
import { explainRefusal, statusList, type StoreContext } from './store-context.js';
import { rowToLease, rowToTask, type TaskRow } from './task-row.js';

export type LeasedOps = Pick<
  TaskStore,
  | 'claimTasks'
  | 'heartbeat'
  | 'recordRunIntent'
  | 'recordAgentRun'
  | 'recordPullRequest'
  | 'completeTask'
  | 'failTask'
  | 'releaseTask'
>;

function checkPositiveInt(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new DaemonError(`${name} must be a whole number of at least 1, got ${value}`, {
      code: 'invalid-argument',
      category: 'validation',
      dependency: 'task-store',
    });
  }
}

/** Default of ClaimOptions.maxLeaseExpiries. */
export const DEFAULT_MAX_LEASE_EXPIRIES = 10;

interface LeasedWriteSpec {
  taskId: string;
  token: string;
  to: TaskStatus | null;
  action: string;
  set: string;
  params?: unknown[];
  done?: readonly TaskStatus[];
  /** The caller's signal: the statement is abandoned (its connection dropped) when it aborts. */
  signal?: AbortSignal | undefined;
}

export function createLeasedOps(c: StoreContext): LeasedOps {
  /**
   * The guarded UPDATE of a leased write. `to` is the status the write moves to (null: no status change);
   * `set` uses parameters from $3 on. Returns the updated row with `prev_status` and `prev_owner`.
   *
   * Writes are retried after transport failures, and a write may have been applied although its answer was lost.
   * `done` names the statuses in which the row, still carrying this token, shows the write already happened: the
   * repeat then returns the row as it is (`repeated`) instead of a refusal, and writes no second history row.
   */
  async function leasedUpdate(
    tx: StoreContext['sql'],
    write: LeasedWriteSpec,
  ): Promise<{ row: TaskRow; repeated: boolean }> {
    const from = write.to === null ? LEASED_STATUSES : leasedSourcesOf(write.to);
    const result = await tx.query<TaskRow>(
      `UPDATE ${c.tasks} t SET ${write.set}, updated_at = now()
         FROM (SELECT id, status AS prev_status, lease_owner AS prev_owner FROM ${c.tasks} WHERE id = $1 FOR UPDATE) p
        WHERE t.id = p.id AND t.lease_token::text = $2 AND t.status IN (${statusList(from)})
        RETURNING p.prev_status, p.prev_owner, ${c.columns}`,
      [write.taskId, write.token, ...(write.params ?? [])],
      write.signal,
    );
    const row = result.rows[0];
    if (row) return { row, repeated: false };
    return { row: await afterMiss(tx, write), repeated: true };
  }

  /**
   * A guarded UPDATE matched nothing: the row as it is when `done` shows the write already happened under this
   * token (a repeat after a lost answer), else the refusal explained.
   */
  async function afterMiss(tx: StoreContext['sql'], write: LeasedWriteSpec): Promise<TaskRow> {
    if (write.done && write.done.length > 0) {
      const same = await tx.query<TaskRow>(
        `SELECT t.status AS prev_status, t.lease_owner AS prev_owner, ${c.columns} FROM ${c.tasks} t
          WHERE t.id = $1 AND t.lease_token::text = $2 AND t.status IN (${statusList(write.done)})`,
        [write.taskId, write.token],
        write.signal,
      );
      if (same.rows[0]) return same.rows[0];
    }
    throw await explainRefusal(tx, c, write.taskId, write.action, write.token);
  }

  /**
   * A leased write that changes state: the guarded UPDATE and its history row in one statement (a data-modifying
   * CTE is atomic like a transaction, and costs one round trip where BEGIN / UPDATE / INSERT / COMMIT cost four).
   * `kind` is an SQL expression over the updated row `u` (constants are quoted literals from code, never input).
   * When the UPDATE matches nothing, no history row is written and the refusal is explained (or the write is
   * recognised as already done) exactly as leasedUpdate does.
   */
  async function leasedWrite(write: LeasedWriteSpec & { kind: string; detail?: Record<string, unknown> }) {
    const from = write.to === null ? LEASED_STATUSES : leasedSourcesOf(write.to);
    const params: unknown[] = [write.taskId, write.token, ...(write.params ?? [])];
    const detail = `$${params.length + 1}::text::jsonb`;
    params.push(write.detail === undefined ? null : JSON.stringify(write.detail));
    const result = await c.sql.query<TaskRow>(
      `WITH p AS (SELECT id, status AS prev_status, lease_owner AS prev_owner FROM ${c.tasks} WHERE id = $1 FOR UPDATE),
       u AS (
         UPDATE ${c.tasks} t SET ${write.set}, updated_at = now()
           FROM p
          WHERE t.id = p.id AND t.lease_token::text = $2 AND t.status IN (${statusList(from)})
          RETURNING p.prev_status, p.prev_owner, ${c.columns}
       ), h AS (
         INSERT INTO ${c.events} (task_id, actor, kind, from_status, to_status, detail)
         SELECT u.id, COALESCE(u.prev_owner, 'unknown'), ${write.kind}, u.prev_status, u.status, ${detail} FROM u
       )
       SELECT * FROM u`,
      params,
      write.signal,
    );
    const row = result.rows[0];
    return row ?? afterMiss(c.sql, write);
  }

  const prParams = (pr: PullRequestRef) => [pr.url, pr.number, pr.branch, pr.state ?? null];

  return {
    async claimTasks(options: ClaimOptions, signal?: AbortSignal): Promise<ClaimedTask[]> {
      throwIfAborted(signal);
      checkPositiveInt(options.leaseMs, 'leaseMs');
      if (options.limit < 1) return [];
      checkPositiveInt(options.limit, 'limit');
      const ids = options.taskIds && options.taskIds.length > 0 ? options.taskIds : null;
      const maxExpiries = options.maxLeaseExpiries ?? DEFAULT_MAX_LEASE_EXPIRIES;
      checkPositiveInt(maxExpiries, 'maxLeaseExpiries');
      const params = [options.worker, options.limit, options.leaseMs, ids, maxExpiries];
      const cap = activeCap(options.repositoryCap);
      const result = cap
        ? await c.sql.transaction(async (tx) => {
            // Capped claimers take turns: each counts the held tasks after the previous one committed (a new
            // snapshot per statement), so two replicas claiming at once cannot both fill the same last slot.
            await tx.query('SELECT pg_advisory_xact_lock($1::int)', [claimLockKey(c.tasks)], signal);
            const capParams = [cap.unnamedAs, JSON.stringify(cap.overrides), cap.default];
            return tx.query<TaskRow>(claimStatement(c, true), [...params, ...capParams], signal);
          }, signal)
        : await c.sql.query<TaskRow>(claimStatement(c), params, signal);
      return result.rows
        .filter((row) => row.exhausted !== true)
        .map((row) => ({ task: rowToTask(row), lease: rowToLease(row) }));
    },

    async heartbeat(taskId: string, token: string, leaseMs: number, signal?: AbortSignal): Promise<Lease> {
      throwIfAborted(signal);
      checkPositiveInt(leaseMs, 'leaseMs');
      // Not a state change, so no history row: heartbeats would drown the history.
      const { row } = await leasedUpdate(c.sql, {
        taskId,
        token,
        signal,
        to: null,
        action: 'extend its lease',
        set: `lease_expires_at = now() + $3::int * interval '1 millisecond'`,
        params: [leaseMs],
      });
      return rowToLease(row);
    },

    async recordRunIntent(taskId, token, nonce, signal) {
      throwIfAborted(signal);
      if (typeof nonce !== 'string' || nonce.length < 8 || nonce.length > 100) {
        throw new DaemonError('a run intent nonce must be 8 to 100 characters', {
          code: 'invalid-argument',
          category: 'validation',
          dependency: 'task-store',
        });
      }
      const row = await leasedWrite({
        taskId,
        token,
        signal,
        to: null,
        action: 'record a run intent',
        set: `run_intent = $3::text, run_intent_at = now()`,
        params: [nonce],
        kind: `'run-intent'`,
        detail: { intent: nonce },
      });
      const at = rowToTask(row).checkpoint.runIntent?.at ?? new Date().toISOString();
      return { nonce, at };
    },

    async recordAgentRun(taskId, token, run, signal) {
      throwIfAborted(signal);
      // From awaiting_agent too: recording a replacement run while waiting is not a state change.
      await leasedWrite({
        taskId,
        token,
        signal,
        to: null,
        action: 'record an agent run',
        set: `status = 'awaiting_agent', agent_run_id = $3::bigint, agent_run_url = $4`,
        params: [run.id, run.url ?? null],
        kind: `'agent-run-recorded'`,
        detail: { agentRunId: run.id, ...(run.url ? { agentRunUrl: run.url } : {}) },
      });
    },

    async recordPullRequest(taskId, token, pr, signal) {
      throwIfAborted(signal);
      await leasedWrite({
        taskId,
        token,
        signal,
        to: null,
        action: 'record a pull request',
        set: `pr_url = $3::text, pr_number = $4::int, pr_branch = $5::text, pr_state = $6::text`,
        params: prParams(pr),
        kind: `'pr-recorded'`,
        detail: { url: pr.url, number: pr.number, branch: pr.branch },
      });
    },

    async completeTask(taskId: string, token: string, report: CompletionReport, signal?: AbortSignal) {
      throwIfAborted(signal);
      // The token stays on the row so a repeated write by the same worker reads as invalid-transition.
      await leasedWrite({
        taskId,
        token,
        signal,
        to: 'completed',
        action: 'complete it',
        done: ['completed'],
        set: `status = 'completed', completed_at = now(), lease_expires_at = NULL, next_run_at = NULL,
              error_category = NULL, error_code = NULL, error_message = NULL,
              pr_url = COALESCE($3::text, pr_url), pr_number = COALESCE($4::int, pr_number),
              pr_branch = COALESCE($5::text, pr_branch),
              pr_state = CASE WHEN $3::text IS NULL THEN pr_state ELSE $6::text END`,
        params: report.pr ? prParams(report.pr) : [null, null, null, null],
        kind: `'completed'`,
        detail: { ...(report.pr ? { pr: report.pr.url } : {}), ...(report.note ? { note: report.note } : {}) },
      });
    },

    async failTask(taskId: string, token: string, report: FailureReport, signal?: AbortSignal): Promise<Task> {
      throwIfAborted(signal);
      const refund = report.countAttempt === false;
      const drop = report.dropRun === true;
      // $3 retryAt, $4 refund: retry only when asked and an attempt remains (a refunded attempt always does).
      // $8 drop: the recorded run is over; forget it and its intent so the next attempt starts a new run.
      const row = await leasedWrite({
        taskId,
        token,
        signal,
        to: null,
        action: 'fail it',
        done: ['retry', 'failed'],
        set: `status = CASE WHEN $3::text IS NOT NULL AND ($4::boolean OR attempts < max_attempts)
                            THEN 'retry' ELSE 'failed' END,
              next_run_at = CASE WHEN $3::text IS NOT NULL AND ($4::boolean OR attempts < max_attempts)
                                 THEN $3::text::timestamptz END,
              completed_at = CASE WHEN $3::text IS NOT NULL AND ($4::boolean OR attempts < max_attempts)
                                  THEN NULL ELSE now() END,
              attempts = CASE WHEN $4::boolean THEN GREATEST(attempts - 1, 0) ELSE attempts END,
              agent_run_id = CASE WHEN $8::boolean THEN NULL ELSE agent_run_id END,
              agent_run_url = CASE WHEN $8::boolean THEN NULL ELSE agent_run_url END,
              run_intent = CASE WHEN $8::boolean THEN NULL ELSE run_intent END,
              run_intent_at = CASE WHEN $8::boolean THEN NULL ELSE run_intent_at END,
              lease_expires_at = NULL, error_category = $5, error_code = $6, error_message = $7`,
        params: [report.retryAt ?? null, refund, report.error.category, report.error.code, report.error.message, drop],
        kind: `CASE WHEN u.status = 'retry' THEN 'retry-scheduled' ELSE 'failed' END`,
        detail: {
          code: report.error.code,
          category: report.error.category,
          message: report.error.message,
          ...(report.retryAt ? { retryAt: report.retryAt } : {}),
          countAttempt: !refund,
          ...(drop ? { runDropped: true } : {}),
        },
      });
      return rowToTask(row);
    },

    async releaseTask(taskId: string, token: string, signal?: AbortSignal) {
      throwIfAborted(signal);
      // The token stays on the row (a pending row's token fences nothing: every leased write needs a leased
      // status), so that a release repeated after a lost answer is recognised as done.
      await leasedWrite({
        taskId,
        token,
        signal,
        to: 'pending',
        action: 'release it',
        done: ['pending'],
        set: `status = 'pending', attempts = GREATEST(attempts - 1, 0),
              lease_owner = NULL, lease_expires_at = NULL`,
        kind: `'released'`,
      });
    },
  };
}
