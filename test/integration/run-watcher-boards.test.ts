/**
 * Run watchers of replicas sharing a board (Redis, or the PostgreSQL task store's database), against the
 * loopback Codegen fake: one replica reads Codegen for all and the others take the states from the board; when
 * the leader stops (or dies) another takes over; when the board does not answer each reads for itself. Without a
 * board, two replicas spend twice the reads: what the board is for.
 *
 * Runs end when the test says so (finishNow), so who leads is decided by the test, not by timing.
 */
import { setMaxListeners } from 'node:events';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createCodegenApi, type CodegenApi } from '../../src/adapters/codegen/index.js';
import { createPostgresClient, migrate, type SqlClient } from '../../src/adapters/task-store/index.js';
import { createRunWatcher, type RunWatcher } from '../../src/daemon/run-watcher.js';
import { createRedisRunBoard, type RunBoard } from '../../src/daemon/run-watcher-board.js';
import { createPgRunBoard } from '../../src/daemon/run-watcher-pg-board.js';
import type { AgentRun } from '../../src/pipeline/ports.js';
import { silentLogger } from '../../src/observability/logger.js';
import { startCodegenFake, type CodegenFake } from '../fakes/codegen-fake.js';
import { FakeHealth } from '../fakes/memory-ports.js';
import { startTcpProxy, type TcpProxy } from '../fakes/tcp-proxy.js';

const REDIS_URL = process.env.REDIS_URL;
const DATABASE_URL = process.env.DATABASE_URL;
const schema = `run_board_${process.pid}_${Date.now() % 1_000_000}`;

let fake: CodegenFake;
let api: CodegenApi;
let health: FakeHealth;
const watchers: RunWatcher[] = [];
const proxies: TcpProxy[] = [];
let controller = new AbortController();

beforeEach(async () => {
  fake = await startCodegenFake({ repos: [{ id: 11, full_name: 'acme/widgets' }] });
  fake.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: Number.MAX_SAFE_INTEGER, pr: false }));
  api = createCodegenApi({
    baseUrl: fake.url,
    apiKey: fake.token,
    orgId: fake.orgId,
    timeoutMs: 5_000,
    logger: silentLogger(),
  });
  health = new FakeHealth();
  controller = new AbortController();
  // One signal for every waiter of a test, as a task pool's shutdown signal.
  setMaxListeners(0, controller.signal);
});

