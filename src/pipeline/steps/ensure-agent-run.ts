/**
 * Step: make sure exactly one live agent run works on this attempt, and that its id is in the task store
 * before anyone waits on it.
 *
 * In order: the run checkpointed on the task (a re-claimed task resumes it); a run an earlier attempt created
 * but crashed before recording (found by metadata.task_id); otherwise a new run. A failed run is never resumed:
 * its failure was this task's previous attempt, and this attempt gets a new run.
 */
import { DaemonError, toDaemonError } from '../../domain/errors.js';
import type { AgentRun } from '../ports.js';
import type { PipelineDeps, TaskContext } from '../context.js';

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
    if (run && run.state !== 'failed') {
      logger.info({ runId: run.id, status: run.status }, 'resuming the agent run recorded on the task');
      return { run, resumed: true };
    }
    logger.info({ runId: checkpointed, status: run?.status ?? 'missing' }, 'recorded run is over; starting anew');
  } else if (task.attempts > 1) {
    // An earlier attempt may have died between creating its run and recording it.
    const lost = await deps.agent.findAgentRunByTaskId(task.id, signal);
    if (lost && lost.state !== 'failed') {
      logger.warn({ runId: lost.id, status: lost.status }, 'found an unrecorded agent run of this task; adopting it');
      await deps.store.recordAgentRun(task.id, ctx.token, { id: lost.id, url: lost.webUrl }, signal);
      return { run: lost, resumed: true };
    }
  }

  const repoId = await deps.agent.resolveRepoId(repository, signal);
  if (repoId === undefined) {
    throw new DaemonError(`repository ${repository} is not connected to the Codegen organization`, {
      code: 'codegen-repo-not-connected',
      category: 'configuration',
      dependency: 'codegen',
    });
  }
  const run = await deps.agent.createAgentRun(
    { prompt, repoId, metadata: { task_id: task.id, attempt: task.attempts, source: 'codegen-pr' } },
    signal,
  );
  deps.metrics?.agentRunsCreated.inc();
  // Checkpoint before waiting: a crash from here on resumes this run instead of creating another.
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
