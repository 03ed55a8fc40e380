/**
 * The README's first ten minutes on the embedded store: `npm start` in one terminal, `codegen-pr tasks add` and
 * `tasks list` in another, on the same ./data. The daemon owns the store and serves it; the CLI goes through it
 * while it runs and opens the store itself before and after. Every task is processed and none is lost.
 * Against the Codegen and GitHub fakes on loopback.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCodegenFake, type CodegenFake } from '../fakes/codegen-fake.js';
import { startGitHubFake, type GitHubFake } from '../fakes/github-fake.js';
import { lineOf, runCli } from './cli-process.js';
import { killAll, startDaemon } from './daemon-process.js';
import { REPO, until, warmUpGitHub } from './world.js';

describe('the daemon and the CLI on one ./data', () => {
  let codegen: CodegenFake;
  let github: GitHubFake;
  let cwd: string;

  beforeAll(async () => {
    cwd = mkdtempSync(path.join(tmpdir(), 'codegen-pr-embedded-'));
    github = await startGitHubFake({ collaborators: ['alice'] });
    codegen = await startCodegenFake({
      repos: [{ id: 7, full_name: REPO }],
      pollsUntilDone: 1,
      onRunFinished: async (run) => {
        const [owner = '', repo = ''] = REPO.split('/');
        const branch = `codegen-bot/run-${run.id}`;
        github.createBranch(owner, repo, branch);
        const pr = github.openPullRequestAsAgent({ owner, repo, head: branch, title: `Codegen run ${run.id}` });
        return { url: pr.html_url, branch };
      },
    });
    await warmUpGitHub(github);
  });
  afterAll(async () => {
    await killAll();
    await codegen?.close();
    await github?.close();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  // Neither CLOUDFLARE_API_URL nor DATABASE_URL: the embedded store in ./data, as on a fresh clone.
  const env = (): Record<string, string> => ({
    CODEGEN_API_URL: codegen.url,
    CODEGEN_API_KEY: codegen.token,
    CODEGEN_ORG_ID: String(codegen.orgId),
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN: github.token,
    GITHUB_REPOSITORY: REPO,
    POLL_INTERVAL_MS: '200',
    CODEGEN_POLL_INITIAL_MS: '20',
    CODEGEN_POLL_MAX_MS: '100',
    CODEGEN_CREATE_PER_MINUTE: '10000',
    CODEGEN_REQUESTS_PER_30S: '100000',
    GITHUB_WRITE_MIN_TIME_MS: '0',
    GITHUB_NOTIFICATION_MIN_TIME_MS: '0',
    RECONCILE_INTERVAL_MS: '0',
    CONCURRENCY: '4',
  });

  it('processes every task the CLI adds while the daemon runs, and loses none after it stops', async () => {
    const ids: string[] = [];
    // Before the daemon: the CLI owns ./data for its short life.
    const early = await runCli(
      cwd,
      ['tasks', 'add', '--id', 'early-1', '--title', 'Early', '--description', 'd'],
      env(),
    );
    expect(early).toMatchObject({ code: 0 });
    ids.push('early-1');

    const daemon = startDaemon(env(), ['run'], { cwd });
    await daemon.waitForLog((l) => l.msg === 'sharing the store with other local processes', 60_000);

    // While it runs: single adds, and a file of twenty, all through the daemon.
    for (let i = 1; i <= 4; i++) {
      const added = await runCli(
        cwd,
        ['tasks', 'add', '--id', `during-${i}`, '--title', `During ${i}`, '--description', 'd'],
        env(),
      );
      expect(added).toMatchObject({ code: 0 });
      ids.push(`during-${i}`);
    }
    const file = path.join(cwd, 'tasks.json');
    const batch = Array.from({ length: 20 }, (_, i) => ({
      id: `file-${i}`,
      title: `From file ${i}`,
      description: 'd',
    }));
    writeFileSync(file, JSON.stringify(batch));
    expect(await runCli(cwd, ['tasks', 'add', '--file', file], env())).toMatchObject({ code: 0 });
    ids.push(...batch.map((t) => t.id));

    let listed = '';
    await until(
      async () => {
        listed = (await runCli(cwd, ['tasks', 'list', '--limit', '100'], env())).stdout;
        return ids.every((id) => lineOf(listed, id)?.includes('completed'));
      },
      120_000,
      () => `not every task completed:\n${listed}\nlogs: ${JSON.stringify(daemon.logs.slice(-10))}`,
    );
    expect(await daemon.stop('SIGTERM')).toBe(0);

    // After the daemon: the CLI opens the store itself and finds everything.
    const after = await runCli(cwd, ['tasks', 'list', '--limit', '100'], env());
    expect(after.code).toBe(0);
    for (const id of ids)
      expect({ id, line: lineOf(after.stdout, id) }).toEqual({ id, line: expect.stringContaining('completed') });
    // One agent run and one PR per task: nothing was processed twice.
    expect(codegen.runs.filter((r) => ids.includes(String(r.metadata?.task_id)))).toHaveLength(ids.length);
  }, 240_000);

  it('lets a second daemon work through the first, and take over when the first stops', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'codegen-pr-two-daemons-'));
    try {
      const first = startDaemon(env(), ['run'], { cwd: dir });
      await first.waitForLog((l) => l.msg === 'sharing the store with other local processes', 60_000);
      const second = startDaemon(env(), ['run'], { cwd: dir });
      await second.waitForLog((l) => l.msg === 'the store is owned by another process; going through it', 60_000);

      const ids = Array.from({ length: 6 }, (_, i) => `pair-${i}`);
      const file = path.join(dir, 'pair.json');
      writeFileSync(file, JSON.stringify(ids.map((id) => ({ id, title: id, description: 'd' }))));
      expect(await runCli(dir, ['tasks', 'add', '--file', file], env())).toMatchObject({ code: 0 });
      const allCompleted = async (wanted: string[]) => {
        const listed = (await runCli(dir, ['tasks', 'list', '--limit', '100'], env())).stdout;
        return wanted.every((id) => lineOf(listed, id)?.includes('completed'));
      };
      await until(
        () => allCompleted(ids),
        120_000,
        () => 'the pair did not complete every task',
      );

      // The first stops; the second's next store call finds it gone and takes the directory over.
      expect(await first.stop('SIGTERM')).toBe(0);
      await second.waitForLog((l) => l.msg === 'the owner of the data directory is gone; this process owns it now');
      expect(
        await runCli(dir, ['tasks', 'add', '--id', 'after-takeover', '--title', 't', '--description', 'd'], env()),
      ).toMatchObject({ code: 0 });
      await until(
        () => allCompleted([...ids, 'after-takeover']),
        120_000,
        () => 'after-takeover did not complete',
      );
      expect(await second.stop('SIGTERM')).toBe(0);
      const runs = codegen.runs.filter((r) => [...ids, 'after-takeover'].includes(String(r.metadata?.task_id)));
      expect(runs).toHaveLength(ids.length + 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
