/**
 * Several replicas sharing one queue: 4 daemon processes against one PostgreSQL, the Codegen and GitHub
 * fakes, and 1,000 tasks. Every task must complete exactly once, with one agent run and one PR; the replicas'
 * run watchers share one leader's Codegen reads through the database.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { openPostgresTaskStore } from '../../src/adapters/task-store/index.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { killAll, startDaemon, type DaemonProcess } from './daemon-process.js';
import { REPO, startWorld, until, type World } from './world.js';

const DATABASE_URL = process.env.DATABASE_URL;

/** The run watcher's counters as /status shows them (src/daemon/run-watcher.ts, RunWatcherStats). */
interface WatcherStats {
  sweeps: number;
  led: number;
  boardReads: number;
  listReads: number;
  singleReads: number;
}
const TASKS = 1000;
const REPLICAS = 4;
const maybe = DATABASE_URL ? describe : describe.skip;
if (!DATABASE_URL)
  console.warn('replicas.e2e: skipped: set DATABASE_URL to a PostgreSQL database to run 4 daemons on one queue');

maybe(`${REPLICAS} daemons, one PostgreSQL queue, ${TASKS} tasks`, () => {
  const schema = `e2e_replicas_${process.pid}_${Date.now()}`;
  let store: TaskStore;
  let world: World;
  const daemons: DaemonProcess[] = [];

  beforeAll(async () => {
    store = await openPostgresTaskStore({ connectionString: DATABASE_URL ?? '', schema });
    world = await startWorld({ store, pollsUntilDone: 1 });
    for (let offset = 0; offset < TASKS; offset += 250) {
      await store.addTasks(
        Array.from({ length: 250 }, (_, i) => ({
          id: `r-${String(offset + i).padStart(4, '0')}`,
          title: `Replica task ${offset + i}`,
          description: 'Shared-queue task.',
        })),
      );
    }
  }, 60_000);

  afterAll(async () => {
    await killAll();
    await world?.close();
    await store?.close();
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  it('completes every task once, with one agent run and one PR each', async () => {
    for (let i = 0; i < REPLICAS; i += 1) {
      const env = world.daemonEnv({
        TASK_STORE: 'postgres',
        DATABASE_URL: DATABASE_URL ?? '',
        DATABASE_SCHEMA: schema,
        WORKER_NAME: `replica-${i}`,
        CONCURRENCY: '10',
        LOG_LEVEL: 'warn',
      });
      delete env.CLOUDFLARE_API_URL;
      daemons.push(startDaemon({ ...env, LOG_LEVEL: 'info' }));
    }
    await until(
      async () => (await store.countByStatus()).completed === TASKS,
      // A hang detector: about 200 s on a 2-core CI machine running other suites beside it.
      420_000,
      async () => `status counts ${JSON.stringify(await store.countByStatus())}`,
    );
    // What each replica's run watcher did (its /status), before they stop. A watcher counts a list read when it
    // sends it, so the fake's count is taken on both sides of the status reads (see below).
    const listReadsAtFake = () =>
      world.codegen.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/agent/runs')).length;
    const fakeReadsBefore = listReadsAtFake();
    const watchers = await Promise.all(
      daemons.map(async (d) => {
        const status = (await (await fetch(`${await d.httpUrl()}/status`)).json()) as { runWatcher?: WatcherStats };
        return status.runWatcher ?? { sweeps: 0, led: 0, boardReads: 0, listReads: 0, singleReads: 0 };
      }),
    );
    const fakeReadsAfter = listReadsAtFake();
    const exits = await Promise.all(daemons.map((d) => d.stop('SIGTERM')));
    expect(exits).toEqual(Array(REPLICAS).fill(0));

    // One agent run per task.
    const runs = new Map<string, number>();
    for (const run of world.codegen.runs) {
      const id = String(run.metadata?.task_id);
      runs.set(id, (runs.get(id) ?? 0) + 1);
    }
    expect(runs.size).toBe(TASKS);
    expect([...runs.values()].filter((n) => n !== 1)).toEqual([]);

    // One PR per task, none twice.
    const [owner = '', repo = ''] = REPO.split('/');
    const pulls = world.github.listPulls(owner, repo).filter((p) => p.head !== 'warm-up');
    expect(pulls).toHaveLength(TASKS);
    const prUrls = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await store.listTasks({ status: 'completed', limit: 500, ...(cursor ? { cursor } : {}) });
      for (const t of page.tasks) prUrls.add(String(t.checkpoint.pr?.url));
      cursor = page.nextCursor;
    } while (cursor);
    expect(prUrls.size).toBe(TASKS);

    // Completed exactly once each, and the work was shared between the replicas.
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    const completions = await client.query(
      `SELECT task_id, count(*)::int AS n FROM "${schema}".task_events WHERE to_status = 'completed' GROUP BY task_id HAVING count(*) <> 1`,
    );
    const owners = await client.query(
      `SELECT actor, count(*)::int AS n FROM "${schema}".task_events WHERE kind = 'claimed' GROUP BY actor`,
    );
    await client.end();
    expect(completions.rows).toEqual([]);

    // The replicas shared one run watcher's reads through the database (no Redis here): every list page Codegen
    // served was read by a replica leading that sweep for all, and the others' sweeps took the states from the
    // board. Without it each replica would page the list for its own runs, every sweep (boardReads all 0).
    // Every read the fake served before the status reads was a watcher's; a watcher may have sent one more (still on
    // its way, at most one per replica) when its status was read. Seen in CI: 314 counted against 313 served.
    const watcherReads = watchers.reduce((n, w) => n + w.listReads, 0);
    expect(watcherReads).toBeGreaterThanOrEqual(fakeReadsBefore);
    expect(watcherReads).toBeLessThanOrEqual(fakeReadsAfter + REPLICAS);
    const boardSweeps = watchers.reduce((n, w) => n + w.boardReads, 0);
    const ledSweeps = watchers.reduce((n, w) => n + w.led, 0);
    expect(boardSweeps).toBeGreaterThan(0);
    expect(ledSweeps).toBeGreaterThan(0);
    // Sweeps that read Codegen: the leaders' (led), and a replica's own when the board did not answer; the
    // latter must be rare, not the rule.
    const selfSweeps = watchers.reduce((n, w) => n + (w.sweeps - w.led - w.boardReads), 0);
    expect(selfSweeps).toBeLessThanOrEqual(ledSweeps);
    expect(owners.rows.length).toBe(REPLICAS);
    expect(world.codegen.violations).toEqual([]);
    expect(world.github.violations).toEqual([]);
  }, 480_000);
});
