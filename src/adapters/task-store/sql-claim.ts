/**
 * The claim statement of the SQL task store (PostgreSQL, PGlite), uncapped and under a per-repository cap, and the
 * advisory lock capped claims take turns on. sql-leased-writes.ts runs them. No Node-only imports (the Task API
 * runs this in a Worker).
 */
import type { StoreContext } from './store-context.js';

/** The claimable rows (the claim index's condition first, so that the planner can use that index). */
const CLAIMABLE = `status IN ('pending','retry','claimed','awaiting_agent')
         AND ($4::text[] IS NULL OR id = ANY($4::text[]))
         AND (status = 'pending'
          OR (status = 'retry' AND (next_run_at IS NULL OR next_run_at <= now()))
          OR (status IN ('claimed','awaiting_agent') AND lease_expires_at < now()))`;

/**
 * The rows a claim may take, in claim order. Capped (ClaimOptions.repositoryCap): each repository's claimable
 * rows are numbered in claim order and a row is allowed while its number plus the repository's held tasks (live
 * leases) stays within the repository's cap, so the claim moves past a repository at its cap to the next one.
 * Capped parameters: $6 the name of tasks without a repository, $7 the overrides (JSON), $8 the default cap.
 */
function candidatesStatement(c: StoreContext, capped: boolean): string {
  const columns = `id, status AS prev_status, lease_owner AS prev_owner,
             (status IN ('claimed','awaiting_agent')) AS expired,
             (status IN ('claimed','awaiting_agent') AND lease_expiries + 1 >= $5::int) AS exhausted`;
  if (!capped) {
    return `candidates AS MATERIALIZED (
      SELECT ${columns}
        FROM ${c.tasks}
       WHERE ${CLAIMABLE}
       ORDER BY priority_rank, created_at, seq
       LIMIT $2
       FOR UPDATE SKIP LOCKED
    )`;
  }
  return `held AS (
      SELECT COALESCE(repository, $6::text) AS repo, count(*)::int AS n
        FROM ${c.tasks}
       WHERE status IN ('claimed','awaiting_agent') AND lease_expires_at >= now()
       GROUP BY 1
    ), caps AS (
      SELECT key AS repo, value::int AS cap FROM jsonb_each_text($7::text::jsonb)
    ), ranked AS (
      SELECT id, COALESCE(repository, $6::text) AS repo,
             row_number() OVER (PARTITION BY COALESCE(repository, $6::text)
                                ORDER BY priority_rank, created_at, seq) AS nth
        FROM ${c.tasks}
       WHERE ${CLAIMABLE}
    ), allowed AS (
      SELECT r.id FROM ranked r
        LEFT JOIN held h ON h.repo = r.repo
        LEFT JOIN caps k ON k.repo = r.repo
       WHERE COALESCE(k.cap, $8::int) = 0 OR r.nth + COALESCE(h.n, 0) <= COALESCE(k.cap, $8::int)
    ), candidates AS MATERIALIZED (
      SELECT ${columns}
        FROM ${c.tasks}
       WHERE ${CLAIMABLE} AND id IN (SELECT id FROM allowed)
       ORDER BY priority_rank, created_at, seq
       LIMIT $2
       FOR UPDATE SKIP LOCKED
    )`;
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
 * Parameters: $1 worker, $2 limit, $3 lease ms, $4 task ids (null: any task), $5 most lease expiries; capped
 * claims add $6-$8 (candidatesStatement).
 */
export function claimStatement(c: StoreContext, capped = false): string {
  return `
    WITH ${candidatesStatement(c, capped)}, changed AS (
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

/** A stable 32-bit advisory lock key per tasks table (FNV-1a), taken by capped claims. */
export function claimLockKey(table: string): number {
  let hash = 0x811c9dc5;
  for (const char of `codegen-pr:capped-claim:${table}`) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}
