/**
 * S7 memory: the built daemon on PostgreSQL with BENCH_IN_FLIGHT (2,000) tasks in flight, on S2's harness
 * (bench/workload.ts): BENCH_TASKS (4,000) agent runs of log-normal length (median BENCH_RUN_MEDIAN_MS = 20 s,
 * p99 BENCH_RUN_P99_MS = 40 s, long enough that every slot holds a waiting run for a while), budgets lifted.
 * Reports the daemon's peak RSS (VmHWM, start-up included), its peak V8 heap (from its /metrics), both with the
 * most runs in flight, and its CPU per task.
 *
 * The first case runs the daemon with Node's defaults; by default a second one runs it with the V8 options that
 * npm start and the container use (a cap on the old space), so the setting's memory gain and CPU cost are
 * measured side by side. Other settings instead: BENCH_COMPARE_ENV, NAME=value pairs separated by ';' and cases
 * by '|' ('NODE_OPTIONS=--max-semi-space-size=8;MALLOC_ARENA_MAX=2|MALLOC_ARENA_MAX=1'; empty: no second case),
 * and BENCH_COMPARE_NODE_ARGS, node options put before the script for V8 flags NODE_OPTIONS refuses
 * ('--heap-growing-percent=50'). BENCH_HEAP_SNAPSHOT=1 makes the daemon write a heap snapshot into the working
 * directory once the count of running runs has not risen for 3 s and again when the queue has drained; the
 * snapshots inflate RSS, so such a run is for reading where memory goes, not for its figures.
 * BENCH_QUICK=1 shrinks it to a smoke test.
 *
 * Run: npm run bench:memory
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  describeMachine,
  fmt,
  loadNow,
  resultsDir,
  today,
  writeMarkdownReport,
  writeScenarioJson,
  type ScenarioResult,
  envNumber,
} from './scenario-report.js';
import { logNormalDurations, runWorkload, type WorkloadResult } from './workload.js';

const env = process.env;
const DATABASE_URL = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TASKS = envNumber('BENCH_TASKS', 4000, 60);
const IN_FLIGHT = envNumber('BENCH_IN_FLIGHT', 2000, 30);
const MEDIAN_MS = envNumber('BENCH_RUN_MEDIAN_MS', 20_000, 500);
const P99_MS = envNumber('BENCH_RUN_P99_MS', 40_000, 1000);
const WATCH_MS = envNumber('BENCH_WATCH_MS', 200, 200);
const POLL_MS = envNumber('BENCH_POLL_MS', 1000, 500);
const TIMEOUT_S = envNumber('BENCH_TIMEOUT_S', 600, 120);
const SEED = envNumber('BENCH_SEED', 10, 10);
const progress = (message: string) => console.error(`[memory-bench] ${message}`);

/**
 * The V8 options npm start and the image run the daemon with (package.json's start script, which
 * test/deploy/container.test.ts keeps equal to the Dockerfile's NODE_OPTIONS), as BENCH_COMPARE_ENV: by default the
 * second case is the daemon as shipped, the first Node's defaults.
 */
function shippedNodeOptions(): string {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts?: Record<string, string> };
  const flags = (pkg.scripts?.start ?? '').split(/\s+/).filter((word) => word.startsWith('--'));
  return flags.length > 0 ? `NODE_OPTIONS=${flags.join(' ')}` : '';
}

