/**
 * `npm run bench`: every benchmark scenario of issue 10, one after the other, each in a child process of its
 * own, then ONE table of the figures that matter (scenario, figure, value, what it is compared with), written
 * with the machine and each scenario's load averages to bench/results/bench-<date>.md and .json (the scenarios'
 * own reports go to bench/results/bench-<date>/).
 *
 *   S1 overhead (bench/overhead-bench.ts, when present), S2 concurrency, S4 faults, S5 the seed's batch model
 *   (one script: bench/concurrency-bench.ts), S7 memory at 2,000 in flight (bench/memory-bench.ts), S3 reads
 *   and notice lag (bench/watch-bench.ts), S6 pickup (bench/pickup-bench.ts), claim (bench/claim-bench.ts),
 *   start (bench/start-bench.ts, one start per case).
 *
 * Env: BENCH_ONLY=S2,S5 runs a subset (ids above, any case); BENCH_QUICK=1 shrinks every scenario to a smoke
 * test (its figures mean nothing); BENCH_RESULTS_DIR writes elsewhere than bench/results. A scenario's own
 * variables (BENCH_TASKS, ...) pass through; where run-all sets one for a scenario, a value in the environment
 * wins. S2-S5 and start run the built daemon (`npm run bench` builds first when sources changed).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import {
  describeMachine,
  loadNow,
  resultsDir,
  today,
  type ScenarioResult,
  writeJson,
  type SummaryFigure,
} from './scenario-report.js';

interface Scenario {
  /** Ids BENCH_ONLY selects it by (a script that serves several scenarios lists them all). */
  ids: string[];
  name: string;
  script: string;
  /** JSON results it writes, by name (`<name>-<date>.json`), per id. */
  json: Record<string, string>;
  /** Environment run-all sets for it, and in quick mode. */
  env?: Record<string, string>;
  quickEnv: Record<string, string>;
  /** Cannot run without these. */
  needs: Array<'database' | 'dist'>;
  /** The variable by which the script takes the path prefix of its results (when it does not read BENCH_RESULTS_DIR). */
  outPrefixEnv?: string;
}

const SCENARIOS: Scenario[] = [
  {
    ids: ['S1'],
    name: 'S1 overhead',
    script: 'bench/overhead-bench.ts',
    json: { S1: 'overhead' },
    quickEnv: { BENCH_TASKS: '100' },
    needs: ['database', 'dist'],
    outPrefixEnv: 'BENCH_OUT',
  },
  {
    ids: ['S2', 'S4', 'S5'],
    name: 'S2 concurrency, S4 faults, S5 seed batch model',
    script: 'bench/concurrency-bench.ts',
    json: { S2: 's2-concurrency', S4: 's4-faults', S5: 's5-seed-batch' },
    quickEnv: {},
    needs: ['database', 'dist'],
  },
  {
    ids: ['S7'],
    name: 'S7 memory at 2,000 in flight',
    script: 'bench/memory-bench.ts',
    json: { S7: 's7-memory' },
    quickEnv: {},
    needs: ['database', 'dist'],
  },
  {
    ids: ['S3'],
    name: 'S3 reads and notice lag',
    script: 'bench/watch-bench.ts',
    json: { S3: 's3-watch' },
    quickEnv: { BENCH_RUNS: '100', BENCH_RUN_S: '3', BENCH_GRACE_S: '3' },
    needs: [],
  },
  {
    ids: ['S6'],
    name: 'S6 pickup',
    script: 'bench/pickup-bench.ts',
    json: { S6: 's6-pickup' },
    quickEnv: { BENCH_TASKS: '4', BENCH_POLL_MS: '400' },
    needs: ['database'],
  },
  {
    ids: ['CLAIM'],
    name: 'claim',
    script: 'bench/claim-bench.ts',
    json: { CLAIM: 'claim' },
    quickEnv: { BENCH_TASKS: '100', BENCH_REPEATS: '1' },
    needs: ['database'],
  },
  {
    ids: ['START'],
    name: 'start',
    script: 'bench/start-bench.ts',
    json: { START: 'start' },
    // One start per case and a short idle keep it near a minute (its own default is 9 minutes).
    env: { BENCH_REPEATS: '1', BENCH_IDLE_S: '15' },
    quickEnv: { BENCH_IDLE_S: '1' },
    needs: ['dist'],
  },
];

