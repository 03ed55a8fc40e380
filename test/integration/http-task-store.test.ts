/**
 * createHttpTaskStore against a real Task API server (startTaskApiServer on 127.0.0.1) over PGlite: the leased
 * lifecycle a worker runs, the people's operations, and failures classified into the same DaemonErrors the SQL
 * store throws. Secrets (the API key, lease tokens) must never show in errors or logs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { createHttpTaskStore } from '../../src/adapters/task-api/client.js';
import { openPgliteTaskStore } from '../../src/adapters/task-store/index.js';
import { DaemonError, isDaemonError } from '../../src/domain/errors.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { startTaskApiServer, type TaskApiServer } from '../../src/task-api/node-server.js';

const API_KEY = 'http-store-key-9f8e7d6c5b4a';
const logLines: string[] = [];
const tokensSeen: string[] = [];
const errorsSeen: unknown[] = [];

function capturingLogger(): Logger {
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  return createLogger({ level: 'debug', destination: sink });
}

let sqlStore: TaskStore;
let server: TaskApiServer;
let http: TaskStore;
const extraServers: Array<{ close(): Promise<void> }> = [];

/** Run `fn`, expecting a DaemonError; remembered so the last test can check none carries a secret. */
async function failure(fn: () => Promise<unknown>): Promise<DaemonError> {
  try {
    await fn();
  } catch (err) {
    errorsSeen.push(err);
    if (isDaemonError(err)) return err;
    throw err;
  }
  throw new Error('expected a DaemonError');
}

function clientFor(baseUrl: string, apiKey = API_KEY, timeoutMs = 5_000): TaskStore {
  return createHttpTaskStore({ baseUrl, apiKey, timeoutMs, logger: capturingLogger() });
}

/** A loopback server answering every request with `status` and `body`, for responses the real API never sends. */
async function cannedServer(status: number, body: string): Promise<string> {
  const srv: Server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  extraServers.push({ close: () => new Promise<void>((resolve) => srv.close(() => resolve())) });
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  sqlStore = await openPgliteTaskStore({ dataDir: 'memory://' });
  server = await startTaskApiServer({
    store: sqlStore,
    apiKey: API_KEY,
    port: 0,
    host: '127.0.0.1',
    logger: capturingLogger(),
  });
  http = clientFor(server.url);
});

afterAll(async () => {
  await http?.close();
  await server?.close();
  for (const srv of extraServers) await srv.close();
  await sqlStore?.close();
});

