/**
 * Run-watching benchmark (issue 10's S3, reads and notice lag at the real read budget): how many Codegen reads a
 * process spends on the runs it waits on, and how long after a run ends it notices, for the per-run polling that
 * await-agent-run did before the run watcher (a GET per run, its interval growing from CODEGEN_POLL_INITIAL_MS
 * to CODEGEN_POLL_MAX_MS) and for the run watcher (pages of the list endpoint), in the same run, against the
 * loopback Codegen fake, every request through the real Codegen guard with the default budgets (60 reads per
 * 30 s less 10 % headroom).
 *
 * Each case: BENCH_RUNS runs are created up front (not timed, not counted); run i ends at a time drawn uniformly
 * from [5 s, 5 s + BENCH_RUN_S]; the fake ends it then (finishNow), whoever is asking. One waiter per run waits
 * until it sees the run end. The case stops BENCH_GRACE_S after the last run ends; a run not noticed by then
 * counts with its lag up to that moment (so a lag figure is a lower bound when some runs were not noticed).
 *
 * The replica cases: BENCH_REPLICAS (2) watchers, each behind its own guard holding 1/BENCH_REPLICAS of the
 * budget (RATE_LIMIT_REPLICAS, as replicas without Redis are deployed), the tasks dealt round them; first each
 * on its own, then sharing one PostgreSQL board (DATABASE_URL; a schema of its own, dropped after). Their reads
 * per 30 s are the whole deployment's (every request the fake saw).
 *
 * The steady-stream case (issue 10's workload): BENCH_RUNS runs of exactly BENCH_RUN_S in flight at every moment
 * for BENCH_STREAM_S (default four run lengths): a new run is created in the fake as one ends, so about
 * BENCH_RUNS / BENCH_RUN_S runs end each second, in the order they were created (at the old end of the list).
 * At the start the runs in flight are as if the stream had been going on (created over the last BENCH_RUN_S, one
 * ending every BENCH_RUN_S / BENCH_RUNS). Measured: each run that ended during the case, from its end to its
 * waiter's wake-up (not noticed within BENCH_GRACE_S after the case: counted with its lag up to then), and every
 * read the fake saw during the case per 30 s. One watcher, the daemon's settings.
 *
 * Run: npm run bench:watch   (env: BENCH_RUNS=2000, BENCH_RUN_S=30, BENCH_GRACE_S=30, BENCH_REPLICAS=2,
 * BENCH_STREAM_S=4 × BENCH_RUN_S, BENCH_WATCH_CASES=polling,watcher,replicas,stream (a subset), DATABASE_URL)
 */
import { setMaxListeners } from 'node:events';
import { cpus, loadavg, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCodegenApi, type CodegenApi } from '../src/adapters/codegen/index.js';
import { loadConfig } from '../src/config/load.js';
import { createPostgresClient, migrate } from '../src/adapters/task-store/index.js';
import { createRunWatcher, type RunWatcher } from '../src/daemon/run-watcher.js';
import type { RunBoard } from '../src/daemon/run-watcher-board.js';
import { createPgRunBoard } from '../src/daemon/run-watcher-pg-board.js';
import { silentLogger } from '../src/observability/logger.js';
import type { AgentRun } from '../src/pipeline/ports.js';
import { codegenBudgets, createCodegenGuard, replicaShare } from '../src/resilience/index.js';
import { describeMachine, fmt, loadNow, writeMarkdownReport, writeScenarioJson } from './scenario-report.js';
import { startCodegenFake, type CodegenFake } from '../test/fakes/codegen-fake.js';

