/**
 * The worker's side of the SQLite task store: claiming, and every write made under a lease. The same contract as
 * the PostgreSQL store's sql-leased-writes.ts, written as short synchronous transactions instead of one SQL
 * statement each: a transaction reads the row, checks the fence, writes the row and its history row, and commits,
 * without yielding in between (better-sqlite3 is synchronous and every write takes the write lock first).
 *
 * A write with the current token is accepted even when the lease has lapsed but nobody has re-claimed the task
 * yet: the token, not the clock, is the fence. A write repeated after its answer was lost is recognised by the
 * statuses that show it already happened (`done`) and returns the row without a second history row.
 */
import { DaemonError } from '../../../domain/errors.js';
import { LEASED_STATUSES, leasedSourcesOf } from '../../../domain/task-state.js';
import type { ClaimedTask, PullRequestRef, Task, TaskStatus } from '../../../domain/task.js';
import type { ClaimOptions, TaskStore } from '../../../pipeline/ports.js';
import { activeCap } from '../claim-cap.js';
import { DEFAULT_MAX_LEASE_EXPIRIES } from '../sql-leased-writes.js';
import { throwIfAborted } from '../sql-errors.js';
import { rowToLease, rowToTask, type TaskRow } from '../task-row.js';
import {
  decodeTask,
  explainRefusal,
  insertEvent,
  later,
  newToken,
  selectTask,
  stamp,
  toStoredTime,
  updateTask,
  type SqliteContext,
} from './context.js';

type Raw = Record<string, unknown>;

export type SqliteLeasedOps = Pick<
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

/** The claimable rows: the time conditions of CLAIMABLE_STATUSES. */
const CLAIMABLE = `status IN ('pending','retry','claimed','awaiting_agent')
     AND (@ids IS NULL OR id IN (SELECT value FROM json_each(@ids)))
     AND (status = 'pending'
      OR (status = 'retry' AND (next_run_at IS NULL OR next_run_at <= @now))
      OR (status IN ('claimed','awaiting_agent') AND lease_expires_at < @now))`;

/** Claimable rows in claim order (priority, then age). */
const CANDIDATES = `
  SELECT * FROM tasks
   WHERE ${CLAIMABLE}
   ORDER BY priority_rank, created_at, seq
   LIMIT @limit`;

/**
 * Claimable rows in claim order under a per-repository cap, as the PostgreSQL store's capped candidates: each
 * repository's rows are numbered in claim order, and a row is allowed while its number plus the repository's
 * held tasks (live leases) stays within the repository's cap (0: none). The write lock makes claims take turns.
 */
const CAPPED_CANDIDATES = `
  WITH held AS (
    SELECT COALESCE(repository, @unnamed) AS repo, count(*) AS n FROM tasks
     WHERE status IN ('claimed','awaiting_agent') AND lease_expires_at >= @now
     GROUP BY 1
  ), caps AS (
    SELECT key AS repo, value AS cap FROM json_each(@overrides)
  ), ranked AS (
    SELECT *, COALESCE(repository, @unnamed) AS cap_repo,
           row_number() OVER (PARTITION BY COALESCE(repository, @unnamed)
                              ORDER BY priority_rank, created_at, seq) AS cap_nth
      FROM tasks
     WHERE ${CLAIMABLE}
  )
  SELECT r.* FROM ranked r
    LEFT JOIN held h ON h.repo = r.cap_repo
    LEFT JOIN caps k ON k.repo = r.cap_repo
   WHERE COALESCE(k.cap, @cap) = 0 OR r.cap_nth + COALESCE(h.n, 0) <= COALESCE(k.cap, @cap)
   ORDER BY r.priority_rank, r.created_at, r.seq
   LIMIT @limit`;

interface LeasedWriteSpec {
  taskId: string;
  token: string;
  /** The status the write moves to; null: no status change decided by the state machine. */
  to: TaskStatus | null;
  action: string;
  /** Statuses in which the row, still carrying this token, shows the write already happened. */
  done?: readonly TaskStatus[];
  changes: (row: Raw, at: string) => Record<string, unknown>;
}

