/**
 * Gauges that describe the queue rather than this replica's work: tasks in the store by status, and why intake
 * is paused. Refreshed on a timer (unref'd) and, for intake, whenever it pauses or resumes.
 *
 * Every label value is written on every refresh, zeros included: the store's count leaves out a status with no
 * rows, and a gauge not written keeps its last value, so a drained queue would otherwise go on showing its old
 * depth (and the stuck-queue alert would fire after every drained queue).
 *
 * Cost: with a store that has operations (SQL and SQLite stores), each refresh reads the live queue only
 * (queueSnapshot: live counts, the oldest ready task, the oldest finished one, through partial indexes). The
 * finished statuses are counted with countByStatus, which does read finished rows, only when the live counts
 * changed (a task finished, or was retried) and at most every FINISHED_MIN_MS, or every FINISHED_MAX_MS
 * whatever happened (retention deleted some): an idle queue of a million finished tasks costs nothing more.
 */
import { TASK_STATUSES, type TaskStatus } from '../domain/task.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { INTAKE_REASONS } from '../observability/metric-series.js';
import type { TaskStore } from '../pipeline/ports.js';
import { FINISHED_STATUSES, LIVE_STATUSES, storeOperations } from '../adapters/task-store/operations.js';
import type { IntakeGate } from './intake.js';

export interface QueueGauges {
  /** Counts per status, as last read. */
  depth(): Partial<Record<TaskStatus, number>>;
  /** Count the queue and rewrite every gauge now; resolves when written (a failed count is logged). */
  refresh(): Promise<void>;
  refreshIntake(): void;
  stop(): void;
}

/** Finished counts are re-read no more often than this after the live counts changed, in ms. */
export const FINISHED_MIN_MS = 15_000;
/** ... and at least this often whatever happened, in ms. */
export const FINISHED_MAX_MS = 5 * 60_000;

/** Start the refresh timer; the first refresh runs at once. */
export function startQueueGauges(deps: {
  store: Pick<TaskStore, 'countByStatus'>;
  intake: IntakeGate;
  metrics: Metrics;
  intervalMs: number;
  logger: Logger;
  /** Clock of the finished-count cadence; default Date.now. */
  now?: () => number;
}): QueueGauges {
  let depth: Partial<Record<TaskStatus, number>> = {};
  const ops = storeOperations(deps.store);
  const clock = deps.now ?? Date.now;
  let lastLive = '';
  let finishedDirty = true;
  let finishedAt = -Infinity;
  // Reasons outside the known list (a pause named after an error category) are remembered so that they too go
  // back to 0 when they lapse, instead of disappearing or sticking at 1.
  const reasonsSeen = new Set<string>(INTAKE_REASONS);
  const refreshIntake = (): void => {
    // Timed pauses lapse by themselves: recompute every reason from the gate each time.
    const active = new Set(deps.intake.reasons().map((r) => r.reason));
    for (const reason of active) reasonsSeen.add(reason);
    for (const reason of reasonsSeen) deps.metrics.intakePaused.set({ reason }, active.has(reason) ? 1 : 0);
  };
  const refresh = async (): Promise<void> => {
    refreshIntake();
    try {
      if (!ops) {
        depth = await deps.store.countByStatus();
        for (const status of TASK_STATUSES) deps.metrics.queueDepth.set({ status }, depth[status] ?? 0);
        return;
      }
      const snapshot = await ops.queueSnapshot();
      for (const status of LIVE_STATUSES) deps.metrics.queueDepth.set({ status }, snapshot.live[status]);
      deps.metrics.oldestReadyTaskAge.set(snapshot.oldestReadyAgeSeconds);
      deps.metrics.retentionOldestFinishedAge.set(snapshot.oldestFinishedAgeSeconds);
      const live = JSON.stringify(snapshot.live);
      if (live !== lastLive) finishedDirty = true;
      lastLive = live;
      let finished: Partial<Record<TaskStatus, number>> = {};
      const since = clock() - finishedAt;
      if ((finishedDirty && since >= FINISHED_MIN_MS) || since >= FINISHED_MAX_MS) {
        const counts = await deps.store.countByStatus();
        finished = Object.fromEntries(FINISHED_STATUSES.map((status) => [status, counts[status] ?? 0]));
        for (const status of FINISHED_STATUSES) deps.metrics.queueDepth.set({ status }, counts[status] ?? 0);
        finishedAt = clock();
        finishedDirty = false;
      } else {
        finished = Object.fromEntries(FINISHED_STATUSES.map((status) => [status, depth[status] ?? 0]));
      }
      depth = { ...snapshot.live, ...finished };
    } catch (err) {
      // The last counts stay: a store that cannot be reached is its own alert, not an empty queue.
      deps.logger.debug({ err }, 'could not count tasks');
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), deps.intervalMs);
  timer.unref();
  return { depth: () => depth, refresh, refreshIntake, stop: () => clearInterval(timer) };
}
