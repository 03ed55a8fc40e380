/**
 * The Task API app over a real store (PGlite in memory), through app.request(). Every request a test makes is
 * also checked against the OpenAPI document: requests the app accepts must satisfy it, requests it refuses with
 * a 400 must violate it, and every response must match the documented one.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Writable } from 'node:stream';
import type { Hono } from 'hono';
import { openPgliteTaskStore } from '../../src/adapters/task-store/index.js';
import { createLogger } from '../../src/observability/logger.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { createTaskApiApp } from '../../src/task-api/app.js';
import { keysMatch, timingSafeEqualBytes } from '../../src/task-api/auth.js';
import { TASK_API_OPENAPI } from '../../src/task-api/openapi.js';
import { loadContract } from '../fakes/openapi-contract.js';

const API_KEY = 'test-key-0123456789abcdef';
const AUTH = { authorization: `Bearer ${API_KEY}` };
const contract = loadContract(TASK_API_OPENAPI);

let store: TaskStore;
let app: Hono;
const logLines: string[] = [];

interface Sent {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- assertions read arbitrary JSON
  headers: Headers;
}

/**
 * Send one request and check it against the contract. `raw` sends text as is (malformed JSON); `contract: false`
 * skips the request check for refusals the document cannot express (a cursor the store rejects).
 */
async function send(
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string; headers?: Record<string, string>; contract?: boolean; on?: Hono } = {},
): Promise<Sent> {
  const headers = { ...(opts.headers ?? AUTH), 'content-type': 'application/json' };
  const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const res = await (opts.on ?? app).request(path, {
    method,
    headers,
    ...(payload !== undefined ? { body: payload } : {}),
  });
  const body = (await res.json()) as Sent['body'];
  const url = new URL(path, 'http://api.test');
  const check = contract.checkRequest({
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  });
  if (opts.raw === undefined && opts.contract !== false && check.pathTemplate) {
    const refused = res.status === 400 || (res.status === 404 && body.error === 'not-found');
    if (refused) expect(check.violations.length).toBeGreaterThan(0);
    else expect(check.violations).toEqual([]);
  }
  if (check.pathTemplate && check.operationId) {
    expect(contract.checkResponse(method, check.pathTemplate, res.status, body)).toEqual([]);
  }
  return { status: res.status, body, headers: res.headers };
}

const fieldsOf = (res: Sent): string[] => (res.body.fields as Array<{ field: string }>).map((f) => f.field);

beforeAll(async () => {
  store = await openPgliteTaskStore({ dataDir: 'memory://' });
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  app = createTaskApiApp({ store, apiKey: API_KEY, logger: createLogger({ level: 'debug', destination: sink }) });
});

afterAll(async () => {
  await store.close();
});

describe('open routes', () => {
  it('GET /health answers 200 without auth when the store answers, 503 when it does not', async () => {
    const ok = await send('GET', '/health', { headers: {} });
    expect(ok).toMatchObject({ status: 200, body: { status: 'ok' } });

    const down = new Proxy(store, {
      get: (target, key) =>
        key === 'ping' ? async () => Promise.reject(new Error('db down')) : Reflect.get(target, key),
    });
    const res = await send('GET', '/health', { headers: {}, on: createTaskApiApp({ store: down, apiKey: API_KEY }) });
    expect(res).toMatchObject({ status: 503, body: { status: 'unavailable' } });
  });

  it('GET /openapi.json serves the document without auth', async () => {
    const res = await send('GET', '/openapi.json', { headers: {} });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.paths['/tasks/{id}/status'].put.operationId).toBe('updateStatus');
  });
});

