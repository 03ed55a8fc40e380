/**
 * What each Task API request may carry, checked field by field. Each parser turns an untrusted body or query
 * string into the arguments of one TaskStore call, or into the list of everything wrong with it.
 */
import { TASK_API_LIMITS, TASK_LIMITS } from '../domain/task-limits.js';
import { REPOSITORY_PATTERN } from '../domain/task-text.js';
import { TASK_PRIORITIES, TASK_STATUSES, type TaskPriority, type TaskStatus } from '../domain/task.js';
import type { AgentRunSighting, ClaimOptions, RepositoryCap, TaskListFilter } from '../pipeline/ports.js';
import { jsonFieldProblems } from '../domain/json-value.js';
import { FieldReader, readBody, type Checked, type FieldError } from './validate.js';

/** Bounds the API enforces (task-limits.ts); the OpenAPI document states the same numbers. */
export const LIMITS = {
  pageSize: TASK_API_LIMITS.pageSize,
  claim: TASK_API_LIMITS.claim,
  leaseMs: TASK_API_LIMITS.leaseMs,
  leaseExpiries: TASK_API_LIMITS.leaseExpiries,
  claimWaitMs: TASK_API_LIMITS.claimWaitMs,
  batch: TASK_API_LIMITS.batch,
  text: TASK_API_LIMITS.nameMax,
} as const;

/** Task ids, worker names, tokens and actors: printable, no spaces, bounded. */
export const NAME_PATTERN = /^[\x21-\x7e]+$/;
const NAME = { max: LIMITS.text, pattern: NAME_PATTERN, hint: 'must be printable ASCII without spaces' };

function failed<T>(errors: FieldError[]): Checked<T> {
  return { ok: false, errors };
}

/** GET /tasks: status, priority, repository, limit, cursor; each at most once. */
export function parseListQuery(query: Record<string, string[]>): Checked<TaskListFilter> {
  const single: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const [key, values] of Object.entries(query)) {
    if (values.length > 1) errors.push({ field: key, message: 'must be given at most once' });
    single[key] = values[0];
  }
  const reader = new FieldReader(single);
  reader.onlyKnown(['status', 'priority', 'repository', 'limit', 'cursor']);
  const status = reader.oneOf<TaskStatus>('status', TASK_STATUSES);
  const priority = reader.oneOf<TaskPriority>('priority', TASK_PRIORITIES);
  const repository = reader.string('repository', {
    max: TASK_LIMITS.repositoryMax,
    pattern: REPOSITORY_PATTERN,
    hint: 'must be a GitHub "owner/name"',
  });
  const cursor = reader.string('cursor', { max: TASK_API_LIMITS.cursorMax });
  let limit: number = LIMITS.pageSize.default;
  if (single.limit !== undefined) {
    const text = String(single.limit);
    const n = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
    if (Number.isNaN(n) || n < LIMITS.pageSize.min || n > LIMITS.pageSize.max) {
      reader.fail('limit', `must be an integer between ${LIMITS.pageSize.min} and ${LIMITS.pageSize.max}`);
    } else limit = n;
  }
  reader.errors.unshift(...errors);
  const filter: TaskListFilter = { limit };
  if (status) filter.status = status;
  if (priority) filter.priority = priority;
  if (repository) filter.repository = repository;
  if (cursor) filter.cursor = cursor;
  return reader.result(filter);
}

/** POST /tasks: one task, or `{ tasks: [...], actor? }`. Tasks themselves are checked by validateNewTask. */
export function parseCreateEnvelope(body: unknown): Checked<{ items: unknown[]; actor?: string; batch: boolean }> {
  const reader = readBody(body);
  if (Array.isArray(reader)) return failed(reader);
  if (!Array.isArray(reader.raw('tasks'))) {
    if (reader.has('tasks')) return failed([{ field: 'tasks', message: 'must be an array of tasks' }]);
    return { ok: true, value: { items: [body], batch: false } };
  }
  reader.onlyKnown(['tasks', 'actor']);
  const items = reader.raw('tasks') as unknown[];
  if (items.length === 0) reader.fail('tasks', 'must hold at least one task');
  if (items.length > LIMITS.batch) reader.fail('tasks', `must hold at most ${LIMITS.batch} tasks`);
  const actor = reader.string('actor', NAME);
  return reader.result({ items, batch: true, ...(actor ? { actor } : {}) });
}

