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
