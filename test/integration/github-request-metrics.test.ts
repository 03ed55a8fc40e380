/**
 * GitHub calls show up on the daemon's metrics (rate, errors by category, duration), through the real Octokit
 * against the GitHub fake on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createOctokit, type GitHubOctokit } from '../../src/adapters/github/octokit.js';
import { recordGitHubRequests } from '../../src/adapters/github/request-metrics.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { startGitHubFake, type GitHubFake } from '../fakes/github-fake.js';

describe('recordGitHubRequests', () => {
  let fake: GitHubFake;
  let octokit: GitHubOctokit;
  let metrics: Metrics;

  beforeAll(async () => {
    fake = await startGitHubFake({ collaborators: ['alice'] });
    octokit = createOctokit({
      baseUrl: fake.url,
      token: fake.token,
      writeMinTimeMs: 0,
      notificationMinTimeMs: 0,
      timeoutMs: 5_000,
      logger: silentLogger(),
      retries: 0,
    });
    metrics = createMetrics({ defaultMetrics: false });
    recordGitHubRequests(octokit, metrics);
  });
  afterAll(async () => fake.close());

  it('counts reads and writes by outcome, rate limits included, and times them', async () => {
    fake.createBranch('acme', 'widgets', 'feature-1');
    const { number } = fake.openPullRequestAsAgent({ owner: 'acme', repo: 'widgets', head: 'feature-1', title: 't' });
    await octokit.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: number });
    fake.failNext({ method: 'GET', pathIncludes: '/pulls/' }, 404, { message: 'Not Found' });
    await expect(octokit.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: number })).rejects.toThrow();
    fake.failNext({ method: 'POST', pathIncludes: '/labels' }, 429, { message: 'slow down' }, { 'retry-after': '600' });
    await expect(
      octokit.rest.issues.addLabels({ owner: 'acme', repo: 'widgets', issue_number: number, labels: ['x'] }),
    ).rejects.toThrow();

    const { values } = await metrics.externalRequests.get();
    const github = values.filter((v) => v.labels.dependency === 'github');
    // A 404 is classified as validation (the adapter's table), a 429 as rate_limit.
    expect(github.map((v) => `${v.labels.kind} ${v.labels.outcome} ${v.value}`).sort()).toEqual([
      'read ok 1',
      'read validation 1',
      'write rate_limit 1',
    ]);
    const limited = await metrics.rateLimited.get();
    expect(limited.values.find((v) => v.labels.dependency === 'github')?.value).toBe(1);
    const duration = await metrics.externalRequestDuration.get();
    const readCount = duration.values.find(
      (v) => v.metricName?.endsWith('_count') && v.labels.dependency === 'github' && v.labels.kind === 'read',
    );
    expect(readCount?.value).toBe(2);
  });
});
