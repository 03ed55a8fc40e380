/**
 * Throughput benchmarks of issue 10 on one workload (bench/workload.ts), all in one run so each comparison is
 * measured beside its baseline:
 *
 * - S2 concurrency: the built daemon on PostgreSQL, BENCH_IN_FLIGHT (200) tasks in flight, BENCH_TASKS (2,000)
 *   agent runs of log-normal length (median BENCH_RUN_MEDIAN_MS = 1 s, p99 BENCH_RUN_P99_MS = 10 s), budgets
 *   lifted: throughput over the Little's-law bound (in flight / mean run time actually served), and the gap per
 *   task split into claim to run created, run end to noticed, and noticed to completed.
 * - S4 faults: the same with BENCH_FAULT_RATE (10 %) of the requests to Codegen and GitHub answered with a
 *   transient fault: completed share, lost tasks, duplicated runs and PRs, time over S2's.
 * - S5 the seed's batch model (bench/seed-batch-model.ts) on S2's workload: our throughput over its throughput.
 *
 * S2 always runs (S4 and S5 are compared with it), then S5 (closest in time to S2, as load on a shared machine
 * drifts), then S4. BENCH_CASES=S2,S4,S5 picks cases; BENCH_QUICK=1 shrinks the
 * workload for a smoke test. Needs `npm run build` (the daemon runs from dist/) and DATABASE_URL.
 *
 * Run: npm run bench:concurrency
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import {
  describeMachine,
  fmt,
  loadNow,
  resultsDir,
  today,
  writeScenarioJson,
  type ScenarioResult,
  envNumber,
} from './scenario-report.js';
import { logNormalDurations, runWorkload, type TaskTimes, type WorkloadResult } from './workload.js';

const env = process.env;
const DATABASE_URL = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TASKS = envNumber('BENCH_TASKS', 2000, 60);
const IN_FLIGHT = envNumber('BENCH_IN_FLIGHT', 200, 20);
const MEDIAN_MS = envNumber('BENCH_RUN_MEDIAN_MS', 1000, 200);
const P99_MS = envNumber('BENCH_RUN_P99_MS', 10_000, 1000);
const WATCH_MS = envNumber('BENCH_WATCH_MS', 200, 200);
const SEED_RUN_POLL_MS = envNumber('BENCH_SEED_RUN_POLL_MS', 500, 200);
const POLL_MS = envNumber('BENCH_POLL_MS', 1000, 500);
const FAULT_RATE = envNumber('BENCH_FAULT_RATE', 0.1, 0.1);
const TIMEOUT_S = envNumber('BENCH_TIMEOUT_S', 600, 120);
const SEED = envNumber('BENCH_SEED', 10, 10);
const CASES = new Set((env.BENCH_CASES ?? 'S2,S4,S5').split(',').map((c) => c.trim().toUpperCase()));
const progress = (message: string) => console.error(`[concurrency-bench] ${message}`);

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
const gaps = (tasks: TaskTimes[], from: keyof TaskTimes, to: keyof TaskTimes): number[] =>
  tasks.flatMap((t) => {
    const a = t[from];
    const b = t[to];
    return typeof a === 'number' && typeof b === 'number' ? [b - a] : [];
  });

interface Figures {
  completed: number;
  /** Completions between the 10th and 90th percentile completion, per second (ramp-up and drain left out). */
  steadyPerS: number;
  /** Completed tasks over the time from the first claim to the last completion. */
  overallPerS: number;
  meanRunMs: number;
  boundPerS: number;
  claimToCreateMs: number;
  noticeLagMs: number;
  finishMs: number;
  holdingMs: number;
  /** Tasks held on average in the steady part (throughput × holding time): how full the slots were. */
  heldMean: number;
  cpuMsPerTask: number;
  githubWritesPerTask: number;
  /** Mean time between two GitHub writes reaching the fake in the steady part: one write's turn in the queue. */
  githubWriteSpacingMs: number;
}

