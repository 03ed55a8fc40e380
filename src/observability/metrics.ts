/**
 * Every Prometheus metric the daemon exports. The only module that imports prom-client. Labels are bounded
 * (step, outcome, category, dependency, kind), never a task id. Each daemon (or CodegenClient) owns its
 * registry, so several can live in one process (tests) without clashing.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
  /** 1 while a dependency's rate limits are shared through Redis, 0 while this replica keeps its own share. */
  rateLimiterShared: Gauge<'dependency'>;
  leaseLost: Counter;
  claimErrors: Counter;
  intakePaused: Gauge<'reason'>;
  successRate: Gauge;
  buildInfo: Gauge<'version' | 'node'>;
}

export interface MetricsOptions {
  /** Collect Node's default process metrics. Default true. */
  defaultMetrics?: boolean;
  version?: string;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'codegen_pr_' });
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
    rateLimiterShared: new Gauge({
      name: 'codegen_pr_rate_limiter_shared',
      help: 'Rate limits per dependency: 1 shared with every replica through Redis, 0 local (1/replicas of each).',
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
  };
  metrics.buildInfo.set({ version: options.version ?? 'unknown', node: process.version }, 1);
  return metrics;
}
