/**
 * A daemon whose output nobody reads any more (`codegen-pr run | head -2`) still shuts down on SIGTERM. The
 * reader here closes stdout and stderr after two log lines, the way `head -2` does; every later log line of the
 * daemon then fails with EPIPE.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { killAll, startDaemon } from './daemon-process.js';

/** Resolves with the exit code, or with 'still running' if the process outlives `ms` (it is then killed). */
async function exitWithin(exited: Promise<number | string>, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  const result = await Promise.race([exited, late]);
  clearTimeout(timer);
  return result;
}

describe('closed stdout and stderr', () => {
  afterAll(killAll);

  it('exits 0 on SIGTERM after the reader of its output went away', async () => {
    // Dry run on an in-memory store: no credentials, nothing outside the process.
    const daemon = startDaemon({ PGLITE_DIR: 'memory://', POLL_INTERVAL_MS: '50' });
    await daemon.waitForLog((line) => line.msg === 'HTTP endpoint up');
    expect(daemon.logs.length).toBeGreaterThanOrEqual(2);
    daemon.child.stdout?.destroy();
    daemon.child.stderr?.destroy();

    daemon.child.kill('SIGTERM');
    // Far above a clean shutdown of an idle daemon (well under a second); a hang never ends.
    expect(await exitWithin(daemon.exited, 20_000)).toBe(0);
  }, 40_000);
});
