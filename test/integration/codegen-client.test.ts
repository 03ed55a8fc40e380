/**
 * The Codegen adapter against the loopback Codegen fake (which checks every request and response against the
 * official OpenAPI document): the calls, repo-id caching, finding a lost run, and the error taxonomy.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createCodegenApi, type CodegenApi, type CodegenApiOptions } from '../../src/adapters/codegen/index.js';
import { DaemonError } from '../../src/domain/errors.js';
import { createLogger } from '../../src/observability/logger.js';
import type { Guard } from '../../src/resilience/types.js';
import { startCodegenFake, type CodegenFake } from '../fakes/codegen-fake.js';

const TOKEN = 'cg-secret-token-DO-NOT-LEAK-7f3a9c';

let fake: CodegenFake;
let logLines: string[];
let seenErrors: DaemonError[];

function makeApi(overrides: Partial<CodegenApiOptions> = {}): CodegenApi {
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => logLines.push(line) } });
  return createCodegenApi({
    baseUrl: fake.url,
    apiKey: TOKEN,
    orgId: fake.orgId,
    timeoutMs: 5_000,
    logger,
    ...overrides,
  });
}

/** Run `fn`, expect a DaemonError, keep it for the no-token-leak check, and log it as the daemon would. */
async function failure(fn: () => Promise<unknown>): Promise<DaemonError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DaemonError);
    const error = err as DaemonError;
    seenErrors.push(error);
    createLogger({ destination: { write: (line: string) => logLines.push(line) } }).error({ err: error }, 'failed');
    return error;
  }
  throw new Error('expected a failure');
}

beforeEach(async () => {
  logLines = [];
  seenErrors = [];
  fake = await startCodegenFake({
    token: TOKEN,
    orgId: 42,
    repos: [
      { id: 11, full_name: 'acme/widgets' },
      { id: 12, full_name: 'acme/gadgets' },
    ],
  });
});

afterEach(async () => {
  await fake.close();
  expect(fake.violations).toEqual([]);
  for (const error of seenErrors) {
    expect(error.message).not.toContain(TOKEN);
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    expect(String(error.stack)).not.toContain(TOKEN);
  }
  expect(logLines.join('\n')).not.toContain(TOKEN);
});

