/**
 * Rate, errors and duration of task-store calls, whatever the store is (the Task API over HTTP, PostgreSQL,
 * PGlite or a library user's own): every call of the TaskStore port is counted in
 * codegen_pr_external_requests_total{dependency="task-store"} and timed, with the same kinds the HTTP client's
 * budgets use (claim, write, read, admin). The store itself is untouched; this is a pass-through wrapper.
 */
import { toDaemonError } from '../domain/errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { TaskStore } from '../pipeline/ports.js';

const DEPENDENCY = 'task-store';

/** The kind of each port method; a method missing here is counted as `other` rather than not at all. */
const KINDS: Record<string, 'claim' | 'write' | 'read' | 'admin'> = {
  claimTasks: 'claim',
  heartbeat: 'write',
  recordAgentRun: 'write',
  recordPullRequest: 'write',
  completeTask: 'write',
  failTask: 'write',
  releaseTask: 'write',
  getTask: 'read',
  getTaskHistory: 'read',
  listTasks: 'read',
  countByStatus: 'read',
  ping: 'read',
  addTasks: 'admin',
  retryTask: 'admin',
  cancelTask: 'admin',
  addFeedback: 'admin',
  updatePullRequestState: 'admin',
};

/** Wrap `store` so that each call is measured on `metrics`; close() is passed through unmeasured. */
export function instrumentStore(store: TaskStore, metrics: Metrics): TaskStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'close') return value;
      const kind = KINDS[property] ?? 'other';
      return async (...args: unknown[]): Promise<unknown> => {
        const started = performance.now();
        let outcome = 'ok';
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (raw) {
          const error = toDaemonError(raw);
          outcome = error.category;
          if (outcome === 'rate_limit') metrics.rateLimited.inc({ dependency: DEPENDENCY });
          throw raw;
        } finally {
          metrics.externalRequests.inc({ dependency: DEPENDENCY, kind, outcome });
          metrics.externalRequestDuration.observe(
            { dependency: DEPENDENCY, kind },
            (performance.now() - started) / 1000,
          );
        }
      };
    },
  });
}
