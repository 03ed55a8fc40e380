/**
 * The task state machine as data and pure functions. The SQL store derives the statuses each write may start
 * from out of this table, so the rules live in one place.
 *
 *   pending ──claim──▶ claimed ──record run──▶ awaiting_agent
 *   retry (due) ─claim─┘   │  ▲                    │
 *                          │  └── lease expired, re-claimed (checkpoint kept, status back to claimed)
 *                          ├──▶ completed | failed | retry | pending (release)
 *   failed | cancelled ──retry by a person──▶ pending
 *   any non-terminal ──▶ cancelled
 *
 * A re-claimed awaiting_agent task comes back as `claimed` with its checkpoint (agent run id, PR) intact: the
 * daemon sees the checkpoint and resumes waiting on the run instead of starting a new one. Keeping one entry
 * state for every claim keeps the claim query and the daemon's recipe simple.
 */
import { DaemonError } from './errors.js';
import type { TaskStatus } from './task.js';

/** Which statuses each status may move to. A status missing from a list is a refused transition. */
const TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  pending: ['claimed', 'cancelled'],
  retry: ['claimed', 'cancelled'],
  // claimed -> claimed and awaiting_agent -> claimed: a lease expired and another worker claimed the task.
  // claimed/awaiting_agent -> failed also covers a lease that expired with no attempts left.
  claimed: ['claimed', 'awaiting_agent', 'completed', 'failed', 'retry', 'pending', 'cancelled'],
  awaiting_agent: ['claimed', 'completed', 'failed', 'retry', 'pending', 'cancelled'],
  completed: [],
  failed: ['pending'],
  cancelled: ['pending'],
};

/** Statuses in which a worker holds a lease; every leased write starts from one of these. */
export const LEASED_STATUSES: readonly TaskStatus[] = ['claimed', 'awaiting_agent'];

/**
 * Statuses a claim may pick up. pending always; retry only once its nextRunAt has passed; claimed and
 * awaiting_agent only once their lease has expired (the time conditions live in the claim query).
 */
export const CLAIMABLE_STATUSES: readonly TaskStatus[] = ['pending', 'retry', 'claimed', 'awaiting_agent'];

/** True when the state machine allows moving a task from `from` to `to`. */
/** Statuses that are not final: a task in one of them holds its dedupe key. */
export const LIVE_STATUSES: readonly TaskStatus[] = ['pending', 'retry', 'claimed', 'awaiting_agent'];

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return TRANSITIONS[from]?.includes(to) ?? false;
}

/** The statuses `from` may move to, in a stable order. */
export function nextStatuses(from: TaskStatus): readonly TaskStatus[] {
  return TRANSITIONS[from] ?? [];
}

/** Every status that may move to `to`: what a store puts in `WHERE status IN (...)` for that write. */
export function sourcesOf(to: TaskStatus): TaskStatus[] {
  return (Object.keys(TRANSITIONS) as TaskStatus[]).filter((from) => canTransition(from, to));
}

/** The statuses a lease holder may move to `to` from: the leased statuses that allow the transition. */
export function leasedSourcesOf(to: TaskStatus): TaskStatus[] {
  return LEASED_STATUSES.filter((from) => canTransition(from, to));
}

/** The error for a refused transition: code `invalid-transition`, category conflict, never retryable. */
export function invalidTransitionError(from: TaskStatus, to: TaskStatus, taskId: string): DaemonError {
  return new DaemonError(`task ${taskId}: cannot move from ${from} to ${to}`, {
    code: 'invalid-transition',
    category: 'conflict',
  });
}

/** Throw `invalid-transition` unless the state machine allows `from` -> `to`. */
export function assertTransition(from: TaskStatus, to: TaskStatus, taskId: string): void {
  if (!canTransition(from, to)) throw invalidTransitionError(from, to, taskId);
}
