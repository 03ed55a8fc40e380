/**
 * What an operator watches, against the real thing: the built daemon works a small queue on loopback fakes
 * (one task fails once and recovers), Debian's Prometheus scrapes it every second with the project's rule
 * files, and the shipped Grafana dashboard's queries are run through Prometheus' HTTP API.
 *
 * Checked: the queue-depth gauges go back to 0 when the queue drains; `promtool check metrics` accepts
 * /metrics; every rule is healthy; every recording rule and every dashboard query returns data.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { TASK_STATUSES } from '../../src/domain/task.js';
import { killAll, startDaemon, type DaemonProcess } from './daemon-process.js';
import { sampleValue } from './metrics-text.js';
import { missingTools, promtool, startPrometheus, type PrometheusProcess } from './prometheus-process.js';
import { startWorld, until, type World } from './world.js';

const TASKS = 6;
const RULE_FILES = ['deploy/prometheus/rules.yml', 'deploy/prometheus/alerts.yml'];
const DASHBOARD = 'deploy/grafana/dashboards/codegen-pr.json';

const skipWhy = missingTools('prometheus', 'promtool');
if (skipWhy) console.warn(`observability e2e: the Prometheus checks are skipped: ${skipWhy}`);
const withPrometheus = skipWhy ? it.skip : it;

function tasks(from: number, to: number): Array<{ id: string; title: string; description: string }> {
  return Array.from({ length: to - from }, (_, k) => ({
    id: `obs-${from + k}`,
    title: `Observed task ${from + k}`,
    description: `Make observable change ${from + k}.`,
  }));
}

interface Panel {
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

/** Every query of the dashboard, with the title of its panel. */
function dashboardQueries(): Array<{ panel: string; expr: string }> {
  const { panels } = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
  const all = panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  return all.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}