const env = process.env;
const RUNS = Number(env.BENCH_RUNS ?? 2000);
const RUN_S = Number(env.BENCH_RUN_S ?? 30);
const GRACE_S = Number(env.BENCH_GRACE_S ?? 30);
/** The board case: replicas sharing one PostgreSQL database (skipped without DATABASE_URL). */
const DATABASE_URL = env.DATABASE_URL;
const REPLICAS = Number(env.BENCH_REPLICAS ?? 2);
const STREAM_S = Number(env.BENCH_STREAM_S ?? 4 * RUN_S);
const CASES = new Set((env.BENCH_WATCH_CASES ?? 'polling,watcher,replicas,stream').split(',').map((c) => c.trim()));
const progress = (message: string) => console.error(`[watch-bench] ${message}`);
const config = loadConfig({ env: {}, configDir: '/nonexistent', dotenvPath: false });
const health = { assess: async () => true, isDown: () => false };
/** What the daemon gives its watcher (client.ts): the guard's read budget after headroom. */
const READS_PER_30S = codegenBudgets(config).standard.max;

interface CaseResult {
  name: string;
  runs: number;
  noticed: number;
  reads: number;
  seconds: number;
  readsPer30s: number;
  meanLagS: number;
  p95LagS: number;
  rssMb: number;
  heapMb: number;
}

type Waiter = (api: CodegenApi, run: AgentRun, stop: AbortSignal) => Promise<void>;

/** await-agent-run before the watcher: sleep, GET, the interval growing by the backoff factor. */
const perRunPolling: Waiter = async (api, run, stop) => {
  let interval = config.codegen.pollInitialMs;
  for (;;) {
    await sleep(interval, undefined, { signal: stop });
    interval = Math.min(config.codegen.pollMaxMs, Math.ceil(interval * config.codegen.pollBackoff));
    const now = await api.getAgentRun(run.id, stop);
    if (now.state !== 'in_progress') return;
  }
};

async function runCase(
  name: string,
  makeWaiter: (
    api: CodegenApi,
    replicaApi: (replicas: number) => CodegenApi,
  ) => { wait: Waiter; stop(): Promise<void> | void },
): Promise<CaseResult> {
  const fake: CodegenFake = await startCodegenFake({ repos: [{ id: 11, full_name: 'acme/widgets' }] });
  const guards: Array<ReturnType<typeof createCodegenGuard>> = [];
  // One Codegen client per replica, each behind its own guard (its own process's budget, no Redis to share it).
  // Without Redis each of `replicas` replicas keeps 1/replicas of the budget (RATE_LIMIT_REPLICAS), as deployed.
  const replicaApi = (replicas = 1): CodegenApi => {
    const guard = createCodegenGuard(
      { ...config, rateLimits: { ...config.rateLimits, replicas } },
      { logger: silentLogger() },
    );
    guards.push(guard);
    return createCodegenApi({
      baseUrl: fake.url,
      apiKey: fake.token,
      orgId: fake.orgId,
      timeoutMs: 30_000,
      logger: silentLogger(),
      guard,
    });
  };
  const api = replicaApi();
  // Runs are made in the fake directly: creation has its own budget (10 a minute) and is not what is measured.
  fake.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: Number.MAX_SAFE_INTEGER, pr: false }));
  const runs: AgentRun[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const made = fake.createRunAsIfLost({ prompt: `run ${i}`, repo_id: 11, metadata: { task_id: `t-${i}` } });
    // The creation time Codegen answers with (the create response's), as a task has it.
    runs.push({ id: made.id, status: 'ACTIVE', state: 'in_progress', pullRequests: [], createdAt: made.createdAt });
  }
  const waiter = makeWaiter(api, replicaApi);
  const stopper = new AbortController();
  // Every waiter listens on the one stop signal.
  setMaxListeners(0, stopper.signal);
  const started = performance.now();
  const endsAt = runs.map(() => started + 5_000 + Math.random() * RUN_S * 1_000);
  const noticedAt = new Array<number | undefined>(RUNS).fill(undefined);
  const enders = runs.map((run, i) =>
    setTimeout(
      () => {
        const held = fake.runs.find((r) => r.id === run.id);
        if (held) void fake.finishNow(held);
      },
      (endsAt[i] as number) - started,
    ),
  );
  const before = fake.requests.length;
  const waits = runs.map((run, i) =>
    waiter.wait(api, run, stopper.signal).then(
      () => void (noticedAt[i] = performance.now()),
      () => undefined,
    ),
  );
  const stopAt = Math.max(...endsAt) + GRACE_S * 1_000;
  let peakRss = 0;
  let peakHeap = 0;
  while (performance.now() < stopAt && noticedAt.some((t) => t === undefined)) {
    const memory = process.memoryUsage();
    peakRss = Math.max(peakRss, memory.rss);
    peakHeap = Math.max(peakHeap, memory.heapUsed);
    await sleep(250);
  }
  const finished = performance.now();
  stopper.abort(new Error('bench over'));
  await waiter.stop();
  enders.forEach(clearTimeout);
  await Promise.allSettled(waits);
  const reads = fake.requests.length - before;
  const lags = runs.map((_, i) => ((noticedAt[i] ?? finished) - (endsAt[i] as number)) / 1_000).sort((a, b) => a - b);
  const seconds = (finished - started) / 1_000;
  for (const guard of guards) await guard.close();
  await fake.close();
  return {
    name,
    runs: RUNS,
    noticed: noticedAt.filter((t) => t !== undefined).length,
    reads,
    seconds,
    readsPer30s: (reads / seconds) * 30,
    meanLagS: lags.reduce((a, b) => a + b, 0) / lags.length,
    p95LagS: lags[Math.floor(lags.length * 0.95)] ?? Number.NaN,
    rssMb: peakRss / 2 ** 20,
    heapMb: peakHeap / 2 ** 20,
  };
}

