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

/**
 * One statement claims up to `limit` tasks in priority-then-age order, skipping rows other claimers hold
 * (FOR UPDATE SKIP LOCKED), and writes a history row for each. A claim gets a new fencing token; the checkpoint
 * (agent run, run intent, PR) is left as it is so the daemon resumes.
 *
 * Attempts: claiming a pending or retry task starts an attempt and spends one. Re-claiming a task whose worker
 * was lost (its lease expired) continues the same attempt and spends none: a crashed or cut-off worker is not
 * the task's failure. Such re-claims are counted instead (lease_expiries), and a task whose workers were lost
 * $5 times is failed (lease-expired-too-often) rather than claimed for ever; those rows use up a slot of this
 * claim's limit and are not returned. started_at is set by the first claim: the task's deadline counts from it.
 * Parameters: $1 worker, $2 limit, $3 lease ms, $4 task ids (null: any task), $5 most lease expiries.
 */
function claimStatement(c: StoreContext): string {
  return `
    WITH candidates AS MATERIALIZED (
      SELECT id, status AS prev_status, lease_owner AS prev_owner,
             (status IN ('claimed','awaiting_agent')) AS expired,
             (status IN ('claimed','awaiting_agent') AND lease_expiries + 1 >= $5::int) AS exhausted
        FROM ${c.tasks}
       -- The first status test repeats the claim index's condition so that the planner can use that index.
       WHERE status IN ('pending','retry','claimed','awaiting_agent')
         AND ($4::text[] IS NULL OR id = ANY($4::text[]))
         AND (status = 'pending'
          OR (status = 'retry' AND (next_run_at IS NULL OR next_run_at <= now()))
          OR (status IN ('claimed','awaiting_agent') AND lease_expires_at < now()))
       ORDER BY priority_rank, created_at, seq
       LIMIT $2
       FOR UPDATE SKIP LOCKED
    ), changed AS (
      UPDATE ${c.tasks} t SET
        status = CASE WHEN k.exhausted THEN 'failed' ELSE 'claimed' END,
        attempts = CASE WHEN k.expired THEN t.attempts ELSE t.attempts + 1 END,
        lease_expiries = CASE WHEN k.expired THEN t.lease_expiries + 1 ELSE t.lease_expiries END,
        started_at = COALESCE(t.started_at, now()),
        lease_owner = CASE WHEN k.exhausted THEN t.lease_owner ELSE $1 END,
        lease_token = CASE WHEN k.exhausted THEN t.lease_token ELSE gen_random_uuid() END,
        lease_expires_at = CASE WHEN k.exhausted THEN NULL ELSE now() + $3::int * interval '1 millisecond' END,
        next_run_at = NULL,
        error_category = CASE WHEN k.exhausted THEN 'unknown' ELSE t.error_category END,
        error_code = CASE WHEN k.exhausted THEN 'lease-expired-too-often' ELSE t.error_code END,
        error_message = CASE WHEN k.exhausted
          THEN 'the worker holding this task was lost ' || (t.lease_expiries + 1) ||
               ' times (crashed, killed or cut off from the store); the task may be what takes its workers down'
          ELSE t.error_message END,
        completed_at = CASE WHEN k.exhausted THEN now() ELSE t.completed_at END,
        updated_at = now()
      FROM candidates k
      WHERE t.id = k.id
      RETURNING ${c.columns}, k.prev_status, k.prev_owner, k.exhausted, t.priority_rank AS claim_rank, t.seq AS claim_seq
    ), history AS (
      INSERT INTO ${c.events} (task_id, actor, kind, from_status, to_status, detail)
      SELECT id, CASE WHEN exhausted THEN 'system' ELSE $1 END, CASE WHEN exhausted THEN 'failed' ELSE 'claimed' END,
             prev_status, status,
             jsonb_strip_nulls(jsonb_build_object('attempt', attempts, 'leaseExpired', prev_status IN ('claimed','awaiting_agent'),
                                'previousOwner', prev_owner))
        FROM changed
    )
    -- RETURNING order is unspecified: hand tasks back in claim order.
    SELECT * FROM changed ORDER BY claim_rank, created_at, claim_seq`;
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
      const result = await c.sql.query<TaskRow>(
        claimStatement(c),
        [options.worker, options.limit, options.leaseMs, ids, maxExpiries],
        signal,
      );
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
