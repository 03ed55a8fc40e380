/**
 * Retention and the operators' queries on SQLite, PGlite and (with DATABASE_URL) PostgreSQL: finished tasks and
 * their history older than the limit are deleted in small batches by the one replica holding the retention
 * lease; the queue snapshot counts live rows only; replicas report and people ask them to pause intake.
 * On PostgreSQL, EXPLAIN shows the snapshot and retention reading partial indexes (live rows: tasks_claim_idx;
 * finished rows in finishing order: tasks_finished_idx, migration 3).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { storeOperations, type StoreOperations } from '../../src/adapters/task-store/operations.js';
import { pruneBatchStatement, snapshotStatement } from '../../src/adapters/task-store/sql-operations.js';
import { createPostgresClient, createSqlTaskStore, migrate } from '../../src/adapters/task-store/index.js';
import { DATABASE_URL, storeBackends, uniqueSchema, type StoreHarness } from './helpers/store-backends.js';

const lease = { worker: 'w1', limit: 10, leaseMs: 60_000 };
const DAY = 86_400_000;
const prune = { olderThanMs: 30 * DAY, batchSize: 2, maxBatches: 100, holder: 'replica-a', leaseMs: 60_000 };

describe.each(storeBackends('retention'))('retention and operations on $name', (backend) => {
  let h: StoreHarness;
  let ops: StoreOperations;
  const table = (name: string): string => h.tasks.replace(/tasks$/, name);

  beforeAll(async () => {
    h = await backend.open();
    const found = storeOperations(h.store);
    if (!found) throw new Error(`${backend.name} store has no operations`);
    ops = found;
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    await h.reset();
    for (const name of ['replicas', 'maintenance_leases', 'operator_actions']) {
      await h.sql.query(`DELETE FROM ${table(name)}`);
    }
  });

  /** Add `ids` and finish each (completed), then move their finish `daysAgo` into the past. */
  async function finished(ids: string[], daysAgo: number): Promise<void> {
    await h.store.addTasks(ids.map((id) => ({ id, title: `t ${id}`, description: 'd' })));
    const claims = await h.store.claimTasks({ ...lease, taskIds: ids, limit: ids.length });
    for (const claim of claims) await h.store.completeTask(claim.task.id, claim.lease.token, { note: 'done' });
    const at = new Date(Date.now() - daysAgo * DAY).toISOString();
    for (const id of ids) await h.sql.query(`UPDATE ${h.tasks} SET completed_at = $1 WHERE id = $2`, [at, id]);
  }

  it('deletes finished tasks older than the limit with their history, in batches, and nothing else', async () => {
    await finished(['old-1', 'old-2', 'old-3', 'old-4', 'old-5'], 40);
    await finished(['recent-1'], 5);
    await h.store.addTasks([{ id: 'live-1', title: 'waiting', description: 'd' }]);
    // A failed and a cancelled task past the limit go too; a live one as old stays whatever its age.
    await h.store.addTasks([{ id: 'cancelled-1', title: 'c', description: 'd' }]);
    await h.store.cancelTask('cancelled-1', 'alice');
    await h.sql.query(`UPDATE ${h.tasks} SET completed_at = $1 WHERE id = 'cancelled-1'`, [
      new Date(Date.now() - 31 * DAY).toISOString(),
    ]);
    const eventsBefore = await h.sql.query<{ n: number }>(
      `SELECT count(*) AS n FROM ${h.events} WHERE task_id IN ('old-1','old-2','old-3','old-4','old-5','cancelled-1')`,
    );

    const result = await ops.pruneFinished(prune);

    expect(result).toMatchObject({ ran: true, tasks: 6, events: Number(eventsBefore.rows[0]!.n), batches: 3 });
    expect(result.lastRunAt).toEqual(expect.any(String));
    const left = await h.sql.query<{ id: string }>(`SELECT id FROM ${h.tasks} ORDER BY id`);
    expect(left.rows.map((r) => r.id)).toEqual(['live-1', 'recent-1']);
    const orphans = await h.sql.query<{ n: number }>(
      `SELECT count(*) AS n FROM ${h.events} WHERE task_id NOT IN ('live-1','recent-1')`,
    );
    expect(Number(orphans.rows[0]!.n)).toBe(0);
    expect((await h.store.getTaskHistory('recent-1')).length).toBeGreaterThan(0);
    // A second run finds nothing more to do.
    expect(await ops.pruneFinished(prune)).toMatchObject({ ran: true, tasks: 0, events: 0, batches: 0 });
  });

  it('stops at maxBatches: a run is bounded and the rest waits for the next run', async () => {
    await finished(['a', 'b', 'c', 'd', 'e'], 40);
    expect(await ops.pruneFinished({ ...prune, maxBatches: 1 })).toMatchObject({ tasks: 2, batches: 1 });
    expect(await ops.pruneFinished({ ...prune, maxBatches: 1 })).toMatchObject({ tasks: 2, batches: 1 });
    expect(await ops.pruneFinished({ ...prune, maxBatches: 1 })).toMatchObject({ tasks: 1, batches: 1 });
  });

  it('runs on one replica at a time: a held lease keeps others out until it expires', async () => {
    await finished(['a', 'b'], 40);
    const future = new Date(Date.now() + 60_000).toISOString();
    await h.sql.query(`INSERT INTO ${table('maintenance_leases')} (name, holder, expires_at) VALUES ($1, $2, $3)`, [
      'retention',
      'replica-b',
      future,
    ]);
    expect(await ops.pruneFinished(prune)).toMatchObject({ ran: false, tasks: 0 });
    expect((await h.sql.query(`SELECT id FROM ${h.tasks}`)).rows).toHaveLength(2);
    // replica-b died holding it: once the lease expires, replica-a takes over.
    const past = new Date(Date.now() - 1_000).toISOString();
    await h.sql.query(`UPDATE ${table('maintenance_leases')} SET expires_at = $1`, [past]);
    expect(await ops.pruneFinished(prune)).toMatchObject({ ran: true, tasks: 2 });
    // The lease is given back at the end of a run, with when it ran, for any replica to run next time.
    const other = await ops.pruneFinished({ ...prune, holder: 'replica-b' });
    expect(other).toMatchObject({ ran: true, tasks: 0 });
  });

  it('refuses bad retention options naming the field', async () => {
    await expect(ops.pruneFinished({ ...prune, olderThanMs: 0 })).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('olderThanMs'),
    });
    await expect(ops.pruneFinished({ ...prune, batchSize: 1.5 })).rejects.toMatchObject({
      message: expect.stringContaining('batchSize'),
    });
  });

  it('snapshots the live queue with zeros, the oldest ready task and the oldest finished one', async () => {
    const empty = await ops.queueSnapshot();
    expect(empty).toEqual({
      live: { pending: 0, retry: 0, claimed: 0, awaiting_agent: 0 },
      oldestReadyAgeSeconds: 0,
      oldestFinishedAgeSeconds: 0,
    });
    await finished(['done-1'], 3);
    await h.store.addTasks([
      { id: 'p1', title: 't', description: 'd' },
      { id: 'p2', title: 't', description: 'd' },
      { id: 'c1', title: 't', description: 'd' },
    ]);
    await h.store.claimTasks({ ...lease, taskIds: ['c1'], limit: 1 });
    expect(await ops.listInFlight(10)).toEqual([
      expect.objectContaining({
        id: 'c1',
        status: 'claimed',
        worker: 'w1',
        attempts: 1,
        updatedAt: expect.any(String),
      }),
    ]);
    // p1 became claimable two hours ago.
    await h.sql.query(`UPDATE ${h.tasks} SET updated_at = $1 WHERE id = 'p1'`, [
      new Date(Date.now() - 2 * 3_600_000).toISOString(),
    ]);
    const snapshot = await ops.queueSnapshot();
    expect(snapshot.live).toEqual({ pending: 2, retry: 0, claimed: 1, awaiting_agent: 0 });
    expect(snapshot.oldestReadyAgeSeconds).toBeGreaterThanOrEqual(2 * 3_600 - 60);
    expect(snapshot.oldestReadyAgeSeconds).toBeLessThan(2 * 3_600 + 600);
    expect(snapshot.oldestFinishedAgeSeconds).toBeGreaterThanOrEqual(3 * 86_400 - 60);
    expect(snapshot.oldestFinishedAgeSeconds).toBeLessThan(3 * 86_400 + 600);
  });

  it('keeps replica reports and records who asked a replica to pause or resume intake', async () => {
    const started = new Date(Date.now() - 60_000).toISOString();
    const first = await ops.reportReplica('replica-a', started, { inFlight: 2, intake: { paused: false } });
    expect(first).toMatchObject({ name: 'replica-a', report: { inFlight: 2 } });
    expect(first.intakeRequest).toBeUndefined();
    await ops.reportReplica('replica-b', started, { inFlight: 0 });

    await ops.requestIntake('replica-a', 'paused', 'alice');
    const again = await ops.reportReplica('replica-a', started, { inFlight: 1 });
    expect(again.intakeRequest).toMatchObject({ state: 'paused', by: 'alice' });
    expect(again.report).toEqual({ inFlight: 1 });

    await ops.requestIntake('*', 'running', 'bob');
    const listed = await ops.listReplicas(60_000);
    expect(listed.map((r) => [r.name, r.intakeRequest?.state, r.intakeRequest?.by]).sort()).toEqual([
      ['replica-a', 'running', 'bob'],
      ['replica-b', 'running', 'bob'],
    ]);
    await expect(ops.requestIntake('nobody', 'paused', 'alice')).rejects.toMatchObject({
      code: 'replica-not-found',
    });
    const actions = await ops.listOperatorActions(10);
    expect(actions.map((a) => [a.actor, a.action, a.target])).toEqual([
      ['bob', 'resume-intake', '*'],
      ['alice', 'pause-intake', 'replica-a'],
    ]);
  });
});

