/**
 * Push pickup through the Task API: a claim with `waitMs` that finds nothing waits on the server's wake-up
 * source and answers with the task added meanwhile; a server without one answers at once; a bad `waitMs` is a
 * 400 naming the field. Requests are checked against the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Hono } from 'hono';
import { createTasksAddedSignal, emittingAdds } from '../../src/adapters/owner/signals.js';
import { openSqliteTaskStore } from '../../src/adapters/task-store/sqlite/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { createTaskApiApp } from '../../src/task-api/app.js';
import { TASK_API_OPENAPI } from '../../src/task-api/openapi.js';
import { loadContract } from '../fakes/openapi-contract.js';

const API_KEY = 'test-key-0123456789abcdef';
const contract = loadContract(TASK_API_OPENAPI);
let store: TaskStore;
let app: Hono;
let plain: Hono;
/** Told of each claim the store answers, with how many tasks it gave. */
let onClaim: (count: number) => void = () => undefined;

interface Answer {
  status: number;
  body: { tasks?: Array<{ task: { id: string } }> } & Record<string, unknown>;
}

async function post(on: Hono, path: string, body: unknown): Promise<Answer> {
  const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
  const checked = contract.checkRequest({ method: 'POST', path, query: {}, headers, body });
  const res = await on.request(path, { method: 'POST', headers, body: JSON.stringify(body) });
  const out: Answer = { status: res.status, body: (await res.json()) as Answer['body'] };
  if (out.status === 400) expect(checked.violations.length).toBeGreaterThan(0);
  else expect(checked.violations).toEqual([]);
  return out;
}

beforeAll(async () => {
  const signal = createTasksAddedSignal(silentLogger());
  const raw = await openSqliteTaskStore({ file: ':memory:' });
  const emitting = emittingAdds(raw, signal.emit);
  store = {
    ...emitting,
    claimTasks: async (options, abort) => {
      const claimed = await emitting.claimTasks(options, abort);
      onClaim(claimed.length);
      return claimed;
    },
  };
  app = createTaskApiApp({ store, apiKey: API_KEY, tasksAdded: signal });
  plain = createTaskApiApp({ store, apiKey: API_KEY });
});
afterAll(async () => {
  await store.close();
});

describe('POST /tasks/claim with waitMs', () => {
  it('waits for a task added after the claim came in, and answers with it', async () => {
    const firstEmpty = new Promise<void>((resolve) => (onClaim = (count) => count === 0 && resolve()));
    const claim = post(app, '/tasks/claim', { worker: 'w', limit: 1, leaseMs: 60_000, waitMs: 20_000 });
    await firstEmpty;
    // Added through the API once the claim found the queue empty and waits.
    const added = await post(app, '/tasks', { id: 'lp-1', title: 'Long poll', description: 'd' });
    expect(added.status).toBe(201);
    const answered = await claim;
    expect(answered.status).toBe(200);
    expect(answered.body.tasks?.map((t) => t.task.id)).toEqual(['lp-1']);
  });

  it('answers at once, empty, on a server without a wake-up source', async () => {
    const answered = await post(plain, '/tasks/claim', { worker: 'w', limit: 1, leaseMs: 60_000, waitMs: 20_000 });
    expect(answered).toMatchObject({ status: 200, body: { tasks: [] } });
  });

  it('refuses a waitMs out of range, naming the field', async () => {
    const answered = await post(app, '/tasks/claim', { worker: 'w', limit: 1, leaseMs: 60_000, waitMs: 60_000 });
    expect(answered.status).toBe(400);
    expect(JSON.stringify(answered.body)).toContain('waitMs');
  });
});
