/**
 * The reconciler's write, TaskStore.noteAgentRun, on every store: a run nobody recorded is adopted only when it
 * carries the task's current intent and no worker holds the task; a PR from a run whose task already failed is
 * recorded on that task as a late PR; a second run of a task that has its own is noted once in its history.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { storeBackends, type StoreHarness } from './helpers/store-backends.js';

const opts = (worker: string) => ({ worker, limit: 10, leaseMs: 60_000 });
const pr = (n: number) => ({
  url: `https://github.com/acme/widgets/pull/${n}`,
  number: n,
  branch: `codegen-bot/run-${n}`,
});

async function add(store: TaskStore, id: string): Promise<void> {
  await store.addTasks([{ id, title: id, description: 'd' }]);
}

describe.each(storeBackends('task_sightings'))('agent run sightings on $name', (backend) => {
  let h: StoreHarness;
  beforeAll(async () => {
    h = await backend.open();
  }, backend.openTimeoutMs);
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    await h.reset();
  });

  it('adopts an unrecorded run of the current intent once no worker holds the task', async () => {
    await add(h.store, 'lost');
    const [c] = await h.store.claimTasks(opts('w1'));
    const intent = await h.store.recordRunIntent('lost', c!.lease.token, 'nonce-lost-001');
    // The worker is alive: the run is its business (it looks for it by intent itself).
    expect(await h.store.noteAgentRun('lost', { runId: 71, state: 'live', intent: intent.nonce })).toBe('none');
    // The worker was lost: its lease lapsed. Now the reconciler adopts the run.
    await h.backdate('lost', 'lease_expires_at');
    expect(await h.store.noteAgentRun('lost', { runId: 71, state: 'live', intent: intent.nonce })).toBe('adopted');
    expect((await h.store.getTask('lost'))?.checkpoint).toMatchObject({ agentRunId: 71, runIntent: intent });
    expect((await h.store.getTaskHistory('lost')).at(-1)).toMatchObject({
      actor: 'reconciler',
      kind: 'agent-run-adopted',
    });
    // The next claim resumes it (and spends no attempt: the worker was lost, the task did not fail).
    const [again] = await h.store.claimTasks(opts('w2'));
    expect(again?.task).toMatchObject({ attempts: 1, checkpoint: { agentRunId: 71 } });
  });

  it('never adopts a run of another intent, a failed run, or one for a task that tracks a run', async () => {
    await add(h.store, 'other');
    const [c] = await h.store.claimTasks(opts('w1'));
    await h.store.recordRunIntent('other', c!.lease.token, 'nonce-current');
    await h.store.releaseTask('other', c!.lease.token);
    // A run of an older intent (dropped after it ended without changes) must not come back.
    expect(await h.store.noteAgentRun('other', { runId: 80, state: 'succeeded', intent: 'nonce-older' })).toBe('none');
    expect(await h.store.noteAgentRun('other', { runId: 81, state: 'failed', intent: 'nonce-current' })).toBe('none');
    expect(await h.store.noteAgentRun('other', { runId: 82, state: 'live' })).toBe('none');
    expect((await h.store.getTask('other'))?.checkpoint.agentRunId).toBeUndefined();
    expect(await h.store.noteAgentRun('missing-task', { runId: 83, state: 'live', intent: 'nonce-current' })).toBe(
      'none',
    );
  });

  it('records a PR that arrives after its task failed, once, as a late PR', async () => {
    await add(h.store, 'late');
    const [c] = await h.store.claimTasks(opts('w1'));
    await h.store.recordAgentRun('late', c!.lease.token, { id: 90 });
    await h.store.failTask('late', c!.lease.token, {
      error: { category: 'timeout', code: 'task-deadline-exceeded', message: 'passed its deadline' },
    });
    const sighting = { runId: 90, state: 'succeeded' as const, pr: pr(7) };
    expect(await h.store.noteAgentRun('late', sighting)).toBe('late-pr');
    expect(await h.store.noteAgentRun('late', sighting)).toBe('none');
    const task = await h.store.getTask('late');
    expect(task).toMatchObject({ status: 'failed', checkpoint: { pr: { url: pr(7).url, number: 7 } } });
    expect((await h.store.getTaskHistory('late')).filter((e) => e.kind === 'late-pr')).toHaveLength(1);
  });

  it('notes a second run of a task that has its own, once', async () => {
    await add(h.store, 'twice');
    const [c] = await h.store.claimTasks(opts('w1'));
    await h.store.recordAgentRun('twice', c!.lease.token, { id: 100 });
    await h.store.recordPullRequest('twice', c!.lease.token, pr(10));
    await h.store.completeTask('twice', c!.lease.token, { pr: pr(10) });
    const extra = { runId: 101, state: 'succeeded' as const, pr: pr(11) };
    expect(await h.store.noteAgentRun('twice', extra)).toBe('extra-run');
    expect(await h.store.noteAgentRun('twice', extra)).toBe('none');
    // Its own run with its own PR is nothing to note.
    expect(await h.store.noteAgentRun('twice', { runId: 100, state: 'succeeded', pr: pr(10) })).toBe('none');
    const notes = (await h.store.getTaskHistory('twice')).filter((e) => e.kind === 'extra-run');
    expect(notes).toHaveLength(1);
    expect(notes[0]?.detail).toMatchObject({ pr: pr(11).url });
  });
});
