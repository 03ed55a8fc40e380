/**
 * Overhead benchmark (issue 10's S1): what the daemon itself costs per task. BENCH_TASKS instant tasks go
 * through the built daemon (dist/src/main.js run, a child process of its own) against the Codegen and GitHub
 * fakes on loopback, which live in this process and answer at once: a run ends on its first look, with a PR
 * opened by the agent, so every task takes the whole pipeline (claim, run, wait, PR labels / assignees /
 * reviewers / body, report). Budgets and GitHub's write spacing are lifted through configuration.
 *
 * Measured from the daemon's `codegen-pr initialized` line to its last `task ... completed` line, from /proc:
 * the daemon's CPU (user + system, the fakes excluded because they run here), its peak resident memory (VmHWM
 * over the whole life, start included), tasks/s and the GitHub requests per task the fake answered.
 * Cases, in one run: PostgreSQL (a schema of its own, dropped at the end; skipped without DATABASE_URL) and the
 * embedded SQLite store in a fresh ./data.
 *
 * Writes bench/results/overhead-<date>.md and overhead-<date>.json ({ scenario: 'S1', machine, load, rows }).
 * Run: npm run build && npm run bench:overhead   (env: DATABASE_URL, BENCH_TASKS=2000, BENCH_CONCURRENCY=50,
 * BENCH_STORES=postgres,sqlite, BENCH_CPU_PROF=dir to write the daemon's --cpu-prof profiles there,
 * BENCH_BASELINE=path of another build's dist/src/main.js to run every case with as well, for before/after
 * ratios from one run (BENCH_BASELINE_NAME names it in the report), BENCH_REPEAT=runs of each case (medians
 * reported, with CPU per task's lowest and highest: on a shared machine one run can be off by a third), BENCH_MAIN=the build to measure (default dist/src/main.js), BENCH_OUT=path prefix of
 * the results files, BENCH_NODE_OPTIONS=NODE_OPTIONS for the daemon, e.g. `-r ./count-queries.cjs` to count what
 * it sends), BENCH_BASELINE_NODE_OPTIONS=the baseline's NODE_OPTIONS instead (BENCH_BASELINE may name the same build, to
 * compare Node settings: e.g. --max-old-space-size=512, as npm start and the image run the daemon). A task that is retried, fails or is handed back is counted and its first log lines are printed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { format, resolveConfig } from 'prettier';
import { openTaskStore } from '../src/adapters/open-store.js';
import { loadConfig } from '../src/config/load.js';
import { silentLogger } from '../src/observability/logger.js';
import { startCodegenFake, type CodegenFake } from '../test/fakes/codegen-fake.js';
import { startGitHubFake, type GitHubFake } from '../test/fakes/github-fake.js';
import { warmUpGitHub } from '../test/e2e/world.js';

const env = process.env;
const TASKS = Number(env.BENCH_TASKS ?? 2000);
const CONCURRENCY = Number(env.BENCH_CONCURRENCY ?? 50);
const STORES = (env.BENCH_STORES ?? 'postgres,sqlite').split(',').map((s) => s.trim());
const CPU_PROF = env.BENCH_CPU_PROF;
/** Runs of each case (alternating with the baseline's); the table gives each metric's median and CPU's spread. */
const REPEAT = Math.max(1, Math.floor(Number(env.BENCH_REPEAT ?? 1)));
const MAIN = path.resolve(env.BENCH_MAIN ?? 'dist/src/main.js');
/** Another build's main.js (e.g. an older commit's) to run each case with too, in the same run, for before/after. */
const BASELINE = env.BENCH_BASELINE ? path.resolve(env.BENCH_BASELINE) : undefined;
const REPO = 'acme/widgets';
const TICKS_PER_S = 100; // USER_HZ on Linux
const progress = (message: string) => console.error(`[overhead-bench] ${message}`);

