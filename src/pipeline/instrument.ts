/**
 * Every pipeline step runs inside instrument(): a child logger, the step's duration in the step histogram,
 * and one log line at its end (debug on success, warn on failure).
 */
import { toDaemonError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

export type StepName =
  'validate' | 'generate-prompt' | 'ensure-agent-run' | 'await-agent-run' | 'ensure-pull-request' | 'report';

export async function instrument<T>(
  step: StepName,
  ctx: { logger: Logger; metrics?: Metrics },
  fn: (log: Logger) => Promise<T>,
): Promise<T> {
  const log = ctx.logger.child({ step });
  const started = performance.now();
  try {
    const result = await fn(log);
    const seconds = (performance.now() - started) / 1000;
    ctx.metrics?.stepDuration.observe({ step, outcome: 'ok' }, seconds);
    log.debug({ durationMs: Math.round(seconds * 1000) }, 'step done');
    return result;
  } catch (raw) {
    const err = toDaemonError(raw);
    const seconds = (performance.now() - started) / 1000;
    ctx.metrics?.stepDuration.observe({ step, outcome: err.category }, seconds);
    log.debug({ err, durationMs: Math.round(seconds * 1000) }, 'step failed');
    throw err;
  }
}
