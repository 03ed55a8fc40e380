/**
 * A late PR is never lost, from outside: a task passes its wall-clock deadline while its agent run goes on and
 * fails; the run finishes later and opens its PR; the daemon's reconciler finds the run among the
 * organization's runs and records the PR on the failed task, marked in its history as a late PR.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { killAll, startDaemon } from './daemon-process.js';
import { startWorld, until, type World } from './world.js';

describe('a PR that arrives after its task ended', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ pollsUntilDone: 1_000_000 });
  });
  afterAll(async () => {
    await killAll();
    await world?.close();
  });

  it('is recorded on the failed task as a late PR', async () => {
    world.codegen.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: 1_000_000 }));
    await world.store.addTasks([{ id: 'slow-one', title: 'Slower than its deadline', description: 'd' }]);
    const daemon = startDaemon(world.daemonEnv({ TASK_DEADLINE_MS: '1500', RECONCILE_INTERVAL_MS: '300' }));
    const task = () => world.store.getTask('slow-one');
    await until(
      async () => (await task())?.status === 'failed',
      30_000,
      async () => JSON.stringify(await task()),
    );
    expect((await task())?.lastError?.code).toBe('task-deadline-exceeded');
    expect((await task())?.checkpoint.pr).toBeUndefined();

    // The run goes on without anyone asking, and opens its PR.
    const [run] = world.codegen.runs.filter((r) => r.metadata?.task_id === 'slow-one');
    if (!run) throw new Error('no run');
    await world.codegen.finishNow(run);
    const prUrl = run.pullRequests[0]?.url;
    expect(prUrl).toMatch(/\/pull\/\d+$/);

    await until(
      async () => (await task())?.checkpoint.pr !== undefined,
      30_000,
      async () => JSON.stringify(await task()),
    );
    expect(await task()).toMatchObject({ status: 'failed', checkpoint: { pr: { url: prUrl } } });
    const history = await world.store.getTaskHistory('slow-one');
    expect(history.filter((e) => e.kind === 'late-pr')).toEqual([
      expect.objectContaining({ actor: 'reconciler', detail: expect.objectContaining({ url: prUrl }) }),
    ]);
    // The history row is written before the line is logged: wait for the line.
    await daemon.waitForLog((l) => /late PR/.test(String(l.msg)));
    expect(await daemon.stop('SIGTERM')).toBe(0);
  }, 90_000);
});
