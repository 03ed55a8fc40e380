/**
 * The Codegen REST adapter: implements the pipeline's AgentApi over node:http (the keep-alive fetch of
 * http-fetch.ts, shared with the GitHub client). Every request goes through the injected Guard (rate limit,
 * breaker, retry), and each attempt is bounded by `timeoutMs`. Every failure is classified
 * by classify.ts and every body validated by schema.ts before it leaves this module.
 */
import { DaemonError } from '../../domain/errors.js';
import type { Logger } from '../../observability/logger.js';
import type { RunIntent } from '../../domain/task.js';
import type { AgentApi, AgentRun, CreateAgentRunInput } from '../../pipeline/ports.js';
import { timeoutSignal } from '../../resilience/timeout-signal.js';
import { passThroughGuard, type Guard } from '../../resilience/types.js';
import { createHttpFetch } from '../http-fetch.js';
import { classifyCodegenFailure, type CodegenOperation } from './classify.js';
import {
  invalidResponseError,
  parseAgentRun,
  parseAgentRunPage,
  parseRepoPage,
  parseUser,
  type RawPage,
  type RawRepo,
} from './schema.js';

/** Options of createCodegenApi. */
export interface CodegenApiOptions {
  /** e.g. https://api.codegen.com (a trailing slash or a path prefix is fine). */
  baseUrl: string;
  /** Bearer token; never logged and never put into an error message. */
  apiKey: string;
  /** Codegen organization id (an integer; numeric strings are accepted). */
  orgId: number | string;
  /** Timeout of one HTTP request, in ms. */
  timeoutMs: number;
  /** The Codegen chokepoint; defaults to a pass-through guard. */
  guard?: Guard;
  logger: Logger;
  /** Sent as `model` on create when non-empty. */
  model?: string;
  /** Sent as `agent_type` on create when non-empty (codegen, claude_code). */
  agentType?: string;
  /** How long the owner/repo -> repo id map is trusted, in ms. Default 10 minutes. */
  repoCacheTtlMs?: number;
}

/** Parameters of GET .../agent/runs. */
export interface ListAgentRunsParams {
  skip?: number;
  /** 1..100 (the spec's maximum). */
  limit?: number;
  /** ApiAgentRunSourceType, e.g. API. */
  sourceType?: string;
  userId?: number;
}

/** One validated page of agent runs, newest first. */
export type AgentRunPage = RawPage<AgentRun>;

/** The Codegen adapter: the AgentApi port plus listing, which the reconciler and CLI use. */
export interface CodegenApi extends AgentApi {
  listAgentRuns(params: ListAgentRunsParams, signal?: AbortSignal): Promise<AgentRunPage>;
}

/** Runs per page of the list endpoint (the spec's maximum). */
const FIND_PAGE_SIZE = 100;
/**
 * How far findAgentRunByIntent pages back: until runs are older than the intent, less this margin for the skew
 * between the store's clock and Codegen's, and never past this many pages (100,000 runs) as a last bound.
 */
const INTENT_CLOCK_MARGIN_MS = 10 * 60_000;
const INTENT_MAX_PAGES = 1_000;
const DEFAULT_REPO_CACHE_TTL_MS = 10 * 60_000;
/** At most this many pages of 100 repositories are read (10,000 repositories). */
const REPO_MAX_PAGES = 100;

interface CallSpec {
  operation: CodegenOperation;
  method: 'GET' | 'POST';
  path: string;
  searchParams?: Record<string, string | number>;
  json?: Record<string, unknown>;
}

function parseOrgId(orgId: number | string): number {
  const value = typeof orgId === 'number' ? orgId : Number(orgId.trim());
  if (!Number.isInteger(value) || value < 1 || (typeof orgId === 'string' && orgId.trim() === '')) {
    throw new DaemonError('codegen.orgId must be the numeric Codegen organization id', {
      code: 'codegen-invalid-org-id',
      category: 'configuration',
      dependency: 'codegen',
    });
  }
  return value;
}

type FetchRepoPage = (skip: number, limit: number, signal?: AbortSignal) => Promise<RawPage<RawRepo>>;