function figures(result: WorkloadResult, inFlight: number): Figures {
  const done = result.tasks.filter((t) => t.status === 'completed' && t.completedAt !== undefined);
  const ends = done.map((t) => t.completedAt as number).sort((a, b) => a - b);
  const lo = Math.floor(ends.length * 0.1);
  const hi = Math.max(lo + 1, Math.floor(ends.length * 0.9));
  const spanS = ((ends[hi] ?? 0) - (ends[lo] ?? 0)) / 1000;
  const steadyPerS = spanS > 0 ? (hi - lo) / spanS : Number.NaN;
  const meanRunMs = mean(gaps(result.tasks, 'runCreatedAt', 'runEndedAt'));
  const holdingMs = mean(gaps(done, 'claimedAt', 'completedAt'));
  const from = ends[lo] ?? 0;
  const to = ends[hi] ?? 0;
  const writes = result.githubWriteTimes.filter((at) => at >= from && at <= to).sort((a, b) => a - b);
  return {
    completed: done.length,
    steadyPerS,
    overallPerS: done.length / (result.makespanMs / 1000),
    meanRunMs,
    boundPerS: inFlight / (meanRunMs / 1000),
    claimToCreateMs: mean(gaps(done, 'claimedAt', 'runCreatedAt')),
    noticeLagMs: mean(gaps(done, 'runEndedAt', 'noticedAt')),
    finishMs: mean(gaps(done, 'noticedAt', 'completedAt')),
    holdingMs,
    heldMean: steadyPerS * (holdingMs / 1000),
    cpuMsPerTask: result.workerCpuMs / Math.max(1, done.length),
    githubWritesPerTask: result.githubWriteTimes.length / Math.max(1, done.length),
    githubWriteSpacingMs:
      writes.length > 1 ? ((writes.at(-1) ?? 0) - (writes[0] ?? 0)) / (writes.length - 1) : Number.NaN,
  };
}

/** The error codes of the tasks that did not complete, counted: " (step-timeout × 1)". */
function failures(result: WorkloadResult): string {
  const counts = new Map<string, number>();
  for (const t of result.tasks) {
    if (t.status !== 'completed') counts.set(t.errorCode ?? t.status, (counts.get(t.errorCode ?? t.status) ?? 0) + 1);
  }
  return counts.size === 0 ? '' : ` (${[...counts].map(([code, n]) => `${code} × ${n}`).join(', ')})`;
}

