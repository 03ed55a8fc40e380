/**
 * What a replica does for its operators when it holds the database (a SQL or SQLite store with operations):
 * retention (retention.ts) and its report for the status page (replica-report.ts). A replica that reaches the
 * store through the Task API or through an embedded store's owner has no operations: the process that holds
 * the database (the Task API, the owner) does this work instead.
 */
import { storeOperations, type ReplicaState } from '../adapters/task-store/operations.js';
import type { AppConfig } from '../config/load.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { TaskStore } from '../pipeline/ports.js';
import type { DaemonEvents } from './events.js';
import type { IntakeGate } from './intake.js';
import { OPERATOR_REASON, startReplicaReports } from './replica-report.js';
import { retentionAgeMs, startRetention } from './retention.js';

export interface OperatorDuties {
  stop(): void;
}

/** The fields of a replica's status worth showing on the status page (already redacted by getStatus). */
const REPORTED = [
  'worker',
  'dryRun',
  'activeTasks',
  'activeTaskIds',
  'concurrency',
  'intake',
  'outages',
  'parkedRepositories',
  'circuits',
  'rateBudgets',
  'lastPollAt',
] as const;

export function pickReport(status: Record<string, unknown>, version?: string): ReplicaState {
  const report: ReplicaState = {};
  for (const key of REPORTED) if (status[key] !== undefined) report[key] = status[key];
  if (version) report.version = version;
  return report;
}

export function startOperatorDuties(deps: {
  store: TaskStore;
  config: Pick<AppConfig, 'retention' | 'replicas'>;
  worker: string;
  intake: IntakeGate;
  events: DaemonEvents;
  metrics: Metrics;
  logger: Logger;
  state: () => Record<string, unknown>;
  version?: string;
}): OperatorDuties {
  const ops = storeOperations(deps.store);
  const maxAgeMs = retentionAgeMs(deps.config.retention);
  deps.metrics.retentionMaxAge.set(maxAgeMs / 1000);
  if (!ops) return { stop() {} };
  const retention = startRetention({
    ops,
    settings: { ...deps.config.retention, maxAgeMs },
    holder: deps.worker,
    metrics: deps.metrics,
    logger: deps.logger,
  });
  const reports = startReplicaReports({
    ops,
    name: deps.worker,
    startedAt: new Date().toISOString(),
    intervalMs: deps.config.replicas.reportIntervalMs,
    state: () => pickReport(deps.state(), deps.version),
    intake: deps.intake,
    onIntakeChange: (paused) =>
      paused
        ? deps.events.emit('intake_paused', { reason: OPERATOR_REASON })
        : deps.events.emit('intake_resumed', { reason: OPERATOR_REASON }),
    logger: deps.logger,
  });
  return {
    stop() {
      retention.stop();
      reports.stop();
    },
  };
}
