/**
 * Exactly once and attempts that mean something, seen from outside: the built daemon against the loopback
 * world, killed and restarted as an operator's orchestrator would. Each case is a sequence that gave a task a
 * second live agent run, or spent its attempts on something that was not its fault, before run intents, lost
 * workers that spend nothing, and the wall-clock deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { killAll, startDaemon } from './daemon-process.js';
import { startWorld, until, type World } from './world.js';

describe('exactly one live run per task, and attempts only for the task’s own failures', () => {
  let world: World;
  const env = (extra: Record<string, string> = {}): Record<string, string> =>
    world.daemonEnv({ TASK_LEASE_MS: '1500', CONCURRENCY: '2', RECONCILE_INTERVAL_MS: '0', ...extra });
  const runsOf = (taskId: string) => world.codegen.runs.filter((r) => r.metadata?.task_id === taskId);
  const liveOrDone = (taskId: string) => runsOf(taskId).filter((r) => !/ERROR|FAILED/.test(r.finalStatus));
  const task = (id: string) => world.store.getTask(id);
  const describeTask = async (id: string) =>
    `${JSON.stringify(await task(id))}\nruns: ${JSON.stringify(runsOf(id).map((r) => [r.id, r.status]))}`;

  beforeAll(async () => {
    world = await startWorld({ pollsUntilDone: 2 });
  });
  afterAll(async () => {
    await killAll();
    await world?.close();
  });

  it('a failed run, then an attempt killed after creating its run: the next attempt finds that run', async () => {
    const id = 'failed-then-crashed';
    // The first run fails; every later run completes.
    world.codegen.setOutcome((run) =>
      run.metadata?.task_id === id && runsOf(id).length === 0
        ? { finalStatus: 'ERROR', pollsUntilDone: 1_000_000 }
        : { finalStatus: 'COMPLETE' },
    );
    await world.store.addTasks([{ id, title: 'Failed then crashed', description: 'Sequence one.' }]);
    const first = startDaemon(env());
    await until(
      async () => runsOf(id).length === 1,
      30_000,
      () => describeTask(id),
    );
    // The second attempt's create is carried out by Codegen but its answer never arrives; then the worker dies.
    world.codegen.swallowResponseNext({ method: 'POST', pathIncludes: '/agent/run' });
    const [run1] = runsOf(id);
    if (run1) run1.pollsUntilDone = run1.getCount;
    await until(
      async () => runsOf(id).length === 2,
      30_000,
      () => describeTask(id),
    );
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');

    const second = startDaemon(env());
    await until(
      async () => (await task(id))?.status === 'completed',
      30_000,
      () => describeTask(id),
    );
    // Run 1 failed; run 2 is the one live run; nothing created a third.
    expect(runsOf(id)).toHaveLength(2);
    expect(liveOrDone(id)).toHaveLength(1);
    expect((await task(id))?.checkpoint.agentRunId).toBe(runsOf(id)[1]?.id);
    expect(
      world.github.listPulls('acme', 'widgets').filter((p) => p.head === `codegen-bot/run-${runsOf(id)[1]?.id}`),
    ).toHaveLength(1);
    expect(await second.stop('SIGTERM')).toBe(0);
  }, 90_000);

  it('a graceful shutdown during the create call of attempt 1: the next claim finds the run instead of making a second', async () => {
    const id = 'shutdown-during-create';
    world.codegen.setOutcome(() => ({ finalStatus: 'COMPLETE' }));
    world.codegen.swallowResponseNext({ method: 'POST', pathIncludes: '/agent/run' });
    await world.store.addTasks([{ id, title: 'Shutdown mid-create', description: 'Sequence two.' }]);
    const first = startDaemon(env({ SHUTDOWN_GRACE_MS: '200' }));
    await until(
      async () => runsOf(id).length === 1,
      30_000,
      () => describeTask(id),
    );
    expect(await first.stop('SIGTERM')).toBe(0);
    // The release gave the attempt back: the task is pending at attempt 0 again.
    expect(await task(id)).toMatchObject({ status: 'pending', attempts: 0 });

    const second = startDaemon(env());
    await until(
      async () => (await task(id))?.status === 'completed',
      30_000,
      () => describeTask(id),
    );
    expect(runsOf(id)).toHaveLength(1);
    expect(await task(id)).toMatchObject({ attempts: 1, checkpoint: { agentRunId: runsOf(id)[0]?.id } });
    expect(await second.stop('SIGTERM')).toBe(0);
  }, 90_000);

  it('a run longer than MAX_RETRIES x TASK_TIMEOUT_MS completes on its first attempt', async () => {
    const id = 'long-run';
    // About 150 polls of up to 100 ms: 15 s or more, against 2 attempts x a step limit of 5 s. The step limit
    // leaves the PR step room on a loaded machine (at 1.5 s it timed out there, a real failure of that step).
    world.codegen.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: 150 }));
    await world.store.addTasks([{ id, title: 'A long run', description: 'Takes a while.' }]);
    const daemon = startDaemon(env({ TASK_TIMEOUT_MS: '5000', MAX_RETRIES: '1' }));
    await until(
      async () => ['completed', 'failed'].includes((await task(id))?.status ?? ''),
      60_000,
      () => describeTask(id),
    );
    const history = (await world.store.getTaskHistory(id)).map((e) => e.kind);
    expect({ task: await task(id), history }).toMatchObject({ task: { status: 'completed', attempts: 1 } });
    expect(history.filter((k) => k === 'retry-scheduled')).toEqual([]);
    expect(runsOf(id)).toHaveLength(1);
    expect(await daemon.stop('SIGTERM')).toBe(0);
  }, 90_000);

  it('a run that ended without changes (PR_ON_NO_CHANGES=fail) is never read again: each retry is a new run', async () => {
    const id = 'no-changes';
    world.codegen.setOutcome(() => ({ finalStatus: 'COMPLETE', pr: false }));
    await world.store.addTasks([{ id, title: 'Nothing to do', description: 'The agent changes nothing.' }]);
    const daemon = startDaemon(env({ PR_ON_NO_CHANGES: 'fail', MAX_RETRIES: '2' }));
    await until(
      async () => (await task(id))?.status === 'failed',
      60_000,
      () => describeTask(id),
    );
    const failed = await task(id);
    expect(failed).toMatchObject({ attempts: 3, lastError: { code: 'agent-no-changes' } });
    // Three attempts, three runs: one each, none re-read.
    expect(runsOf(id)).toHaveLength(3);
    const history = await world.store.getTaskHistory(id);
    expect(history.filter((e) => e.kind === 'agent-run-recorded')).toHaveLength(3);
    // The last attempt's end line names the failure: the task's one line saying it failed, and why. The store
    // is written before the line is logged, so wait for the line.
    await daemon.waitForLog((l) => l.taskId === id && l.msg.startsWith(`task ${id} failed`));
    const ends = daemon.logs.filter((l) => l.taskId === id && l.msg.startsWith(`task ${id} failed`));
    expect(ends).toHaveLength(1);
    expect(ends[0]?.msg).toMatch(new RegExp(`^task ${id} failed: agent-no-changes: .+`));
    expect(await daemon.stop('SIGTERM')).toBe(0);
  }, 90_000);
});