/**
 * owner/repo (case-insensitive) -> Codegen repo id, loaded by paging GET .../repos and trusted for `ttlMs`.
 * A miss reloads once before answering undefined: a repository added to Codegen after the last load is found.
 * Concurrent loads share one in-flight request.
 */
function createRepoIdCache(ttlMs: number, fetchPage: FetchRepoPage) {
  let ids: Map<string, number> | undefined;
  let loadedAt = 0;
  let loading: Promise<Map<string, number>> | undefined;

  async function loadAll(signal?: AbortSignal): Promise<Map<string, number>> {
    const next = new Map<string, number>();
    for (let page = 0, skip = 0; page < REPO_MAX_PAGES; page += 1) {
      const result = await fetchPage(skip, 100, signal);
      for (const repo of result.items) next.set(repo.full_name.toLowerCase(), repo.id);
      skip += result.items.length;
      if (result.items.length === 0 || skip >= result.total) break;
    }
    ids = next;
    loadedAt = Date.now();
    return next;
  }

  function reload(signal?: AbortSignal): Promise<Map<string, number>> {
    loading ??= loadAll(signal).finally(() => {
      loading = undefined;
    });
    return loading;
  }

  return {
    async resolve(fullName: string, signal?: AbortSignal): Promise<number | undefined> {
      const key = fullName.trim().toLowerCase();
      let reloaded = false;
      let current = ids;
      if (!current || Date.now() - loadedAt >= ttlMs) {
        current = await reload(signal);
        reloaded = true;
      }
      const hit = current.get(key);
      if (hit !== undefined || reloaded) return hit;
      return (await reload(signal)).get(key);
    },
  };
}

