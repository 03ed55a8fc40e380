/**
 * Retention: every `intervalMs`, delete finished tasks (completed, failed, cancelled) that finished more than
 * `maxAgeMs` ago, with their history, in batches of `batchSize` (each its own short transaction), at most
 * `maxBatches` per run. Every replica runs the timer; the store's retention lease lets one at a time do the work
 * (the others find the lease held and only read when it last ran). maxAgeMs 0 keeps everything.
 *
 * Metrics: codegen_pr_retention_deleted_total{table}, codegen_pr_retention_last_run_timestamp_seconds (the
 * deployment's last complete run, whichever replica did it) and codegen_pr_retention_max_age_seconds (the
 * configured limit, for the RetentionBehind alert).
 */
import type { StoreOperations } from '../adapters/task-store/operations.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

export interface RetentionSettings {
  /** Finished tasks older than this are deleted; 0 keeps them for ever. */
  maxAgeMs: number;
  intervalMs: number;
  batchSize: number;
  maxBatches: number;
}

export interface Retention {
  /** One run now (the timer's work); resolves when done, never rejects (failures are logged). */
  runOnce(): Promise<void>;
  stop(): void;
}

/** The retention age from RETENTION_MS when set, else RETENTION_DAYS (0 keeps everything). */
export function retentionAgeMs(config: { days: number; ms: number }): number {
  return config.ms > 0 ? config.ms : config.days * 86_400_000;
}

export function startRetention(deps: {
  ops: StoreOperations;
  settings: RetentionSettings;
  /** This replica's name: the lease holder. */
  holder: string;
  metrics: Pick<Metrics, 'retentionDeleted' | 'retentionLastRun' | 'retentionMaxAge'>;
  logger: Logger;
  /** Start the timer; tests call runOnce instead. Default true. */
  timer?: boolean;
}): Retention {
  const { settings } = deps;
  const log = deps.logger.child({ component: 'retention' });
  deps.metrics.retentionMaxAge.set(settings.maxAgeMs / 1000);
  const controller = new AbortController();
  let running: Promise<void> | undefined;

  const work = async (): Promise<void> => {
    if (settings.maxAgeMs <= 0) return;
    try {
      const result = await deps.ops.pruneFinished(
        {
          olderThanMs: settings.maxAgeMs,
          batchSize: settings.batchSize,
          maxBatches: settings.maxBatches,
          holder: deps.holder,
          // Long enough for a full run of small batches; a holder that died frees it after this.
          leaseMs: Math.max(60_000, Math.min(settings.intervalMs, 30 * 60_000)),
        },
        controller.signal,
      );
      deps.metrics.retentionDeleted.inc({ table: 'tasks' }, result.tasks);
      deps.metrics.retentionDeleted.inc({ table: 'task_events' }, result.events);
      if (result.lastRunAt) deps.metrics.retentionLastRun.set(Date.parse(result.lastRunAt) / 1000);
      if (result.tasks > 0) log.info(result, 'retention deleted finished tasks');
      else log.debug(result, 'retention run');
      if (result.ran && result.batches >= settings.maxBatches) {
        log.warn(
          { maxBatches: settings.maxBatches },
          'retention stopped at its batch limit; the rest waits for the next run',
        );
      }
    } catch (err) {
      if (!controller.signal.aborted) log.warn({ err }, 'retention run failed; trying again at the next interval');
    }
  };
  const runOnce = (): Promise<void> => {
    running ??= work().finally(() => {
      running = undefined;
    });
    return running;
  };

  let timer: ReturnType<typeof setInterval> | undefined;
  if (deps.timer !== false && settings.maxAgeMs > 0) {
    // The first run soon after start, not at once: starting replicas have enough to do.
    const first = setTimeout(() => void runOnce(), Math.min(60_000, settings.intervalMs));
    first.unref();
    timer = setInterval(() => void runOnce(), settings.intervalMs);
    timer.unref();
    controller.signal.addEventListener('abort', () => clearTimeout(first), { once: true });
  }
  return {
    runOnce,
    stop() {
      if (timer) clearInterval(timer);
      controller.abort();
    },
  };
}