describe('codegen client calls', () => {
  it('whoAmI returns the identity behind the token', async () => {
    await expect(makeApi().whoAmI()).resolves.toEqual({
      userId: 7,
      username: 'codegen-pr-bot',
      email: 'bot@example.com',
    });
  });

  it('creates a run with repo, metadata, model and agent type, and polls it to a PR', async () => {
    const api = makeApi({ model: 'claude-sonnet', agentType: 'claude_code' });
    const created = await api.createAgentRun({ prompt: 'Fix the bug', repoId: 11, metadata: { task_id: 't-1' } });
    expect(created).toMatchObject({ status: 'ACTIVE', state: 'in_progress', metadata: { task_id: 't-1' } });
    expect(fake.runs[0]).toMatchObject({ repo_id: 11, model: 'claude-sonnet', agentType: 'claude_code' });

    const running = await api.getAgentRun(created.id);
    expect(running).toMatchObject({ status: 'RUNNING', state: 'in_progress', pullRequests: [] });
    const done = await api.getAgentRun(created.id);
    expect(done.state).toBe('succeeded');
    expect(done.webUrl).toContain(String(created.id));
    expect(done.pullRequests).toEqual([
      {
        id: expect.any(Number),
        url: 'https://github.com/acme/widgets/pull/1',
        branch: `codegen-bot/run-${created.id}`,
        title: `Codegen run ${created.id}`,
      },
    ]);
  });

  it('reports the PR that onRunFinished opened, once, and none when it opens none', async () => {
    await fake.close();
    const finished: number[] = [];
    fake = await startCodegenFake({
      token: TOKEN,
      pollsUntilDone: 0,
      onRunFinished: async (run) => {
        finished.push(run.id);
        return run.prompt === 'no pr' ? undefined : { url: 'https://github.com/acme/widgets/pull/9', branch: 'b' };
      },
    });
    const api = makeApi();
    const run = await api.createAgentRun({ prompt: 'pr', metadata: { task_id: 'f' } });
    const [first, second] = await Promise.all([api.getAgentRun(run.id), api.getAgentRun(run.id)]);
    expect(first?.pullRequests).toEqual([expect.objectContaining({ url: 'https://github.com/acme/widgets/pull/9' })]);
    expect(second?.pullRequests).toHaveLength(1);
    const bare = await api.createAgentRun({ prompt: 'no pr', metadata: { task_id: 'g' } });
    expect(await api.getAgentRun(bare.id)).toMatchObject({ state: 'succeeded', pullRequests: [] });
    expect(finished).toEqual([run.id, bare.id]);
  });

  it('sends no optional fields that are not set', async () => {
    await makeApi().createAgentRun({ prompt: 'p', metadata: { task_id: 't-2' } });
    expect(fake.runs[0]).toMatchObject({ repo_id: null, model: null, agentType: null });
  });

  it('maps failure statuses and resumes a paused run', async () => {
    const api = makeApi();
    fake.setOutcome((run) =>
      run.resumePrompts.length === 0 ? { finalStatus: 'PAUSED', pollsUntilDone: 0 } : { finalStatus: 'ERROR' },
    );
    const run = await api.createAgentRun({ prompt: 'p', repoId: 12, metadata: { task_id: 't-3' } });
    expect((await api.getAgentRun(run.id)).state).toBe('paused');
    const resumed = await api.resumeAgentRun(run.id, 'Please continue');
    expect(resumed.state).toBe('in_progress');
    expect(fake.runs[0]?.resumePrompts).toEqual(['Please continue']);
    await api.getAgentRun(run.id);
    expect((await api.getAgentRun(run.id)).state).toBe('failed');
  });

  it('lists runs newest first, filtered by source type, one validated page at a time', async () => {
    const api = makeApi();
    fake.createRunAsIfLost({ prompt: 'a', metadata: { task_id: 'a' } });
    fake.createRunAsIfLost({ prompt: 'b', sourceType: 'SLACK' });
    const c = fake.createRunAsIfLost({ prompt: 'c', metadata: { task_id: 'c' } });
    const page = await api.listAgentRuns({ sourceType: 'API', limit: 1 });
    expect(page).toMatchObject({ total: 2, page: 1, size: 1, pages: 2 });
    expect(page.items.map((r) => r.id)).toEqual([c.id]);
    const second = await api.listAgentRuns({ sourceType: 'API', skip: 1, limit: 1 });
    expect(second.items.map((r) => r.metadata?.task_id)).toEqual(['a']);
    expect((await api.listAgentRuns({})).total).toBe(3);
  });

  it('uses the create budget for agent-run creation and the standard one for everything else', async () => {
    const kinds: string[] = [];
    const guard: Guard = {
      dependency: 'codegen',
      run: (kind, fn, signal) => {
        kinds.push(kind);
        return fn(signal ?? new AbortController().signal);
      },
      circuitState: () => 'closed',
      close: async () => {},
    };
    const api = makeApi({ guard });
    const run = await api.createAgentRun({ prompt: 'p', metadata: { task_id: 'k' } });
    await api.getAgentRun(run.id);
    await api.whoAmI();
    expect(kinds).toEqual(['create', 'standard', 'standard']);
  });
});

describe('repository ids', () => {
  it('pages through repos once, answers from the cache, refreshes once on a miss', async () => {
    fake.repos.push(...Array.from({ length: 150 }, (_, i) => ({ id: 100 + i, full_name: `big/repo-${i}` })));
    const api = makeApi();
    const repoCalls = () => fake.requests.filter((r) => r.path.endsWith('/repos')).length;

    expect(await api.resolveRepoId('Big/Repo-120')).toBe(220);
    expect(repoCalls()).toBe(2);
    expect(await api.resolveRepoId('acme/widgets')).toBe(11);
    expect(repoCalls()).toBe(2);

    fake.repos.push({ id: 999, full_name: 'acme/new-one' });
    expect(await api.resolveRepoId('acme/new-one')).toBe(999);
    expect(repoCalls()).toBe(4);

    expect(await api.resolveRepoId('acme/absent')).toBeUndefined();
    expect(repoCalls()).toBe(6);
  });

  it('reloads after the cache expires', async () => {
    const api = makeApi({ repoCacheTtlMs: 0 });
    await api.resolveRepoId('acme/widgets');
    await api.resolveRepoId('acme/widgets');
    expect(fake.requests.filter((r) => r.path.endsWith('/repos'))).toHaveLength(2);
  });
});

