/**
 * Workload harness for the throughput benchmarks (issue 10's S2, S4 and S5): the loopback Codegen and GitHub
 * fakes in this process, agent runs that last a drawn time (log-normal by default), a queue of tasks in a
 * PostgreSQL schema of its own, and a worker in a child process that drains it: the built daemon
 * (dist/src/main.js run, budgets lifted through its config) or the seed's batch model (bench/seed-batch-model.ts).
 *
 * For every task it records, each on the same host clock (epoch ms):
 * - claimed and completed: the task's history rows in the store (its first `claimed` row, its `completed` row);
 * - run created and run ended: the fake (the run's creation, and the moment the harness ended it);
 * - noticed: the first answer of the fake that carried the run's end to the worker (a GET of the run or a list
 *   page it was on), so "noticed to completed" is everything the worker did after reading the end.
 *
 * Faults (S4) put test/fakes/fault-proxy.ts between the worker and both fakes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openPostgresTaskStore } from '../src/adapters/task-store/index.js';
import { startCodegenFake, type CodegenFake, type FakeRun } from '../test/fakes/codegen-fake.js';
import { FAULT_KINDS, startFaultProxy, type FaultProxy } from '../test/fakes/fault-proxy.js';
import { startGitHubFake, type GitHubFake } from '../test/fakes/github-fake.js';
import { REPO, warmUpGitHub } from '../test/e2e/world.js';
import { freePort, watchWorkerMemory, type WorkerMemory } from './worker-memory.js';

/** Which worker drains the queue. */
export type Driver = 'daemon' | 'seed-batch';

export interface WorkloadOptions {
  label: string;
  driver: Driver;
  tasks: number;
  /** Tasks in flight at once: the daemon's CONCURRENCY, the seed model's batch size. */
  inFlight: number;
  /** Duration of task i's agent run, in ms (the same for every case of one run). */
  durationsMs: readonly number[];
  databaseUrl: string;
  /** Wait between two reads of the runs' states: the watcher's CODEGEN_POLL_INITIAL_MS, the seed's GET interval. */
  watchMs: number;
  /** Poll interval of the queue (POLL_INTERVAL_MS; the seed model's sleep after each batch). */
  pollMs: number;
  /** Share of requests to Codegen and GitHub answered with a transient fault (0 for none). */
  faultRate?: number;
  /** The case gives up after this long, counting what did not end as lost. */
  timeoutS: number;
  progress?: (message: string) => void;
  /** Added to the worker's environment (NODE_OPTIONS, MALLOC_ARENA_MAX): settings compared in one run. */
  extraEnv?: Record<string, string>;
  /** Node options put before the daemon's script (V8 flags that NODE_OPTIONS refuses, such as --heap-growing-percent). */
  nodeArgs?: string[];
  /**
   * Sent to the worker once the count of running agent runs has not risen for 3 s, and once when the queue has
   * drained (SIGUSR2 with NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2 writes a heap snapshot at each).
   */
  snapshotSignal?: NodeJS.Signals;
}

/** What one task went through, epoch ms (undefined: never happened). */
export interface TaskTimes {
  id: string;
  status: string;
  /** The stored error code of a task that failed or waits for a retry. */
  errorCode?: string;
  claimedAt?: number;
  runCreatedAt?: number;
  runEndedAt?: number;
  noticedAt?: number;
  completedAt?: number;
  /** Agent runs made for the task, and PRs opened for those runs. */
  runs: number;
  prs: number;
}

export interface WorkloadResult {
  label: string;
  driver: Driver;
  tasks: TaskTimes[];
  /** First claim to the moment every task had ended (or the case gave up), ms. */
  makespanMs: number;
  timedOut: boolean;
  /** CPU time of the worker process (user + system), ms, and its peak resident memory, MB. */
  workerCpuMs: number;
  workerPeakRssMb: number;
  /** The worker's heap (from its /metrics; the daemon only) and RSS, peaks and at full. */
  memory: WorkerMemory;
  /** CPU time of this process (the fakes, the fault proxies and the harness) over the case, ms. */
  fakesCpuMs: number;
  load: { start: number[]; end: number[] };
  faultsInjected: number;
  requests: { codegen: number; github: number };
  /** Arrival times (epoch ms) of the GitHub writes (every method but GET) the fake received during the case. */
  githubWriteTimes: number[];
}

