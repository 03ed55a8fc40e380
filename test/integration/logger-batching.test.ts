/**
 * The daemon's stdout logger writes off the hot path: lines logged during one turn of the event loop reach the
 * descriptor together, after that turn, and whatever is held when the process exits is written before it goes
 * (the closed-pipe case is logger-closed-pipe.test.ts).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { batchLines, createLogger, standardOutput } from '../../src/observability/logger.js';

const LOGGER = pathToFileURL(path.resolve('dist/src/observability/logger.js')).href;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('standardOutput', () => {
  it('writes the lines of one event-loop turn together, after that turn', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'codegen-pr-log-'));
    const file = path.join(dir, 'out.log');
    const fd = openSync(file, 'w');
    try {
      const log = createLogger({ destination: standardOutput(fd) });
      for (let i = 0; i < 50; i++) log.info({ i }, 'line');
      // Nothing is written while the code that logs is still running.
      expect(readFileSync(file, 'utf8')).toBe('');
      await nextTurn();
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hands its destination one chunk per turn, and flush() writes what it holds at once', async () => {
    const chunks: string[] = [];
    const batched = batchLines({ write: (chunk: string) => void chunks.push(chunk) });
    batched.write('a\n');
    batched.write('b\n');
    await nextTurn();
    expect(chunks).toEqual(['a\nb\n']);
    batched.write('c\n');
    batched.flush();
    expect(chunks).toEqual(['a\nb\n', 'c\n']);
    await nextTurn();
    expect(chunks).toHaveLength(2);
  });

  it('writes what it holds when the process exits at once after logging', async () => {
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createLogger } from ${JSON.stringify(LOGGER)};
         const log = createLogger();
         log.info('first');
         log.info('last');
         process.exit(3);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { PATH: process.env.PATH ?? '' } },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(3);
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { msg: string }).msg),
    ).toEqual(['first', 'last']);
  });
});
