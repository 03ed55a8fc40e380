/**
 * The status page on the Task API app (SQLite store): sign-in (bearer or Basic, full or read-only), every value
 * HTML-escaped (hostile titles), no secrets and no email addresses shown, actions through the store's guarded
 * writes recorded with who did them, cross-site posts refused. The browser test is status-page.browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openSqliteTaskStore } from '../../src/adapters/task-store/sqlite/index.js';
import type { StoreOperations } from '../../src/adapters/task-store/operations.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { createTaskApiApp } from '../../src/task-api/app.js';

const KEY = 'status-page-full-key-0123';
const READ_ONLY = 'status-page-read-only-9876';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&';

describe('status page', () => {
  let store: TaskStore & StoreOperations;
  let app: ReturnType<typeof createTaskApiApp>;
  const get = (path: string, auth = basic('alice', KEY)) =>
    app.request(`http://status.test${path}`, { headers: { authorization: auth } });
  const post = (path: string, form: Record<string, string> = {}, auth = basic('alice', KEY), headers = {}) =>
    app.request(`http://status.test${path}`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });

  beforeAll(async () => {
    store = (await openSqliteTaskStore({ file: 'memory://' })) as TaskStore & StoreOperations;
    app = createTaskApiApp({ store, apiKey: KEY, statusPage: { readOnlyKey: READ_ONLY } });
    await store.addTasks([
      { id: 'hostile-1', title: HOSTILE, description: `mail bob@example.com, key ${KEY}`, maxAttempts: 1 },
      { id: 'waiting-1', title: 'Waits', description: 'd' },
    ]);
    const [claim] = await store.claimTasks({ worker: 'worker-a', limit: 1, leaseMs: 60_000, taskIds: ['hostile-1'] });
    await store.failTask('hostile-1', claim!.lease.token, {
      error: { category: 'validation', code: 'bad-title', message: `${HOSTILE} from carol@example.org` },
    });
    await store.addFeedback('hostile-1', { kind: 'suggestions', suggestions: { promptOptimizations: [HOSTILE] } });
    await store.reportReplica('replica-a', new Date().toISOString(), {
      version: '1.0.0',
      activeTasks: 0,
      concurrency: 2,
      intake: { open: true, paused: [] },
      circuits: { github: 'closed' },
    });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('asks for sign-in, Basic or bearer, and refuses a wrong key', async () => {
    const anonymous = await app.request('http://status.test/status');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect((await get('/status', basic('alice', 'wrong-key-000000'))).status).toBe(401);
    expect((await get('/status', `Bearer ${KEY}`)).status).toBe(200);
    expect((await get('/status', basic('alice', READ_ONLY))).status).toBe(200);
  });

  it('escapes hostile text and shows neither secrets nor email addresses', async () => {
    for (const path of ['/status', '/status/tasks/hostile-1']) {
      const html = await (await get(path)).text();
      expect(html).not.toContain('<script>alert(1)');
      expect(html).not.toContain('<img src=x');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(html).not.toContain(KEY);
      expect(html).not.toMatch(/[A-Za-z0-9._-]+@example\.(com|org)/);
    }
    const overview = await (await get('/status')).text();
    expect(overview).toContain('validation (1)');
    expect(overview).toContain('replica-a');
    expect(overview).toContain('bad-title');
  });

  it('retries and cancels through the store, recorded with who did it', async () => {
    const retried = await post('/status/tasks/hostile-1/retry');
    expect(retried.status).toBe(303);
    expect(retried.headers.get('location')).toBe('/status/tasks/hostile-1');
    expect((await store.getTask('hostile-1'))?.status).toBe('pending');
    const cancelled = await post('/status/tasks/waiting-1/cancel', {}, basic('bob@example.com', KEY));
    expect(cancelled.status).toBe(303);
    const history = await store.getTaskHistory('waiting-1');
    expect(history.at(-1)).toMatchObject({ kind: 'cancelled', actor: 'status-page:bob' });
    expect((await store.getTaskHistory('hostile-1')).at(-1)).toMatchObject({
      kind: 'retried',
      actor: 'status-page:alice',
    });
    // The store's state machine still decides: a cancelled task cannot be cancelled again.
    expect((await post('/status/tasks/waiting-1/cancel')).status).toBe(409);
  });

  it('pauses and resumes a replica, recorded as an operator action', async () => {
    expect((await post('/status/intake', { replica: 'replica-a', state: 'paused' })).status).toBe(303);
    const [replica] = await store.listReplicas();
    expect(replica?.intakeRequest).toMatchObject({ state: 'paused', by: 'status-page:alice' });
    expect((await post('/status/intake', { replica: 'nobody', state: 'paused' })).status).toBe(404);
    expect((await post('/status/intake', { replica: 'replica-a', state: 'sideways' })).status).toBe(400);
    const [action] = await store.listOperatorActions(1);
    expect(action).toMatchObject({ actor: 'status-page:alice', action: 'pause-intake', target: 'replica-a' });
  });

  it('read-only: shows no buttons and refuses actions', async () => {
    const html = await (await get('/status/tasks/hostile-1', basic('eve', READ_ONLY))).text();
    expect(html).toContain('Read-only');
    expect(html).not.toContain('<form');
    const refused = await post('/status/tasks/hostile-1/cancel', {}, basic('eve', READ_ONLY));
    expect(refused.status).toBe(403);
    expect((await store.getTask('hostile-1'))?.status).toBe('pending');
  });

  it('refuses a form posted from another site', async () => {
    const refused = await post('/status/tasks/hostile-1/cancel', {}, basic('alice', KEY), {
      origin: 'https://evil.example',
    });
    expect(refused.status).toBe(403);
    const fetchSite = await post('/status/tasks/hostile-1/cancel', {}, basic('alice', KEY), {
      'sec-fetch-site': 'cross-site',
    });
    expect(fetchSite.status).toBe(403);
    expect((await store.getTask('hostile-1'))?.status).toBe('pending');
  });
});
