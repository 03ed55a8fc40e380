/**
 * The task: the unit of work codegen-pr turns into one pull request.
 *
 * A task lives in the task store (PostgreSQL, PGlite, or behind the Task API). Its `status` follows the state
 * machine in `task-state.ts`; its `checkpoint` records external effects (the agent run, the PR) so that a task
 * re-claimed after a crash continues where it stopped instead of starting over.
 */

/** The kinds of work the prompt generator has a template for (the seed's list). */
export const TASK_TYPES = ['feature', 'bugfix', 'refactor', 'documentation', 'test', 'default'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const TASK_PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
export type TaskPriority = (typeof TASK_PRIORITIES)[number];

/**
 * Task states.
 * - pending: waiting to be claimed.
 * - claimed: a worker holds the lease and is preparing the agent run.
 * - awaiting_agent: the agent run exists (its id is checkpointed) and the worker is waiting on it.
 * - retry: failed with a retryable error; claimable again once `nextRunAt` has passed.
 * - completed, failed, cancelled: terminal.
 */
export const TASK_STATUSES = [
  'pending',
  'claimed',
  'awaiting_agent',
  'retry',
  'completed',
  'failed',
  'cancelled',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];

/** A pull request as recorded on a task. */
export interface PullRequestRef {
  url: string;
  number: number;
  branch: string;
  /** open, merged or closed, as last seen on GitHub. */
  state?: 'open' | 'merged' | 'closed';
}

/**
 * The intent recorded before an agent run is created: `nonce` goes into the run's metadata, so an attempt that
 * never learned the run's id (a crash, a lost answer, a shutdown mid-call) can find the run again instead of
 * creating another. `at` is when it was recorded (the store's clock): no run of it can be older.
 */
export interface RunIntent {
  nonce: string;
  at: string;
}

/** External effects already achieved for a task; a re-claimed task resumes from here. */
export interface TaskCheckpoint {
  agentRunId?: number;
  agentRunUrl?: string;
  pr?: PullRequestRef;
  /** The latest run intent; kept once the run is recorded, cleared when a finished run is dropped. */
  runIntent?: RunIntent;
}

/** The last failure recorded on a task. */
export interface TaskError {
  category: string;
  code: string;
  message: string;
}

/** What a user submits: the fields a task is created from. */
export interface NewTask {
  /** Optional caller-chosen id; the store makes one when absent. Adding an existing id is refused. */
  id?: string;
  title: string;
  description: string;
  type?: TaskType;
  priority?: TaskPriority;
  labels?: string[];
  /** owner/repo; overrides github.repository for this task. */
  repository?: string;
  maxAttempts?: number;
  /** Free-form context passed to the prompt generator (files, acceptance criteria, links). */
  context?: Record<string, unknown>;
  /**
   * Optional key that makes adding idempotent while the task is live: a second task with the same key is refused
   * (DuplicateTaskError, naming the live task's id) until the first reaches completed, failed or cancelled.
   * 1 to 200 printable ASCII characters without spaces, e.g. `issue:acme/web#123`.
   */
  dedupeKey?: string;
}

/** A task as stored. */
export interface Task {
  id: string;
  title: string;
  description: string;
  type: TaskType;
  priority: TaskPriority;
  labels: string[];
  repository?: string;
  context?: Record<string, unknown>;
  /** The dedupe key it was added with, if any (see NewTask.dedupeKey). */
  dedupeKey?: string;
  status: TaskStatus;
  attempts: number;
  maxAttempts: number;
  /** When a task in `retry` (or `pending`) becomes claimable. */
  nextRunAt?: string;
  checkpoint: TaskCheckpoint;
  lastError?: TaskError;
  /** Free-form feedback attached by people or by the feedback handler. */
  feedback?: unknown[];
  /** First claim since the task was added or retried by a person; the task's deadline counts from here. */
  startedAt?: string;
  /** Times a worker holding the task was lost (its lease expired) since it was added or retried by a person. */
  leaseExpiries?: number;
  createdAt: string;
  updatedAt: string;
}

/** The lease a worker holds on a claimed task. Every write to the task carries `token`. */
export interface Lease {
  owner: string;
  /** The fencing token: new on every claim; a write with an older token is refused. */
  token: string;
  expiresAt: string;
}

/** A task together with the lease under which this worker holds it. */
export interface ClaimedTask {
  task: Task;
  lease: Lease;
  /**
   * Set by the claimer, not the store: this process's clock just before the claim was sent. The lease cannot
   * have been granted earlier, so the lease keeper counts the lease from here.
   */
  claimedAt?: number;
}

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
