/**
 * A loopback Codegen API for tests: a real node:http server speaking the shapes of the official OpenAPI
 * document (test/fixtures/codegen-openapi3.json). Every request is checked against the spec; a request the spec
 * forbids is recorded in `violations` and answered 400 so the client under test fails loudly. Responses are
 * checked too, so the fake cannot drift from the spec unnoticed.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadContract, type OpenApiContract } from './openapi-contract.js';
import { readBody } from './http-body.js';

/** A pull request as the fake reports it in github_pull_requests (GithubPullRequestResponse). */
export interface FakePullRequest {
  id: number;
  url: string;
  head_branch_name: string;
  title: string;
  created_at: string;
}

/** One agent run held by the fake. Tests may read and change it. */
export interface FakeRun {
  id: number;
  prompt: string;
  repo_id: number | null;
  metadata: Record<string, unknown> | null;
  status: string;
  /** Looks at this run so far (GETs of it, and list pages it was on; since creation or the last resume). */
  getCount: number;
  pullRequests: FakePullRequest[];
  createdAt: string;
  sourceType: string;
  userId: number;
  model: string | null;
  agentType: string | null;
  /** Status reported once the run is done, and how many looks (GETs, list pages) it stays RUNNING first. */
  finalStatus: string;
  pollsUntilDone: number;
  /** Whether a successful finish opens a PR. */
  pr: boolean;
  resumePrompts: string[];
}

/** What setOutcome's function returns for a run. */
export interface FakeOutcome {
  finalStatus: string;
  pollsUntilDone?: number;
  pr?: boolean;
}

/** Which requests a failNext/dropNext applies to. */
export interface RequestMatch {
  method?: string;
  pathIncludes: string;
}

export interface CodegenFakeOptions {
  token?: string;
  orgId?: number;
  repos?: Array<{ id: number; full_name: string }>;
  /** Looks (GETs of it, list pages it is on) a run stays RUNNING before it finishes. Default 1. */
  pollsUntilDone?: number;
  /** Called once when a run finishes successfully; the returned PR goes into github_pull_requests. */
  onRunFinished?: (run: FakeRun) => Promise<{ url?: string; branch?: string; title?: string } | undefined>;
  /**
   * Called with the runs whose state an answer carries (a GET of a run, or the runs on a list page), just before
   * the answer is sent: a benchmark learns from it when a client first saw a run's end.
   */
  onServe?: (runs: readonly FakeRun[]) => void;
  /**
   * Check each answer the fake sends against the spec (default true). The benchmarks turn it off: the answers are
   * the fake's own, the tests check them. Requests are always checked.
   */
  checkResponses?: boolean;
}

export interface CodegenFake {
  url: string;
  /** The token the fake accepts; assign to simulate revocation and restoration. */
  token: string;
  orgId: number;
  runs: FakeRun[];
  repos: Array<{ id: number; full_name: string }>;
  requests: Array<{ method: string; path: string; query: Record<string, string>; status: number }>;
  violations: string[];
  /** Decide how runs end; consulted when a run is created and when it is resumed. Default: COMPLETE with a PR. */
  setOutcome(fn: (run: FakeRun) => FakeOutcome): void;
  /**
   * Answer the next `times` matching requests with `status` (and `body`, else the spec's error body for the
   * status). A string body is sent as is, not JSON-encoded, to imitate a proxy's error page.
   */
  failNext(match: RequestMatch, status: number, body?: unknown, times?: number, headers?: Record<string, string>): void;
  /** Destroy the socket of the next matching request(s) without answering. */
  dropNext(match: RequestMatch, times?: number): void;
  /** Never answer the next matching request(s) (until the client gives up or the fake closes). */
  hangNext(match: RequestMatch, times?: number): void;
  /** Handle the next matching request (a run is really created) but never answer it: a client that dies now never learns the id. */
  swallowResponseNext(match: RequestMatch, times?: number): void;
  /** A run that exists in Codegen but the daemon never saw (created before a crash). Source type API by default. */
  createRunAsIfLost(input: NewFakeRun): FakeRun;
  /**
   * An outage: while set, every request is answered with this status (or its connection dropped) and counted in
   * `outageHits`; runs go on as they were. undefined ends it.
   */
  setOutage(mode: number | 'drop' | undefined): void;
  /** End a run now, as its next GET would (its PR opened through onRunFinished), whether or not anyone asks. */
  finishNow(run: FakeRun): Promise<void>;
  outageHits: number;
  close(): Promise<void>;
}

