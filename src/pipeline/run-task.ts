/**
 * The recipe for one attempt at one task. Reads top to bottom:
 * deadline -> validate -> parked? -> prompt -> agent run (intent, create or find, checkpointed) -> wait
 * -> pull request (checkpointed) -> report.
 * Any failure is classified and handed to the feedback handler (retry, fail, defer or release); a lost lease
 * stops the attempt without writing anything, because another worker may own the task now.
 */
import { DaemonError, toDaemonError } from '../domain/errors.js';
import type { TaskOutcome } from '../domain/outcome.js';
import type { ClaimedTask } from '../domain/task.js';
import { keepLease, LeaseLostError } from '../daemon/lease-keeper.js';
import type { PipelineDeps, TaskContext } from './context.js';
import type { AgentRun } from './ports.js';
import { instrument } from './instrument.js';
import { deadlineExceeded, deadlineOf } from './steps/agent-failures.js';
import { awaitAgentRun } from './steps/await-agent-run.js';
import { ensureAgentRun } from './steps/ensure-agent-run.js';
import { ensurePullRequest } from './steps/ensure-pull-request.js';
import { completeTask, deferTask, failTask, releaseTask } from './steps/finish-task.js';
import { validateTask } from './steps/validate-task.js';
import { escapeForTerminal } from '../domain/task-text.js';

/** Abort reason used on shutdown: the task is released, not failed. */
export class ShutdownAbort extends Error {
  override readonly name = 'ShutdownAbort';
}

export async function runTask(claim: ClaimedTask, deps: PipelineDeps, outer: AbortSignal): Promise<TaskOutcome> {
  const { task, lease } = claim;
  // The attempt's signal aborts when the pool's does (shutdown) or when the lease is lost. Forwarded by a
  // listener rather than AbortSignal.any: on Node 20 each composite signal holds two more Sets and WeakRefs,
  // about 1.5 KB per attempt while thousands wait on their runs.
  const controller = new AbortController();
  const forward = (): void => controller.abort(outer.reason);
  if (outer.aborted) forward();
  else outer.addEventListener('abort', forward, { once: true });
  const { signal } = controller;
  const logger = deps.logger.child({ taskId: task.id, attempt: task.attempts });
  const ctx: TaskContext = {
    claim,
    task,
    token: lease.token,
    signal,
    logger,
    startedAt: Date.now(),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  };
  const keeper = keepLease({
    store: deps.store,
    taskId: task.id,
    token: lease.token,
    leaseMs: deps.leaseMs,
    logger,
    signal,
    onLost: (err) => controller.abort(err),
    ...(claim.claimedAt !== undefined ? { grantedAt: claim.claimedAt } : {}),
  });
  deps.metrics?.tasksInFlight.inc();
  deps.events.emit('task_claimed', { taskId: task.id, attempt: task.attempts });
  logger.info({ title: oneLine(task.title) }, `task ${oneLine(task.id)} started (attempt ${task.attempts})`);

  let outcome: TaskOutcome;
  try {
    outcome = await attempt(ctx, deps);
  } catch (raw) {
    outcome = await settleFailure(ctx, deps, raw);
  } finally {
    keeper.stop();
    outer.removeEventListener('abort', forward);
    deps.metrics?.tasksInFlight.dec();
  }
  record(deps, outcome);
  logEnd(ctx, outcome);
  return outcome;
}

/**
 * The attempt's one end line: what became of the task, naming its PR or its failure, so an operator reading
 * the log (or grepping it for a task id) sees each attempt start and end and nothing in between.
 */
function logEnd(ctx: TaskContext, outcome: TaskOutcome): void {
  const { logger } = ctx;
  const id = oneLine(ctx.task.id);
  const durationMs = outcome.durationMs;
  switch (outcome.kind) {
    case 'completed':
      if (outcome.pr) logger.info({ pr: outcome.pr.url, durationMs }, `task ${id} completed: ${outcome.pr.url}`);
      else logger.info({ note: outcome.note, durationMs }, `task ${id} completed without a PR: ${outcome.note ?? ''}`);
      return;
    case 'retry-scheduled':
      logger.warn(
        { err: outcome.error, retryAt: outcome.retryAt, reason: outcome.reason, durationMs },
        `task ${id} will be tried again at ${outcome.retryAt}: ${outcome.error.code}: ${oneLine(outcome.error.message)}`,
      );
      return;
    case 'failed':
      logger.error(
        { err: outcome.error, durationMs },
        `task ${id} failed: ${outcome.error.code}: ${oneLine(outcome.error.message)}`,
      );
      return;
    case 'released':
      logger.info({ reason: outcome.reason, durationMs }, `task ${id} handed back (${outcome.reason})`);
      return;
    case 'lease-lost':
      // Logged where it is detected, with its reason (settleFailure).
      return;
  }
}