/** CPU seconds (user + system) and memory of a process, from /proc (Linux). */
function sample(pid: number): { cpuS: number; sysS: number; rssMb: number; peakMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ')'; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  const sysS = Number(fields[12]) / TICKS_PER_S;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { cpuS, sysS, rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

interface CaseResult {
  label: string;
  metrics: Record<string, number>;
}

interface World {
  codegen: CodegenFake;
  github: GitHubFake;
  close(): Promise<void>;
}

async function startWorld(): Promise<World> {
  // Requests are checked against the contracts; the fakes' own answers are not (checked in the tests, and
  // checking them costs more CPU per task than the daemon spends, on the cores the daemon shares).
  const github = await startGitHubFake({ collaborators: ['alice', 'bob', 'carol'], checkResponses: false });
  const codegen = await startCodegenFake({
    checkResponses: false,
    repos: [{ id: 7, full_name: REPO }],
    pollsUntilDone: 0,
    onRunFinished: async (run) => {
      const [owner = '', repo = ''] = REPO.split('/');
      const branch = `codegen-bot/run-${run.id}`;
      github.createBranch(owner, repo, branch);
      const pr = github.openPullRequestAsAgent({ owner, repo, head: branch, title: `Codegen run ${run.id}` });
      return { url: pr.html_url, branch, title: `Codegen run ${run.id}` };
    },
  });
  await warmUpGitHub(github);
  // The fake compiles each operation's schemas on first use, blocking this process: touch the one the daemon
  // uses that warmUpGitHub does not (labels, assignees and body in one PATCH of the issue).
  const warm = github.openPullRequestAsAgent({ owner: 'acme', repo: 'widgets', head: 'warm-up-2', title: 'warm up' });
  await fetch(`${github.url}/repos/acme/widgets/issues/${warm.number}`, {
    method: 'PATCH',
    headers: { authorization: `token ${github.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ labels: ['warm-up'], assignees: ['alice'], body: 'warm up' }),
  }).then((r) => r.arrayBuffer());
  github.closePull('acme', 'widgets', warm.number);
  return {
    codegen,
    github,
    close: async () => {
      await codegen.close();
      await github.close();
    },
  };
}

/** The daemon's environment: the fakes, the PR policy, and every budget lifted. */
function daemonEnv(world: World, store: Record<string, string>, nodeOptions?: string): Record<string, string> {
  return {
    PATH: env.PATH ?? '',
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    CODEGEN_API_URL: world.codegen.url,
    CODEGEN_API_KEY: world.codegen.token,
    CODEGEN_ORG_ID: String(world.codegen.orgId),
    GITHUB_API_URL: world.github.url,
    GITHUB_TOKEN: world.github.token,
    GITHUB_REPOSITORY: REPO,
    PR_LABELS: 'codegen,automated',
    PR_REVIEWERS: 'alice,bob',
    PR_ASSIGNEES: 'carol',
    POLL_INTERVAL_MS: '200',
    BATCH_SIZE: String(CONCURRENCY),
    CONCURRENCY: String(CONCURRENCY),
    CODEGEN_POLL_INITIAL_MS: '20',
    CODEGEN_POLL_MAX_MS: '100',
    CODEGEN_CREATE_PER_MINUTE: '1000000',
    CODEGEN_REQUESTS_PER_30S: '1000000',
    GITHUB_WRITE_MIN_TIME_MS: '0',
    GITHUB_NOTIFICATION_MIN_TIME_MS: '0',
    RECONCILE_INTERVAL_MS: '3600000',
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    ...store,
  };
}

/** Add the tasks through a store opened as the CLI opens it (and closed before the daemon starts). */
async function seedTasks(storeEnv: Record<string, string>, cwd: string): Promise<void> {
  const config = loadConfig({ env: storeEnv, configDir: '/nonexistent', dotenvPath: false });
  const previous = process.cwd();
  process.chdir(cwd);
  try {
    const { store } = await openTaskStore(config, { logger: silentLogger(), role: 'cli' });
    try {
      for (let i = 0; i < TASKS; i += 100) {
        const batch = Array.from({ length: Math.min(100, TASKS - i) }, (_, j) => ({
          id: `overhead-${i + j}`,
          title: `Overhead task ${i + j}`,
          description: 'Add a line to the changelog.',
          repository: REPO,
        }));
        await store.addTasks(batch, 'bench');
      }
    } finally {
      await store.close();
    }
  } finally {
    process.chdir(previous);
  }
}

/** Run the daemon over the seeded tasks until all of them completed; measure it. */
async function runDaemon(
  label: string,
  world: World,
  storeEnv: Record<string, string>,
  main = MAIN,
  nodeOptions?: string,
): Promise<CaseResult> {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bench-overhead-'));
  try {
    await seedTasks(storeEnv, cwd);
    const githubBefore = world.github.requests.length;
    const codegenBefore = world.codegen.requests.length;
    const args = CPU_PROF ? [`--cpu-prof`, `--cpu-prof-dir=${CPU_PROF}`, main, 'run'] : [main, 'run'];
    const child = spawn(process.execPath, args, {
      cwd,
      env: daemonEnv(world, storeEnv, nodeOptions),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let start: { at: number; cpuS: number; sysS: number } | undefined;
    let completed = 0;
    let failed = 0;
    let buffer = '';
    const done = new Promise<{ at: number; cpuS: number; sysS: number; rssMb: number; peakMb: number }>(
      (resolve, reject) => {
        void exited.then((code) => reject(new Error(`daemon exited (${code}) early: ${stderr}`)));
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          buffer += chunk;
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            let msg = '';
            try {
              msg = (JSON.parse(line) as { msg?: string }).msg ?? '';
            } catch {
              continue;
            }
            if (msg === 'codegen-pr initialized') start = { at: performance.now(), ...sample(child.pid!) };
            else if (/^task overhead-\d+ completed/.test(msg)) completed += 1;
            else if (/^task overhead-\d+ (failed|will be tried again|handed back)/.test(msg)) {
              failed += 1;
              // An instant task should never need a second try: show why (the first few) for whoever reads the run.
              if (failed <= 5) progress(`${label}: ${line.slice(0, 600)}`);
            }
            if (completed === TASKS) resolve({ at: performance.now(), ...sample(child.pid!) });
          }
        });
      },
    );
    const progressTimer = setInterval(() => progress(`${label}: ${completed} of ${TASKS} completed`), 10_000);
    let end;
    try {
      end = await done;
    } finally {
      clearInterval(progressTimer);
      child.kill('SIGTERM');
      await exited;
    }
    if (stderr) progress(`${label}: daemon stderr: ${stderr.slice(0, 1500)}`);
    if (!start) throw new Error('the daemon never said it was initialized');
    const seconds = (end.at - start.at) / 1000;
    const githubRequests = world.github.requests.length - githubBefore;
    const codegenRequests = world.codegen.requests.length - codegenBefore;
    return {
      label,
      metrics: {
        tasks: TASKS,
        concurrency: CONCURRENCY,
        seconds: round(seconds, 2),
        tasksPerS: round(TASKS / seconds, 1),
        cpuMsPerTask: round(((end.cpuS - start.cpuS) * 1000) / TASKS, 2),
        cpuShare: round((end.cpuS - start.cpuS) / seconds, 2),
        // The kernel's part of that CPU (system calls: sockets to PostgreSQL and the fakes, log writes).
        sysShareOfCpu: round((end.sysS - start.sysS) / Math.max(end.cpuS - start.cpuS, 0.01), 2),
        peakRssMb: round(end.peakMb, 0),
        endRssMb: round(end.rssMb, 0),
        githubRequestsPerTask: round(githubRequests / TASKS, 2),
        codegenRequestsPerTask: round(codegenRequests / TASKS, 2),
        retriedOrFailed: failed,
      },
    };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** A fresh start for each PostgreSQL case (and no schema left behind). */
async function dropSchema(schema: string): Promise<void> {
  const admin = new pg.Pool({ connectionString: env.DATABASE_URL, max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end());
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** One row for a case run several times: each metric's median, and the lowest and highest CPU per task. */
function medianOf(label: string, runs: CaseResult[]): CaseResult {
  if (runs.length === 1) return runs[0] as CaseResult;
  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  };
  const names = Object.keys(runs[0]?.metrics ?? {});
  const metrics: Record<string, number> = { runs: runs.length };
  for (const name of names) metrics[name] = round(median(runs.map((r) => r.metrics[name] ?? Number.NaN)), 2);
  const cpu = runs.map((r) => r.metrics.cpuMsPerTask ?? Number.NaN);
  metrics.cpuMsPerTaskMin = Math.min(...cpu);
  metrics.cpuMsPerTaskMax = Math.max(...cpu);
  return { label, metrics };
}

function renderMarkdown(report: {
  machine: { cpus: number; model: string; memGb: number; node: string };
  load: { start: number[]; end: number[] };
  rows: CaseResult[];
  date: string;
}): string {
  const names = [...new Set(report.rows.flatMap((r) => Object.keys(r.metrics)))];
  const lines = [
    `## S1 overhead (${report.date})`,
    '',
    `${TASKS} instant tasks through the built daemon against the loopback fakes (in the benchmark's process), ` +
      `budgets lifted, CONCURRENCY ${CONCURRENCY}. CPU and memory are the daemon's own, from /proc. ` +
      (REPEAT > 1 ? `Each case run ${REPEAT} times (alternating with its baseline): medians, and CPU's range. ` : '') +
      `${report.machine.cpus} × ${report.machine.model}, ${report.machine.memGb} GB, Node ${report.machine.node}; ` +
      `load average at start ${report.load.start.join(' ')}, at end ${report.load.end.join(' ')}.` +
      (BASELINE
        ? ` Baseline rows: ${env.BENCH_BASELINE_NAME ?? BASELINE}, run in the same process one after the other.`
        : ''),
    '',
    `| store | ${names.join(' | ')} |`,
    `| --- | ${names.map(() => '---').join(' | ')} |`,
    ...report.rows.map((r) => `| ${r.label} | ${names.map((n) => String(r.metrics[n] ?? '')).join(' | ')} |`),
    '',
    ...report.rows.flatMap((r) => {
      const base = report.rows.find((b) => b.label === `${r.label} (baseline)`);
      if (!base) return [];
      const ratio = (n: string) => ((r.metrics[n] ?? Number.NaN) / (base.metrics[n] ?? Number.NaN)).toFixed(2);
      return [
        `${r.label} over its baseline, same run: CPU per task ${ratio('cpuMsPerTask')}×, tasks/s ` +
          `${ratio('tasksPerS')}×, peak RSS ${ratio('peakRssMb')}×, GitHub requests per task ${ratio('githubRequestsPerTask')}×.`,
        '',
      ];
    }),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const loadNow = () => loadavg().map((l) => round(l, 2));
  const startLoad = loadNow();
  progress(`${TASKS} tasks per store (${STORES.join(', ')}), concurrency ${CONCURRENCY}; load ${startLoad.join(' ')}`);
  // A fresh pair of fakes per case: their state (runs, PRs, recorded requests) grows with every task, and each
  // case should meet the same fakes.
  const violations: string[] = [];
  const rows: CaseResult[] = [];
  const schema = `bench_overhead_${process.pid}`;
  try {
    for (const store of STORES) {
      let label: string;
      let storeEnv: Record<string, string>;
      if (store === 'postgres') {
        if (!env.DATABASE_URL) {
          progress('DATABASE_URL is not set: PostgreSQL is skipped');
          continue;
        }
        label = 'PostgreSQL';
        storeEnv = { TASK_STORE: 'postgres', DATABASE_URL: env.DATABASE_URL, DATABASE_SCHEMA: schema };
      } else if (store === 'sqlite') {
        label = 'embedded SQLite';
        storeEnv = { TASK_STORE: 'sqlite' };
      } else {
        throw new Error(`BENCH_STORES: unknown store "${store}" (postgres, sqlite)`);
      }
      const runs: Array<[string, string, string | undefined]> = [[label, MAIN, env.BENCH_NODE_OPTIONS]];
      if (BASELINE)
        runs.push([`${label} (baseline)`, BASELINE, env.BENCH_BASELINE_NODE_OPTIONS ?? env.BENCH_NODE_OPTIONS]);
      const results = new Map<string, CaseResult[]>(runs.map(([name]) => [name, []]));
      for (let pass = 0; pass < REPEAT; pass++) {
        for (const [name, main, options] of runs) {
          progress(REPEAT > 1 ? `${name}, run ${pass + 1} of ${REPEAT}` : name);
          if (store === 'postgres') await dropSchema(schema);
          const world = await startWorld();
          try {
            results.get(name)?.push(await runDaemon(name, world, storeEnv, main, options));
          } finally {
            violations.push(...world.github.violations, ...world.codegen.violations);
            await world.close();
          }
          progress(JSON.stringify(results.get(name)?.at(-1)));
        }
      }
      for (const [name] of runs) rows.push(medianOf(name, results.get(name) ?? []));
    }
  } finally {
    if (env.DATABASE_URL && STORES.includes('postgres')) await dropSchema(schema);
  }
  if (violations.length) {
    throw new Error(`contract violations: ${violations.join('; ')}`);
  }
  const date = new Date().toISOString().slice(0, 10);
  const machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown CPU',
    memGb: round(totalmem() / 2 ** 30, 1),
    node: process.version,
  };
  const load = { start: startLoad, end: loadNow() };
  const base = env.BENCH_OUT ?? `bench/results/overhead-${date}`;
  mkdirSync(path.dirname(base), { recursive: true });
  // The figures the combined table (npm run bench) shows: per store, CPU per task, tasks/s and peak RSS, against
  // the baseline build's when BENCH_BASELINE ran one in the same run.
  const summary = rows
    .filter((r) => !r.label.endsWith('(baseline)'))
    .map((r) => {
      const m = r.metrics;
      const base = rows.find((b) => b.label === `${r.label} (baseline)`)?.metrics;
      return {
        figure: `${r.label}: CPU per task, tasks/s, peak RSS`,
        value: `${m.cpuMsPerTask} ms, ${m.tasksPerS}/s, ${m.peakRssMb} MB`,
        comparison: base
          ? `baseline ${base.cpuMsPerTask} ms, ${base.tasksPerS}/s, ${base.peakRssMb} MB (CPU ${round((m.cpuMsPerTask ?? 0) / (base.cpuMsPerTask ?? 1), 2)}×)`
          : `goal <= 5 ms CPU per task on PostgreSQL; ${m.githubRequestsPerTask} GitHub requests per task`,
      };
    });
  const json = JSON.stringify({ scenario: 'S1', machine, load, rows, summary });
  writeFileSync(`${base}.json`, await format(json, { ...(await resolveConfig(`${base}.json`)), parser: 'json' }));
  const file = `${base}.md`;
  // Formatted as the repository's prettier would, so that a fresh result passes `npm run lint`.
  const report = await format(renderMarkdown({ machine, load, rows, date }), {
    ...(await resolveConfig(file)),
    parser: 'markdown',
  });
  process.stdout.write(report);
  writeFileSync(file, report);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
