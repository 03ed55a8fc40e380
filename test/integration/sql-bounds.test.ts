/**
 * SQL is bounded and cancellable. PostgreSQL is reached through a loopback TCP proxy that can stop forwarding
 * (a server or network that stops answering: sockets stay open, no bytes pass), so every bound is shown by a
 * wait that would otherwise never end. Each test's query timeout is far longer than the Jest timeout unless the
 * test is about that timeout, so a rejection that arrives proves the bound under test produced it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createPostgresClient, createSqlTaskStore, type SqlClient } from '../../src/adapters/task-store/index.js';
import { openPgliteClient } from '../../src/adapters/task-store/pglite.js';
import type { PostgresClientOptions } from '../../src/adapters/task-store/postgres.js';
import { classifySqlError } from '../../src/adapters/task-store/sql-errors.js';
import { DaemonError } from '../../src/domain/errors.js';
import { startTcpProxy, type TcpProxy } from '../fakes/tcp-proxy.js';

const DATABASE_URL = process.env.DATABASE_URL;
const APP = `codegen-pr-sql-bounds-${process.pid}-${randomBytes(3).toString('hex')}`;
const LONG = 60_000;

async function failure(promise: Promise<unknown>): Promise<DaemonError> {
  const outcome = await promise.then(
    () => new Error('expected a failure'),
    (err: unknown) => err,
  );
  return classifySqlError(outcome);
}

/** 'settled', or 'late' if `promise` is still pending after `ms` (a hang, in these tests). */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<'settled' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const settled = promise.then(
    () => 'settled' as const,
    () => 'settled' as const,
  );
  const result = await Promise.race([settled, late]);
  clearTimeout(timer);
  return result;
}

const describePostgres = DATABASE_URL ? describe : describe.skip;
if (!DATABASE_URL) console.warn('sql-bounds: DATABASE_URL is not set, so the PostgreSQL tests are skipped');

