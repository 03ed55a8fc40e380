/**
 * Checks on every Task API response body before the daemon uses it. A body of the wrong shape is a
 * DaemonError `task-api-invalid-response` (the service and the daemon disagree on the wire format: not worth
 * retrying). Checks are structural, not a full re-validation: `type` and `priority` are passed through as
 * strings, and `labels` and `context` as they are, because the store keeps malformed rows claimable so the
 * daemon's validate step can fail them with a clear message: one bad row must not make a whole claim unreadable.
 */
import { DaemonError } from '../../domain/errors.js';
import {
  TASK_STATUSES,
  type ClaimedTask,
  type Lease,
  type RunIntent,
  type Task,
  type TaskStatus,
} from '../../domain/task.js';
import type { SightingOutcome, TaskEvent, TaskPage } from '../../pipeline/ports.js';

type Json = Record<string, unknown>;

/** Thrown (as a DaemonError) when a response does not have the documented shape. */
export function invalidResponse(what: string, problem: string): DaemonError {
  // Retryable: an answer garbled on the way (a proxy, a cut connection) says nothing of the request, which may
  // have been carried out; every write we send is fenced and recognises its own repeat, so sending it again is
  // safe, and a read is safe anyway.
  return new DaemonError(`Task API sent an invalid ${what}: ${problem}`, {
    code: 'task-api-invalid-response',
    category: 'server',
    retryable: true,
    dependency: 'task-store',
  });
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A little path-aware checker: `check(value, 'task').string('id')`. */
function expectObject(value: unknown, what: string, path: string): Json {
  if (!isObject(value)) throw invalidResponse(what, `${path} is not an object`);
  return value;
}

function need(
  obj: Json,
  key: string,
  type: 'string' | 'number' | 'boolean',
  what: string,
  path: string,
  optional = false,
) {
  const value = obj[key];
  if (value === undefined || value === null) {
    if (optional) return;
    throw invalidResponse(what, `${path}.${key} is missing`);
  }
  if (typeof value !== type) throw invalidResponse(what, `${path}.${key} is not a ${type}`);
}

function arrayOf<T>(value: unknown, what: string, path: string, item: (v: unknown, p: string) => T): T[] {
  if (!Array.isArray(value)) throw invalidResponse(what, `${path} is not an array`);
  return value.map((v, i) => item(v, `${path}[${i}]`));
}

function status(value: unknown, what: string, path: string): TaskStatus {
  if (!TASK_STATUSES.includes(value as TaskStatus)) throw invalidResponse(what, `${path} is not a task status`);
  return value as TaskStatus;
}

/** A Task as the API sends it. */
export function parseTask(value: unknown, what = 'task', path = 'task'): Task {
  const t = expectObject(value, what, path);
  for (const key of ['id', 'title', 'description', 'type', 'priority', 'createdAt', 'updatedAt']) {
    need(t, key, 'string', what, path);
  }
  for (const key of ['repository', 'nextRunAt', 'dedupeKey']) need(t, key, 'string', what, path, true);
  need(t, 'attempts', 'number', what, path);
  need(t, 'maxAttempts', 'number', what, path);
  status(t.status, what, `${path}.status`);
  const checkpoint = expectObject(t.checkpoint, what, `${path}.checkpoint`);
  need(checkpoint, 'agentRunId', 'number', what, `${path}.checkpoint`, true);
  need(checkpoint, 'agentRunUrl', 'string', what, `${path}.checkpoint`, true);
  if (checkpoint.pr !== undefined) {
    const pr = expectObject(checkpoint.pr, what, `${path}.checkpoint.pr`);
    need(pr, 'url', 'string', what, `${path}.checkpoint.pr`);
    need(pr, 'number', 'number', what, `${path}.checkpoint.pr`);
    need(pr, 'branch', 'string', what, `${path}.checkpoint.pr`);
  }
  if (t.lastError !== undefined) {
    const e = expectObject(t.lastError, what, `${path}.lastError`);
    for (const key of ['category', 'code', 'message']) need(e, key, 'string', what, `${path}.lastError`);
  }
  if (t.feedback !== undefined) arrayOf(t.feedback, what, `${path}.feedback`, (v) => v);
  return t as unknown as Task;
}

export function parseLease(value: unknown, what = 'lease', path = 'lease'): Lease {
  const lease = expectObject(value, what, path);
  for (const key of ['owner', 'token', 'expiresAt']) need(lease, key, 'string', what, path);
  return { owner: lease.owner as string, token: lease.token as string, expiresAt: lease.expiresAt as string };
}

export function parseTaskEvent(value: unknown, what: string, path: string): TaskEvent {
  const e = expectObject(value, what, path);
  need(e, 'id', 'number', what, path);
  for (const key of ['taskId', 'at', 'actor', 'kind']) need(e, key, 'string', what, path);
  if (e.fromStatus !== undefined) status(e.fromStatus, what, `${path}.fromStatus`);
  if (e.toStatus !== undefined) status(e.toStatus, what, `${path}.toStatus`);
  if (e.detail !== undefined) expectObject(e.detail, what, `${path}.detail`);
  return e as unknown as TaskEvent;
}

/** `{ task }` */
export function parseTaskEnvelope(body: unknown, what: string): Task {
  return parseTask(expectObject(body, what, 'body').task, what, 'task');
}

/** `{ tasks: Task[] }` */
export function parseTaskList(body: unknown, what: string): Task[] {
  return arrayOf(expectObject(body, what, 'body').tasks, what, 'tasks', (v, p) => parseTask(v, what, p));
}

/** `{ tasks, nextCursor }` */
export function parseTaskPage(body: unknown): TaskPage {
  const tasks = parseTaskList(body, 'task page');
  const cursor = (body as Json).nextCursor;
  if (cursor !== undefined && cursor !== null && typeof cursor !== 'string') {
    throw invalidResponse('task page', 'nextCursor is not a string');
  }
  return typeof cursor === 'string' ? { tasks, nextCursor: cursor } : { tasks };
}

/** `{ tasks: ClaimedTask[] }` */
export function parseClaims(body: unknown): ClaimedTask[] {
  const what = 'claim response';
  return arrayOf(expectObject(body, what, 'body').tasks, what, 'tasks', (v, p) => {
    const claim = expectObject(v, what, p);
    return { task: parseTask(claim.task, what, `${p}.task`), lease: parseLease(claim.lease, what, `${p}.lease`) };
  });
}

/** `{ task, history }` */
export function parseTaskWithHistory(body: unknown): { task: Task; history: TaskEvent[] } {
  const what = 'task response';
  const obj = expectObject(body, what, 'body');
  const task = parseTask(obj.task, what, 'task');
  const history = arrayOf(obj.history, what, 'history', (v, p) => parseTaskEvent(v, what, p));
  return { task, history };
}

/** `{ counts: { <status>: n } }` */
export function parseCounts(body: unknown): Partial<Record<TaskStatus, number>> {
  const what = 'stats response';
  const counts = expectObject(expectObject(body, what, 'body').counts, what, 'counts');
  const out: Partial<Record<TaskStatus, number>> = {};
  for (const [key, n] of Object.entries(counts)) {
    const s = status(key, what, `counts.${key}`);
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      throw invalidResponse(what, `counts.${key} is not a count`);
    out[s] = n;
  }
  return out;
}

/** `{ ok: true }` */
export function parseOk(body: unknown, what: string): void {
  if (!isObject(body) || body.ok !== true) throw invalidResponse(what, 'expected { ok: true }');
}

/** `{ intent: { nonce, at } }` from PUT /tasks/:id/intent. */
export function parseRunIntent(body: unknown): RunIntent {
  const envelope = expectObject(body, 'intent response', 'body');
  const intent = expectObject(envelope.intent, 'intent response', 'body.intent');
  need(intent, 'nonce', 'string', 'intent response', 'body.intent');
  need(intent, 'at', 'string', 'intent response', 'body.intent');
  return { nonce: intent.nonce as string, at: intent.at as string };
}

const SIGHTING_OUTCOMES: readonly SightingOutcome[] = ['adopted', 'late-pr', 'extra-run', 'none'];

/** `{ outcome }` from POST /tasks/:id/sightings. */
export function parseSightingOutcome(body: unknown): SightingOutcome {
  const outcome = expectObject(body, 'sighting response', 'body').outcome;
  if (!SIGHTING_OUTCOMES.includes(outcome as SightingOutcome)) {
    throw invalidResponse('sighting response', 'body.outcome is not a known outcome');
  }
  return outcome as SightingOutcome;
}