/**
 * The steady stream: RUNS runs of RUN_S in flight, one created as one ends, for STREAM_S; one watcher as the
 * daemon builds it. Runs are made in the fake directly (creation has its own budget, lifted here as in the issue's
 * workload); their ends and replacements come from one ticker, not a timer per run.
 */
async function runStream(name: string): Promise<CaseResult> {
  const fake: CodegenFake = await startCodegenFake({ repos: [{ id: 11, full_name: 'acme/widgets' }] });
  const guard = createCodegenGuard(config, { logger: silentLogger() });
  const api = createCodegenApi({
    baseUrl: fake.url,
    apiKey: fake.token,
    orgId: fake.orgId,
    timeoutMs: 30_000,
    logger: silentLogger(),
    guard,
  });
  fake.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: Number.MAX_SAFE_INTEGER, pr: false }));
  const watcher = watcherOf(api);
  const stopper = new AbortController();
  setMaxListeners(0, stopper.signal);
  const runMs = RUN_S * 1_000;
  const spacing = runMs / RUNS;
  const started = performance.now();
  const wallStart = Date.now();
  interface Live {
    fake: ReturnType<CodegenFake['createRunAsIfLost']>;
    endsAt: number;
    noticedAt?: number;
  }
  const live: Live[] = [];
  const ended: Live[] = [];
  const waits: Array<Promise<void>> = [];
  let made = 0;
  /** A run created `ageMs` ago (performance clock), ending RUN_S after its creation. */
  function create(ageMs: number): void {
    const held = fake.createRunAsIfLost({ prompt: `run ${made}`, repo_id: 11, metadata: { task_id: `t-${made}` } });
    made += 1;
    const createdAt = new Date(wallStart + (performance.now() - started) - ageMs).toISOString();
    held.createdAt = createdAt;
    const entry: Live = { fake: held, endsAt: performance.now() - ageMs + runMs };
    live.push(entry);
    const run: AgentRun = { id: held.id, status: 'ACTIVE', state: 'in_progress', pullRequests: [], createdAt };
    waits.push(
      waitOn(watcher, run, stopper.signal).then(
        () => void (entry.noticedAt = performance.now()),
        () => undefined,
      ),
    );
  }
  // As if the stream had been going on: the oldest run in flight ends first, one every `spacing` ms.
  for (let i = 0; i < RUNS; i += 1) create(runMs - (i + 1) * spacing);
  const before = fake.requests.length;
  const streamEnds = started + STREAM_S * 1_000;
  let readsInStream = 0;
  let peakRss = 0;
  let peakHeap = 0;
  while (performance.now() < streamEnds) {
    const now = performance.now();
    // Runs end in the order they were created; each one ended is replaced by a new one.
    while (live.length > 0 && (live[0] as Live).endsAt <= now) {
      const entry = live.shift() as Live;
      void fake.finishNow(entry.fake);
      ended.push(entry);
      create(0);
    }
    const memory = process.memoryUsage();
    peakRss = Math.max(peakRss, memory.rss);
    peakHeap = Math.max(peakHeap, memory.heapUsed);
    await sleep(10);
  }
  readsInStream = fake.requests.length - before;
  const streamSeconds = (performance.now() - started) / 1_000;
  // The runs that ended during the case get the grace to be noticed; the ones still in flight are not measured.
  const graceEnds = performance.now() + GRACE_S * 1_000;
  while (performance.now() < graceEnds && ended.some((e) => e.noticedAt === undefined)) await sleep(100);
  const finished = performance.now();
  stopper.abort(new Error('bench over'));
  await watcher.stop();
  await Promise.allSettled(waits);
  const lags = ended.map((e) => ((e.noticedAt ?? finished) - e.endsAt) / 1_000).sort((a, b) => a - b);
  await guard.close();
  await fake.close();
  return {
    name,
    runs: ended.length,
    noticed: ended.filter((e) => e.noticedAt !== undefined).length,
    reads: readsInStream,
    seconds: streamSeconds,
    readsPer30s: (readsInStream / streamSeconds) * 30,
    meanLagS: lags.reduce((a, b) => a + b, 0) / Math.max(1, lags.length),
    p95LagS: lags[Math.floor(lags.length * 0.95)] ?? Number.NaN,
    rssMb: peakRss / 2 ** 20,
    heapMb: peakHeap / 2 ** 20,
  };
}

