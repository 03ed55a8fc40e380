/**
 * Pickup benchmark (issue 10's S6): time from `addTasks` in one process's store to the claim in another's
 * scheduler, with a free slot, on PostgreSQL. Two stores opened the way the CLI and the daemon open theirs stand
 * in for the two processes (the nudges go through PostgreSQL's LISTEN/NOTIFY either way). Cases, in one run:
 * push pickup (the daemon's scheduler woken by the nudges) and polling only (the same scheduler, not
 * subscribed), with POLL_INTERVAL_MS = BENCH_POLL_MS for both.
 *
 * Run: npm run bench:pickup   (env: DATABASE_URL, BENCH_TASKS=40, BENCH_POLL_MS=2000)
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { openTaskStore } from '../src/adapters/open-store.js';
import { loadConfig } from '../src/config/load.js';
import { createIntakeGate } from '../src/daemon/intake.js';
import { createPool } from '../src/daemon/pool.js';
import { createScheduler } from '../src/daemon/scheduler.js';
import { silentLogger } from '../src/observability/logger.js';
import { describeMachine, fmt, loadNow, writeMarkdownReport, writeScenarioJson } from './scenario-report.js';

const env = process.env;
const DATABASE_URL = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TASKS = Number(env.BENCH_TASKS ?? 40);
const POLL_MS = Number(env.BENCH_POLL_MS ?? 2000);
const progress = (message: string) => console.error(`[pickup-bench] ${message}`);

interface CaseResult {
  name: string;
  tasks: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

async function runCase(name: string, push: boolean): Promise<CaseResult> {
  const schema = `bench_pickup_${process.pid}_${push ? 'push' : 'poll'}`;
  const config = loadConfig({
    env: { TASK_STORE: 'postgres', DATABASE_URL, DATABASE_SCHEMA: schema },
    configDir: '/nonexistent',
    dotenvPath: false,
  });
  const daemon = await openTaskStore(config, { logger: silentLogger(), role: 'daemon' });
  const cli = await openTaskStore(config, { logger: silentLogger(), role: 'cli' });
  const claimed = new Map<string, () => void>();
  const scheduler = createScheduler({
    store: daemon.store,
    pool: createPool(4),
    intake: createIntakeGate(),
    worker: 'bench',
    batchSize: 10,
    pollIntervalMs: POLL_MS,
    leaseMs: 60_000,
    startTask: (claim, slot) => {
      slot.release();
      claimed.get(claim.task.id)?.();
    },
    logger: silentLogger(),
    source: 'bench',
  });
  const unsubscribe = push ? daemon.signal.onTasksAdded(() => scheduler.wake()) : () => undefined;
  scheduler.start();
  const lags: number[] = [];
  try {
    for (let i = 0; i < TASKS; i += 1) {
      const id = `pickup-${i}`;
      const seen = new Promise<void>((resolve) => claimed.set(id, resolve));
      // Arrive at a random point of the poll cycle, as a task added by someone else would.
      await sleep(Math.random() * POLL_MS);
      const started = performance.now();
      await cli.store.addTasks([{ id, title: id, description: 'd' }], 'bench');
      await seen;
      lags.push(performance.now() - started);
    }
  } finally {
    unsubscribe();
    await scheduler.stop();
    await cli.store.close();
    await daemon.store.close();
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
  lags.sort((a, b) => a - b);
  const at = (q: number) => lags[Math.min(lags.length - 1, Math.floor(lags.length * q))] ?? Number.NaN;
  return {
    name,
    tasks: lags.length,
    meanMs: lags.reduce((a, b) => a + b, 0) / lags.length,
    p50Ms: at(0.5),
    p95Ms: at(0.95),
    maxMs: lags.at(-1) ?? Number.NaN,
  };
}

async function main(): Promise<void> {
  const loadStart = loadNow();
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  progress(`${TASKS} tasks per case, poll interval ${POLL_MS} ms; load average ${load}`);
  const push = await runCase('push pickup (LISTEN/NOTIFY)', true);
  progress('polling only');
  const poll = await runCase('polling only', false);
  const rows = [push, poll].map(
    (r) =>
      `| ${r.name} | ${r.tasks} | ${r.meanMs.toFixed(0)} | ${r.p50Ms.toFixed(0)} | ${r.p95Ms.toFixed(0)} | ${r.maxMs.toFixed(0)} |`,
  );
  const raw = [
    `## Pickup latency on PostgreSQL (${new Date().toISOString().slice(0, 10)})`,
    '',
    `From addTasks in one store to the claim in another's scheduler, a slot free; poll interval ${POLL_MS} ms. ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GB; load average at start ${load}, at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}.`,
    '',
    '| pickup | tasks | mean (ms) | p50 (ms) | p95 (ms) | max (ms) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Push over polling, same run: p95 ${(push.p95Ms / poll.p95Ms).toFixed(3)}×, mean ${(push.meanMs / poll.meanMs).toFixed(3)}×.`,
    '',
  ].join('\n');
  await writeScenarioJson('s6-pickup', {
    scenario: 'S6',
    title: `pickup latency on PostgreSQL, ${TASKS} tasks per case, poll interval ${POLL_MS} ms`,
    machine: describeMachine(),
    load: { start: loadStart, end: loadNow() },
    rows: [push, poll].map(({ name, ...metrics }) => ({
      label: name,
      metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Math.round(v)])),
    })),
    summary: [
      {
        figure: 'add to claimed, p95 (push)',
        value: `${fmt(push.p95Ms)} ms`,
        comparison: `${fmt(push.p95Ms / poll.p95Ms, 3)}× polling's ${fmt(poll.p95Ms)} ms (goal < 200 ms)`,
      },
    ],
  });
  await writeMarkdownReport('pickup', raw);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
