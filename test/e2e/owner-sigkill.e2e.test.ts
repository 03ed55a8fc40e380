/**
 * The owner of ./data killed with SIGKILL mid-write, twenty times in a row on the same directory. Half the time
 * the owner is a daemon-like writer that commits batches without pause and reports each commit; half the time it
 * is the real CLI adding a file of 2,000 tasks in one transaction, killed soon after it took the lock or once its
 * commit has begun to reach the write-ahead log. After every kill:
 * - the next process becomes the owner at once (the lock died with its holder);
 * - PRAGMA integrity_check answers ok;
 * - every batch the writer reported as committed is there, the CLI's file is there entirely or not at all, and
 *   nothing committed in an earlier round is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { tryOwnerLock } from '../../src/adapters/owner/index.js';
import { runCli } from './cli-process.js';

const MAIN = path.resolve('dist/src/main.js');
const WRITER = path.resolve('test/e2e/store-writer.mjs');
const ROUNDS = 20;
const CLI_BATCH = 2_000;

const children = new Set<ChildProcess>();

/** Start a child; resolves `exited` on exit, and calls `onLine` with each stdout line. */
function start(args: string[], cwd: string, onLine: (line: string) => void = () => {}) {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let buffer = '';
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) =>
    child.on('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  return { child, exited, output: () => ({ stdout, stderr }) };
}

/** Resolves when `check` holds, looking every few ms; rejects with `what` after `timeoutMs`. */
async function poll(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function ownerPid(dataDir: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(dataDir, 'owner.json'), 'utf8')) as { pid?: number }).pid;
  } catch {
    return undefined;
  }
}

/** Size of the database's write-ahead log (absent between rounds: closing the last connection removes it). */
function walSize(dataDir: string): number {
  try {
    return statSync(path.join(dataDir, 'codegen-pr.db-wal')).size;
  } catch {
    return 0;
  }
}

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

describe('the owner killed with SIGKILL mid-write', () => {
  it(`keeps the store intact and every committed task, ${ROUNDS} times over`, async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'codegen-pr-sigkill-'));
    const dataDir = path.join(cwd, 'data');
    let expectedTotal = 0;
    const summary: string[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const prefix = `r${round}`;
        let expectedHere: number | 'none-or-all';
        if (round % 2 === 0) {
          // A daemon-like owner writing without pause: killed after a varying number of its commits.
          let committed = 0;
          const target = 2 + ((round * 5) % 17);
          const writer = start([WRITER, cwd, prefix], process.cwd(), (line) => {
            const match = /^committed (\d+)$/.exec(line);
            if (match) committed = Number(match[1]);
          });
          await poll(
            () => committed >= target * 25,
            60_000,
            () => `round ${round}: ${committed} committed; ${JSON.stringify(writer.output())}`,
          );
          writer.child.kill('SIGKILL');
          await writer.exited;
          expectedHere = committed;
        } else {
          // The CLI adding a file of 2,000 tasks in one transaction, killed once it owns ./data.
          const file = path.join(cwd, `${prefix}.json`);
          const tasks = Array.from({ length: CLI_BATCH }, (_, i) => ({
            id: `${prefix}-${i}`,
            title: 't',
            description: 'd',
          }));
          writeFileSync(file, JSON.stringify(tasks));
          const cli = start([MAIN, 'tasks', 'add', '--file', file], cwd);
          await poll(
            () => ownerPid(dataDir) === cli.child.pid || cli.child.exitCode !== null,
            60_000,
            () => `round ${round}: the CLI never owned ./data; ${JSON.stringify(cli.output())}`,
          );
          if (round % 4 === 1) {
            // A varying moment after it took the lock: opening, reading the file, validating.
            await new Promise((resolve) => setTimeout(resolve, (round * 37) % 150));
          } else {
            // Inside the commit: the first WAL frames of its transaction have reached the file.
            await poll(
              () => walSize(dataDir) > 0 || cli.child.exitCode !== null,
              60_000,
              () => `round ${round}: the CLI never wrote; ${JSON.stringify(cli.output())}`,
            );
          }
          cli.child.kill('SIGKILL');
          await cli.exited;
          expectedHere = cli.output().stdout.includes('added ') ? CLI_BATCH : 'none-or-all';
        }

        // The next process owns ./data at once: the lock went with the killed process.
        const lock = tryOwnerLock(dataDir);
        expect({ round, lockTaken: lock !== undefined }).toEqual({ round, lockTaken: true });
        const dbFile = path.join(dataDir, 'codegen-pr.db');
        if (!existsSync(dbFile)) {
          // Killed before it created the database: nothing was committed yet.
          expect({ round, expectedHere }).toEqual({ round, expectedHere: 'none-or-all' });
          lock!.release();
          continue;
        }
        const db = new Database(dbFile);
        try {
          expect({ round, integrity: db.pragma('integrity_check', { simple: true }) }).toEqual({
            round,
            integrity: 'ok',
          });
          const count = (sql: string, ...params: unknown[]) =>
            Number((db.prepare(sql).get(...params) as { n: number }).n);
          const here = count(`SELECT count(*) AS n FROM tasks WHERE id LIKE ?`, `${prefix}-%`);
          if (expectedHere === 'none-or-all') {
            expect({ round, here: here === 0 || here === CLI_BATCH }).toEqual({ round, here: true });
          } else {
            // Every reported batch, in full (a batch may have committed after its report was cut off: more is fine).
            const reported = count(
              `SELECT count(*) AS n FROM tasks WHERE id LIKE ? AND CAST(substr(id, ?) AS INTEGER) < ?`,
              `${prefix}-%`,
              prefix.length + 2,
              expectedHere,
            );
            expect({ round, reported }).toEqual({ round, reported: expectedHere });
            expect(here % 25).toBe(0);
          }
          expectedTotal += here;
          // Nothing committed in an earlier round went missing.
          expect({ round, total: count('SELECT count(*) AS n FROM tasks') }).toEqual({ round, total: expectedTotal });
          summary.push(`${prefix}:${here}`);
        } finally {
          db.close();
          lock!.release();
        }
      }
      // And the CLI, as the next owner, reads it all.
      const shown = await runCli(cwd, ['tasks', 'show', 'r0-0']);
      expect(shown).toMatchObject({ code: 0, stdout: expect.stringContaining('r0-0') });
      expect(expectedTotal).toBeGreaterThan(0);
      console.log(`owner SIGKILL rounds (prefix:tasks kept): ${summary.join(' ')}`);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 600_000);
});
