/**
 * The task store on SQLite, PGlite and (with DATABASE_URL) PostgreSQL: adding, listing, history, the state
 * machine's refusals, feedback and counts. Claims, leases and fencing are in task-store-leases.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createSqlTaskStore, migrate, openPgliteTaskStore } from '../../src/adapters/task-store/index.js';
import { openPgliteClient } from '../../src/adapters/task-store/pglite.js';
import { validateStoredTask } from '../../src/domain/task-validation.js';
import { storeBackends, type StoreHarness } from './helpers/store-backends.js';

const lease = { worker: 'w1', limit: 10, leaseMs: 60_000 };

describe.each(storeBackends('task_store'))('task store on $name', (backend) => {
  let h: StoreHarness;
  beforeAll(async () => {
    h = await backend.open();
  }, backend.openTimeoutMs);
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    await h.reset();
  });

  it('adds a task with defaults and reads it back', async () => {
    const [added] = await h.store.addTasks([{ title: '  Add login  ', description: 'OAuth please' }], 'cli');
    expect(added).toMatchObject({
      title: 'Add login',
      description: 'OAuth please',
      type: 'default',
      priority: 'medium',
      labels: [],
      status: 'pending',
      attempts: 0,
      maxAttempts: 3,
      checkpoint: {},
    });
    expect(added!.id).toMatch(/^t-[0-9a-f]{16}$/);
    expect(added!.repository).toBeUndefined();
    expect(await h.store.getTask(added!.id)).toEqual(added);
    expect(await h.store.getTask('no-such-task')).toBeUndefined();
  });

  it('keeps every submitted field', async () => {
    const input = {
      id: 'full-1',
      title: 'Fix crash',
      description: 'Stack trace attached',
      type: 'bugfix' as const,
      priority: 'critical' as const,
      labels: ['bug', 'p0'],
      repository: 'acme/web',
      maxAttempts: 5,
      context: { files: ['src/app.ts'], nested: { ok: true } },
    };
    const [added] = await h.store.addTasks([input]);
    expect(added).toMatchObject(input);
  });

  it('refuses a duplicate id and adds nothing from that batch', async () => {
    await h.store.addTasks([{ id: 'dup', title: 't', description: 'd' }]);
    await expect(
      h.store.addTasks([
        { id: 'fresh', title: 't', description: 'd' },
        { id: 'dup', title: 't', description: 'd' },
      ]),
    ).rejects.toMatchObject({ code: 'task-exists', category: 'conflict' });
    expect(await h.store.getTask('fresh')).toBeUndefined();
  });

  it('refuses invalid tasks naming the field', async () => {
    const bad = { title: '', description: 'd', priority: 'urgent' } as never;
    await expect(h.store.addTasks([bad])).rejects.toMatchObject({
      code: 'invalid-task',
      category: 'validation',
      message: expect.stringMatching(/tasks\[0\]\.title.*tasks\[0\]\.priority/),
    });
    expect(await h.store.countByStatus()).toEqual({});
  });

  it('lists newest first with filters and a keyset cursor that visits each task once', async () => {
    for (let i = 0; i < 7; i++) {
      await h.store.addTasks([
        { id: `l${i}`, title: `t${i}`, description: 'd', priority: i % 2 ? 'high' : 'low', repository: 'acme/x' },
      ]);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await h.store.listTasks({ limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.tasks.map((t) => t.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(['l6', 'l5', 'l4', 'l3', 'l2', 'l1', 'l0']);

    const high = await h.store.listTasks({ priority: 'high' });
    expect(high.tasks.map((t) => t.id)).toEqual(['l5', 'l3', 'l1']);
    expect(high.nextCursor).toBeUndefined();
    await h.store.cancelTask('l0');
    expect((await h.store.listTasks({ status: 'cancelled' })).tasks.map((t) => t.id)).toEqual(['l0']);
    expect((await h.store.listTasks({ repository: 'acme/none' })).tasks).toEqual([]);
    await expect(h.store.listTasks({ cursor: 'garbage!' })).rejects.toMatchObject({ code: 'invalid-cursor' });
    await expect(h.store.listTasks({ limit: 501 })).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('records every state change in the history, in order', async () => {
    await h.store.addTasks([{ id: 'h1', title: 't', description: 'd' }], 'cli');
    const [claimed] = await h.store.claimTasks(lease);
    const token = claimed!.lease.token;
    await h.store.recordAgentRun('h1', token, { id: 42, url: 'https://codegen.com/run/42' });
    const pr = { url: 'https://github.com/acme/x/pull/7', number: 7, branch: 'codegen/h1' };
    await h.store.recordPullRequest('h1', token, pr);
    await h.store.completeTask('h1', token, { pr });

    const history = await h.store.getTaskHistory('h1');
    expect(history.map((e) => [e.actor, e.kind, e.fromStatus, e.toStatus])).toEqual([
      ['cli', 'created', undefined, 'pending'],
      ['w1', 'claimed', 'pending', 'claimed'],
      ['w1', 'agent-run-recorded', 'claimed', 'awaiting_agent'],
      ['w1', 'pr-recorded', 'awaiting_agent', 'awaiting_agent'],
      ['w1', 'completed', 'awaiting_agent', 'completed'],
    ]);
    expect(history[2]!.detail).toEqual({ agentRunId: 42, agentRunUrl: 'https://codegen.com/run/42' });
    expect(history.every((e) => e.taskId === 'h1' && !Number.isNaN(Date.parse(e.at)))).toBe(true);
    const task = await h.store.getTask('h1');
    expect(task).toMatchObject({
      status: 'completed',
      checkpoint: { agentRunId: 42, agentRunUrl: 'https://codegen.com/run/42', pr },
    });
    expect(await h.store.getTaskHistory('nope')).toEqual([]);
  });

  it('refuses transitions the state machine does not allow', async () => {
    await h.store.addTasks([{ id: 's1', title: 't', description: 'd' }]);
    await expect(h.store.retryTask('s1')).rejects.toMatchObject({ code: 'invalid-transition', category: 'conflict' });
    const [c] = await h.store.claimTasks(lease);
    await h.store.completeTask('s1', c!.lease.token, { note: 'no changes needed' });
    // The holder's token stays current: the same completion repeated (its answer was lost) is recognised as done
    // and writes no second history row; any other write is the wrong state, not a lost lease.
    await h.store.completeTask('s1', c!.lease.token, {});
    expect((await h.store.getTaskHistory('s1')).filter((e) => e.kind === 'completed')).toHaveLength(1);
    await expect(
      h.store.failTask('s1', c!.lease.token, { error: { category: 'agent', code: 'x', message: 'y' } }),
    ).rejects.toMatchObject({ code: 'invalid-transition' });
    await expect(h.store.heartbeat('s1', c!.lease.token, 1000)).rejects.toMatchObject({ code: 'invalid-transition' });
    await expect(h.store.releaseTask('s1', c!.lease.token)).rejects.toMatchObject({ code: 'invalid-transition' });
    await expect(h.store.cancelTask('s1')).rejects.toMatchObject({ code: 'invalid-transition' });
    await expect(h.store.retryTask('s1')).rejects.toMatchObject({ code: 'invalid-transition' });
    await expect(h.store.retryTask('missing')).rejects.toMatchObject({ code: 'task-not-found' });
    await expect(h.store.cancelTask('missing')).rejects.toMatchObject({ code: 'task-not-found' });
    await expect(h.store.heartbeat('missing', c!.lease.token, 1000)).rejects.toMatchObject({
      code: 'task-not-found',
    });
    expect((await h.store.getTask('s1'))!.status).toBe('completed');
  });

  it('retries a failed task by hand with attempts reset and the checkpoint kept', async () => {
    await h.store.addTasks([{ id: 'r1', title: 't', description: 'd', maxAttempts: 1 }]);
    const [c] = await h.store.claimTasks(lease);
    await h.store.recordAgentRun('r1', c!.lease.token, { id: 9 });
    const failed = await h.store.failTask('r1', c!.lease.token, {
      error: { category: 'agent', code: 'agent-failed', message: 'boom' },
    });
    expect(failed).toMatchObject({ status: 'failed', lastError: { code: 'agent-failed', message: 'boom' } });
    const retried = await h.store.retryTask('r1', 'cli');
    expect(retried).toMatchObject({ status: 'pending', attempts: 0, checkpoint: { agentRunId: 9 } });
    await expect(h.store.completeTask('r1', c!.lease.token, {})).rejects.toMatchObject({ code: 'stale-lease' });
    expect((await h.store.getTaskHistory('r1')).at(-1)).toMatchObject({ actor: 'cli', kind: 'retried' });
  });

  it('appends feedback, tracks the PR state, counts by status and pings', async () => {
    await h.store.addTasks([
      { id: 'f1', title: 't', description: 'd' },
      { id: 'f2', title: 't', description: 'd' },
    ]);
    await h.store.addFeedback('f1', { kind: 'review', text: 'use the helper' }, 'alice');
    const task = await h.store.addFeedback('f1', { kind: 'suggestion', at: '2024-01-01T00:00:00.000Z' });
    expect(task.feedback).toEqual([
      expect.objectContaining({ kind: 'review', text: 'use the helper', at: expect.any(String) }),
      { kind: 'suggestion', at: '2024-01-01T00:00:00.000Z' },
    ]);
    await expect(h.store.addFeedback('missing', { a: 1 })).rejects.toMatchObject({ code: 'task-not-found' });

    await expect(h.store.updatePullRequestState('f1', 'merged')).rejects.toMatchObject({ code: 'no-pull-request' });
    const [c] = await h.store.claimTasks({ ...lease, limit: 1 });
    const pr = { url: 'https://github.com/a/b/pull/1', number: 1, branch: 'b', state: 'open' as const };
    await h.store.completeTask(c!.task.id, c!.lease.token, { pr });
    await h.store.updatePullRequestState(c!.task.id, 'merged');
    await h.store.updatePullRequestState(c!.task.id, 'merged');
    expect((await h.store.getTask(c!.task.id))!.checkpoint.pr!.state).toBe('merged');
    const prEvents = (await h.store.getTaskHistory(c!.task.id)).filter((e) => e.kind === 'pr-state-changed');
    expect(prEvents).toHaveLength(1);

    expect(await h.store.countByStatus()).toEqual({ pending: 1, completed: 1 });
    await expect(h.store.ping()).resolves.toBeUndefined();
  });

  it('reads, lists and claims a malformed row without crashing, for the daemon to fail', async () => {
    await h.sql.query(
      `INSERT INTO ${h.tasks} (id, title, description, type, priority, labels, context)
       VALUES ('bad-1', 'x', 'y', 'weird', 'urgent', '{"not":"a list"}', '[1,2]')`,
    );
    const listed = await h.store.listTasks({});
    expect(listed.tasks.map((t) => t.id)).toEqual(['bad-1']);
    const [claimed] = await h.store.claimTasks(lease);
    expect(claimed!.task).toMatchObject({ id: 'bad-1', type: 'weird', labels: { not: 'a list' } });
    const problems = validateStoredTask(claimed!.task);
    expect(problems.join('\n')).toMatch(/type "weird"/);
    expect(problems.join('\n')).toMatch(/priority "urgent"/);
    expect(problems.join('\n')).toMatch(/labels must be a list/);
    expect(problems.join('\n')).toMatch(/context must be an object/);
    const failed = await h.store.failTask('bad-1', claimed!.lease.token, {
      error: { category: 'validation', code: 'invalid-stored-task', message: problems.join('; ') },
    });
    expect(failed.status).toBe('failed');
  });

  it('refuses a cancelled signal before touching the database', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(h.store.listTasks({}, controller.signal)).rejects.toMatchObject({ code: 'cancelled' });
    await expect(h.store.claimTasks(lease, controller.signal)).rejects.toMatchObject({ code: 'cancelled' });
  });
});

describe('task store on PGlite on disk', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'codegen-pr-pglite-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates missing parent directories and keeps tasks across reopening', async () => {
    const dataDir = path.join(dir, 'nested', 'data', 'pglite');
    const first = await openPgliteTaskStore({ dataDir });
    await first.addTasks([{ id: 'kept', title: 't', description: 'd' }]);
    await first.close();

    // Reopen on the raw client: the schema is already current, and the task is still there.
    const sql = await openPgliteClient(dataDir);
    expect(await migrate(sql)).toEqual({ applied: [] });
    const second = createSqlTaskStore(sql);
    expect(await second.getTask('kept')).toMatchObject({ id: 'kept', status: 'pending' });
    await second.close();
  }, 120_000);
});
