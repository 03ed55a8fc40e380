/**
 * The walking skeleton end to end: the built daemon, started as a user starts it, against the Task API, the
 * Codegen fake and the GitHub fake, with 50 tasks.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { killAll, startDaemon, type DaemonProcess } from './daemon-process.js';
import { readFileSync } from 'node:fs';
import { metricNames, sampleValue } from './metrics-text.js';
import { REPO, startWorld, until, type World } from './world.js';

const TASKS = 50;

describe('daemon end to end (50 tasks)', () => {
  let world: World;
  let daemon: DaemonProcess;

  beforeAll(async () => {
    world = await startWorld();
    await world.store.addTasks(
      Array.from({ length: TASKS }, (_, i) => ({
        id: `e2e-${String(i).padStart(3, '0')}`,
        title: `Task number ${i}`,
        description: `Make change ${i} in the widgets service.`,
        type: (['feature', 'bugfix', 'refactor', 'documentation', 'test'] as const)[i % 5],
        priority: (['low', 'medium', 'high', 'critical'] as const)[i % 4],
      })),
    );
    daemon = startDaemon(world.daemonEnv());
  }, 60_000);

  afterAll(async () => {
    await killAll();
    await world?.close();
  });

  it('completes every task with exactly one agent run and one proper PR, then exits 0 on SIGTERM', async () => {
    const metricsUrl = `${await daemon.httpUrl()}/metrics`;
    await until(
      async () => (await world.store.countByStatus()).completed === TASKS,
      90_000,
      async () => `status counts ${JSON.stringify(await world.store.countByStatus())}`,
    );

    // Every task reported completed with its PR url, number and branch.
    const page = await world.store.listTasks({ status: 'completed', limit: 500 });
    expect(page.tasks).toHaveLength(TASKS);
    for (const task of page.tasks) {
      expect(task.checkpoint.pr?.url).toMatch(/^https:\/\/github\.com\/acme\/widgets\/pull\/\d+$/);
      expect(task.checkpoint.pr?.branch).toMatch(/^codegen-bot\/run-\d+$/);
      expect(task.checkpoint.agentRunId).toBeDefined();
    }

    // Each task's attempt logs one line when it starts and one when it ends, naming its PR. A task is marked
    // completed in the store before its line is logged, so wait for each end line.
    for (const task of page.tasks) {
      await daemon.waitForLog((l) => l.taskId === task.id && / completed\b/.test(l.msg));
      const mine = daemon.logs.filter((l) => l.taskId === task.id && / (started|completed)\b/.test(l.msg));
      expect(mine).toHaveLength(2);
      expect(mine[0]?.msg).toMatch(new RegExp(`^task ${task.id} started \\(attempt \\d+\\)$`));
      expect(mine[1]?.msg).toBe(`task ${task.id} completed: ${task.checkpoint.pr?.url}`);
    }

    // Exactly one agent run per task.
    const runsPerTask = new Map<string, number>();
    for (const run of world.codegen.runs) {
      const id = String(run.metadata?.task_id);
      runsPerTask.set(id, (runsPerTask.get(id) ?? 0) + 1);
    }
    expect(runsPerTask.size).toBe(TASKS);
    expect([...runsPerTask.values()].every((n) => n === 1)).toBe(true);

    // Labels, assignees and reviewers on every PR; the author never requested; the task linked once.
    const [owner = '', repo = ''] = REPO.split('/');
    const pulls = world.github.listPulls(owner, repo).filter((p) => p.head !== 'warm-up');
    expect(pulls).toHaveLength(TASKS);
    for (const pull of pulls) {
      expect(pull.labels.sort()).toEqual(['automated', 'codegen']);
      expect(pull.requestedReviewers.sort()).toEqual(['alice', 'bob']);
      expect(pull.assignees).toEqual(['carol']);
      expect(pull.body?.match(/codegen-pr:task/g)?.length).toBeGreaterThanOrEqual(1);
    }
    expect(world.github.violations).toEqual([]);
    expect(world.codegen.violations).toEqual([]);

    // The metrics agree with what happened.
    const metrics = await (await fetch(metricsUrl)).text();
    expect(sampleValue(metrics, 'codegen_pr_tasks_finished_total', { outcome: 'completed', category: 'none' })).toBe(
      TASKS,
    );
    expect(sampleValue(metrics, 'codegen_pr_agent_runs_created_total')).toBe(TASKS);
    expect(sampleValue(metrics, 'codegen_pr_prs_created_total', { origin: 'agent' })).toBe(TASKS);
    expect(sampleValue(metrics, 'codegen_pr_tasks_claimed_total', { source: 'http' })).toBe(TASKS);
    expect(sampleValue(metrics, 'codegen_pr_task_duration_seconds_count', { outcome: 'completed' })).toBe(TASKS);
    expect(sampleValue(metrics, 'codegen_pr_tasks_in_flight')).toBe(0);

    // The Grafana dashboard and the alert rules only name metrics the daemon really exports.
    const exported = metricNames(metrics);
    for (const file of ['deploy/grafana/dashboards/codegen-pr.json', 'deploy/prometheus/alerts.yml']) {
      const used = new Set(readFileSync(file, 'utf8').match(/codegen_pr_[a-z0-9_]+/g) ?? []);
      expect(used.size).toBeGreaterThan(3);
      expect([...used].filter((name) => !exported.has(name))).toEqual([]);
    }

    // No secret in the logs or in /status.
    const status = await (await fetch(metricsUrl.replace('/metrics', '/status'))).text();
    expect(JSON.parse(status)).toMatchObject({ initialized: true, dryRun: false, activeTasks: 0 });
    const env = world.daemonEnv();
    for (const secret of [env.CODEGEN_API_KEY, env.GITHUB_TOKEN, env.CLOUDFLARE_API_KEY]) {
      expect(secret && secret.length > 8).toBe(true);
      expect(status).not.toContain(secret);
      expect(JSON.stringify(daemon.logs)).not.toContain(secret);
      expect(daemon.stderr.join('')).not.toContain(secret);
    }

    // SIGTERM: a clean, prompt exit with code 0.
    expect(await daemon.stop('SIGTERM')).toBe(0);
  }, 120_000);
});
