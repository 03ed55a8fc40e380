/**
 * Gauges that describe the queue rather than this replica's work: tasks in the store by status, and why intake
 * is paused. Refreshed on a timer (unref'd) and, for intake, whenever it pauses or resumes.
 */
import type { TaskStatus } from '../domain/task.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { TaskStore } from '../pipeline/ports.js';
import type { IntakeGate } from './intake.js';

export interface QueueGauges {
  /** Counts per status, as last read. */
  depth(): Partial<Record<TaskStatus, number>>;
  refreshIntake(): void;
  stop(): void;
}

export function startQueueGauges(deps: {
  store: Pick<TaskStore, 'countByStatus'>;
  intake: IntakeGate;
  metrics: Metrics;
  intervalMs: number;
  logger: Logger;
}): QueueGauges {
  let depth: Partial<Record<TaskStatus, number>> = {};
  const refreshIntake = (): void => {
    // Timed pauses lapse by themselves: rebuild the label set from the gate each time.
    deps.metrics.intakePaused.reset();
    for (const { reason } of deps.intake.reasons()) deps.metrics.intakePaused.set({ reason }, 1);
  };
  const refresh = async (): Promise<void> => {
    refreshIntake();
    try {
      depth = await deps.store.countByStatus();
      for (const [status, count] of Object.entries(depth)) deps.metrics.queueDepth.set({ status }, count);
    } catch (err) {
      deps.logger.debug({ err }, 'could not count tasks');
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), deps.intervalMs);
  timer.unref();
  return { depth: () => depth, refreshIntake, stop: () => clearInterval(timer) };
}
