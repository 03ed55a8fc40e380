/**
 * One retry decision per call, and none for an answer that cannot change: each adapter against a loopback
 * server that counts what it receives. A 4xx other than 408, 425, 429 and GitHub's rate-limit 403s reaches the
 * server once; the retried ones reach it exactly as often as the one layer that owns the decision allows (a
 * second layer retrying too would multiply the count).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createCodegenApi } from '../../src/adapters/codegen/index.js';
import { createOctokit } from '../../src/adapters/github/index.js';
import { createHttpFetch } from '../../src/adapters/http-fetch.js';
import { createHttpTaskStore } from '../../src/adapters/task-api/client.js';
import { DaemonError } from '../../src/domain/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createGuard } from '../../src/resilience/guard.js';
import type { Guard } from '../../src/resilience/types.js';
import { startCodegenFake, type CodegenFake } from '../fakes/codegen-fake.js';
import { startGitHubFake, type GitHubFake } from '../fakes/github-fake.js';

const logger = silentLogger();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function rejection(promise: Promise<unknown>): Promise<DaemonError> {
  const outcome = await promise.then(
    () => new Error('expected a failure'),
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(DaemonError);
  return outcome as DaemonError;
}

/** A guard as the daemon builds one, with 3 attempts and millisecond backoff; no rate limits. */
function testGuard(dependency: string): Guard {
  const guard = createGuard({
    dependency,
    breaker: { errorThresholdPercentage: 100, resetTimeoutMs: 60_000, volumeThreshold: 1_000 },
    retry: { maxAttempts: 3, baseMs: 1, maxMs: 2 },
    requestTimeoutMs: 5_000,
    logger,
  });
  closers.push(() => guard.close());
  return guard;
}

describe('GitHub (Octokit: plugin-retry and plugin-throttling)', () => {
  let github: GitHubFake;
  const PULL = { owner: 'acme', repo: 'widgets', pull_number: 1 };

  async function setup() {
    github = await startGitHubFake();
    closers.push(() => github.close());
    github.createBranch('acme', 'widgets', 'feature');
    github.openPullRequestAsAgent({ owner: 'acme', repo: 'widgets', head: 'feature', title: 'A PR' });
    const octokit = createOctokit({
      baseUrl: github.url,
      token: github.token,
      writeMinTimeMs: 0,
      notificationMinTimeMs: 0,
      timeoutMs: 5_000,
      logger,
      retries: 2,
      retryBaseMs: 1,
      rateLimitRetries: 2,
    });
    const received = () => github.requests.filter((r) => r.path === '/repos/acme/widgets/pulls/1').length;
    return { octokit, received };
  }

  it.each([400, 404, 406, 409, 410, 415, 422, 451])('sends a request answered %i once', async (status) => {
    const { octokit, received } = await setup();
    github.failNext({ method: 'GET', pathIncludes: '/pulls/1' }, status, { message: `status ${status}` });
    await expect(octokit.rest.pulls.get(PULL)).rejects.toMatchObject({ status });
    expect(received()).toBe(1);
  });

  it.each([408, 425, 500, 503])('retries %i twice (plugin-retry alone), then succeeds', async (status) => {
    const { octokit, received } = await setup();
    github.failNext({ method: 'GET', pathIncludes: '/pulls/1' }, status, { message: 'again' }, undefined, 2);
    await expect(octokit.rest.pulls.get(PULL)).resolves.toMatchObject({ status: 200 });
    expect(received()).toBe(3);
  });

  it('stops waiting to retry as soon as the caller aborts', async () => {
    github = await startGitHubFake();
    closers.push(() => github.close());
    github.createBranch('acme', 'widgets', 'feature');
    github.openPullRequestAsAgent({ owner: 'acme', repo: 'widgets', head: 'feature', title: 'A PR' });
    let answered: () => void = () => undefined;
    const firstAnswer = new Promise<void>((resolve) => (answered = resolve));
    const transport = createHttpFetch();
    const octokit = createOctokit({
      baseUrl: github.url,
      token: github.token,
      writeMinTimeMs: 0,
      notificationMinTimeMs: 0,
      timeoutMs: 5_000,
      logger,
      retries: 2,
      // The first retry would wait 10 minutes: far past this test's timeout.
      retryBaseMs: 600_000,
      fetch: (async (...args: Parameters<typeof fetch>) => {
        const response = await transport(...args);
        answered();
        return response;
      }) as typeof fetch,
    });
    github.failNext({ method: 'GET', pathIncludes: '/pulls/1' }, 503, { message: 'again' }, undefined, 5);
    const controller = new AbortController();
    const call = octokit.rest.pulls.get({ ...PULL, request: { signal: controller.signal } });
    await firstAnswer;
    controller.abort(new Error('shutting down'));
    await expect(call).rejects.toBeDefined();
    expect(github.requests.filter((r) => r.path === '/repos/acme/widgets/pulls/1')).toHaveLength(1);
  }, 30_000);

  it('retries a persistent 502 exactly `retries` times: throttling does not retry it again', async () => {
    const { octokit, received } = await setup();
    github.failNext({ method: 'GET', pathIncludes: '/pulls/1' }, 502, { message: 'bad gateway' }, undefined, 10);
    await expect(octokit.rest.pulls.get(PULL)).rejects.toMatchObject({ status: 502 });
    expect(received()).toBe(3);
  });

  it('leaves a 429 to throttling alone: 1 + rateLimitRetries requests, not multiplied by plugin-retry', async () => {
    const { octokit, received } = await setup();
    const reset = String(Math.ceil(Date.now() / 1000) + 1);
    const headers = { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset };
    github.failNext(
      { method: 'GET', pathIncludes: '/pulls/1' },
      429,
      { message: 'API rate limit exceeded' },
      headers,
      10,
    );
    await expect(octokit.rest.pulls.get(PULL)).rejects.toMatchObject({ status: 429 });
    expect(received()).toBe(3);
  });

  it('retries a secondary-rate-limit 403 through throttling; a plain 403 is sent once', async () => {
    const { octokit, received } = await setup();
    const secondary = { message: 'You have exceeded a secondary rate limit. Please wait a few minutes.' };
    github.failNext({ method: 'GET', pathIncludes: '/pulls/1' }, 403, secondary, { 'retry-after': '1' }, 3);
    await expect(octokit.rest.pulls.get(PULL)).rejects.toMatchObject({ status: 403 });
    expect(received()).toBe(3);

    const plain = { message: 'Resource not accessible by integration' };
    github.failNext({ method: 'GET', pathIncludes: '/pulls/1' }, 403, plain, undefined, 10);
    await expect(octokit.rest.pulls.get(PULL)).rejects.toMatchObject({ status: 403 });
    expect(received()).toBe(4);
  });
});

