/**
 * Step: tell the task store how the attempt ended, and the rest of the daemon (events, metrics, feedback).
 * Failures go through the feedback handler, which decides between retry, fail and release.
 */
import { type DaemonError } from '../../domain/errors.js';
import type { TaskOutcome } from '../../domain/outcome.js';
import type { PullRequestRef } from '../../domain/task.js';
import type { PipelineDeps, TaskContext } from '../context.js';

export async function completeTask(
  ctx: TaskContext,
  deps: PipelineDeps,
  result: { pr?: PullRequestRef; note?: string },
): Promise<TaskOutcome> {
  const { task, token, signal } = ctx;
  await deps.store.completeTask(task.id, token, result, signal);
  const durationMs = Date.now() - ctx.startedAt;
  await deps.feedback.recordSuccess(task.id, task, { durationMs, ...(result.pr ? { prUrl: result.pr.url } : {}) });
  deps.events.emit('task_completed', {
    taskId: task.id,
    durationMs,
    ...(result.pr ? { prUrl: result.pr.url, prNumber: result.pr.number, branch: result.pr.branch } : {}),
    ...(result.note ? { note: result.note } : {}),
  });
  return { kind: 'completed', durationMs, ...result };
}

export async function failTask(ctx: TaskContext, deps: PipelineDeps, error: DaemonError): Promise<TaskOutcome> {
  const { task, token, logger } = ctx;
  const durationMs = (): number => Date.now() - ctx.startedAt;
  const summary = { code: error.code, category: error.category, message: error.message };
  if (error.category === 'authentication') deps.onAuthError?.(error);

  const decision = await deps.feedback.handleError(task.id, error, task);
  if (decision.action !== 'fail' && decision.pauseIntakeMs !== undefined) {
    // Quota, a refused token or a very long rate limit hits every task alike: stop claiming for a while.
    const until = Date.now() + decision.pauseIntakeMs;
    const reason = decision.pauseReason ?? error.category;
    if (deps.intake.pause(reason, until)) {
      deps.events.emit('intake_paused', { reason, until: new Date(until).toISOString() });
    }
  }
  // The attempt is over: the task's own signal may be aborted, but the report must still reach the store.
  switch (decision.action) {
    case 'retry': {
      const updated = await deps.store.failTask(task.id, token, {
        error: summary,
        retryAt: decision.retryAt,
        countAttempt: decision.countAttempt,
      });
      const willRetry = updated.status === 'retry';
      deps.events.emit('task_failed', {
        taskId: task.id,
        error: summary,
        willRetry,
        durationMs: durationMs(),
        ...(willRetry ? { retryAt: decision.retryAt } : {}),
      });
      logger.warn({ err: error, retryAt: willRetry ? decision.retryAt : undefined }, 'attempt failed');
      return willRetry
        ? { kind: 'retry-scheduled', error, retryAt: decision.retryAt, durationMs: durationMs() }
        : { kind: 'failed', error, durationMs: durationMs() };
    }
    case 'fail':
      await deps.store.failTask(task.id, token, { error: summary });
      deps.events.emit('task_failed', { taskId: task.id, error: summary, willRetry: false, durationMs: durationMs() });
      logger.error({ err: error }, 'task failed');
      return { kind: 'failed', error, durationMs: durationMs() };
    case 'release':
      return releaseTask(ctx, deps, decision.reason);
  }
}

export async function releaseTask(ctx: TaskContext, deps: PipelineDeps, reason: string): Promise<TaskOutcome> {
  await deps.store.releaseTask(ctx.task.id, ctx.token);
  deps.events.emit('task_released', { taskId: ctx.task.id, reason });
  ctx.logger.info({ reason }, 'task released for a later claim');
  return { kind: 'released', reason, durationMs: Date.now() - ctx.startedAt };
}
