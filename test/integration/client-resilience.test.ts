/**
 * CodegenClient under the conditions that used to break its promise, against the loopback fakes and a real
 * store: more tasks than pool slots, processTask racing the scheduler, malformed rows one after another, and a
 * store that fails a write while a task with its PR recorded is being completed. The store is SQLite in memory
 * (the embedded default; PGlite, which takes over 30 s to start on a loaded machine, has its own suites).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { CodegenClient, type CodegenClientConfig } from '../../src/client.js';
import { DaemonError } from '../../src/domain/errors.js';
import {
  createSqliteTaskStore,
  migrateSqlite,
  openSqliteDatabase,
  SQLITE_MEMORY,
} from '../../src/adapters/task-store/sqlite/index.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { startCodegenFake, type CodegenFake } from '../fakes/codegen-fake.js';
import { startGitHubFake, type GitHubFake } from '../fakes/github-fake.js';

const REPO = 'acme/widgets';

describe('CodegenClient keeps its promise at the edges', () => {
  let codegen: CodegenFake;
  let github: GitHubFake;
  const clients: CodegenClient[] = [];
  const closers: Array<() => Promise<void>> = [];

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
    processing: { maxRetries: 3, timeout: 30_000, batchSize: 10, pollInterval: 50, concurrency: 1 },
    feedbackHandler: { retry: { baseDelay: 10, maxDelay: 50 } },
    rateLimits: { codegenCreatePerMinute: 10_000, codegenRequestsPer30s: 100_000 },
    server: { port: 0 },
    ...extra,
  });
  const make = async (config: CodegenClientConfig, store?: TaskStore): Promise<CodegenClient> => {
    const client = new CodegenClient(config, store ? { store } : {});
    clients.push(client);
    await client.initialize();
    return client;
  };
  const sqlStore = async () => {
    const database = openSqliteDatabase(SQLITE_MEMORY);
    migrateSqlite(database);
    const store = createSqliteTaskStore(database);
    closers.push(() => store.close());
    return { database, store };
  };

  beforeAll(async () => {
    github = await startGitHubFake({ collaborators: ['alice'] });
    codegen = await startCodegenFake({
      repos: [{ id: 7, full_name: REPO }],
      pollsUntilDone: 1,
      onRunFinished: async (run) => {
        const branch = `codegen-bot/run-${run.id}`;
        github.createBranch('acme', 'widgets', branch);
        const pr = github.openPullRequestAsAgent({ owner: 'acme', repo: 'widgets', head: branch, title: 'x' });
        return { url: pr.html_url, branch };
      },
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.shutdown({ graceMs: 1_000 })));
    for (const close of closers.splice(0)) await close();
  });
  afterAll(async () => {
    await codegen.close();
    await github.close();
  });

  it('processBatch runs every task when there are more tasks than pool slots', async () => {
    const client = await make(configFor());
    const tasks = Array.from({ length: 5 }, (_, i) => ({ id: `batch-${i}`, title: `Batch ${i}`, description: 'd' }));
    const results = await client.processBatch(tasks);
    expect(results.map((r) => [r.taskId, r.success, r.status])).toEqual(tasks.map((t) => [t.id, true, 'completed']));
  });

  it('processTask racing the polling scheduler never claims a task it cannot start', async () => {
    const { store } = await sqlStore();
    await store.addTasks(
      Array.from({ length: 4 }, (_, i) => ({ id: `queued-${i}`, title: `Q${i}`, description: 'd' })),
    );
    const client = await make(configFor(), store);
    client.start();
    const direct = await Promise.all(
      [0, 1, 2].map((i) => client.processTask({ id: `direct-${i}`, title: `Direct ${i}`, description: 'd' })),
    );
    expect(direct.every((r) => r.success)).toBe(true);
    const all = (await store.listTasks({ limit: 50 })).tasks;
    await expect(
      waitFor(async () => (await store.listTasks({ limit: 50 })).tasks.every((t) => t.status === 'completed')),
    ).resolves.toBe(true);
    for (const t of (await store.listTasks({ limit: 50 })).tasks) expect(t.attempts).toBe(1);
    expect(all).toHaveLength(7);
  });

  it('malformed rows one after another fail by themselves and never pause intake', async () => {
    const { database, store } = await sqlStore();
    const bad = Array.from({ length: 6 }, (_, i) => ({ id: `bad-${i}`, title: `Bad ${i}`, description: 'd' }));
    await store.addTasks(bad);
    database.db.prepare(`UPDATE tasks SET type = 'no-such-type' WHERE id LIKE 'bad-%'`).run();
    const client = await make(configFor({ processing: { concurrency: 1, batchSize: 1, pollInterval: 20 } }), store);
    const paused: string[] = [];
    client.on('intake_paused', (e) => paused.push(e.reason));
    client.start();
    await waitFor(
      async () => bad.every(() => true) && (await store.listTasks({ status: 'failed', limit: 50 })).tasks.length === 6,
    );
    await store.addTasks([{ id: 'good-after-bad', title: 'Good', description: 'd' }]);
    await waitFor(async () => (await store.getTask('good-after-bad'))?.status === 'completed');
    expect(paused).toEqual([]);
  });

  it('a store failure while completing a task with its PR recorded never fails the task, even on its last attempt', async () => {
    const { store } = await sqlStore();
    // The store (or the network to it) fails the completion 12 times: more than one call's retries, so the
    // task is handed back (no attempt spent) and completed from its recorded PR by a later claim.
    let failures = 12;
    const flaky: TaskStore = {
      ...store,
      completeTask: async (...args) => {
        if (failures-- > 0) {
          throw new DaemonError('task store unreachable: ECONNRESET', {
            code: 'task-store-unreachable',
            category: 'network',
            retryable: true,
            dependency: 'task-store',
          });
        }
        return store.completeTask(...args);
      },
    };
    const client = await make(
      configFor({ processing: { maxRetries: 0, concurrency: 1, outageRetryMs: 50, pollInterval: 20 } }),
      flaky,
    );
    await store.addTasks([{ id: 'last-chance', title: 'Last attempt', description: 'd', maxAttempts: 1 }]);
    client.start();
    await waitFor(async () => (await store.getTask('last-chance'))?.status === 'completed');
    const task = await store.getTask('last-chance');
    expect(task?.checkpoint.pr?.url).toMatch(/\/pull\//);
    const history = await store.getTaskHistory('last-chance');
    expect(history.map((e) => e.kind)).not.toContain('failed');
    // Handed back without spending its only attempt, and continued from the recorded PR: one run.
    expect(history.filter((e) => e.kind === 'retry-scheduled').every((e) => e.detail?.countAttempt === false)).toBe(
      true,
    );
    expect(codegen.runs.filter((r) => r.metadata?.task_id === 'last-chance')).toHaveLength(1);
  });
});

/** Resolve true once `check` holds; each look yields to the event loop (no fixed sleep decides the outcome). */
async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}
