/**
 * Fair claims through the Task API: priority order and the per-repository cap over HTTP (the daemon's client
 * against a real server), and dedupe keys answered with 409 task-duplicate naming the live task. Raw requests go
 * through app.request() and are checked against the OpenAPI document like task-api.test.ts does.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import type { Hono } from 'hono';
import { createHttpTaskStore } from '../../src/adapters/task-api/client.js';
import {
  createSqliteTaskStore,
  migrateSqlite,
  openSqliteDatabase,
  type SqliteDatabase,
} from '../../src/adapters/task-store/sqlite/index.js';
import { DuplicateTaskError } from '../../src/domain/errors.js';
import type { NewTask } from '../../src/domain/task.js';
import { createLogger } from '../../src/observability/logger.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { createTaskApiApp } from '../../src/task-api/app.js';
import { startTaskApiServer, type TaskApiServer } from '../../src/task-api/node-server.js';
import { TASK_API_OPENAPI } from '../../src/task-api/openapi.js';
import { loadContract } from '../fakes/openapi-contract.js';

const API_KEY = 'fair-key-0123456789abcdef';
const AUTH = { authorization: `Bearer ${API_KEY}` };
const contract = loadContract(TASK_API_OPENAPI);
const quiet = () =>
  createLogger({
    level: 'silent',
    destination: new Writable({ write: (_c, _e, done) => done() }),
  });

let database: SqliteDatabase;
let store: TaskStore;
let server: TaskApiServer;
let http: TaskStore;
let app: Hono;

const task = (id: string, extra: Partial<NewTask> = {}): NewTask => ({ id, title: id, description: 'd', ...extra });

/**
 * One request through the app, checked against the document (a 400 must break it, anything else must fit).
 * `expressible: false` for refusals a JSON Schema cannot state (a key repeated across a batch).
 */
async function send(method: string, path: string, body: unknown, expressible = true) {
  const res = await app.request(path, {
    method,
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any -- arbitrary JSON
  const check = contract.checkRequest({ method, path, query: {}, headers: AUTH, body });
  if (res.status === 400 && expressible) expect(check.violations.length).toBeGreaterThan(0);
  else if (res.status !== 400) expect(check.violations).toEqual([]);
  expect(contract.checkResponse(method, check.pathTemplate ?? path, res.status, json)).toEqual([]);
  return { status: res.status, body: json };
}

beforeAll(async () => {
  database = openSqliteDatabase('memory://');
  migrateSqlite(database);
  store = createSqliteTaskStore(database);
  server = await startTaskApiServer({ store, apiKey: API_KEY, port: 0, host: '127.0.0.1', logger: quiet() });
  http = createHttpTaskStore({ baseUrl: server.url, apiKey: API_KEY, timeoutMs: 10_000, logger: quiet() });
  app = createTaskApiApp({ store, apiKey: API_KEY, logger: quiet() });
});

afterAll(async () => {
  await http?.close();
  await server?.close();
  await store?.close();
});

beforeEach(() => {
  database.db.exec('DELETE FROM task_events; DELETE FROM tasks;');
});

describe('fair claims through the Task API', () => {
  it('hands tasks out one at a time by priority, then oldest first', async () => {
    for (const [id, priority] of [
      ['low-1', 'low'],
      ['high-1', 'high'],
      ['medium-1', 'medium'],
      ['critical-1', 'critical'],
      ['high-2', 'high'],
    ] as const) {
      await http.addTasks([task(id, { priority })]);
    }
    const order: string[] = [];
    for (;;) {
      const [claim] = await http.claimTasks({ worker: 'w1', limit: 1, leaseMs: 60_000 });
      if (!claim) break;
      order.push(claim.task.id);
    }
    expect(order).toEqual(['critical-1', 'high-1', 'high-2', 'medium-1', 'low-1']);
  });

  it('passes the cap through: B is claimed while A, with 50 older tasks, is at its cap', async () => {
    await http.addTasks(Array.from({ length: 50 }, (_, i) => task(`a${i}`, { repository: 'acme/a' })));
    await http.addTasks(Array.from({ length: 5 }, (_, i) => task(`b${i}`, { repository: 'acme/b' })));
    const claim = { worker: 'w1', limit: 10, leaseMs: 60_000, repositoryCap: { default: 2 } };
    const first = await http.claimTasks(claim);
    expect(first.map((c) => c.task.id)).toEqual(['a0', 'a1', 'b0', 'b1']);
    const raw = await send('POST', '/tasks/claim', {
      ...claim,
      repositoryCap: { default: 2, overrides: { 'acme/b': 4 }, unnamedAs: 'acme/a' },
    });
    expect(raw.status).toBe(200);
    expect(raw.body.tasks.map((c: { task: { id: string } }) => c.task.id)).toEqual(['b2', 'b3']);
  });

  it('refuses a bad cap with a 400 naming the field', async () => {
    const base = { worker: 'w1', limit: 1, leaseMs: 60_000 };
    const bad = await send('POST', '/tasks/claim', {
      ...base,
      repositoryCap: { default: -1, overrides: { 'acme/a': 'two', 'not a repo': 1 }, extra: true },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.fields.map((f: { field: string }) => f.field).sort()).toEqual([
      'repositoryCap.default',
      'repositoryCap.extra',
      'repositoryCap.overrides',
      'repositoryCap.overrides.acme/a',
    ]);
    const missing = await send('POST', '/tasks/claim', { ...base, repositoryCap: {} });
    expect(missing.body.fields).toEqual([{ field: 'repositoryCap.default', message: 'is required' }]);
  });
});

describe('dedupe keys through the Task API', () => {
  it('answers a second live task with the same key with 409 naming the live task', async () => {
    const created = await send('POST', '/tasks', task('first', { dedupeKey: 'issue:acme/web#7' }));
    expect(created.status).toBe(201);
    expect(created.body.tasks[0].dedupeKey).toBe('issue:acme/web#7');
    const again = await send('POST', '/tasks', { title: 'again', description: 'd', dedupeKey: 'issue:acme/web#7' });
    expect(again).toEqual({
      status: 409,
      body: {
        error: 'task-duplicate',
        message: 'a live task with this dedupeKey already exists: first',
        existingTaskId: 'first',
      },
    });
    // The daemon's client turns the answer back into the store's own error.
    const refusal = await http.addTasks([task('second', { dedupeKey: 'issue:acme/web#7' })]).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(DuplicateTaskError);
    expect(refusal).toMatchObject({ code: 'task-duplicate', category: 'conflict', existingTaskId: 'first' });
    // Once the first is final, the key is free.
    await http.cancelTask('first');
    const [reused] = await http.addTasks([task('second', { dedupeKey: 'issue:acme/web#7' })]);
    expect(reused).toMatchObject({ id: 'second', dedupeKey: 'issue:acme/web#7' });
  });

  it('refuses a batch that repeats a key, or a bad key, with a 400 naming each place', async () => {
    const repeated = await send(
      'POST',
      '/tasks',
      { tasks: [task('x1', { dedupeKey: 'k' }), task('x2'), task('x3', { dedupeKey: 'k' })] },
      false,
    );
    expect(repeated.status).toBe(400);
    expect(repeated.body.fields).toEqual([
      { field: 'tasks[2].dedupeKey', message: 'repeats the dedupeKey of tasks[0]' },
    ]);
    const bad = await send('POST', '/tasks', task('x4', { dedupeKey: 'has space' }));
    expect(bad.status).toBe(400);
    expect(bad.body.fields.map((f: { field: string }) => f.field)).toEqual(['dedupeKey']);
    expect(await store.countByStatus()).toEqual({});
  });
});
