/**
 * Step: wait for the agent run to end. The process's run watcher (src/daemon/run-watcher.ts) learns the run's
 * state with every other waiting task's from the list endpoint and wakes this one when it changes; the wait is
 * bounded by the task's wall-clock deadline (not by attempts: waiting on a healthy run never spends one). A
 * PAUSED run follows the configured policy; a status we do not know is logged once and waited on. While Codegen
 * is down (a probe confirms it) the watcher reads nothing and the wait goes on: the run goes on without us, and
 * we look again once Codegen answers.
 */
import { DaemonError } from '../../domain/errors.js';
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

    if (deadline - Date.now() <= 0)
      throw deadlineExceeded(task.id, task.startedAt ?? 'now', deps.taskDeadlineMs, run.id);
    const next = await deps.runs.waitForChange(run, { signal, until: deadline });
    if (next === undefined) throw deadlineExceeded(task.id, task.startedAt ?? 'now', deps.taskDeadlineMs, run.id);
    run = next;
  }
}
