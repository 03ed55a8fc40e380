/**
 * Step: wait for the agent run to end. Polls with a growing interval, bounded by processing.timeout. A PAUSED
 * run follows the configured policy; a status we do not know is logged once and waited on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonError } from '../../domain/errors.js';
import type { AgentRun } from '../ports.js';
import type { PipelineDeps, TaskContext } from '../context.js';

const RESUME_PROMPT =
  'Please continue the task from where you stopped. When the work is done, push the branch and open the pull request as instructed.';

export async function awaitAgentRun(ctx: TaskContext, deps: PipelineDeps, first: AgentRun): Promise<AgentRun> {
  const { signal, logger } = ctx;
  const { wait } = deps;
  const deadline = Date.now() + wait.timeoutMs;
  let run = first;
  let interval = wait.initialMs;
  let resumed = false;
  const unknownSeen = new Set<string>();

  for (;;) {
    switch (run.state) {
      case 'succeeded':
        return run;
      case 'failed':
        throw new DaemonError(`agent run ${run.id} ended with status ${run.status ?? 'unknown'}`, {
          code: `agent-run-${(run.status ?? 'failed').toLowerCase().replace(/[^a-z0-9]+/g, '-')}`,
          category: 'agent',
          retryable: true,
          dependency: 'codegen',
        });
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
    if (left <= 0) {
      throw new DaemonError(`agent run ${run.id} did not finish within ${wait.timeoutMs} ms`, {
        code: 'agent-run-timeout',
        category: 'timeout',
        retryable: true,
        dependency: 'codegen',
      });
    }
    await sleep(Math.min(interval, left), undefined, { signal });
    interval = Math.min(wait.maxMs, Math.ceil(interval * wait.backoff));
    run = await deps.agent.getAgentRun(run.id, signal);
  }
}
