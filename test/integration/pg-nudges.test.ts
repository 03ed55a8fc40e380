/**
 * Push pickup on PostgreSQL: a task added, retried or released through one process's store wakes another
 * process's scheduler through LISTEN/NOTIFY, without waiting for its next poll. Two stores opened the way the
 * daemon and the CLI open theirs stand in for two processes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { openTaskStore, type OpenedStore } from '../../src/adapters/open-store.js';
import { nudgeChannel } from '../../src/adapters/task-store/pg-nudges.js';
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

/**
 * With a per-repository cap, a task finished by one replica frees a place under its repository's cap: the other
 * replicas are nudged, so one whose claim came back short for that cap takes the next task of that repository at
 * once (before, it waited for its next poll, POLL_INTERVAL_MS). Without a cap, finishing nudges no one (no extra
 * statement per task). The test listens on the channel itself: notifications arrive in the order they were
 * committed, and a store's completeTask resolves after its nudge was sent, so a marker notified after it tells
 * whether the finish nudged (what arrived before the marker).
 */
maybe('task nudges on PostgreSQL when a task finishes', () => {
  const schema = uniqueSchema('nudges-finish');
  const configOf = (cap: string) =>
    loadConfig({
      env: {
        TASK_STORE: 'postgres',
        DATABASE_URL: DATABASE_URL ?? '',
        DATABASE_SCHEMA: schema,
        REPO_MAX_IN_FLIGHT: cap,
      },
      configDir: '/nonexistent',
      dotenvPath: false,
    });
  let capped: OpenedStore;
  let uncapped: OpenedStore;
  let listener: pg.Client;
  let heard: string[] = [];
  let onHeard: (() => void) | undefined;
  const channel = nudgeChannel(schema);

  /** What was notified on the channel from now until the marker (the marker excluded). */
  async function heardUntilMarker(act: () => Promise<void>): Promise<string[]> {
    heard = [];
    await act();
    await listener.query('SELECT pg_notify($1, $2)', [channel, 'marker']);
    while (!heard.includes('marker')) await new Promise<void>((resolve) => (onHeard = resolve));
    return heard.slice(0, heard.indexOf('marker'));
  }

  beforeAll(async () => {
    listener = new pg.Client({ connectionString: DATABASE_URL });
    await listener.connect();
    listener.on('notification', (message) => {
      heard.push(message.payload ?? '');
      onHeard?.();
    });
    await listener.query(`LISTEN "${channel}"`);
    capped = await openTaskStore(configOf('1'), { logger: silentLogger(), role: 'daemon' });
    uncapped = await openTaskStore(configOf('0'), { logger: silentLogger(), role: 'daemon' });
    // Claimed in this order, one at a time (oldest first).
    await capped.store.addTasks(
      ['capped-complete', 'capped-fail', 'uncapped-complete'].map((id) => ({
        id,
        title: 'Finish',
        description: 'd',
        repository: 'acme/widgets',
      })),
    );
  });
  afterAll(async () => {
    await uncapped?.store.close();
    await capped?.store.close();
    await listener?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await listener?.end();
  });

  async function claimNext(opened: OpenedStore, id: string) {
    const [claim] = await opened.store.claimTasks({ worker: `w-${id}`, limit: 1, leaseMs: 60_000 });
    expect(claim?.task.id).toBe(id);
    return claim?.lease.token ?? '';
  }

  it('a replica capping repositories nudges the others when it completes or fails a task', async () => {
    let token = await claimNext(capped, 'capped-complete');
    expect(await heardUntilMarker(() => capped.store.completeTask('capped-complete', token, { note: 'done' }))).toEqual(
      [''],
    );
    token = await claimNext(capped, 'capped-fail');
    const failure = { error: { category: 'validation', code: 'test-refused', message: 'refused' } };
    expect(
      await heardUntilMarker(async () => void (await capped.store.failTask('capped-fail', token, failure))),
    ).toEqual(['']);
  });

  it('without a cap, completing a task nudges no one', async () => {
    const token = await claimNext(uncapped, 'uncapped-complete');
    expect(
      await heardUntilMarker(() => uncapped.store.completeTask('uncapped-complete', token, { note: 'done' })),
    ).toEqual([]);
  });
});
