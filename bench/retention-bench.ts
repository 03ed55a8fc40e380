/**
 * Retention benchmark: does the cost of claiming and of the status queries stay flat as finished tasks pile up?
 * On PostgreSQL, for each size N of finished tasks kept (default 10,000, 100,000 and 1,000,000), in a fresh
 * schema: N finished tasks (completed, failed, cancelled; finished over the last 60 days) and LIVE pending tasks
 * are inserted (untimed, with generate_series), statistics gathered (ANALYZE, as autovacuum would), then timed:
 *
 * - claim: claimTasks(limit 1) by one worker, CLAIMS times (the daemon's claim statement);
 * - snapshot: queueSnapshot(), the live-rows query the daemon's gauges and the status page read every refresh;
 * - countByStatus: the exact count over every row that main's gauges ran on every refresh (for contrast: it
 *   does grow with N; the gauges now run it only after the live queue changed, at most every 15 s).
 *
 * Every size is filled first; then ROUNDS rounds visit each size in a rotating order (load that comes and goes
 * hits every size alike). Per query: the median of the rounds' medians, its ratio to the smallest size's, and
 * the shared buffers (pages) one run touches (EXPLAIN ANALYZE BUFFERS), a cost that does not depend on load.
 * Run: npm run bench:retention   (env: DATABASE_URL, BENCH_SIZES=10000,100000,1000000, BENCH_LIVE=1000)
 * Not part of the test suite.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { format, resolveConfig } from 'prettier';
import { createSqlTaskStore, migrate, wrapPgPool } from '../src/adapters/task-store/index.js';
import { snapshotStatement } from '../src/adapters/task-store/sql-operations.js';
import { describeMachine, median } from './claim-report.js';

const env = process.env;
const DATABASE_URL = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SIZES = (env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error('BENCH_SIZES must be whole numbers separated by commas');
  return n;
});
const LIVE = Number(env.BENCH_LIVE ?? 1000);
const ROUNDS = 5;
const CLAIMS = 200;
const SNAPSHOTS = 200;
const COUNTS = 20;

const progress = (message: string) => console.error(`[retention-bench] ${message}`);

interface Row {
  size: number;
  fillS: number;
  claimMs: number;
  snapshotMs: number;
  countMs: number;
  snapshot: { pages: number; execMs: number };
  count: { pages: number; execMs: number };
}

async function time(times: number, fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i += 1) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

interface Prepared {
  size: number;
  schema: string;
  fillS: number;
  store: ReturnType<typeof createSqlTaskStore>;
}

async function prepare(pool: pg.Pool, size: number): Promise<Prepared> {
  const schema = `bench_retention_${process.pid}_${size}`;
  const sql = wrapPgPool(pool);
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await migrate(sql, { schema });
  const tasks = `"${schema}".tasks`;
  const fillStarted = performance.now();
  // In chunks of 100,000 so one statement does not hold a huge transaction.
  for (let from = 1; from <= size; from += 100_000) {
    const to = Math.min(size, from + 99_999);
    await pool.query(
      `INSERT INTO ${tasks} (id, title, description, status, attempts, completed_at, created_at, updated_at)
       SELECT 'f-' || g, 'finished task ' || g, 'd', (ARRAY['completed','completed','failed','cancelled'])[1 + g % 4], 1,
              now() - (g % 60) * interval '1 day', now() - (g % 60) * interval '1 day' - interval '1 hour',
              now() - (g % 60) * interval '1 day'
         FROM generate_series($1::int, $2::int) g`,
      [from, to],
    );
  }
  await pool.query(
    `INSERT INTO ${tasks} (id, title, description) SELECT 'l-' || g, 'live task', 'd' FROM generate_series(1, $1::int) g`,
    [LIVE],
  );
  await pool.query(`VACUUM ANALYZE ${tasks}`);
  return { size, schema, fillS: (performance.now() - fillStarted) / 1000, store: createSqlTaskStore(sql, { schema }) };
}

/**
 * Shared buffers (pages) one run of the statement touches, and the server's median execution time over 20
 * runs (EXPLAIN ANALYZE): costs that leave out the client, the network and most of the machine's load.
 */
