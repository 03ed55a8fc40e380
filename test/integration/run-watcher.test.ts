/**
 * The run watcher against the loopback Codegen fake (checked against the official OpenAPI document): many tasks
 * waiting at once cost pages of the list endpoint, not a GET per run; a run past the listed window is read on its
 * own; an outage stops every read but the probe's; a run's own failure ends only its waits. Replicas sharing a
 * board: run-watcher-boards.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createCodegenApi, type CodegenApi } from '../../src/adapters/codegen/index.js';
import { createRunWatcher, type RunWatcher } from '../../src/daemon/run-watcher.js';
import type { AgentRun } from '../../src/pipeline/ports.js';
import { silentLogger } from '../../src/observability/logger.js';
import { startCodegenFake, type CodegenFake } from '../fakes/codegen-fake.js';
import { FakeHealth } from '../fakes/memory-ports.js';

let fake: CodegenFake;
let api: CodegenApi;
let health: FakeHealth;
let watcher: RunWatcher | undefined;
const controller = new AbortController();

beforeEach(async () => {
  fake = await startCodegenFake({ repos: [{ id: 11, full_name: 'acme/widgets' }] });
  api = createCodegenApi({
    baseUrl: fake.url,
    apiKey: fake.token,
    orgId: fake.orgId,
    timeoutMs: 5_000,
    logger: silentLogger(),
  });
  health = new FakeHealth();
});

afterEach(async () => {
  await watcher?.stop();
  watcher = undefined;
  await fake.close();
  expect(fake.violations).toEqual([]);
});

function watch(options: { maxPages?: number; singleReadsPerSweep?: number } = {}): RunWatcher {
  watcher = createRunWatcher({
    agent: api,
    health,
    logger: silentLogger(),
    interval: { initialMs: 5, maxMs: 5, backoff: 1.5 },
    maxPages: options.maxPages ?? 50,
    ...(options.singleReadsPerSweep !== undefined ? { singleReadsPerSweep: options.singleReadsPerSweep } : {}),
  });
  return watcher;
}

async function createRuns(count: number): Promise<AgentRun[]> {
  const runs: AgentRun[] = [];
  for (let i = 0; i < count; i += 1) {
    runs.push(await api.createAgentRun({ prompt: `task ${i}`, repoId: 11, metadata: { task_id: `t-${i}` } }));
  }
  return runs;
}

const until = (ms: number) => Date.now() + ms;

/** Wait as a task does: until the run is no longer in progress, waking on each change. */
async function waitForEnd(w: RunWatcher, run: AgentRun): Promise<AgentRun | undefined> {
  let current: AgentRun | undefined = run;
  while (current?.state === 'in_progress') {
    current = await w.waitForChange(current, { signal: controller.signal, until: until(60_000) });
  }
  return current;
}
const reads = (suffix: string) => fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith(suffix)).length;
const singleReads = () => fake.requests.filter((r) => r.method === 'GET' && /\/agent\/run\/\d+$/.test(r.path)).length;

