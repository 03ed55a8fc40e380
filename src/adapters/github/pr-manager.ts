/**
 * The GitHub side of the pipeline (the CodeHost port): make sure exactly one proper PR exists for a task and
 * report its status. Everything here is safe to repeat: the PR is found before it is created, labels, assignees
 * and reviewers are added only when missing, and the task section is written only when it changed.
 * Retryable failures propagate (the task is retried); permanent refusals of labels, assignees or reviewers are
 * logged and do not fail the PR, as in Renovate's participants step.
 */
import { DaemonError } from '../../domain/errors.js';
import type { Logger } from '../../observability/logger.js';
import type {
  CodeHost,
  EnsurePullRequestInput,
  PullRequestOutcome,
  PullRequestStatus,
  RepositoryRef,
} from '../../pipeline/ports.js';
import { classifyGitHubError } from './classify.js';
import type { GitHubOctokit } from './octokit.js';
import { renderTaskSection, upsertTaskSection } from './pr-body.js';
import { capText, cleanLine } from '../../prompt/untrusted.js';
import { createPullReader, parsePullUrl, toView, type PullView } from './pull-reader.js';
import type { RecentPullLister } from './recent-pulls.js';

export interface PullRequestManagerDeps {
  octokit: GitHubOctokit;
  logger: Logger;
  /** Wait between addAssignees attempts that 404 right after creation (Renovate waits 1 s). */
  assigneeRetryDelayMs?: number;
  /** How many ETags (PRs and commit statuses) to remember for conditional requests. Default 1000. */
  etagCacheSize?: number;
}

const ASSIGNEE_ATTEMPTS = 4;
/** GitHub refuses PR titles past 256 characters. */
const PR_TITLE_MAX = 256;

