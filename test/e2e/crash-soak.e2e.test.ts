/**
 * Crash soak, from outside: 300 tasks on PostgreSQL, the daemon killed with SIGKILL at 20 random moments and
 * started again each time, then left to finish. Random moments are drawn from a seeded source as "after this
 * many more runs created or tasks completed", so kills land while runs are being created, recorded, waited on,
 * and PRs opened, without the test sleeping. Runs and PRs are counted per task in the fakes.
 *
 * Must show: 0 tasks lost, 0 failed, exactly one agent run and one PR per task, and each task's recorded PR is
 * that one. The figures are printed for the closing note.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { openPostgresTaskStore } from '../../src/adapters/task-store/index.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import type { Task } from '../../src/domain/task.js';
import { killAll, startDaemon } from './daemon-process.js';
import { REPO, startWorld, until, type World } from './world.js';

const DATABASE_URL = process.env.DATABASE_URL;
const TASKS = Number(process.env.CRASH_TASKS ?? 300);
const KILLS = Number(process.env.CRASH_KILLS ?? 20);
const maybe = DATABASE_URL ? describe : describe.skip;
if (!DATABASE_URL) console.warn('crash-soak.e2e: skipped: set DATABASE_URL to run the daemon on PostgreSQL');

maybe(`${TASKS} tasks, ${KILLS} SIGKILLs`, () => {
  const schema = `e2e_crash_soak_${process.pid}_${Date.now()}`;
  let store: TaskStore;
  let world: World;
  const [owner = '', repo = ''] = REPO.split('/');

  beforeAll(async () => {
    store = await openPostgresTaskStore({ connectionString: DATABASE_URL ?? '', schema });
    world = await startWorld({ store, pollsUntilDone: 3 });
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

  it('loses nothing and does nothing twice', async () => {
    const ids = Array.from({ length: TASKS }, (_, i) => `crash-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < ids.length; i += 100) {
      await store.addTasks(ids.slice(i, i + 100).map((id) => ({ id, title: `Soak ${id}`, description: 'd' })));
    }
    const env = world.daemonEnv({
      CLOUDFLARE_API_URL: '',
      CLOUDFLARE_API_KEY: '',
      TASK_STORE: 'postgres',
      DATABASE_URL: DATABASE_URL ?? '',
      DATABASE_SCHEMA: schema,
      // Short, so that killed workers' tasks come back within the run, yet long enough that a loaded 2-core
      // machine delivers a heartbeat in time: at 1.5 s, workers there gave up tasks for want of one every few
      // seconds, and some tasks ran out of lease expiries without any kill.
      TASK_LEASE_MS: '4000',
      CONCURRENCY: '20',
      BATCH_SIZE: '20',
      RECONCILE_INTERVAL_MS: '1000',
    });
    let seed = 20261130;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const progress = async (): Promise<number> => {
      const done = (await store.listTasks({ status: 'completed', limit: 500 })).tasks.length;
      return world.codegen.runs.length + done;
    };
    const statuses = async () => Promise.all(ids.map((id) => store.getTask(id)));

    for (let kill = 0; kill < KILLS; kill++) {
      const daemon = startDaemon(env);
      const from = await progress();
      const target = from + 1 + Math.floor(random() * 25);
      // Every task may already be done: then the kill lands on an idle daemon, which is a moment too.
      await until(
        async () => (await progress()) >= target || (await statuses()).every((t) => t?.status === 'completed'),
        120_000,
        () => `kill ${kill}: progress stuck at ${from}`,
      );
      expect(await daemon.stop('SIGKILL')).toBe('SIGKILL');
    }

    const last = startDaemon(env);
    await until(
      async () => (await statuses()).every((t) => t?.status === 'completed' || t?.status === 'failed'),
      300_000,
      async () => {
        const open = (await statuses()).filter((t) => t?.status !== 'completed' && t?.status !== 'failed');
        return `${open.length} open, e.g. ${JSON.stringify(open.slice(0, 2))}`;
      },
    );
    expect(await last.stop('SIGTERM')).toBe(0);

    const tasks = (await statuses()) as Task[];
    const pulls = world.github.listPulls(owner, repo);
    let duplicateRuns = 0;
    let duplicatePulls = 0;
    for (const task of tasks) {
      const runs = world.codegen.runs.filter((r) => r.metadata?.task_id === task.id);
      const mine = pulls.filter((p) => runs.some((r) => p.head === `codegen-bot/run-${r.id}`));
      duplicateRuns += Math.max(0, runs.length - 1);
      duplicatePulls += Math.max(0, mine.length - 1);
      expect({
        id: task.id,
        status: task.status,
        runs: runs.length,
        pulls: mine.length,
        ...(task.status === 'failed' ? { why: task.lastError, leaseExpiries: task.leaseExpiries } : {}),
      }).toEqual({ id: task.id, status: 'completed', runs: 1, pulls: 1 });
      expect(task.checkpoint.pr?.number).toBe(mine[0]?.number);
    }
    const history = await Promise.all(tasks.map((t) => store.getTaskHistory(t.id)));
    const reclaims = history.flat().filter((e) => e.kind === 'claimed' && e.detail?.leaseExpired === true).length;
    console.log(
      `crash-soak.e2e: ${KILLS} SIGKILLs, ${tasks.length} tasks: ${tasks.filter((t) => t.status === 'completed').length} ` +
        `completed, 0 lost, ${duplicateRuns} duplicate runs, ${duplicatePulls} duplicate PRs, ${reclaims} re-claims ` +
        `after a lost worker, most attempts on one task ${Math.max(...tasks.map((t) => t.attempts))}`,
    );
    expect(world.codegen.violations).toEqual([]);
    expect(world.github.violations).toEqual([]);
  }, 900_000);
});
