/**
 * Claim benchmark: claims per second of our PostgreSQL task store (claimTasks) against pg-boss 10 (fetch), on the
 * same database in the same run, at 1 and 4 concurrent claimers and batch sizes 1 and 10.
 *
 * For each measurement the queue is emptied and refilled with BENCH_TASKS items (not timed), then C claimers loop
 * claim(B) until nothing is claimable; only that claiming phase is timed (performance.now()). Each (C, B) is
 * measured BENCH_REPEATS times per contender, interleaved and with alternating order so drift hits both alike,
 * and the median is reported. Both contenders get a short warm-up first. Schemas are dropped at the end.
 *
 * Run: npm run bench:claim   (env: DATABASE_URL, BENCH_TASKS=2000, BENCH_REPEATS=3, BENCH_TIMEOUT_S=600)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { format, resolveConfig } from 'prettier';
import { openOurs, openPgBoss, type Contender } from './claim-contenders.js';
import { describeMachine, median, renderReport, type Cell } from './claim-report.js';
import { describeMachine as machineForJson, fmt, loadNow, resultsDir, writeScenarioJson } from './scenario-report.js';

const env = process.env;
const DATABASE_URL = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
// 2,000 rather than 5,000: both queues pay per claim in proportion to the backlog (see BENCHMARKS.md), so 5,000
// takes 5-8 minutes on a 2-core host; 2,000 keeps the default run near 2 minutes.
const TASKS = positiveInt(env.BENCH_TASKS, 2000, 'BENCH_TASKS');
const REPEATS = positiveInt(env.BENCH_REPEATS, 3, 'BENCH_REPEATS');
const TIMEOUT_S = positiveInt(env.BENCH_TIMEOUT_S, 600, 'BENCH_TIMEOUT_S');
const CLAIMERS = [1, 4];
const BATCHES = [1, 10];
const WARMUP_TASKS = 500;

function positiveInt(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of at least 1`);
  return value;
}

/** Progress goes to stderr so stdout carries only the Markdown report. */
const progress = (message: string) => console.error(`[claim-bench] ${message}`);

let stopRequested = false;
/** Untimed setup, reported so a slow run can be told apart from slow claims. */
let fillSeconds = 0;
process.once('SIGINT', () => {
  stopRequested = true;
  progress('interrupted: stopping after the current claims, then cleaning up');
});

/** Refill, then time `claimers` loops of claim(batch) until the queue is empty. Returns claims per second. */
async function measure(
  contender: Contender,
  tasks: number,
  claimers: number,
  batch: number,
  deadline: number,
): Promise<number> {
  const fillStarted = performance.now();
  await contender.refill(tasks);
  fillSeconds += (performance.now() - fillStarted) / 1000;
  let claimed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: claimers }, async (_, index) => {
      const worker = `bench-host:${process.pid}:${index}`;
      for (;;) {
        if (stopRequested) throw new Error('interrupted');
        if (performance.now() > deadline) throw new Error(`over the BENCH_TIMEOUT_S budget of ${TIMEOUT_S} s`);
        const got = await contender.claim(worker, batch);
        // Zero means nothing is claimable for this claimer: every remaining row is claimed or locked by another.
        if (got === 0) return;
        claimed += got;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const left = await contender.remaining();
  if (claimed !== tasks || left !== 0) {
    throw new Error(`${contender.name} claimed ${claimed} of ${tasks} with ${left} still claimable: not comparable`);
  }
  return claimed / seconds;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = loadavg()[0] ?? 0;
  const loadStart = loadNow();
  const deadline = performance.now() + TIMEOUT_S * 1000;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const suffix = `${process.pid}`;
  const contenders: Contender[] = [];
  try {
    const machine = await describeMachine(admin);
    contenders.push(await openOurs(DATABASE_URL, `bench_claim_ours_${suffix}`, admin));
    contenders.push(await openPgBoss(DATABASE_URL, `bench_claim_pgboss_${suffix}`, admin));
    const cells: Cell[] = CLAIMERS.flatMap((claimers) =>
      BATCHES.map((batch) => ({ claimers, batch, rates: Object.fromEntries(contenders.map((c) => [c.name, []])) })),
    );

    progress(`warming up (${WARMUP_TASKS} tasks per cell, not recorded)`);
    for (const cell of cells) {
      for (const contender of contenders) await measure(contender, WARMUP_TASKS, cell.claimers, cell.batch, deadline);
    }

    for (let rep = 0; rep < REPEATS; rep += 1) {
      // Alternate who goes first so slow drift (autovacuum, caches, CPU boost) does not favour one side.
      const order = rep % 2 === 0 ? contenders : [...contenders].reverse();
      for (const cell of cells) {
        for (const contender of order) {
          const perSecond = await measure(contender, TASKS, cell.claimers, cell.batch, deadline);
          cell.rates[contender.name]?.push(perSecond);
          progress(
            `rep ${rep + 1}/${REPEATS} C=${cell.claimers} B=${cell.batch} ${contender.name}: ${Math.round(perSecond)}/s`,
          );
        }
      }
    }

    const seconds = (Date.now() - startedAt.getTime()) / 1000;
    const resultsFile = pathToFileURL(path.join(resultsDir(), `claim-${startedAt.toISOString().slice(0, 10)}.md`));
    const raw = renderReport(
      machine,
      {
        tasks: TASKS,
        repetitions: REPEATS,
        startedAt: startedAt.toISOString(),
        seconds,
        fillSeconds,
        load: [loadAtStart, loadavg()[0] ?? 0],
      },
      cells,
      'codegen-pr',
      'pg-boss',
    );
    // Formatted as the repository's prettier would, so `npm run lint` accepts the results file as written.
    const report = await format(raw, { ...(await resolveConfig(resultsFile)), parser: 'markdown' });
    console.log(report);
    mkdirSync(new URL('.', resultsFile), { recursive: true });
    writeFileSync(resultsFile, report);
    await writeClaimJson(cells, loadStart);
    progress(`written to ${resultsFile.pathname}`);
  } finally {
    for (const contender of contenders) {
      await contender
        .close()
        .catch((error: unknown) => progress(`cleanup of ${contender.name} failed: ${String(error)}`));
    }
    await admin.end();
  }
}

/** The medians in the shape bench/run-all.ts reads. */
async function writeClaimJson(cells: Cell[], loadStart: number[]): Promise<void> {
  const med = (cell: Cell, name: string) => median(cell.rates[name] ?? []);
  const rows = cells.map((cell) => ({
    label: `${cell.claimers} claimer(s), batch ${cell.batch}`,
    metrics: {
      tasks: TASKS,
      repetitions: REPEATS,
      oursClaimsPerS: Math.round(med(cell, 'codegen-pr')),
      pgBossClaimsPerS: Math.round(med(cell, 'pg-boss')),
      oursOverPgBoss: Number((med(cell, 'codegen-pr') / med(cell, 'pg-boss')).toFixed(2)),
    },
  }));
  await writeScenarioJson('claim', {
    scenario: 'claim',
    title: `claimTasks against pg-boss fetch, ${TASKS} tasks, median of ${REPEATS}`,
    machine: machineForJson(),
    load: { start: loadStart, end: loadNow() },
    rows,
    summary: rows.map((r) => ({
      figure: `claims/s, ${r.label}`,
      value: fmt(r.metrics.oursClaimsPerS),
      comparison: `${fmt(r.metrics.oursOverPgBoss, 2)}× pg-boss (${fmt(r.metrics.pgBossClaimsPerS)})`,
    })),
  });
}

main().catch((error: unknown) => {
  progress(`failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