/** Build the Codegen adapter. Throws a configuration DaemonError when the org id is not a number. */
export function createCodegenApi(options: CodegenApiOptions): CodegenApi {
  const orgId = parseOrgId(options.orgId);
  const guard = options.guard ?? passThroughGuard('codegen');
  const log = options.logger.child({ dependency: 'codegen' });
  const secrets = [options.apiKey];
  const prefixUrl = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
  // node:http with keep-alive (http-fetch.ts); retries belong to the Guard, so there are none here.
  const fetchJson = createHttpFetch();
  const headers = { authorization: `Bearer ${options.apiKey}`, accept: 'application/json' };
  const orgPath = `v1/organizations/${orgId}`;

  async function send(spec: CallSpec, signal: AbortSignal): Promise<unknown> {
    const started = Date.now();
    const url = new URL(spec.path, prefixUrl);
    for (const [name, value] of Object.entries(spec.searchParams ?? {})) url.searchParams.set(name, String(value));
    const limit = timeoutSignal(options.timeoutMs, signal);
    let response;
    let text: string;
    try {
      response = await fetchJson(url, {
        method: spec.method,
        signal: limit.signal,
        headers: spec.json ? { ...headers, 'content-type': 'application/json' } : headers,
        ...(spec.json ? { body: JSON.stringify(spec.json) } : {}),
      });
      text = await response.text();
    } catch (raw) {
      // A network failure comes as fetch's TypeError whose cause is the system error (its code tells which).
      // (Duck-typed: an error made by Node's core is not an instance of another realm's Error, as under jest.)
      const cause = (raw as { name?: unknown; cause?: { code?: unknown } } | undefined)?.cause;
      const error = (raw as { name?: unknown }).name === 'TypeError' && typeof cause?.code === 'string' ? cause : raw;
      const failure = classifyCodegenFailure({ kind: 'thrown', error }, spec.operation, secrets);
      log.debug({ operation: spec.operation, code: failure.code, ms: Date.now() - started }, 'codegen request failed');
      throw failure;
    } finally {
      limit.clear();
    }
    const status = response.status;
    log.debug({ operation: spec.operation, method: spec.method, status, ms: Date.now() - started }, 'codegen request');
    let body: unknown;
    let parsed = true;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = false;
      body = text;
    }
    if (status < 200 || status >= 300) {
      throw classifyCodegenFailure(
        { kind: 'response', status, headers: Object.fromEntries(response.headers), body },
        spec.operation,
        secrets,
      );
    }
    if (!parsed) throw invalidResponseError(spec.operation);
    return body;
  }

  /** One guarded request; `kind` picks the Guard's budget (agent-run creation has its own, smaller one). */
  function call<T>(spec: CallSpec, parse: (body: unknown) => T, signal?: AbortSignal): Promise<T> {
    const kind = spec.operation === 'create-run' ? 'create' : 'standard';
    return guard.run(kind, async (inner) => parse(await send(spec, inner)), signal);
  }

  async function listAgentRuns(params: ListAgentRunsParams, signal?: AbortSignal): Promise<AgentRunPage> {
    const searchParams: Record<string, string | number> = {
      skip: params.skip ?? 0,
      limit: Math.min(Math.max(params.limit ?? FIND_PAGE_SIZE, 1), 100),
    };
    if (params.sourceType) searchParams.source_type = params.sourceType;
    if (params.userId !== undefined) searchParams.user_id = params.userId;
    return call(
      { operation: 'list-runs', method: 'GET', path: `${orgPath}/agent/runs`, searchParams },
      parseAgentRunPage,
      signal,
    );
  }

  const repoCache = createRepoIdCache(options.repoCacheTtlMs ?? DEFAULT_REPO_CACHE_TTL_MS, (skip, limit, signal) =>
    call(
      { operation: 'list-repos', method: 'GET', path: `${orgPath}/repos`, searchParams: { skip, limit } },
      parseRepoPage,
      signal,
    ),
  );

  return {
    createAgentRun(input: CreateAgentRunInput, signal?: AbortSignal): Promise<AgentRun> {
      const json: Record<string, unknown> = { prompt: input.prompt, metadata: input.metadata };
      if (input.repoId !== undefined) json.repo_id = input.repoId;
      if (options.model) json.model = options.model;
      if (options.agentType) json.agent_type = options.agentType;
      return call(
        { operation: 'create-run', method: 'POST', path: `${orgPath}/agent/run`, json },
        parseAgentRun,
        signal,
      );
    },

    getAgentRun(runId: number, signal?: AbortSignal): Promise<AgentRun> {
      const path = `${orgPath}/agent/run/${encodeURIComponent(String(runId))}`;
      return call({ operation: 'get-run', method: 'GET', path }, parseAgentRun, signal);
    },

    async findAgentRunByIntent(taskId: string, intent: RunIntent, signal?: AbortSignal): Promise<AgentRun | undefined> {
      // Newest first: page back until the runs are older than the intent (no run of it can be), however many
      // pages that takes. Runs created meanwhile push items down a page, so a page may repeat items, never skip.
      const horizon = Date.parse(intent.at) - INTENT_CLOCK_MARGIN_MS;
      for (let page = 0; page < INTENT_MAX_PAGES; page += 1) {
        const skip = page * FIND_PAGE_SIZE;
        const result = await listAgentRuns({ skip, limit: FIND_PAGE_SIZE, sourceType: 'API' }, signal);
        const match = result.items.find(
          (run) => run.metadata?.task_id === taskId && run.metadata?.intent === intent.nonce,
        );
        if (match) return match;
        if (result.items.length < FIND_PAGE_SIZE || skip + result.items.length >= result.total) return undefined;
        const oldest = result.items.at(-1)?.createdAt;
        if (oldest !== undefined && Number.isFinite(horizon) && Date.parse(oldest) < horizon) return undefined;
      }
      log.warn(
        { taskId, pages: INTENT_MAX_PAGES },
        'gave up looking for the run of an intent; a run may be created twice',
      );
      return undefined;
    },

    resumeAgentRun(runId: number, prompt: string, signal?: AbortSignal): Promise<AgentRun> {
      const json = { agent_run_id: runId, prompt };
      return call(
        { operation: 'resume-run', method: 'POST', path: `${orgPath}/agent/run/resume`, json },
        parseAgentRun,
        signal,
      );
    },

    resolveRepoId: (fullName: string, signal?: AbortSignal) => repoCache.resolve(fullName, signal),

    whoAmI(signal?: AbortSignal) {
      return call({ operation: 'who-am-i', method: 'GET', path: 'v1/users/me' }, parseUser, signal);
    },

    listAgentRuns,
  };
}
