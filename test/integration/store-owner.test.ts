/**
 * One owner per data directory, in one process: openers contend for the lock exactly as separate processes do
 * (SQLite keeps its locks right between connections of one process). The owner serves the store on loopback; the
 * others go through it, wait for an owner that does not serve, and take over when the owner goes away.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { openTaskStore, type OpenedStore } from '../../src/adapters/open-store.js';
import { openOwnedStore, readOwnerEndpoint, tryOwnerLock } from '../../src/adapters/owner/index.js';
import { loadConfig } from '../../src/config/load.js';
import { DuplicateTaskError } from '../../src/domain/errors.js';
import type { Task } from '../../src/domain/task.js';
import { createLogger } from '../../src/observability/logger.js';

interface Captured {
  lines: Array<{ msg: string; [key: string]: unknown }>;
  raw: string[];
  /** Resolves with the first line (past or future) whose message matches. */
  waitFor(pattern: RegExp): Promise<{ msg: string }>;
}

function capturingLogger() {
  const captured: Captured = { lines: [], raw: [], waitFor: () => Promise.reject(new Error('unset')) };
  const waiters: Array<{ pattern: RegExp; resolve: (line: { msg: string }) => void }> = [];
  const logger = createLogger({
    level: 'debug',
    destination: {
      write(text: string) {
        captured.raw.push(text);
        const line = JSON.parse(text) as { msg: string };
        captured.lines.push(line);
        for (const waiter of [...waiters]) {
          if (waiter.pattern.test(line.msg)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      },
    },
  });
  captured.waitFor = (pattern) => {
    const past = captured.lines.find((line) => pattern.test(line.msg));
    return past ? Promise.resolve(past) : new Promise((resolve) => waiters.push({ pattern, resolve }));
  };
  return { logger, captured };
}

const dirs: string[] = [];
const opened: OpenedStore[] = [];

function freshDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'codegen-pr-owner-'));
  dirs.push(dir);
  return path.join(dir, 'data');
}

function configFor(dataDir: string, env: Record<string, string> = {}) {
  return loadConfig({ env: { DATA_DIR: dataDir, ...env }, configDir: '/nonexistent', dotenvPath: false });
}

async function open(
  dataDir: string,
  role: 'daemon' | 'task-api' | 'cli' | 'library',
  logger = capturingLogger(),
  env: Record<string, string> = {},
) {
  const store = await openTaskStore(configFor(dataDir, env), { logger: logger.logger, role });
  opened.push(store);
  return store;
}

const newTask = (id: string) => ({ id, title: `Task ${id}`, description: 'd' });

