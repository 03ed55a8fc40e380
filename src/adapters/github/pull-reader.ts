/**
 * Reading pull requests for the PR manager: one view of a pull whatever endpoint returned it, lookups by number
 * and by branch, and the combined commit status. Reads of a known PR or status are conditional (If-None-Match
 * with the last ETag): GitHub answers an unchanged resource with 304, which costs no rate limit.
 */
import type { PullRequestStatus, RepositoryRef } from '../../pipeline/ports.js';
import { classifyGitHubError } from './classify.js';
import type { GitHubOctokit } from './octokit.js';

/** The fields of a pull (from pulls.get, pulls.list or pulls.create) the manager works with. */
interface PullData {
  number: number;
  html_url: string;
  state: string;
  draft?: boolean;
  body: string | null;
  merged?: boolean;
  merged_at: string | null;
  updated_at?: string;
  user: { login: string } | null;
  head: { ref: string; sha: string };
  labels: Array<{ name?: string }>;
  assignees?: Array<{ login: string }> | null;
  requested_reviewers?: Array<{ login: string }> | null;
  requested_teams?: Array<{ slug: string }> | null;
}

/** A pull request as the manager sees it. */
export interface PullView extends RepositoryRef {
  number: number;
  url: string;
  branch: string;
  headSha: string;
  author?: string;
  state: 'open' | 'merged' | 'closed';
  draft: boolean;
  body: string | null;
  labels: string[];
  assignees: string[];
  reviewers: string[];
  teams: string[];
  updatedAt?: string;
}

export function toView(repo: RepositoryRef, data: PullData): PullView {
  const view: PullView = {
    owner: repo.owner,
    repo: repo.repo,
    number: data.number,
    url: data.html_url,
    branch: data.head.ref,
    headSha: data.head.sha,
    state: data.merged || data.merged_at ? 'merged' : data.state === 'closed' ? 'closed' : 'open',
    draft: data.draft === true,
    body: data.body,
    labels: data.labels.map((l) => l.name ?? '').filter(Boolean),
    assignees: (data.assignees ?? []).map((a) => a.login),
    reviewers: (data.requested_reviewers ?? []).map((r) => r.login),
    teams: (data.requested_teams ?? []).map((t) => t.slug),
  };
  if (data.user?.login) view.author = data.user.login;
  if (data.updated_at) view.updatedAt = data.updated_at;
  return view;
}

/** owner/repo/number from https://<host>/<owner>/<repo>/pull/<n> (what Codegen reports), else undefined. */
export function parsePullUrl(url: string): (RepositoryRef & { number: number }) | undefined {
  let parts: string[];
  try {
    parts = new URL(url).pathname.split('/').filter(Boolean);
  } catch {
    return undefined;
  }
  const [owner, repo, kind, n] = parts.slice(-4);
  const number = Number(n);
  if (!owner || !repo || kind !== 'pull' || !Number.isInteger(number) || number <= 0) return undefined;
  return { owner, repo, number };
}

/** GitHub reports `pending` when there are no statuses at all: that is "unknown", not "waiting". */
function checksOf(state: string, total: number): PullRequestStatus['checks'] {
  if (state === 'success') return 'success';
  if (state === 'pending') return total > 0 ? 'pending' : undefined;
  return 'failure';
}

/** Reads pulls and statuses through `octokit`, remembering up to `cacheSize` ETags (least recently used go). */
export function createPullReader(octokit: GitHubOctokit, cacheSize: number) {
  const call = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw classifyGitHubError(err, operation);
    }
  };

  const etags = new Map<string, { etag: string; value: unknown }>();

  /** GET with If-None-Match: a 304 answers from the cache and costs no rate limit. */
  const conditionalGet = async <D, T>(
    key: string,
    operation: string,
    fetch: (headers: Record<string, string>) => Promise<{ data: D; headers: { etag?: string } }>,
    map: (data: D) => T,
  ): Promise<T> => {
    const cached = etags.get(key);
    let value: T;
    try {
      const res = await fetch(cached ? { 'if-none-match': cached.etag } : {});
      value = map(res.data);
      etags.delete(key);
      if (res.headers.etag) etags.set(key, { etag: res.headers.etag, value });
    } catch (raw) {
      if (!cached || (raw as { status?: unknown }).status !== 304) throw classifyGitHubError(raw, operation);
      value = cached.value as T;
      etags.delete(key); // re-inserted below: the Map's order is the least-recently-used order
      etags.set(key, cached);
    }
    const oldest = etags.keys().next();
    if (etags.size > cacheSize && !oldest.done) etags.delete(oldest.value);
    return value;
  };

  const get = (ref: RepositoryRef & { number: number }, signal?: AbortSignal): Promise<PullView> =>
    conditionalGet(
      `pull:${ref.owner}/${ref.repo}#${ref.number}`.toLowerCase(),
      'pulls.get',
      (headers) =>
        octokit.rest.pulls.get({
          owner: ref.owner,
          repo: ref.repo,
          pull_number: ref.number,
          headers,
          request: { signal },
        }),
      (data) => toView(ref, data),
    );

  const findByBranch = async (repo: RepositoryRef, branch: string, signal?: AbortSignal) => {
    // The owner: prefix is required: without it GitHub silently ignores the head filter and lists every PR.
    const { data } = await call('pulls.list', () =>
      octokit.rest.pulls.list({
        ...repo,
        head: `${repo.owner}:${branch}`,
        state: 'all',
        per_page: 100,
        request: { signal },
      }),
    );
    const views = data.filter((p) => p.head.ref === branch).map((p) => toView(repo, p));
    return views.find((v) => v.state === 'open') ?? views[0];
  };

  const checks = (pr: PullView, signal?: AbortSignal): Promise<PullRequestStatus['checks']> =>
    conditionalGet(
      `status:${pr.owner}/${pr.repo}@${pr.headSha}`.toLowerCase(),
      'repos.getCombinedStatusForRef',
      (headers) =>
        octokit.rest.repos.getCombinedStatusForRef({
          owner: pr.owner,
          repo: pr.repo,
          ref: pr.headSha,
          headers,
          request: { signal },
        }),
      (data) => checksOf(data.state, data.total_count),
    );

  /**
   * Pull requests of `repo` most recently updated first (GET /repos/{owner}/{repo}/pulls?state=all&sort=updated
   * &direction=desc), page by page, until one was last updated before `since` or `maxPages` pages were read.
   * One request per 100 PRs changed since the cut-off, instead of one per PR ever opened.
   */
  const listUpdatedSince = async (
    repo: RepositoryRef,
    since: string,
    maxPages: number,
    signal?: AbortSignal,
  ): Promise<{ pulls: PullView[]; complete: boolean }> => {
    const cutoff = Date.parse(since);
    const pulls: PullView[] = [];
    for (let page = 1; page <= maxPages; page += 1) {
      const { data } = await call('pulls.list', () =>
        octokit.rest.pulls.list({
          ...repo,
          state: 'all',
          sort: 'updated',
          direction: 'desc',
          per_page: 100,
          page,
          request: { signal },
        }),
      );
      for (const pull of data) {
        const view = toView(repo, pull);
        if (view.updatedAt && Date.parse(view.updatedAt) < cutoff) return { pulls, complete: true };
        pulls.push(view);
      }
      if (data.length < 100) return { pulls, complete: true };
    }
    return { pulls, complete: false };
  };

  return { get, findByBranch, checks, listUpdatedSince };
}

/** What createPullReader returns. */
export type PullReader = ReturnType<typeof createPullReader>;
