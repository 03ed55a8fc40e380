/**
 * The ports the pipeline talks through. Steps import these interfaces only, never an adapter, got or Octokit.
 * Every method that may do I/O takes an AbortSignal: the task's signal reaches every outbound call.
 */
import type {
  ClaimedTask,
  Lease,
  NewTask,
  PullRequestRef,
  RunIntent,
  Task,
  TaskError,
  TaskStatus,
  TaskPriority,
} from '../domain/task.js';

// ---------------------------------------------------------------------------------------------------------------
// Task store
// ---------------------------------------------------------------------------------------------------------------

export interface ClaimOptions {
  /** Stable name of the claiming worker (host:pid:random), recorded as lease owner and in the history. */
  worker: string;
  /** At most this many tasks. */
  limit: number;
  /** Lease length; the worker heartbeats at half of it. */
  leaseMs: number;
  /** Only these tasks (CodegenClient.processTask claims the one task it was given). */
  taskIds?: string[];
  /**
   * A task whose worker was lost this many times (its lease expired each time) is failed instead of claimed
   * again: it may be what takes its workers down. Default 10.
   */
  maxLeaseExpiries?: number;
  /**
   * Long poll: when nothing is claimable, wait up to this long (ms) for a task to be added, retried or released,
   * then claim once more. Only the Task API honours it (a server with a wake-up source); other stores answer at
   * once, and the scheduler's poll is the backstop either way.
   */
  waitMs?: number;
  /**
   * Per-repository in-flight cap: a claim never hands out a task whose repository already has its cap of tasks
   * held under a live lease (claimed or awaiting_agent); the rest of the queue is claimed past it, so one busy
   * repository cannot starve the others. Absent, or every cap 0: no cap.
   */
  repositoryCap?: RepositoryCap;
}

/** The in-flight cap of a claim (ClaimOptions.repositoryCap). */
export interface RepositoryCap {
  /** Cap of every repository not named in `overrides`; 0 is no cap. */
  default: number;
  /** Caps by "owner/repo"; 0 is no cap for that repository. */
  overrides?: Record<string, number>;
  /**
   * The repository of tasks that name none (the daemon's GITHUB_REPOSITORY): they count, and are capped, as that
   * repository's. Absent: such tasks form one group of their own under the default cap.
   */
  unnamedAs?: string;
}

export interface FailureReport {
  error: TaskError;
  /** When set (and attempts remain), the task goes to `retry` and becomes claimable at this time. */
  retryAt?: string;
  /** False when the failure should not use up an attempt (rate limits, shutdown). Default true. */
  countAttempt?: boolean;
  /**
   * The recorded agent run is over (it failed, or ended without changes): forget it and its intent, so the next
   * attempt starts a new run instead of reading the finished one again. Its id stays in the task's history.
   */
  dropRun?: boolean;
}

/** What the reconciler saw of an agent run that names a task in its metadata. */
export interface AgentRunSighting {
  runId: number;
  url?: string;
  /** live: still running or paused; succeeded; failed. */
  state: 'live' | 'succeeded' | 'failed';
  /** The run intent nonce from the run's metadata, when it carries one. */
  intent?: string;
  /** The PR the run opened, when it opened one. */
  pr?: PullRequestRef;
}

/**
 * What the store did with a sighting: adopted (a live or finished run nobody recorded is now the task's run),
 * late-pr (a PR from a run of a task that had already failed or been cancelled is recorded on it), extra-run
 * (a second run of a task that has its own; noted in the history for people to look at), or none.
 */
export type SightingOutcome = 'adopted' | 'late-pr' | 'extra-run' | 'none';

export interface CompletionReport {
  pr?: PullRequestRef;
  /** Why a task completed without a PR (the agent made no changes and policy allows it). */
  note?: string;
}