afterEach(async () => {
  for (const store of opened.splice(0).reverse()) await store.store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('one owner per data directory', () => {
  it('serves the store to a second opener, which reads and writes through it', async () => {
    const dataDir = freshDataDir();
    const owner = await open(dataDir, 'daemon');
    expect(owner.where).toBe(path.join(dataDir, 'codegen-pr.db'));
    const client = await open(dataDir, 'cli');
    expect(client.where).toBe(`${path.join(dataDir, 'codegen-pr.db')} (through process ${process.pid})`);

    const signalled = new Promise<Task[]>((resolve) => owner.signal.onTasksAdded(resolve));
    await client.store.addTasks([newTask('via-client')], 'cli');
    // The owner's scheduler hears of a task added by another process at once.
    expect((await signalled).map((t) => t.id)).toEqual(['via-client']);
    expect(await owner.store.getTask('via-client')).toMatchObject({ status: 'pending', title: 'Task via-client' });

    // Leased writes go through the owner with the same fences.
    await owner.store.addTasks([newTask('via-owner')]);
    const [claim] = await client.store.claimTasks({ worker: 'w2', limit: 1, leaseMs: 60_000 });
    expect(claim!.task.id).toBe('via-client');
    await expect(client.store.completeTask('via-client', 'not-the-token', {})).rejects.toMatchObject({
      code: 'stale-lease',
    });
    await client.store.completeTask('via-client', claim!.lease.token, { note: 'done' });
    expect((await owner.store.getTask('via-client'))!.status).toBe('completed');
    expect((await client.store.listTasks({})).tasks.map((t) => t.id)).toEqual(['via-owner', 'via-client']);
  });

  it('adds a batch of any size through the owner all or nothing', async () => {
    const dataDir = freshDataDir();
    const owner = await open(dataDir, 'daemon');
    const client = await open(dataDir, 'cli');
    const batch = Array.from({ length: 1_200 }, (_, i) => newTask(`b${i}`));
    expect(await client.store.addTasks(batch, 'cli')).toHaveLength(1_200);
    const again = [...Array.from({ length: 1_199 }, (_, i) => newTask(`c${i}`)), newTask('b7')];
    await expect(client.store.addTasks(again, 'cli')).rejects.toMatchObject({ category: 'conflict' });
    expect(await owner.store.countByStatus()).toEqual({ pending: 1_200 });
    expect(await owner.store.getTask('c0')).toBeUndefined();
  });

  it('refuses a dedupe key a live task holds through the owner, naming the live task', async () => {
    const dataDir = freshDataDir();
    await open(dataDir, 'daemon');
    const client = await open(dataDir, 'cli');
    await client.store.addTasks([{ ...newTask('first'), dedupeKey: 'issue:acme/web#3' }], 'cli');
    const refusal = await client.store
      .addTasks([{ ...newTask('second'), dedupeKey: 'issue:acme/web#3' }], 'cli')
      .catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(DuplicateTaskError);
    expect(refusal).toMatchObject({ code: 'task-duplicate', existingTaskId: 'first' });
  });

  it('keeps owner.json to the user and its key out of every log line', async () => {
    const dataDir = freshDataDir();
    const logs = capturingLogger();
    await open(dataDir, 'daemon', logs);
    const file = path.join(dataDir, 'owner.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const endpoint = readOwnerEndpoint(dataDir)!;
    expect(endpoint).toMatchObject({ pid: process.pid, role: 'daemon', url: expect.stringMatching(/^http:\/\/127/) });
    expect(endpoint.token!.length).toBeGreaterThanOrEqual(40);
    await logs.captured.waitFor(/sharing the store/);
    expect(logs.captured.raw.join('')).not.toContain(endpoint.token);
  });

  it('takes over when the owner goes away, and then holds the lock itself', async () => {
    const dataDir = freshDataDir();
    const owner = await open(dataDir, 'daemon');
    const logs = capturingLogger();
    const client = await open(dataDir, 'daemon', logs);
    await client.store.addTasks([newTask('before')]);
    await owner.store.close();
    opened.splice(opened.indexOf(owner), 1);

    // The next call finds the owner gone, wins the election and is answered by its own database.
    await client.store.addTasks([newTask('after')]);
    expect((await client.store.listTasks({})).tasks.map((t) => t.id)).toEqual(['after', 'before']);
    await logs.captured.waitFor(/this process owns it now/);
    expect(tryOwnerLock(dataDir)).toBeUndefined();
    // A daemon that took over serves the store in turn.
    expect(readOwnerEndpoint(dataDir)).toMatchObject({ pid: process.pid, url: expect.any(String) });
  });

  it('waits for an owner that does not serve, saying so, then owns the directory', async () => {
    const dataDir = freshDataDir();
    const cli = await open(dataDir, 'cli');
    await cli.store.addTasks([newTask('from-cli')]);
    const logs = capturingLogger();
    const daemon = openTaskStore(configFor(dataDir), { logger: logs.logger, role: 'daemon' });
    const line = await logs.captured.waitFor(/holds the data directory/);
    expect(line).toMatchObject({ holder: { pid: process.pid, role: 'cli' } });
    await cli.store.close();
    opened.splice(opened.indexOf(cli), 1);
    const owned = await daemon;
    opened.push(owned);
    expect(owned.where).toBe(path.join(dataDir, 'codegen-pr.db'));
    expect(await owned.store.getTask('from-cli')).toMatchObject({ status: 'pending' });
  });

  it('gives up after its bound with an error naming taskStore.dataDir', async () => {
    const dataDir = freshDataDir();
    const lock = tryOwnerLock(dataDir)!;
    try {
      const attempt = openOwnedStore({
        dataDir,
        role: 'cli',
        openLocal: () => Promise.reject(new Error('must not open: the lock is held')),
        logger: capturingLogger().logger,
        waitMs: 300,
      });
      await expect(attempt).rejects.toMatchObject({
        code: 'store-owner-busy',
        message: expect.stringContaining('taskStore.dataDir'),
      });
    } finally {
      lock.release();
    }
  });

  it('replaces what a dead owner left and becomes the owner at once', async () => {
    const dataDir = freshDataDir();
    const first = await open(dataDir, 'cli');
    await first.store.close();
    opened.splice(opened.indexOf(first), 1);
    // A dead daemon's owner.json, pointing at a port nobody serves.
    writeFileSync(
      path.join(dataDir, 'owner.json'),
      JSON.stringify({ pid: 999_999, role: 'daemon', since: '', url: 'http://127.0.0.1:9', token: 'stale' }),
      { mode: 0o600 },
    );
    const logs = capturingLogger();
    const next = await open(dataDir, 'cli', logs);
    expect(next.where).toBe(path.join(dataDir, 'codegen-pr.db'));
    expect(logs.captured.lines.map((l) => l.msg)).not.toContainEqual(expect.stringMatching(/holds the data/));
    expect(JSON.parse(readFileSync(path.join(dataDir, 'owner.json'), 'utf8'))).toMatchObject({
      pid: process.pid,
      role: 'cli',
    });
  });

  it('puts PGlite (TASK_STORE=pglite) under the same rule, its owner files beside its directory', async () => {
    const dataDir = freshDataDir();
    const env = { TASK_STORE: 'pglite', PGLITE_DIR: path.join(dataDir, 'pglite') };
    const owner = await open(dataDir, 'daemon', capturingLogger(), env);
    expect(owner.kind).toBe('pglite');
    const client = await open(dataDir, 'cli', capturingLogger(), env);
    expect(client.where).toContain('through process');
    await client.store.addTasks([newTask('on-pglite')]);
    expect(await owner.store.getTask('on-pglite')).toMatchObject({ status: 'pending' });
    expect(readOwnerEndpoint(dataDir)).toMatchObject({ role: 'daemon', url: expect.any(String) });
  }, 120_000);
});
