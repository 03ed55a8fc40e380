/**
 * client.prManager: the seed's PRManager methods over the task store and the GitHub adapter.
 * createPR(prompt, task) runs the pipeline with the caller's prompt; getPRStatus(taskId) and getActivePRs()
 * read PR state from GitHub (conditional requests) and record merged or closed PRs on their tasks.
 */
import type { Task } from './domain/task.js';
import type { Logger } from './observability/logger.js';
import type { CodeHost, PullRequestStatus, TaskStore } from './pipeline/ports.js';
import type { ProcessResult } from './process-result.js';
import { DaemonError } from './domain/errors.js';

export interface PrManagerFacade {
  createPR(
    prompt: string | { content: string },
    task: Task,
  ): Promise<{ url?: string; number?: number; branchName?: string; result: ProcessResult }>;
  getPRStatus(taskId: string): Promise<(PullRequestStatus & { taskId: string }) | undefined>;
  getActivePRs(): Promise<Array<PullRequestStatus & { taskId: string }>>;
  getStatus(): { ready: boolean; tracked: number };
}

const PR_URL = /^https?:\/\/[^/]+\/([^/]+)\/([^/]+)\/pull\/(\d+)/;

export function createPrManagerFacade(deps: {
  store: () => TaskStore;
  codeHost: () => CodeHost | undefined;
  runWithPrompt: (prompt: string, task: Task) => Promise<ProcessResult>;
  logger: Logger;
}): PrManagerFacade {
  let tracked = 0;

  async function statusOf(task: Task): Promise<(PullRequestStatus & { taskId: string }) | undefined> {
    const pr = task.checkpoint.pr;
    const host = deps.codeHost();
    if (!pr) return undefined;
    if (!host)
      throw new DaemonError('GitHub is not configured (dry run)', { code: 'dry-run', category: 'configuration' });
    const match = PR_URL.exec(pr.url);
    if (!match) return undefined;
    const [, owner = '', repo = ''] = match;
    const status = await host.getPullRequestStatus({ owner, repo }, pr.number);
    if (status.state !== (pr.state ?? 'open')) await deps.store().updatePullRequestState(task.id, status.state);
    return { ...status, taskId: task.id };
  }

  return {
    async createPR(prompt, task) {
      const content = typeof prompt === 'string' ? prompt : prompt.content;
      const result = await deps.runWithPrompt(content, task);
      return {
        ...(result.prUrl ? { url: result.prUrl } : {}),
        ...(result.prNumber !== undefined ? { number: result.prNumber } : {}),
        ...(result.branchName ? { branchName: result.branchName } : {}),
        result,
      };
    },
    async getPRStatus(taskId) {
      const task = await deps.store().getTask(taskId);
      return task ? statusOf(task) : undefined;
    },
    async getActivePRs() {
      const active: Array<PullRequestStatus & { taskId: string }> = [];
      let cursor: string | undefined;
      do {
        const page = await deps.store().listTasks({ status: 'completed', limit: 200, ...(cursor ? { cursor } : {}) });
        for (const task of page.tasks) {
          if (!task.checkpoint.pr || (task.checkpoint.pr.state && task.checkpoint.pr.state !== 'open')) continue;
          const status = await statusOf(task);
          if (status?.state === 'open') active.push(status);
        }
        cursor = page.nextCursor;
      } while (cursor);
      tracked = active.length;
      return active;
    },
    getStatus: () => ({ ready: deps.codeHost() !== undefined, tracked }),
  };
}
