/**
 * Every Prometheus metric the daemon exports. The only module that imports prom-client. Labels are bounded
 * (step, outcome, category, dependency, kind), never a task id. Each daemon (or CodegenClient) owns its
 * registry, so several can live in one process (tests) without clashing.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { initialiseSeries } from './metric-series.js';

/** Seconds; reaches an hour because an agent run takes minutes, not milliseconds. */
export const LONG_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600];
/** Seconds; for single HTTP requests and store queries. */
export const SHORT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface Metrics {
  registry: Registry;
  tasksClaimed: Counter<'source'>;
  /** outcome: completed, failed, retried, released, cancelled. */
  tasksFinished: Counter<'outcome' | 'category'>;
  prsCreated: Counter<'origin'>;
  agentRunsCreated: Counter;
  taskDuration: Histogram<'outcome'>;
  stepDuration: Histogram<'step' | 'outcome'>;
  tasksInFlight: Gauge;
  poolSize: Gauge;
  queueDepth: Gauge<'status'>;
  externalRequests: Counter<'dependency' | 'kind' | 'outcome'>;
  externalRequestDuration: Histogram<'dependency' | 'kind'>;
  rateLimited: Counter<'dependency'>;
  circuitState: Gauge<'dependency'>;
  leaseLost: Counter;
  claimErrors: Counter;
  intakePaused: Gauge<'reason'>;
  successRate: Gauge;
  buildInfo: Gauge<'version' | 'node'>;
  /** Tasks completed on a later attempt after a counted failed one (the seed's error recovery). */
  tasksRecovered: Counter;
  /** 1 while a credential is refused, by system (codegen, github, task-store). */
  credentialsRefused: Gauge<'system'>;
  /** 1 healthy, 0 while a dependency is in an outage. */
  dependencyUp: Gauge<'dependency'>;
  /** 1 when rate-limit budgets are shared through Redis, 0 on the local fallback. */
  rateLimiterShared: Gauge<'dependency'>;
  /** Repositories whose tasks are parked. */
  repositoriesParked: Gauge;
  /** Age of the oldest claimable task, 0 when none. */
  oldestReadyTaskAge: Gauge;
  /** Age of the oldest finished task retention has not deleted yet. */
  retentionOldestFinishedAge: Gauge;
  /** Rows retention deleted, by table (tasks, task_events). */
  retentionDeleted: Counter<'table'>;
  /** When retention last ran to the end on any replica (Unix seconds), 0 when never. */
  retentionLastRun: Gauge;
  /** The configured retention age in seconds; 0 keeps finished tasks for ever. */
  retentionMaxAge: Gauge;
  /** Agent runs found by their intent instead of being created again (how: intent, reconciler). */
  agentRunsAdopted: Counter<'how'>;
  /** The reconciler's findings (adopted, late-pr, extra-run). */
  reconcileSightings: Counter<'outcome'>;
}