export interface TaskListFilter {
  status?: TaskStatus;
  priority?: TaskPriority;
  repository?: string;
  /** 1..500, default 50. */
  limit?: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface TaskPage {
  tasks: Task[];
  nextCursor?: string;
}

/** One line of a task's history (the task_events table). */
export interface TaskEvent {
  id: number;
  taskId: string;
  at: string;
  /** Worker name, `api`, `cli`, or `system`. */
  actor: string;
  /** e.g. created, claimed, agent-run-recorded, pr-recorded, completed, failed, retry-scheduled, released, cancelled. */
  kind: string;
  fromStatus?: TaskStatus;
  toStatus?: TaskStatus;
  detail?: Record<string, unknown>;
}

/**
 * The durable queue of tasks. Leased writes take the fencing token of the claim and are refused with a
 * DaemonError code `stale-lease` (category conflict) when the token is no longer current.
 * Transitions that break the state machine are refused with code `invalid-transition`.
 */
export interface TaskStore {
  /**
   * Atomically claim up to `limit` claimable tasks: pending, retry whose nextRunAt has passed, and claimed or
   * awaiting_agent whose lease expired. Each claim gets a new fencing token and increments `attempts`.
   */
  claimTasks(options: ClaimOptions, signal?: AbortSignal): Promise<ClaimedTask[]>;
  /** Extend the lease; refused when the token is stale. */
  heartbeat(taskId: string, token: string, leaseMs: number, signal?: AbortSignal): Promise<Lease>;
  /**
   * Record the intent to create an agent run (before the create call): the nonce goes into the run's metadata.
   * Returns the intent with the store's time of recording.
   */
  recordRunIntent(taskId: string, token: string, nonce: string, signal?: AbortSignal): Promise<RunIntent>;
  /** Checkpoint the agent run before waiting on it; the task moves to awaiting_agent. */
  recordAgentRun(taskId: string, token: string, run: { id: number; url?: string }, signal?: AbortSignal): Promise<void>;
  /** Checkpoint the pull request as soon as it is known. */
  recordPullRequest(taskId: string, token: string, pr: PullRequestRef, signal?: AbortSignal): Promise<void>;
  completeTask(taskId: string, token: string, report: CompletionReport, signal?: AbortSignal): Promise<void>;
  /** Fail the task: to `retry` when retryAt is given and attempts remain, else to `failed`. Returns the new task. */
  failTask(taskId: string, token: string, report: FailureReport, signal?: AbortSignal): Promise<Task>;
  /** Give the task back (shutdown): lease dropped, checkpoint kept, attempt refunded, status pending. */
  releaseTask(taskId: string, token: string, signal?: AbortSignal): Promise<void>;

