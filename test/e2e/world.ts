/**
 * The outside world of an end-to-end run, all on loopback: the Task API service over a real store (SQLite in
 * memory, or PostgreSQL), the Codegen fake and the GitHub fake. When the Codegen fake finishes a run it opens
 * the PR on the GitHub fake as codegen-sh[bot], the way Codegen's GitHub App does.
 */
import { openSqliteTaskStore } from '../../src/adapters/task-store/sqlite/index.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { startTaskApiServer } from '../../src/task-api/node-server.js';
import { silentLogger } from '../../src/observability/logger.js';
import { startCodegenFake, type CodegenFake } from '../fakes/codegen-fake.js';
import { startGitHubFake, type GitHubFake } from '../fakes/github-fake.js';

export const REPO = 'acme/widgets';
export const TASK_API_KEY = 'task-api-test-key';

export interface World {
  store: TaskStore;
  taskApiUrl: string;
  codegen: CodegenFake;
  github: GitHubFake;
  /** Environment for a daemon that talks to this world. */
  daemonEnv(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

/** A second repository connected to Codegen (id 8), for tests that need two. */
export const OTHER_REPO = 'acme/gadgets';

export async function startWorld(options: { store?: TaskStore; pollsUntilDone?: number } = {}): Promise<World> {
  // The embedded default (SQLite in memory) unless the test brings its own store: it opens in milliseconds,
  // where PGlite spends seconds of CPU, which a loaded machine turns into a timed-out setup.
  const store = options.store ?? (await openSqliteTaskStore({ file: 'memory://' }));
  const api = await startTaskApiServer({
    store,
    apiKey: TASK_API_KEY,
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger(),
  });
  const github = await startGitHubFake({ collaborators: ['alice', 'bob', 'carol'] });
  const repos = [
    { id: 7, full_name: REPO },
    { id: 8, full_name: OTHER_REPO },
  ];
  const codegen = await startCodegenFake({
    repos,
    pollsUntilDone: options.pollsUntilDone ?? 2,
    onRunFinished: async (run) => {
      // Codegen's GitHub App opens the PR in the run's own repository.
      const fullName = repos.find((r) => r.id === run.repo_id)?.full_name ?? REPO;
      const [owner = '', repo = ''] = fullName.split('/');
      const branch = `codegen-bot/run-${run.id}`;
      github.createBranch(owner, repo, branch);
      const pr = github.openPullRequestAsAgent({ owner, repo, head: branch, title: `Codegen run ${run.id}` });
      return { url: pr.html_url, branch, title: `Codegen run ${run.id}` };
    },
  });
  await warmUpGitHub(github);
  return {
    store,
    taskApiUrl: api.url,
    codegen,
    github,
    daemonEnv: (extra = {}) => ({
      CLOUDFLARE_API_URL: api.url,
      CLOUDFLARE_API_KEY: TASK_API_KEY,
      CODEGEN_API_URL: codegen.url,
      CODEGEN_API_KEY: codegen.token,
      CODEGEN_ORG_ID: String(codegen.orgId),
      GITHUB_API_URL: github.url,
      GITHUB_TOKEN: github.token,
      GITHUB_REPOSITORY: REPO,
      PR_LABELS: 'codegen,automated',
      // The PR author is listed on purpose: it must never be requested.
      PR_REVIEWERS: 'alice,bob,codegen-sh[bot]',
      PR_ASSIGNEES: 'carol',
      POLL_INTERVAL_MS: '200',
      CODEGEN_POLL_INITIAL_MS: '20',
      CODEGEN_POLL_MAX_MS: '100',
      CODEGEN_CREATE_PER_MINUTE: '10000',
      CODEGEN_REQUESTS_PER_30S: '100000',
      GITHUB_WRITE_MIN_TIME_MS: '0',
      GITHUB_NOTIFICATION_MIN_TIME_MS: '0',
      RETRY_BASE_DELAY_MS: '50',
      CONCURRENCY: '10',
      ...extra,
    }),
    close: async () => {
      await api.close();
      await codegen.close();
      await github.close();
      if (!options.store) await store.close();
    },
  };
}

/** Waits until `check` returns true, looking every `everyMs`; fails with `describe()` after `timeoutMs`. */
export async function until(
  check: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => Promise<string> | string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out: ${await describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The GitHub fake compiles each operation's schema on first use, which blocks this (the test) process for a
 * while; the Task API lives here too, so a daemon's heartbeats could go unanswered. Touch every operation the
 * daemon uses once, before any daemon runs.
 */
export async function warmUpGitHub(github: GitHubFake): Promise<void> {
  const [owner = '', repo = ''] = REPO.split('/');
  github.createBranch(owner, repo, 'warm-up');
  const { number } = github.openPullRequestAsAgent({ owner, repo, head: 'warm-up', title: 'warm up' });
  const base = `${github.url}/repos/${owner}/${repo}`;
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `token ${github.token}`,
        'content-type': 'application/json',
        accept: 'application/vnd.github+json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then((r) => r.arrayBuffer());
  await call('GET', `/pulls/${number}`);
  await call('GET', `/pulls?head=${owner}:warm-up&state=all`);
  await call('GET', '/git/ref/heads/warm-up');
  await call('POST', `/issues/${number}/labels`, { labels: ['warm-up'] });
  await call('POST', `/issues/${number}/assignees`, { assignees: ['alice'] });
  await call('POST', `/pulls/${number}/requested_reviewers`, { reviewers: ['alice'] });
  await call('PATCH', `/pulls/${number}`, { body: 'warm up' });
  github.closePull(owner, repo, number);
}
