/**
 * A daemon whose output nobody reads any more (`codegen-pr run | head -2`) still shuts down on SIGTERM. The
 * reader here closes stdout and stderr after two log lines, the way `head -2` does; every later log line of the
 * daemon then fails with EPIPE.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { killAll, startDaemon } from './daemon-process.js';
import { runCli } from './cli-process.js';

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

/**
 * `codegen-pr <args> | head -1`: the reader takes one line and goes away while the command still has more than a
 * pipe's buffer (64 KiB) to write. The command must exit 0 and say nothing on stderr: no unhandled EPIPE.
 */
async function firstLineThenClose(
  cwd: string,
  args: string[],
): Promise<{ line: string; code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [path.resolve('dist/src/main.js'), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const line = await new Promise<string>((resolve) => {
    child.stdout.once('data', (chunk: Buffer) => {
      child.stdout.destroy();
      resolve(chunk.toString('utf8').split('\n')[0] ?? '');
    });
  });
  return { line, code: await exited, stderr };
}

describe('the CLI piped into head', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'codegen-pr-head-'));
  const title = (i: number) => `A task with a title long enough to fill the table quickly, number ${i}`;

  it('tasks show <id> | head -1 exits quietly', async () => {
    // 5,000 lines: about 75 KB printed, more than a pipe holds.
    const description = 'line of text\n'.repeat(5_000);
    writeFileSync(path.join(cwd, 'big.json'), JSON.stringify({ id: 'big', title: 'Big', description }));
    expect((await runCli(cwd, ['tasks', 'add', '--file', 'big.json'])).code).toBe(0);
    const result = await firstLineThenClose(cwd, ['tasks', 'show', 'big']);
    expect(result.line).toMatch(/^id: +big/);
    expect(result).toMatchObject({ code: 0, stderr: '' });
  }, 60_000);

  it('tasks list | head -1 exits quietly', async () => {
    const many = Array.from({ length: 499 }, (_, i) => ({ title: title(i), description: 'Bulk.' }));
    writeFileSync(path.join(cwd, 'many.json'), JSON.stringify(many));
    expect((await runCli(cwd, ['tasks', 'add', '--file', 'many.json'])).code).toBe(0);
    for (const args of [
      ['tasks', 'list', '--limit', '500'],
      ['tasks', 'list', '--limit', '500', '--json'],
    ]) {
      const result = await firstLineThenClose(cwd, args);
      expect(result.line).toMatch(/^ID +STATUS|^\{/);
      expect(result).toMatchObject({ code: 0, stderr: '' });
    }
  }, 60_000);
});