describe('Codegen (the guard; got never retries)', () => {
  let codegen: CodegenFake;

  async function setup() {
    codegen = await startCodegenFake({ repos: [{ id: 11, full_name: 'acme/widgets' }] });
    closers.push(() => codegen.close());
    const api = createCodegenApi({
      baseUrl: codegen.url,
      apiKey: codegen.token,
      orgId: codegen.orgId,
      timeoutMs: 5_000,
      guard: testGuard('codegen'),
      logger,
    });
    const run = await api.createAgentRun({ prompt: 'Do it.', repoId: 11, metadata: { task_id: 't-1' } });
    const received = () => codegen.requests.filter((r) => r.path.endsWith(`/agent/run/${run.id}`)).length;
    return { api, run, received };
  }

  it.each([400, 404, 406, 409, 415, 422])('sends a request answered %i once', async (status) => {
    const { api, run, received } = await setup();
    codegen.failNext({ method: 'GET', pathIncludes: `/agent/run/${run.id}` }, status, { message: `status ${status}` });
    const error = await rejection(api.getAgentRun(run.id));
    expect(error.retryable).toBe(false);
    expect(received()).toBe(1);
  });

  it.each([408, 425, 500])('retries %i through the guard only, then succeeds', async (status) => {
    const { api, run, received } = await setup();
    codegen.failNext({ method: 'GET', pathIncludes: `/agent/run/${run.id}` }, status, { message: 'again' }, 2);
    await expect(api.getAgentRun(run.id)).resolves.toMatchObject({ id: run.id });
    expect(received()).toBe(3);
  });

  it('sends a persistent 503 exactly maxAttempts times', async () => {
    const { api, run, received } = await setup();
    codegen.failNext({ method: 'GET', pathIncludes: `/agent/run/${run.id}` }, 503, { message: 'down' }, 10);
    const error = await rejection(api.getAgentRun(run.id));
    expect(error).toMatchObject({ category: 'server', retryable: true });
    expect(received()).toBe(3);
  });
});

describe('Task API client (the guard; got never retries)', () => {
  /** A Task API stand-in that answers every request with the next status of `statuses` (then 200 []). */
  async function serve(statuses: number[]): Promise<{ url: string; received: () => number }> {
    let count = 0;
    const server: Server = createServer((req, res) => {
      const status = statuses[count++] ?? 200;
      req.resume();
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(status === 200 ? { tasks: [] } : { error: { code: 'nope', message: `status ${status}` } }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received: () => count };
  }

  function store(url: string) {
    return createHttpTaskStore({ baseUrl: url, apiKey: 'k', timeoutMs: 5_000, guard: testGuard('task-store'), logger });
  }
  const claim = { worker: 'w', limit: 1, leaseMs: 60_000 };

  it.each([400, 406, 409, 415])('sends a request answered %i once', async (status) => {
    const api = await serve([status, status, status]);
    const error = await rejection(store(api.url).claimTasks(claim));
    expect(error.retryable).toBe(false);
    expect(api.received()).toBe(1);
  });

  it('retries a 503 through the guard only: 3 requests for 3 attempts', async () => {
    const api = await serve([503, 503, 503, 503, 503]);
    const error = await rejection(store(api.url).claimTasks(claim));
    expect(error).toMatchObject({ retryable: true });
    expect(api.received()).toBe(3);
  });
});
