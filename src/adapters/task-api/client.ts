/**
 * TaskStore over the Task API (the seed's "Cloudflare API"), with got. Every call goes through the task-store
 * Guard (rate limit, breaker, retry of retryable errors, timeout); got's own retry is off so retries are decided
 * in one place. Responses are checked before use; failures become DaemonErrors with the same codes the SQL
 * store throws. The bearer key is set once as a default header and never logged.
 */
import { got, type Method } from 'got';
import { isDaemonError } from '../../domain/errors.js';
import type { ReplicaRecord, StoreOperations } from '../task-store/operations.js';
import type { ClaimedTask, Lease, NewTask, PullRequestRef, RunIntent, Task, TaskStatus } from '../../domain/task.js';
import type { Logger } from '../../observability/logger.js';
import type {
  AgentRunSighting,
  SightingOutcome,
  ClaimOptions,
  CompletionReport,
  FailureReport,
  TaskEvent,
  TaskListFilter,
  TaskPage,
  TaskStore,
} from '../../pipeline/ports.js';
import { passThroughGuard, type Guard } from '../../resilience/types.js';
import { TASK_API_LIMITS } from '../../domain/task-limits.js';
import { classifyRequestFailure, classifyResponse } from './classify.js';
import { clampToRange, fitError, fitFeedback, fitText, fitUrl } from './fit.js';
import {
  invalidResponse,
  parseClaims,
  parseCounts,
  parseLease,
  parseOk,
  parseRunIntent,
  parseSightingOutcome,
  parseTaskEnvelope,
  parseTaskList,
  parseTaskPage,
  parseTaskWithHistory,
} from './schema.js';

export interface HttpTaskStoreOptions {
  /** The Task API's base URL, e.g. https://tasks.example.workers.dev (a path prefix is kept). */
  baseUrl: string;
  /** Bearer key. */
  apiKey: string;
  /** Timeout of one request, in ms. */
  timeoutMs: number;
  /** The task-store guard; a pass-through guard when absent. */
  guard?: Guard;
  logger: Logger;
}

interface Call<T> {
  /** Guard budget and metric label: claim, write, read, admin. */
  kind: 'claim' | 'write' | 'read' | 'admin';
  method: Method;
  path: string;
  body?: unknown;
  searchParams?: Record<string, string | number>;
  /** Named in stale-lease errors. */
  taskId?: string;
  parse: (body: unknown) => T;
}

const task = (id: string, rest = ''): string => `tasks/${encodeURIComponent(id)}${rest}`;

