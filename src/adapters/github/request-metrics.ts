/**
 * Rate, errors and duration of GitHub calls on the daemon's metrics: an Octokit request hook that counts
 * codegen_pr_external_requests_total{dependency="github", kind=read|write, outcome} and times each call. It is
 * added after Octokit's retry and throttling plugins, so one call is counted once, its retries and throttling
 * waits included in its duration: what a step waited for GitHub, which is what an operator needs to see.
 */
import type { Metrics } from '../../observability/metrics.js';
import { classifyGitHubError } from './classify.js';
import type { GitHubOctokit } from './octokit.js';

const DEPENDENCY = 'github';

/** Measure every request `octokit` makes from now on. */
export function recordGitHubRequests(octokit: Pick<GitHubOctokit, 'hook'>, metrics: Metrics): void {
  octokit.hook.wrap('request', async (request, options) => {
    const method = (options.method ?? 'GET').toUpperCase();
    const kind = method === 'GET' || method === 'HEAD' ? 'read' : 'write';
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await request(options);
    } catch (raw) {
      outcome = classifyGitHubError(raw).category;
      if (outcome === 'rate_limit') metrics.rateLimited.inc({ dependency: DEPENDENCY });
      throw raw;
    } finally {
      metrics.externalRequests.inc({ dependency: DEPENDENCY, kind, outcome });
      metrics.externalRequestDuration.observe({ dependency: DEPENDENCY, kind }, (performance.now() - started) / 1000);
    }
  });
}
