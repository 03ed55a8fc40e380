/**
 * Gauges that describe the queue rather than this replica's work: tasks in the store by status, and why intake
 * is paused. Refreshed on a timer (unref'd) and, for intake, whenever it pauses or resumes.
 *
 * Every label value is written on every refresh, zeros included: the store's count leaves out a status with no
 * rows, and a gauge not written keeps its last value, so a drained queue would otherwise go on showing its old
 * depth (and the stuck-queue alert would fire after every drained queue).
 */
import { TASK_STATUSES, type TaskStatus } from '../domain/task.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { INTAKE_REASONS } from '../observability/metric-series.js';
import type { TaskStore } from '../pipeline/ports.js';
import type { IntakeGate } from './intake.js';

export interface QueueGauges {
  /** Counts per status, as last read. */
  depth(): Partial<Record<TaskStatus, number>>;
  /** Count the queue and rewrite every gauge now; resolves when written (a failed count is logged). */
  refresh(): Promise<void>;
  refreshIntake(): void;
  stop(): void;
}

/** Start the refresh timer; the first refresh runs at once. */
export function startQueueGauges(deps: {
  store: Pick<TaskStore, 'countByStatus'>;
  intake: IntakeGate;
  metrics: Metrics;
  intervalMs: number;
  logger: Logger;
}): QueueGauges {
  let depth: Partial<Record<TaskStatus, number>> = {};
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
      depth = await deps.store.countByStatus();
      for (const status of TASK_STATUSES) deps.metrics.queueDepth.set({ status }, depth[status] ?? 0);
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
