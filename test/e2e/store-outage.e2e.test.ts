/**
 * A task store that stops answering, seen from outside: the built daemon on PostgreSQL through a loopback TCP
 * proxy that can stop forwarding (sockets stay open, no bytes pass: a hung server or a silent network).
 * - A worker whose heartbeats stop getting through stops before its next call to Codegen or GitHub, and the
 *   task is finished once the store answers again, with one run and one PR.
 * - Shutdown finishes even while the database does not answer.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { openPostgresTaskStore } from '../../src/adapters/task-store/index.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { startTcpProxy, type TcpProxy } from '../fakes/tcp-proxy.js';
import { killAll, startDaemon } from './daemon-process.js';
import { REPO, startWorld, until, type World } from './world.js';

const DATABASE_URL = process.env.DATABASE_URL;
const maybe = DATABASE_URL ? describe : describe.skip;
if (!DATABASE_URL) console.warn('store-outage.e2e: skipped: set DATABASE_URL to run the daemon on PostgreSQL');

maybe('a task store that stops answering', () => {
  const schema = `e2e_store_outage_${process.pid}_${Date.now()}`;
  let store: TaskStore;
  let world: World;
  let proxy: TcpProxy;
  const [owner = '', repo = ''] = REPO.split('/');

  const env = (extra: Record<string, string> = {}): Record<string, string> =>
    world.daemonEnv({
      CLOUDFLARE_API_URL: '',
      CLOUDFLARE_API_KEY: '',
      TASK_STORE: 'postgres',
      DATABASE_URL: proxy.url(DATABASE_URL ?? ''),
      DATABASE_SCHEMA: schema,
      TASK_LEASE_MS: '1500',
      CONCURRENCY: '4',
      RECONCILE_INTERVAL_MS: '0',
      ...extra,
    });
  const runsOf = (taskId: string) => world.codegen.runs.filter((r) => r.metadata?.task_id === taskId);

  beforeAll(async () => {
    store = await openPostgresTaskStore({ connectionString: DATABASE_URL ?? '', schema });
    world = await startWorld({ store, pollsUntilDone: 1 });
    proxy = await startTcpProxy({ target: DATABASE_URL ?? '' });
  }, 60_000);
  afterAll(async () => {
    await killAll();
    await proxy?.close();
    await world?.close();
    await store?.close();
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  it('stops work on a task whose heartbeats stop getting through, before touching GitHub; finishes it later', async () => {
    // Runs that go on until the test lets them finish.
    world.codegen.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: 1_000_000 }));
    const ids = ['hb-1', 'hb-2'];
    await store.addTasks(ids.map((id) => ({ id, title: `Heartbeat ${id}`, description: 'd' })));
    const daemon = startDaemon(env());
    await until(
      async () => ids.every((id) => runsOf(id).length === 1),
      30_000,
      () => JSON.stringify(world.codegen.runs.map((r) => r.metadata)),
    );
    await until(
      async () => (await Promise.all(ids.map((id) => store.getTask(id)))).every((t) => t?.status === 'awaiting_agent'),
      30_000,
      () => 'runs never recorded',
    );
    proxy.pause();
    const lost = () => daemon.logs.filter((l) => /lease lost/.test(String(l.msg)) && ids.includes(String(l.taskId)));
    await until(
      async () => lost().length >= ids.length,
      30_000,
      () => JSON.stringify(daemon.logs.slice(-10)),
    );
    // The lease is given up: now let the runs finish. Nothing may reach GitHub while the store is silent.
    const githubBefore = world.github.requests.length;
    const pollsAtLoss = ids.map((id) => runsOf(id)[0]?.getCount ?? 0);
    for (const id of ids) {
      const run = runsOf(id)[0];
      if (run) run.pollsUntilDone = 0;
    }
    expect(world.github.requests.length).toBe(githubBefore);
    expect(ids.map((id) => runsOf(id)[0]?.getCount ?? 0)).toEqual(pollsAtLoss);

    proxy.resume();
    await until(
      async () => (await Promise.all(ids.map((id) => store.getTask(id)))).every((t) => t?.status === 'completed'),
      60_000,
      async () => JSON.stringify(await Promise.all(ids.map((id) => store.getTask(id)))),
    );
    for (const id of ids) {
      expect(runsOf(id)).toHaveLength(1);
      const head = `codegen-bot/run-${runsOf(id)[0]?.id}`;
      expect(world.github.listPulls(owner, repo).filter((p) => p.head === head)).toHaveLength(1);
      // The re-claim after the lost lease spent no attempt. (A loaded machine can lose the lease once more after
      // the store is back: a lost lease is counted, never an attempt.)
      const finished = await store.getTask(id);
      expect(finished).toMatchObject({ attempts: 1 });
      expect(finished?.leaseExpiries).toBeGreaterThanOrEqual(1);
    }
    expect(await daemon.stop('SIGTERM')).toBe(0);
  }, 120_000);

  it('shuts down while the database does not answer', async () => {
    world.codegen.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: 1_000_000 }));
    const ids = ['sd-1', 'sd-2', 'sd-3'];
    await store.addTasks(ids.map((id) => ({ id, title: `Shutdown ${id}`, description: 'd' })));
    const daemon = startDaemon(env({ SHUTDOWN_GRACE_MS: '500' }));
    await until(
      async () => ids.every((id) => runsOf(id).length === 1),
      30_000,
      () => 'runs never created',
    );
    proxy.pause();
    await proxy.waitForHeldRequest();
    // The daemon's heartbeats, claims and the releases it tries on the way out all hang; it must exit anyway.
    expect(await daemon.stop('SIGTERM')).toBe(0);
    expect(daemon.logs.some((l) => /stopped/.test(String(l.msg)))).toBe(true);
    proxy.resume();
    // Nothing was lost: each task still has its run recorded, or, when the database went silent between the
    // create call and the record, the intent that run carries, by which the next daemon finds it.
    for (const id of ids) {
      const task = await store.getTask(id);
      const run = runsOf(id)[0];
      const found =
        task?.checkpoint.agentRunId === run?.id || task?.checkpoint.runIntent?.nonce === run?.metadata?.intent;
      expect({ id, found }).toEqual({ id, found: true });
    }
  }, 120_000);

  it('waits at start for a database that does not answer yet, saying so, and starts once it does', async () => {
    // A compose file starting PostgreSQL beside the daemon, or a network dropping the first connections: the
    // daemon must not exit (nothing would start it again outside an orchestrator) nor wait in silence.
    await store.addTasks([{ id: 'late-db', title: 'After the database is up', description: 'd' }]);
    world.codegen.setOutcome(() => ({ finalStatus: 'COMPLETE' }));
    proxy.pause();
    const daemon = startDaemon(env());
    try {
      // pg gives up a connection that gets no answer after its connect timeout (10 s) and the start goes on trying.
      await daemon.waitForLog((l) => /task store not reachable yet/.test(String(l.msg)), 60_000);
      expect(daemon.child.exitCode).toBeNull();
      proxy.resume();
      await daemon.waitForLog((l) => l.msg === 'task store ready', 60_000);
      await until(
        async () => (await store.getTask('late-db'))?.status === 'completed',
        60_000,
        async () => JSON.stringify(await store.getTask('late-db')),
      );
    } finally {
      proxy.resume();
      expect(await daemon.stop('SIGTERM')).toBe(0);
    }
  }, 180_000);
});