describePostgres('PostgreSQL through a proxy that stops answering', () => {
  let proxy: TcpProxy;
  const clients: SqlClient[] = [];
  const url = (): string => proxy.url(DATABASE_URL ?? '');
  const open = (options: Partial<PostgresClientOptions> = {}): SqlClient => {
    const client = createPostgresClient({ connectionString: url(), poolSize: 1, applicationName: APP, ...options });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    proxy = await startTcpProxy({ target: DATABASE_URL ?? '' });
  });
  afterEach(async () => {
    proxy.resume();
    await Promise.all(clients.splice(0).map((c) => c.close()));
    proxy.resetAll();
  });
  afterAll(async () => {
    await proxy.close();
    // Backends whose client was cut off may still be sleeping: end them, through a direct connection.
    const admin = createPostgresClient({ connectionString: DATABASE_URL ?? '', poolSize: 1 });
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [APP]);
    await admin.close();
  });

  it('ends a statement the server works on too long at statement_timeout, as a retryable timeout', async () => {
    const sql = open({ statementTimeoutMs: 200, queryTimeoutMs: LONG });
    const error = await failure(sql.query('SELECT pg_sleep(30)'));
    expect(error).toMatchObject({ code: 'task-store-timeout', category: 'timeout', retryable: true });
    expect(error.message).toContain('57014');
  });

  it('gives up on a statement nobody answers at the query timeout and destroys its connection', async () => {
    const sql = open({ queryTimeoutMs: 300 });
    await sql.query('SELECT 1');
    await proxy.waitForConnections(1);
    proxy.pause();
    const pending = sql.query('SELECT 2');
    await proxy.waitForHeldRequest();
    const error = await failure(pending);
    expect(error).toMatchObject({ code: 'task-store-timeout', category: 'timeout', retryable: true });
    // The connection that ran it is closed, not put back in the pool of one...
    await proxy.waitForConnections(0);
    proxy.resume();
    // ...so the next statement gets a fresh one.
    await expect(sql.query<{ n: number }>('SELECT 3 AS n')).resolves.toMatchObject({ rows: [{ n: 3 }] });
    expect(proxy.accepted()).toBeGreaterThanOrEqual(2);
  });

  it('rejects at once when the signal aborts, and frees the pool slot', async () => {
    const sql = open({ queryTimeoutMs: LONG });
    const store = createSqlTaskStore(sql);
    await store.ping();
    proxy.pause();
    const controller = new AbortController();
    const pending = store.ping(controller.signal);
    await proxy.waitForHeldRequest();
    controller.abort();
    expect(await failure(pending)).toMatchObject({ code: 'cancelled', category: 'cancelled' });
    await proxy.waitForConnections(0);
    proxy.resume();
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('stops a transaction when its signal aborts; nothing of it is committed', async () => {
    const schema = `sql_bounds_${process.pid}_${randomBytes(3).toString('hex')}`;
    const direct = createPostgresClient({ connectionString: DATABASE_URL ?? '', poolSize: 2, applicationName: APP });
    clients.push(direct);
    await direct.query(`CREATE SCHEMA "${schema}"`);
    await direct.query(`CREATE TABLE "${schema}".marks (id int)`);
    try {
      const controller = new AbortController();
      let inserted: () => void = () => undefined;
      const insertDone = new Promise<void>((resolve) => (inserted = resolve));
      const tx = direct.transaction(async (t) => {
        await t.query(`INSERT INTO "${schema}".marks VALUES (1)`);
        inserted();
        await t.query('SELECT pg_sleep(30)');
      }, controller.signal);
      await insertDone;
      controller.abort();
      expect(await failure(tx)).toMatchObject({ category: 'cancelled' });
      const count = await direct.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".marks`);
      expect(count.rows[0]?.n).toBe(0);
    } finally {
      await direct.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
        [APP],
      );
      await direct.query(`DROP SCHEMA "${schema}" CASCADE`);
    }
  });

  it('fails a connection attempt nobody answers at the connect timeout, as a retryable error', async () => {
    proxy.pause();
    const sql = open({ connectTimeoutMs: 300, queryTimeoutMs: LONG });
    const error = await failure(sql.query('SELECT 1'));
    expect(error.retryable).toBe(true);
  });

  it('closes within its close timeout while a statement hangs on a silent server', async () => {
    const sql = createPostgresClient({
      connectionString: url(),
      poolSize: 2,
      applicationName: APP,
      queryTimeoutMs: LONG,
      closeTimeoutMs: 200,
    });
    await sql.query('SELECT 1');
    proxy.pause();
    const hanging = failure(sql.query('SELECT 2'));
    await proxy.waitForHeldRequest();
    expect(await settledWithin(sql.close(), 10_000)).toBe('settled');
    expect(await hanging).toMatchObject({ category: 'cancelled' });
    await expect(sql.query('SELECT 3')).rejects.toMatchObject({ code: 'task-store-closed' });
  });
});

describe('PGlite honours the signal', () => {
  let sql: SqlClient;
  beforeAll(async () => {
    sql = await openPgliteClient('memory://');
    await sql.query('CREATE TABLE marks (id int)');
  });
  afterAll(async () => {
    await sql.close();
  });

  it('refuses an aborted signal without running the statement', async () => {
    expect(await failure(sql.query('INSERT INTO marks VALUES (1)', [], AbortSignal.abort()))).toMatchObject({
      category: 'cancelled',
    });
    expect((await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM marks')).rows[0]?.n).toBe(0);
  });

  it('rejects a statement queued behind a transaction as soon as its signal aborts', async () => {
    let releaseTx: () => void = () => undefined;
    let txStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (txStarted = resolve));
    const holding = sql.transaction(async (tx) => {
      await tx.query('SELECT 1');
      txStarted();
      await new Promise<void>((resolve) => (releaseTx = resolve));
    });
    await started;
    const controller = new AbortController();
    const queued = sql.query('SELECT 2', [], controller.signal);
    controller.abort();
    expect(await failure(queued)).toMatchObject({ category: 'cancelled' });
    releaseTx();
    await holding;
  });

  it('rolls back a transaction whose signal aborts between statements', async () => {
    const controller = new AbortController();
    const tx = sql.transaction(async (t) => {
      await t.query('INSERT INTO marks VALUES (2)');
      controller.abort();
      await t.query('INSERT INTO marks VALUES (3)');
    }, controller.signal);
    expect(await failure(tx)).toMatchObject({ category: 'cancelled' });
    expect((await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM marks')).rows[0]?.n).toBe(0);
  });
});