/** A run watcher as the daemon builds one (client.ts), with a board when replicas share one. */
function watcherOf(api: CodegenApi, board?: RunBoard, readsPer30s = READS_PER_30S): RunWatcher {
  return createRunWatcher({
    agent: api,
    health,
    logger: silentLogger(),
    interval: {
      initialMs: config.codegen.pollInitialMs,
      maxMs: config.codegen.pollMaxMs,
      backoff: config.codegen.pollBackoff,
    },
    maxPages: 500,
    budget: { readsPer30s },
    ...(board ? { board } : {}),
  });
}

/** A replica's watcher: its guard's share of the budget (1/REPLICAS without Redis), a board when given. */
function replicaWatcher(api: CodegenApi, board?: RunBoard): RunWatcher {
  return watcherOf(api, board, replicaShare(codegenBudgets(config).standard, REPLICAS).max);
}

/** Tasks dealt round the replicas as claims would: run i waits in replica i mod REPLICAS. */
function replicasWaiter(watchers: RunWatcher[]): { wait: Waiter; stop(): Promise<void> } {
  let next = 0;
  return {
    wait: (_api, run, stop) => waitOn(watchers[next++ % watchers.length] as RunWatcher, run, stop),
    stop: async () => void (await Promise.all(watchers.map((w) => w.stop()))),
  };
}

/** A task's wait: until its run is no longer in progress. */
async function waitOn(watcher: RunWatcher, run: AgentRun, stop: AbortSignal): Promise<void> {
  let current: AgentRun | undefined = run;
  while (current?.state === 'in_progress') {
    current = await watcher.waitForChange(current, { signal: stop, until: Date.now() + 3_600_000 });
  }
}