describe('observability of a live daemon', () => {
  let world: World;
  let daemon: DaemonProcess;
  let metricsUrl: string;
  let prometheus: PrometheusProcess | undefined;

  beforeAll(async () => {
    world = await startWorld();
    // Half the tasks wait before the daemon starts, so its first count sees them pending.
    await world.store.addTasks(tasks(0, TASKS / 2));
    daemon = startDaemon(world.daemonEnv({ CONCURRENCY: '3' }));
    metricsUrl = `${await daemon.httpUrl()}/metrics`;
    if (!skipWhy) {
      prometheus = await startPrometheus({ target: new URL(metricsUrl).host, ruleFiles: RULE_FILES });
      // The other half comes once Prometheus holds samples from before it: rates then see the work happen.
      const live = prometheus;
      await until(
        async () => Number((await live.query('count_over_time(up{job="codegen-pr"}[1m])'))[0]?.value[1]) >= 2,
        30_000,
        () => `Prometheus did not scrape the daemon: ${live.logs()}`,
      );
    }
    // One agent-run creation fails with a 500: that task is retried and recovers on its second attempt.
    world.codegen.failNext({ method: 'POST', pathIncludes: '/agent/run' }, 500, { detail: 'boom' });
    await world.store.addTasks(tasks(TASKS / 2, TASKS));
  }, 90_000);

  afterAll(async () => {
    // Prometheus first: once the daemon's port is free another suite may be given it, and must not be scraped.
    await prometheus?.stop();
    await killAll();
    await world?.close();
  });

  const scrape = async (): Promise<string> => (await fetch(metricsUrl)).text();

  // Runs first: the other tests look at the drained queue.
  it('shows a drained queue as 0 in every status, not the depth it last saw', async () => {
    await until(
      async () => (await world.store.countByStatus()).completed === TASKS,
      90_000,
      async () => `status counts ${JSON.stringify(await world.store.countByStatus())}`,
    );
    // The gauges refresh on a timer: wait for a refresh that has seen the drained queue.
    let text = '';
    await until(
      async () => sampleValue((text = await scrape()), 'codegen_pr_queue_depth', { status: 'completed' }) === TASKS,
      30_000,
      () => `queue depth lines: ${text.split('\n').filter((l) => l.startsWith('codegen_pr_queue_depth'))}`,
    );
    const depth = Object.fromEntries(
      TASK_STATUSES.map((status) => [status, sampleValue(text, 'codegen_pr_queue_depth', { status })]),
    );
    expect(depth).toEqual({
      pending: 0,
      claimed: 0,
      awaiting_agent: 0,
      retry: 0,
      completed: TASKS,
      failed: 0,
      cancelled: 0,
    });
    // The retried task is counted as a recovery; counters that never moved are there at 0.
    expect(sampleValue(text, 'codegen_pr_tasks_finished_total', { outcome: 'retried', category: 'server' })).toBe(1);
    expect(sampleValue(text, 'codegen_pr_tasks_recovered_total')).toBe(1);
    expect(sampleValue(text, 'codegen_pr_tasks_finished_total', { outcome: 'failed', category: 'quota' })).toBe(0);
    expect(sampleValue(text, 'codegen_pr_intake_paused', { reason: 'quota' })).toBe(0);
    // Every dependency's requests are measured.
    for (const dependency of ['codegen', 'github', 'task-store']) {
      const total = text
        .split('\n')
        .filter((l) => l.startsWith('codegen_pr_external_requests_total{') && l.includes(`dependency="${dependency}"`))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
      expect({ dependency, requests: total > 0 }).toEqual({ dependency, requests: true });
    }
  }, 150_000);

  withPrometheus('passes promtool check metrics', async () => {
    const result = promtool(['check', 'metrics'], await scrape());
    expect(result).toEqual({ status: 0, output: '' });
  });

  withPrometheus(
    'evaluates every rule without error, and every recording rule (a number) and dashboard query returns data',
    async () => {
      const live = prometheus as PrometheusProcess;
      const queries = dashboardQueries();
      expect(queries.length).toBeGreaterThan(20);
      let state = { unhealthy: [] as string[], emptyRules: [] as string[], emptyPanels: [] as string[] };
      const look = async (): Promise<boolean> => {
        const rules = await live.rules();
        const unhealthy = rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError}`);
        const emptyRules: string[] = [];
        for (const r of rules.filter((r) => r.type === 'recording'))
          if (!(await live.query(r.name)).some((sample) => Number.isFinite(Number(sample.value[1]))))
            emptyRules.push(r.name);
        const emptyPanels: string[] = [];
        for (const q of queries) if ((await live.query(q.expr)).length === 0) emptyPanels.push(`${q.panel}: ${q.expr}`);
        state = { unhealthy, emptyRules, emptyPanels };
        return rules.length > 0 && unhealthy.length + emptyRules.length + emptyPanels.length === 0;
      };
      // Rules are evaluated every second on one-second scrapes: a few rounds give every window two samples.
      await until(look, 60_000, () => `${JSON.stringify(state, null, 2)}\nprometheus: ${live.logs()}`);
      expect(state).toEqual({ unhealthy: [], emptyRules: [], emptyPanels: [] });

      // The seed's targets come out as numbers: every finished task succeeded, and the one error recovered.
      const value = async (expr: string): Promise<number> => Number((await live.query(expr))[0]?.value[1]);
      expect(await value('codegen_pr:task_success:ratio_rate1h')).toBe(1);
      expect(await value('codegen_pr:task_recovery:ratio_rate1h')).toBe(1);
      expect(await value('codegen_pr:task_duration_seconds:mean1h')).toBeGreaterThan(0);
      expect(await value('codegen_pr:tasks_waiting:max')).toBe(0);

      // Prometheus first: a port the daemon gives back may go to another suite's fake, which it would scrape.
      await live.stop();
      expect(await daemon.stop('SIGTERM')).toBe(0);
    },
    120_000,
  );
});