describe('findAgentRunByIntent', () => {
  const intentAt = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString();

  it('finds the run of an intent however many newer runs came after it, paging back as far as it takes', async () => {
    // An attempt recorded its intent, Codegen created the run, the answer was lost; by the time the task came
    // back 650 newer API runs existed, beyond any fixed window.
    const intent = { nonce: 'nonce-0000001', at: intentAt(-1_000) };
    const other = fake.createRunAsIfLost({
      prompt: 'other intent',
      metadata: { task_id: 'lost', intent: 'nonce-zzz' },
    });
    const mine = fake.createRunAsIfLost({ prompt: 'mine', metadata: { task_id: 'lost', intent: intent.nonce } });
    for (let i = 0; i < 650; i++) fake.createRunAsIfLost({ prompt: `n${i}`, metadata: { task_id: `other-${i}` } });
    fake.createRunAsIfLost({
      prompt: 'slack',
      metadata: { task_id: 'lost', intent: intent.nonce },
      sourceType: 'SLACK',
    });

    const found = await makeApi().findAgentRunByIntent('lost', intent);
    expect(found?.id).toBe(mine.id);
    expect(found?.id).not.toBe(other.id);
    const lists = fake.requests.filter((r) => r.path.endsWith('/agent/runs'));
    expect(lists.map((r) => r.query.skip)).toEqual(['0', '100', '200', '300', '400', '500', '600']);
    expect(lists.every((r) => r.query.source_type === 'API' && r.query.limit === '100')).toBe(true);
  });

  it('stops paging once the runs are older than the intent (less a margin for clock skew)', async () => {
    for (let i = 0; i < 350; i++) fake.createRunAsIfLost({ prompt: `n${i}`, metadata: { task_id: `x-${i}` } });
    // Every run above was created now; an intent recorded an hour from now cannot have any of them.
    const intent = { nonce: 'nonce-future', at: intentAt(3_600_000) };
    expect(await makeApi().findAgentRunByIntent('nowhere', intent)).toBeUndefined();
    expect(fake.requests.filter((r) => r.path.endsWith('/agent/runs'))).toHaveLength(1);
  });

  it('stops at the end of the list', async () => {
    for (let i = 0; i < 150; i++) fake.createRunAsIfLost({ prompt: `n${i}`, metadata: { task_id: `x-${i}` } });
    expect(
      await makeApi().findAgentRunByIntent('nowhere', { nonce: 'nonce-none', at: intentAt(-60_000) }),
    ).toBeUndefined();
    expect(fake.requests.filter((r) => r.path.endsWith('/agent/runs'))).toHaveLength(2);
  });
});

