/**
 * The reconciler's write on the SQLite store: the same rules as sql-sightings.ts (adopt a run nobody recorded
 * that carries the task's current intent, record a late PR on a task that gave up, note an extra run once),
 * run inside the caller's write transaction.
 */
import type { TaskStatus } from '../../../domain/task.js';
import type { AgentRunSighting, SightingOutcome } from '../../../pipeline/ports.js';
import { insertEvent, selectTask, stamp, updateTask, type SqliteContext } from './context.js';

const ACTOR = 'reconciler';
const TERMINAL_WITHOUT_PR: readonly string[] = ['failed', 'cancelled'];
const ADOPTABLE_FROM: readonly TaskStatus[] = ['pending', 'retry', 'claimed', 'awaiting_agent'];

/** Apply one sighting (see AgentRunSighting and TaskStore.noteAgentRun). Call inside a write transaction. */
export function noteSqliteSighting(c: SqliteContext, taskId: string, sighting: AgentRunSighting): SightingOutcome {
  const row = selectTask(c, taskId);
  // A run of a task this store does not hold (another deployment, or a task deleted since): nothing to do.
  if (!row) return 'none';
  const at = stamp(c);
  const status = row.status as TaskStatus;
  const expiresAt = row.lease_expires_at;
  const liveLease =
    (status === 'claimed' || status === 'awaiting_agent') && typeof expiresAt === 'string' && expiresAt >= at;
  const tracked = row.agent_run_id !== null && Number(row.agent_run_id) === sighting.runId;
  const { pr } = sighting;

  // The task gave up (its deadline passed, a person cancelled it) but the run went on and opened a PR.
  if (pr && row.pr_url === null && TERMINAL_WITHOUT_PR.includes(status)) {
    updateTask(c, taskId, {
      pr_url: pr.url,
      pr_number: pr.number,
      pr_branch: pr.branch,
      pr_state: pr.state ?? null,
      updated_at: at,
    });
    insertEvent(c, at, {
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
    !liveLease &&
    row.agent_run_id === null &&
    ADOPTABLE_FROM.includes(status) &&
    sighting.intent !== undefined &&
    sighting.intent === row.run_intent &&
    sighting.state !== 'failed';
  if (adoptable) {
    updateTask(c, taskId, { agent_run_id: sighting.runId, agent_run_url: sighting.url ?? null, updated_at: at });
    insertEvent(c, at, {
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
  const seen = c.database
    .statement(
      `SELECT 1 FROM task_events
        WHERE task_id = ? AND kind = 'extra-run' AND json_extract(detail, '$.agentRunId') = ? LIMIT 1`,
    )
    .get(taskId, String(sighting.runId));
  if (seen) return 'none';
  insertEvent(c, at, {
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
