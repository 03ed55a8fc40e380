/**
 * Claims, leases and fencing of the task store on SQLite, PGlite and (with DATABASE_URL) PostgreSQL. Time is moved
 * by writing it into rows (backdating lease_expires_at and next_run_at), never by sleeping.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { storeBackends, type StoreHarness } from './helpers/store-backends.js';

const opts = (worker: string, limit = 10) => ({ worker, limit, leaseMs: 60_000 });

async function addPlain(store: TaskStore, ids: string[], extra: { maxAttempts?: number } = {}) {
  await store.addTasks(ids.map((id) => ({ id, title: id, description: 'd', ...extra })));
}

describe.each(storeBackends('task_leases'))('task store leases on $name', (backend) => {
  let h: StoreHarness;
  const expireLease = (id: string) => h.backdate(id, 'lease_expires_at');

  beforeAll(async () => {
    h = await backend.open();
  }, backend.openTimeoutMs);
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    await h.reset();
  });

  it('claims by priority, then age, up to the limit', async () => {
    const order: Array<[string, 'low' | 'medium' | 'high' | 'critical']> = [
      ['a-low', 'low'],
      ['b-critical', 'critical'],
      ['c-medium', 'medium'],
      ['d-critical', 'critical'],
      ['e-high', 'high'],
    ];
    for (const [id, priority] of order) await h.store.addTasks([{ id, title: id, description: 'd', priority }]);
    const first = await h.store.claimTasks(opts('w1', 3));
    expect(first.map((c) => c.task.id)).toEqual(['b-critical', 'd-critical', 'e-high']);
    expect(first.every((c) => c.task.status === 'claimed' && c.task.attempts === 1 && c.lease.owner === 'w1')).toBe(
      true,
    );
    expect(new Set(first.map((c) => c.lease.token)).size).toBe(3);
    const second = await h.store.claimTasks(opts('w2', 10));
    expect(second.map((c) => c.task.id)).toEqual(['c-medium', 'a-low']);
    expect(await h.store.claimTasks(opts('w3'))).toEqual([]);
    expect(await h.store.claimTasks(opts('w3', 0))).toEqual([]);
    await expect(h.store.claimTasks({ worker: 'w', limit: 1, leaseMs: 0 })).rejects.toMatchObject({
      code: 'invalid-argument',
    });
  });

  it('claims only the named tasks when taskIds is given', async () => {
    await addPlain(h.store, ['n1', 'n2', 'n3']);
    const named = await h.store.claimTasks({ ...opts('w1'), taskIds: ['n3', 'missing'] });
    expect(named.map((c) => c.task.id)).toEqual(['n3']);
    // n3 is held now: naming it again claims nothing, and the others stay pending for everyone.
    expect(await h.store.claimTasks({ ...opts('w2'), taskIds: ['n3'] })).toEqual([]);
    const rest = await h.store.claimTasks(opts('w2'));
    expect(rest.map((c) => c.task.id).sort()).toEqual(['n1', 'n2']);
  });

  it('lets 8 concurrent claimers over 200 tasks claim each task exactly once', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    await addPlain(h.store, ids);
    const claimedBy = new Map<string, string[]>();
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (;;) {
          const batch = await h.store.claimTasks(opts(`w${w}`, 7));
          if (batch.length === 0) return;
          for (const c of batch) claimedBy.set(c.task.id, [...(claimedBy.get(c.task.id) ?? []), `w${w}`]);
        }
      }),
    );
    expect([...claimedBy.keys()].sort()).toEqual(ids);
    expect([...claimedBy.values()].every((workers) => workers.length === 1)).toBe(true);
    expect(await h.store.countByStatus()).toEqual({ claimed: 200 });
    const events = await h.sql.query<{ n: number }>(`SELECT count(*) AS n FROM ${h.events} WHERE kind = 'claimed'`);
    expect(Number(events.rows[0]!.n)).toBe(200);
  });

  it('extends the lease on heartbeat', async () => {
    await addPlain(h.store, ['hb']);
    const [c] = await h.store.claimTasks({ worker: 'w1', limit: 1, leaseMs: 1_000 });
    const extended = await h.store.heartbeat('hb', c!.lease.token, 120_000);
    expect(extended.token).toBe(c!.lease.token);
    expect(Date.parse(extended.expiresAt) - Date.parse(c!.lease.expiresAt)).toBeGreaterThan(100_000);
    // Heartbeats are not state changes: no history rows for them.
    expect((await h.store.getTaskHistory('hb')).map((e) => e.kind)).toEqual(['created', 'claimed']);
  });

  it('makes an expired lease claimable again with a new token and the checkpoint intact', async () => {
    await addPlain(h.store, ['exp']);
    const [first] = await h.store.claimTasks(opts('w1'));
    const pr = { url: 'https://github.com/a/b/pull/3', number: 3, branch: 'codegen/exp', state: 'open' as const };
    await h.store.recordAgentRun('exp', first!.lease.token, { id: 77, url: 'https://codegen.com/77' });
    await h.store.recordPullRequest('exp', first!.lease.token, pr);
    expect(await h.store.claimTasks(opts('w2'))).toEqual([]); // lease still live
    await expireLease('exp');

    const [second] = await h.store.claimTasks(opts('w2'));
    expect(second!.lease.token).not.toBe(first!.lease.token);
    expect(second!.lease.owner).toBe('w2');
    // Documented choice: a re-claimed awaiting_agent task comes back as claimed, checkpoint intact. A lost worker
    // is not the task's failure: the re-claim continues the same attempt and spends none, and is counted.
    expect(second!.task).toMatchObject({
      status: 'claimed',
      attempts: 1,
      leaseExpiries: 1,
      checkpoint: { agentRunId: 77, agentRunUrl: 'https://codegen.com/77', pr },
    });
    const last = (await h.store.getTaskHistory('exp')).at(-1);
    expect(last).toMatchObject({ actor: 'w2', kind: 'claimed', fromStatus: 'awaiting_agent', toStatus: 'claimed' });
    expect(last!.detail).toMatchObject({ leaseExpired: true, previousOwner: 'w1', attempt: 1 });
  });

  it('refuses a stale token on every leased write and leaves the task untouched', async () => {
    await addPlain(h.store, ['st']);
    const [first] = await h.store.claimTasks(opts('w1'));
    await expireLease('st');
    const [second] = await h.store.claimTasks(opts('w2'));
    const old = first!.lease.token;
    const before = await h.store.getTask('st');
    const error = { category: 'agent', code: 'x', message: 'x' };
    const pr = { url: 'https://github.com/a/b/pull/1', number: 1, branch: 'b' };
    const writes: Array<[string, () => Promise<unknown>]> = [
      ['heartbeat', () => h.store.heartbeat('st', old, 60_000)],
      ['recordAgentRun', () => h.store.recordAgentRun('st', old, { id: 1 })],
      ['recordPullRequest', () => h.store.recordPullRequest('st', old, pr)],
      ['completeTask', () => h.store.completeTask('st', old, {})],
      ['failTask', () => h.store.failTask('st', old, { error })],
      ['releaseTask', () => h.store.releaseTask('st', old)],
      ['not a uuid', () => h.store.heartbeat('st', 'not-a-uuid', 60_000)],
    ];
    for (const [name, write] of writes) {
      await expect(write().then(() => name)).rejects.toMatchObject({ code: 'stale-lease', category: 'conflict' });
    }
    expect(await h.store.getTask('st')).toEqual(before);
    await expect(h.store.heartbeat('st', second!.lease.token, 60_000)).resolves.toMatchObject({ owner: 'w2' });
  });

  it('schedules a retry that becomes claimable once next_run_at has passed', async () => {
    await addPlain(h.store, ['rt'], { maxAttempts: 2 });
    const [c] = await h.store.claimTasks(opts('w1'));
    const retryAt = new Date(Date.now() + 3_600_000).toISOString();
    const error = { category: 'network', code: 'codegen-unreachable', message: 'ECONNRESET' };
    const retry = await h.store.failTask('rt', c!.lease.token, { error, retryAt });
    expect(retry).toMatchObject({ status: 'retry', attempts: 1, nextRunAt: retryAt, lastError: error });
    expect(await h.store.claimTasks(opts('w1'))).toEqual([]);
    await h.backdate('rt', 'next_run_at');
    const [again] = await h.store.claimTasks(opts('w2'));
    expect(again!.task).toMatchObject({ id: 'rt', status: 'claimed', attempts: 2 });
    expect(again!.task.nextRunAt).toBeUndefined();

    // Attempts used up: a retryable failure still ends in failed...
    const failed = await h.store.failTask('rt', again!.lease.token, { error, retryAt });
    expect(failed).toMatchObject({ status: 'failed', attempts: 2 });
    expect((await h.store.getTaskHistory('rt')).map((e) => e.kind)).toEqual([
      'created',
      'claimed',
      'retry-scheduled',
      'claimed',
      'failed',
    ]);
  });

  it('does not use up an attempt when countAttempt is false', async () => {
    await addPlain(h.store, ['rl'], { maxAttempts: 1 });
    const [c] = await h.store.claimTasks(opts('w1'));
    const error = { category: 'rate_limit', code: 'codegen-rate-limited', message: '429' };
    const retryAt = new Date(Date.now() - 1000).toISOString();
    const task = await h.store.failTask('rl', c!.lease.token, { error, retryAt, countAttempt: false });
    expect(task).toMatchObject({ status: 'retry', attempts: 0 });
    const [again] = await h.store.claimTasks(opts('w1'));
    expect(again!.task.attempts).toBe(1);
  });

  it('spends no attempt on re-claims after lost workers, and fails a task that loses too many', async () => {
    await addPlain(h.store, ['oa'], { maxAttempts: 1 });
    await addPlain(h.store, ['other']);
    const [c] = await h.store.claimTasks(opts('w1', 1));
    expect(c!.task).toMatchObject({ id: 'oa', attempts: 1 });
    // Its only attempt is in use; the worker is lost twice and the task is re-claimed each time.
    for (const worker of ['w2', 'w3']) {
      await expireLease('oa');
      const [again] = await h.store.claimTasks({ ...opts(worker, 1), taskIds: ['oa'], maxLeaseExpiries: 3 });
      expect(again!.task).toMatchObject({ id: 'oa', attempts: 1, status: 'claimed' });
    }
    // The third lost worker reaches the bound: the task is failed instead of claimed again.
    await expireLease('oa');
    const next = await h.store.claimTasks({ ...opts('w4'), maxLeaseExpiries: 3 });
    expect(next.map((n) => n.task.id)).toEqual(['other']);
    const task = await h.store.getTask('oa');
    expect(task).toMatchObject({
      status: 'failed',
      attempts: 1,
      leaseExpiries: 3,
      lastError: { code: 'lease-expired-too-often', category: 'unknown' },
    });
    expect(task!.lastError!.message).toMatch(/lost 3 times/);
    expect((await h.store.getTaskHistory('oa')).at(-1)).toMatchObject({ actor: 'system', kind: 'failed' });
    await expect(h.store.completeTask('oa', c!.lease.token, {})).rejects.toMatchObject({ code: 'stale-lease' });
    expect(await h.store.claimTasks(opts('w5'))).toEqual([]);
  });

  it('records a run intent under the lease, keeps it with the run, and drops both when the run is over', async () => {
    await addPlain(h.store, ['in']);
    const [c] = await h.store.claimTasks(opts('w1'));
    const intent = await h.store.recordRunIntent('in', c!.lease.token, 'nonce-abcdef');
    expect(intent.nonce).toBe('nonce-abcdef');
    expect(Number.isNaN(Date.parse(intent.at))).toBe(false);
    await h.store.recordAgentRun('in', c!.lease.token, { id: 41 });
    expect((await h.store.getTask('in'))!.checkpoint).toMatchObject({ agentRunId: 41, runIntent: intent });
    await expect(h.store.recordRunIntent('in', 'stale-token', 'nonce-zzzzzz')).rejects.toMatchObject({
      code: 'stale-lease',
    });
    const retried = await h.store.failTask('in', c!.lease.token, {
      error: { category: 'agent', code: 'agent-run-error', message: 'the run failed' },
      retryAt: new Date().toISOString(),
      dropRun: true,
    });
    expect(retried.status).toBe('retry');
    expect(retried.checkpoint.agentRunId).toBeUndefined();
    expect(retried.checkpoint.runIntent).toBeUndefined();
    const history = await h.store.getTaskHistory('in');
    expect(history.map((e) => e.kind)).toEqual([
      'created',
      'claimed',
      'run-intent',
      'agent-run-recorded',
      'retry-scheduled',
    ]);
    expect(history.at(-1)!.detail).toMatchObject({ runDropped: true });
  });

  it('recognises a fenced write repeated after its answer was lost, and writes no second history row', async () => {
    await addPlain(h.store, ['rp']);
    const [c] = await h.store.claimTasks(opts('w1'));
    const error = { category: 'network', code: 'x', message: 'y' };
    const retryAt = new Date(Date.now() + 60_000).toISOString();
    const first = await h.store.failTask('rp', c!.lease.token, { error, retryAt, countAttempt: false });
    const again = await h.store.failTask('rp', c!.lease.token, { error, retryAt, countAttempt: false });
    expect(again).toMatchObject({ status: 'retry', attempts: first.attempts });
    expect((await h.store.getTaskHistory('rp')).filter((e) => e.kind === 'retry-scheduled')).toHaveLength(1);
  });

  it('releases a task back to pending with the attempt refunded and the checkpoint kept', async () => {
    await addPlain(h.store, ['rel']);
    const [c] = await h.store.claimTasks(opts('w1'));
    await h.store.recordAgentRun('rel', c!.lease.token, { id: 5 });
    await h.store.releaseTask('rel', c!.lease.token);
    const task = await h.store.getTask('rel');
    expect(task).toMatchObject({ status: 'pending', attempts: 0, checkpoint: { agentRunId: 5 } });
    const row = await h.sql.query(`SELECT lease_owner, lease_expires_at FROM ${h.tasks} WHERE id = 'rel'`);
    expect(row.rows[0]).toEqual({ lease_owner: null, lease_expires_at: null });
    // The token stays on the pending row so a repeated release is recognised as done; it fences nothing else.
    await h.store.releaseTask('rel', c!.lease.token);
    expect((await h.store.getTaskHistory('rel')).filter((e) => e.kind === 'released')).toHaveLength(1);
    await expect(h.store.heartbeat('rel', c!.lease.token, 1000)).rejects.toMatchObject({ code: 'invalid-transition' });
    expect((await h.store.getTaskHistory('rel')).at(-1)).toMatchObject({ actor: 'w1', kind: 'released' });
    const [again] = await h.store.claimTasks(opts('w2'));
    expect(again!.task).toMatchObject({ id: 'rel', attempts: 1, checkpoint: { agentRunId: 5 } });
  });

  it('makes the holder’s token stale when the task is cancelled', async () => {
    await addPlain(h.store, ['cx']);
    const [c] = await h.store.claimTasks(opts('w1'));
    const cancelled = await h.store.cancelTask('cx', 'alice');
    expect(cancelled.status).toBe('cancelled');
    await expect(h.store.completeTask('cx', c!.lease.token, {})).rejects.toMatchObject({ code: 'stale-lease' });
    await expect(h.store.heartbeat('cx', c!.lease.token, 1000)).rejects.toMatchObject({ code: 'stale-lease' });
    expect((await h.store.getTaskHistory('cx')).at(-1)).toMatchObject({
      actor: 'alice',
      kind: 'cancelled',
      fromStatus: 'claimed',
      detail: { previousOwner: 'w1' },
    });
    expect(await h.store.claimTasks(opts('w2'))).toEqual([]);
  });
});