/** POST /tasks/claim; `taskIds` narrows the claim to those tasks (CodegenClient.processTask). */
export function parseClaim(body: unknown): Checked<ClaimOptions> {
  const reader = readBody(body);
  if (Array.isArray(reader)) return failed(reader);
  reader.onlyKnown(['worker', 'limit', 'leaseMs', 'taskIds', 'maxLeaseExpiries', 'waitMs', 'repositoryCap']);
  const worker = reader.string('worker', { ...NAME, required: true });
  const limit = reader.integer('limit', { ...LIMITS.claim, required: true });
  const leaseMs = reader.integer('leaseMs', { ...LIMITS.leaseMs, required: true });
  const options: ClaimOptions = { worker: worker ?? '', limit: limit ?? 0, leaseMs: leaseMs ?? 0 };
  const maxLeaseExpiries = reader.integer('maxLeaseExpiries', LIMITS.leaseExpiries);
  if (maxLeaseExpiries !== undefined) options.maxLeaseExpiries = maxLeaseExpiries;
  const waitMs = reader.integer('waitMs', LIMITS.claimWaitMs);
  if (waitMs !== undefined) options.waitMs = waitMs;
  const cap = readRepositoryCap(reader);
  if (cap) options.repositoryCap = cap;
  const ids = reader.raw('taskIds');
  if (ids !== undefined) {
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > LIMITS.claim.max) {
      reader.fail('taskIds', `must be a list of 1 to ${LIMITS.claim.max} task ids`);
    } else {
      ids.forEach((id, i) => {
        if (typeof id !== 'string' || checkTaskId(id).length > 0) reader.fail(`taskIds[${i}]`, 'must be a task id');
      });
      options.taskIds = ids as string[];
    }
  }
  return reader.result(options);
}

/** A claim's `repositoryCap`: `{ default, overrides?, unnamedAs? }`, each cap 0 (none) to the API's maximum. */
function readRepositoryCap(reader: FieldReader): RepositoryCap | undefined {
  const capReader = reader.object('repositoryCap');
  if (!capReader) return undefined;
  capReader.onlyKnown(['default', 'overrides', 'unnamedAs']);
  const range = TASK_API_LIMITS.repositoryCap;
  const fallback = capReader.integer('default', { ...range, required: true });
  const cap: RepositoryCap = { default: fallback ?? 0 };
  const overrides = capReader.object('overrides');
  if (overrides) {
    const repos = Object.keys(capReader.raw('overrides') as Record<string, unknown>);
    if (repos.length > TASK_API_LIMITS.capOverridesMax) {
      capReader.fail('overrides', `must name at most ${TASK_API_LIMITS.capOverridesMax} repositories`);
    }
    cap.overrides = {};
    for (const repo of repos.slice(0, TASK_API_LIMITS.capOverridesMax)) {
      if (!REPOSITORY_PATTERN.test(repo)) {
        const shown = /^[\x21-\x7e]{1,140}$/.test(repo) ? `"${repo}"` : 'a key';
        capReader.fail('overrides', `${shown} is not a GitHub "owner/name"`);
        continue;
      }
      const n = overrides.integer(repo, range);
      if (n !== undefined) cap.overrides[repo] = n;
    }
  }
  const unnamedAs = capReader.string('unnamedAs', {
    max: TASK_LIMITS.repositoryMax,
    pattern: REPOSITORY_PATTERN,
    hint: 'must be a GitHub "owner/name"',
  });
  if (unnamedAs) cap.unnamedAs = unnamedAs;
  reader.absorb(capReader, overrides);
  return cap;
}

/** POST /tasks/:id/heartbeat. */
export function parseHeartbeat(body: unknown): Checked<{ token: string; leaseMs: number }> {
  const reader = readBody(body);
  if (Array.isArray(reader)) return failed(reader);
  reader.onlyKnown(['token', 'leaseMs']);
  const token = reader.string('token', { ...NAME, required: true });
  const leaseMs = reader.integer('leaseMs', { ...LIMITS.leaseMs, required: true });
  return reader.result({ token: token ?? '', leaseMs: leaseMs ?? 0 });
}

