/**
 * The Task API client keeps what the daemon writes within what the Task API accepts (a real server over
 * PGlite): an error message over 4,000 characters, a claim larger than 100 or a lease under a second, feedback
 * over 64 KiB or nested thousands deep, and a row written straight into the table with labels and context of
 * the wrong shape. On the old client each of these was refused, so a failed task cycled until its lease expired,
 * or every claim failed, or one bad row made every claim unreadable.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHttpTaskStore } from '../../src/adapters/task-api/client.js';
import { createSqlTaskStore, migrate, type SqlClient } from '../../src/adapters/task-store/index.js';
import { openPgliteClient } from '../../src/adapters/task-store/pglite.js';
import { TASK_API_LIMITS } from '../../src/domain/task-limits.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { startTaskApiServer, type TaskApiServer } from '../../src/task-api/node-server.js';

const API_KEY = 'limits-key-0123456789';
let sql: SqlClient;
let sqlStore: TaskStore;
let server: TaskApiServer;
let http: TaskStore;

beforeAll(async () => {
  sql = await openPgliteClient('memory://');
  await migrate(sql);
  sqlStore = createSqlTaskStore(sql);
  server = await startTaskApiServer({
    store: sqlStore,
    apiKey: API_KEY,
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger(),
  });
  http = createHttpTaskStore({ baseUrl: server.url, apiKey: API_KEY, timeoutMs: 10_000, logger: silentLogger() });
});

afterAll(async () => {
  await server?.close();
  await sqlStore?.close();
});

async function claimOne(id: string) {
  const [claim] = await http.claimTasks({ worker: 'w1', limit: 1, leaseMs: 60_000, taskIds: [id] });
  if (!claim) throw new Error(`could not claim ${id}`);
  return claim;
}

describe('the Task API client fits its writes to the API', () => {
  it('records a failure whose message is over 4,000 characters and holds NUL, a lone surrogate and escapes', async () => {
    await http.addTasks([{ id: 'long-error', title: 'Long error', description: 'd', maxAttempts: 1 }]);
    const { lease } = await claimOne('long-error');
    const message = `upstream said: ${'x'.repeat(9_000)}\u0000 \ud800 end`;
    const error = { category: 'server'.repeat(20), code: 'bad\u001b[31m-code', message };
    const failed = await http.failTask('long-error', lease.token, { error });
    expect(failed.status).toBe('failed');
    const stored = failed.lastError!;
    expect(stored.message.length).toBeLessThanOrEqual(TASK_API_LIMITS.errorMessageMax);
    expect(stored.message.startsWith('upstream said: xxx')).toBe(true);
    expect(stored.message).toMatch(/cut from \d+ characters\]$/);
    expect(stored.category.length).toBeLessThanOrEqual(TASK_API_LIMITS.errorCategoryMax);
    expect(stored.code).toBe('bad\\x1b[31m-code');
  });

  it('records a note over the cap and drops an agent run URL the API would refuse', async () => {
    await http.addTasks([{ id: 'long-note', title: 'Long note', description: 'd' }]);
    const { lease } = await claimOne('long-note');
    await http.recordAgentRun('long-note', lease.token, { id: 9, url: `https://codegen.example/${'r'.repeat(3_000)}` });
    await http.completeTask('long-note', lease.token, { note: 'n'.repeat(10_000) });
    const task = await http.getTask('long-note');
    expect(task).toMatchObject({ status: 'completed', checkpoint: { agentRunId: 9 } });
    expect(task?.checkpoint.agentRunUrl).toBeUndefined();
  });

  it('clamps a claim above 100 tasks and leases outside 1 s to 1 h instead of failing every claim', async () => {
    await http.addTasks([{ id: 'clamped', title: 'Clamped', description: 'd', priority: 'critical' }]);
    const claims = await http.claimTasks({ worker: 'w2', limit: 1_000, leaseMs: 1 });
    expect(claims.map((c) => c.task.id)).toContain('clamped');
    const claim = claims.find((c) => c.task.id === 'clamped')!;
    const leaseLeft = Date.parse(claim.lease.expiresAt) - Date.now();
    expect(leaseLeft).toBeGreaterThan(0);
    const beat = await http.heartbeat('clamped', claim.lease.token, 10 * TASK_API_LIMITS.leaseMs.max);
    expect(Date.parse(beat.expiresAt) - Date.now()).toBeLessThanOrEqual(TASK_API_LIMITS.leaseMs.max);
  });

  it('records feedback over 64 KiB, nested thousands deep, with unstorable text', async () => {
    await http.addTasks([{ id: 'big-feedback', title: 'Feedback', description: 'd' }]);
    let deep: Record<string, unknown> = { leaf: 'bottom' };
    for (let i = 0; i < 5_000; i += 1) deep = { a: deep };
    const feedback = { source: 'codegen-pr', log: 'y'.repeat(200_000), bad: 'a\u0000b\udc00', deep };
    const task = await http.addFeedback('big-feedback', feedback, 'daemon');
    expect(task.feedback).toHaveLength(1);
    const entry = task.feedback![0] as Record<string, unknown>;
    expect(entry.source).toBe('codegen-pr');
    expect(JSON.stringify(entry).length).toBeLessThanOrEqual(TASK_API_LIMITS.feedbackMax + 100);
    expect(entry.bad).toBe('a\ufffdb\ufffd');
  });

  it('claims a row written with labels and context of the wrong shape, beside a sound one', async () => {
    await sql.query(
      `INSERT INTO codegen_pr.tasks (id, title, description, priority, labels, context)
       VALUES ('odd-shape', 'Odd', 'd', 'critical', '{"not": "a list"}'::jsonb, '"a string"'::jsonb)`,
    );
    await http.addTasks([{ id: 'sound-shape', title: 'Sound', description: 'd', priority: 'critical' }]);
    const claims = await http.claimTasks({ worker: 'w3', limit: 10, leaseMs: 60_000 });
    const ids = claims.map((c) => c.task.id);
    expect(ids).toEqual(expect.arrayContaining(['odd-shape', 'sound-shape']));
    expect(claims.find((c) => c.task.id === 'odd-shape')?.task.labels).toEqual({ not: 'a list' });
  });
});