interface ScenarioRun {
  ids: string[];
  name: string;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  seconds: number;
  load: { start: number[]; end: number[] };
  results: ScenarioResult[];
}

interface TableRow extends SummaryFigure {
  scenario: string;
  load: string;
}

const progress = (message: string) => console.error(`[bench] ${message}`);

function selection(): Set<string> | undefined {
  const raw = process.env.BENCH_ONLY?.trim();
  if (!raw) return undefined;
  const known = SCENARIOS.flatMap((s) => s.ids);
  const wanted = raw.split(',').map((id) => id.trim().toUpperCase());
  const unknown = wanted.filter((id) => !known.includes(id));
  if (unknown.length > 0) {
    throw new Error(`BENCH_ONLY names unknown scenarios: ${unknown.join(', ')} (known: ${known.join(', ')})`);
  }
  return new Set(wanted);
}

/** Run a script as a child; its report (stdout) and progress (stderr) go to our stderr. */
function runScript(script: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--loader', 'ts-node/esm', '--no-warnings', script], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.pipe(process.stderr, { end: false });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** A result written by this run (not an older file of the same day). */
function readResult(file: string, since: number): ScenarioResult | undefined {
  if (!existsSync(file) || statSync(file).mtimeMs < since) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as ScenarioResult;
}

/**
 * Each scenario writes its own reports into bench-<date>/ beside the run's table, so a run of everything leaves
 * the dated reports of single benchmarks (quoted in BENCHMARKS.md) as they were. S1 may write to bench/results
 * whatever it is told; it is looked for there too.
 */
const runDay = today();
const scenarioDir = path.join(resultsDir(), `bench-${runDay}`);

async function runScenario(scenario: Scenario, ids: string[], quick: boolean): Promise<ScenarioRun> {
  const started = Date.now();
  const loadStart = loadNow();
  const done = (status: ScenarioRun['status'], results: ScenarioResult[], reason?: string): ScenarioRun => ({
    ids,
    name: scenario.name,
    status,
    ...(reason ? { reason } : {}),
    seconds: Math.round((Date.now() - started) / 1000),
    load: { start: loadStart, end: loadNow() },
    results,
  });
  if (!existsSync(scenario.script)) return done('skipped', [], `not present (${scenario.script} is not in this tree)`);
  if (scenario.needs.includes('database') && !process.env.DATABASE_URL) {
    return done('skipped', [], 'DATABASE_URL is not set');
  }
  if (scenario.needs.includes('dist') && !existsSync('dist/src/main.js')) {
    return done('skipped', [], 'dist/src/main.js is missing: run `npm run build` (npm run bench does)');
  }
  const own = { ...(scenario.env ?? {}), ...(quick ? scenario.quickEnv : {}) };
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_RESULTS_DIR: scenarioDir };
  for (const [key, value] of Object.entries(own)) env[key] ??= value;
  if (scenario.ids.length > 1) env.BENCH_CASES = ids.join(',');
  if (scenario.outPrefixEnv) {
    env[scenario.outPrefixEnv] ??= path.join(scenarioDir, `${Object.values(scenario.json)[0] ?? 'results'}-${runDay}`);
  }
  progress(`${scenario.name}: ${scenario.script} (load ${loadStart.join(' ')})`);
  const code = await runScript(scenario.script, env);
  const results: ScenarioResult[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const name = scenario.json[id] ?? id.toLowerCase();
    // Dates on both sides of a midnight the scenario ran across.
    const files = [...new Set([today(), new Date(started).toISOString().slice(0, 10)])].flatMap((day) => [
      path.join(scenarioDir, `${name}-${day}.json`),
      path.resolve('bench/results', `${name}-${day}.json`),
    ]);
    const found = files.map((f) => readResult(f, started)).find((r) => r !== undefined);
    if (found) results.push(found);
    else missing.push(`${name}-<date>.json`);
  }
  if (code !== 0) return done('failed', results, `exited with ${code}`);
  if (missing.length > 0) return done('failed', results, `wrote no ${missing.join(', ')}`);
  return done('ok', results);
}

