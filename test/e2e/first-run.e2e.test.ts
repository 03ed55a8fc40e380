/**
 * The first minutes of a new user, as the README shows them: `npm start` with nothing configured (a dry run on
 * the embedded store), a task added from a second terminal. The daemon logs the task's prompt at once, as a
 * length and a head (the whole prompt only at debug), logs a heartbeat while idle, and on a terminal its lines
 * are human-readable.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { killAll, startDaemon } from './daemon-process.js';
import { runCli } from './cli-process.js';

const MAIN = path.resolve('dist/src/main.js');

afterAll(killAll);

describe('first run (dry run on the embedded store)', () => {
  it('logs an added task’s prompt short and at once, and a heartbeat while idle', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'codegen-pr-first-'));
    // POLL_INTERVAL_MS is left at its 30 s default: the prompt must come from the owner's wake-up, not a poll.
    const daemon = startDaemon({ LOG_HEARTBEAT_MS: '200' }, ['run'], { cwd });
    await daemon.waitForLog((l) => l.msg === 'HTTP endpoint up');
    const added = await runCli(cwd, [
      'tasks',
      'add',
      '--title',
      'Add a /health endpoint',
      '--description',
      'Return 200 and the version. '.repeat(40),
      '--repository',
      'acme/widgets',
    ]);
    expect(added.code).toBe(0);
    const id = /added (\S+)/.exec(added.stdout)?.[1];

    const line = await daemon.waitForLog((l) => l.msg.startsWith('dry run: prompt generated'));
    expect(line).toMatchObject({ taskId: id, template: expect.any(String) });
    expect(line.length).toEqual(expect.any(Number));
    expect(line.length as number).toBeGreaterThan(1_500);
    expect(line.head).toMatch(/^# Task /);
    expect((line.head as string).length).toBeLessThanOrEqual(160);
    expect(line).not.toHaveProperty('prompt');
    // No log line carries a whole prompt.
    for (const logged of daemon.logs) expect(JSON.stringify(logged).length).toBeLessThan(1_500);

    const beat = await daemon.waitForLog((l) => l.msg.startsWith('heartbeat:') && l.queue !== undefined);
    expect(beat).toMatchObject({ inFlight: 0, paused: [], dryRun: true });
    const pending = await daemon.waitForLog((l) => l.msg.startsWith('heartbeat: 1 waiting'));
    expect(pending).toMatchObject({ queue: { pending: 1 } });
    expect(await daemon.stop()).toBe(0);
  });

  it('logs human-readable lines on a terminal (pino-pretty in the daemon’s own process)', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'codegen-pr-tty-'));
    // script(1) gives the daemon a pseudo-terminal as stdout, as a person's terminal would.
    const command = `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} run`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', PORT: '0', TERM: 'dumb' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let text = '';
    const up = new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('HTTP endpoint up')) resolve(text);
      });
      child.on('exit', () => reject(new Error(`script exited before the daemon was up: ${text}`)));
    });
    // Colour codes off: ESC [ ... m.
    const shown = (await up).replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
    // The daemon's pid, from a pretty line or (before the fix) a JSON one, so a failed check still stops it.
    const pid = Number(/\(codegen-pr\/(\d+)\)|"pid":(\d+)/.exec(shown)?.slice(1).find(Boolean));
    try {
      const first = shown.split(/\r?\n/).find((l) => l.includes('codegen-pr starting')) ?? '';
      expect(first).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(codegen-pr\/\d+\): codegen-pr starting/);
      expect(shown).not.toMatch(/^\{"level"/m);
    } finally {
      process.kill(pid, 'SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('writes pretty lines to a pipe when LOG_FORMAT=pretty, and refuses an unknown LOG_FORMAT', async () => {
    const bad = await runCli(mkdtempSync(path.join(tmpdir(), 'codegen-pr-fmt-')), ['config'], { LOG_FORMAT: 'xml' });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/LOG_FORMAT/);
    const daemon = startDaemon({ LOG_FORMAT: 'pretty' });
    const line = await daemon.waitForLog((l) => l.msg.includes('codegen-pr starting'));
    expect(line.msg).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(codegen-pr\/\d+\): codegen-pr starting/);
    // Signal handlers are in place once the endpoint is up.
    await daemon.waitForLog((l) => l.msg.includes('HTTP endpoint up'));
    expect(await daemon.stop()).toBe(0);
  });
});