/** What a run is created from (POST agent/run, or createRunAsIfLost). */
export interface NewFakeRun {
  prompt: string;
  repo_id?: number | null;
  metadata?: Record<string, unknown> | null;
  sourceType?: string;
  model?: string | null;
  agentType?: string | null;
}

interface Injection {
  match: RequestMatch;
  remaining: number;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** drop: destroy the socket; hang: never answer; swallow: do the work, then never answer. */
  mode?: 'drop' | 'hang' | 'swallow';
}

const SPEC_URL = new URL('../fixtures/codegen-openapi3.json', import.meta.url);
const USER = {
  id: 7,
  email: 'bot@example.com',
  github_user_id: '90001',
  github_username: 'codegen-pr-bot',
  avatar_url: null,
  full_name: 'Codegen PR Bot',
  role: 'MEMBER',
  is_admin: false,
};
const IN_PROGRESS = new Set(['ACTIVE', 'RUNNING', 'PENDING', 'QUEUED', 'EVALUATION']);

/** Default error bodies in the spec's shapes (the `message` defaults are the spec's own). */
function errorBody(status: number, operationId: string | undefined): unknown {
  const op = operationId ?? '';
  const messages: Record<number, string> = {
    400: 'Bad request.',
    401: 'Invalid or expired API token.',
    402: 'Alloted agent runs for the current billing plan have been reached. Please upgrade your plan to continue.',
    403: 'You do not have access to this organization.',
    404: op.startsWith('create_agent_run')
      ? 'No repos found in the organization. Please add some repos and try again.'
      : op.includes('agent_run')
        ? 'Agent run not found.'
        : 'Not Found',
    429: 'Rate limit exceeded. Please try again later.',
  };
  if (status === 422) return { detail: [{ loc: ['body', 'prompt'], msg: 'Field required', type: 'missing' }] };
  return { message: messages[status] ?? 'Internal Server Error', status_code: status };
}