async function main(): Promise<void> {
  const loadStart = loadNow();
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  progress(`${RUNS} runs of up to ${RUN_S} s; load average ${load}`);
  const results: CaseResult[] = [];
  let before: CaseResult | undefined;
  let after: CaseResult | undefined;
  if (CASES.has('polling')) {
    progress('per-run polling (before the watcher)');
    before = await runCase('per-run GET polling', () => ({ wait: perRunPolling, stop: () => undefined }));
    results.push(before);
  }
  if (CASES.has('watcher')) {
    progress('run watcher');
    after = await runCase('run watcher (list windows)', (api) => {
      const watcher = watcherOf(api);
      return { wait: (_api, run, stop) => waitOn(watcher, run, stop), stop: () => watcher.stop() };
    });
    results.push(after);
  }
  let alone: CaseResult | undefined;
  let shared: CaseResult | undefined;
  if (CASES.has('replicas')) {
    // The same replicas without a board: what the board saves (each replica reads the list for its own runs).
    progress(`run watcher, ${REPLICAS} replicas without a board`);
    alone = await runCase(`run watcher, ${REPLICAS} replicas without a board`, (_api, replicaApi) =>
      replicasWaiter(Array.from({ length: REPLICAS }, () => replicaWatcher(replicaApi(REPLICAS)))),
    );
    results.push(alone);
    if (DATABASE_URL) {
      progress(`run watcher, ${REPLICAS} replicas on a PostgreSQL board`);
      const schema = `bench_watch_${process.pid}`;
      const admin = createPostgresClient({ connectionString: DATABASE_URL });
      await migrate(admin, { schema });
      try {
        shared = await runCase(`run watcher, ${REPLICAS} replicas on a PostgreSQL board`, (_api, replicaApi) =>
          replicasWaiter(
            Array.from({ length: REPLICAS }, (_, i) =>
              replicaWatcher(
                replicaApi(REPLICAS),
                createPgRunBoard({
                  sql: createPostgresClient({ connectionString: DATABASE_URL, poolSize: 2 }),
                  schema,
                  namespace: 'bench',
                  me: `replica-${i}`,
                  ttlMs: Math.max(30_000, 2 * config.codegen.pollMaxMs),
                }),
              ),
            ),
          ),
        );
        results.push(shared);
      } finally {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.close();
      }
    } else progress('DATABASE_URL unset: no PostgreSQL board case');
  }
  let stream: CaseResult | undefined;
  if (CASES.has('stream')) {
    progress(`steady stream: ${RUNS} runs of ${RUN_S} s in flight for ${STREAM_S} s`);
    stream = await runStream(`steady stream, run watcher: ${RUNS} runs of ${RUN_S} s in flight for ${STREAM_S} s`);
  }
  const header =
    '| waiting | runs noticed | reads | reads per 30 s | mean notice lag (s) | p95 lag (s) | peak RSS (MB) | peak heap (MB) |';
  const row = (r: CaseResult) =>
    `| ${r.name} | ${r.noticed}/${r.runs} | ${r.reads} | ${r.readsPer30s.toFixed(1)} | ${r.meanLagS.toFixed(1)} | ${r.p95LagS.toFixed(1)} | ${r.rssMb.toFixed(0)} | ${r.heapMb.toFixed(0)} |`;
  const loadEnd = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  const raw = [
    `## Run watching at the real read budget (${new Date().toISOString().slice(0, 10)})`,
    '',
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GB; load average at start ${load}, at end ${loadEnd()}. Budget: ${config.rateLimits.codegenRequestsPer30s} reads per 30 s less ${config.rateLimits.headroom} % headroom. RSS and heap are the bench process's (fake included).`,
    ...(results.length > 0
      ? [
          '',
          `${RUNS} runs in flight, created at once, each ending at a uniform time in [5, ${5 + RUN_S}] s:`,
          '',
          header,
          '| --- | --- | --- | --- | --- | --- | --- | --- |',
          ...results.map(row),
        ]
      : []),
    ...(before && after
      ? [
          '',
          `Watcher over per-run polling, same run: notice lag ${(after.meanLagS / before.meanLagS).toFixed(3)}× (mean), runs noticed ${after.noticed}/${before.noticed}.`,
        ]
      : []),
    ...(shared && alone
      ? [
          '',
          `${REPLICAS} replicas on one PostgreSQL board over the same replicas without one, same run: deployment reads per 30 s ${(shared.readsPer30s / alone.readsPer30s).toFixed(2)}× (${shared.readsPer30s.toFixed(1)} against ${alone.readsPer30s.toFixed(1)}), mean notice lag ${(shared.meanLagS / alone.meanLagS).toFixed(2)}×. Each replica's guard holds 1/${REPLICAS} of the budget (no Redis to share it), so the leader reads ${REPLICAS}× slower than one replica alone.`,
        ]
      : []),
    ...(stream
      ? [
          '',
          `Steady stream: ${RUNS} runs of ${RUN_S} s in flight for ${STREAM_S} s, a new run created as one ends (about ${(RUNS / RUN_S).toFixed(1)} ends per second, oldest first); runs noticed are those that ended during the case:`,
          '',
          header,
          '| --- | --- | --- | --- | --- | --- | --- | --- |',
          row(stream),
        ]
      : []),
    '',
  ].join('\n');
  const summary = [
    ...(after
      ? [
          {
            figure: 'mean notice lag (watcher)',
            value: `${fmt(after.meanLagS, 1)} s`,
            comparison: before
              ? `${fmt(after.meanLagS / before.meanLagS, 3)}× per-run polling's ≥ ${fmt(before.meanLagS, 1)} s (runs ending uniformly in [5, ${5 + RUN_S}] s)`
              : `runs ending uniformly in [5, ${5 + RUN_S}] s`,
          },
          {
            figure: 'reads per 30 s (watcher)',
            value: fmt(after.readsPer30s, 1),
            comparison: `noticed ${after.noticed}/${after.runs}${before ? `; per-run polling ${fmt(before.readsPer30s, 1)}, noticed ${before.noticed}/${before.runs}` : ''}`,
          },
          {
            figure: 'peak RSS / heap (watcher case)',
            value: `${fmt(after.rssMb)} / ${fmt(after.heapMb)} MB`,
            comparison: 'whole bench process, fake included (goal for the daemon: <= 200 MB RSS)',
          },
        ]
      : []),
    ...(stream
      ? [
          {
            figure: 'mean notice lag, steady stream',
            value: `${fmt(stream.meanLagS, 2)} s (p95 ${fmt(stream.p95LagS, 2)} s)`,
            comparison: `${RUNS} runs of ${RUN_S} s in flight, one created as one ends (goal < 5 s); noticed ${stream.noticed}/${stream.runs}`,
          },
          {
            figure: 'reads per 30 s, steady stream',
            value: fmt(stream.readsPer30s, 1),
            comparison: `whole process (goal <= 60; the guard allows ${READS_PER_30S})`,
          },
        ]
      : []),
  ];
  const all = stream ? [...results, stream] : results;
  await writeScenarioJson('s3-watch', {
    scenario: 'S3',
    title: `${RUNS} runs in flight at the real read budget (${config.rateLimits.codegenRequestsPer30s} per 30 s less ${config.rateLimits.headroom} %): ending uniformly in [5, ${5 + RUN_S}] s, and a steady stream of runs of ${RUN_S} s`,
    machine: describeMachine(),
    load: { start: loadStart, end: loadNow() },
    rows: all.map(({ name, ...metrics }) => ({
      label: name,
      metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Number(v.toFixed(2))])),
    })),
    summary,
  });
  await writeMarkdownReport('watch', raw);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