export function createSqliteLeasedOps(c: SqliteContext): SqliteLeasedOps {
  /** The fenced update; `prev` is the row before it. Throws the refusal when the fence does not hold. */
  function leasedUpdate(write: LeasedWriteSpec, at: string): { row: TaskRow; prev: Raw; repeated: boolean } {
    const from = write.to === null ? LEASED_STATUSES : leasedSourcesOf(write.to);
    const prev = selectTask(c, write.taskId);
    const fenced = prev !== undefined && prev.lease_token === write.token;
    if (fenced && from.includes(prev.status as TaskStatus)) {
      const row = updateTask(c, write.taskId, { ...write.changes(prev, at), updated_at: at });
      return { row, prev, repeated: false };
    }
    if (fenced && write.done?.includes(prev.status as TaskStatus)) {
      return { row: decodeTask(prev), prev, repeated: true };
    }
    throw explainRefusal(prev, write.taskId, write.action, write.token);
  }

  /** A leased write that changes state: the update and its history row in one transaction. */
  function leasedWrite(
    write: LeasedWriteSpec & { kind: (row: TaskRow) => string; detail?: Record<string, unknown> },
  ): TaskRow {
    return c.database.write(() => {
      const at = stamp(c);
      const { row, prev, repeated } = leasedUpdate(write, at);
      if (repeated) return row;
      insertEvent(c, at, {
        taskId: write.taskId,
        actor: String(prev.lease_owner ?? 'unknown'),
        kind: write.kind(row),
        from: prev.status as TaskStatus,
        to: row.status as TaskStatus,
        ...(write.detail ? { detail: write.detail } : {}),
      });
      return row;
    });
  }

  /** Claim one candidate (see the PostgreSQL store's claimStatement for the rules); undefined when failed. */
  function claimOne(prev: Raw, options: ClaimOptions, maxExpiries: number, at: string): ClaimedTask | undefined {
    const taskId = String(prev.id);
    const expired = prev.status === 'claimed' || prev.status === 'awaiting_agent';
    const expiries = Number(prev.lease_expiries) + (expired ? 1 : 0);
    const exhausted = expired && expiries >= maxExpiries;
    const common = { lease_expiries: expiries, started_at: prev.started_at ?? at, next_run_at: null, updated_at: at };
    const row = exhausted
      ? updateTask(c, taskId, {
          ...common,
          status: 'failed',
          lease_expires_at: null,
          error_category: 'unknown',
          error_code: 'lease-expired-too-often',
          error_message:
            `the worker holding this task was lost ${expiries} times (crashed, killed or cut off from the store); ` +
            'the task may be what takes its workers down',
          completed_at: at,
        })
      : updateTask(c, taskId, {
          ...common,
          status: 'claimed',
          attempts: Number(prev.attempts) + (expired ? 0 : 1),
          lease_owner: options.worker,
          lease_token: newToken(),
          lease_expires_at: later(at, options.leaseMs),
        });
    insertEvent(c, at, {
      taskId,
      actor: exhausted ? 'system' : options.worker,
      kind: exhausted ? 'failed' : 'claimed',
      from: prev.status as TaskStatus,
      to: row.status as TaskStatus,
      detail: {
        attempt: Number(row.attempts),
        leaseExpired: expired,
        ...(prev.lease_owner != null ? { previousOwner: prev.lease_owner } : {}),
      },
    });
    return exhausted ? undefined : { task: rowToTask(row), lease: rowToLease(row) };
  }

  const prChanges = (pr: PullRequestRef) => ({
    pr_url: pr.url,
    pr_number: pr.number,
    pr_branch: pr.branch,
    pr_state: pr.state ?? null,
  });

  return {
    async claimTasks(options, signal) {
      throwIfAborted(signal);
      checkPositiveInt(options.leaseMs, 'leaseMs');
      if (options.limit < 1) return [];
      checkPositiveInt(options.limit, 'limit');
      const maxExpiries = options.maxLeaseExpiries ?? DEFAULT_MAX_LEASE_EXPIRIES;
      checkPositiveInt(maxExpiries, 'maxLeaseExpiries');
      const ids = options.taskIds && options.taskIds.length > 0 ? JSON.stringify(options.taskIds) : null;
      const cap = activeCap(options.repositoryCap);
      return c.database.write(() => {
        const at = stamp(c);
        const params = { ids, now: at, limit: options.limit };
        const candidates = (
          cap
            ? c.database.statement(CAPPED_CANDIDATES).all({
                ...params,
                unnamed: cap.unnamedAs,
                overrides: JSON.stringify(cap.overrides),
                cap: cap.default,
              })
            : c.database.statement(CANDIDATES).all(params)
        ) as Raw[];
        // Exhausted rows use up a slot of this claim's limit and are not returned, as in the PostgreSQL store.
        return candidates.flatMap((prev) => claimOne(prev, options, maxExpiries, at) ?? []);
      });
    },

    async heartbeat(taskId, token, leaseMs, signal) {
      throwIfAborted(signal);
      checkPositiveInt(leaseMs, 'leaseMs');
      // Not a state change, so no history row: heartbeats would drown the history.
      const row = c.database.write(() => {
        const at = stamp(c);
        const write = { taskId, token, to: null, action: 'extend its lease' };
        return leasedUpdate({ ...write, changes: () => ({ lease_expires_at: later(at, leaseMs) }) }, at).row;
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
      const row = leasedWrite({
        taskId,
        token,
        to: null,
        action: 'record a run intent',
        changes: (_prev, at) => ({ run_intent: nonce, run_intent_at: at }),
        kind: () => 'run-intent',
        detail: { intent: nonce },
      });
      return { nonce, at: rowToTask(row).checkpoint.runIntent?.at ?? new Date().toISOString() };
    },

    async recordAgentRun(taskId, token, run, signal) {
      throwIfAborted(signal);
      // From awaiting_agent too: recording a replacement run while waiting is not a state change.
      leasedWrite({
        taskId,
        token,
        to: null,
        action: 'record an agent run',
        changes: () => ({ status: 'awaiting_agent', agent_run_id: run.id, agent_run_url: run.url ?? null }),
        kind: () => 'agent-run-recorded',
        detail: { agentRunId: run.id, ...(run.url ? { agentRunUrl: run.url } : {}) },
      });
    },

    async recordPullRequest(taskId, token, pr, signal) {
      throwIfAborted(signal);
      leasedWrite({
        taskId,
        token,
        to: null,
        action: 'record a pull request',
        changes: () => prChanges(pr),
        kind: () => 'pr-recorded',
        detail: { url: pr.url, number: pr.number, branch: pr.branch },
      });
    },

    async completeTask(taskId, token, report, signal) {
      throwIfAborted(signal);
      // The token stays on the row so a repeated write by the same worker reads as invalid-transition.
      leasedWrite({
        taskId,
        token,
        to: 'completed',
        action: 'complete it',
        done: ['completed'],
        changes: (_prev, at) => ({
          status: 'completed',
          completed_at: at,
          lease_expires_at: null,
          next_run_at: null,
          error_category: null,
          error_code: null,
          error_message: null,
          ...(report.pr ? prChanges(report.pr) : {}),
        }),
        kind: () => 'completed',
        detail: { ...(report.pr ? { pr: report.pr.url } : {}), ...(report.note ? { note: report.note } : {}) },
      });
    },

    async failTask(taskId, token, report, signal): Promise<Task> {
      throwIfAborted(signal);
      const refund = report.countAttempt === false;
      const drop = report.dropRun === true;
      const retryAt = report.retryAt === undefined ? undefined : toStoredTime(report.retryAt, 'retryAt');
      const row = leasedWrite({
        taskId,
        token,
        to: null,
        action: 'fail it',
        done: ['retry', 'failed'],
        changes: (prev, at) => {
          // Retry only when asked and an attempt remains (a refunded attempt always does).
          const retry = retryAt !== undefined && (refund || Number(prev.attempts) < Number(prev.max_attempts));
          return {
            status: retry ? 'retry' : 'failed',
            next_run_at: retry ? retryAt : null,
            completed_at: retry ? null : at,
            attempts: refund ? Math.max(Number(prev.attempts) - 1, 0) : Number(prev.attempts),
            // The recorded run is over: forget it and its intent so the next attempt starts a new run.
            ...(drop ? { agent_run_id: null, agent_run_url: null, run_intent: null, run_intent_at: null } : {}),
            lease_expires_at: null,
            error_category: report.error.category,
            error_code: report.error.code,
            error_message: report.error.message,
          };
        },
        kind: (r) => (r.status === 'retry' ? 'retry-scheduled' : 'failed'),
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

    async releaseTask(taskId, token, signal) {
      throwIfAborted(signal);
      // The token stays on the pending row (it fences nothing: every leased write needs a leased status), so that
      // a release repeated after a lost answer is recognised as done.
      leasedWrite({
        taskId,
        token,
        to: 'pending',
        action: 'release it',
        done: ['pending'],
        changes: (prev) => ({
          status: 'pending',
          attempts: Math.max(Number(prev.attempts) - 1, 0),
          lease_owner: null,
          lease_expires_at: null,
        }),
        kind: () => 'released',
      });
    },
  };
}
