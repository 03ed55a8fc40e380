/**
 * Every request of the malformed-request corpus (test/corpus/requests) against the real Task API over a real
 * store: PGlite in memory, and PostgreSQL when DATABASE_URL is set. Each must get its expected status and name
 * its field, never a 500; every answer must match the OpenAPI document; and nothing may be written: the one task
 * the corpus aims its leased writes at is unchanged afterwards and still holds its lease.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Hono } from 'hono';
import { createTaskApiApp } from '../../src/task-api/app.js';
import { TASK_API_OPENAPI } from '../../src/task-api/openapi.js';
import { TASK_API_REQUEST_CORPUS, type CorpusRequest } from '../corpus/requests/index.js';
import { loadContract } from '../fakes/openapi-contract.js';
import { storeBackends, type StoreHarness } from './helpers/store-backends.js';

const API_KEY = 'corpus-key-0123456789abcdef';
const TASK_ID = 'corpus-target';
const contract = loadContract(TASK_API_OPENAPI);

/** Replace $TASK and $TOKEN in every string of `value`. */
function substitute(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') return value.replace(/\$(TASK|TOKEN)/g, (_m, name: string) => vars[name] ?? '');
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars)]));
  }
  return value;
}

async function sendCase(app: Hono, c: CorpusRequest, vars: Record<string, string>) {
  const headers: Record<string, string> = {};
  const authorization = c.authorization === undefined ? `Bearer ${API_KEY}` : c.authorization;
  if (authorization !== null) headers.authorization = authorization;
  const contentType = c.contentType === undefined ? 'application/json' : c.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  let body: string | Uint8Array | undefined;
  if (c.bytes) body = new Uint8Array(c.bytes);
  else if (c.raw !== undefined) body = substitute(c.raw, vars) as string;
  else if (c.body !== undefined) body = JSON.stringify(substitute(c.body, vars));
  const path = substitute(c.path, vars) as string;
  const res = await app.request(path, { method: c.method, headers, ...(body !== undefined ? { body } : {}) });
  return { path, status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe.each(storeBackends('task-api-corpus'))('the malformed-request corpus ($name)', (backend) => {
  let harness: StoreHarness;
  let app: Hono;
  const vars: Record<string, string> = {};

  beforeAll(async () => {
    harness = await backend.open();
    app = createTaskApiApp({ store: harness.store, apiKey: API_KEY });
    await harness.store.addTasks([{ id: TASK_ID, title: 'Target', description: 'Leased writes aim here.' }]);
    const [claim] = await harness.store.claimTasks({
      worker: 'corpus',
      limit: 1,
      leaseMs: 600_000,
      taskIds: [TASK_ID],
    });
    vars.TASK = TASK_ID;
    vars.TOKEN = claim!.lease.token;
  }, backend.openTimeoutMs);

  afterAll(async () => {
    await harness?.close();
  });

  it('holds at least 300 requests with distinct names', () => {
    expect(TASK_API_REQUEST_CORPUS.length).toBeGreaterThanOrEqual(300);
    expect(new Set(TASK_API_REQUEST_CORPUS.map((c) => c.name)).size).toBe(TASK_API_REQUEST_CORPUS.length);
  });

  it.each(TASK_API_REQUEST_CORPUS.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await sendCase(app, c, vars);
    const expected = c.expect;
    const error = expected.error ?? (expected.status === 400 ? 'validation' : undefined);
    expect({ status: res.status, error: res.json.error }).toEqual({
      status: expected.status,
      error: error ?? res.json.error,
    });
    if (expected.field !== undefined) {
      const fields = (res.json.fields as Array<{ field: string; message: string }> | undefined) ?? [];
      expect(fields.map((f) => f.field)).toContain(expected.field);
      for (const f of fields) expect(f.message.length).toBeGreaterThan(0);
    }
    const route = contract.checkRequest({ method: c.method, path: res.path.split('?')[0] ?? '' });
    if (route.pathTemplate && route.operationId) {
      expect(contract.checkResponse(c.method, route.pathTemplate, res.status, res.json)).toEqual([]);
    }
  });

  it('wrote nothing: no task was added and the target task is as it was, its lease still held', async () => {
    expect(await harness.store.countByStatus()).toEqual({ claimed: 1 });
    const task = await harness.store.getTask(TASK_ID);
    expect(task).toMatchObject({ status: 'claimed', checkpoint: {}, attempts: 1 });
    expect(task?.lastError).toBeUndefined();
    expect(task?.feedback).toBeUndefined();
    const history = await harness.store.getTaskHistory(TASK_ID);
    expect(history.map((e) => e.kind)).toEqual(['created', 'claimed']);
    await expect(harness.store.heartbeat(TASK_ID, vars.TOKEN ?? '', 60_000)).resolves.toMatchObject({
      owner: 'corpus',
    });
  });
});