/** 'A=1;B=two words' as an environment. */
function parseEnv(raw: string | undefined): Record<string, string> | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const out: Record<string, string> = {};
  // NAME=value pairs separated by ';' so that a value (NODE_OPTIONS) may hold spaces.
  for (const pair of raw.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`BENCH_COMPARE_ENV: "${pair}" is not NAME=value (pairs separated by ';')`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

interface Figures {
  label: string;
  completed: number;
  makespanS: number;
  cpuMsPerTask: number;
  peakRssMb: number;
  peakHeapUsedMb: number;
  peakHeapTotalMb: number;
  atFullRssMb: number | null;
  atFullHeapUsedMb: number | null;
  atFullExternalMb: number | null;
  atFullRuns: number | null;
  loadStart: number;
  loadEnd: number;
}

function figures(r: WorkloadResult): Figures {
  const completed = r.tasks.filter((t) => t.status === 'completed').length;
  const full = r.memory.atFull;
  return {
    label: r.label,
    completed,
    makespanS: Number((r.makespanMs / 1000).toFixed(1)),
    cpuMsPerTask: Number((r.workerCpuMs / Math.max(1, completed)).toFixed(2)),
    peakRssMb: Math.round(r.workerPeakRssMb),
    peakHeapUsedMb: Math.round(r.memory.peakHeapUsedMb),
    peakHeapTotalMb: Math.round(r.memory.peakHeapTotalMb),
    atFullRssMb: full ? Math.round(full.rssMb) : null,
    atFullHeapUsedMb: full ? Math.round(full.heapUsedMb) : null,
    atFullExternalMb: full ? Math.round(full.externalMb) : null,
    atFullRuns: full ? full.runsInFlight : null,
    loadStart: r.load.start[0] ?? 0,
    loadEnd: r.load.end[0] ?? 0,
  };
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const durationsMs = logNormalDurations(TASKS, MEDIAN_MS, P99_MS, SEED);
  const compareEnvs = (env.BENCH_COMPARE_ENV ?? shippedNodeOptions())
    .split('|')
    .map(parseEnv)
    .filter((e): e is Record<string, string> => e !== undefined);
  const compareArgs = (env.BENCH_COMPARE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const cases: Array<{ env?: Record<string, string>; args?: string[] }> = [
    ...compareEnvs.map((e) => ({ env: e })),
    ...(compareArgs.length > 0 ? [{ args: compareArgs }] : []),
  ];
  const snapshot = env.BENCH_HEAP_SNAPSHOT === '1';
  const common = {
    driver: 'daemon' as const,
    tasks: TASKS,
    inFlight: IN_FLIGHT,
    durationsMs,
    databaseUrl: DATABASE_URL,
    pollMs: POLL_MS,
    watchMs: WATCH_MS,
    timeoutS: TIMEOUT_S,
    progress,
    ...(snapshot
      ? { snapshotSignal: 'SIGUSR2' as const, extraEnv: { NODE_OPTIONS: '--heapsnapshot-signal=SIGUSR2' } }
      : {}),
  };
  progress(
    `${TASKS} tasks, ${IN_FLIGHT} in flight, runs log-normal (median ${MEDIAN_MS} ms, p99 ${P99_MS} ms); load ${loadNow().join(' ')}`,
  );
  const results = [await runWorkload({ ...common, label: 'codegen-pr daemon' })];
  for (const c of cases) {
    const shown = [...(c.args ?? []), ...Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`)].join(' ');
    progress(`the same with ${shown}`);
    const extraEnv = { ...common.extraEnv, ...c.env };
    results.push(
      await runWorkload({ ...common, label: `codegen-pr daemon, ${shown}`, extraEnv, nodeArgs: c.args ?? [] }),
    );
  }
  const rows = results.map(figures);
  const [base, ...others] = rows;
  if (!base) throw new Error('no case ran');
  const workload = `${TASKS} tasks, ${IN_FLIGHT} in flight, agent runs log-normal with median ${MEDIAN_MS} ms and p99 ${P99_MS} ms (seed ${SEED}), budgets lifted, PostgreSQL store`;
  const result: ScenarioResult = {
    scenario: 'S7',
    title: `memory: the daemon with ${workload}${snapshot ? ' (heap snapshots taken: RSS inflated)' : ''}`,
    machine,
    load: { start: results[0]?.load.start ?? [], end: results.at(-1)?.load.end ?? [] },
    rows: rows.map(({ label, ...metrics }) => ({ label, metrics: { inFlight: IN_FLIGHT, ...metrics } })),
    summary: [
      {
        figure: `peak RSS, ${IN_FLIGHT} in flight`,
        value: `${fmt(base.peakRssMb)} MB`,
        comparison: `VmHWM, start-up included; ${fmt(base.atFullRssMb ?? undefined)} MB with ${fmt(base.atFullRuns ?? undefined)} runs in flight (goal <= 200 MB at 2,000)`,
      },
      {
        figure: `peak heap used, ${IN_FLIGHT} in flight`,
        value: `${fmt(base.peakHeapUsedMb)} MB`,
        comparison: `heap total ${fmt(base.peakHeapTotalMb)} MB; ${fmt(base.atFullHeapUsedMb ?? undefined)} MB used with ${fmt(base.atFullRuns ?? undefined)} runs in flight, sampled about once a second`,
      },
      ...others.map((other) => ({
        figure: `${other.label.replace('codegen-pr daemon, ', '')}: peak RSS, CPU per task`,
        value: `${fmt(other.peakRssMb)} MB, ${fmt(other.cpuMsPerTask, 2)} ms`,
        comparison: `${fmt(other.peakRssMb / base.peakRssMb, 2)}× RSS, ${fmt(other.cpuMsPerTask / base.cpuMsPerTask, 2)}× CPU of the first case (${fmt(base.peakRssMb)} MB, ${fmt(base.cpuMsPerTask, 2)} ms), same run`,
      })),
    ],
  };
  const json = await writeScenarioJson('s7-memory', result);
  const md = [
    `## Memory at ${IN_FLIGHT} in flight (${today()})`,
    '',
    `${workload}. ${machine.cpus} × ${machine.model}, ${machine.memoryGb} GB, Node ${machine.node}.`,
    '',
    '| case | load start → end | completed | makespan (s) | CPU ms/task | peak RSS (MB) | RSS at full (MB) | peak heap used (MB) | peak heap total (MB) | heap used at full (MB) | external at full (MB) | runs at full |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${fmt(r.loadStart, 2)} → ${fmt(r.loadEnd, 2)} | ${r.completed}/${TASKS} | ${fmt(r.makespanS, 1)} | ${fmt(r.cpuMsPerTask, 2)} | ${r.peakRssMb} | ${r.atFullRssMb ?? '-'} | ${r.peakHeapUsedMb} | ${r.peakHeapTotalMb} | ${r.atFullHeapUsedMb ?? '-'} | ${r.atFullExternalMb ?? '-'} | ${r.atFullRuns ?? '-'} |`,
    ),
    '',
    'Peak RSS: VmHWM of the daemon process, start-up included. Heap: the daemon’s /metrics (prom-client’s Node metrics), sampled about once a second, so a peak between two samples is missed. At full: the sample taken with the most agent runs in flight (runs at full). CPU: the daemon process, start-up included.',
    '',
  ].join('\n');
  await writeMarkdownReport('memory', md);
  progress(`written: ${path.join(resultsDir(), `memory-${today()}.md`)}, ${json}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