async function serverCost(pool: pg.Pool, statement: string): Promise<{ pages: number; execMs: number }> {
  const runs: number[] = [];
  let pages = 0;
  for (let i = 0; i < 20; i += 1) {
    const result = await pool.query<{
      'QUERY PLAN': Array<{ Plan: Record<string, number>; 'Execution Time': number }>;
    }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${statement}`);
    const top = result.rows[0]?.['QUERY PLAN'][0];
    runs.push(top?.['Execution Time'] ?? Number.NaN);
    pages = (top?.Plan['Shared Hit Blocks'] ?? 0) + (top?.Plan['Shared Read Blocks'] ?? 0);
  }
  return { pages, execMs: median(runs) };
}

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  const started = performance.now();
  const loadStart = loadavg()[0] ?? 0;
  const machine = await describeMachine(pool);
  const prepared: Prepared[] = [];
  const samples = new Map<number, { claim: number[]; snapshot: number[]; count: number[] }>();
  const rows: Row[] = [];
  try {
    for (const size of SIZES) {
      progress(`${size.toLocaleString('en-US')} finished tasks: filling`);
      prepared.push(await prepare(pool, size));
      samples.set(size, { claim: [], snapshot: [], count: [] });
    }
    // Dirty pages of the fill written out before anything is timed, so the last fill does not slow its size.
    await pool.query('CHECKPOINT').catch(() => progress('CHECKPOINT refused (not a superuser); measuring anyway'));
    for (const p of prepared) {
      for (let i = 0; i < 5; i += 1) {
        await p.store.queueSnapshot();
        await p.store.countByStatus();
      }
    }
    // Rounds, each visiting every size in a rotating order: load that comes and goes hits all sizes alike.
    for (let round = 0; round < ROUNDS; round += 1) {
      progress(`round ${round + 1} of ${ROUNDS}`);
      for (let k = 0; k < prepared.length; k += 1) {
        const p = prepared[(round + k) % prepared.length] as Prepared;
        const s = samples.get(p.size) as { claim: number[]; snapshot: number[]; count: number[] };
        s.claim.push(
          await time(CLAIMS / ROUNDS, () => p.store.claimTasks({ worker: 'bench', limit: 1, leaseMs: 600_000 })),
        );
        s.snapshot.push(await time(SNAPSHOTS / ROUNDS, () => p.store.queueSnapshot()));
        s.count.push(await time(COUNTS / ROUNDS, () => p.store.countByStatus()));
      }
    }
    for (const p of prepared) {
      const s = samples.get(p.size) as { claim: number[]; snapshot: number[]; count: number[] };
      const tasks = `"${p.schema}".tasks`;
      rows.push({
        size: p.size,
        fillS: p.fillS,
        claimMs: median(s.claim),
        snapshotMs: median(s.snapshot),
        countMs: median(s.count),
        snapshot: await serverCost(pool, snapshotStatement(tasks)),
        count: await serverCost(pool, `SELECT status, count(*)::int AS n FROM ${tasks} GROUP BY status`),
      });
    }
  } finally {
    for (const p of prepared) await pool.query(`DROP SCHEMA IF EXISTS "${p.schema}" CASCADE`);
    await pool.end();
  }
  const base = rows[0];
  if (!base) throw new Error('no sizes measured');
  const ms = (v: number) => v.toFixed(3);
  const ratio = (v: number, b: number) => `${(v / b).toFixed(2)}x`;
  const lines = [
    '# Retention benchmark: claim and status cost against finished tasks kept',
    '',
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}`,
    `- ${machine.postgres}`,
    `- Load average (1 min) at start / end: ${loadStart.toFixed(2)} / ${(loadavg()[0] ?? 0).toFixed(2)}`,
    `- ${LIVE.toLocaleString('en-US')} live pending tasks; ${ROUNDS} interleaved rounds of ${CLAIMS / ROUNDS} claims,` +
      ` ${SNAPSHOTS / ROUNDS} snapshots and ${COUNTS / ROUNDS} full counts per size; median of the rounds' medians;` +
      ` server: median execution time on the server over 20 EXPLAIN ANALYZE runs; pages: shared buffers one run touched; run ${Math.round((performance.now() - started) / 1000)} s`,
    '',
    '| finished tasks | fill (untimed) | claim(1) | ratio | queueSnapshot | ratio | server | ratio | pages | countByStatus (all rows) | ratio | server | ratio | pages |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.size.toLocaleString('en-US')} | ${r.fillS.toFixed(1)} s | ${ms(r.claimMs)} ms | ${ratio(r.claimMs, base.claimMs)} | ` +
        `${ms(r.snapshotMs)} ms | ${ratio(r.snapshotMs, base.snapshotMs)} | ` +
        `${ms(r.snapshot.execMs)} ms | ${ratio(r.snapshot.execMs, base.snapshot.execMs)} | ${r.snapshot.pages} | ` +
        `${ms(r.countMs)} ms | ${ratio(r.countMs, base.countMs)} | ` +
        `${ms(r.count.execMs)} ms | ${ratio(r.count.execMs, base.count.execMs)} | ${r.count.pages} |`,
    ),
    '',
  ];
  const report = await format(lines.join('\n'), {
    ...((await resolveConfig('BENCHMARKS.md')) ?? {}),
    parser: 'markdown',
  });
  console.log(report);
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/retention-${new Date().toISOString().slice(0, 10)}.md`;
  writeFileSync(file, report);
  progress(`written to ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
