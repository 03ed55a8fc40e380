/**
 * The logger never keeps a process from exiting when its stdout is a pipe whose reader has gone. A child logs
 * two lines, the test closes the pipe (as `head -2` does), and on SIGTERM the child logs twice more and calls
 * process.exit: with pino's default asynchronous destination the second line is still buffered at exit, and
 * the exit-time flush retries its EPIPE write every 100 ms for ever.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';

const LOGGER = pathToFileURL(path.resolve('dist/src/observability/logger.js')).href;

const CHILD = `
import { createLogger } from ${JSON.stringify(LOGGER)};
const log = createLogger();
process.on('SIGTERM', () => {
  log.info('shutting down');
  log.info('bye');
  process.exit(0);
});
log.info('one');
log.info('two');
setInterval(() => {}, 1000);
`;

describe('createLogger on a closed pipe', () => {
  it('lets the process exit on SIGTERM once the reader of stdout has gone', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { PATH: process.env.PATH ?? '' },
    });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const lines: string[] = [];
    const reader = createInterface({ input: child.stdout });
    for await (const line of reader) {
      lines.push(line);
      if (lines.length === 2) break;
    }
    // Both lines arrived; now the reader goes away, as `head -2` would.
    child.stdout.destroy();
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['one', 'two']);

    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 10_000)));
    const outcome = await Promise.race([exited, hung]);
    clearTimeout(timer);
    if (outcome === 'hung') child.kill('SIGKILL');
    expect(outcome).toEqual([0, null]);
  }, 30_000);
});
