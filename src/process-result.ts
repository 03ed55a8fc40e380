/** The result CodegenClient.processTask returns: the seed's `{ success, prUrl }` and what else a caller needs. */
import type { TaskOutcome } from './domain/outcome.js';
import type { Task, TaskStatus } from './domain/task.js';

export interface ProcessResult {
  taskId: string;
  success: boolean;
  status: TaskStatus;
  prUrl?: string;
  prNumber?: number;
  branchName?: string;
  agentRunId?: number;
  agentRunUrl?: string;
  /** Why a task completed without a PR. */
  note?: string;
  retryAt?: string;
  error?: { code: string; category: string; message: string };
  durationMs?: number;
  /** Set in dry run: the prompt that would have been sent. */
  dryRun?: boolean;
  prompt?: string;
}

export function toProcessResult(task: Task, outcome?: TaskOutcome): ProcessResult {
  const pr = task.checkpoint.pr;
  const result: ProcessResult = {
    taskId: task.id,
    success: task.status === 'completed',
    status: task.status,
    ...(pr ? { prUrl: pr.url, prNumber: pr.number, branchName: pr.branch } : {}),
    ...(task.checkpoint.agentRunId !== undefined ? { agentRunId: task.checkpoint.agentRunId } : {}),
    ...(task.checkpoint.agentRunUrl ? { agentRunUrl: task.checkpoint.agentRunUrl } : {}),
    ...(task.status === 'retry' && task.nextRunAt ? { retryAt: task.nextRunAt } : {}),
    ...(task.lastError && task.status !== 'completed' ? { error: task.lastError } : {}),
  };
  if (outcome) {
    result.durationMs = outcome.durationMs;
    if (outcome.kind === 'completed' && outcome.note) result.note = outcome.note;
    if (outcome.kind === 'released') {
      result.error = { code: 'task-released', category: 'cancelled', message: `task released: ${outcome.reason}` };
    }
    if (outcome.kind === 'lease-lost') {
      result.error = { code: 'lease-lost', category: 'conflict', message: 'another worker took over the task' };
    }
  }
  return result;
}