describe('authentication', () => {
  it.each([
    ['no header', {}],
    ['a wrong key of the same length', { authorization: `Bearer ${'x'.repeat(API_KEY.length)}` }],
    ['a wrong key of another length', { authorization: 'Bearer short' }],
    ['the key with another scheme', { authorization: `Basic ${API_KEY}` }],
    ['the key with a suffix', { authorization: `Bearer ${API_KEY}x` }],
  ])('refuses %s with a JSON 401', async (_label, headers) => {
    const res = await send('GET', '/tasks', { headers });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'unauthorized', message: expect.any(String) });
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('accepts the key, with the scheme in any case', async () => {
    expect((await send('GET', '/tasks', { headers: { authorization: `bearer ${API_KEY}` } })).status).toBe(200);
  });

  it('compares SHA-256 digests of the keys, so the comparison never depends on the key length', async () => {
    const digest = jest.spyOn(globalThis.crypto.subtle, 'digest');
    try {
      await send('GET', '/stats', { headers: { authorization: 'Bearer short' } });
      const hashed = digest.mock.calls.map(([algo, data]) => [algo, new TextDecoder().decode(data as Uint8Array)]);
      expect(hashed).toContainEqual(['SHA-256', 'short']);
    } finally {
      digest.mockRestore();
    }
    expect(timingSafeEqualBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(timingSafeEqualBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(timingSafeEqualBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
    await expect(keysMatch(API_KEY, API_KEY)).resolves.toBe(true);
    await expect(keysMatch(`${API_KEY}!`, API_KEY)).resolves.toBe(false);
  });

  it('answers unknown routes with a JSON 404 once authenticated, and 401 before', async () => {
    expect(await send('GET', '/nope')).toMatchObject({ status: 404, body: { error: 'not-found' } });
    expect((await send('GET', '/nope', { headers: {} })).status).toBe(401);
    expect(await send('DELETE', '/tasks')).toMatchObject({ status: 404, body: { error: 'not-found' } });
  });
});

describe('validation', () => {
  it('names a missing title, a bad priority and a bad repository in one 400', async () => {
    const res = await send('POST', '/tasks', {
      body: { description: 'd', priority: 'urgent', repository: 'not a repo' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('validation');
    expect(fieldsOf(res).sort()).toEqual(['priority', 'repository', 'title']);
    expect(res.body.message).toMatch(/title is required/);
  });

  it('names fields by their place in a batch', async () => {
    const res = await send('POST', '/tasks', {
      body: { tasks: [{ title: 't', description: 'd' }, { title: 't' }, 7] },
    });
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual(['tasks[1].description', 'tasks[2]']);
  });

  it('refuses malformed JSON naming the body', async () => {
    const res = await send('POST', '/tasks', { raw: '{"title": "x",' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'validation', fields: [{ field: 'body' }] });
    expect(res.body.message).toMatch(/not valid JSON/);
  });

  it('checks query strings', async () => {
    const res = await send('GET', '/tasks?limit=0&status=bogus&priority=high&colour=red');
    expect(res.status).toBe(400);
    expect(fieldsOf(res).sort()).toEqual(['colour', 'limit', 'status']);
    expect((await send('GET', '/tasks?limit=501')).status).toBe(400);
    expect((await send('GET', '/tasks?limit=abc')).status).toBe(400);
    const cursor = await send('GET', '/tasks?cursor=garbage', { contract: false });
    expect(cursor).toMatchObject({ status: 400, body: { error: 'invalid-cursor' } });
  });

  it('refuses a body over the size limit with a JSON 413', async () => {
    const small = createTaskApiApp({ store, apiKey: API_KEY, maxBodyBytes: 100 });
    const res = await send('POST', '/tasks', { body: { title: 'x'.repeat(200), description: 'd' }, on: small });
    expect(res).toMatchObject({ status: 413, body: { error: 'payload-too-large' } });
  });

  it('checks claim, heartbeat, status and pr bodies', async () => {
    const claim = await send('POST', '/tasks/claim', { body: { limit: 1000, leaseMs: 'soon' } });
    expect(fieldsOf(claim).sort()).toEqual(['leaseMs', 'limit', 'worker']);
    const only = await send('POST', '/tasks/claim', {
      body: { worker: 'w', limit: 1, leaseMs: 5_000, taskIds: ['ok', 'no spaces'] },
    });
    expect(fieldsOf(only)).toEqual(['taskIds[1]']);
    const beat = await send('POST', '/tasks/t1/heartbeat', { body: { token: 'x', leaseMs: 10 } });
    expect(fieldsOf(beat)).toEqual(['leaseMs']);
    const unleased = await send('PUT', '/tasks/t1/status', { body: { status: 'completed' } });
    expect(unleased.body.fields).toEqual([{ field: 'token', message: expect.stringMatching(/required/) }]);
    const fail = await send('PUT', '/tasks/t1/status', { body: { status: 'retry', token: 'x', error: { code: 'c' } } });
    expect(fieldsOf(fail).sort()).toEqual(['error.category', 'error.message', 'retryAt']);
    const run = await send('PUT', '/tasks/t1/status', { body: { status: 'awaiting_agent', token: 'x', agentRun: {} } });
    expect(fieldsOf(run)).toEqual(['agentRun.id']);
    const pr = await send('PUT', '/tasks/t1/pr', { body: { token: 'x', url: 'ftp://x', number: 0 } });
    expect(fieldsOf(pr).sort()).toEqual(['branch', 'number', 'url']);
    const extra = await send('PUT', '/tasks/t1/status', { body: { status: 'cancelled', token: 'x' } });
    expect(fieldsOf(extra)).toEqual(['status']);
  });
});

describe('tasks', () => {
  it('creates one task or a batch, refuses an existing id with 409, and serves it with its history', async () => {
    const one = await send('POST', '/tasks', { body: { id: 'api-one', title: 'One', description: 'first' } });
    expect(one.status).toBe(201);
    expect(one.body.tasks).toEqual([expect.objectContaining({ id: 'api-one', status: 'pending', priority: 'medium' })]);

    const batch = await send('POST', '/tasks', {
      body: {
        actor: 'importer',
        tasks: [{ title: 'Two', description: 'd', priority: 'high', repository: 'acme/web' }],
      },
    });
    expect(batch.status).toBe(201);
    const again = await send('POST', '/tasks', { body: { id: 'api-one', title: 'Dup', description: 'd' } });
    expect(again).toMatchObject({ status: 409, body: { error: 'task-exists' } });

    const got = await send('GET', `/tasks/${batch.body.tasks[0].id}`);
    expect(got.status).toBe(200);
    expect(got.body.task.repository).toBe('acme/web');
    expect(got.body.history).toEqual([
      expect.objectContaining({ kind: 'created', actor: 'importer', toStatus: 'pending' }),
    ]);
    expect(await send('GET', '/tasks/missing-task')).toMatchObject({ status: 404, body: { error: 'task-not-found' } });
  });

  it('pages through GET /tasks with nextCursor and filters like the seed: ?status=pending&limit=N', async () => {
    const created = await send('POST', '/tasks', {
      body: {
        tasks: Array.from({ length: 7 }, (_, i) => ({
          title: `Page ${i}`,
          description: 'd',
          repository: 'acme/paged',
        })),
      },
    });
    const ids = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/tasks?repository=acme/paged&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await send('GET', query);
      expect(page.status).toBe(200);
      expect(page.body.tasks.length).toBeLessThanOrEqual(3);
      for (const t of page.body.tasks) ids.add(t.id);
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(ids).toEqual(new Set(created.body.tasks.map((t: { id: string }) => t.id)));
    expect(pages).toBe(3);

    const seed = await send('GET', '/tasks?status=pending&limit=2');
    expect(seed.status).toBe(200);
    expect(seed.body.tasks).toHaveLength(2);
    expect(seed.body.tasks.every((t: { status: string }) => t.status === 'pending')).toBe(true);
    expect(typeof seed.body.nextCursor).toBe('string');
    expect((await send('GET', '/stats')).body.counts.pending).toBeGreaterThanOrEqual(9);
  });

  it('runs a leased lifecycle over HTTP and answers a stale token with 409 stale-lease', async () => {
    await send('POST', '/tasks', { body: { id: 'api-lease', title: 'Lease', description: 'd', priority: 'critical' } });
    const claim = await send('POST', '/tasks/claim', { body: { worker: 'w1', limit: 1, leaseMs: 30_000 } });
    expect(claim.status).toBe(200);
    const [first] = claim.body.tasks;
    expect(first.task.id).toBe('api-lease');
    const token: string = first.lease.token;

    const beat = await send('POST', '/tasks/api-lease/heartbeat', { body: { token, leaseMs: 60_000 } });
    expect(beat).toMatchObject({ status: 200, body: { lease: { owner: 'w1', token } } });
    const run = { status: 'awaiting_agent', token, agentRun: { id: 42, url: 'https://codegen.com/agent/trace/42' } };
    expect(await send('PUT', '/tasks/api-lease/status', { body: run })).toMatchObject({
      status: 200,
      body: { ok: true },
    });
    const pr = { token, url: 'https://github.com/acme/web/pull/7', number: 7, branch: 'codegen/api-lease' };
    expect((await send('PUT', '/tasks/api-lease/pr', { body: pr })).status).toBe(200);

    // Release and claim again: the first token is now stale.
    expect((await send('PUT', '/tasks/api-lease/status', { body: { status: 'pending', token } })).status).toBe(200);
    const reclaim = await send('POST', '/tasks/claim', { body: { worker: 'w2', limit: 1, leaseMs: 30_000 } });
    const fresh: string = reclaim.body.tasks[0].lease.token;
    expect(fresh).not.toBe(token);
    const stale = await send('PUT', '/tasks/api-lease/status', { body: { status: 'completed', token } });
    expect(stale).toMatchObject({ status: 409, body: { error: 'stale-lease' } });
    expect(JSON.stringify(stale.body)).not.toContain(token);

    const { token: _old, ...prRef } = pr;
    const done = { status: 'completed', token: fresh, pr: prRef, note: 'merged by hand' };
    expect((await send('PUT', '/tasks/api-lease/status', { body: done })).status).toBe(200);
    expect((await send('PUT', '/tasks/api-lease/pr', { body: { state: 'merged' } })).status).toBe(200);
    const after = await send('GET', '/tasks/api-lease');
    expect(after.body.task).toMatchObject({
      status: 'completed',
      checkpoint: { agentRunId: 42, pr: { number: 7, state: 'merged' } },
    });
    const kinds = after.body.history.map((e: { kind: string }) => e.kind);
    expect(kinds).toEqual(
      expect.arrayContaining(['created', 'claimed', 'agent-run-recorded', 'pr-recorded', 'released', 'completed']),
    );
    const again = await send('PUT', '/tasks/api-lease/status', { body: { status: 'cancelled' } });
    expect(again).toMatchObject({ status: 409, body: { error: 'invalid-transition' } });
  });

  it('lets people fail-retry, cancel and comment without a token', async () => {
    await send('POST', '/tasks', { body: { id: 'api-person', title: 'P', description: 'd', priority: 'critical' } });
    const claim = await send('POST', '/tasks/claim', { body: { worker: 'w3', limit: 1, leaseMs: 30_000 } });
    const token: string = claim.body.tasks[0].lease.token;
    const error = { category: 'validation', code: 'bad-prompt', message: 'prompt refused' };
    const failed = await send('PUT', '/tasks/api-person/status', { body: { status: 'failed', token, error } });
    expect(failed.body.task).toMatchObject({ status: 'failed', lastError: error });
    const retried = await send('PUT', '/tasks/api-person/status', { body: { status: 'pending', actor: 'alice' } });
    expect(retried.body.task).toMatchObject({ status: 'pending', attempts: 0 });
    const fb = await send('POST', '/tasks/api-person/feedback', {
      body: { feedback: { note: 'be brief' }, actor: 'alice' },
    });
    expect(fb.body.task.feedback).toHaveLength(1);
    expect((await send('POST', '/tasks/api-person/cancel', { body: {} })).body.task.status).toBe('cancelled');
    expect((await send('POST', '/tasks/api-person/retry')).body.task.status).toBe('pending');
    expect(await send('POST', '/tasks/nobody/cancel')).toMatchObject({
      status: 404,
      body: { error: 'task-not-found' },
    });
  });

  it('hides unexpected failures behind a generic 500 and logs the detail', async () => {
    const broken = new Proxy(store, {
      get: (target, key) =>
        key === 'countByStatus'
          ? async () => Promise.reject(new Error('secret-detail at db.internal'))
          : Reflect.get(target, key),
    });
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) });
    const on = createTaskApiApp({ store: broken, apiKey: API_KEY, logger: createLogger({ destination: sink }) });
    const res = await send('GET', '/stats', { on });
    expect(res).toMatchObject({ status: 500, body: { error: 'internal' } });
    expect(JSON.stringify(res.body)).not.toMatch(/secret-detail|stack|at /);
    expect(lines.join('')).toContain('secret-detail');
  });

  it('never writes the API key into its log', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('')).not.toContain(API_KEY);
  });
});

describe('the OpenAPI document', () => {
  it('lists exactly the routes the app registers', () => {
    const registered = new Set(
      app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(TASK_API_OPENAPI.paths)) {
      for (const method of Object.keys(item))
        if (method !== 'parameters') documented.add(`${method.toUpperCase()} ${path}`);
    }
    expect([...registered].sort()).toEqual([...documented].sort());
  });

  it('has no dangling $ref', () => {
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === 'object' && node !== null) {
        for (const [key, value] of Object.entries(node)) {
          if (key === '$ref' && typeof value === 'string') refs.push(value);
          else walk(value);
        }
      }
    };
    walk(TASK_API_OPENAPI);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) {
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>(
          (node, part) => (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/')],
          TASK_API_OPENAPI,
        );
      expect([ref, target !== undefined]).toEqual([ref, true]);
    }
  });
});