/** Task text in a log line: one line, no control or escape characters, and short. */
function oneLine(text: string): string {
  const cleaned = escapeForTerminal(String(text)).replace(/\s+/g, ' ');
  return cleaned.length > 200 ? `${cleaned.slice(0, 199)}…` : cleaned;
}

async function attempt(ctx: TaskContext, deps: PipelineDeps): Promise<TaskOutcome> {
  const { task } = ctx;
  const deadline = deadlineOf(task.startedAt, deps.taskDeadlineMs);
  if (deadline !== undefined && Date.now() >= deadline) {
    throw deadlineExceeded(task.id, task.startedAt ?? '', deps.taskDeadlineMs, task.checkpoint.agentRunId);
  }
  const { repository } = await instrument('validate', ctx, async () => validateTask(task, deps.defaultRepository));

  // Another task of this repository just found it cannot be worked on: wait with it, touching nothing.
  const park = deps.parks.parked(repository);
  if (park) return deferTask(ctx, deps, park);

  const run = await startAgentRun(ctx, deps, repository);
  const step = deps.stepTimeoutMs;
  const finished = await instrument('await-agent-run', ctx, (c) => awaitAgentRun(c, deps, run));
  const pr = await instrument(
    'ensure-pull-request',
    ctx,
    (c) => ensurePullRequest(c, deps, finished, repository),
    step,
  );

  return instrument(
    'report',
    ctx,
    (c) =>
      pr.kind === 'pull-request' ? completeTask(c, deps, { pr: pr.pr }) : completeTask(c, deps, { note: pr.note }),
    step,
  );
}

/**
 * The prompt and the agent run made from it. A function of its own so that the prompt (up to 120,000
 * characters) is dropped once the run exists: the attempt then waits on the run for minutes or hours, and
 * thousands of attempts wait at once (run-task-memory.test.ts).
 */
async function startAgentRun(ctx: TaskContext, deps: PipelineDeps, repository: string): Promise<AgentRun> {
  const { task } = ctx;
  const prompt = await instrument('generate-prompt', ctx, async () => {
    const suggestions = task.lastError ? flatten(deps.feedback.getImprovementSuggestions(task)) : undefined;
    return deps.prompts.render(task, {
      repository,
      // The base branch may be overridden per repository; the agent must branch from and target it.
      baseBranch: deps.policyFor(repository).baseBranch,
      attempt: task.attempts,
      ...(task.lastError ? { previousError: task.lastError } : {}),
      ...(suggestions && suggestions.length > 0 ? { suggestions } : {}),
    });
  });
  const { run } = await instrument(
    'ensure-agent-run',
    ctx,
    (c) => ensureAgentRun(c, deps, prompt.content, repository),
    deps.stepTimeoutMs,
  );
  return run;
}

async function settleFailure(ctx: TaskContext, deps: PipelineDeps, raw: unknown): Promise<TaskOutcome> {
  const durationMs = Date.now() - ctx.startedAt;
  const reason: unknown = ctx.signal.aborted ? ctx.signal.reason : undefined;
  const error = toDaemonError(raw);
  try {
    if (reason instanceof LeaseLostError || error.code === 'stale-lease') {
      deps.metrics?.leaseLost.inc();
      deps.events.emit('lease_lost', { taskId: ctx.task.id });
      ctx.logger.warn(
        { err: reason instanceof LeaseLostError ? reason : error },
        `task ${oneLine(ctx.task.id)}: lease lost; stopping work on the task, another claim continues it`,
      );
      return { kind: 'lease-lost', durationMs };
    }
    if (reason instanceof ShutdownAbort) return await releaseTask(ctx, deps, 'shutdown');
    return await failTask(ctx, deps, error);
  } catch (reportRaw) {
    // The store refused or could not be reached: the lease will expire and another claim will pick it up,
    // spending no attempt and keeping the checkpoint.
    const reportError = toDaemonError(reportRaw);
    if (reportError.code === 'stale-lease') return { kind: 'lease-lost', durationMs };
    ctx.logger.error({ err: reportError, cause: error.code }, 'could not report the attempt; the lease will expire');
    return { kind: 'released', reason: 'report-failed', durationMs };
  }
}

function record(deps: PipelineDeps, outcome: TaskOutcome): void {
  const seconds = outcome.durationMs / 1000;
  const category = 'error' in outcome ? (outcome.error as DaemonError).category : 'none';
  const label = {
    completed: 'completed',
    'retry-scheduled': 'retried',
    failed: 'failed',
    released: 'released',
    'lease-lost': 'lease_lost',
  }[outcome.kind];
  deps.metrics?.tasksFinished.inc({ outcome: label, category });
  deps.metrics?.taskDuration.observe({ outcome: label }, seconds);
}

function flatten(s: ReturnType<PipelineDeps['feedback']['getImprovementSuggestions']>): string[] {
  return [...s.promptOptimizations, ...s.contextImprovements, ...s.qualityEnhancements];
}
