/**
 * The reconciler's write: what the store does when an agent run names one of its tasks. Runs are created before
 * their ids are recorded (there is no idempotency key), so the organization's run list is the truth the store is
 * compared with, as Renovate derives its state from the platform. Without a lease, and only where no worker
 * holds the task: a live worker finds its own run by its intent. No Node-only imports (runs in the Worker too).
 */
import type { TaskStatus } from '../../domain/task.js';
import type { AgentRunSighting, SightingOutcome } from '../../pipeline/ports.js';
import type { SqlClient } from './sql.js';
import { insertEvent, type StoreContext } from './store-context.js';

const ACTOR = 'reconciler';
const TERMINAL_WITHOUT_PR: readonly string[] = ['failed', 'cancelled'];

interface SightedRow {
  status: TaskStatus;
  live_lease: boolean;
  agent_run_id: string | number | null;
  run_intent: string | null;
  pr_url: string | null;
}

/** Apply one sighting inside `tx` (see AgentRunSighting and TaskStore.noteAgentRun). */
export async function noteSighting(
  tx: SqlClient,
  c: StoreContext,
  taskId: string,
  sighting: AgentRunSighting,
): Promise<SightingOutcome> {
  const found = await tx.query<SightedRow>(
    `SELECT status, (status IN ('claimed','awaiting_agent') AND lease_expires_at >= now()) AS live_lease,
            agent_run_id, run_intent, pr_url
       FROM ${c.tasks} WHERE id = $1 FOR UPDATE`,
    [taskId],
  );
  const row = found.rows[0];
  // A run of a task this store does not hold (another deployment, or a task deleted since): nothing to do.
  if (!row) return 'none';
  const tracked = row.agent_run_id !== null && Number(row.agent_run_id) === sighting.runId;
  const { pr } = sighting;

  // The task gave up (its deadline passed, a person cancelled it) but the run went on and opened a PR.
  if (pr && row.pr_url === null && TERMINAL_WITHOUT_PR.includes(row.status)) {
    await tx.query(
      `UPDATE ${c.tasks} SET pr_url = $2, pr_number = $3, pr_branch = $4, pr_state = $5, updated_at = now()
        WHERE id = $1`,
      [taskId, pr.url, pr.number, pr.branch, pr.state ?? null],
    );
    await insertEvent(tx, c.events, {
      taskId,
      actor: ACTOR,
      kind: 'late-pr',
      detail: { agentRunId: sighting.runId, url: pr.url, number: pr.number, branch: pr.branch },
    });
    return 'late-pr';
  }
  if (tracked) return 'none';

  // A run nobody recorded, asked for under the task's current intent: the task's own run. Adopt it so that the
  // next claim waits on it instead of creating another.
  const adoptable =
    !row.live_lease &&
    row.agent_run_id === null &&
    (row.status === 'pending' ||
      row.status === 'retry' ||
      row.status === 'claimed' ||
      row.status === 'awaiting_agent') &&
    sighting.intent !== undefined &&
    sighting.intent === row.run_intent &&
    sighting.state !== 'failed';
  if (adoptable) {
    await tx.query(
      `UPDATE ${c.tasks} SET agent_run_id = $2::bigint, agent_run_url = $3, updated_at = now() WHERE id = $1`,
      [taskId, sighting.runId, sighting.url ?? null],
    );
    await insertEvent(tx, c.events, {
      taskId,
      actor: ACTOR,
      kind: 'agent-run-adopted',
      detail: { agentRunId: sighting.runId, intent: sighting.intent, ...(sighting.url ? { url: sighting.url } : {}) },
    });
    return 'adopted';
  }

  // A second run of a task that has its own and that opened a PR, or is still running: people should know.
  const duplicate =
    (pr !== undefined && row.pr_url !== pr.url) || (sighting.state === 'live' && row.agent_run_id !== null);
  if (!duplicate) return 'none';
  const seen = await tx.query(
    `SELECT 1 FROM ${c.events} WHERE task_id = $1 AND kind = 'extra-run' AND detail->>'agentRunId' = $2 LIMIT 1`,
    [taskId, String(sighting.runId)],
  );
  if (seen.rows.length > 0) return 'none';
  await insertEvent(tx, c.events, {
    taskId,
    actor: ACTOR,
    kind: 'extra-run',
    detail: {
      agentRunId: String(sighting.runId),
      state: sighting.state,
      ...(sighting.url ? { url: sighting.url } : {}),
      ...(pr ? { pr: pr.url } : {}),
    },
  });
  return 'extra-run';
}
