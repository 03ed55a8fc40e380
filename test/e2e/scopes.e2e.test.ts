/**
 * Errors carry a scope, seen from outside: the built daemon against the loopback world. A repository GitHub
 * will not let us touch parks that repository's tasks while the others flow; a refused GitHub token pauses
 * intake (once) until the token works again; a Codegen outage spends no attempts and fails no task.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { killAll, startDaemon } from './daemon-process.js';
import { OTHER_REPO, startWorld, until, type World } from './world.js';

describe('failures scoped to a repository, a credential or a dependency', () => {
  let world: World;
  const env = (extra: Record<string, string> = {}): Record<string, string> =>
    world.daemonEnv({
      CONCURRENCY: '4',
      RECONCILE_INTERVAL_MS: '0',
      DEPENDENCY_PROBE_INTERVAL_MS: '100',
      DEPENDENCY_PROBE_MAX_INTERVAL_MS: '300',
      OUTAGE_RETRY_MS: '200',
      MAX_RETRIES: '1',
      ...extra,
    });
  const task = (id: string) => world.store.getTask(id);
  const describeTasks = async (...ids: string[]) => JSON.stringify(await Promise.all(ids.map((id) => task(id))));
  const [gadgetsOwner = '', gadgetsRepo = ''] = OTHER_REPO.split('/');

  beforeAll(async () => {
    world = await startWorld({ pollsUntilDone: 2 });
  });
  afterAll(async () => {
    await killAll();
    await world?.close();
  });

  it('a GitHub 403 that is not a rate limit parks that repository; other repositories flow and intake stays open', async () => {
    world.github.failNext(
      { pathIncludes: `/repos/${gadgetsOwner}/${gadgetsRepo}/` },
      403,
      { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest' },
      undefined,
      10_000,
    );
    const daemon = startDaemon(env());
    await world.store.addTasks([{ id: 'gadget-1', title: 'Gadget work', description: 'd', repository: OTHER_REPO }]);
    await until(
      async () => (await task('gadget-1'))?.lastError !== undefined,
      30_000,
      () => describeTasks('gadget-1'),
    );
    // Only now the other repository's work arrives: it must not wait behind the parked repository.
    await world.store.addTasks([
      { id: 'widget-1', title: 'Widget work', description: 'd' },
      { id: 'widget-2', title: 'More widget work', description: 'd' },
    ]);
    await until(
      async () => (await task('widget-1'))?.status === 'completed' && (await task('widget-2'))?.status === 'completed',
      30_000,
      () => describeTasks('gadget-1', 'widget-1', 'widget-2'),
    );
    const parked = await task('gadget-1');
    expect(parked).toMatchObject({ status: 'retry', attempts: 0, lastError: { code: 'github-forbidden' } });
    expect(parked!.lastError!.message).toMatch(/write access to contents and pull requests/);
    // Parked for the park length, not retried in a loop.
    expect(Date.parse(parked!.nextRunAt ?? '') - Date.now()).toBeGreaterThan(10 * 60_000);
    const status = (await (await fetch(`${await daemon.httpUrl()}/status`)).json()) as {
      intake: { open: boolean };
      parkedRepositories: Array<{ repository: string; code: string }>;
    };
    expect(status.intake.open).toBe(true);
    expect(status.parkedRepositories).toEqual([
      expect.objectContaining({ repository: OTHER_REPO, code: 'github-forbidden' }),
    ]);
    expect(await daemon.stop('SIGTERM')).toBe(0);
  }, 90_000);

  it('a refused GitHub token pauses intake once, probes GitHub, and resumes when the token works again', async () => {
    const good = world.github.token;
    const daemonEnv = env();
    // The token the daemon holds was rotated on GitHub's side: the fake accepts only the new one.
    world.github.token = 'ghp_rotated_elsewhere';
    const daemon = startDaemon(daemonEnv);
    await world.store.addTasks([{ id: 'token-1', title: 'Token trouble', description: 'd' }]);
    const probes = () => world.github.requests.filter((r) => r.path === '/rate_limit');
    // GitHub refuses the token: the daemon probes GET /rate_limit (and nothing else) until it works.
    await until(
      async () => probes().length >= 4,
      30_000,
      () => describeTasks('token-1'),
    );
    expect(probes().every((r) => r.status === 401)).toBe(true);
    const held = await task('token-1');
    expect(held?.status).not.toBe('failed');
    expect(held?.attempts ?? 0).toBeLessThanOrEqual(1);
    const refusals = () => daemon.logs.filter((l) => /refused our credential/.test(l.msg));
    expect(refusals()).toHaveLength(1);
    expect(daemon.logs.filter((l) => /intake resumed/.test(String(l.msg)))).toHaveLength(0);

    world.github.token = good;
    await until(
      async () => (await task('token-1'))?.status === 'completed',
      30_000,
      () => describeTasks('token-1'),
    );
    expect(refusals()).toHaveLength(1);
    expect(await task('token-1')).toMatchObject({ attempts: 1 });
    expect(await daemon.stop('SIGTERM')).toBe(0);
  }, 90_000);

  it('a Codegen outage spends no attempts and fails no task: runs are waited on, new work is held back', async () => {
    world.codegen.setOutcome(() => ({ finalStatus: 'COMPLETE', pollsUntilDone: 6 }));
    // The breaker opens during the outage and lets a trial through after BREAKER_RESET_MS.
    const daemon = startDaemon(env({ BREAKER_RESET_MS: '500' }));
    await world.store.addTasks([
      { id: 'outage-1', title: 'During an outage', description: 'd' },
      { id: 'outage-2', title: 'During an outage', description: 'd' },
    ]);
    await until(
      async () =>
        (await task('outage-1'))?.checkpoint.agentRunId !== undefined &&
        (await task('outage-2'))?.checkpoint.agentRunId !== undefined,
      30_000,
      () => describeTasks('outage-1', 'outage-2'),
    );
    world.codegen.setOutage(503);
    // Work that arrives during the outage is claimed, cannot create its run, and is handed back untouched.
    await world.store.addTasks([{ id: 'outage-3', title: 'Arrives mid-outage', description: 'd' }]);
    // The outage is confirmed by a failed probe (intake paused for it), and lasts a few more probes.
    const url = await daemon.httpUrl();
    const paused = async () =>
      ((await (await fetch(`${url}/status`)).json()) as { intake: { paused: Array<{ reason: string }> } }).intake
        .paused;
    await until(
      async () => (await paused()).some((p) => p.reason === 'dependency:codegen'),
      30_000,
      () => describeTasks('outage-1', 'outage-3'),
    );
    const hitsAt = world.codegen.outageHits;
    await until(
      async () => world.codegen.outageHits >= hitsAt + 3,
      30_000,
      () => describeTasks('outage-1', 'outage-3'),
    );
    world.codegen.setOutage(undefined);
    const ids = ['outage-1', 'outage-2', 'outage-3'];
    await until(
      async () => (await Promise.all(ids.map((id) => task(id)))).every((t) => t?.status === 'completed'),
      60_000,
      () => describeTasks(...ids),
    );
    for (const id of ids) {
      expect(await task(id)).toMatchObject({ status: 'completed', attempts: 1 });
      const history = await world.store.getTaskHistory(id);
      expect(history.filter((e) => e.kind === 'retry-scheduled' && e.detail?.countAttempt === true)).toEqual([]);
      expect(world.codegen.runs.filter((r) => r.metadata?.task_id === id)).toHaveLength(1);
    }
    expect(daemon.logs.some((l) => /codegen is unavailable/.test(String(l.msg)))).toBe(true);
    expect(await daemon.stop('SIGTERM')).toBe(0);
  }, 120_000);
});