/** Start the fake on 127.0.0.1 and an ephemeral port. */
export async function startCodegenFake(options: CodegenFakeOptions = {}): Promise<CodegenFake> {
  const contract: OpenApiContract = loadContract(JSON.parse(readFileSync(SPEC_URL, 'utf8')) as object);
  const injections: Injection[] = [];
  const finishing = new Map<number, Promise<void>>();
  let outcomeFn: (run: FakeRun) => FakeOutcome = () => ({ finalStatus: 'COMPLETE' });
  let outage: number | 'drop' | undefined;
  let nextRunId = 1000;
  let nextPrId = 500;
  let nextPrNumber = 1;

  const fake: CodegenFake = {
    url: '',
    token: options.token ?? 'cg-test-token-0123456789abcdef',
    orgId: options.orgId ?? 42,
    runs: [],
    repos: [...(options.repos ?? [{ id: 11, full_name: 'acme/widgets' }])],
    requests: [],
    violations: [],
    setOutcome(fn) {
      outcomeFn = fn;
    },
    failNext(match, status, body, times = 1, headers) {
      injections.push({ match, status, body, remaining: times, ...(headers ? { headers } : {}) });
    },
    dropNext(match, times = 1) {
      injections.push({ match, status: 0, remaining: times, mode: 'drop' });
    },
    hangNext(match, times = 1) {
      injections.push({ match, status: 0, remaining: times, mode: 'hang' });
    },
    swallowResponseNext(match, times = 1) {
      injections.push({ match, status: 0, remaining: times, mode: 'swallow' });
    },
    createRunAsIfLost(input) {
      return addRun(input);
    },
    setOutage(mode) {
      outage = mode;
    },
    finishNow: async (run) => {
      run.pollsUntilDone = 0;
      await advance(run);
    },
    outageHits: 0,
    close: () => closeServer(),
  };

  function applyOutcome(run: FakeRun): void {
    const outcome = outcomeFn(run);
    run.finalStatus = outcome.finalStatus;
    run.pollsUntilDone = outcome.pollsUntilDone ?? options.pollsUntilDone ?? 1;
    run.pr = outcome.pr ?? true;
  }

  function addRun(input: NewFakeRun): FakeRun {
    const run: FakeRun = {
      id: nextRunId++,
      prompt: input.prompt,
      repo_id: input.repo_id ?? null,
      metadata: input.metadata ?? null,
      status: 'ACTIVE',
      getCount: 0,
      pullRequests: [],
      createdAt: new Date().toISOString(),
      sourceType: input.sourceType ?? 'API',
      userId: USER.id,
      model: input.model ?? null,
      agentType: input.agentType ?? null,
      finalStatus: 'COMPLETE',
      pollsUntilDone: 1,
      pr: true,
      resumePrompts: [],
    };
    applyOutcome(run);
    fake.runs.push(run);
    return run;
  }

  function runBody(run: FakeRun): Record<string, unknown> {
    return {
      id: run.id,
      organization_id: fake.orgId,
      status: run.status,
      created_at: run.createdAt,
      web_url: `https://codegen.com/agent/trace/${run.id}`,
      result: IN_PROGRESS.has(run.status) ? null : `Run ${run.id} ended ${run.status}`,
      summary: null,
      source_type: run.sourceType,
      github_pull_requests: run.pullRequests,
      metadata: run.metadata,
    };
  }

  async function finish(run: FakeRun): Promise<void> {
    if (run.finalStatus.toUpperCase().startsWith('COMPLETE') && run.pr) {
      const repo = fake.repos.find((r) => r.id === run.repo_id) ?? fake.repos[0];
      const fullName = repo?.full_name ?? 'acme/widgets';
      const made = options.onRunFinished
        ? await options.onRunFinished(run)
        : { url: `https://github.com/${fullName}/pull/${nextPrNumber++}`, branch: `codegen-bot/run-${run.id}` };
      if (made?.url) {
        run.pullRequests.push({
          id: nextPrId++,
          url: made.url,
          head_branch_name: made.branch ?? `codegen-bot/run-${run.id}`,
          title: made.title ?? `Codegen run ${run.id}`,
          created_at: new Date().toISOString(),
        });
      }
    }
    run.status = run.finalStatus;
  }

  /**
   * Advance a run by one look (a GET, or a list page it is on): RUNNING for pollsUntilDone looks, then its final
   * status (finishing only once).
   */
  async function advance(run: FakeRun): Promise<void> {
    run.getCount += 1;
    if (!IN_PROGRESS.has(run.status)) return;
    if (run.getCount <= run.pollsUntilDone) {
      run.status = 'RUNNING';
      return;
    }
    let done = finishing.get(run.id);
    if (!done) {
      done = finish(run).finally(() => finishing.delete(run.id));
      finishing.set(run.id, done);
    }
    await done;
  }

  function takeInjection(method: string, path: string): Injection | undefined {
    const found = injections.find(
      (i) => (!i.match.method || i.match.method.toUpperCase() === method) && path.includes(i.match.pathIncludes),
    );
    if (found && --found.remaining <= 0) injections.splice(injections.indexOf(found), 1);
    return found;
  }

  function page<T>(items: T[], query: Record<string, string>) {
    const skip = Number(query.skip ?? 0);
    const limit = Number(query.limit ?? 100);
    return {
      items: items.slice(skip, skip + limit),
      total: items.length,
      page: Math.floor(skip / limit) + 1,
      size: limit,
      pages: Math.ceil(items.length / limit),
    };
  }

  function repoBody(repo: { id: number; full_name: string }) {
    const [, name = repo.full_name] = repo.full_name.split('/');
    return {
      id: repo.id,
      name,
      full_name: repo.full_name,
      description: null,
      github_id: String(700_000 + repo.id),
      organization_id: fake.orgId,
      visibility: 'PRIVATE',
      archived: false,
      setup_status: 'COMPLETED',
      language: 'TypeScript',
    };
  }

  /** `injected`: a status a test chose on purpose, so only its body shape is held to the spec. */
  type Reply = { status: number; body: unknown; headers?: Record<string, string>; check?: boolean; injected?: boolean };

  /** Route a request that passed the contract, the injections, and the token and org checks. */
  async function route(method: string, path: string, query: Record<string, string>, body: unknown): Promise<Reply> {
    const input = (body ?? {}) as Record<string, unknown>;
    const org = '/v1/organizations/\\d+';
    const is = (m: string, pattern: string) => method === m && new RegExp(`^${pattern}$`).test(path);
    if (is('GET', '/v1/users/me')) return { status: 200, body: USER };
    if (is('GET', `${org}/repos`)) return { status: 200, body: page(fake.repos.map(repoBody), query) };
    if (is('POST', `${org}/agent/run`)) {
      if (fake.repos.length === 0) return { status: 404, body: errorBody(404, 'create_agent_run') };
      const repoId = typeof input.repo_id === 'number' ? input.repo_id : null;
      if (repoId !== null && !fake.repos.some((r) => r.id === repoId)) {
        const detail = [{ loc: ['body', 'repo_id'], msg: 'Repository not found in organization', type: 'value_error' }];
        return { status: 422, body: { detail } };
      }
      const run = addRun({
        prompt: String(input.prompt),
        repo_id: repoId,
        metadata: (input.metadata as Record<string, unknown> | null | undefined) ?? null,
        sourceType: 'API',
        model: typeof input.model === 'string' ? input.model : null,
        agentType: typeof input.agent_type === 'string' ? input.agent_type : null,
      });
      return { status: 200, body: runBody(run) };
    }
    if (is('POST', `${org}/agent/run/resume`)) {
      const run = fake.runs.find((r) => r.id === input.agent_run_id);
      if (!run) return { status: 404, body: errorBody(404, 'resume_agent_run') };
      run.resumePrompts.push(String(input.prompt));
      run.status = 'ACTIVE';
      run.getCount = 0;
      applyOutcome(run);
      return { status: 200, body: runBody(run) };
    }
    if (is('GET', `${org}/agent/run/\\d+`)) {
      const run = fake.runs.find((r) => r.id === Number(path.split('/').pop()));
      if (!run) return { status: 404, body: errorBody(404, 'get_agent_run') };
      await advance(run);
      options.onServe?.([run]);
      return { status: 200, body: runBody(run) };
    }
    if (is('GET', `${org}/agent/runs`)) {
      const matching = fake.runs
        .filter((r) => !query.source_type || r.sourceType === query.source_type)
        .filter((r) => !query.user_id || r.userId === Number(query.user_id))
        .sort((a, b) => b.id - a.id);
      // A listed run has been looked at, as a GET of it would: runs advance on looks, whichever way they come.
      const skip = Number(query.skip ?? 0);
      const listed = matching.slice(skip, skip + Number(query.limit ?? 100));
      await Promise.all(listed.map((run) => advance(run)));
      options.onServe?.(listed);
      return { status: 200, body: page(matching.map(runBody), query) };
    }
    fake.violations.push(`${method} ${path}: allowed by the spec but not implemented by the fake`);
    return { status: 404, body: { detail: 'Not Found' }, check: false };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const raw = await readBody(req);
    const problems: string[] = [];
    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        problems.push('request body is not JSON');
      }
    }
    const checked = contract.checkRequest({ method, path, query, headers: req.headers, body });
    problems.push(...checked.violations);

    const reply = ({ status, body: out, headers, check = true, injected = false }: Reply) => {
      // 400 (our refusal), 401 and 5xx are statuses the spec never declares, so only the rest are checked.
      if (
        check &&
        options.checkResponses !== false &&
        checked.pathTemplate &&
        status !== 400 &&
        status !== 401 &&
        status < 500
      ) {
        for (const v of contract.checkResponse(method, checked.pathTemplate, status, out)) {
          if (injected && v.endsWith('status not documented')) continue;
          fake.violations.push(`response ${status} to ${method} ${path}: ${v}`);
        }
      }
      fake.requests.push({ method, path, query, status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof out === 'string' ? out : JSON.stringify(out));
    };

    if (problems.length > 0) {
      fake.violations.push(...problems.map((p) => `${method} ${path}: ${p}`));
      return reply({ status: 400, body: { message: `Spec violation: ${problems.join('; ')}`, status_code: 400 } });
    }
    if (outage !== undefined) {
      fake.outageHits += 1;
      if (outage === 'drop') {
        fake.requests.push({ method, path, query, status: 0 });
        req.socket.destroy();
        return;
      }
      return reply({ status: outage, body: { message: 'Service Unavailable', status_code: outage }, check: false });
    }
    const injected = takeInjection(method, path);
    if (injected?.mode === 'swallow') {
      await route(method, path, query, body);
      fake.requests.push({ method, path, query, status: 0 });
      return;
    }
    if (injected?.mode) {
      fake.requests.push({ method, path, query, status: 0 });
      if (injected.mode === 'drop') req.socket.destroy();
      return;
    }
    if (injected) {
      const out = injected.body === undefined ? errorBody(injected.status, checked.operationId) : injected.body;
      const headers = injected.headers ? { headers: injected.headers } : {};
      return reply({ status: injected.status, body: out, injected: true, ...headers });
    }
    if (req.headers.authorization !== `Bearer ${fake.token}`) {
      return reply({ status: 401, body: errorBody(401, undefined) });
    }
    const orgMatch = /^\/v1\/organizations\/(\d+)\//.exec(path);
    if (orgMatch && Number(orgMatch[1]) !== fake.orgId) {
      // The spec does not declare 403 on every operation, but the API answers it for a foreign org.
      return reply({ status: 403, body: errorBody(403, undefined), check: false });
    }
    reply(await route(method, path, query, body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      fake.violations.push(`fake failed on ${req.method} ${req.url}: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Internal Server Error', status_code: 500 }));
    });
  });
  function closeServer(): Promise<void> {
    return new Promise((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
