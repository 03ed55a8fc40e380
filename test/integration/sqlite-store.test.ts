/**
 * What only the SQLite store has: its one clock, its file on disk across reopening, its pragmas, and how its
 * failures are classified. The shared contract runs in task-store.test.ts and task-store-leases.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import {
  classifySqliteError,
  createSqliteTaskStore,
  migrateSqlite,
  openSqliteDatabase,
  openSqliteTaskStore,
} from '../../src/adapters/task-store/sqlite/index.js';

describe('the SQLite task store', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'codegen-pr-sqlite-only-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes every time it writes from its one clock', async () => {
    let now = new Date('2030-01-01T00:00:00.000Z');
    const database = openSqliteDatabase(path.join(dir, 'clock.db'));
    migrateSqlite(database);
    const store = createSqliteTaskStore(database, { now: () => now });
    const [added] = await store.addTasks([{ id: 'c1', title: 't', description: 'd' }]);
    expect(added).toMatchObject({ createdAt: '2030-01-01T00:00:00.000Z', updatedAt: '2030-01-01T00:00:00.000Z' });
    now = new Date('2030-01-01T00:00:05.000Z');
    const [claim] = await store.claimTasks({ worker: 'w', limit: 1, leaseMs: 60_000 });
    expect(claim!.lease.expiresAt).toBe('2030-01-01T00:01:05.000Z');
    expect(claim!.task.startedAt).toBe('2030-01-01T00:00:05.000Z');
    // Past the lease by the store's clock, not the machine's: another worker may claim it.
    now = new Date('2030-01-01T00:01:06.000Z');
    const [again] = await store.claimTasks({ worker: 'w2', limit: 1, leaseMs: 60_000 });
    expect(again!.task).toMatchObject({ id: 'c1', leaseExpiries: 1 });
    expect((await store.getTaskHistory('c1')).map((e) => e.at)).toEqual([
      '2030-01-01T00:00:00.000Z',
      '2030-01-01T00:00:05.000Z',
      '2030-01-01T00:01:06.000Z',
    ]);
    await store.close();
  });

  it('keeps tasks across reopening, in WAL mode with synchronous FULL, migrating once', async () => {
    const file = path.join(dir, 'nested', 'data', 'codegen-pr.db');
    const first = await openSqliteTaskStore({ file });
    await first.addTasks([{ id: 'kept', title: 't', description: 'd' }]);
    await first.close();

    const database = openSqliteDatabase(file);
    expect(database.db.pragma('journal_mode', { simple: true })).toBe('wal');
    // 2 = FULL: the WAL is synced at every commit.
    expect(database.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(migrateSqlite(database)).toEqual({ applied: [] });
    const second = createSqliteTaskStore(database);
    expect(await second.getTask('kept')).toMatchObject({ id: 'kept', status: 'pending' });
    await second.close();
  });

  it('refuses a bad retry time naming the field, and leaves the task as it was', async () => {
    const store = await openSqliteTaskStore({ file: 'memory://' });
    await store.addTasks([{ id: 'bt', title: 't', description: 'd' }]);
    const [claim] = await store.claimTasks({ worker: 'w', limit: 1, leaseMs: 60_000 });
    const error = { category: 'network', code: 'x', message: 'y' };
    await expect(store.failTask('bt', claim!.lease.token, { error, retryAt: 'tomorrow' })).rejects.toMatchObject({
      code: 'task-store-rejected',
      category: 'validation',
      message: expect.stringContaining('retryAt'),
    });
    expect((await store.getTask('bt'))!.status).toBe('claimed');
    await store.close();
  });

  it('answers a write that cannot get the lock in time with a retryable contention error', async () => {
    const file = path.join(dir, 'busy.db');
    const store = await openSqliteTaskStore({ file, busyTimeoutMs: 50 });
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    try {
      await expect(store.addTasks([{ id: 'b1', title: 't', description: 'd' }])).rejects.toMatchObject({
        code: 'task-store-contention',
        retryable: true,
        dependency: 'task-store',
      });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await expect(store.addTasks([{ id: 'b1', title: 't', description: 'd' }])).resolves.toHaveLength(1);
    await store.close();
  });

  it('classifies SQLite failures by result code', () => {
    const of = (code: string) => classifySqliteError(Object.assign(new Error(code), { code }));
    expect(of('SQLITE_BUSY_SNAPSHOT')).toMatchObject({ code: 'task-store-contention', retryable: true });
    expect(of('SQLITE_CONSTRAINT_CHECK')).toMatchObject({ code: 'task-store-rejected', category: 'conflict' });
    expect(of('SQLITE_CORRUPT')).toMatchObject({ code: 'task-store-corrupt', retryable: false });
    expect(of('SQLITE_FULL')).toMatchObject({ code: 'task-store-unavailable', retryable: true });
    expect(of('SQLITE_CANTOPEN')).toMatchObject({ code: 'task-store-misconfigured', category: 'configuration' });
    expect(classifySqliteError(new TypeError('The database connection is not open'))).toMatchObject({
      code: 'task-store-closed',
    });
  });
});
