/**
 * Step: wait for the agent run to end. Polls with a growing interval, bounded by the task's wall-clock deadline
 * (not by attempts: waiting on a healthy run never spends one). A PAUSED run follows the configured policy; a
 * status we do not know is logged once and waited on. A poll that fails because Codegen is down (a probe
 * confirms it) does not end the wait: the run goes on without us, and we look again once Codegen answers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonError, toDaemonError } from '../../domain/errors.js';
import type { AgentRun } from '../ports.js';
import type { PipelineDeps, TaskContext } from '../context.js';
import { agentRunFailure, deadlineExceeded, deadlineOf } from './agent-failures.js';

const RESUME_PROMPT =
  'Please continue the task from where you stopped. When the work is done, push the branch and open the pull request as instructed.';

export async function awaitAgentRun(ctx: TaskContext, deps: PipelineDeps, first: AgentRun): Promise<AgentRun> {
  const { signal, logger, task } = ctx;
  const { wait } = deps;
  const deadline = deadlineOf(task.startedAt, deps.taskDeadlineMs) ?? ctx.startedAt + deps.taskDeadlineMs;
  let run = first;
  let interval = wait.initialMs;
  let resumed = false;
  const unknownSeen = new Set<string>();

  for (;;) {
    switch (run.state) {
      case 'succeeded':
        return run;
      case 'failed':
        throw agentRunFailure(run);
      case 'paused':
        if (wait.paused === 'fail') {
          throw new DaemonError(`agent run ${run.id} is paused`, { code: 'agent-run-paused', category: 'agent' });
        }
        if (wait.paused === 'resume' && !resumed) {
          resumed = true;
          logger.info({ runId: run.id }, 'agent run paused; resuming it once');
          run = await deps.agent.resumeAgentRun(run.id, RESUME_PROMPT, signal);
          continue;
        }
        break;
      case 'unknown': {
        const status = String(run.status);
        if (!unknownSeen.has(status)) {
          unknownSeen.add(status);
          logger.warn({ runId: run.id, status }, 'agent run has a status codegen-pr does not know; waiting on it');
        }
        break;
      }
      case 'in_progress':
        break;
    }

    const left = deadline - Date.now();
    if (left <= 0) throw deadlineExceeded(task.id, task.startedAt ?? 'now', deps.taskDeadlineMs, run.id);
    await sleep(Math.min(interval, left), undefined, { signal });
    interval = Math.min(wait.maxMs, Math.ceil(interval * wait.backoff));
    run = (await poll(ctx, deps, run)) ?? run;
  }
}

/** One look at the run; undefined when Codegen is down (the wait goes on with the last known state). */
async function poll(ctx: TaskContext, deps: PipelineDeps, run: AgentRun): Promise<AgentRun | undefined> {
  // During a declared outage only the health monitor's probe asks Codegen anything: a hundred waiting tasks
  // polling a service that is down would only add to its trouble and to our rate budget.
  if (deps.health.isDown('codegen')) return undefined;
  try {
    return await deps.agent.getAgentRun(run.id, ctx.signal);
  } catch (raw) {
    const err = toDaemonError(raw);
    if (ctx.signal.aborted) throw err;
    if (await deps.health.assess(err, ctx.signal)) throw err;
    ctx.logger.debug({ runId: run.id, code: err.code }, 'codegen is down; still waiting on the run');
    return undefined;
  }
}