/** Optional `{ actor }` bodies (retry, cancel). An empty body is allowed. */
export function parseActorBody(body: unknown): Checked<{ actor?: string }> {
  if (body === undefined) return { ok: true, value: {} };
  const reader = readBody(body);
  if (Array.isArray(reader)) return failed(reader);
  reader.onlyKnown(['actor']);
  const actor = reader.string('actor', NAME);
  return reader.result(actor ? { actor } : {});
}

/** POST /tasks/:id/feedback: `{ feedback: {...}, actor? }`. */
export function parseFeedback(body: unknown): Checked<{ feedback: Record<string, unknown>; actor?: string }> {
  const reader = readBody(body);
  if (Array.isArray(reader)) return failed(reader);
  reader.onlyKnown(['feedback', 'actor']);
  const feedback = reader.object('feedback', { required: true });
  const actor = reader.string('actor', NAME);
  const value = feedback ? (reader.raw('feedback') as Record<string, unknown>) : {};
  if (feedback && Object.keys(value).length === 0) reader.fail('feedback', 'must not be empty');
  else if (feedback) {
    const limits = { depthMax: TASK_API_LIMITS.feedbackDepthMax, sizeMax: TASK_API_LIMITS.feedbackMax };
    for (const p of jsonFieldProblems(value, 'feedback', limits)) reader.fail(p.path, p.message);
  }
  return reader.result({ feedback: value, ...(actor ? { actor } : {}) });
}

/** The path parameter `:id`. */
export function checkTaskId(id: string): FieldError[] {
  if (id.length === 0 || id.length > LIMITS.text || !NAME_PATTERN.test(id)) {
    return [{ field: 'id', message: `must be 1 to ${LIMITS.text} printable characters without spaces` }];
  }
  return [];
}

export { NAME as NAME_FIELD };

/** Run intent nonces: 8 to 100 printable ASCII characters. */
const NONCE = { max: 100, pattern: /^[\x21-\x7e]{8,100}$/, hint: 'must be 8 to 100 printable ASCII characters' };

/** PUT /tasks/:id/intent: the run intent an attempt records before it creates an agent run. */
export function parseRunIntent(body: unknown): Checked<{ token: string; nonce: string }> {
  const reader = readBody(body);
  if (Array.isArray(reader)) return failed(reader);
  reader.onlyKnown(['token', 'nonce']);
  const token = reader.string('token', { ...NAME, required: true });
  const nonce = reader.string('nonce', { ...NONCE, required: true });
  return reader.result({ token: token ?? '', nonce: nonce ?? '' });
}

const SIGHTING_STATES = ['live', 'succeeded', 'failed'] as const;

/** POST /tasks/:id/sightings: what the reconciler saw of an agent run naming this task. */
export function parseSighting(body: unknown): Checked<AgentRunSighting> {
  const reader = readBody(body);
  if (Array.isArray(reader)) return failed(reader);
  reader.onlyKnown(['runId', 'url', 'state', 'intent', 'pr']);
  const runId = reader.integer('runId', { required: true, min: 1, max: Number.MAX_SAFE_INTEGER });
  const url = reader.string('url', { max: 2000, pattern: /^https?:\/\/\S+$/, hint: 'must be an http(s) URL' });
  const state = reader.oneOf('state', SIGHTING_STATES, { required: true });
  const intent = reader.string('intent', NONCE);
  const sighting: AgentRunSighting = { runId: runId ?? 0, state: state ?? 'live' };
  if (url) sighting.url = url;
  if (intent) sighting.intent = intent;
  const pr = reader.object('pr');
  if (pr) {
    const prUrl = pr.string('url', {
      required: true,
      max: 2000,
      pattern: /^https?:\/\/\S+$/,
      hint: 'must be an http(s) URL',
    });
    const number = pr.integer('number', { required: true, min: 1, max: 1_000_000_000 });
    const branch = pr.string('branch', { required: true, max: 255 });
    const prState = pr.oneOf('state', ['open', 'merged', 'closed'] as const);
    pr.onlyKnown(['url', 'number', 'branch', 'state']);
    reader.absorb(pr);
    sighting.pr = {
      url: prUrl ?? '',
      number: number ?? 0,
      branch: branch ?? '',
      ...(prState ? { state: prState } : {}),
    };
  }
  return reader.result(sighting);
}
