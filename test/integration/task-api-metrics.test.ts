/**
 * The Task API's /metrics on Node, over the embedded SQLite store: behind the bearer key, requests counted by
 * route pattern (never a task id), the live queue and the oldest ready task read at scrape time, and the text
 * accepted by `promtool check metrics` (Debian's prometheus package; CI installs it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openSqliteTaskStore } from '../../src/adapters/task-store/sqlite/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { startTaskApiServer, type TaskApiServer } from '../../src/task-api/node-server.js';
import { sampleValue } from '../e2e/metrics-text.js';
import { missingTools, promtool } from '../e2e/prometheus-process.js';

const API_KEY = 'metrics-test-key';
const skipWhy = missingTools('promtool');
if (skipWhy) console.warn(`task api metrics: the promtool check is skipped: ${skipWhy}`);

describe('Task API /metrics', () => {
  let dir: string;
  let store: TaskStore;
  let server: TaskApiServer;
  const call = (route: string, init: RequestInit = {}) =>
    fetch(`${server.url}${route}`, {
      ...init,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...init.headers },
    });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'codegen-pr-api-metrics-'));
    store = await openSqliteTaskStore({ file: path.join(dir, 'codegen-pr.db') });
    server = await startTaskApiServer({ store, apiKey: API_KEY, port: 0, host: '127.0.0.1', logger: silentLogger() });
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('needs the bearer key', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
  });

  it('counts requests by route pattern and shows the live queue', async () => {
    const created = await call('/tasks', {
      method: 'POST',
      body: JSON.stringify({ id: 'secret-ish-id-1', title: 'Add metrics', description: 'd' }),
    });
    expect(created.status).toBe(201);
    expect((await call('/tasks/secret-ish-id-1')).status).toBe(200);
    expect((await call('/tasks/no-such-task')).status).toBe(404);
    const response = await call('/metrics');
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).not.toContain('secret-ish-id-1');
    expect(
      sampleValue(text, 'codegen_pr_task_api_requests_total', { method: 'POST', route: '/tasks', status: '201' }),
    ).toBe(1);
    expect(
      sampleValue(text, 'codegen_pr_task_api_requests_total', { method: 'GET', route: '/tasks/:id', status: '404' }),
    ).toBe(1);
    expect(sampleValue(text, 'codegen_pr_task_api_live_tasks', { status: 'pending' })).toBe(1);
    expect(sampleValue(text, 'codegen_pr_task_api_live_tasks', { status: 'awaiting_agent' })).toBe(0);
    expect(sampleValue(text, 'codegen_pr_oldest_ready_task_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(text, 'codegen_pr_retention_deleted_total', { table: 'tasks' })).toBe(0);
  });

  (skipWhy ? it.skip : it)('passes promtool check metrics', async () => {
    const text = await (await call('/metrics')).text();
    expect(promtool(['check', 'metrics'], text)).toEqual({ status: 0, output: '' });
  });
});
