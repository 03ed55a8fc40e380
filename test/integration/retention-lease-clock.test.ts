/**
 * The retention lease is given back by setting its expiry to "now"; the next replica may take it at once. On
 * SQLite the store's clock has millisecond steps, so the give-back and the next run often share one millisecond
 * (seen as a failure of retention.test under `stress --cpu 4`): a lease whose expiry has come must count as
 * free. A frozen clock makes that millisecond certain.
 */
import { describe, expect, it } from '@jest/globals';
import {
  createSqliteTaskStore,
  migrateSqlite,
  openSqliteDatabase,
  SQLITE_MEMORY,
} from '../../src/adapters/task-store/sqlite/index.js';
import { storeOperations } from '../../src/adapters/task-store/operations.js';

const DAY = 86_400_000;

describe('the retention lease on SQLite', () => {
  it('is free for the next replica in the same millisecond it was given back', async () => {
    const database = openSqliteDatabase(SQLITE_MEMORY);
    migrateSqlite(database);
    const frozen = new Date('2026-12-06T12:00:00.000Z');
    const store = createSqliteTaskStore(database, { now: () => frozen });
    const ops = storeOperations(store);
    if (!ops) throw new Error('the SQLite store has no operations');
    const prune = { olderThanMs: 30 * DAY, batchSize: 10, maxBatches: 10, leaseMs: 60_000 };
    expect(await ops.pruneFinished({ ...prune, holder: 'replica-a' })).toMatchObject({ ran: true });
    expect(await ops.pruneFinished({ ...prune, holder: 'replica-b' })).toMatchObject({ ran: true });
    await store.close();
  });
});