/**
 * The plans, on PostgreSQL with 20,000 finished rows and 50 live ones, statistics gathered (ANALYZE): the planner
 * picks the partial indexes on its own; no `enable_seqscan = off`.
 */
(DATABASE_URL ? describe : describe.skip)('retention and the queue snapshot on PostgreSQL: plans', () => {
  const schema = uniqueSchema('retention_plans');
  const sql = createPostgresClient({ connectionString: DATABASE_URL ?? '', poolSize: 2 });
  const tasks = `"${schema}".tasks`;

  beforeAll(async () => {
    await migrate(sql, { schema });
    await sql.query(
      `INSERT INTO ${tasks} (id, title, description, status, completed_at)
       SELECT 'f-' || g, 't', 'd', (ARRAY['completed','failed','cancelled'])[1 + g % 3],
              now() - (g % 60) * interval '1 day'
         FROM generate_series(1, 20000) g`,
    );
    await sql.query(
      `INSERT INTO ${tasks} (id, title, description, status)
       SELECT 'l-' || g, 't', 'd', (ARRAY['pending','retry'])[1 + g % 2] FROM generate_series(1, 50) g`,
    );
    await sql.query(`ANALYZE ${tasks}`);
  }, 60_000);
  afterAll(async () => {
    await sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await createSqlTaskStore(sql, { schema }).close();
  });

  async function plan(statement: string, params: unknown[] = []): Promise<string> {
    const result = await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement}`, params);
    return result.rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  it('counts the queue from live rows only: partial indexes, no scan of the tasks table', async () => {
    const text = await plan(snapshotStatement(tasks));
    expect(text).not.toMatch(/Seq Scan on tasks/);
    // Live rows through an index limited to them (tasks_claim_idx) or a range of the status index on live values.
    expect(text).toMatch(/tasks_claim_idx|tasks_status_list_idx/);
    expect(text).toMatch(/tasks_finished_idx/);
  });

  it('picks retention batches from the oldest end of the finished index', async () => {
    const text = await plan(
      pruneBatchStatement(tasks)
        .replace(/\$1::bigint/, '2592000000::bigint')
        .replace(/\$2::int/, '500'),
    );
    expect(text).not.toMatch(/Seq Scan on tasks/);
    expect(text).toMatch(/tasks_finished_idx/);
  });
});
