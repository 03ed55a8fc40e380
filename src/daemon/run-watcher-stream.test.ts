/**
 * Where the run watcher reads in the list, against a scripted agent API on fake timers (the clock is the test's:
 * nothing here depends on how fast the machine is). Runs of 30 s in a steady stream end oldest first, at the old
 * end of the list: the watcher learns that and reads there, noticing each end sooner than any sweep from page 0
 * could at the same read budget. With nothing learned it reads every run in turn, and a run that outlives every
 * duration learned is still looked at within lookAtLeastEveryMs.
 */
import { setMaxListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { silentLogger } from '../observability/logger.js';
import type { AgentRun, AgentRunListParams, AgentRunPage } from '../pipeline/ports.js';
import { createRunWatcher, type RunWatcher } from './run-watcher.js';

interface ScriptedRun {
  id: number;
  createdAt: number;
  endsAt: number;
}

/** The list endpoint and single GETs over `runs` (those created by now), newest first, as Codegen answers. */
function scriptedAgent(runs: ScriptedRun[]) {
  const listed: number[][] = [];
  const skips: Array<{ at: number; skip: number }> = [];
  const view = (run: ScriptedRun): AgentRun => {
    const over = Date.now() >= run.endsAt;
    return {
      id: run.id,
      status: over ? 'COMPLETE' : 'RUNNING',
      state: over ? 'succeeded' : 'in_progress',
      pullRequests: [],
      createdAt: new Date(run.createdAt).toISOString(),
    };
  };
  const agent = {
    singleReads: 0,
    listed,
    skips,
    async listAgentRuns(params: AgentRunListParams): Promise<AgentRunPage> {
      const now = Date.now();
      const existing = runs.filter((r) => r.createdAt <= now).sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
      const skip = params.skip ?? 0;
      const page = existing.slice(skip, skip + (params.limit ?? 100));
      listed.push(page.map((r) => r.id));
      skips.push({ at: now, skip });
      return { items: page.map(view), total: existing.length };
    },
    async getAgentRun(id: number): Promise<AgentRun> {
      agent.singleReads += 1;
      return view(runs.find((r) => r.id === id) as ScriptedRun);
    },
  };
  return agent;
}

/** Runs of `runMs` in a steady stream, `inFlight` at a time: run k is created k spacings after the first. */
function stream(start: number, inFlight: number, runMs: number, lengths: number): ScriptedRun[] {
  const spacing = runMs / inFlight;
  return Array.from({ length: inFlight * lengths }, (_, k) => ({
    id: 5_000 + k,
    createdAt: start - runMs + (k + 1) * spacing,
    endsAt: start + (k + 1) * spacing,
  }));
}

const READS_PER_30S = 54;
let watcher: RunWatcher | undefined;
const stop = new AbortController();
// Every waiter listens on the one signal, as a task pool's shutdown signal.
setMaxListeners(0, stop.signal);

beforeEach(() => {
  jest.useFakeTimers({ now: 1_000_000 });
});

afterEach(async () => {
  await watcher?.stop();
  watcher = undefined;
  jest.useRealTimers();
});

function watch(agent: ReturnType<typeof scriptedAgent>, lookAtLeastEveryMs?: number): RunWatcher {
  watcher = createRunWatcher({
    agent,
    health: { assess: async () => true, isDown: () => false },
    logger: silentLogger(),
    // The daemon's defaults (CODEGEN_POLL_*) and its read budget after headroom.
    interval: { initialMs: 5_000, maxMs: 60_000, backoff: 1.5 },
    maxPages: 500,
    budget: { readsPer30s: READS_PER_30S },
    ...(lookAtLeastEveryMs !== undefined ? { lookAtLeastEveryMs } : {}),
  });
  return watcher;
}

/** A task's wait: until its run is over; resolves with when it learned so (the fake clock). */
async function waitForEnd(w: RunWatcher, run: ScriptedRun, createdAt = run.createdAt): Promise<number | undefined> {
  let current: AgentRun | undefined = {
    id: run.id,
    status: 'ACTIVE',
    state: 'in_progress',
    pullRequests: [],
    createdAt: new Date(createdAt).toISOString(),
  };
  while (current?.state === 'in_progress') {
    current = await w.waitForChange(current, { signal: stop.signal, until: Date.now() + 3_600_000 });
  }
  return current ? Date.now() : undefined;
}

describe('run watcher: where in the list it reads', () => {
  it('with runs of 30 s ending oldest first, reads at the old end and notices sooner than a sweep from page 0 could', async () => {
    const inFlight = 500;
    const runMs = 30_000;
    const start = Date.now();
    // A steady stream (the first 500 created before the test starts), each run lasting 30 s.
    const runs = stream(start, inFlight, runMs, 4);
    const agent = scriptedAgent(runs);
    const w = watch(agent);
    const noticed = new Map<number, number>();
    let registered = 0;
    const end = start + 80_000;
    while (Date.now() < end) {
      // Each run is waited on from its creation, as a task waits on the run it just made.
      while (registered < runs.length && (runs[registered] as ScriptedRun).createdAt <= Date.now()) {
        const run = runs[registered] as ScriptedRun;
        void waitForEnd(w, run).then((at) => void (at !== undefined && noticed.set(run.id, at)));
        registered += 1;
      }
      await jest.advanceTimersByTimeAsync(50);
    }
    // Runs that ended in the last 50 s (the first 30 s the watcher learns how long runs last).
    const measured = runs.filter((r) => r.endsAt >= start + 30_000 && r.endsAt <= end - 5_000);
    const lags = measured.map((r) => (noticed.get(r.id) ?? end) - r.endsAt);
    const meanLag = lags.reduce((a, b) => a + b, 0) / lags.length;
    // A sweep from page 0 reads every page holding a watched run: at least inFlight / 100 pages, each read
    // 30 s / READS_PER_30S apart, so a run that ends waits half a sweep on average, at best.
    const readMs = 30_000 / READS_PER_30S;
    const sweepBound = ((inFlight / 100) * readMs) / 2;
    expect(measured.every((r) => noticed.has(r.id))).toBe(true);
    expect(meanLag).toBeLessThan(sweepBound / 2);
    // No more reads than the budget allows, and once learned, nearly all at the old end (past the first 300 of the
    // ~500 runs in flight), not at the head.
    expect(agent.listed.length).toBeLessThanOrEqual(Math.ceil((80_000 / 30_000) * READS_PER_30S) + 1);
    const late = agent.skips.filter((read) => read.at >= start + 30_000);
    expect(late.filter((read) => read.skip >= 300).length).toBeGreaterThanOrEqual(0.9 * late.length);
    expect(agent.singleReads).toBe(0);
  });

  it('with nothing learned, reads every run in turn, none twice', async () => {
    const start = Date.now();
    const runs: ScriptedRun[] = Array.from({ length: 550 }, (_, k) => ({
      id: 1_000 + k,
      createdAt: start - 1_000,
      endsAt: start + 3_600_000,
    }));
    const agent = scriptedAgent(runs);
    const w = watch(agent);
    for (const run of runs) void waitForEnd(w, run);
    // Nothing has ended, so nothing is learned: the first six reads cover every run (six pages).
    while (agent.listed.length < 6) await jest.advanceTimersByTimeAsync(100);
    expect(new Set(agent.listed.slice(0, 6).flat()).size).toBe(runs.length);
  });

  it('still looks at a run that outlives every duration learned, within lookAtLeastEveryMs', async () => {
    const start = Date.now();
    // Runs of 30 s in a steady stream (always some likely over, to read), and 100 older runs that go on for an
    // hour: past every duration learned, they weigh nothing but their staleness.
    const long = Array.from({ length: 100 }, (_, k) => ({
      id: 1_000 + k,
      createdAt: start - 60_000,
      endsAt: start + 3_600_000,
    }));
    const runs = [...long, ...stream(start, 300, 30_000, 4)];
    const agent = scriptedAgent(runs);
    const w = watch(agent, 20_000);
    let registered = 0;
    const end = start + 90_000;
    while (Date.now() < end) {
      while (registered < runs.length && (runs[registered] as ScriptedRun).createdAt <= Date.now()) {
        void waitForEnd(w, runs[registered] as ScriptedRun);
        registered += 1;
      }
      await jest.advanceTimersByTimeAsync(50);
    }
    // Learned by 40 s; from then on every long run is looked at in each stretch of lookAtLeastEveryMs (plus the
    // few reads a cycle over the runs takes).
    const late = agent.skips.map((read, i) => ({ ...read, ids: agent.listed[i] as number[] }));
    for (const from of [40_000, 65_000]) {
      const seen = new Set(
        late.filter((r) => r.at >= start + from && r.at < start + from + 25_000).flatMap((r) => r.ids),
      );
      expect(long.every((r) => seen.has(r.id))).toBe(true);
    }
  });
  it('a run resumed after it ended is timed from its resumption, not from its creation', async () => {
    const start = Date.now();
    const runs = stream(start, 300, 30_000, 3);
    const agent = scriptedAgent(runs);
    const w = watch(agent);
    const noticed = new Map<number, number>();
    let registered = 0;
    const advance = async (until: number): Promise<void> => {
      while (Date.now() < until) {
        while (registered < runs.length && (runs[registered] as ScriptedRun).createdAt <= Date.now()) {
          const run = runs[registered] as ScriptedRun;
          void waitForEnd(w, run).then((at) => void (at !== undefined && noticed.set(run.id, at)));
          registered += 1;
        }
        await jest.advanceTimersByTimeAsync(50);
      }
    };
    // Durations learned (30 s); then a run that ended and was noticed is resumed, and runs 30 s more.
    await advance(start + 40_000);
    const resumed = runs.find((r) => r.endsAt >= start + 30_000 && noticed.has(r.id)) as ScriptedRun;
    resumed.endsAt = Date.now() + 30_000;
    let again: number | undefined;
    void waitForEnd(w, resumed).then((at) => void (again = at));
    await advance(resumed.endsAt + 10_000);
    // Counted from its creation it is past every duration learned, and would be read only each lookAtLeastEveryMs.
    expect(again).toBeDefined();
    expect((again as number) - resumed.endsAt).toBeLessThan(5_000);
  });
  it('with runs created together and ending at random, notices every end within two passes over the list', async () => {
    const start = Date.now();
    // 1,000 runs made at once, each ending at a time spread evenly over [5 s, 35 s], in no order of the list
    // (the first ends are the short runs, while the long ones still run).
    const runs: ScriptedRun[] = Array.from({ length: 1_000 }, (_, k) => ({
      id: 1_000 + k,
      createdAt: start - 1_000 + k,
      endsAt: start + 5_000 + ((k * 7_919) % 1_000) * 30,
    }));
    const agent = scriptedAgent(runs);
    const w = watch(agent);
    const noticed = new Map<number, number>();
    // The tasks hold a creation time a second older than the list's (taken from another clock): the list's is
    // the one to go by once a read shows it.
    for (const run of runs) {
      void waitForEnd(w, run, run.createdAt - 1_000).then((at) => void (at !== undefined && noticed.set(run.id, at)));
    }
    await jest.advanceTimersByTimeAsync(50_000);
    expect(noticed.size).toBe(runs.length);
    // Reading the ten pages in turn at the budget notices a run 2.8 s after its end on average; the watcher's
    // choices must not do much worse (a run left unread waits up to lookAtLeastEveryMs, a minute).
    const lags = runs.map((r) => (noticed.get(r.id) as number) - r.endsAt);
    const cycleMs = 10 * (30_000 / READS_PER_30S);
    expect(lags.reduce((x, y) => x + y, 0) / lags.length).toBeLessThan(2 * cycleMs);
  });
});
