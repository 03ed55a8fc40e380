/**
 * The Task API's own /metrics (Node only): rate, errors and duration of its requests by route pattern (never a
 * task id), the live queue and the oldest ready task read from the store at scrape time, retention's metrics
 * when this process runs retention, build info and Node's process metrics. A separate registry from the
 * daemon's: a Task API shows none of the daemon's work counters.
 *
 * The Cloudflare Worker serves no /metrics: an isolate lives for a few requests and keeps no registry worth
 * scraping, and Cloudflare's own analytics count its requests; the daemons' /metrics carry the queue.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LIVE_STATUSES, type StoreOperations } from '../adapters/task-store/operations.js';
import { SHORT_BUCKETS, createRetentionMetrics } from './metrics.js';

/** What app.ts needs: no prom-client type leaks into the app, which also runs in a Worker. */
export interface TaskApiMetrics {
  /** Count and time one request; `route` is the matched pattern. */
  observe(method: string, route: string, status: number, seconds: number): void;
  /** The exposition text, after refreshing the gauges read from the store. */
  render(): Promise<{ contentType: string; body: string }>;
  /** Retention metrics, for startRetention when this process runs it. */
  retention: { retentionDeleted: Counter<'table'>; retentionLastRun: Gauge; retentionMaxAge: Gauge };
}

export function createTaskApiMetrics(options: {
  ops?: Pick<StoreOperations, 'queueSnapshot'>;
  version?: string;
  /** Called when the store cannot be read at scrape time (the last values stay). */
  onError?: (err: unknown) => void;
}): TaskApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'codegen_pr_task_api_' });
  // As in metrics.ts: prom-client names these gauges *_total, which promtool rejects.
  for (const name of ['handles', 'requests', 'resources'])
    registry.removeSingleMetric(`codegen_pr_task_api_nodejs_active_${name}_total`);
  const registers = [registry];
  const requests = new Counter({
    name: 'codegen_pr_task_api_requests_total',
    help: 'Task API requests by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  const duration = new Histogram({
    name: 'codegen_pr_task_api_request_duration_seconds',
    help: 'Task API request latency by method and route pattern.',
    labelNames: ['method', 'route'],
    buckets: SHORT_BUCKETS,
    registers,
  });
  const live = new Gauge({
    name: 'codegen_pr_task_api_live_tasks',
    help: 'Live tasks in the store by status (pending, retry, claimed, awaiting_agent), read at scrape time.',
    labelNames: ['status'],
    registers,
  });
  const oldestReady = new Gauge({
    name: 'codegen_pr_oldest_ready_task_age_seconds',
    help: 'Age of the oldest task that could be claimed now (0 when none waits).',
    registers,
  });
  const oldestFinished = new Gauge({
    name: 'codegen_pr_retention_oldest_finished_age_seconds',
    help: 'Age of the oldest finished task still kept; retention deletes those older than its limit.',
    registers,
  });
  const retention = createRetentionMetrics(registers);
  const buildInfo = new Gauge({
    name: 'codegen_pr_task_api_build_info',
    help: 'Version of codegen-pr and of Node serving the Task API.',
    labelNames: ['version', 'node'],
    registers,
  });
  buildInfo.set({ version: options.version ?? 'unknown', node: process.version }, 1);
  for (const status of LIVE_STATUSES) live.set({ status }, 0);
  for (const table of ['tasks', 'task_events']) retention.retentionDeleted.inc({ table }, 0);

  return {
    observe(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
    },
    async render() {
      if (options.ops) {
        try {
          const snapshot = await options.ops.queueSnapshot();
          for (const status of LIVE_STATUSES) live.set({ status }, snapshot.live[status]);
          oldestReady.set(snapshot.oldestReadyAgeSeconds);
          oldestFinished.set(snapshot.oldestFinishedAgeSeconds);
        } catch (err) {
          options.onError?.(err);
        }
      }
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    retention,
  };
}
