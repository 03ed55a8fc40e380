/**
 * What a replica does for its operators: retention (retention.ts) when it holds the database (a SQL or SQLite
 * store with operations), and its report for the status page (replica-report.ts), written to the database or
 * sent to the Task API (PUT /replicas/{name}). A replica that reaches an embedded store through its owner
 * does neither; the owner does.
 */
import { storeOperations, type ReplicaState, type StoreOperations } from '../adapters/task-store/operations.js';
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

/** A store that takes replica reports without offering every operation (the Task API over HTTP). */
function replicaReporter(store: object): Pick<StoreOperations, 'reportReplica'> | undefined {
  const candidate = store as Partial<StoreOperations>;
  return typeof candidate.reportReplica === 'function'
    ? (candidate as Pick<StoreOperations, 'reportReplica'>)
    : undefined;
}

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
  // The Task API over HTTP takes reports (PUT /replicas/{name}) but runs retention itself.
  const reporter = ops ?? replicaReporter(deps.store);
  const maxAgeMs = retentionAgeMs(deps.config.retention);
  const retention = ops
    ? startRetention({
        ops,
        settings: { ...deps.config.retention, maxAgeMs },
        holder: deps.worker,
        metrics: deps.metrics,
        logger: deps.logger,
      })
    : undefined;
  if (!reporter) return { stop: () => retention?.stop() };
  const reports = startReplicaReports({
    ops: reporter,
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
      retention?.stop();
      reports.stop();
    },
  };
}
