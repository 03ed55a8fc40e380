/**
 * What the Task API on Node does besides answering requests: its /metrics registry, and retention when it
 * holds the database (PostgreSQL, or the embedded store it owns). Daemons that reach the store through the
 * Task API cannot run retention themselves; with PostgreSQL both may try, and the store's retention lease
 * lets one at a time do the work. Node only (prom-client, timers); the Worker has neither.
 */
import { hostname } from 'node:os';
import { storeOperations } from '../adapters/task-store/operations.js';
import type { AppConfig } from '../config/load.js';
import { retentionAgeMs, startRetention } from '../daemon/retention.js';
import type { Logger } from '../observability/logger.js';
import { createTaskApiMetrics, type TaskApiMetrics } from '../observability/metrics-task-api.js';
import type { TaskStore } from '../pipeline/ports.js';

export interface TaskApiDuties {
  metrics: TaskApiMetrics;
  stop(): void;
}

export function startTaskApiDuties(deps: {
  store: TaskStore;
  config: Pick<AppConfig, 'retention'>;
  logger: Logger;
  version?: string;
}): TaskApiDuties {
  const ops = storeOperations(deps.store);
  const metrics = createTaskApiMetrics({
    ...(ops ? { ops } : {}),
    ...(deps.version ? { version: deps.version } : {}),
    onError: (err) => deps.logger.debug({ err }, 'could not read the queue for /metrics'),
  });
  if (!ops) return { metrics, stop() {} };
  const retention = startRetention({
    ops,
    settings: { ...deps.config.retention, maxAgeMs: retentionAgeMs(deps.config.retention) },
    holder: `task-api:${hostname()}:${process.pid}`,
    metrics: metrics.retention,
    logger: deps.logger,
  });
  return { metrics, stop: () => retention.stop() };
}
