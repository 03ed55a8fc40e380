/**
 * PR tracking (prManager.getActivePRs) against the GitHub fake (checked against GitHub's OpenAPI description):
 * it lists each repository's recently updated PRs, 100 a page, and stops at its cut-off, instead of asking for
 * every PR ever opened one by one. On today's main, 150 tracked PRs cost 150 GETs per call.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createOctokit, createPullRequestManager } from '../../src/adapters/github/index.js';
import { openSqliteTaskStore } from '../../src/adapters/task-store/sqlite/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { createPrManagerFacade, type PrManagerFacade } from '../../src/pr-manager-facade.js';
import { startGitHubFake, type GitHubFake } from '../fakes/github-fake.js';

const PRS = 150;

describe('PR tracking', () => {
  let fake: GitHubFake;
  let store: TaskStore;
  let facade: PrManagerFacade;
  const numbers = new Map<string, number>();

  beforeAll(async () => {
    fake = await startGitHubFake();
    store = await openSqliteTaskStore({ file: 'memory://' });
    const logger = silentLogger();
    const octokit = createOctokit({
      baseUrl: fake.url,
      token: fake.token,
      writeMinTimeMs: 0,
      notificationMinTimeMs: 0,
      timeoutMs: 5000,
      logger,
      retries: 0,
      retryBaseMs: 1,
    });
    const codeHost = createPullRequestManager({ octokit, logger });
    facade = createPrManagerFacade({
      store: () => store,
      codeHost: () => codeHost,
      runWithPrompt: () => Promise.reject(new Error('not used')),
      logger,
    });
    const ids = Array.from({ length: PRS }, (_, i) => `pr-task-${i}`);
    await store.addTasks(ids.map((id) => ({ id, title: id, description: 'd', repository: 'acme/widgets' })));
    const claims = await store.claimTasks({ worker: 'w', limit: PRS, leaseMs: 60_000 });
    for (const { task, lease } of claims) {
      const pull = fake.openPullRequestAsAgent({
        owner: 'acme',
        repo: 'widgets',
        head: `codegen/${task.id}`,
        title: task.title,
      });
      numbers.set(task.id, pull.number);
      const pr = { url: pull.html_url, number: pull.number, branch: `codegen/${task.id}`, state: 'open' as const };
      await store.completeTask(task.id, lease.token, { pr });
    }
    // Closed before anyone looked: must be recorded as closed, not listed as active.
    fake.closePull('acme', 'widgets', numbers.get('pr-task-0') ?? 0);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await fake?.close();
  });

  const githubCalls = (from: number) =>
    fake.requests
      .slice(from)
      .map((r) => `${r.method} ${r.path.replace(/\?.*$/, '')}${r.query.page ? ` page=${r.query.page}` : ''}`);

  it('reads a repository in pages of 100 instead of one request per PR', async () => {
    const before = fake.requests.length;
    const active = await facade.getActivePRs();
    expect(active).toHaveLength(PRS - 1);
    expect(active.map((p) => p.taskId)).not.toContain('pr-task-0');
    expect((await store.getTask('pr-task-0'))?.checkpoint.pr?.state).toBe('closed');
    expect(githubCalls(before)).toEqual([
      'GET /repos/acme/widgets/pulls page=1',
      'GET /repos/acme/widgets/pulls page=2',
    ]);
    const listing = fake.requests[before];
    expect(listing?.query).toMatchObject({ state: 'all', sort: 'updated', direction: 'desc', per_page: '100' });
    expect(fake.violations).toEqual([]);
  });

  it('next time, reads only back to the last update it saw: one page, and sees a merge', async () => {
    fake.mergePull('acme', 'widgets', numbers.get('pr-task-7') ?? 0);
    const before = fake.requests.length;
    const active = await facade.getActivePRs();
    expect(githubCalls(before)).toEqual(['GET /repos/acme/widgets/pulls page=1']);
    expect(active).toHaveLength(PRS - 2);
    expect(active.map((p) => p.taskId)).not.toContain('pr-task-7');
    expect((await store.getTask('pr-task-7'))?.checkpoint.pr?.state).toBe('merged');
    // The listing stopped at its cut-off: far fewer than all PRs came back.
    const listed = fake.requests[before];
    expect(listed?.status).toBe(200);
    expect(fake.violations).toEqual([]);
  });
});