/** The daemon build to run (BENCH_MAIN: another build's dist/src/main.js, to compare builds). */
const MAIN = path.resolve(process.env.BENCH_MAIN ?? 'dist/src/main.js');
const SEED_MODEL = path.resolve('bench/seed-batch-model.ts');
const TERMINAL = ['completed', 'failed', 'cancelled'];
const REVIEWERS = ['alice', 'bob'];

/** mulberry32: a small seeded source, so every case of a run draws the same durations. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` draws from the log-normal distribution with the given median and 99th percentile (ms). */
export function logNormalDurations(count: number, medianMs: number, p99Ms: number, seed: number): number[] {
  const random = seededRandom(seed);
  const sigma = Math.log(p99Ms / medianMs) / 2.3263; // z of the 99th percentile
  const out: number[] = [];
  for (let i = 0; i < count; i += 1) {
    // Box-Muller; 1 - random() keeps the logarithm away from 0.
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    out.push(Math.round(medianMs * Math.exp(sigma * z)));
  }
  return out;
}

export function taskId(i: number): string {
  return `w-${String(i).padStart(5, '0')}`;
}

/** CPU ms (utime + stime) and peak RSS (MB) of a live process, from /proc (Linux; zeros elsewhere). */
function processCost(pid: number | undefined): { cpuMs: number; peakRssMb: number } {
  if (pid === undefined) return { cpuMs: 0, peakRssMb: 0 };
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    return { cpuMs: (ticks * 1000) / 100, peakRssMb: hwm / 1024 };
  } catch {
    return { cpuMs: 0, peakRssMb: 0 };
  }
}

interface Fakes {
  codegen: CodegenFake;
  github: GitHubFake;
  runs: Map<number, { taskIndex: number; createdAt: number; endedAt?: number; noticedAt?: number }>;
  timers: Set<NodeJS.Timeout>;
}

async function startFakes(durationsMs: readonly number[]): Promise<Fakes> {
  const runs: Fakes['runs'] = new Map();
  const timers = new Set<NodeJS.Timeout>();
  // Requests are checked against the contracts; the fakes' own answers are not (see overhead-bench.ts).
  const github = await startGitHubFake({ collaborators: [...REVIEWERS, 'carol'], checkResponses: false });
  const repos = [{ id: 7, full_name: REPO }];
  const codegen = await startCodegenFake({
    checkResponses: false,
    repos,
    onRunFinished: async (run) => {
      // Codegen's GitHub App opens the PR in the run's repository, as test/e2e/world.ts does.
      const [owner = '', repo = ''] = REPO.split('/');
      const branch = `codegen-bot/run-${run.id}`;
      github.createBranch(owner, repo, branch);
      const pr = github.openPullRequestAsAgent({ owner, repo, head: branch, title: `Codegen run ${run.id}` });
      return { url: pr.html_url, branch, title: `Codegen run ${run.id}` };
    },
    onServe: (served) => {
      const now = Date.now();
      for (const run of served) {
        const held = runs.get(run.id);
        // Only an answer that carries the end counts (the end is set in the same tick as endedAt, but be sure).
        if (held?.endedAt !== undefined && held.noticedAt === undefined && run.status === run.finalStatus) {
          held.noticedAt = now;
        }
      }
    },
  });
  // A run ends when its drawn time is up, whoever is looking; until then every look finds it running.
  codegen.setOutcome((run: FakeRun) => {
    const id = String(run.metadata?.task_id ?? '');
    const taskIndex = Number(id.slice(2));
    const record = { taskIndex, createdAt: Date.now() } as { taskIndex: number; createdAt: number; endedAt?: number };
    runs.set(run.id, record);
    const timer = setTimeout(() => {
      timers.delete(timer);
      record.endedAt = Date.now();
      void codegen.finishNow(run);
    }, durationsMs[taskIndex] ?? 1000);
    timers.add(timer);
    return { finalStatus: 'COMPLETE', pollsUntilDone: Number.MAX_SAFE_INTEGER, pr: true };
  });
  await warmUpGitHub(github);
  return { codegen, github, runs, timers };
}

