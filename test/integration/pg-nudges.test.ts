/**
 * Push pickup on PostgreSQL: a task added, retried or released through one process's store wakes another
 * process's scheduler through LISTEN/NOTIFY, without waiting for its next poll. Two stores opened the way the
 * daemon and the CLI open theirs stand in for two processes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { openTaskStore, type OpenedStore } from '../../src/adapters/open-store.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { DATABASE_URL, uniqueSchema } from './helpers/store-backends.js';

const maybe = DATABASE_URL ? describe : describe.skip;
if (!DATABASE_URL) console.warn('pg-nudges: skipped: set DATABASE_URL');

maybe('task nudges on PostgreSQL', () => {
  const schema = uniqueSchema('nudges');
  const config = loadConfig({
    env: { TASK_STORE: 'postgres', DATABASE_URL: DATABASE_URL ?? '', DATABASE_SCHEMA: schema },
    configDir: '/nonexistent',
    dotenvPath: false,
  });
  let daemon: OpenedStore;
  let cli: OpenedStore;
  let nudged: Array<() => void> = [];
  /** Resolves at the daemon's next wake-up. */
  const nextNudge = () => new Promise<void>((resolve) => nudged.push(resolve));

  beforeAll(async () => {
    daemon = await openTaskStore(config, { logger: silentLogger(), role: 'daemon' });
    cli = await openTaskStore(config, { logger: silentLogger(), role: 'cli' });
    daemon.signal.onTasksAdded(() => {
      const waiting = nudged;
      nudged = [];
      for (const resolve of waiting) resolve();
    });
  });
  afterAll(async () => {
    await cli?.store.close();
    await daemon?.store.close();
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  it('wakes the daemon when another process adds a task', async () => {
    const woken = nextNudge();
    await cli.store.addTasks([{ id: 'n-1', title: 'Nudge', description: 'd' }], 'cli');
    await woken;
  });

  it('wakes the daemon when another process retries a task, and when a worker releases one', async () => {
    const [claim] = await daemon.store.claimTasks({ worker: 'w', limit: 1, leaseMs: 60_000 });
    expect(claim?.task.id).toBe('n-1');
    let woken = nextNudge();
    await cli.store.cancelTask('n-1', 'cli');
    await cli.store.retryTask('n-1', 'cli');
    await woken;
    const [again] = await daemon.store.claimTasks({ worker: 'w', limit: 1, leaseMs: 60_000 });
    woken = nextNudge();
    // Released by a worker of another process (the CLI's store stands in for it).
    await cli.store.releaseTask('n-1', again?.lease.token ?? '');
    await woken;
    expect((await daemon.store.getTask('n-1'))?.status).toBe('pending');
  });
});
