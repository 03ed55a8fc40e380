/**
 * Start and memory benchmark: the built daemon (dist/src/main.js run) on each task store, in one run, against
 * the Codegen and GitHub fakes on loopback (so it starts fully, not in dry run). For each case it measures, from
 * spawn: the first log line, `task store ready`, `codegen-pr initialized`, and the resident memory (VmRSS, and the
 * peak VmHWM) after BENCH_IDLE_S seconds of idling with an empty queue (start-only cases: the peak so far).
 *
 * Cases: SQLite on a fresh ./data and again on the same (warm) one, PGlite fresh and warm, PostgreSQL (a schema
 * of its own, dropped at the end; skipped without DATABASE_URL). Fresh cases measure the start only.
 *
 * Run: npm run build && npm run bench:start   (env: DATABASE_URL, BENCH_IDLE_S=60, BENCH_REPEATS=3)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { format, resolveConfig } from 'prettier';
import { startCodegenFake } from '../test/fakes/codegen-fake.js';
import { startGitHubFake } from '../test/fakes/github-fake.js';
import { median } from './claim-report.js';
import { describeMachine, fmt, loadNow, resultsDir, writeScenarioJson } from './scenario-report.js';
import { renderStartReport, type StartCase, type StartSample } from './start-report.js';

const env = process.env;
const IDLE_S = Number(env.BENCH_IDLE_S ?? 60);
const REPEATS = Number(env.BENCH_REPEATS ?? 3);
const MAIN = path.resolve('dist/src/main.js');
const progress = (message: string) => console.error(`[start-bench] ${message}`);

/** Resident and peak memory of a process, in MB, from /proc (Linux). */
function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** Start the daemon in `cwd` with `extraEnv`, time its lines, optionally idle, then stop it. */
async function runOnce(cwd: string, extraEnv: Record<string, string>, idleS: number): Promise<StartSample> {
  const started = performance.now();
  const child = spawn(process.execPath, [MAIN, 'run'], {
    cwd,
    env: { PATH: env.PATH ?? '', NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const times: Record<string, number> = {};
  let stderr = '';
  let buffer = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`daemon exited (${code}) before it was ready: ${stderr}`)));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const msg = (JSON.parse(buffer.slice(0, nl)) as { msg: string }).msg;
        buffer = buffer.slice(nl + 1);
        const at = performance.now() - started;
        times.first ??= at;
        if (msg === 'task store ready') times.store ??= at;
        if (msg === 'codegen-pr initialized') {
          times.initialized ??= at;
          resolve();
        }
      }
    });
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await ready;
    if (idleS > 0) await new Promise((resolve) => setTimeout(resolve, idleS * 1000));
    // Start-only cases report the peak so far (a fresh PGlite peaks while initdb runs), not an idle figure.
    const memory = memoryOf(child.pid!);
    return {
      firstLineMs: times.first ?? Number.NaN,
      storeReadyMs: times.store ?? Number.NaN,
      initializedMs: times.initialized ?? Number.NaN,
      peakRssMb: memory.peakMb,
      ...(idleS > 0 ? { idleRssMb: memory.rssMb } : {}),
    };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function main(): Promise<void> {
  const load = [loadavg()[0] ?? 0];
  const loadStart = loadNow();
  const begun = Date.now();
  const github = await startGitHubFake({ collaborators: ['alice'] });
  const codegen = await startCodegenFake({ repos: [{ id: 7, full_name: 'acme/widgets' }] });
  const base = {
    CODEGEN_API_URL: codegen.url,
    CODEGEN_API_KEY: codegen.token,
    CODEGEN_ORG_ID: String(codegen.orgId),
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN: github.token,
    GITHUB_REPOSITORY: 'acme/widgets',
    LOG_LEVEL: 'info',
  };
  const schema = `bench_start_${process.pid}`;
  const cases: StartCase[] = [];
  const scratch: string[] = [];
  try {
    const embedded = async (name: string, kind: 'sqlite' | 'pglite') => {
      const fresh: StartSample[] = [];
      const warm: StartSample[] = [];
      for (let i = 0; i < REPEATS; i++) {
        const cwd = mkdtempSync(path.join(tmpdir(), `bench-start-${kind}-`));
        scratch.push(cwd);
        progress(`${name}: fresh ./data, run ${i + 1} of ${REPEATS}`);
        fresh.push(await runOnce(cwd, { ...base, TASK_STORE: kind }, 0));
        progress(`${name}: warm ./data, run ${i + 1} of ${REPEATS} (idle ${IDLE_S} s)`);
        warm.push(await runOnce(cwd, { ...base, TASK_STORE: kind }, IDLE_S));
      }
      cases.push({ name: `${name}, fresh ./data`, samples: fresh }, { name: `${name}, warm ./data`, samples: warm });
    };
    await embedded('SQLite', 'sqlite');
    await embedded('PGlite', 'pglite');
    if (env.DATABASE_URL) {
      const samples: StartSample[] = [];
      for (let i = 0; i < REPEATS; i++) {
        progress(`PostgreSQL: run ${i + 1} of ${REPEATS} (idle ${IDLE_S} s)`);
        const cwd = mkdtempSync(path.join(tmpdir(), 'bench-start-pg-'));
        scratch.push(cwd);
        samples.push(await runOnce(cwd, { ...base, DATABASE_URL: env.DATABASE_URL, DATABASE_SCHEMA: schema }, IDLE_S));
      }
      cases.push({ name: 'PostgreSQL (local server)', samples });
    } else {
      progress('DATABASE_URL is not set: PostgreSQL is skipped');
    }
  } finally {
    await codegen.close();
    await github.close();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
    if (env.DATABASE_URL) {
      const admin = new pg.Pool({ connectionString: env.DATABASE_URL, max: 1 });
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end());
    }
  }
  load.push(loadavg()[0] ?? 0);
  const resultsFile = path.join(resultsDir(), `start-${new Date(begun).toISOString().slice(0, 10)}.md`);
  const raw = renderStartReport({
    machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    load,
    idleS: IDLE_S,
    repeats: REPEATS,
    seconds: Math.round((Date.now() - begun) / 1000),
    startedAt: new Date(begun).toISOString().slice(0, 16).replace('T', ' '),
    cases,
  });
  // Formatted as the repository's Markdown is, so the results file passes `npm run lint` as written.
  const report = await format(raw, { ...(await resolveConfig(resultsFile)), parser: 'markdown' });
  process.stdout.write(report);
  mkdirSync(resultsDir(), { recursive: true });
  writeFileSync(resultsFile, report);
  await writeStartJson(cases, loadStart);
}