function workerEnv(
  options: WorkloadOptions,
  urls: { codegen: string; github: string },
  fakes: Fakes,
  schema: string,
  port: number,
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    // BENCH_LOG_LEVEL=debug with BENCH_LOG_FILE shows each step's duration ('step done' lines).
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
    TASK_STORE: 'postgres',
    DATABASE_URL: options.databaseUrl,
    DATABASE_SCHEMA: schema,
    CODEGEN_API_URL: urls.codegen,
    CODEGEN_API_KEY: fakes.codegen.token,
    CODEGEN_ORG_ID: String(fakes.codegen.orgId),
    GITHUB_API_URL: urls.github,
    GITHUB_TOKEN: fakes.github.token,
    GITHUB_REPOSITORY: REPO,
    PR_LABELS: 'codegen,automated',
    PR_REVIEWERS: REVIEWERS.join(','),
    PR_ASSIGNEES: 'carol',
    CONCURRENCY: String(options.inFlight),
    BATCH_SIZE: String(options.inFlight),
    POLL_INTERVAL_MS: String(options.pollMs),
    CODEGEN_POLL_INITIAL_MS: String(options.watchMs),
    CODEGEN_POLL_MAX_MS: String(Math.max(options.watchMs, 1000)),
    // Budgets lifted: what is measured is the daemon, not Codegen's or GitHub's pacing.
    CODEGEN_CREATE_PER_MINUTE: '1000000',
    CODEGEN_REQUESTS_PER_30S: '1000000',
    GITHUB_WRITE_MIN_TIME_MS: '0',
    GITHUB_NOTIFICATION_MIN_TIME_MS: '0',
    // e.g. `-r ./count.cjs` to look inside the daemon during a case (bench/overhead-bench.ts has the same).
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
    ...(options.faultRate
      ? {
          // As test/e2e/faults.e2e.test.ts: short timeouts and waits, so a fault costs seconds, not minutes.
          CODEGEN_TIMEOUT_MS: '3000',
          GITHUB_TIMEOUT_MS: '3000',
          DEPENDENCY_PROBE_INTERVAL_MS: '100',
          DEPENDENCY_PROBE_MAX_INTERVAL_MS: '400',
          OUTAGE_RETRY_MS: '200',
          BREAKER_RESET_MS: '500',
          RETRY_BASE_DELAY_MS: '100',
          MAX_RETRIES: '4',
        }
      : {}),
    ...options.extraEnv,
  };
}