function rowOf(result: WorkloadResult, f: Figures): ScenarioResult['rows'][number] {
  const extra = result.tasks.reduce(
    (acc, t) => ({ runs: acc.runs + Math.max(0, t.runs - 1), prs: acc.prs + Math.max(0, t.prs - 1) }),
    { runs: 0, prs: 0 },
  );
  const terminal = result.tasks.filter((t) => ['completed', 'failed', 'cancelled'].includes(t.status)).length;
  return {
    label: result.label,
    metrics: {
      tasks: result.tasks.length,
      inFlight: IN_FLIGHT,
      completed: f.completed,
      failed: result.tasks.filter((t) => t.status === 'failed').length,
      lost: result.tasks.length - terminal,
      duplicateRuns: extra.runs,
      duplicatePrs: extra.prs,
      makespanS: Number((result.makespanMs / 1000).toFixed(2)),
      timedOut: result.timedOut ? 'yes' : 'no',
      steadyTasksPerS: Number(f.steadyPerS.toFixed(2)),
      overallTasksPerS: Number(f.overallPerS.toFixed(2)),
      meanRunMs: Math.round(f.meanRunMs),
      littleBoundPerS: Number(f.boundPerS.toFixed(1)),
      steadyOverBound: Number((f.steadyPerS / f.boundPerS).toFixed(3)),
      claimToCreateMs: Math.round(f.claimToCreateMs),
      noticeLagMs: Math.round(f.noticeLagMs),
      finishMs: Math.round(f.finishMs),
      holdingMs: Math.round(f.holdingMs),
      noticeShareOfHolding: Number((f.noticeLagMs / f.holdingMs).toFixed(4)),
      meanTasksHeld: Number(f.heldMean.toFixed(1)),
      workerCpuMsPerTask: Number(f.cpuMsPerTask.toFixed(1)),
      workerPeakRssMb: Math.round(result.workerPeakRssMb),
      githubWritesPerTask: Number(f.githubWritesPerTask.toFixed(2)),
      githubWriteSpacingMs: Number(f.githubWriteSpacingMs.toFixed(2)),
      fakesCpuMsPerTask: Number((result.fakesCpuMs / Math.max(1, f.completed)).toFixed(1)),
      faultsInjected: result.faultsInjected,
      codegenRequests: result.requests.codegen,
      githubRequests: result.requests.github,
    },
  };
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const durationsMs = logNormalDurations(TASKS, MEDIAN_MS, P99_MS, SEED);
  const base = { tasks: TASKS, inFlight: IN_FLIGHT, durationsMs, databaseUrl: DATABASE_URL, pollMs: POLL_MS };
  const common = { ...base, watchMs: WATCH_MS, timeoutS: TIMEOUT_S, progress };
  progress(
    `${TASKS} tasks, ${IN_FLIGHT} in flight, runs log-normal (median ${MEDIAN_MS} ms, p99 ${P99_MS} ms); load ${loadNow().join(' ')}`,
  );
  const ours = await runWorkload({ ...common, label: 'codegen-pr daemon', driver: 'daemon' });
  const s2 = figures(ours, IN_FLIGHT);
  const s2Row = rowOf(ours, s2);
  const written: string[] = [];
  const md: string[] = [`## Throughput on one workload (${today()})`, ''];
  const workload = `${TASKS} tasks, ${IN_FLIGHT} in flight, agent runs log-normal with median ${MEDIAN_MS} ms and p99 ${P99_MS} ms (seed ${SEED}), budgets lifted, PostgreSQL store, run states read every ${WATCH_MS} ms, queue polled every ${POLL_MS} ms`;
  md.push(
    `${workload}. ${machine.cpus} × ${machine.model}, ${machine.memoryGb} GB, Node ${machine.node}.`,
    '',
    '| case | load start | load end | completed | tasks/s (steady) | tasks/s (overall) | mean run (ms) | bound (tasks/s) | steady / bound | claim→create (ms) | notice lag (ms) | finish (ms) | holding (ms) | tasks held | CPU ms/task | peak RSS (MB) | fakes CPU ms/task | GitHub writes/task × spacing (ms) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  const mdRow = (r: WorkloadResult, f: Figures) =>
    `| ${r.label} | ${fmt(r.load.start[0], 2)} | ${fmt(r.load.end[0], 2)} | ${f.completed}/${r.tasks.length} | ${fmt(f.steadyPerS, 1)} | ${fmt(f.overallPerS, 1)} | ${fmt(f.meanRunMs)} | ${fmt(f.boundPerS, 1)} | ${fmt(f.steadyPerS / f.boundPerS, 3)} | ${fmt(f.claimToCreateMs)} | ${fmt(f.noticeLagMs)} | ${fmt(f.finishMs)} | ${fmt(f.holdingMs)} | ${fmt(f.heldMean, 1)} | ${fmt(f.cpuMsPerTask, 1)} | ${fmt(r.workerPeakRssMb)} | ${fmt(r.fakesCpuMs / Math.max(1, f.completed), 1)} | ${fmt(f.githubWritesPerTask, 1)} × ${fmt(f.githubWriteSpacingMs, 1)} |`;
  md.push(mdRow(ours, s2));

  if (CASES.has('S2')) {
    written.push(
      await writeScenarioJson('s2-concurrency', {
        scenario: 'S2',
        title: `concurrency: ${workload}`,
        machine,
        load: ours.load,
        rows: [s2Row],
        summary: [
          {
            figure: 'throughput / Little bound',
            value: `${fmt(s2.steadyPerS, 1)} tasks/s`,
            comparison: `${fmt(s2.steadyPerS / s2.boundPerS, 3)} of ${fmt(s2.boundPerS, 1)} (${IN_FLIGHT} / ${fmt(s2.meanRunMs)} ms)`,
          },
          {
            figure: 'gap per task',
            value: `${fmt(s2.claimToCreateMs)} + ${fmt(s2.noticeLagMs)} + ${fmt(s2.finishMs)} ms`,
            comparison: 'claim→create + run end→noticed + noticed→completed',
          },
          {
            figure: 'notice lag share of holding',
            value: fmt(s2.noticeLagMs / s2.holdingMs, 3),
            comparison: `${fmt(s2.noticeLagMs)} of ${fmt(s2.holdingMs)} ms (goal < 0.05)`,
          },
          {
            figure: 'GitHub writes per task × spacing',
            value: `${fmt(s2.githubWritesPerTask, 1)} × ${fmt(s2.githubWriteSpacingMs, 1)} ms`,
            comparison: 'mean gap between two writes reaching the fake (GitHub spacing 0 here, so writes may overlap)',
          },
          {
            figure: 'daemon CPU per task, peak RSS',
            value: `${fmt(s2.cpuMsPerTask, 1)} ms, ${fmt(ours.workerPeakRssMb)} MB`,
            comparison: 'whole process, start-up included',
          },
        ],
      }),
    );
  }

  if (CASES.has('S5')) {
    progress('S5: the seed batch model');
    const seed = await runWorkload({
      ...common,
      watchMs: SEED_RUN_POLL_MS,
      label: `seed batch model (batch ${IN_FLIGHT})`,
      driver: 'seed-batch',
    });
    const f = figures(seed, IN_FLIGHT);
    md.push(mdRow(seed, f));
    written.push(
      await writeScenarioJson('s5-seed-batch', {
        scenario: 'S5',
        title: `the seed's batch model on S2's workload (batch ${IN_FLIGHT}, each run polled every ${SEED_RUN_POLL_MS} ms, ${POLL_MS} ms sleep after each batch)`,
        machine,
        load: seed.load,
        rows: [rowOf(seed, f), { ...s2Row, label: `${s2Row.label} (S2, same run)` }],
        summary: [
          {
            figure: 'ours / seed batch model',
            value: fmt(s2.overallPerS / f.overallPerS, 2),
            comparison: `${fmt(s2.overallPerS, 1)} vs ${fmt(f.overallPerS, 1)} tasks/s (first claim to last completion)`,
          },
        ],
      }),
    );
  }

  if (CASES.has('S4')) {
    progress(`S4: the same with ${FAULT_RATE * 100} % faults`);
    const faulty = await runWorkload({
      ...common,
      label: `codegen-pr daemon, ${FAULT_RATE * 100} % faults`,
      driver: 'daemon',
      faultRate: FAULT_RATE,
    });
    const f = figures(faulty, IN_FLIGHT);
    const row = rowOf(faulty, f);
    md.push(mdRow(faulty, f));
    const m = row.metrics;
    written.push(
      await writeScenarioJson('s4-faults', {
        scenario: 'S4',
        title: `faults: S2's workload with ${FAULT_RATE * 100} % of Codegen and GitHub requests failing transiently`,
        machine,
        load: faulty.load,
        rows: [row, { ...s2Row, label: `${s2Row.label} (S2, same run)` }],
        summary: [
          {
            figure: 'completed share',
            value: fmt(f.completed / TASKS, 4),
            comparison: `${f.completed}/${TASKS}; failed ${m.failed}${failures(faulty)}, lost ${m.lost}`,
          },
          {
            figure: 'duplicated runs / PRs',
            value: `${m.duplicateRuns} / ${m.duplicatePrs}`,
            comparison: `${faulty.faultsInjected} faults injected`,
          },
          {
            figure: 'time over S2',
            value: fmt(faulty.makespanMs / ours.makespanMs, 2),
            comparison: `${fmt(faulty.makespanMs / 1000, 1)} s vs ${fmt(ours.makespanMs / 1000, 1)} s`,
          },
        ],
      }),
    );
  }

  md.push(
    '',
    'Steady: completions between the 10th and 90th percentile completion, per second. Bound: in flight / mean run time served. Holding: claim to completed. Tasks held: steady throughput × holding time. CPU and RSS: the worker process (daemon or seed model), start-up included; fakes CPU: this process (both fakes, the fault proxies, the harness). GitHub write spacing: mean time between two writes reaching the fake in the steady part.',
    '',
  );
  mkdirSync(resultsDir(), { recursive: true });
  const file = path.join(resultsDir(), `concurrency-${today()}.md`);
  const report = await format(md.join('\n'), { ...(await resolveConfig(file)), parser: 'markdown' });
  writeFileSync(file, report);
  console.log(report);
  progress(`written: ${[file, ...written].join(', ')}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