describe('error mapping', () => {
  const runPath = '/agent/run';

  it('402: quota exhausted, not retryable, with the server message', async () => {
    fake.failNext({ method: 'POST', pathIncludes: runPath }, 402);
    const error = await failure(() => makeApi().createAgentRun({ prompt: 'p', metadata: { task_id: 'q' } }));
    expect(error).toMatchObject({ code: 'codegen-quota-exhausted', category: 'quota', retryable: false });
    expect(error).toMatchObject({ dependency: 'codegen', status: 402 });
    expect(error.message).toContain('Alloted agent runs');
  });

  it('401 (a wrong token) and 403 (a foreign org): authentication, not retryable', async () => {
    const wrongToken = await failure(() => makeApi({ apiKey: 'cg-wrong-token-123456' }).whoAmI());
    expect(wrongToken).toMatchObject({ code: 'codegen-unauthorized', category: 'authentication', retryable: false });
    expect(wrongToken.message).not.toContain('cg-wrong-token-123456');
    const foreign = await failure(() => makeApi({ orgId: '77' }).getAgentRun(1));
    expect(foreign).toMatchObject({ code: 'codegen-forbidden', category: 'authentication', retryable: false });
    expect(foreign.message).toContain('You do not have access to this organization.');
  });

  it('404: no repos on create or repos, run-not-found on get and resume', async () => {
    const api = makeApi();
    fake.repos.length = 0;
    const noRepos = await failure(() => api.createAgentRun({ prompt: 'p', metadata: { task_id: 'r' } }));
    expect(noRepos).toMatchObject({ code: 'codegen-no-repos', category: 'configuration', retryable: false });
    fake.failNext({ pathIncludes: '/repos' }, 404);
    expect(await failure(() => api.resolveRepoId('acme/widgets'))).toMatchObject({ code: 'codegen-no-repos' });
    const missing = await failure(() => api.getAgentRun(123456));
    expect(missing).toMatchObject({ code: 'codegen-run-not-found', category: 'validation', retryable: false });
    expect(await failure(() => api.resumeAgentRun(123456, 'go'))).toMatchObject({ code: 'codegen-run-not-found' });
  });

  it('422: validation, with the FastAPI detail messages', async () => {
    const api = makeApi();
    const unknownRepo = await failure(() => api.createAgentRun({ prompt: 'p', repoId: 5, metadata: { task_id: 'v' } }));
    expect(unknownRepo).toMatchObject({ code: 'codegen-validation-failed', category: 'validation', retryable: false });
    expect(unknownRepo.message).toContain('body.repo_id: Repository not found in organization');
    fake.failNext({ method: 'POST', pathIncludes: runPath }, 422);
    const injected = await failure(() => api.createAgentRun({ prompt: 'p', metadata: { task_id: 'v' } }));
    expect(injected.message).toContain('body.prompt: Field required');
  });

  it('429: rate limited, retryable, Retry-After honoured, else a default wait', async () => {
    const api = makeApi();
    fake.failNext({ pathIncludes: '/users/me' }, 429);
    const plain = await failure(() => api.whoAmI());
    expect(plain).toMatchObject({ code: 'codegen-rate-limited', category: 'rate_limit', retryable: true });
    expect(plain.retryAfterMs).toBe(30_000);
    fake.failNext({ pathIncludes: '/users/me' }, 429, undefined, 1, { 'retry-after': '7' });
    expect((await failure(() => api.whoAmI())).retryAfterMs).toBe(7_000);
  });

  it.each([500, 503])('%i: server error, retryable', async (status) => {
    fake.failNext({ pathIncludes: '/agent/run/' }, status);
    const error = await failure(() => makeApi().getAgentRun(1));
    expect(error).toMatchObject({ code: 'codegen-server-error', category: 'server', retryable: true, status });
  });

  it('scrubs the token even when the server echoes it back', async () => {
    fake.failNext({ pathIncludes: '/users/me' }, 403, { message: `bad header: Bearer ${TOKEN}`, status_code: 403 });
    const error = await failure(() => makeApi().whoAmI());
    expect(error.message).toContain('bad header: Bearer [redacted]');
    expect(logLines.length).toBeGreaterThan(1);
  });

  it('a dropped connection is a retryable network error', async () => {
    fake.dropNext({ pathIncludes: '/users/me' });
    const error = await failure(() => makeApi().whoAmI());
    expect(error).toMatchObject({ code: 'codegen-network-error', category: 'network', retryable: true });
  });

  it('a refused connection is a retryable network error', async () => {
    const api = makeApi();
    await fake.close();
    const error = await failure(() => api.whoAmI());
    expect(error).toMatchObject({ category: 'network', retryable: true });
    fake = await startCodegenFake({ token: TOKEN }); // for afterEach
  });

  it('an invalid body (wrong shape or not JSON) is a retryable invalid-response error', async () => {
    const api = makeApi();
    fake.failNext({ pathIncludes: '/agent/run/' }, 200, { id: 'not-a-number', organization_id: 42 });
    const wrongShape = await failure(() => api.getAgentRun(1));
    expect(wrongShape).toMatchObject({ code: 'codegen-invalid-response', category: 'server', retryable: true });
    // The fake's own response check notices too: it is shown able to fail.
    expect(fake.violations.some((v) => v.includes('response 200'))).toBe(true);
    fake.violations.length = 0;
    fake.failNext({ pathIncludes: '/users/me' }, 200, '<html>proxy error</html>');
    expect(await failure(() => api.whoAmI())).toMatchObject({ code: 'codegen-invalid-response' });
    fake.violations.length = 0;
  });

  it('an aborted call is cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await failure(() => makeApi().whoAmI(controller.signal));
    expect(error).toMatchObject({ code: 'cancelled', category: 'cancelled', retryable: false });
  });

  it('a slow answer past the request timeout is a retryable timeout', async () => {
    const api = makeApi({ timeoutMs: 100 });
    fake.hangNext({ pathIncludes: '/users/me' });
    const error = await failure(() => api.whoAmI());
    expect(error).toMatchObject({ code: 'codegen-timeout', category: 'timeout', retryable: true });
  });
});

describe('the fake enforces the spec', () => {
  const send = (method: string, path: string, body?: unknown) =>
    fetch(`${fake.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('refuses a wrong method, an unknown path, a body without prompt and a bad query', async () => {
    expect((await send('DELETE', '/v1/users/me')).status).toBe(400);
    expect((await send('GET', '/v1/nowhere')).status).toBe(400);
    expect((await send('POST', '/v1/organizations/42/agent/run', { repo_id: 11 })).status).toBe(400);
    expect((await send('GET', '/v1/organizations/42/agent/runs?limit=500')).status).toBe(400);
    expect(fake.violations).toHaveLength(4);
    expect(fake.violations[2]).toContain('prompt');
    expect(fake.runs).toHaveLength(0);
    fake.violations.length = 0;
  });
});
