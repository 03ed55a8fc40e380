/**
 * Step: make sure the run's PR exists once and is proper (labels, assignees, reviewers, link to the task).
 * The PR manager does the GitHub work idempotently. The PR is not written to the task store here: the report
 * that follows at once (completeTask) records it with the completion, in one write instead of two. Nothing is
 * lost if that report never happens: the next attempt finds the same PR again from the recorded run (its PR
 * URL or branch), as ensurePullRequest always does, and a checkpointed PR from an older attempt is still used.
 */
import type { PullRequestRef } from '../../domain/task.js';
import type { AgentRun } from '../ports.js';
import type { PipelineDeps, TaskContext } from '../context.js';
import { noChangesFailure } from './agent-failures.js';

export type PrStepResult = { kind: 'pull-request'; pr: PullRequestRef } | { kind: 'no-changes'; note: string };

export async function ensurePullRequest(
  ctx: TaskContext,
  deps: PipelineDeps,
  run: AgentRun,
  repository: string,
): Promise<PrStepResult> {
  const { task, signal } = ctx;
  const [owner = '', repo = ''] = repository.split('/');
  const policy = deps.policyFor(repository);
  const knownPr = task.checkpoint.pr;
  const outcome = await deps.codeHost.ensurePullRequest(
    {
      task,
      run,
      repository: { owner, repo },
      policy,
      taskUrl: deps.taskUrlFor(task.id),
      expectedBranch: deps.branchFor(task.id),
      ...(knownPr ? { knownPr } : {}),
    },
    signal,
  );

  switch (outcome.kind) {
    case 'pull-request': {
      const { pr } = outcome;
      if (!knownPr || knownPr.url !== pr.url) {
        deps.metrics?.prsCreated.inc({ origin: outcome.created ? 'daemon' : 'agent' });
        deps.events.emit('pr_created', {
          taskId: task.id,
          url: pr.url,
          number: pr.number,
          branch: pr.branch,
          openedByDaemon: outcome.created,
        });
      }
      return { kind: 'pull-request', pr };
    }
    case 'no-changes':
      if (policy.onNoChanges === 'complete') return outcome;
      throw noChangesFailure(run, outcome.note);
  }
}