/** The run in the shape bench/run-all.ts reads: medians per case, the first line and readiness in its summary. */
async function writeStartJson(cases: StartCase[], loadStart: number[]): Promise<void> {
  const med = (c: StartCase, pick: (s: StartSample) => number | undefined) => {
    const values = c.samples.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
    return values.length > 0 ? Math.round(median(values)) : null;
  };
  const rows = cases.map((c) => ({
    label: c.name,
    metrics: {
      starts: c.samples.length,
      firstLineMs: med(c, (s) => s.firstLineMs),
      storeReadyMs: med(c, (s) => s.storeReadyMs),
      initializedMs: med(c, (s) => s.initializedMs),
      idleRssMb: med(c, (s) => s.idleRssMb),
      peakRssMb: med(c, (s) => s.peakRssMb),
    },
  }));
  const warm = rows.find((r) => r.label.startsWith('SQLite, warm'));
  const pgRow = rows.find((r) => r.label.startsWith('PostgreSQL'));
  const show = (v: number | null | undefined, unit: string) => (v == null ? '-' : `${fmt(v)} ${unit}`);
  await writeScenarioJson('start', {
    scenario: 'start',
    title: `daemon start and idle memory, ${REPEATS} start(s) per case, idle ${IDLE_S} s`,
    machine: describeMachine(),
    load: { start: loadStart, end: loadNow() },
    rows,
    summary: [
      {
        figure: 'SQLite warm: first line / initialized',
        value: `${show(warm?.metrics.firstLineMs, 'ms')} / ${show(warm?.metrics.initializedMs, 'ms')}`,
        comparison: `PostgreSQL: ${show(pgRow?.metrics.firstLineMs, 'ms')} / ${show(pgRow?.metrics.initializedMs, 'ms')}`,
      },
      {
        figure: 'SQLite warm: idle RSS',
        value: show(warm?.metrics.idleRssMb, 'MB'),
        comparison: `goal <= 150 MB; PostgreSQL ${show(pgRow?.metrics.idleRssMb, 'MB')}`,
      },
    ],
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
