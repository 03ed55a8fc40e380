/**
 * The failures an agent run itself can end an attempt with, built in one place so that every step that sees a
 * run end badly (waiting on it, resuming it after a crash, finding it by its intent) reports the same thing.
 * They are the task's own failures: they spend an attempt, and the finished run is dropped so that a retry
 * starts a new run (with the failure in its prompt) instead of reading this one again.
 */
import { DaemonError } from '../../domain/errors.js';
import type { AgentRun } from '../ports.js';

/** The run ended in a failed status (ERROR, FAILED, CANCELLED, TIMEOUT, ...). */
export function agentRunFailure(run: AgentRun): DaemonError {
  return new DaemonError(`agent run ${run.id} ended with status ${run.status ?? 'unknown'}`, {
    code: `agent-run-${(run.status ?? 'failed').toLowerCase().replace(/[^a-z0-9]+/g, '-')}`,
    category: 'agent',
    retryable: true,
    dependency: 'codegen',
    scope: 'task',
  });
}

/** The run finished but left neither a PR nor a pushed branch, and policy says that is a failure. */
export function noChangesFailure(run: AgentRun, note: string): DaemonError {
  return new DaemonError(`agent run ${run.id} ended without a pull request or a pushed branch: ${note}`, {
    code: 'agent-no-changes',
    category: 'agent',
    retryable: true,
    dependency: 'codegen',
    scope: 'task',
  });
}

/** The task's wall-clock deadline (processing.taskDeadlineMs from its first claim) passed. */
export function deadlineExceeded(taskId: string, startedAt: string, deadlineMs: number, runId?: number): DaemonError {
  const hours = Math.round((deadlineMs / 3_600_000) * 10) / 10;
  const run = runId === undefined ? '' : `; its agent run ${runId} may still finish, and a PR it opens is recorded`;
  return new DaemonError(
    `task ${taskId} passed its deadline of ${hours} h (first claimed ${startedAt})${run}. Raise TASK_DEADLINE_MS for longer tasks`,
    { code: 'task-deadline-exceeded', category: 'timeout', scope: 'task' },
  );
}

/** Epoch ms of the task's deadline, or undefined when it was never claimed (it is being claimed now). */
export function deadlineOf(startedAt: string | undefined, deadlineMs: number): number | undefined {
  if (startedAt === undefined) return undefined;
  const start = Date.parse(startedAt);
  return Number.isFinite(start) ? start + deadlineMs : undefined;
}
