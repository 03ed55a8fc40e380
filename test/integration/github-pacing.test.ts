/**
 * GitHub writes keep going while Redis is unreachable: the pacing limiter (createGitHubPacing) falls back to
 * local spacing, where bottleneck's Redis clustering (the old `redis` option) waited for ever. Redis is really
 * unreachable: a closed port, and the real Redis behind a TCP proxy that stops answering mid-run.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createOctokit } from '../../src/adapters/github/index.js';
import type { AppConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { createGitHubPacing, githubPacingBudgets } from '../../src/resilience/github-pacing.js';
import type { Limiter } from '../../src/resilience/limiter.js';
import { startGitHubFake, type GitHubFake } from '../fakes/github-fake.js';
import { startTcpProxy, type TcpProxy } from '../fakes/tcp-proxy.js';

const REDIS_URL = process.env.REDIS_URL;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

function config(redisUrl: string, replicas = 1): Pick<AppConfig, 'github' | 'rateLimits'> {
  return {
    github: { writeMinTimeMs: 20, notificationMinTimeMs: 20 } as AppConfig['github'],
    rateLimits: {
      codegenCreatePerMinute: 10,
      codegenRequestsPer30s: 60,
      headroom: 10,
      replicas,
      redisUrl,
      maxRetryAfterMs: 60_000,
    },
  };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function world(pacing: Limiter) {
  const github: GitHubFake = await startGitHubFake();
  closers.push(() => github.close());
  github.createBranch('acme', 'widgets', 'feature');
  const pr = github.openPullRequestAsAgent({ owner: 'acme', repo: 'widgets', head: 'feature', title: 'A PR' });
  const octokit = createOctokit({
    baseUrl: github.url,
    token: github.token,
    writeMinTimeMs: 20,
    notificationMinTimeMs: 20,
    timeoutMs: 5_000,
    logger: createLogger({ level: 'silent' }),
    pacing,
  });
  const label = (name: string, signal?: AbortSignal) =>
    octokit.rest.issues.addLabels({
      owner: 'acme',
      repo: 'widgets',
      issue_number: pr.number,
      labels: [name],
      ...(signal ? { request: { signal } } : {}),
    });
  return { github, label };
}

describe('GitHub write pacing', () => {
  it('stretches the documented spacing by the headroom, and leaves reads unpaced', () => {
    const budgets = githubPacingBudgets({
      github: { writeMinTimeMs: 1_000, notificationMinTimeMs: 3_000 } as AppConfig['github'],
      rateLimits: config('').rateLimits,
    });
    expect(budgets.write).toEqual({ max: Infinity, perMs: 60_000, minTimeMs: 1_112 });
    expect(budgets.notifications).toEqual({ max: Infinity, perMs: 60_000, minTimeMs: 3_334 });
    expect(budgets.standard?.minTimeMs).toBeUndefined();
  });

  it('keeps writing with REDIS_URL on a closed port, on local pacing', async () => {
    const pacing = createGitHubPacing(config(`redis://127.0.0.1:${await closedPort()}`, 2), {
      logger: createLogger({ level: 'silent' }),
    });
    closers.push(() => pacing.close());
    const { github, label } = await world(pacing);
    await label('one');
    await label('two');
    expect(github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/labels'))).toHaveLength(2);
    expect(pacing.mode()).toBe('local');
  });

  it('refuses a write whose caller aborts while it waits for its turn', async () => {
    const pacing = createGitHubPacing(
      { ...config(''), github: { writeMinTimeMs: 60_000, notificationMinTimeMs: 0 } as AppConfig['github'] },
      { logger: createLogger({ level: 'silent' }) },
    );
    closers.push(() => pacing.close());
    const { github, label } = await world(pacing);
    await label('first');
    const controller = new AbortController();
    const waiting = label('second', controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ category: 'cancelled' });
    expect(github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/labels'))).toHaveLength(1);
  });
});

const describeRedis = REDIS_URL ? describe : describe.skip;
if (!REDIS_URL) console.warn('github-pacing: REDIS_URL is not set, so the proxied-Redis test is skipped');

describeRedis('GitHub write pacing with Redis behind a proxy that stops answering', () => {
  let proxy: TcpProxy;
  afterEach(async () => {
    await proxy?.close();
  });

  it('keeps writing when Redis goes silent mid-run', async () => {
    proxy = await startTcpProxy({ target: REDIS_URL ?? '' });
    const pacing = createGitHubPacing(config(proxy.url(REDIS_URL ?? '')), {
      logger: createLogger({ level: 'silent' }),
    });
    closers.push(() => pacing.close());
    const { github, label } = await world(pacing);
    await label('shared');
    expect(pacing.mode()).toBe('shared');
    proxy.pause();
    await label('while-silent');
    expect(pacing.mode()).toBe('local');
    expect(github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/labels'))).toHaveLength(2);
  });
});
