/**
 * Every pipeline step runs inside instrument(): the step's name on its log line, its duration in the step histogram,
 * one log line at its end (debug on success and failure: the attempt's outcome is logged once, by the caller),
 * and, when given, a time limit. A step past its limit is aborted through its own signal and fails as a
 * timeout (the task's own: it spends an attempt), never as a cancellation that would hand the task back.
 */
import { DaemonError, toDaemonError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { timeoutSignal } from '../resilience/timeout-signal.js';

export type StepName =
  'validate' | 'generate-prompt' | 'ensure-agent-run' | 'await-agent-run' | 'ensure-pull-request' | 'report';

export async function instrument<T, C extends { logger: Logger; metrics?: Metrics; signal?: AbortSignal }>(
  step: StepName,
  ctx: C,
  fn: (stepCtx: C) => Promise<T>,
  timeoutMs?: number,
): Promise<T> {
  // No child logger per step: a child of the task's child makes V8 give the task's logger a prototype map of
  // its own, a few KB per task while thousands wait on their runs (run-task-memory.test.ts).
  const log = ctx.logger;
  const started = performance.now();
  const limit = timeoutMs !== undefined && ctx.signal ? timeoutSignal(timeoutMs, ctx.signal) : undefined;
  const stepCtx = limit ? { ...ctx, signal: limit.signal } : ctx;
  try {
    const result = await fn(stepCtx);
    const seconds = (performance.now() - started) / 1000;
    ctx.metrics?.stepDuration.observe({ step, outcome: 'ok' }, seconds);
    log.debug({ step, durationMs: Math.round(seconds * 1000) }, 'step done');
    return result;
  } catch (raw) {
    const err =
      limit?.signal.aborted && !ctx.signal?.aborted
        ? new DaemonError(`step ${step} took longer than ${timeoutMs} ms (TASK_TIMEOUT_MS)`, {
            code: 'step-timeout',
            category: 'timeout',
            retryable: true,
            scope: 'task',
            cause: raw,
          })
        : toDaemonError(raw);
    const seconds = (performance.now() - started) / 1000;
    ctx.metrics?.stepDuration.observe({ step, outcome: err.category }, seconds);
    log.debug({ step, err, durationMs: Math.round(seconds * 1000) }, 'step failed');
    throw err;
  } finally {
    limit?.clear();
  }
}
