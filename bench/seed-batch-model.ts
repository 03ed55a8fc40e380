/**
 * A reference implementation of the seed's processing model (/work/shared/seed/codegen-integration-system.md:
 * `processing.batchSize`, `pollInterval`, `processBatch(tasks)`), for issue 10's S5: fetch a batch of tasks, work
 * through all of them at once with Promise.allSettled (create the agent run, poll it until it ends, finish the
 * PR, report), wait for the whole batch, then sleep the poll interval before the next fetch. A slot freed by a
 * short run stays empty until the batch's longest run has ended.
 *
 * It does the same per-task work as the daemon against the same fakes, with plain fetch (no limiter, breaker or
 * retry: it is cheaper per request than the daemon, which favours it), and reports through the same PostgreSQL
 * task store, so the harness (bench/workload.ts) times both alike. It runs as a child process of the harness
 * until killed; its environment is the daemon's (CODEGEN_*, GITHUB_*, DATABASE_*, BATCH_SIZE, POLL_INTERVAL_MS,
 * CODEGEN_POLL_INITIAL_MS as the interval between two GETs of a run).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openPostgresTaskStore } from '../src/adapters/task-store/index.js';
import type { ClaimedTask } from '../src/domain/task.js';

const env = process.env;
const CODEGEN = `${env.CODEGEN_API_URL ?? ''}/v1/organizations/${env.CODEGEN_ORG_ID ?? ''}`;
const GITHUB = env.GITHUB_API_URL ?? '';
const [OWNER = '', REPO = ''] = (env.GITHUB_REPOSITORY ?? '').split('/');
const BATCH = Number(env.BATCH_SIZE ?? 10);
const POLL_MS = Number(env.POLL_INTERVAL_MS ?? 30_000);
const RUN_POLL_MS = Number(env.CODEGEN_POLL_INITIAL_MS ?? 5_000);
const LABELS = (env.PR_LABELS ?? '').split(',').filter(Boolean);
const REVIEWERS = (env.PR_REVIEWERS ?? '').split(',').filter(Boolean);
const ASSIGNEES = (env.PR_ASSIGNEES ?? '').split(',').filter(Boolean);
const IN_PROGRESS = new Set(['ACTIVE', 'RUNNING', 'PENDING', 'QUEUED', 'EVALUATION']);

interface RunBody {
  id: number;
  status: string;
  web_url?: string;
  github_pull_requests?: Array<{ url: string; head_branch_name: string }>;
}

async function call<T>(url: string, init: { method?: string; body?: unknown; auth: string }): Promise<T> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      authorization: init.auth,
      accept: 'application/json',
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${text.slice(0, 200)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

const codegen = <T>(path: string, method = 'GET', body?: unknown) =>
  call<T>(`${CODEGEN}${path}`, { method, body, auth: `Bearer ${env.CODEGEN_API_KEY ?? ''}` });
const github = <T>(path: string, method = 'GET', body?: unknown) =>
  call<T>(`${GITHUB}/repos/${OWNER}/${REPO}${path}`, { method, body, auth: `token ${env.GITHUB_TOKEN ?? ''}` });

async function main(): Promise<void> {
  const store = await openPostgresTaskStore({
    connectionString: env.DATABASE_URL ?? '',
    schema: env.DATABASE_SCHEMA ?? 'public',
  });
  const worker = `seed-batch:${process.pid}`;
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());

  /** One task, start to end: the seed's processTask. */
  const processTask = async ({ task, lease }: ClaimedTask): Promise<void> => {
    const prompt = `Task ${task.id}: ${task.title}\n\n${task.description}`;
    let run = await codegen<RunBody>('/agent/run', 'POST', { prompt, repo_id: 7, metadata: { task_id: task.id } });
    await store.recordAgentRun(task.id, lease.token, { id: run.id, ...(run.web_url ? { url: run.web_url } : {}) });
    while (IN_PROGRESS.has(run.status)) {
      await sleep(RUN_POLL_MS);
      run = await codegen<RunBody>(`/agent/run/${run.id}`);
    }
    const made = run.github_pull_requests?.[0];
    if (run.status !== 'COMPLETE' || !made) throw new Error(`run ${run.id} ended ${run.status} without a PR`);
    const number = Number(/\/pull\/(\d+)/.exec(made.url)?.[1]);
    await github(`/pulls/${number}`);
    if (LABELS.length > 0) await github(`/issues/${number}/labels`, 'POST', { labels: LABELS });
    if (ASSIGNEES.length > 0) await github(`/issues/${number}/assignees`, 'POST', { assignees: ASSIGNEES });
    if (REVIEWERS.length > 0) await github(`/pulls/${number}/requested_reviewers`, 'POST', { reviewers: REVIEWERS });
    await store.completeTask(task.id, lease.token, { pr: { url: made.url, number, branch: made.head_branch_name } });
  };

  while (!stop.signal.aborted) {
    const batch = await store.claimTasks({ worker, limit: BATCH, leaseMs: 3_600_000 });
    const results = await Promise.allSettled(batch.map(processTask));
    for (const [i, result] of results.entries()) {
      if (result.status === 'rejected') {
        const claimed = batch[i];
        console.error(`task ${claimed?.task.id}: ${String(result.reason)}`);
        if (claimed) await store.releaseTask(claimed.task.id, claimed.lease.token).catch(() => undefined);
      }
    }
    await sleep(POLL_MS, undefined, { signal: stop.signal }).catch(() => undefined);
  }
  await store.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
