/**
 * Replicas that reach the store through the Task API report themselves with PUT /replicas/{name} (the HTTP
 * store's reportReplica), so the status page shows them too, and learn of pause requests in the answer.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHttpTaskStore } from '../../src/adapters/task-api/client.js';
import type { StoreOperations } from '../../src/adapters/task-store/operations.js';
import { openSqliteTaskStore } from '../../src/adapters/task-store/sqlite/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { startTaskApiServer, type TaskApiServer } from '../../src/task-api/node-server.js';

const KEY = 'replica-reports-key-0001';

describe('replica reports through the Task API', () => {
  let store: TaskStore & StoreOperations;
  let server: TaskApiServer;
  let http: ReturnType<typeof createHttpTaskStore>;

  beforeAll(async () => {
    store = (await openSqliteTaskStore({ file: 'memory://' })) as TaskStore & StoreOperations;
    server = await startTaskApiServer({ store, apiKey: KEY, port: 0, host: '127.0.0.1', logger: silentLogger() });
    http = createHttpTaskStore({ baseUrl: server.url, apiKey: KEY, timeoutMs: 10_000, logger: silentLogger() });
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  it('stores the report and answers with what people asked on the status page', async () => {
    const startedAt = new Date().toISOString();
    const first = await http.reportReplica('worker-http-1', startedAt, { activeTasks: 1, intake: { open: true } });
    expect(first).toMatchObject({ name: 'worker-http-1', report: { activeTasks: 1 } });
    expect(first.intakeRequest).toBeUndefined();
    await store.requestIntake('worker-http-1', 'paused', 'status-page:alice');
    const second = await http.reportReplica('worker-http-1', startedAt, { activeTasks: 0 });
    expect(second.intakeRequest).toMatchObject({ state: 'paused', by: 'status-page:alice' });
    expect((await store.listReplicas()).map((r) => r.name)).toEqual(['worker-http-1']);
  });

  it('refuses a bad report naming the field', async () => {
    const response = await fetch(`${server.url}/replicas/worker-http-1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ startedAt: 'yesterday', report: [] }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { fields: Array<{ field: string }> };
    expect(body.fields.map((f) => f.field).sort()).toEqual(['report', 'startedAt']);
  });
});
