/**
 * Migration versions need not arrive in order: version 5 (the run watcher board) may reach a database before
 * version 4 (another change) exists. The runner applies every version not yet recorded, ascending, so a schema
 * that took 1-3 and 5 takes 4 when it ships, and records each version once. On PGlite: no server needed.
 */
import { afterEach, expect, it } from '@jest/globals';
import { MIGRATIONS, migrate, type Migration, type SqlClient } from '../../src/adapters/task-store/index.js';
import { openPgliteClient, PGLITE_MEMORY } from '../../src/adapters/task-store/pglite.js';

let sql: SqlClient | undefined;
afterEach(async () => {
  await sql?.close();
});

it('applies a version that arrives after a later one, once', async () => {
  sql = await openPgliteClient(PGLITE_MEMORY);
  const withoutFour = MIGRATIONS.filter((m) => m.version !== 4);
  expect((await migrate(sql, { migrations: withoutFour })).applied).toEqual(withoutFour.map((m) => m.version));
  const four: Migration = {
    version: 4,
    name: 'arrives late',
    statements: (s) => [`CREATE TABLE ${s}.late_arrival (id integer PRIMARY KEY)`],
  };
  const all = [...withoutFour, four];
  expect((await migrate(sql, { migrations: all })).applied).toEqual([4]);
  expect((await migrate(sql, { migrations: all })).applied).toEqual([]);
  const recorded = await sql.query<{ version: number }>(
    'SELECT version FROM codegen_pr.schema_migrations ORDER BY version',
  );
  expect(recorded.rows.map((r) => Number(r.version))).toEqual(all.map((m) => m.version).sort((a, b) => a - b));
  expect(recorded.rows.map((r) => Number(r.version))).toContain(5);
});