/** Create a TaskStore that talks to the Task API. */
export function createHttpTaskStore(options: HttpTaskStoreOptions): TaskStore & Pick<StoreOperations, 'reportReplica'> {
  const guard = options.guard ?? passThroughGuard('task-store');
  const logger = options.logger.child({ component: 'task-api-client' });
  const http = got.extend({
    prefixUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${options.apiKey}`, accept: 'application/json', 'user-agent': 'codegen-pr' },
    retry: { limit: 0 },
    timeout: { request: options.timeoutMs },
    throwHttpErrors: false,
    followRedirect: false,
  });

  async function send<T>(call: Call<T>, signal?: AbortSignal): Promise<T> {
    return guard.run(
      call.kind,
      async (guardSignal) => {
        const started = Date.now();
        let response;
        try {
          response = await http(call.path, {
            method: call.method,
            signal: guardSignal,
            ...(call.body !== undefined ? { json: call.body } : {}),
            ...(call.searchParams ? { searchParams: call.searchParams } : {}),
          });
        } catch (raw) {
          const err = classifyRequestFailure(raw, options.timeoutMs);
          logger.debug({ method: call.method, path: call.path, code: err.code }, 'task api request failed');
          throw err;
        }
        const ms = Date.now() - started;
        logger.debug({ method: call.method, path: call.path, status: response.statusCode, ms }, 'task api request');
        const body = parseJson(response.body);
        if (response.statusCode < 200 || response.statusCode >= 300) {
          const retryAfter = response.headers['retry-after'];
          throw classifyResponse(response.statusCode, body, {
            ...(call.taskId !== undefined ? { taskId: call.taskId } : {}),
            ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
          });
        }
        if (body === undefined) throw invalidResponse(`${call.method} ${call.path} response`, 'body is not JSON');
        return call.parse(body);
      },
      signal,
    );
  }

  /** GET /tasks/:id, or undefined when the task does not exist. */
  async function fetchTask(taskId: string, signal?: AbortSignal) {
    try {
      return await send({ kind: 'read', method: 'GET', path: task(taskId), parse: parseTaskWithHistory }, signal);
    } catch (err) {
      if (isDaemonError(err) && err.code === 'task-not-found') return undefined;
      throw err;
    }
  }

  /** A long poll must end well inside the request timeout, and within what the API accepts. */
  const longPollMs = (waitMs = 0): number =>
    Math.max(0, Math.min(waitMs, Math.floor(options.timeoutMs / 2), TASK_API_LIMITS.claimWaitMs.max));

  let warnedClamp = false;
  /** Said once per store: the configuration asks for claims the API cannot grant as asked. */
  function warnClamped(limit: number, leaseMs: number, sentLimit: number, sentLeaseMs: number): void {
    if (warnedClamp) return;
    warnedClamp = true;
    logger.warn(
      { limit, leaseMs, sentLimit, sentLeaseMs, apiLimits: TASK_API_LIMITS.claim, apiLeaseMs: TASK_API_LIMITS.leaseMs },
      'claim size or lease outside what the Task API accepts; clamped',
    );
  }

  const putStatus = (taskId: string, body: Record<string, unknown>, signal?: AbortSignal) =>
    send({ kind: 'write', method: 'PUT', path: task(taskId, '/status'), body, taskId, parse: (b) => b }, signal);

  return {
    async claimTasks(claim: ClaimOptions, signal?: AbortSignal): Promise<ClaimedTask[]> {
      // The API refuses a claim outside its limits; asking for fewer tasks or a lease in range is always safe
      // (the lease keeper heartbeats at half the daemon's lease, well inside a lease clamped to at most one hour
      // as long as the daemon's own is at most two).
      const limit = clampToRange(claim.limit, TASK_API_LIMITS.claim);
      const leaseMs = clampToRange(claim.leaseMs, TASK_API_LIMITS.leaseMs);
      if (limit !== claim.limit || leaseMs !== claim.leaseMs) warnClamped(claim.limit, claim.leaseMs, limit, leaseMs);
      const body = {
        worker: claim.worker,
        limit,
        leaseMs,
        ...(claim.taskIds !== undefined ? { taskIds: claim.taskIds } : {}),
        ...(claim.maxLeaseExpiries !== undefined ? { maxLeaseExpiries: claim.maxLeaseExpiries } : {}),
        ...(longPollMs(claim.waitMs) > 0 ? { waitMs: longPollMs(claim.waitMs) } : {}),
        ...(claim.repositoryCap !== undefined ? { repositoryCap: claim.repositoryCap } : {}),
      };
      return send({ kind: 'claim', method: 'POST', path: 'tasks/claim', body, parse: parseClaims }, signal);
    },
    async heartbeat(taskId: string, token: string, leaseMs: number, signal?: AbortSignal): Promise<Lease> {
      const parse = (b: unknown) => parseLease((b as { lease?: unknown } | null)?.lease);
      const body = { token, leaseMs: clampToRange(leaseMs, TASK_API_LIMITS.leaseMs) };
      return send({ kind: 'write', method: 'POST', path: task(taskId, '/heartbeat'), body, taskId, parse }, signal);
    },
    async recordRunIntent(taskId: string, token: string, nonce: string, signal?: AbortSignal): Promise<RunIntent> {
      const path = task(taskId, '/intent');
      return send(
        { kind: 'write', method: 'PUT', path, body: { token, nonce }, taskId, parse: parseRunIntent },
        signal,
      );
    },
    async noteAgentRun(taskId: string, sighting: AgentRunSighting, signal?: AbortSignal): Promise<SightingOutcome> {
      const path = task(taskId, '/sightings');
      // The run URL comes from Codegen: leave it out rather than have the whole sighting refused.
      const url = fitUrl(sighting.url);
      const { url: _given, ...rest } = sighting;
      const body = { ...rest, ...(url !== undefined ? { url } : {}) };
      return send({ kind: 'admin', method: 'POST', path, body, parse: parseSightingOutcome }, signal);
    },
    async recordAgentRun(taskId: string, token: string, run: { id: number; url?: string }, signal?: AbortSignal) {
      const url = fitUrl(run.url);
      const agentRun = { id: run.id, ...(url !== undefined ? { url } : {}) };
      parseOk(await putStatus(taskId, { status: 'awaiting_agent', token, agentRun }, signal), 'status response');
    },
    async recordPullRequest(taskId: string, token: string, pr: PullRequestRef, signal?: AbortSignal) {
      const body = {
        token,
        url: pr.url,
        number: pr.number,
        branch: pr.branch,
        ...(pr.state ? { state: pr.state } : {}),
      };
      await send(
        {
          kind: 'write',
          method: 'PUT',
          path: task(taskId, '/pr'),
          body,
          taskId,
          parse: (b) => parseOk(b, 'pr response'),
        },
        signal,
      );
    },
    async completeTask(taskId: string, token: string, report: CompletionReport, signal?: AbortSignal) {
      const body = {
        status: 'completed',
        token,
        ...(report.pr ? { pr: report.pr } : {}),
        ...(report.note ? { note: fitText(report.note, TASK_API_LIMITS.noteMax) } : {}),
      };
      parseOk(await putStatus(taskId, body, signal), 'status response');
    },
    async failTask(taskId: string, token: string, report: FailureReport, signal?: AbortSignal): Promise<Task> {
      const status = report.retryAt !== undefined ? 'retry' : 'failed';
      const body = {
        status,
        token,
        // Cut to the API's caps: a refused failure report would leave the task cycling, its reason lost.
        error: fitError(report.error),
        ...(report.retryAt !== undefined ? { retryAt: report.retryAt } : {}),
        ...(report.countAttempt !== undefined ? { countAttempt: report.countAttempt } : {}),
        ...(report.dropRun ? { dropRun: true } : {}),
      };
      return parseTaskEnvelope(await putStatus(taskId, body, signal), 'status response');
    },
    async releaseTask(taskId: string, token: string, signal?: AbortSignal) {
      parseOk(await putStatus(taskId, { status: 'pending', token }, signal), 'status response');
    },
    async addTasks(tasks: NewTask[], actor?: string, signal?: AbortSignal): Promise<Task[]> {
      if (tasks.length === 0) return [];
      const body = { tasks, ...(actor !== undefined ? { actor } : {}) };
      return send(
        { kind: 'admin', method: 'POST', path: 'tasks', body, parse: (b) => parseTaskList(b, 'created tasks') },
        signal,
      );
    },
    async getTask(taskId: string, signal?: AbortSignal): Promise<Task | undefined> {
      return (await fetchTask(taskId, signal))?.task;
    },
    async getTaskHistory(taskId: string, signal?: AbortSignal): Promise<TaskEvent[]> {
      return (await fetchTask(taskId, signal))?.history ?? [];
    },
    async listTasks(filter: TaskListFilter, signal?: AbortSignal): Promise<TaskPage> {
      const searchParams: Record<string, string | number> = {};
      for (const [key, value] of Object.entries(filter))
        if (value !== undefined) searchParams[key] = value as string | number;
      return send({ kind: 'read', method: 'GET', path: 'tasks', searchParams, parse: parseTaskPage }, signal);
    },
    async retryTask(taskId: string, actor?: string, signal?: AbortSignal): Promise<Task> {
      const body = { status: 'pending', ...(actor !== undefined ? { actor } : {}) };
      return parseTaskEnvelope(await putStatus(taskId, body, signal), 'status response');
    },
    async cancelTask(taskId: string, actor?: string, signal?: AbortSignal): Promise<Task> {
      const body = { status: 'cancelled', ...(actor !== undefined ? { actor } : {}) };
      return parseTaskEnvelope(await putStatus(taskId, body, signal), 'status response');
    },
    async addFeedback(taskId: string, feedback: Record<string, unknown>, actor?: string, signal?: AbortSignal) {
      const body = { feedback: fitFeedback(feedback), ...(actor !== undefined ? { actor } : {}) };
      const path = task(taskId, '/feedback');
      return send(
        { kind: 'admin', method: 'POST', path, body, parse: (b) => parseTaskEnvelope(b, 'feedback response') },
        signal,
      );
    },
    async updatePullRequestState(taskId: string, state: 'open' | 'merged' | 'closed', signal?: AbortSignal) {
      const path = task(taskId, '/pr');
      await send(
        { kind: 'admin', method: 'PUT', path, body: { state }, parse: (b) => parseOk(b, 'pr response') },
        signal,
      );
    },
    /** The replica's report for the status page (PUT /replicas/{name}); see replica-report.ts. */
    async reportReplica(
      name: string,
      startedAt: string,
      report: Record<string, unknown>,
      signal?: AbortSignal,
    ): Promise<ReplicaRecord> {
      const path = `replicas/${encodeURIComponent(name)}`;
      return send({ kind: 'write', method: 'PUT', path, body: { startedAt, report }, parse: parseReplica }, signal);
    },
    async countByStatus(signal?: AbortSignal): Promise<Partial<Record<TaskStatus, number>>> {
      return send({ kind: 'read', method: 'GET', path: 'stats', parse: parseCounts }, signal);
    },
    async ping(signal?: AbortSignal): Promise<void> {
      const parse = (b: unknown) => {
        if ((b as { status?: unknown } | null)?.status !== 'ok')
          throw invalidResponse('health response', 'status is not ok');
      };
      await send({ kind: 'read', method: 'GET', path: 'health', parse }, signal);
    },
    async close(): Promise<void> {
      // Nothing to release: got keeps no open handles between requests, and the guard belongs to the caller.
    },
  };
}

function parseReplica(body: unknown): ReplicaRecord {
  const replica = (body as { replica?: unknown } | null)?.replica as Partial<ReplicaRecord> | undefined;
  if (
    !replica ||
    typeof replica.name !== 'string' ||
    typeof replica.reportedAt !== 'string' ||
    !replica.report ||
    typeof replica.report !== 'object'
  ) {
    throw invalidResponse('replica response', 'replica.name, reportedAt and report are required');
  }
  const request = replica.intakeRequest;
  const valid =
    request && (request.state === 'paused' || request.state === 'running') && typeof request.by === 'string';
  return {
    name: replica.name,
    reportedAt: replica.reportedAt,
    report: replica.report,
    ...(typeof replica.startedAt === 'string' ? { startedAt: replica.startedAt } : {}),
    ...(valid ? { intakeRequest: { state: request.state, by: request.by, at: String(request.at) } } : {}),
  };
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