/** The figures a result shows in the one table: its summary, else every metric of every row. */
function figuresOf(result: ScenarioResult): SummaryFigure[] {
  if (result.summary && result.summary.length > 0) return result.summary;
  return result.rows.flatMap((row) =>
    Object.entries(row.metrics).map(([metric, value]) => ({
      figure: `${row.label}: ${metric}`,
      value: String(value),
      comparison: '',
    })),
  );
}

/** The 1-minute load average of a result, whether it gave all three or only that one. */
function oneMinute(load: unknown): string {
  const value: unknown = Array.isArray(load) ? load[0] : load;
  return typeof value === 'number' ? String(value) : '-';
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function renderTable(rows: TableRow[]): string {
  return [
    '| scenario | figure | value | comparison / ratio (same run) | load 1 min start → end |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) => `| ${cell(r.scenario)} | ${cell(r.figure)} | ${cell(r.value)} | ${cell(r.comparison)} | ${r.load} |`,
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const only = selection();
  const quick = process.env.BENCH_QUICK === '1';
  const machine = describeMachine();
  const startedAt = new Date();
  const runs: ScenarioRun[] = [];
  for (const scenario of SCENARIOS) {
    const ids = scenario.ids.filter((id) => !only || only.has(id));
    if (ids.length === 0) continue;
    const run = await runScenario(scenario, ids, quick);
    progress(`${scenario.name}: ${run.status}${run.reason ? ` (${run.reason})` : ''} in ${run.seconds} s`);
    runs.push(run);
  }
  const table: TableRow[] = runs.flatMap((run) => {
    if (run.status === 'skipped' || run.results.length === 0) {
      return [
        {
          scenario: run.ids.join(', '),
          figure: run.status,
          value: '-',
          comparison: run.reason ?? '',
          load: `${run.load.start[0]} → ${run.load.end[0]}`,
        },
      ];
    }
    return run.results.flatMap((result) =>
      figuresOf(result).map((f) => ({
        scenario: result.scenario,
        ...f,
        load: `${oneMinute(result.load?.start)} → ${oneMinute(result.load?.end)}`,
      })),
    );
  });
  const title = `npm run bench, ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC${quick ? ' (BENCH_QUICK: smoke test, figures meaningless)' : ''}`;
  const notes = runs
    .filter((r) => r.status !== 'ok')
    .map((r) => `- ${r.name}: ${r.status}${r.reason ? `, ${r.reason}` : ''}`);
  const md = [
    `## ${title}`,
    '',
    `${machine.cpus} × ${machine.model}, ${machine.memoryGb} GB, Node ${machine.node}. Each scenario ran alone, in its own process, one after the other; load averages (1 min) at its start and end.`,
    '',
    renderTable(table),
    '',
    ...runs.map(
      (r) =>
        `- ${r.name}: ${r.status}, ${r.seconds} s, load ${r.load.start.join(' ')} → ${r.load.end.join(' ')}${r.reason ? `; ${r.reason}` : ''}`,
    ),
    '',
  ].join('\n');
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  // Named by the day the run started, as its scenarios' folder is (a run may cross midnight).
  const mdFile = path.join(dir, `bench-${runDay}.md`);
  const report = await format(md, { ...(await resolveConfig(mdFile)), parser: 'markdown' });
  writeFileSync(mdFile, report);
  const jsonFile = path.join(dir, `bench-${runDay}.json`);
  const summary = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    quick,
    machine,
    scenarios: runs,
    table: table.map(({ scenario, figure, value, comparison, load }) => ({
      scenario,
      figure,
      value,
      comparison,
      load,
    })),
  };
  await writeJson(jsonFile, summary);
  console.log(report);
  if (notes.length > 0) progress(`not all ran:\n${notes.join('\n')}`);
  progress(`written: ${mdFile}, ${jsonFile}`);
  if (runs.some((r) => r.status === 'failed')) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
