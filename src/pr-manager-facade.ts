/**
 * client.prManager: the seed's PRManager methods over the task store and the GitHub adapter.
 * createPR(prompt, task) runs the pipeline with the caller's prompt; getPRStatus(taskId) and getActivePRs()
 * read PR state from GitHub (conditional requests) and record merged or closed PRs on their tasks.
 *
 * getActivePRs reads, per repository, the PRs updated since its last complete listing (newest first, 100 a
 * page, stopping at the cut-off: recent-pulls.ts), as Renovate keeps an incremental PR cache, instead of one
 * request per PR ever opened. The first listing of a repository goes back to its oldest tracked task's
 * creation (a PR is younger than its task). A tracked PR that no listing has shown (a listing cut short by
 * its page limit) is read on its own, with a conditional request.
 */
import type { Task } from './domain/task.js';
import type { Logger } from './observability/logger.js';
import type { CodeHost, PullRequestStatus, TaskStore } from './pipeline/ports.js';
import type { ProcessResult } from './process-result.js';
import { DaemonError } from './domain/errors.js';
import { recentPullLister, type RecentPullLister } from './adapters/github/recent-pulls.js';

/** Pages of 100 PRs one repository's listing may read per call. */
export const MAX_LISTING_PAGES = 10;
/** The cut-off goes back this far behind the newest update seen (GitHub's times are to the second). */
const CUTOFF_SLACK_MS = 60_000;
/** PR states remembered between calls, at most (least recently seen go first). */
const SEEN_LIMIT = 10_000;

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
  /** Per repository: the cut-off of its next listing (the newest update its last complete listing saw). */
  const listedUpTo = new Map<string, number>();
  /** The last state seen of each PR, by `owner/repo#number` (lower case). */
  const seen = new Map<string, PullRequestStatus>();

  /**
   * List `group`'s repository back to its cut-off; returns the numbers of the PRs whose state is now known:
   * every PR the listing showed, and, when it reached the cut-off, every PR seen before (unchanged since).
   */
  async function listRepository(
    lister: RecentPullLister,
    key: string,
    group: { owner: string; repo: string; tasks: Task[] },
  ): Promise<Set<number>> {
    const oldestTask = Math.min(...group.tasks.map((t) => Date.parse(t.createdAt)));
    const since = (listedUpTo.get(key) ?? oldestTask) - CUTOFF_SLACK_MS;
    const { pulls, complete } = await lister.listRecentPullRequests(
      { owner: group.owner, repo: group.repo },
      new Date(since).toISOString(),
      MAX_LISTING_PAGES,
    );
    const known = new Set<number>();
    let newest = listedUpTo.get(key) ?? -Infinity;
    for (const pull of pulls) {
      const id = `${key}#${pull.number}`;
      seen.delete(id);
      seen.set(id, pull);
      known.add(pull.number);
      if (pull.updatedAt) newest = Math.max(newest, Date.parse(pull.updatedAt));
    }
    while (seen.size > SEEN_LIMIT) seen.delete(seen.keys().next().value as string);
    if (complete) {
      // Everything updated since the cut-off was listed: what was seen before and not listed is unchanged.
      for (const task of group.tasks) {
        const number = task.checkpoint.pr?.number;
        if (number !== undefined && seen.has(`${key}#${number}`)) known.add(number);
      }
      if (Number.isFinite(newest)) listedUpTo.set(key, newest);
      else if (!listedUpTo.has(key)) listedUpTo.set(key, since + CUTOFF_SLACK_MS);
    }
    return known;
  }

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
      const candidates: Task[] = [];
      let cursor: string | undefined;
      do {
        const page = await deps.store().listTasks({ status: 'completed', limit: 200, ...(cursor ? { cursor } : {}) });
        for (const task of page.tasks) {
          if (!task.checkpoint.pr || (task.checkpoint.pr.state && task.checkpoint.pr.state !== 'open')) continue;
          candidates.push(task);
        }
        cursor = page.nextCursor;
      } while (cursor);
      const lister = recentPullLister(deps.codeHost());
      const active: Array<PullRequestStatus & { taskId: string }> = [];
      const byRepo = new Map<string, { owner: string; repo: string; tasks: Task[] }>();
      for (const task of candidates) {
        const match = PR_URL.exec(task.checkpoint.pr?.url ?? '');
        if (!match || !lister) {
          const status = await statusOf(task);
          if (status?.state === 'open') active.push(status);
          continue;
        }
        const [, owner = '', repo = ''] = match;
        const key = `${owner}/${repo}`.toLowerCase();
        const group = byRepo.get(key) ?? { owner, repo, tasks: [] };
        group.tasks.push(task);
        byRepo.set(key, group);
      }
      for (const [key, group] of byRepo) {
        const listed = await listRepository(lister as RecentPullLister, key, group);
        for (const task of group.tasks) {
          const pr = task.checkpoint.pr as NonNullable<Task['checkpoint']['pr']>;
          const seenState = listed.has(pr.number) ? seen.get(`${key}#${pr.number}`) : undefined;
          let status: (PullRequestStatus & { taskId: string }) | undefined;
          if (seenState) {
            status = { ...seenState, taskId: task.id };
            if (seenState.state !== (pr.state ?? 'open'))
              await deps.store().updatePullRequestState(task.id, seenState.state);
          } else {
            status = await statusOf(task);
          }
          if (status?.state === 'open') active.push(status);
        }
      }
      tracked = active.length;
      return active;
    },
    getStatus: () => ({ ready: deps.codeHost() !== undefined, tracked }),
  };
}
