/**
 * Step: tell the task store how the attempt ended, and the rest of the daemon (events, metrics, feedback).
 * Failures go through the feedback handler, which decides between retry, fail and release.
 */
import { type DaemonError } from '../../domain/errors.js';
import type { TaskOutcome } from '../../domain/outcome.js';
import type { PullRequestRef } from '../../domain/task.js';
import type { PipelineDeps, TaskContext } from '../context.js';
import type { Park } from '../../daemon/parking.js';
import { timeoutSignal } from '../../resilience/timeout-signal.js';
import { toStorableText, truncateText } from '../../domain/task-text.js';
import { TASK_API_LIMITS } from '../../domain/task-limits.js';

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
  const summary = storableError(error, deps.redact);

  const dependencyHealthy = await assess(ctx, deps, error);
  const decision = await deps.feedback.handleError(task.id, error, task, { dependencyHealthy });
  if (decision.action !== 'fail' && decision.pauseIntakeMs !== undefined) {
    // Quota or a very long rate limit hits every task alike: stop claiming for a while.
    const until = Date.now() + decision.pauseIntakeMs;
    const reason = decision.pauseReason ?? error.category;
    if (deps.intake.pause(reason, until)) {
      deps.events.emit('intake_paused', { reason, until: new Date(until).toISOString() });
    }
  }
  if (decision.action === 'release') return releaseTask(ctx, deps, decision.reason);
  if (decision.action === 'retry' && decision.parkRepository) {
    const repository = task.repository || deps.defaultRepository;
    // The park keeps the redacted text: it is shown on /status and written on the waiting tasks.
    deps.parks.park(repository, Date.parse(decision.retryAt), summary);
    logger.error(
      { err: error, repository, until: decision.retryAt },
      `repository ${repository} parked: ${error.message}`,
    );
  }

  // The attempt is over: the task's own signal may be aborted, but the report must still reach the store.
  const retryAt = decision.action === 'retry' ? decision.retryAt : undefined;
  const updated = await deps.store.failTask(task.id, token, {
    error: summary,
    ...(decision.action === 'retry' ? { retryAt: decision.retryAt, countAttempt: decision.countAttempt } : {}),
    ...(decision.dropRun ? { dropRun: true } : {}),
  });
  const willRetry = updated.status === 'retry';
  deps.events.emit('task_failed', {
    taskId: task.id,
    error: summary,
    willRetry,
    durationMs: durationMs(),
    ...(willRetry && retryAt ? { retryAt } : {}),
  });
  // The attempt's one end line is logged by runTask; the decision's reason goes with it.
  if (willRetry && retryAt) {
    return { kind: 'retry-scheduled', error, retryAt, reason: decision.reason, durationMs: durationMs() };
  }
  await recordSuggestions(ctx, deps, summary);
  return { kind: 'failed', error, durationMs: durationMs() };
}

/**
 * Whether the system a dependency- or credential-scoped failure names is healthy after all (a probe decides).
 * The task store is never probed: a task cannot be finished without it, and a write that failed is repeated
 * by the next claim from the checkpoint, so a store failure never spends an attempt (nor fails a task whose
 * PR is already recorded).
 */
async function assess(ctx: TaskContext, deps: PipelineDeps, error: DaemonError): Promise<boolean | undefined> {
  if (error.scope !== 'dependency' && error.scope !== 'credential') return undefined;
  if (error.dependency === 'task-store') return false;
  try {
    return await deps.health.assess(error, timeoutSignal(deps.wait.probeTimeoutMs).signal);
  } catch {
    return false;
  }
}

/** Park the task with its repository's park: retried when the park ends, no attempt spent, nothing else touched. */
export async function deferTask(ctx: TaskContext, deps: PipelineDeps, park: Park): Promise<TaskOutcome> {
  const retryAt = new Date(park.until).toISOString();
  const error = {
    code: park.code,
    category: 'configuration',
    message: `repository ${park.repository} is parked: ${park.message}`,
  };
  await deps.store.failTask(ctx.task.id, ctx.token, { error, retryAt, countAttempt: false });
  deps.events.emit('task_released', { taskId: ctx.task.id, reason: `repository ${park.repository} parked` });
  return { kind: 'released', reason: 'repository-parked', durationMs: Date.now() - ctx.startedAt };
}

/**
 * A task that failed for good gets the feedback handler's suggestions written to it, so the people who fix and
 * retry it see what to change (the seed's "sends feedback to database"). Best effort: the failure is recorded.
 */
async function recordSuggestions(
  ctx: TaskContext,
  deps: PipelineDeps,
  error: { code: string; category: string; message: string },
): Promise<void> {
  try {
    const suggestions = deps.feedback.getImprovementSuggestions({ ...ctx.task, lastError: error });
    const entry = { source: 'codegen-pr', kind: 'suggestions', error, suggestions };
    await deps.store.addFeedback(ctx.task.id, deps.redact ? deps.redact.deep(entry) : entry, 'daemon');
  } catch (err) {
    ctx.logger.warn({ err }, 'could not record improvement suggestions on the task');
  }
}

/**
 * The failure as the store keeps it: upstream messages can carry NUL or broken surrogates (which no store
 * accepts) and can be long; both are fixed here, before any store sees them, so a task's real reason is never
 * lost to a refused write.
 */
function storableError(
  error: DaemonError,
  redact?: PipelineDeps['redact'],
): { code: string; category: string; message: string } {
  const fit = (text: string, max: number): string =>
    truncateText(toStorableText(redact ? redact.text(text) : text), max);
  return {
    code: fit(error.code, TASK_API_LIMITS.errorCodeMax),
    category: fit(error.category, TASK_API_LIMITS.errorCategoryMax),
    message: fit(error.message, TASK_API_LIMITS.errorMessageMax),
  };
}

/** How long a release on the way out may wait for the store; past it the lease expires instead. */
const RELEASE_TIMEOUT_MS = 5_000;

export async function releaseTask(ctx: TaskContext, deps: PipelineDeps, reason: string): Promise<TaskOutcome> {
  // Bounded: on shutdown a store that stopped answering must not hold the process; an unreleased task's lease
  // simply expires and the next claim continues it, spending no attempt.
  const limit = timeoutSignal(RELEASE_TIMEOUT_MS);
  try {
    await deps.store.releaseTask(ctx.task.id, ctx.token, limit.signal);
  } finally {
    limit.clear();
  }
  deps.events.emit('task_released', { taskId: ctx.task.id, reason });
  return { kind: 'released', reason, durationMs: Date.now() - ctx.startedAt };
}
