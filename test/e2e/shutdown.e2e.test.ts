/**
 * Two-phase shutdown of the built daemon: the first SIGTERM drains for the grace period, then aborts and gives
 * in-flight tasks back to the queue (checkpoints kept) and exits 0; a repeated signal within the window is the same
 * request, a later one exits at once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { killAll, startDaemon } from './daemon-process.js';
import { startWorld, until, type World } from './world.js';

describe('shutdown', () => {
  let world: World;
  const awaiting = async (ids: string[]) => {
    for (const id of ids) if ((await world.store.getTask(id))?.status !== 'awaiting_agent') return false;
    return true;
  };

  beforeAll(async () => {
    world = await startWorld();
    // Runs that never finish while these tests watch.
    world.codegen.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: 1_000_000 }));
  });
  afterAll(async () => {
    await killAll();
    await world?.close();
  });

  it('drains for the grace period, then releases in-flight tasks with their checkpoints and exits 0', async () => {
    const ids = ['sd-1', 'sd-2'];
    await world.store.addTasks(ids.map((id) => ({ id, title: `Shutdown ${id}`, description: 'Long run.' })));
    const daemon = startDaemon(world.daemonEnv({ SHUTDOWN_GRACE_MS: '500' }));
    await until(
      () => awaiting(ids),
      30_000,
      () => 'tasks never reached awaiting_agent',
    );

    // The runs never end: exiting at all shows the daemon stopped waiting once the grace period was over.
    expect(await daemon.stop('SIGTERM')).toBe(0);
    for (const id of ids) {
      const task = await world.store.getTask(id);
      expect(task?.status).toBe('pending');
      expect(task?.checkpoint.agentRunId).toBeDefined();
      // The release refunded the attempt: shutdown is not the task's fault.
      expect(task?.attempts).toBe(0);
    }
    expect(daemon.logs.some((l) => l.msg === 'grace period over; aborting and releasing tasks')).toBe(true);
  }, 60_000);

  it('takes a repeated signal right after the first as the same request, and exits at once on a later one', async () => {
    await world.store.addTasks([{ id: 'sd-3', title: 'Shutdown three', description: 'Long run.' }]);
    const daemon = startDaemon(world.daemonEnv({ SHUTDOWN_GRACE_MS: '600000', SHUTDOWN_SIGNAL_WINDOW_MS: '300' }));
    await until(
      () => awaiting(['sd-3']),
      30_000,
      () => 'task never reached awaiting_agent',
    );
    daemon.child.kill('SIGTERM');
    await daemon.waitForLog((l) => String(l.msg).startsWith('shutting down'));
    const repeats = () => daemon.logs.filter((l) => String(l.msg).startsWith('already shutting down')).length;
    daemon.child.kill('SIGTERM');
    await daemon.waitForLog((l) => String(l.msg).startsWith('already shutting down'));
    expect(daemon.child.exitCode).toBeNull();
    // Signal again each time one is taken as a repeat; once the 300 ms window has passed, one forces the exit.
    const running = () => daemon.child.exitCode === null && daemon.child.signalCode === null;
    const nextOutputOrExit = () =>
      new Promise<void>((resolve) => {
        const done = (): void => {
          daemon.child.stdout?.off('data', done);
          daemon.child.off('exit', done);
          resolve();
        };
        daemon.child.stdout?.on('data', done);
        daemon.child.on('exit', done);
      });
    while (running()) {
      const before = repeats();
      daemon.child.kill('SIGTERM');
      while (running() && repeats() === before) await nextOutputOrExit();
    }
    // 143 (128 + SIGTERM) is the forced exit; a graceful one would be 0.
    expect(await daemon.exited).toBe(143);
  }, 60_000);
});
