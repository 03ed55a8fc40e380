/**
 * Five processes migrate one fresh PostgreSQL schema at the same moment, as replicas starting together do.
 * All must succeed and schema_migrations must hold each version once.
 *
 * The children run TypeScript through ts-node's ESM loader (`node --import <register ts-node/esm> script.ts`), so
 * no build is needed. TS_NODE_COMPILER_OPTIONS sets module ESNext because the tsconfig "ts-node" section pairs
 * module NodeNext (inherited) with moduleResolution Node10, which TypeScript refuses (TS5109).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPostgresClient, MIGRATIONS, type SqlClient } from '../../src/adapters/task-store/index.js';
import { DATABASE_URL, uniqueSchema } from './helpers/store-backends.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const script = path.join(here, 'helpers', 'migrate-child.ts');
const REGISTER =
  'data:text/javascript,import { register } from "node:module"; import { pathToFileURL } from "node:url"; ' +
  'register("ts-node/esm", pathToFileURL("./"));';

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function startChild(schema: string): { child: ChildProcess; ready: Promise<void>; done: Promise<ChildResult> } {
  const child = spawn(process.execPath, ['--no-warnings', '--import', REGISTER, script], {
    cwd: root,
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      DATABASE_URL,
      MIGRATE_SCHEMA: schema,
      TS_NODE_COMPILER_OPTIONS: JSON.stringify({ module: 'ESNext', moduleResolution: 'Node10' }),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('ready\n')) markReady();
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<ChildResult>((resolve) => {
    child.on('close', (code) => {
      markReady(); // a child that died before `ready` must not hang the test
      resolve({ code, stdout, stderr });
    });
  });
  return { child, ready, done };
}

if (!DATABASE_URL) {
  console.warn('migrations-race: DATABASE_URL is not set, so the PostgreSQL migration race is skipped');
}
const maybe = DATABASE_URL ? describe : describe.skip;

maybe('migrations under a race of replicas (PostgreSQL)', () => {
  const schema = uniqueSchema('migrations_race');
  let sql: SqlClient;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    sql = createPostgresClient({ connectionString: DATABASE_URL! });
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill();
    // Dropped even when the race failed half-way, so no schema is left behind.
    await sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await sql.close();
  });

  it('five processes migrating one fresh schema at once all succeed, each version applied once', async () => {
    const started = Array.from({ length: 5 }, () => startChild(schema));
    children.push(...started.map((s) => s.child));
    await Promise.all(started.map((s) => s.ready));
    for (const s of started) s.child.stdin!.end('go\n');
    const results = await Promise.all(started.map((s) => s.done));

    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const applied = results.flatMap((r) => {
      const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
      return (JSON.parse(line ?? '{"applied":[]}') as { applied: number[] }).applied;
    });
    const versions = MIGRATIONS.map((m) => m.version);
    expect(applied.sort()).toEqual(versions); // exactly one process applied each version

    const recorded = await sql.query<{ version: number; n: number }>(
      `SELECT version, count(*)::int AS n FROM "${schema}".schema_migrations GROUP BY version ORDER BY version`,
    );
    expect(recorded.rows.map((r) => [Number(r.version), Number(r.n)])).toEqual(versions.map((v) => [v, 1]));
    const tables = await sql.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [schema],
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      // migration 3: retention's lease, people's intake requests, replica reports
      'maintenance_leases',
      'operator_actions',
      'replicas',
      // migration 5: the run watcher board (leader lease, announced runs, published states)
      'run_watch_announced',
      'run_watch_leaders',
      'run_watch_states',
      'schema_migrations',
      'task_events',
      'tasks',
    ]);
  }, 90_000);
});
