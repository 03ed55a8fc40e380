/**
 * Listing a repository's recently updated pull requests: what PR tracking (getActivePRs) reads instead of one
 * request per PR ever opened. A code host may offer it besides the CodeHost port; recentPullLister() finds it.
 */
import type { PullRequestStatus, RepositoryRef } from '../../pipeline/ports.js';

export interface RecentPullLister {
  /**
   * The repository's PRs updated at or after `since` (ISO-8601), most recently updated first, reading at most
   * `maxPages` pages of 100; `complete` is false when the page limit stopped the listing before the cut-off.
   * No combined check state (that would cost a request per PR).
   */
  listRecentPullRequests(
    repository: RepositoryRef,
    since: string,
    maxPages: number,
    signal?: AbortSignal,
  ): Promise<{ pulls: PullRequestStatus[]; complete: boolean }>;
}

export function recentPullLister(host: object | undefined): RecentPullLister | undefined {
  return host && typeof (host as Partial<RecentPullLister>).listRecentPullRequests === 'function'
    ? (host as RecentPullLister)
    : undefined;
}