  /**
   * Add tasks, all or nothing. A task with an id that already exists is refused (code task-exists); a task whose
   * dedupeKey a live task holds is refused with DuplicateTaskError (code task-duplicate, `existingTaskId`); a
   * batch that repeats a dedupeKey is refused as invalid-task naming both places. Either refusal adds nothing.
   */
  addTasks(tasks: NewTask[], actor?: string, signal?: AbortSignal): Promise<Task[]>;
  getTask(taskId: string, signal?: AbortSignal): Promise<Task | undefined>;
  getTaskHistory(taskId: string, signal?: AbortSignal): Promise<TaskEvent[]>;
  listTasks(filter: TaskListFilter, signal?: AbortSignal): Promise<TaskPage>;
  /** failed or cancelled -> pending, attempts reset; refused (task-duplicate) while another live task holds its dedupeKey. */
  retryTask(taskId: string, actor?: string, signal?: AbortSignal): Promise<Task>;
  /** any non-terminal -> cancelled; a held lease becomes stale. */
  cancelTask(taskId: string, actor?: string, signal?: AbortSignal): Promise<Task>;
  /** Append feedback (from people, or the feedback handler's suggestions). */
  addFeedback(taskId: string, feedback: Record<string, unknown>, actor?: string, signal?: AbortSignal): Promise<Task>;
  /**
   * The reconciler's write, without a lease: adopt a run nobody recorded (only when no worker holds a live
   * lease, the task tracks no run, and the run carries the task's current intent), record a late PR on a
   * failed or cancelled task, or note an extra run in the history. Safe to repeat.
   */
  noteAgentRun(taskId: string, sighting: AgentRunSighting, signal?: AbortSignal): Promise<SightingOutcome>;
  /** Record the PR's state as last seen on GitHub (merged, closed). No lease needed: the task may be terminal. */
  updatePullRequestState(taskId: string, state: 'open' | 'merged' | 'closed', signal?: AbortSignal): Promise<void>;
  /** Counts per status (queue depth for metrics and status). */
  countByStatus(signal?: AbortSignal): Promise<Partial<Record<TaskStatus, number>>>;
  /** Throws when the store cannot be reached. */
  ping(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Codegen (the agent)
// ---------------------------------------------------------------------------------------------------------------

/** Codegen's free-form status folded into what the daemon acts on. */
export type AgentRunState = 'in_progress' | 'succeeded' | 'failed' | 'paused' | 'unknown';

export interface AgentPullRequest {
  /** Codegen's own PR id. */
  id: number;
  url?: string;
  branch?: string;
  title?: string;
}

export interface AgentRun {
  id: number;
  /** The status string exactly as Codegen sent it (may be null). */
  status: string | null;
  state: AgentRunState;
  webUrl?: string;
  result?: string;
  summary?: string;
  createdAt?: string;
  pullRequests: AgentPullRequest[];
  metadata?: Record<string, unknown>;
}

export interface CreateAgentRunInput {
  prompt: string;
  /** Codegen's repo id (not GitHub's), from resolveRepoId. */
  repoId?: number;
  /** Must carry task_id: it is how a daemon that crashed before checkpointing finds its run again. */
  metadata: Record<string, unknown> & { task_id: string };
}

/** Parameters of the run listing. */
export interface AgentRunListParams {
  skip?: number;
  /** 1..100. */
  limit?: number;
  /** ApiAgentRunSourceType, e.g. API. */
  sourceType?: string;
  userId?: number;
}

/** One page of runs, newest first. */
export interface AgentRunPage {
  items: AgentRun[];
  total: number;
}

export interface AgentIdentity {
  userId: number;
  username?: string;
  email?: string;
}

export interface AgentApi {
  createAgentRun(input: CreateAgentRunInput, signal?: AbortSignal): Promise<AgentRun>;
  getAgentRun(runId: number, signal?: AbortSignal): Promise<AgentRun>;
  /**
   * Look among the organization's API-created runs (newest first) for the one created for this intent
   * (metadata.task_id and metadata.intent), paging back until the runs are older than the intent.
   */
  findAgentRunByIntent(taskId: string, intent: RunIntent, signal?: AbortSignal): Promise<AgentRun | undefined>;
  /** One page of the organization's runs, newest first (skip, limit <= 100, source type). */
  listAgentRuns(params: AgentRunListParams, signal?: AbortSignal): Promise<AgentRunPage>;
  resumeAgentRun(runId: number, prompt: string, signal?: AbortSignal): Promise<AgentRun>;
  /** owner/repo -> Codegen repo id; undefined when the organization has no such repository. */
  resolveRepoId(fullName: string, signal?: AbortSignal): Promise<number | undefined>;
  /** GET /v1/users/me: validates the token. */
  whoAmI(signal?: AbortSignal): Promise<AgentIdentity>;
}

// ---------------------------------------------------------------------------------------------------------------
// GitHub (the code host)
// ---------------------------------------------------------------------------------------------------------------

export interface RepositoryRef {
  owner: string;
  repo: string;
}

/** What the PR must carry, already resolved from config (global defaults merged with per-repository overrides). */
export interface PullRequestPolicy {
  baseBranch: string;
  labels: string[];
  assignees: string[];
  reviewers: string[];
  teamReviewers: string[];
  draft: boolean;
  /** What to do when the run ended with no PR and no pushed branch. */
  onNoChanges: 'fail' | 'complete';
}

export interface EnsurePullRequestInput {
  task: Task;
  run: AgentRun;
  repository: RepositoryRef;
  policy: PullRequestPolicy;
  /** A link to the task for the PR body (Task API URL or a configured template). */
  taskUrl?: string;
  /** PR already checkpointed on the task by an earlier attempt. */
  knownPr?: PullRequestRef;
  /** The branch the prompt asked the agent to push (branch prefix + task id): looked for when the run names none. */
  expectedBranch: string;
}

export type PullRequestOutcome =
  { kind: 'pull-request'; pr: PullRequestRef; created: boolean } | { kind: 'no-changes'; note: string };

export interface PullRequestStatus {
  state: 'open' | 'merged' | 'closed';
  draft: boolean;
  /** Combined check state of the head commit, when known. */
  checks?: 'pending' | 'success' | 'failure' | 'neutral';
  url: string;
  number: number;
  updatedAt?: string;
}

export interface CodeHost {
  /**
   * Make sure exactly one proper PR exists for the task: take it from the run, or open it from the run's branch
   * (finding an existing one first), then apply labels, assignees, reviewers and the task section. Safe to repeat.
   */
  ensurePullRequest(input: EnsurePullRequestInput, signal?: AbortSignal): Promise<PullRequestOutcome>;
  getPullRequestStatus(repository: RepositoryRef, number: number, signal?: AbortSignal): Promise<PullRequestStatus>;
  /** A cheap authenticated request (GitHub's rate_limit), to tell an outage or a refused credential from health. */
  probe(signal?: AbortSignal): Promise<void>;
}