describe('createHttpTaskStore', () => {
  it('runs the leased lifecycle: claim, heartbeat, agent run, pull request, complete', async () => {
    await http.ping();
    const [added] = await http.addTasks(
      [{ id: 'h-life', title: 'Life', description: 'd', priority: 'critical' }],
      'cli',
    );
    expect(added).toMatchObject({ id: 'h-life', status: 'pending' });

    const [claim] = await http.claimTasks({ worker: 'w-life', limit: 1, leaseMs: 30_000 });
    expect(claim?.task).toMatchObject({ id: 'h-life', status: 'claimed', attempts: 1 });
    const token = claim!.lease.token;
    tokensSeen.push(token);

    const lease = await http.heartbeat('h-life', token, 60_000);
    expect(lease.token).toBe(token);
    expect(Date.parse(lease.expiresAt)).toBeGreaterThan(Date.parse(claim!.lease.expiresAt));

    await http.recordAgentRun('h-life', token, { id: 77, url: 'https://codegen.com/agent/trace/77' });
    expect((await http.getTask('h-life'))?.status).toBe('awaiting_agent');
    const pr = { url: 'https://github.com/acme/web/pull/3', number: 3, branch: 'codegen/h-life' };
    await http.recordPullRequest('h-life', token, pr);
    await http.completeTask('h-life', token, { pr });
    await http.updatePullRequestState('h-life', 'merged');

    const done = await http.getTask('h-life');
    expect(done).toMatchObject({ status: 'completed', checkpoint: { agentRunId: 77, pr: { ...pr, state: 'merged' } } });
    const kinds = (await http.getTaskHistory('h-life')).map((e) => e.kind);
    expect(kinds).toEqual(['created', 'claimed', 'agent-run-recorded', 'pr-recorded', 'completed', 'pr-state-changed']);
    expect(await http.getTask('h-none')).toBeUndefined();
    expect(await http.getTaskHistory('h-none')).toEqual([]);
  });

  it('fails to retry, re-claims when due, fails for good, and lets a person retry and cancel', async () => {
    await http.addTasks([{ id: 'h-retry', title: 'Retry', description: 'd', priority: 'critical', maxAttempts: 3 }]);
    const [first] = await http.claimTasks({ worker: 'w-r', limit: 1, leaseMs: 30_000 });
    tokensSeen.push(first!.lease.token);
    const error = { category: 'server', code: 'codegen-unavailable', message: 'Codegen answered 503' };
    const retry = await http.failTask('h-retry', first!.lease.token, {
      error,
      retryAt: new Date(Date.now() - 1000).toISOString(),
    });
    expect(retry).toMatchObject({ status: 'retry', lastError: error });

    const [second] = await http.claimTasks({ worker: 'w-r', limit: 1, leaseMs: 30_000 });
    expect(second?.task).toMatchObject({ id: 'h-retry', attempts: 2 });
    tokensSeen.push(second!.lease.token);
    const failed = await http.failTask('h-retry', second!.lease.token, { error, countAttempt: true });
    expect(failed.status).toBe('failed');

    expect(await http.retryTask('h-retry', 'alice')).toMatchObject({ status: 'pending', attempts: 0 });
    const withFeedback = await http.addFeedback('h-retry', { note: 'smaller steps' }, 'alice');
    expect(withFeedback.feedback).toHaveLength(1);
    expect((await http.cancelTask('h-retry', 'alice')).status).toBe('cancelled');
  });

  it('releases a task: back to pending with the attempt refunded', async () => {
    await http.addTasks([{ id: 'h-rel', title: 'Release', description: 'd', priority: 'critical' }]);
    const [claim] = await http.claimTasks({ worker: 'w-rel', limit: 1, leaseMs: 30_000 });
    tokensSeen.push(claim!.lease.token);
    await http.releaseTask('h-rel', claim!.lease.token);
    expect(await http.getTask('h-rel')).toMatchObject({ status: 'pending', attempts: 0 });
    await http.cancelTask('h-rel'); // out of the way of later claims
  });

  it('lists pages and counts', async () => {
    await http.addTasks(
      Array.from({ length: 5 }, (_, i) => ({ title: `L${i}`, description: 'd', repository: 'acme/list' })),
    );
    const first = await http.listTasks({ repository: 'acme/list', limit: 2 });
    expect(first.tasks).toHaveLength(2);
    const second = await http.listTasks({ repository: 'acme/list', limit: 2, cursor: first.nextCursor! });
    expect(second.tasks.map((t) => t.id)).not.toEqual(first.tasks.map((t) => t.id));
    const counts = await http.countByStatus();
    expect(counts.pending).toBe(5);
    expect(counts).toEqual(await sqlStore.countByStatus());
  });

  it('turns a stale token into the same DaemonError the SQL store throws', async () => {
    await http.addTasks([{ id: 'h-stale', title: 'Stale', description: 'd', priority: 'critical' }]);
    const [claim] = await http.claimTasks({ worker: 'w-s', limit: 1, leaseMs: 30_000 });
    const old = claim!.lease.token;
    await http.releaseTask('h-stale', old);
    const [again] = await http.claimTasks({ worker: 'w-s2', limit: 1, leaseMs: 30_000 });
    tokensSeen.push(old, again!.lease.token);

    const overHttp = await failure(() => http.completeTask('h-stale', old, {}));
    const direct = await failure(() => sqlStore.completeTask('h-stale', old, {}));
    expect(overHttp).toMatchObject({
      code: 'stale-lease',
      category: 'conflict',
      retryable: false,
      dependency: 'task-store',
    });
    expect({ code: overHttp.code, category: overHttp.category, retryable: overHttp.retryable }).toEqual({
      code: direct.code,
      category: direct.category,
      retryable: direct.retryable,
    });
    expect((await failure(() => http.heartbeat('h-stale', old, 30_000))).code).toBe('stale-lease');
    expect((await failure(() => http.addTasks([{ id: 'h-stale', title: 't', description: 'd' }]))).code).toBe(
      'task-exists',
    );
    expect((await failure(() => http.addTasks([{ title: '', description: 'd' }]))).category).toBe('validation');
    const missing = await failure(() => http.cancelTask('h-missing'));
    expect({ code: missing.code, category: missing.category }).toEqual({
      code: 'task-not-found',
      category: 'validation',
    });
  });

  it('classifies auth failures, 5xx, unreachable servers, bad bodies and cancellation', async () => {
    const wrongKey = await failure(() => clientFor(server.url, 'not-the-key').listTasks({}));
    expect(wrongKey).toMatchObject({ category: 'authentication', retryable: false, status: 401 });

    const broken = new Proxy(sqlStore, {
      get: (t, k) => (k === 'claimTasks' ? async () => Promise.reject(new Error('disk on fire')) : Reflect.get(t, k)),
    });
    const brokenServer = await startTaskApiServer({
      store: broken,
      apiKey: API_KEY,
      port: 0,
      host: '127.0.0.1',
      logger: capturingLogger(),
    });
    extraServers.push(brokenServer);
    const fiveHundred = await failure(() =>
      clientFor(brokenServer.url).claimTasks({ worker: 'w', limit: 1, leaseMs: 5_000 }),
    );
    expect(fiveHundred).toMatchObject({ category: 'server', retryable: true, dependency: 'task-store', status: 500 });
    expect(fiveHundred.message).not.toContain('disk on fire');

    const closed = await startTaskApiServer({
      store: sqlStore,
      apiKey: API_KEY,
      port: 0,
      host: '127.0.0.1',
      logger: capturingLogger(),
    });
    await closed.close();
    const unreachable = await failure(() => clientFor(closed.url).ping());
    expect(unreachable).toMatchObject({ category: 'network', retryable: true, dependency: 'task-store' });

    const garbage = await cannedServer(200, JSON.stringify({ tasks: [{ task: { id: 1 } }] }));
    const invalid = await failure(() => clientFor(garbage).claimTasks({ worker: 'w', limit: 1, leaseMs: 5_000 }));
    // Retryable: the answer was garbled, not the request refused; our writes are fenced and safe to send again.
    expect(invalid).toMatchObject({ code: 'task-api-invalid-response', retryable: true });
    const notJson = await cannedServer(503, '<html>bad gateway</html>');
    expect(await failure(() => clientFor(notJson).listTasks({}))).toMatchObject({
      category: 'server',
      retryable: true,
    });

    const controller = new AbortController();
    controller.abort();
    expect((await failure(() => http.listTasks({}, controller.signal))).category).toBe('cancelled');
  });

  it('never lets the API key or a lease token into an error or a log line', () => {
    expect(tokensSeen.length).toBeGreaterThan(5);
    expect(errorsSeen.length).toBeGreaterThan(5);
    const secrets = [API_KEY, ...tokensSeen];
    const errorText = errorsSeen.map((e) => `${inspect(e, { depth: 10 })}\n${JSON.stringify(e)}`).join('\n');
    const logText = logLines.join('');
    expect(logText).toContain('task api request');
    for (const secret of secrets) {
      expect(errorText).not.toContain(secret);
      expect(logText).not.toContain(secret);
    }
  });
});
