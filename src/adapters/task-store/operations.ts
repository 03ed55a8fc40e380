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

export interface StoreOperations {
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

/** Every live status at 0, then the counts read. */
export function liveCounts(rows: Array<{ status: string; n: number | string }>): Record<LiveStatus, number> {
  const live = Object.fromEntries(LIVE_STATUSES.map((s) => [s, 0])) as Record<LiveStatus, number>;
  for (const row of rows) {
    if ((LIVE_STATUSES as readonly string[]).includes(row.status)) live[row.status as LiveStatus] = Number(row.n);
  }
  return live;
}