describe('run watcher', () => {
  it('learns the state of 250 waiting runs from pages of the list endpoint, not from a GET per run', async () => {
    fake.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: 3 }));
    const runs = await createRuns(250);
    const w = watch();
    // Each task waits until its run's status changes; each change is one wake-up.
    const finals = await Promise.all(runs.map((run) => waitForEnd(w, run)));
    expect(finals.map((r) => r?.status)).toEqual(runs.map(() => 'COMPLETE'));
    expect(finals.every((r) => (r?.pullRequests.length ?? 0) === 1)).toBe(true);
    // Four sweeps (three looks while RUNNING, then the end) of three pages each; not 250 runs x four GETs.
    expect(singleReads()).toBe(0);
    expect(reads('/agent/runs')).toBe(4 * 3);
    expect(w.watching()).toBe(0);
  });

  it('with a read budget, paces its sweeps by the reads they take, not by the initial interval', async () => {
    fake.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: 3 }));
    const runs = await createRuns(150);
    // An initial interval of a minute: only pacing by the budget (two pages of a generous one) gets this done.
    watcher = createRunWatcher({
      agent: api,
      health,
      logger: silentLogger(),
      interval: { initialMs: 60_000, maxMs: 60_000, backoff: 1 },
      maxPages: 50,
      budget: { readsPer30s: 30_000, minIntervalMs: 5 },
    });
    const finals = await Promise.all(runs.map((run) => waitForEnd(watcher as RunWatcher, run)));
    expect(finals.map((r) => r?.status)).toEqual(runs.map(() => 'COMPLETE'));
    expect(reads('/agent/runs')).toBe(4 * 2);
  });

  it('reads only as many pages as cover the oldest watched run', async () => {
    fake.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: 1_000_000 }));
    const runs = await createRuns(230);
    const newest = runs.at(-1) as AgentRun;
    const w = watch();
    const waiting = waitForEnd(w, newest);
    await new Promise<void>((resolve) => {
      const check = (): void => (reads('/agent/runs') >= 3 ? resolve() : void setTimeout(check, 5));
      check();
    });
    // The newest run is on the first page: no sweep read a second one.
    expect(fake.requests.filter((r) => r.path.endsWith('/agent/runs')).every((r) => r.query.skip === '0')).toBe(true);
    const run = fake.runs.find((r) => r.id === newest.id);
    if (run) await fake.finishNow(run);
    expect((await waiting)?.status).toBe('COMPLETE');
  });

  it('reads a run past the listed window on its own', async () => {
    fake.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: 2 }));
    const runs = await createRuns(120);
    const oldest = runs[0] as AgentRun;
    // One page of 100 covers the newest runs only: the oldest is past the window.
    const w = watch({ maxPages: 1, singleReadsPerSweep: 1 });
    expect((await waitForEnd(w, oldest))?.status).toBe('COMPLETE');
    expect(reads(`/agent/run/${oldest.id}`)).toBeGreaterThanOrEqual(1);
  });

  it('reads a run much older than the rest on its own instead of paging back to it every sweep', async () => {
    fake.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: 3 }));
    const [old] = await createRuns(1);
    // 450 newer runs that nobody here waits on: the old run is on the fifth page.
    await createRuns(450);
    const w = watch({ singleReadsPerSweep: 1 });
    expect((await waitForEnd(w, old as AgentRun))?.status).toBe('COMPLETE');
    // Two pages in a row without a watched run end the paging (0, 100); then the single-run GET.
    const skips = new Set(fake.requests.filter((r) => r.path.endsWith('/agent/runs')).map((r) => r.query.skip));
    expect([...skips].sort()).toEqual(['0', '100']);
    expect(reads(`/agent/run/${old?.id}`)).toBeGreaterThanOrEqual(1);
  });

  it('reads nothing while Codegen is declared down, and goes on when it is back', async () => {
    fake.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: 0 }));
    const [run] = await createRuns(1);
    health.down = true;
    const before = fake.requests.length;
    const w = watch();
    const waiting = w.waitForChange(run as AgentRun, { signal: controller.signal, until: until(60_000) });
    // Let several sweeps' worth of time pass: none may read.
    await new Promise((r) => setTimeout(r, 60));
    expect(fake.requests.length).toBe(before);
    health.down = false;
    expect((await waiting)?.status).toBe('COMPLETE');
  });

  it("ends the waits on a run whose single-run GET fails for the run's own reason", async () => {
    const [run] = await createRuns(1);
    const w = watch({ maxPages: 1 });
    // The list fails with a 422 once (Codegen answers: not an outage), so the run is read on its own, and that
    // read finds the run gone.
    fake.failNext({ method: 'GET', pathIncludes: '/agent/runs' }, 422);
    fake.failNext({ method: 'GET', pathIncludes: `/agent/run/${run?.id}` }, 404);
    await expect(
      w.waitForChange(run as AgentRun, { signal: controller.signal, until: until(60_000) }),
    ).rejects.toMatchObject({ code: 'codegen-run-not-found' });
    // Both failures were put to the health monitor, which found Codegen answering.
    expect(health.assessed.map((e) => e.code)).toEqual([expect.any(String), 'codegen-run-not-found']);
  });

  it('answers undefined at the deadline and rejects with the reason of an aborted signal', async () => {
    fake.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: 1_000_000 }));
    const [created] = await createRuns(1);
    // Every look shows it RUNNING (the fake's first look moves it there): nothing changes for this waiter.
    const run = { ...(created as AgentRun), status: 'RUNNING' };
    const w = watch();
    expect(await w.waitForChange(run, { signal: controller.signal, until: until(30) })).toBeUndefined();
    const abort = new AbortController();
    const waiting = w.waitForChange(run, { signal: abort.signal, until: until(60_000) });
    abort.abort(new Error('shutdown'));
    await expect(waiting).rejects.toThrow('shutdown');
    expect(w.watching()).toBe(0);
  });
});