export interface MetricsOptions {
  /** Collect Node's default process metrics. Default true. */
  defaultMetrics?: boolean;
  version?: string;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: 'codegen_pr_' });
    // prom-client also exports these three counts as gauges named *_total, which `promtool check metrics`
    // rejects (only counters end in _total). The same numbers stay available, broken down by type, in
    // codegen_pr_nodejs_active_{handles,requests,resources}: sum() them for the total.
    for (const name of ['handles', 'requests', 'resources'])
      registry.removeSingleMetric(`codegen_pr_nodejs_active_${name}_total`);
  }
  const registers = [registry];

  const metrics: Metrics = {
    registry,
    tasksClaimed: new Counter({
      name: 'codegen_pr_tasks_claimed_total',
      help: 'Tasks claimed from the task store.',
      labelNames: ['source'],
      registers,
    }),
    tasksFinished: new Counter({
      name: 'codegen_pr_tasks_finished_total',
      help: 'Task attempts finished, by outcome (completed, failed, retried, released, cancelled) and error category.',
      labelNames: ['outcome', 'category'],
      registers,
    }),
    prsCreated: new Counter({
      name: 'codegen_pr_prs_created_total',
      help: 'Pull requests made ready for a task, by origin (agent: opened by Codegen; daemon: opened by us).',
      labelNames: ['origin'],
      registers,
    }),
    agentRunsCreated: new Counter({
      name: 'codegen_pr_agent_runs_created_total',
      help: 'Codegen agent runs created.',
      registers,
    }),
    taskDuration: new Histogram({
      name: 'codegen_pr_task_duration_seconds',
      help: 'Time from claim to the end of an attempt.',
      labelNames: ['outcome'],
      buckets: LONG_BUCKETS,
      registers,
    }),
    stepDuration: new Histogram({
      name: 'codegen_pr_step_duration_seconds',
      help: 'Time spent in each pipeline step.',
      labelNames: ['step', 'outcome'],
      buckets: [...SHORT_BUCKETS.slice(0, -1), ...LONG_BUCKETS.slice(2)],
      registers,
    }),
    tasksInFlight: new Gauge({
      name: 'codegen_pr_tasks_in_flight',
      help: 'Tasks being processed by this replica.',
      registers,
    }),
    poolSize: new Gauge({ name: 'codegen_pr_pool_size', help: 'Configured concurrency of this replica.', registers }),
    queueDepth: new Gauge({
      name: 'codegen_pr_queue_depth',
      help: 'Tasks in the store by status, as last seen by this replica.',
      labelNames: ['status'],
      registers,
    }),
    externalRequests: new Counter({
      name: 'codegen_pr_external_requests_total',
      help: 'Outbound requests by dependency, kind and outcome (ok or an error category).',
      labelNames: ['dependency', 'kind', 'outcome'],
      registers,
    }),
    externalRequestDuration: new Histogram({
      name: 'codegen_pr_external_request_duration_seconds',
      help: 'Outbound request latency.',
      labelNames: ['dependency', 'kind'],
      buckets: SHORT_BUCKETS,
      registers,
    }),
    rateLimited: new Counter({
      name: 'codegen_pr_rate_limited_total',
      help: 'Responses that said we were rate limited.',
      labelNames: ['dependency'],
      registers,
    }),
    circuitState: new Gauge({
      name: 'codegen_pr_circuit_state',
      help: 'Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open.',
      labelNames: ['dependency'],
      registers,
    }),
    leaseLost: new Counter({
      name: 'codegen_pr_lease_lost_total',
      help: 'Tasks abandoned because another worker holds a newer lease.',
      registers,
    }),
    claimErrors: new Counter({
      name: 'codegen_pr_claim_errors_total',
      help: 'Polls of the task store that failed.',
      registers,
    }),
    intakePaused: new Gauge({
      name: 'codegen_pr_intake_paused',
      help: '1 while intake is paused, by reason (auth, quota, error_rate, shutdown).',
      labelNames: ['reason'],
      registers,
    }),
    successRate: new Gauge({
      name: 'codegen_pr_success_ratio',
      help: 'Completed / finished attempts since start (0..1).',
      registers,
    }),
    buildInfo: new Gauge({
      name: 'codegen_pr_build_info',
      help: 'Version of codegen-pr and of Node.',
      labelNames: ['version', 'node'],
      registers,
    }),
    tasksRecovered: new Counter({
      name: 'codegen_pr_tasks_recovered_total',
      help: 'Tasks completed on a later attempt after a counted failed one (error recovery).',
      registers,
    }),
    credentialsRefused: new Gauge({
      name: 'codegen_pr_credentials_refused',
      help: '1 while the credential of a system (codegen, github, task-store) is refused; intake is paused for it.',
      labelNames: ['system'],
      registers,
    }),
    dependencyUp: new Gauge({
      name: 'codegen_pr_dependency_up',
      help: '1 while a dependency answers, 0 during an outage confirmed by a failed probe (tasks handed back, intake paused).',
      labelNames: ['dependency'],
      registers,
    }),
    rateLimiterShared: new Gauge({
      name: 'codegen_pr_rate_limiter_shared',
      help: '1 when rate-limit budgets are shared with the other replicas through Redis, 0 on the local fallback.',
      labelNames: ['dependency'],
      registers,
    }),
    repositoriesParked: new Gauge({
      name: 'codegen_pr_repositories_parked',
      help: 'Repositories whose tasks are parked after a repository-scoped failure (no access, not connected).',
      registers,
    }),
    oldestReadyTaskAge: new Gauge({
      name: 'codegen_pr_oldest_ready_task_age_seconds',
      help: 'Age of the oldest task that could be claimed now (0 when none waits).',
      registers,
    }),
    retentionOldestFinishedAge: new Gauge({
      name: 'codegen_pr_retention_oldest_finished_age_seconds',
      help: 'Age of the oldest finished task still kept; retention deletes those older than its limit.',
      registers,
    }),
    ...createRetentionMetrics(registers),
    agentRunsAdopted: new Counter({
      name: 'codegen_pr_agent_runs_adopted_total',
      help: 'Agent runs found by their intent instead of being created again (how: intent, reconciler).',
      labelNames: ['how'],
      registers,
    }),
    reconcileSightings: new Counter({
      name: 'codegen_pr_reconcile_sightings_total',
      help: "The reconciler's findings among the organization's agent runs (adopted, late-pr, extra-run).",
      labelNames: ['outcome'],
      registers,
    }),
  };
  initialiseSeries(metrics);
  metrics.buildInfo.set({ version: options.version ?? 'unknown', node: process.version }, 1);
  return metrics;
}

/**
 * Retention's own metrics, one definition for both registries that carry them: the daemon's and the Task API's
 * (whichever process holds the database runs retention).
 */
export function createRetentionMetrics(registers: Registry[]) {
  return {
    retentionDeleted: new Counter({
      name: 'codegen_pr_retention_deleted_total',
      help: 'Rows retention deleted, by table (tasks: finished tasks past the retention age; task_events: their history).',
      labelNames: ['table'],
      registers,
    }),
    retentionLastRun: new Gauge({
      name: 'codegen_pr_retention_last_run_timestamp_seconds',
      help: 'When retention last ran to the end, on whichever replica held its lease (Unix time; 0 never seen).',
      registers,
    }),
    retentionMaxAge: new Gauge({
      name: 'codegen_pr_retention_max_age_seconds',
      help: 'Configured retention age: finished tasks older than this are deleted (0 keeps them for ever).',
      registers,
    }),
  };
}
