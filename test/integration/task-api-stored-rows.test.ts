/**
 * The malformed-row corpus (test/corpus/stored-rows.ts) through the daemon's pipeline: each row is written
 * straight into the tasks table with SQL, claimed through the Task API with the daemon's HTTP client, and run
 * by runTask. Every one must end failed with a validation error naming its field, without a Codegen run or a
 * prompt being made for it, while a good task among them completes. PGlite always; PostgreSQL with DATABASE_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHttpTaskStore } from '../../src/adapters/task-api/client.js';
import { loadConfig } from '../../src/config/load.js';
import { DaemonEvents } from '../../src/daemon/events.js';
import { createIntakeGate } from '../../src/daemon/intake.js';
import { createRepositoryParks } from '../../src/daemon/parking.js';
import type { TaskOutcome } from '../../src/domain/outcome.js';
import { FeedbackHandler } from '../../src/feedback/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { PipelineDeps } from '../../src/pipeline/context.js';
import { policyForRepository } from '../../src/pipeline/policy.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { runTask } from '../../src/pipeline/run-task.js';
import { PromptGenerator } from '../../src/prompt/index.js';
import { startTaskApiServer, type TaskApiServer } from '../../src/task-api/node-server.js';
import { STORED_ROW_CORPUS, type RowColumn } from '../corpus/stored-rows.js';
import { createRunWatcher } from '../../src/daemon/run-watcher.js';
import { agentRun, FakeHealth, RecordingCodeHost, ScriptedAgent } from '../fakes/memory-ports.js';
import { storeBackends, type StoreHarness } from './helpers/store-backends.js';

const API_KEY = 'stored-rows-key-0123456789';
const GOOD_ID = 'good-task';
const config = loadConfig({ env: {}, dotenvPath: false, configDir: '/nonexistent' });

const BASE: Record<RowColumn, string | number | null> = {
  id: '',
  title: 'Stored row',
  description: 'Do the thing.',
  type: 'feature',
  priority: 'high',
  labels: '[]',
  repository: 'acme/widgets',
  context: null,
  max_attempts: 1,
};

const rowId = (index: number, columns: { id?: string | number }) => String(columns.id ?? `row-${index}`);

function pipelineDeps(store: TaskStore, agent: ScriptedAgent): PipelineDeps {
  const events = new DaemonEvents();
  const health = new FakeHealth();
  const interval = { initialMs: 1, maxMs: 2, backoff: 2 };
  return {
    store,
    agent,
    runs: createRunWatcher({ agent, health, logger: silentLogger(), interval, maxPages: 1 }),
    codeHost: new RecordingCodeHost(),
    prompts: new PromptGenerator(config.promptGenerator, {
      branchPrefix: 'codegen/task-',
      commitMessageTemplate: config.prManager.commits.messageTemplate,
      signOff: false,
      baseBranch: 'main',
    }),
    feedback: new FeedbackHandler(config.feedbackHandler, {
      maxRetries: 3,
      maxRetryAfterMs: 60_000,
      random: () => 0.5,
    }),
    events,
    intake: createIntakeGate(),
    logger: silentLogger(),
    defaultRepository: '',
    policyFor: (repo) => policyForRepository(config, repo),
    branchFor: (id) => `codegen/task-${id}`,
    taskUrlFor: (id) => `https://tasks.example/tasks/${id}`,
    wait: { paused: 'resume', probeTimeoutMs: 1_000 },
    leaseMs: 60_000,
    taskDeadlineMs: 3_600_000,
    stepTimeoutMs: 60_000,
    health,
    parks: createRepositoryParks({ events }),
  };
}

describe.each(storeBackends('task-api-stored-rows'))('malformed rows through the pipeline ($name)', (backend) => {
  let harness: StoreHarness;
  let server: TaskApiServer;
  let http: TaskStore;
  const agent = new ScriptedAgent([
    agentRun({
      status: 'COMPLETE',
      state: 'succeeded',
      pullRequests: [{ id: 1, url: 'https://github.com/acme/widgets/pull/5', branch: 'b' }],
    }),
  ]);
  const outcomes = new Map<string, TaskOutcome>();

  beforeAll(async () => {
    harness = await backend.open();
    server = await startTaskApiServer({
      store: harness.store,
      apiKey: API_KEY,
      port: 0,
      host: '127.0.0.1',
      logger: silentLogger(),
    });
    http = createHttpTaskStore({ baseUrl: server.url, apiKey: API_KEY, timeoutMs: 30_000, logger: silentLogger() });
    for (const [index, row] of STORED_ROW_CORPUS.entries()) {
      const values = { ...BASE, ...row.columns, id: rowId(index, row.columns) };
      await harness.sql.query(
        `INSERT INTO ${harness.tasks} (id, title, description, type, priority, labels, repository, context, max_attempts)
         VALUES ($1, $2, $3, $4, $5, ${harness.json(6)}, $7, ${harness.json(8)}, $9)`,
        [
          values.id,
          values.title,
          values.description,
          values.type,
          values.priority,
          values.labels,
          values.repository,
          values.context,
          values.max_attempts,
        ],
      );
    }
    // The good task waits behind the malformed ones (low priority): the daemon must get through them to it.
    await http.addTasks([
      {
        id: GOOD_ID,
        title: 'Add a health endpoint',
        description: 'GET /health',
        priority: 'low',
        repository: 'acme/widgets',
      },
    ]);
    const deps = pipelineDeps(http, agent);
    for (let round = 0; round < 20; round += 1) {
      const claims = await http.claimTasks({ worker: 'rows-worker', limit: 10, leaseMs: 60_000 });
      if (claims.length === 0) break;
      for (const claim of claims) outcomes.set(claim.task.id, await runTask(claim, deps, new AbortController().signal));
    }
  }, backend.openTimeoutMs);

  afterAll(async () => {
    await server?.close();
    await harness?.close();
  });

  it('holds at least 50 rows', () => {
    expect(STORED_ROW_CORPUS.length).toBeGreaterThanOrEqual(50);
  });

  it('completes the good task among them, the only one that reached Codegen', async () => {
    expect(outcomes.get(GOOD_ID)?.kind).toBe('completed');
    expect((await http.getTask(GOOD_ID))?.status).toBe('completed');
    const created = agent.calls.filter((c) => c.method === 'createAgentRun');
    expect(created.map((c) => (c.args[0] as { metadata: { task_id: string } }).metadata.task_id)).toEqual([GOOD_ID]);
  });

  it.each(STORED_ROW_CORPUS.map((row, index) => [row.name, row, index] as const))('%s', async (_name, row, index) => {
    const id = rowId(index, row.columns);
    expect(outcomes.get(id)?.kind).toBe('failed');
    const task = await harness.store.getTask(id);
    expect(task?.status).toBe('failed');
    expect(task?.lastError).toMatchObject({ code: 'task-invalid', category: 'validation' });
    const message = task?.lastError?.message ?? '';
    expect(message.length).toBeLessThanOrEqual(4_000);
    expect([message, message.includes(`: ${row.field} `) || message.includes(`; ${row.field} `)]).toEqual([
      message,
      true,
    ]);
  });
});
