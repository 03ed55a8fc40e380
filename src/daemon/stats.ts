/**
 * The seed's getMetrics() figures, kept from daemon events: tasks processed, PRs created, errors, success
 * rate (percent), average processing time (ms), last processed time.
 */
import type { DaemonEvents } from './events.js';

export interface ClientMetrics {
  tasksProcessed: number;
  prsCreated: number;
  errors: number;
  retriesScheduled: number;
  successRate: number;
  averageProcessingTime: number;
  lastProcessedAt: string | null;
}

export function trackStats(events: DaemonEvents, onChange?: (m: ClientMetrics) => void): () => ClientMetrics {
  let completed = 0;
  let failed = 0;
  let retries = 0;
  let prs = 0;
  let totalMs = 0;
  let last: string | null = null;

  const snapshot = (): ClientMetrics => {
    const processed = completed + failed;
    return {
      tasksProcessed: processed,
      prsCreated: prs,
      errors: failed + retries,
      retriesScheduled: retries,
      successRate: processed === 0 ? 0 : Math.round((completed / processed) * 10_000) / 100,
      averageProcessingTime: processed === 0 ? 0 : Math.round(totalMs / processed),
      lastProcessedAt: last,
    };
  };

  events.on('task_completed', ({ durationMs }) => {
    completed += 1;
    totalMs += durationMs;
    last = new Date().toISOString();
    onChange?.(snapshot());
  });
  events.on('task_failed', ({ durationMs, willRetry }) => {
    if (willRetry) retries += 1;
    else {
      failed += 1;
      totalMs += durationMs;
      last = new Date().toISOString();
    }
    onChange?.(snapshot());
  });
  events.on('pr_created', () => {
    prs += 1;
  });
  return snapshot;
}

/** Tasks on a later attempt are remembered while in flight; the cap only bounds a leak if an end is missed. */
const MAX_RETRIED_IN_FLIGHT = 10_000;

/**
 * Counts the seed's error recovery on `counter`: a task completed on attempt 2 or later had a counted failed
 * attempt before and recovered from it. Attempts not counted (a release in an outage, a rate-limit wait) do not
 * make a completion a recovery. The attempt number comes from the store with the claim, so this holds when an
 * earlier attempt ran on another replica. Returns a function that unsubscribes.
 */
export function countRecoveries(events: DaemonEvents, counter: { inc(): void }): () => void {
  const retried = new Map<string, number>();
  const onClaimed = ({ taskId, attempt }: { taskId: string; attempt: number }): void => {
    if (attempt <= 1) return;
    if (retried.size >= MAX_RETRIED_IN_FLIGHT) retried.delete(retried.keys().next().value as string);
    retried.set(taskId, attempt);
  };
  const onCompleted = ({ taskId }: { taskId: string }): void => {
    if (retried.delete(taskId)) counter.inc();
  };
  const onEnded = ({ taskId }: { taskId: string }): void => {
    retried.delete(taskId);
  };
  events.on('task_claimed', onClaimed);
  events.on('task_completed', onCompleted);
  events.on('task_failed', onEnded);
  events.on('task_released', onEnded);
  events.on('lease_lost', onEnded);
  return () => {
    events.off('task_claimed', onClaimed);
    events.off('task_completed', onCompleted);
    events.off('task_failed', onEnded);
    events.off('task_released', onEnded);
    events.off('lease_lost', onEnded);
  };
}
