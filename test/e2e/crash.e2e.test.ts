/**
 * Crash safety: the daemon is killed with SIGKILL at the two dangerous moments, then started again.
 * 1. After Codegen created the run but before the daemon learned (and recorded) its id.
 * 2. While it waits on a recorded run.
 * Either way the restarted daemon ends with one agent run and one PR for the task.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { killAll, startDaemon } from './daemon-process.js';
import { REPO, startWorld, until, type World } from './world.js';

describe('crash safety (SIGKILL and restart)', () => {
  let world: World;
  // A short lease so the restarted daemon may re-claim the dead one's task quickly.
  const env = (): Record<string, string> => world.daemonEnv({ TASK_LEASE_MS: '1500', CONCURRENCY: '2' });
  const runsOf = (taskId: string) => world.codegen.runs.filter((r) => r.metadata?.task_id === taskId);
  const [owner = '', repo = ''] = REPO.split('/');

  beforeAll(async () => {
    world = await startWorld({ pollsUntilDone: 2 });
  });
  afterAll(async () => {
    await killAll();
    await world?.close();
  });

  it('finds the run it created but never recorded, instead of creating another', async () => {
    await world.store.addTasks([
      { id: 'crash-before-record', title: 'Crash test one', description: 'Killed after create.' },
    ]);
    // Codegen creates the run, but the answer never reaches the daemon: it cannot record the id.
    world.codegen.swallowResponseNext({ method: 'POST', pathIncludes: '/agent/run' });
    const first = startDaemon(env());
    await until(
      async () => runsOf('crash-before-record').length === 1,
      30_000,
      () => 'no run created',
    );
    expect((await world.store.getTask('crash-before-record'))?.checkpoint.agentRunId).toBeUndefined();
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');

    const second = startDaemon(env());
    await until(
      async () => (await world.store.getTask('crash-before-record'))?.status === 'completed',
      30_000,
      async () =>
        `${JSON.stringify(await world.store.getTask('crash-before-record'))}\nlogs: ${second.logs
          .slice(-15)
          .map((l) => JSON.stringify(l))
          .join('\n')}`,
    );
    const runs = runsOf('crash-before-record');
    expect(runs).toHaveLength(1);
    const task = await world.store.getTask('crash-before-record');
    expect(task?.checkpoint.agentRunId).toBe(runs[0]?.id);
    const pulls = world.github.listPulls(owner, repo).filter((p) => p.head === `codegen-bot/run-${runs[0]?.id}`);
    expect(pulls).toHaveLength(1);
    expect(task?.checkpoint.pr?.number).toBe(pulls[0]?.number);
    expect(await second.stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('resumes waiting on the recorded run after being killed mid-wait', async () => {
    world.codegen.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: 1_000_000 }));
    await world.store.addTasks([
      { id: 'crash-while-waiting', title: 'Crash test two', description: 'Killed mid-wait.' },
    ]);
    const first = startDaemon(env());
    await until(
      async () => (await world.store.getTask('crash-while-waiting'))?.checkpoint.agentRunId !== undefined,
      30_000,
      () => 'run never recorded',
    );
    // Let it poll a few times, then kill it while it waits.
    const [run] = runsOf('crash-while-waiting');
    await until(
      async () => (run?.getCount ?? 0) >= 2,
      10_000,
      () => 'no polls',
    );
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');
    if (run) run.pollsUntilDone = run.getCount + 2;

    const second = startDaemon(env());
    await until(
      async () => (await world.store.getTask('crash-while-waiting'))?.status === 'completed',
      30_000,
      async () => JSON.stringify(await world.store.getTask('crash-while-waiting')),
    );
    expect(runsOf('crash-while-waiting')).toHaveLength(1);
    const pulls = world.github.listPulls(owner, repo).filter((p) => p.head === `codegen-bot/run-${run?.id}`);
    expect(pulls).toHaveLength(1);
    const history = await world.store.getTaskHistory('crash-while-waiting');
    // Two claims (the second after the first lease expired), one completion.
    expect(history.filter((e) => e.kind === 'claimed')).toHaveLength(2);
    expect(history.filter((e) => e.toStatus === 'completed')).toHaveLength(1);
    expect(await second.stop('SIGTERM')).toBe(0);
    expect(world.codegen.violations).toEqual([]);
    expect(world.github.violations).toEqual([]);
  }, 60_000);
});