afterEach(async () => {
  // A stopped watcher's waits keep their deadlines: end them as a task's shutdown would.
  controller.abort(new Error('test over'));
  await Promise.all(watchers.splice(0).map((w) => w.stop()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await fake.close();
  expect(fake.violations).toEqual([]);
});

function replica(board?: RunBoard): RunWatcher {
  const w = createRunWatcher({
    agent: api,
    health,
    logger: silentLogger(),
    interval: { initialMs: 5, maxMs: 5, backoff: 1.5 },
    maxPages: 50,
    ...(board ? { board } : {}),
    // Long enough that a follower never reads Codegen itself while a leader sweeps.
    staleMs: 60_000,
  });
  watchers.push(w);
  return w;
}

async function createRuns(count: number): Promise<AgentRun[]> {
  const created = new Date().toISOString();
  return Array.from({ length: count }, (_, i) => {
    const made = fake.createRunAsIfLost({ prompt: `run ${i}`, repo_id: 11, metadata: { task_id: `t-${i}` } });
    return { id: made.id, status: 'ACTIVE', state: 'in_progress', pullRequests: [], createdAt: created };
  });
}

/** Wait as a task does: until the run is no longer in progress, waking on each change. */
async function waitForEnd(w: RunWatcher, run: AgentRun): Promise<AgentRun | undefined> {
  let current: AgentRun | undefined = run;
  while (current?.state === 'in_progress') {
    current = await w.waitForChange(current, { signal: controller.signal, until: Date.now() + 60_000 });
  }
  return current;
}

async function finish(runs: AgentRun[]): Promise<void> {
  for (const run of runs) {
    const held = fake.runs.find((r) => r.id === run.id);
    if (held) await fake.finishNow(held);
  }
}

/** Resolves once `check` holds, looking again each few ms (a watcher's stats have no event of their own). */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const listReads = () => fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/agent/runs')).length;
const codegenReads = (w: RunWatcher) => w.stats().listReads + w.stats().singleReads;

describe('run watchers of two replicas without a board', () => {
  it('each reads Codegen for its own runs: the deployment spends twice the reads', async () => {
    const runs = await createRuns(150);
    const [a, b] = [replica(), replica()];
    const mine = runs.filter((_, i) => i % 2 === 0);
    const theirs = runs.filter((_, i) => i % 2 === 1);
    const waits = [...mine.map((r) => waitForEnd(a, r)), ...theirs.map((r) => waitForEnd(b, r))];
    await until(() => a.stats().listReads >= 3 && b.stats().listReads >= 3, 'both replicas swept');
    await finish(runs);
    expect((await Promise.all(waits)).every((r) => r?.status === 'COMPLETE')).toBe(true);
    // Both read the list (two pages per sweep each): the reads the shared board saves.
    expect(codegenReads(a)).toBeGreaterThan(0);
    expect(codegenReads(b)).toBeGreaterThan(0);
    expect(listReads()).toBe(a.stats().listReads + b.stats().listReads);
  });
});

describe('a follower of a run board', () => {
  /** A board where another replica always leads: it records announcements and answers with `states`. */
  function leaderElsewhere(ttlMs: number, states: Map<number, AgentRun>) {
    const announced: number[][] = [];
    const board: RunBoard = {
      ttlMs,
      lead: async () => false,
      announce: async (runs) => void announced.push(runs.map((r) => r.id)),
      announced: async () => [],
      publish: async () => undefined,
      update: async () => undefined,
      read: async (ids) => ids.flatMap((id) => (states.has(id) ? [states.get(id) as AgentRun] : [])),
      resign: async () => undefined,
      close: async () => undefined,
    };
    return { board, announced };
  }

  function follower(board: RunBoard, interval = { initialMs: 5, maxMs: 5, backoff: 1 }, followMs?: number) {
    const w = createRunWatcher({
      agent: api,
      health,
      logger: silentLogger(),
      interval,
      maxPages: 5,
      board,
      staleMs: 60_000,
      ...(followMs !== undefined ? { followMs } : {}),
    });
    watchers.push(w);
    return w;
  }

  it('announces a run once, not at every look at the board, until a third of the lifetime has passed', async () => {
    const [run] = await createRuns(1);
    const { board, announced } = leaderElsewhere(60_000, new Map());
    const w = follower(board);
    void waitForEnd(w, run as AgentRun).catch(() => undefined);
    await until(() => w.stats().boardReads >= 5, 'five looks at the board');
    expect(announced.filter((ids) => ids.includes((run as AgentRun).id))).toHaveLength(1);
    // A lifetime of 0: every look renews every run.
    const renewing = leaderElsewhere(0, new Map());
    const v = follower(renewing.board);
    void waitForEnd(v, run as AgentRun).catch(() => undefined);
    await until(() => v.stats().boardReads >= 3, 'three looks at the board');
    expect(renewing.announced.length).toBeGreaterThanOrEqual(3);
    expect(codegenReads(w) + codegenReads(v)).toBe(0);
  });

  it('looks at the board every followMs, however long the Codegen interval', async () => {
    const [run] = await createRuns(1);
    const states = new Map<number, AgentRun>();
    const { board } = leaderElsewhere(60_000, states);
    // A quiet sweep backs the Codegen interval off to a minute at once: only the follower's own pace gets the
    // published end here in time.
    const w = follower(board, { initialMs: 5, maxMs: 60_000, backoff: 100_000 }, 5);
    const waiting = waitForEnd(w, run as AgentRun);
    await until(() => w.stats().boardReads >= 1, 'a first look');
    states.set((run as AgentRun).id, { ...(run as AgentRun), status: 'COMPLETE', state: 'succeeded' });
    expect((await waiting)?.status).toBe('COMPLETE');
  });
});

interface BoardKind {
  name: string;
  url: string | undefined;
  /** A board of this kind reached through `url` (the real one, or a proxy's). */
  make(url: string, me: string, namespace: string, ttlMs: number): RunBoard;
}

let sql: SqlClient | undefined;
const kinds: BoardKind[] = [
  {
    name: 'Redis',
    url: REDIS_URL,
    make: (url, me, namespace, ttlMs) => createRedisRunBoard({ url, namespace, me, ttlMs, commandTimeoutMs: 5_000 }),
  },
  {
    name: 'PostgreSQL',
    url: DATABASE_URL,
    make: (url, me, namespace, ttlMs) =>
      createPgRunBoard({
        sql: createPostgresClient({
          connectionString: url,
          poolSize: 2,
          // Generous for a loaded test machine; a board that is away is refused at once anyway.
          connectTimeoutMs: 5_000,
          statementTimeoutMs: 5_000,
          queryTimeoutMs: 6_000,
          closeTimeoutMs: 2_000,
        }),
        schema,
        namespace,
        me,
        ttlMs,
        retryAfterMs: 200,
      }),
  },
];

beforeAll(async () => {
  if (!DATABASE_URL) return;
  sql = createPostgresClient({ connectionString: DATABASE_URL });
  await migrate(sql, { schema });
});

afterAll(async () => {
  await sql?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await sql?.close();
});

describe.each(kinds)('run watchers of two replicas sharing a $name board', (kind) => {
  const maybe = kind.url ? it : it.skip;
  if (!kind.url) console.warn(`run-watcher-boards: ${kind.name} board tests skipped: set its URL`);
  let namespace = '';
  beforeEach(() => {
    namespace = `test-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  });
  const board = (me: string, options: { url?: string; ttlMs?: number } = {}) =>
    kind.make(options.url ?? kind.url ?? '', me, namespace, options.ttlMs ?? 15_000);

  maybe('keeps one lease, the announced runs until they lapse, and the states published and updated', async () => {
    const [a, b] = [board('a', { ttlMs: 1_000 }), board('b', { ttlMs: 1_000 })];
    try {
      expect(await a.lead()).toBe(true);
      expect(await b.lead()).toBe(false);
      // Only the holder's resign frees the lease.
      await b.resign();
      expect(await b.lead()).toBe(false);
      await a.resign();
      expect(await b.lead()).toBe(true);
      await a.announce([{ id: 7, createdAt: 1_000 }]);
      expect(await b.announced()).toEqual([{ id: 7, createdAt: 1_000 }]);
      const run = (id: number, status: string): AgentRun => ({ id, status, state: 'in_progress', pullRequests: [] });
      await b.publish([run(7, 'RUNNING'), run(8, 'RUNNING')]);
      await b.update([run(7, 'COMPLETE')]);
      expect(await a.read([7, 8, 9])).toEqual(expect.arrayContaining([run(7, 'COMPLETE'), run(8, 'RUNNING')]));
      // A new sweep's states replace the last sweep's.
      await b.publish([run(9, 'RUNNING')]);
      expect(await a.read([7, 8, 9])).toEqual([run(9, 'RUNNING')]);
      // An announcement not renewed lapses (the board's clock), and so does the lease.
      while ((await b.announced()).length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      // The lease was taken before the announcement was made: it has lapsed too.
      expect(await a.lead()).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  maybe('one replica reads Codegen for both; both wake when their runs end', async () => {
    const runs = await createRuns(150);
    const mine = runs.filter((_, i) => i % 2 === 0);
    const theirs = runs.filter((_, i) => i % 2 === 1);
    const a = replica(board('a'));
    const leaderWaits = mine.map((r) => waitForEnd(a, r));
    await until(() => a.stats().led > 0, 'a leads');
    const b = replica(board('b'));
    const followerWaits = theirs.map((r) => waitForEnd(b, r));
    await until(() => b.stats().boardReads >= 2, 'b follows');
    // The follower's runs end first: it learns so from the board, while the leader still has runs to read.
    await finish(theirs);
    expect((await Promise.all(followerWaits)).every((r) => r?.status === 'COMPLETE')).toBe(true);
    await finish(mine);
    expect((await Promise.all(leaderWaits)).every((r) => r?.status === 'COMPLETE')).toBe(true);
    expect(codegenReads(b)).toBe(0);
    expect(b.stats().led).toBe(0);
    // Every read the deployment made is the leader's: two pages per sweep, as for one replica alone.
    expect(listReads()).toBe(a.stats().listReads);
    expect(fake.requests.filter((r) => /\/agent\/run\/\d+$/.test(r.path))).toEqual([]);
  });

  maybe("the leader puts each page's news on the board as it reads it, not at the end of its sweep", async () => {
    const runs = await createRuns(250);
    const [oldest, newest] = [runs[0] as AgentRun, runs.at(-1) as AgentRun];
    // The leader's board, recording what it writes: the follower's run is on the first page, the leader's own
    // on the third, so a sweep reads three pages before it publishes.
    const writes: Array<{ kind: 'update' | 'publish'; completed: number[] }> = [];
    const real = board('a');
    const completed = (list: AgentRun[]) => list.filter((r) => r.state !== 'in_progress').map((r) => r.id);
    const recording: RunBoard = {
      ...real,
      async update(list) {
        writes.push({ kind: 'update', completed: completed(list) });
        await real.update(list);
      },
      async publish(list) {
        writes.push({ kind: 'publish', completed: completed(list) });
        await real.publish(list);
      },
    };
    const a = replica(recording);
    void waitForEnd(a, oldest).catch(() => undefined);
    await until(() => a.stats().led > 0, 'a leads');
    const b = replica(board('b'));
    const followerWait = waitForEnd(b, newest);
    await until(() => b.stats().boardReads >= 2, 'b follows');
    await finish([newest]);
    expect((await followerWait)?.state).not.toBe('in_progress');
    const firstUpdate = writes.findIndex((w) => w.kind === 'update' && w.completed.includes(newest.id));
    const firstPublish = writes.findIndex((w) => w.kind === 'publish' && w.completed.includes(newest.id));
    expect(firstUpdate).toBeGreaterThanOrEqual(0);
    if (firstPublish >= 0) expect(firstUpdate).toBeLessThan(firstPublish);
  });

  maybe('when the leader stops, the other replica takes the lead at its next sweep', async () => {
    const [first, second] = await createRuns(2);
    // A lease as long as production's (a minute): the takeover must not come from it lapsing.
    const a = replica(board('a', { ttlMs: 60_000 }));
    const leaderWait = waitForEnd(a, first as AgentRun);
    await until(() => a.stats().led > 0, 'a leads');
    const b = replica(board('b', { ttlMs: 60_000 }));
    const followerWait = waitForEnd(b, second as AgentRun);
    await until(() => b.stats().boardReads >= 2, 'b follows');
    expect(codegenReads(b)).toBe(0);
    // Stopping gives the lease up: b does not wait for it to lapse.
    void leaderWait.catch(() => undefined);
    await a.stop();
    await until(() => b.stats().led > 0, 'b leads');
    await finish([second as AgentRun]);
    expect((await followerWait)?.status).toBe('COMPLETE');
    expect(codegenReads(b)).toBeGreaterThan(0);
  });

  maybe('a leader in a long quiet spell keeps its short lease, and a newly announced run wakes it', async () => {
    const [first, second] = await createRuns(2);
    // Already over when the follower starts waiting on it: only a sweep of the leader can tell it so.
    await finish([second as AgentRun]);
    // One quiet sweep backs the leader off to a minute; its lease lasts a second.
    const a = createRunWatcher({
      agent: api,
      health,
      logger: silentLogger(),
      interval: { initialMs: 5, maxMs: 60_000, backoff: 100_000 },
      maxPages: 5,
      board: board('a', { ttlMs: 1_000 }),
      staleMs: 600_000,
    });
    watchers.push(a);
    void waitForEnd(a, first as AgentRun).catch(() => undefined);
    // Its first sweep sees the run start (a change), its second sees nothing new: a minute's pause begins.
    await until(() => a.stats().led >= 2, 'a leads, then rests');
    const b = replica(board('b', { ttlMs: 1_000 }));
    expect((await waitForEnd(b, second as AgentRun))?.status).toBe('COMPLETE');
    expect(a.stats().led).toBeGreaterThanOrEqual(3);
    expect(b.stats().led).toBe(0);
    expect(codegenReads(b)).toBe(0);
  });

  maybe('a leader that dies without giving the lead up is replaced once its lease lapses', async () => {
    const [first, second] = await createRuns(2);
    // A process killed mid-sweep: it never says it is leaving.
    const dying = board('a', { ttlMs: 1_000 });
    const a = replica({ ...dying, resign: async () => undefined });
    void waitForEnd(a, first as AgentRun).catch(() => undefined);
    await until(() => a.stats().led > 0, 'a leads');
    const b = replica(board('b', { ttlMs: 1_000 }));
    const followerWait = waitForEnd(b, second as AgentRun);
    await until(() => b.stats().boardReads >= 1, 'b follows');
    await a.stop();
    await until(() => b.stats().led > 0, 'b leads after the lease lapsed');
    await finish([second as AgentRun]);
    expect((await followerWait)?.status).toBe('COMPLETE');
  });

  maybe('when the board does not answer, each replica reads Codegen for itself', async () => {
    const proxy = await startTcpProxy({ target: kind.url ?? '' });
    proxies.push(proxy);
    const [first, second] = await createRuns(2);
    const a = replica(board('a', { url: proxy.url(kind.url ?? '') }));
    const waits = [waitForEnd(a, first as AgentRun)];
    await until(() => a.stats().led > 0, 'a leads');
    const b = replica(board('b', { url: proxy.url(kind.url ?? '') }));
    waits.push(waitForEnd(b, second as AgentRun));
    await until(() => b.stats().boardReads > 0, 'b follows');
    // The board's server crashes and stays away: connections reset, new ones refused.
    await proxy.close();
    const [readsA, readsB] = [codegenReads(a), codegenReads(b)];
    await until(() => codegenReads(a) > readsA && codegenReads(b) > readsB, 'both read for themselves');
    await finish([first as AgentRun, second as AgentRun]);
    expect((await Promise.all(waits)).map((r) => r?.status)).toEqual(['COMPLETE', 'COMPLETE']);
  });
});
