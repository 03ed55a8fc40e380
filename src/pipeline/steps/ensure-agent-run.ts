/**
 * Step: make sure exactly one agent run works on this task, and that its id is in the task store before anyone
 * waits on it. Creating a run has no idempotency key, so intent comes before effect (STYLE.md habit 14):
 *
 * 1. The run recorded on the task, if there is one. A live or finished-well run is resumed. A failed one is
 *    this attempt's outcome (the attempt that saw it fail crashed before saying so): it is reported as the
 *    agent's failure, never re-read as a new attempt.
 * 2. Else, when an intent was recorded (an earlier attempt, or this task before a release or a crash, asked for
 *    a run), the run of that intent is looked for among the organization's runs, back to the time the intent
 *    was recorded, and adopted when found.
 * 3. Else a new intent (a nonce in the store, then in the run's metadata) and only then a new run.
 */
import { randomBytes } from 'node:crypto';
import { DaemonError, toDaemonError } from '../../domain/errors.js';
import type { AgentRun } from '../ports.js';
import type { PipelineDeps, TaskContext } from '../context.js';
import { agentRunFailure } from './agent-failures.js';

export async function ensureAgentRun(
  ctx: TaskContext,
  deps: PipelineDeps,
  prompt: string,
  repository: string,
): Promise<{ run: AgentRun; resumed: boolean }> {
  const { task, signal, logger } = ctx;

  const checkpointed = task.checkpoint.agentRunId;
  if (checkpointed !== undefined) {
    const run = await getRunIfExists(deps, checkpointed, signal);
    if (run && run.state === 'failed') throw agentRunFailure(run);
    if (run) {
      logger.info({ runId: run.id, status: run.status }, 'resuming the agent run recorded on the task');
      return { run, resumed: true };
    }
    // Codegen no longer knows the run: nothing to resume, and nothing of it to find by intent either.
    logger.warn({ runId: checkpointed }, 'the recorded agent run no longer exists; starting a new one');
  } else if (task.checkpoint.runIntent) {
    const intent = task.checkpoint.runIntent;
    const lost = await deps.agent.findAgentRunByIntent(task.id, intent, signal);
    if (lost) {
      logger.warn({ runId: lost.id, status: lost.status, intent: intent.nonce }, 'found the run of an earlier intent');
      await deps.store.recordAgentRun(task.id, ctx.token, { id: lost.id, url: lost.webUrl }, signal);
      deps.metrics?.agentRunsAdopted.inc({ how: 'intent' });
      deps.events.emit('agent_run_adopted', { taskId: task.id, runId: lost.id, how: 'intent' });
      if (lost.state === 'failed') throw agentRunFailure(lost);
      return { run: lost, resumed: true };
    }
  }

  const repoId = await deps.agent.resolveRepoId(repository, signal);
  if (repoId === undefined) {
    throw new DaemonError(
      `repository ${repository} is not connected to the Codegen organization: connect it in Codegen's settings`,
      { code: 'codegen-repo-not-connected', category: 'configuration', dependency: 'codegen', scope: 'repository' },
    );
  }
  // Intent before effect: from here on, whatever happens to this attempt, a later one finds this run.
  const nonce = randomBytes(12).toString('base64url');
  await deps.store.recordRunIntent(task.id, ctx.token, nonce, signal);
  const run = await deps.agent.createAgentRun(
    {
      prompt,
      repoId,
      metadata: { task_id: task.id, intent: nonce, attempt: task.attempts, source: 'codegen-pr' },
    },
    signal,
  );
  deps.metrics?.agentRunsCreated.inc();
  // Checkpoint before waiting: a crash from here on resumes this run instead of looking for it.
  await deps.store.recordAgentRun(task.id, ctx.token, { id: run.id, url: run.webUrl }, signal);
  deps.events.emit('agent_run_created', { taskId: task.id, runId: run.id, webUrl: run.webUrl });
  logger.info({ runId: run.id, webUrl: run.webUrl }, 'agent run created');
  return { run, resumed: false };
}

async function getRunIfExists(deps: PipelineDeps, runId: number, signal: AbortSignal): Promise<AgentRun | undefined> {
  try {
    return await deps.agent.getAgentRun(runId, signal);
  } catch (raw) {
    const err = toDaemonError(raw);
    if (err.code === 'codegen-run-not-found') return undefined;
    throw err;
  }
}
