/**
 * What operators need from a task store beyond the TaskStore port: a cheap snapshot of the live queue, retention
 * (deleting finished tasks and their history in small batches, one replica at a time), the replicas' reports of
 * their intake, breakers and budgets, and the intake requests people make from the status page.
 *
 * The SQL stores (PostgreSQL, PGlite) and the SQLite store implement it; a store that does not (the Task API
 * over HTTP, the embedded store reached through its owner) simply has no `operations`, and whoever owns the
 * database does the work. No Node-only imports: the Task API's Worker uses these types.
 */
import type { TaskStatus } from '../../domain/task.js';

/** Statuses a task can still leave: the queue. */
export const LIVE_STATUSES = ['pending', 'retry', 'claimed', 'awaiting_agent'] as const satisfies TaskStatus[];
/** Statuses retention may delete. */
export const FINISHED_STATUSES = ['completed', 'failed', 'cancelled'] as const satisfies TaskStatus[];
export type LiveStatus = (typeof LIVE_STATUSES)[number];

/** The live queue, read from live rows only (partial indexes), so its cost does not grow with finished rows. */
export interface QueueSnapshot {
  /** Live tasks by status, every live status present (0 included). */
  live: Record<LiveStatus, number>;
  /** Seconds the oldest task that could be claimed now has been claimable; 0 when none is. */
  oldestReadyAgeSeconds: number;
  /** Seconds since the oldest finished task still kept finished; 0 when none is kept. */
  oldestFinishedAgeSeconds: number;
}

export interface PruneOptions {
  /** Finished tasks that finished longer ago than this are deleted, with their history. At least 1. */
  olderThanMs: number;
  /** Tasks deleted per transaction (each batch is its own short transaction). */
  batchSize: number;
  /** Batches per run at most: a run is bounded; what is left waits for the next run. */
  maxBatches: number;
  /** The replica asking; recorded as the lease holder. */
  holder: string;
  /** How long the retention lease is held before another replica may take it over (a crashed holder). */
  leaseMs: number;
}

export interface PruneResult {
  /** False when another replica holds the retention lease (nothing was done). */
  ran: boolean;
  tasks: number;
  events: number;
  batches: number;
  /** When retention last ran to the end, on any replica (ISO-8601), if ever. */
  lastRunAt?: string;
}

/** What a replica reports about itself (a small JSON document; never secrets, never people's emails). */
export type ReplicaState = Record<string, unknown>;

/** A replica's last report, and what people asked of its intake. */
export interface ReplicaRecord {
  name: string;
  reportedAt: string;
  startedAt?: string;
  report: ReplicaState;
  /** Set from the status page: the replica pauses (or resumes) its intake when it next reports. */
  intakeRequest?: { state: 'paused' | 'running'; by: string; at: string };
}

/** Something a person did that is not a task's (pausing or resuming intake). */
export interface OperatorAction {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  detail?: Record<string, unknown>;
}

/** A task some worker holds now, as the status page shows it. */
export interface InFlightTask {
  id: string;
  title: string;
  status: 'claimed' | 'awaiting_agent';
  repository?: string;
  /** The worker holding the lease. */
  worker?: string;
  agentRunUrl?: string;
  /** Its last recorded change (a claim, a checkpoint, a heartbeat does not count). */
  updatedAt: string;
  leaseExpiresAt?: string;
  attempts: number;
}

export interface StoreOperations {
  /** Tasks claimed or awaiting their agent, longest without a change first (live rows only). */
  listInFlight(limit: number, signal?: AbortSignal): Promise<InFlightTask[]>;
  queueSnapshot(signal?: AbortSignal): Promise<QueueSnapshot>;
  /** One bounded retention run, when this replica can take the retention lease. */
  pruneFinished(options: PruneOptions, signal?: AbortSignal): Promise<PruneResult>;
  /** Upsert the replica's report; returns its row, with any intake request people made. */
  reportReplica(name: string, startedAt: string, report: ReplicaState, signal?: AbortSignal): Promise<ReplicaRecord>;
  /** Replicas that reported within `withinMs` (default: all), most recent first. */
  listReplicas(withinMs?: number, signal?: AbortSignal): Promise<ReplicaRecord[]>;
  /**
   * Ask replica `target` (or every known replica, `*`) to pause or resume intake; recorded in operator_actions
   * with `actor`. Refused (task-not-found style, code replica-not-found) for an unknown replica.
   */
  requestIntake(target: string, state: 'paused' | 'running', actor: string, signal?: AbortSignal): Promise<void>;
  /** The latest operator actions, newest first. */
  listOperatorActions(limit: number, signal?: AbortSignal): Promise<OperatorAction[]>;
}

/** The store's operations, when it has them. Wrappers (instrumenting, retrying) copy them through. */
export function storeOperations(store: object): StoreOperations | undefined {
  const candidate = store as Partial<StoreOperations>;
  return typeof candidate.queueSnapshot === 'function' &&
    typeof candidate.pruneFinished === 'function' &&
    typeof candidate.reportReplica === 'function'
    ? (candidate as StoreOperations)
    : undefined;
}

/** A row of the in-flight query (both stores select the same columns). */
export function toInFlight(row: Record<string, unknown>): InFlightTask {
  const text = (v: unknown): string | undefined =>
    v === null || v === undefined ? undefined : v instanceof Date ? v.toISOString() : String(v);
  const task: InFlightTask = {
    id: String(row.id),
    title: String(row.title),
    status: row.status === 'awaiting_agent' ? 'awaiting_agent' : 'claimed',
    updatedAt: text(row.updated_at) ?? '',
    attempts: Number(row.attempts ?? 0),
  };
  const repository = text(row.repository);
  const worker = text(row.lease_owner);
  const agentRunUrl = text(row.agent_run_url);
  const leaseExpiresAt = text(row.lease_expires_at);
  if (repository) task.repository = repository;
  if (worker) task.worker = worker;
  if (agentRunUrl) task.agentRunUrl = agentRunUrl;
  if (leaseExpiresAt) task.leaseExpiresAt = leaseExpiresAt;
  return task;
}

/** The columns and order of the in-flight query; `limit` is bound as the only parameter. */
export const IN_FLIGHT_COLUMNS =
  'id, title, status, repository, lease_owner, agent_run_url, updated_at, lease_expires_at, attempts';

/** Every live status at 0, then the counts read. */
export function liveCounts(rows: Array<{ status: string; n: number | string }>): Record<LiveStatus, number> {
  const live = Object.fromEntries(LIVE_STATUSES.map((s) => [s, 0])) as Record<LiveStatus, number>;
  for (const row of rows) {
    if ((LIVE_STATUSES as readonly string[]).includes(row.status)) live[row.status as LiveStatus] = Number(row.n);
  }
  return live;
}