/** A PR title from task text: cleaned to one safe line and capped, never empty. */
function prTitle(title: unknown): string {
  const line = cleanLine(String(title ?? ''));
  return capText(line || 'codegen-pr task', PR_TITLE_MAX).text;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    timer.unref();
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const lower = (names: string[]) => new Set(names.map((n) => n.toLowerCase()));

/** The task section for this task and run. */
function sectionFor({ task, run, taskUrl }: EnsurePullRequestInput): string {
  return renderTaskSection({
    taskId: task.id,
    taskTitle: task.title,
    ...(taskUrl ? { taskUrl } : {}),
    ...(run.webUrl ? { agentRunUrl: run.webUrl } : {}),
    agentRunId: run.id,
  });
}

/** Build the CodeHost that opens, completes and inspects pull requests through `octokit`. */
export function createPullRequestManager(deps: PullRequestManagerDeps): CodeHost & RecentPullLister {
  const { octokit, logger } = deps;
  const assigneeDelayMs = deps.assigneeRetryDelayMs ?? 1000;

  const reader = createPullReader(octokit, deps.etagCacheSize ?? 1000);

  /** Labels, assignees and reviewers are extras: a permanent refusal is a warning, anything else propagates. */
  const bestEffort = async (step: string, pr: PullView, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (raw) {
      const err = classifyGitHubError(raw, step);
      if (err.retryable || err.category === 'cancelled' || err.code === 'github-unauthorized') throw err;
      logger.warn({ err, step, pr: pr.url }, `could not ${step} on the pull request; going on`);
    }
  };

  const branchExists = async (repo: RepositoryRef, branch: string, signal?: AbortSignal): Promise<boolean> => {
    try {
      await octokit.rest.git.getRef({ ...repo, ref: `heads/${branch}`, request: { signal } });
      return true;
    } catch (raw) {
      const err = classifyGitHubError(raw, 'git.getRef');
      if (err.code === 'github-not-found') return false;
      throw err;
    }
  };

  const openPull = async (
    input: EnsurePullRequestInput,
    branch: string,
    signal?: AbortSignal,
  ): Promise<{ pr: PullView; created: boolean } | { note: string }> => {
    const { repository: repo, policy, task } = input;
    const existing = await reader.findByBranch(repo, branch, signal);
    if (existing) return { pr: existing, created: false };
    const body = sectionFor(input);
    try {
      const { data } = await octokit.rest.pulls.create({
        ...repo,
        // The task's title as GitHub will show it: one line, no control or bidi characters, capped.
        title: prTitle(task.title),
        head: branch,
        base: policy.baseBranch,
        draft: policy.draft,
        body,
        request: { signal },
      });
      logger.info({ pr: data.html_url, branch, taskId: task.id }, 'opened pull request');
      return { pr: toView(repo, data), created: true };
    } catch (raw) {
      const err = classifyGitHubError(raw, 'pulls.create');
      if (err.code === 'github-no-commits') {
        return { note: `branch ${branch} has no commits over ${policy.baseBranch}` };
      }
      if (err.code !== 'github-pr-exists') throw err;
      // Another replica (or our own retried POST) won the race: use the PR it opened.
      const raced = await reader.findByBranch(repo, branch, signal);
      if (raced) return { pr: raced, created: false };
      throw new DaemonError(`GitHub says a PR for ${branch} exists but it cannot be found yet`, {
        code: 'github-pr-race',
        category: 'conflict',
        retryable: true,
        dependency: 'github',
        cause: err,
      });
    }
  };

  const findOrOpen = async (
    input: EnsurePullRequestInput,
    signal?: AbortSignal,
  ): Promise<{ pr: PullView; created: boolean } | { note: string }> => {
    const { repository: repo, run } = input;
    const linked = input.knownPr?.url ?? run.pullRequests.find((p) => p.url)?.url;
    const ref = linked ? parsePullUrl(linked) : undefined;
    if (ref) return { pr: await reader.get(ref, signal), created: false };
    if (input.knownPr) {
      return { pr: await reader.get({ ...repo, number: input.knownPr.number }, signal), created: false };
    }
    if (linked) logger.warn({ url: linked }, 'cannot read owner/repo/number from the PR URL; looking for a branch');
    const candidates = [
      ...run.pullRequests.flatMap((p) => (p.branch && !p.url ? [p.branch] : [])),
      input.expectedBranch,
    ];
    const branches = [...new Set(candidates)];
    for (const branch of branches) {
      if (await branchExists(repo, branch, signal)) return openPull(input, branch, signal);
    }
    return {
      note: `agent run ${run.id} opened no pull request and pushed no branch (looked for ${branches.join(', ')})`,
    };
  };

  const addAssignees = async (pr: PullView, wanted: string[], created: boolean, signal?: AbortSignal) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const { data } = await octokit.rest.issues.addAssignees({
          owner: pr.owner,
          repo: pr.repo,
          issue_number: pr.number,
          assignees: wanted,
          request: { signal },
        });
        // GitHub silently drops users without push access: say so rather than pretend.
        const got = lower((data.assignees ?? []).map((a) => a.login));
        const ignored = wanted.filter((w) => !got.has(w.toLowerCase()));
        if (ignored.length) logger.warn({ pr: pr.url, ignored }, 'GitHub ignored assignees (no push access?)');
        return;
      } catch (raw) {
        const err = classifyGitHubError(raw, 'issues.addAssignees');
        // A PR opened a moment ago may not be visible to the issues API yet (Renovate retries 3 times).
        if (!(created && err.code === 'github-not-found' && attempt < ASSIGNEE_ATTEMPTS)) throw err;
        await sleep(assigneeDelayMs, signal);
      }
    }
  };

  /** Ask for reviews; a refusal of the author is fine, and one refused login must not block the others. */
  const requestReviews = async (pr: PullView, reviewers: string[], teams: string[], signal?: AbortSignal) => {
    const ask = async (users: string[], slugs: string[]) => {
      try {
        await octokit.rest.pulls.requestReviewers({
          owner: pr.owner,
          repo: pr.repo,
          pull_number: pr.number,
          ...(users.length ? { reviewers: users } : {}),
          ...(slugs.length ? { team_reviewers: slugs } : {}),
          request: { signal },
        });
      } catch (raw) {
        const err = classifyGitHubError(raw, 'pulls.requestReviewers');
        if (err.code !== 'github-review-from-author') throw err;
        logger.debug({ pr: pr.url }, 'GitHub refused to request a review from the author; skipped');
      }
    };
    try {
      await ask(reviewers, teams);
    } catch (err) {
      // GitHub refuses the whole request (422) when one login is not a collaborator: ask one by one.
      if (!(err instanceof DaemonError) || err.category !== 'validation' || reviewers.length + teams.length < 2) {
        throw err;
      }
      for (const user of reviewers) await bestEffort(`request a review from ${user}`, pr, () => ask([user], []));
      for (const team of teams) await bestEffort(`request a review from team ${team}`, pr, () => ask([], [team]));
    }
  };

  /** The old way, one write per part: each part on its own, each refusal its own warning. */
  const applySeparately = async (
    pr: PullView,
    parts: { labels: string[]; assignees: string[]; body?: string },
    created: boolean,
    signal?: AbortSignal,
  ) => {
    const where = { owner: pr.owner, repo: pr.repo };
    const { labels, assignees, body } = parts;
    if (labels.length) {
      await bestEffort('add labels', pr, async () => {
        await octokit.rest.issues.addLabels({ ...where, issue_number: pr.number, labels, request: { signal } });
      });
    }
    if (assignees.length) {
      await bestEffort('add assignees', pr, () => addAssignees(pr, assignees, created, signal));
    }
    if (body !== undefined) {
      await bestEffort('link the task in the body', pr, async () => {
        await octokit.rest.pulls.update({ ...where, pull_number: pr.number, body, request: { signal } });
      });
    }
  };

  /**
   * Labels, assignees and the body in one write (PATCH issues/{n}, which sets the PR's labels, assignees and
   * body). PATCH replaces lists, so it sends what the PR has plus what is missing: a label someone adds in the
   * moment between our read and this write would be dropped, which is why a single missing part still goes
   * through its own additive call. A refusal (an assignee GitHub will not take is a 422 for the whole write,
   * where addAssignees drops them silently; a token allowed pull requests but not issues is a 403) falls back
   * to one write per part, so each part fails or succeeds on its own as before.
   */
  const applyTogether = async (
    pr: PullView,
    parts: { labels: string[]; assignees: string[]; body?: string },
    created: boolean,
    signal?: AbortSignal,
  ) => {
    const { labels, assignees, body } = parts;
    for (let attempt = 1; ; attempt++) {
      try {
        const { data } = await octokit.rest.issues.update({
          owner: pr.owner,
          repo: pr.repo,
          issue_number: pr.number,
          ...(labels.length ? { labels: [...pr.labels, ...labels] } : {}),
          ...(assignees.length ? { assignees: [...pr.assignees, ...assignees] } : {}),
          ...(body !== undefined ? { body } : {}),
          request: { signal },
        });
        // Without push access GitHub drops assignee changes silently: say so rather than pretend.
        const got = lower((data.assignees ?? []).map((a) => a.login));
        const ignored = assignees.filter((w) => !got.has(w.toLowerCase()));
        if (ignored.length) logger.warn({ pr: pr.url, ignored }, 'GitHub ignored assignees (no push access?)');
        return;
      } catch (raw) {
        const err = classifyGitHubError(raw, 'issues.update');
        // A PR opened a moment ago may not be visible to the issues API yet (as for addAssignees).
        if (created && err.code === 'github-not-found' && attempt < ASSIGNEE_ATTEMPTS) {
          await sleep(assigneeDelayMs, signal);
          continue;
        }
        if (err.retryable || err.category === 'cancelled' || err.code === 'github-unauthorized') throw err;
        logger.debug({ err, pr: pr.url }, 'GitHub refused the combined update; writing each part on its own');
        return applySeparately(pr, parts, created, signal);
      }
    }
  };

  const applyPolicy = async (input: EnsurePullRequestInput, pr: PullView, created: boolean, signal?: AbortSignal) => {
    const { policy } = input;
    const open = pr.state === 'open';
    const labels = policy.labels.filter((l) => !lower(pr.labels).has(l.toLowerCase()));
    const assignees = open ? policy.assignees.filter((a) => !lower(pr.assignees).has(a.toLowerCase())) : [];
    const next = upsertTaskSection(pr.body, sectionFor(input), input.task.id);
    const parts = { labels, assignees, ...(next.changed ? { body: next.body } : {}) };
    const count = (labels.length ? 1 : 0) + (assignees.length ? 1 : 0) + (next.changed ? 1 : 0);
    if (count >= 2) await applyTogether(pr, parts, created, signal);
    else if (count === 1) await applySeparately(pr, parts, created, signal);
    // GitHub refuses (422) a review request to the PR's author: for a Codegen PR that is codegen-sh[bot].
    const author = pr.author?.toLowerCase();
    const reviewers = policy.reviewers.filter(
      (r) => r.toLowerCase() !== author && !lower(pr.reviewers).has(r.toLowerCase()),
    );
    const teams = policy.teamReviewers.filter((t) => !lower(pr.teams).has(t.toLowerCase()));
    if (open && (reviewers.length || teams.length)) {
      await bestEffort('request reviewers', pr, () => requestReviews(pr, reviewers, teams, signal));
    }
  };

  /** A signal aborted with a reason of the caller's own reaches us as a failed fetch: call it what it is. */
  const cancellable = async <T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (!signal?.aborted) throw err;
      throw new DaemonError('GitHub: cancelled', {
        code: 'cancelled',
        category: 'cancelled',
        dependency: 'github',
        cause: err,
      });
    }
  };

  const ensure = async (input: EnsurePullRequestInput, signal?: AbortSignal): Promise<PullRequestOutcome> => {
    const found = await findOrOpen(input, signal);
    if ('note' in found) return { kind: 'no-changes', note: found.note };
    const { pr, created } = found;
    await applyPolicy(input, pr, created, signal);
    return {
      kind: 'pull-request',
      pr: { url: pr.url, number: pr.number, branch: pr.branch, state: pr.state },
      created,
    };
  };

  const status = async (repository: RepositoryRef, number: number, signal?: AbortSignal) => {
    const pr = await reader.get({ ...repository, number }, signal);
    const result: PullRequestStatus = { state: pr.state, draft: pr.draft, url: pr.url, number: pr.number };
    if (pr.updatedAt) result.updatedAt = pr.updatedAt;
    if (pr.state === 'open') {
      const checks = await reader.checks(pr, signal);
      if (checks) result.checks = checks;
    }
    return result;
  };

  /** GET /rate_limit: authenticated, cheap, and not counted against the rate limit. */
  const probe = async (signal?: AbortSignal): Promise<void> => {
    try {
      await octokit.rest.rateLimit.get({ request: { signal } });
    } catch (raw) {
      throw classifyGitHubError(raw, 'rateLimit.get');
    }
  };

  const listRecentPullRequests: RecentPullLister['listRecentPullRequests'] = (repository, since, maxPages, signal) =>
    cancellable(signal, async () => {
      const { pulls, complete } = await reader.listUpdatedSince(repository, since, maxPages, signal);
      return {
        complete,
        pulls: pulls.map((pr) => ({
          state: pr.state,
          draft: pr.draft,
          url: pr.url,
          number: pr.number,
          ...(pr.updatedAt ? { updatedAt: pr.updatedAt } : {}),
        })),
      };
    });

  return {
    listRecentPullRequests,
    probe: (signal) => cancellable(signal, () => probe(signal)),
    ensurePullRequest: (input, signal) => cancellable(signal, () => ensure(input, signal)),
    getPullRequestStatus: (repository, number, signal) => cancellable(signal, () => status(repository, number, signal)),
  };
}