function spawnWorker(
  driver: Driver,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): { child: ChildProcess; output: string[] } {
  const args =
    driver === 'daemon'
      ? [...nodeArgs, MAIN, 'run']
      : [...nodeArgs, '--loader', 'ts-node/esm', '--no-warnings', SEED_MODEL];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  // Kept short: the last lines explain a worker that died.
  const keep = (chunk: string) => {
    output.push(chunk);
    if (output.length > 50) output.shift();
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  const logFile = process.env.BENCH_LOG_FILE;
  if (logFile) child.stdout?.on('data', (chunk: string) => appendFileSync(logFile, chunk));
  child.stderr?.setEncoding('utf8').on('data', keep);
  return { child, output };
}

/** Run one case: fresh fakes and schema, the tasks added, the worker drains them; the records come back. */
export async function runWorkload(options: WorkloadOptions): Promise<WorkloadResult> {
  const progress = options.progress ?? (() => undefined);
  // PostgreSQL names are at most 63 characters: a long label is cut and told apart by a hash of the whole.
  const label = options.label.replace(/\W+/g, '_').toLowerCase();
  const tag = createHash('sha256').update(options.label).digest('hex').slice(0, 8);
  const schema = `bench_workload_${process.pid}_${label.slice(0, 24)}_${tag}`;
  const admin = new pg.Client({ connectionString: options.databaseUrl });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  const fakes = await startFakes(options.durationsMs);
  const proxies: FaultProxy[] = [];
  let worker: { child: ChildProcess; output: string[] } | undefined;
  const loadStart = loadavg();
  try {
    const store = await openPostgresTaskStore({ connectionString: options.databaseUrl, schema });
    const ids = Array.from({ length: options.tasks }, (_, i) => taskId(i));
    for (let i = 0; i < ids.length; i += 500) {
      await store.addTasks(
        ids.slice(i, i + 500).map((id) => ({ id, title: `Workload ${id}`, description: 'A benchmark task.' })),
        'bench',
      );
    }
    await store.close();
    let urls = { codegen: fakes.codegen.url, github: fakes.github.url };
    if (options.faultRate) {
      // Delivery faults only: echoed credentials have a suite of their own (secrets.e2e).
      const kinds = FAULT_KINDS.filter((k) => k !== 'echo-credentials');
      const codegen = await startFaultProxy({
        target: fakes.codegen.url,
        rate: options.faultRate,
        kinds: kinds.filter((k) => k !== 'secondary-limit'),
        seed: 41,
      });
      const github = await startFaultProxy({ target: fakes.github.url, rate: options.faultRate, kinds, seed: 42 });
      proxies.push(codegen, github);
      urls = { codegen: codegen.url, github: github.url };
    }
    const started = Date.now();
    const cpuBefore = process.cpuUsage();
    const port = await freePort();
    worker = spawnWorker(options.driver, workerEnv(options, urls, fakes, schema, port), options.nodeArgs);
    const watcher = watchWorkerMemory(
      worker.child.pid,
      options.driver === 'daemon' ? `http://127.0.0.1:${port}/metrics` : undefined,
    );
    let signalled = 0;
    let [mostRunning, mostAt] = [0, Date.now()];
    const exited = new Promise<void>((resolve) => worker?.child.once('exit', () => resolve()));
    let dead = false;
    void exited.then(() => (dead = true));
    let cost = { cpuMs: 0, peakRssMb: 0 };
    let timedOut = false;
    let lastReport = 0;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (dead) throw new Error(`${options.label}: the worker exited early: ${worker.output.join('').slice(-2000)}`);
      cost = processCost(worker.child.pid);
      // fakes.timers holds one timer per agent run not yet ended. Under load the first runs may end before the
      // last slot's run starts, so the snapshot is taken once the count has not risen for 3 s.
      const running = fakes.timers.size;
      if (running > mostRunning) [mostRunning, mostAt] = [running, Date.now()];
      await watcher.sample(running);
      const most = mostRunning;
      if (options.snapshotSignal && signalled === 0 && Date.now() - mostAt > 3_000 && most >= 0.5 * options.inFlight) {
        signalled = 1;
        worker.child.kill(options.snapshotSignal);
        progress(`${options.label}: ${options.snapshotSignal} sent at ${running} runs in flight (most ${most})`);
      }
      const { rows } = await admin.query<{ done: string }>(
        `SELECT count(*) AS done FROM "${schema}".tasks WHERE status = ANY($1)`,
        [TERMINAL],
      );
      const done = Number(rows[0]?.done ?? 0);
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        progress(
          `${options.label}: ${done}/${options.tasks} ended after ${((Date.now() - started) / 1000).toFixed(0)} s`,
        );
      }
      if (done >= options.tasks) break;
      if (Date.now() - started > options.timeoutS * 1000) {
        timedOut = true;
        break;
      }
    }
    const endedAt = Date.now();
    const fakesCpu = process.cpuUsage(cpuBefore);
    const loadEnd = loadavg();
    if (options.snapshotSignal && signalled === 1) {
      // The drained daemon's heap, to subtract from the full one. Writing it holds the event loop, so the
      // daemon answers /healthz only once it is written.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      worker.child.kill(options.snapshotSignal);
      progress(`${options.label}: ${options.snapshotSignal} sent with the queue drained`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(120_000) }).catch(() => undefined);
    }
    worker.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    if (!dead) worker.child.kill('SIGKILL');
    const tasks = await readTimes(admin, schema, ids, fakes);
    const firstClaim = Math.min(...tasks.map((t) => t.claimedAt ?? Number.POSITIVE_INFINITY));
    const lastEnd = Math.max(...tasks.map((t) => t.completedAt ?? 0));
    return {
      label: options.label,
      driver: options.driver,
      tasks,
      makespanMs: (timedOut ? endedAt : lastEnd) - (Number.isFinite(firstClaim) ? firstClaim : started),
      timedOut,
      workerCpuMs: cost.cpuMs,
      workerPeakRssMb: cost.peakRssMb,
      memory: watcher.memory,
      fakesCpuMs: (fakesCpu.user + fakesCpu.system) / 1000,
      load: { start: loadStart, end: loadEnd },
      faultsInjected: proxies.reduce((sum, p) => sum + Object.values(p.injected).reduce((a, b) => a + b, 0), 0),
      requests: { codegen: fakes.codegen.requests.length, github: fakes.github.requests.length },
      githubWriteTimes: fakes.github.requests.filter((r) => r.method !== 'GET' && r.at >= started).map((r) => r.at),
    };
  } finally {
    if (worker && worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    for (const timer of fakes.timers) clearTimeout(timer);
    await Promise.all(proxies.map((p) => p.close()));
    await fakes.codegen.close();
    await fakes.github.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}

/** The per-task records: history rows from the store, runs and PRs from the fakes. */
async function readTimes(admin: pg.Client, schema: string, ids: string[], fakes: Fakes): Promise<TaskTimes[]> {
  const { rows } = await admin.query<{
    id: string;
    status: string;
    error_code: string | null;
    claimed: number | null;
    completed: number | null;
  }>(
    `SELECT t.id, t.status, t.error_code,
            (SELECT extract(epoch FROM min(e.at)) * 1000 FROM "${schema}".task_events e
              WHERE e.task_id = t.id AND e.to_status = 'claimed')::float8 AS claimed,
            (SELECT extract(epoch FROM max(e.at)) * 1000 FROM "${schema}".task_events e
              WHERE e.task_id = t.id AND e.to_status = 'completed')::float8 AS completed
       FROM "${schema}".tasks t`,
  );
  const byTask = new Map(rows.map((r) => [r.id, r]));
  const [owner = '', repo = ''] = REPO.split('/');
  const prsByBranch = new Map<string, number>();
  for (const pull of fakes.github.listPulls(owner, repo)) {
    prsByBranch.set(pull.head, (prsByBranch.get(pull.head) ?? 0) + 1);
  }
  const runsByTask = new Map<number, Array<{ id: number; createdAt: number; endedAt?: number; noticedAt?: number }>>();
  for (const [id, run] of fakes.runs) {
    const list = runsByTask.get(run.taskIndex) ?? [];
    list.push({ id, ...run });
    runsByTask.set(run.taskIndex, list);
  }
  return ids.map((id, i) => {
    const row = byTask.get(id);
    const runs = runsByTask.get(i) ?? [];
    // The first run is the one measured; a second is a duplicate (counted, not timed).
    const first = runs.sort((a, b) => a.createdAt - b.createdAt)[0];
    const times: TaskTimes = {
      id,
      status: row?.status ?? 'missing',
      runs: runs.length,
      prs: runs.reduce((sum, r) => sum + (prsByBranch.get(`codegen-bot/run-${r.id}`) ?? 0), 0),
    };
    if (row?.error_code && row.status !== 'completed') times.errorCode = row.error_code;
    if (row?.claimed != null) times.claimedAt = Number(row.claimed);
    if (row?.completed != null) times.completedAt = Number(row.completed);
    if (first) times.runCreatedAt = first.createdAt;
    if (first?.endedAt !== undefined) times.runEndedAt = first.endedAt;
    if (first?.noticedAt !== undefined) times.noticedAt = first.noticedAt;
    return times;
  });
}
