/**
 * CodegenClient used as a library, the way the seed's Basic Usage shows, against the Codegen and GitHub fakes
 * and an in-memory SQLite store (PGlite, which takes seconds to start on a busy machine, has its own tests).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { CodegenClient, type CodegenClientConfig } from '../../src/client.js';
import {
  createSqliteTaskStore,
  migrateSqlite,
  openSqliteDatabase,
  SQLITE_MEMORY,
} from '../../src/adapters/task-store/sqlite/index.js';
import { startCodegenFake, type CodegenFake } from '../fakes/codegen-fake.js';
import { startGitHubFake, type GitHubFake } from '../fakes/github-fake.js';

const REPO = 'acme/widgets';

describe('CodegenClient as a library', () => {
  let codegen: CodegenFake;
  let github: GitHubFake;
  const clients: CodegenClient[] = [];

  const configFor = (extra: CodegenClientConfig = {}): CodegenClientConfig => ({
    taskStore: { kind: 'sqlite', dataDir: 'memory://' },
    github: { token: github.token, repository: REPO, apiUrl: github.url, writeMinTimeMs: 0, notificationMinTimeMs: 0 },
    codegen: {
      apiKey: codegen.token,
      orgId: String(codegen.orgId),
      apiUrl: codegen.url,
      pollInitialMs: 10,
      pollMaxMs: 20,
    },
    processing: { maxRetries: 3, timeout: 30_000, batchSize: 10, pollInterval: 50 },
    prManager: { pr: { labels: ['codegen', 'automated'], defaultReviewers: ['alice', 'codegen-sh[bot]'] } },
    feedbackHandler: { retry: { baseDelay: 10, maxDelay: 50 } },
    auth: { probeIntervalMs: 50 },
    // The real budgets (10 runs a minute) would make this test wait; the limiter has its own tests.
    rateLimits: { codegenCreatePerMinute: 10_000, codegenRequestsPer30s: 100_000 },
    server: { port: 0 },
    ...extra,
  });
  const make = (config: CodegenClientConfig): CodegenClient => {
    const client = new CodegenClient(config);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    github = await startGitHubFake({ collaborators: ['alice', 'bob'] });
    const repos = [
      { id: 7, full_name: REPO },
      { id: 8, full_name: 'acme/gadgets' },
    ];
    codegen = await startCodegenFake({
      repos,
      pollsUntilDone: 1,
      onRunFinished: async (run) => {
        const [owner = '', repo = ''] = (repos.find((r) => r.id === run.repo_id)?.full_name ?? REPO).split('/');
        const branch = `codegen-bot/run-${run.id}`;
        github.createBranch(owner, repo, branch);
        const pr = github.openPullRequestAsAgent({ owner, repo, head: branch, title: 'x' });
        return { url: pr.html_url, branch };
      },
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.shutdown({ graceMs: 1_000 })));
  });
  afterAll(async () => {
    await codegen.close();
    await github.close();
  });

  it('processes the seed example task and returns its PR', async () => {
    const client = make(configFor());
    const events: string[] = [];
    client.on('initialized', () => events.push('initialized'));
    client.on('pr_created', () => events.push('pr_created'));
    client.on('task_completed', () => events.push('task_completed'));
    await client.initialize();

    const result = await client.processTask({
      id: 'task-123',
      title: 'Implement user authentication',
      description: 'Add JWT-based authentication system',
      priority: 'high',
      labels: ['feature', 'security'],
    });
    expect(result.success).toBe(true);
    expect(result.prUrl).toMatch(/^https:\/\/github\.com\/acme\/widgets\/pull\/\d+$/);
    expect(result.branchName).toMatch(/^codegen-bot\/run-/);
    expect(events).toEqual(['initialized', 'pr_created', 'task_completed']);

    // Doing it again does nothing twice: the recorded PR comes back.
    const runsBefore = codegen.runs.length;
    const again = await client.processTask({
      id: 'task-123',
      title: 'Implement user authentication',
      description: 'x',
    });
    expect(again.prUrl).toBe(result.prUrl);
    expect(codegen.runs.length).toBe(runsBefore);

    const pull = github.getPull('acme', 'widgets', result.prNumber ?? 0);
    expect(pull?.labels.sort()).toEqual(['automated', 'codegen']);
    expect(pull?.requestedReviewers).toEqual(['alice']);

    const metrics = client.getMetrics();
    expect(metrics).toMatchObject({ tasksProcessed: 1, prsCreated: 1, errors: 0, successRate: 100 });
    expect(metrics.lastProcessedAt).not.toBeNull();
    expect(codegen.violations).toEqual([]);
    expect(github.violations).toEqual([]);
  });

  it('processes a batch, retrieves tasks and reports status without secrets', async () => {
    const client = make(configFor());
    await client.initialize();
    const results = await client.processBatch(
      ['b1', 'b2', 'b3'].map((id) => ({ id, title: `Batch ${id}`, description: 'A batch task.' })),
    );
    expect(results.map((r) => r.success)).toEqual([true, true, true]);
    const completed = await client.retrieveTasks({ status: 'completed', limit: 10 });
    expect(completed.map((t) => t.id).sort()).toEqual(['b1', 'b2', 'b3']);

    const status = JSON.stringify(client.getStatus());
    expect(status).not.toContain(codegen.token);
    expect(status).not.toContain(github.token);
    expect(client.getStatus()).toMatchObject({ initialized: true, activeTasks: 0, dryRun: false });
    expect(client.auth.getStatus()).toMatchObject({ authenticated: true });
  });

  it('polls the store by itself once started', async () => {
    const client = make(configFor());
    await client.initialize();
    const done = new Promise<string>((resolve) => client.on('task_completed', (e) => resolve(e.taskId)));
    client.start();
    // Added straight to the store, as another producer would.
    await client.taskStore.addTasks([{ id: 'polled-1', title: 'Polled task', description: 'Picked up by the loop.' }]);
    expect(await done).toBe('polled-1');
  });

  it('keeps a busy repository under its in-flight cap while the other repository’s tasks run', async () => {
    const base = configFor();
    const client = make({
      ...base,
      processing: { ...base.processing, concurrency: 5, repoMaxInFlightOverrides: { [REPO]: 1 } },
    });
    await client.initialize();
    // Three tasks for the default repository (one names it, two name none), two for another; all claimable at once.
    await client.taskStore.addTasks([
      { id: 'cap-w1', title: 'w1', description: 'd', repository: REPO },
      { id: 'cap-w2', title: 'w2', description: 'd' },
      { id: 'cap-w3', title: 'w3', description: 'd' },
      { id: 'cap-g1', title: 'g1', description: 'd', repository: 'acme/gadgets' },
      { id: 'cap-g2', title: 'g2', description: 'd', repository: 'acme/gadgets' },
    ]);
    const inFlight = new Set<string>();
    let mostWidgets = 0;
    let mostOverall = 0;
    const finished = new Set<string>();
    let allDone!: () => void;
    const done = new Promise<void>((resolve) => (allDone = resolve));
    client.on('task_claimed', (e) => {
      inFlight.add(e.taskId);
      mostWidgets = Math.max(mostWidgets, [...inFlight].filter((id) => id.startsWith('cap-w')).length);
      mostOverall = Math.max(mostOverall, inFlight.size);
    });
    const finish = (taskId: string) => {
      inFlight.delete(taskId);
      finished.add(taskId);
      if (finished.size === 5) allDone();
    };
    client.on('task_completed', (e) => finish(e.taskId));
    client.on('task_failed', (e) => finish(e.taskId));
    client.start();
    await done;
    expect(mostWidgets).toBe(1);
    // The other repository was not held up behind the busy one: its tasks ran beside it.
    expect(mostOverall).toBeGreaterThanOrEqual(2);
    for (const id of ['cap-w1', 'cap-w2', 'cap-w3', 'cap-g1', 'cap-g2']) {
      expect((await client.taskStore.getTask(id))!.status).toBe('completed');
    }
  });

  it('emits auth_error and pauses intake when Codegen refuses the token, then recovers', async () => {
    const client = make(configFor());
    await client.initialize();
    const authError = new Promise((resolve) => client.on('auth_error', resolve));
    const restored = new Promise((resolve) => client.on('auth_restored', resolve));
    const realToken = codegen.token;
    codegen.token = 'rotated-away';
    const result = await client.processTask({ id: 'auth-1', title: 'Auth task', description: 'Hits a 401.' });
    expect(result.success).toBe(false);
    expect(await authError).toMatchObject({ dependency: 'codegen' });
    expect((client.getStatus().intake as { open: boolean }).open).toBe(false);
    codegen.token = realToken;
    await restored;
    expect(JSON.stringify(client.getStatus())).not.toContain(realToken);
  });

  it('sends a task to its own repository with the labels, reviewers and base branch configured for it', async () => {
    const client = make(
      configFor({
        github: {
          token: github.token,
          repository: REPO,
          apiUrl: github.url,
          writeMinTimeMs: 0,
          notificationMinTimeMs: 0,
          repositories: { 'acme/gadgets': { labels: ['gadget'], reviewers: ['bob'], baseBranch: 'develop' } },
        },
      }),
    );
    await client.initialize();
    const result = await client.processTask({
      id: 'multi-1',
      title: 'Gadget change',
      description: 'Lives in another repository.',
      repository: 'acme/gadgets',
    });
    expect(result.prUrl).toMatch(/^https:\/\/github\.com\/acme\/gadgets\/pull\/\d+$/);
    const pull = github.getPull('acme', 'gadgets', result.prNumber ?? 0);
    expect(pull?.labels).toEqual(['gadget']);
    expect(pull?.requestedReviewers).toEqual(['bob']);
    const run = codegen.runs.find((r) => r.metadata?.task_id === 'multi-1');
    expect(run?.repo_id).toBe(8);
    expect(run?.prompt).toContain('develop');
  });

  it('tracks PR state: a merged PR is recorded on its task and leaves the active list', async () => {
    const client = make(configFor());
    await client.initialize();
    const a = await client.processTask({ id: 'state-1', title: 'State one', description: 'Will be merged.' });
    const b = await client.processTask({ id: 'state-2', title: 'State two', description: 'Stays open.' });
    github.mergePull('acme', 'widgets', a.prNumber ?? 0);

    expect(await client.prManager.getPRStatus('state-1')).toMatchObject({ state: 'merged', taskId: 'state-1' });
    expect((await client.taskStore.getTask('state-1'))?.checkpoint.pr?.state).toBe('merged');
    const active = await client.prManager.getActivePRs();
    expect(active.map((p) => p.taskId)).toEqual(['state-2']);
    expect(active[0]?.number).toBe(b.prNumber);
  });

  it('fails a malformed row already in the store with a validation error and goes on with the others', async () => {
    const database = openSqliteDatabase(SQLITE_MEMORY);
    migrateSqlite(database);
    const store = createSqliteTaskStore(database);
    await store.addTasks([
      { id: 'bad-row', title: 'Malformed', description: 'Broken by hand.' },
      { id: 'good-row', title: 'Fine', description: 'A normal task.' },
    ]);
    database.db.prepare(`UPDATE tasks SET type = 'no-such-type', labels = '"not-a-list"' WHERE id = 'bad-row'`).run();
    const client = new CodegenClient(configFor(), { store });
    clients.push(client);
    await client.initialize();
    const finished = new Map<string, string>();
    const both = new Promise<void>((resolve) => {
      const note = (id: string, how: string) => {
        finished.set(id, how);
        if (finished.size === 2) resolve();
      };
      client.on('task_completed', (e) => note(e.taskId, 'completed'));
      client.on('task_failed', (e) => note(e.taskId, `failed:${e.error.category}`));
    });
    client.start();
    await both;
    expect(finished.get('bad-row')).toBe('failed:validation');
    expect(finished.get('good-row')).toBe('completed');
    const bad = await store.getTask('bad-row');
    expect(bad?.status).toBe('failed');
    expect(bad?.lastError?.message).toMatch(/type/);
    expect(bad?.feedback?.[0]).toMatchObject({ source: 'codegen-pr', kind: 'suggestions' });
    await client.shutdown({ graceMs: 1_000 });
    await store.close();
  });

  it('runs as a dry run without credentials and says so', async () => {
    const client = make({ taskStore: { kind: 'sqlite', dataDir: 'memory://' } });
    await client.initialize();
    expect(client.dryRun).toBe(true);
    const result = await client.processTask({ id: 'dry-1', title: 'Dry task', description: 'Only a prompt.' });
    expect(result).toMatchObject({ success: false, dryRun: true, status: 'pending' });
    expect(result.prompt).toContain('Dry task');
    expect(codegen.runs.some((r) => r.metadata?.task_id === 'dry-1')).toBe(false);
  });

  it('refuses to start in production without credentials', () => {
    expect(() => new CodegenClient({ env: 'production' })).toThrow(/CODEGEN_API_KEY/);
  });
});
