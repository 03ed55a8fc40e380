/**
 * Migration 4 (dedupe keys, the held-by-repository index) on a store already at version 3 with tasks in it, on
 * SQLite and PGlite: it applies once, keeps every row, and the tasks added before it stay claimable and keyless.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createSqlTaskStore, migrate, MIGRATIONS } from '../../src/adapters/task-store/index.js';
import { openPgliteClient } from '../../src/adapters/task-store/pglite.js';
import {
  createSqliteTaskStore,
  migrateSqlite,
  openSqliteDatabase,
  SQLITE_MIGRATIONS,
} from '../../src/adapters/task-store/sqlite/index.js';
import type { TaskStore } from '../../src/pipeline/ports.js';

/** What every store must show after the upgrade. */
async function checkUpgraded(store: TaskStore): Promise<void> {
  const old = await store.getTask('before-v4');
  expect(old).toMatchObject({ status: 'pending', title: 'Added at version 3' });
  expect(old!.dedupeKey).toBeUndefined();
  await store.addTasks([{ id: 'after-v4', title: 'keyed', description: 'd', dedupeKey: 'k' }]);
  await expect(
    store.addTasks([{ id: 'after-v4-again', title: 'keyed', description: 'd', dedupeKey: 'k' }]),
  ).rejects.toMatchObject({ code: 'task-duplicate', existingTaskId: 'after-v4' });
  // Capped claims run on the upgraded schema: one task per repository (after-v4 names none: a group of its own).
  await store.addTasks([{ id: 'after-v4-web', title: 'web', description: 'd', repository: 'acme/web' }]);
  const claims = await store.claimTasks({ worker: 'w', limit: 5, leaseMs: 60_000, repositoryCap: { default: 1 } });
  expect(claims.map((c) => c.task.id)).toEqual(['before-v4', 'after-v4']);
}

describe('migration 4 on a store at version 3', () => {
  it('upgrades SQLite in place', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'codegen-pr-v4-'));
    const database = openSqliteDatabase(path.join(dir, 'codegen-pr.db'));
    try {
      migrateSqlite(
        database,
        SQLITE_MIGRATIONS.filter((m) => m.version <= 3),
      );
      database.db
        .prepare(`INSERT INTO tasks (id, title, description, repository) VALUES (?, ?, ?, ?)`)
        .run('before-v4', 'Added at version 3', 'd', 'acme/web');
      expect(migrateSqlite(database)).toEqual({ applied: [4] });
      expect(migrateSqlite(database)).toEqual({ applied: [] });
      await checkUpgraded(createSqliteTaskStore(database));
    } finally {
      database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('upgrades PostgreSQL (PGlite) in place', async () => {
    const sql = await openPgliteClient('memory://');
    try {
      await migrate(sql, { migrations: MIGRATIONS.filter((m) => m.version <= 3) });
      await sql.query(`INSERT INTO codegen_pr.tasks (id, title, description, repository) VALUES ($1, $2, $3, $4)`, [
        'before-v4',
        'Added at version 3',
        'd',
        'acme/web',
      ]);
      // 4, then whatever came after it (5: the run watcher's board tables).
      const applied = (await migrate(sql)).applied;
      expect(applied[0]).toBe(4);
      expect(applied).toEqual(MIGRATIONS.map((m) => m.version).filter((v) => v >= 4));
      expect(await migrate(sql)).toEqual({ applied: [] });
      await checkUpgraded(createSqlTaskStore(sql));
    } finally {
      await sql.close();
    }
  }, 180_000);
});
