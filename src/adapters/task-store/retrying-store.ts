/**
 * A TaskStore whose writes and reads are retried when the store could not be reached or answered with a
 * transient failure (network, 5xx, timeouts). Leased writes are fenced by the lease token and recognise their
 * own repeat (a write applied although its answer was lost comes back as done), so repeating them is safe; a
 * task whose PR is recorded is never turned into `failed` by a store that hiccupped while it was completed.
 *
 * Not retried here: heartbeats (the lease keeper beats again), claims (a claim whose answer was lost leaves
 * tasks whose leases expire and are re-claimed without spending an attempt), and the people's writes that are
 * not idempotent (adding tasks, feedback, retry, cancel): their callers see the error.
 */
import type { TaskStore } from '../../pipeline/ports.js';
import { retryWithPolicy, type RetryOptions } from '../../resilience/retry.js';
import type { Logger } from '../../observability/logger.js';

export interface StoreRetryOptions {
  /** Attempts per call, the first included. Default 5. */
  maxAttempts?: number;
  /** First backoff, in ms. Default 200. */
  baseMs?: number;
  /** Longest backoff, in ms. Default 5,000. */
  maxMs?: number;
  logger: Logger;
  /** Tests replace the wait. */
  sleep?: RetryOptions['sleep'];
}

const RETRIED = [
  'recordRunIntent',
  'recordAgentRun',
  'recordPullRequest',
  'completeTask',
  'failTask',
  'releaseTask',
  'noteAgentRun',
  'updatePullRequestState',
  'getTask',
  'getTaskHistory',
  'listTasks',
  'countByStatus',
] as const satisfies ReadonlyArray<keyof TaskStore>;

/** Wrap `store` so the operations listed above are retried; everything else passes through. */
export function withStoreRetries(store: TaskStore, options: StoreRetryOptions): TaskStore {
  const log = options.logger.child({ dependency: 'task-store', component: 'store-retry' });
  const wrapped: TaskStore = { ...bindAll(store) };
  for (const name of RETRIED) {
    const original = (store[name] as (...args: unknown[]) => Promise<unknown>).bind(store);
    (wrapped as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      // The signal, when the caller gave one, is the last argument of every retried operation.
      const last = args[args.length - 1];
      const signal = last instanceof AbortSignal ? last : undefined;
      return retryWithPolicy(() => original(...args), {
        maxAttempts: options.maxAttempts ?? 5,
        baseMs: options.baseMs ?? 200,
        maxMs: options.maxMs ?? 5_000,
        jitter: 'equal',
        // Store errors carry no server-advised wait worth more than a few seconds; cap what is honoured.
        maxRetryAfterMs: options.maxMs ?? 5_000,
        ...(signal ? { signal } : {}),
        ...(options.sleep ? { sleep: options.sleep } : {}),
        onRetry: ({ attempt, delayMs, error }) =>
          log.warn({ operation: name, attempt, delayMs, code: error.code }, 'task store call failed; retrying'),
      });
    };
  }
  return wrapped;
}

/** The store's methods bound to it, as a plain object (spreading an object of closures is enough today). */
function bindAll(store: TaskStore): TaskStore {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(store) as Array<keyof TaskStore>) {
    const value = store[key];
    out[key] = typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(store) : value;
  }
  return out as unknown as TaskStore;
}
