/**
 * The two write endpoints that carry the seed's names, PUT /tasks/:id/status and PUT /tasks/:id/pr. One body
 * shape per intent: with a lease token they are the daemon's leased writes; without one only the changes a
 * person may make (retry a failed task, cancel, record the PR's state on GitHub).
 */
import { TASK_API_LIMITS as API } from '../domain/task-limits.js';
import type { PullRequestRef, TaskError } from '../domain/task.js';
import type { CompletionReport, FailureReport } from '../pipeline/ports.js';
import { NAME_FIELD } from './requests.js';
import { FieldReader, readBody, type Checked } from './validate.js';

/** What a PUT /tasks/:id/status body asks for, resolved to one TaskStore call. */
export type StatusChange =
  | { kind: 'agent-run'; token: string; run: { id: number; url?: string } }
  | { kind: 'complete'; token: string; report: CompletionReport }
  | { kind: 'fail'; token: string; report: FailureReport }
  | { kind: 'release'; token: string }
  | { kind: 'retry'; actor?: string }
  | { kind: 'cancel'; actor?: string };

/** What a PUT /tasks/:id/pr body asks for. */
export type PullRequestChange =
  { kind: 'record'; token: string; pr: PullRequestRef } | { kind: 'state'; state: 'open' | 'merged' | 'closed' };

const LEASED_STATUSES = ['awaiting_agent', 'completed', 'failed', 'retry', 'pending'] as const;
const PERSON_STATUSES = ['pending', 'cancelled'] as const;
const PR_STATES = ['open', 'merged', 'closed'] as const;
const HTTP_URL = /^https?:\/\/\S+$/;
const URL_FIELD = { max: API.urlMax, pattern: HTTP_URL, hint: 'must be an http(s) URL' };

/** Fields each kind of change may carry besides `status`; anything else is refused by name. */
const FIELDS: Record<StatusChange['kind'], string[]> = {
  'agent-run': ['token', 'agentRun'],
  complete: ['token', 'pr', 'note'],
  fail: ['token', 'error', 'retryAt', 'countAttempt', 'dropRun'],
  release: ['token'],
  retry: ['actor'],
  cancel: ['actor'],
};

export function parseStatusChange(body: unknown): Checked<StatusChange> {
  const reader = readBody(body);
  if (Array.isArray(reader)) return { ok: false, errors: reader };
  const leased = reader.has('token');
  const allowed = leased ? LEASED_STATUSES : PERSON_STATUSES;
  const status = reader.oneOf('status', allowed, { required: true });
  if (status === undefined) {
    // Say why a known status was refused: it needs (or must not have) a lease token.
    const raw = reader.raw('status');
    if (!leased && typeof raw === 'string' && (LEASED_STATUSES as readonly string[]).includes(raw)) {
      return fail('token', `is required to set status ${raw} (a leased write)`);
    }
    return { ok: false, errors: reader.errors };
  }
  const token = leased ? reader.string('token', { ...NAME_FIELD, required: true }) : undefined;
  const change = readChange(reader, status, leased ? (token ?? '') : undefined);
  reader.onlyKnown(['status', ...FIELDS[change.kind]]);
  return reader.result(change);
}

/** `token` is undefined for the changes people make without a lease. */
function readChange(reader: FieldReader, status: string, token: string | undefined): StatusChange {
  if (token === undefined) {
    return status === 'cancelled' ? { kind: 'cancel', ...actorOf(reader) } : { kind: 'retry', ...actorOf(reader) };
  }
  switch (status) {
    case 'awaiting_agent': {
      const run = reader.object('agentRun', { required: true });
      const id = run?.integer('id', { required: true, min: 1, max: Number.MAX_SAFE_INTEGER });
      const url = run?.string('url', URL_FIELD);
      run?.onlyKnown(['id', 'url']);
      reader.absorb(run);
      return { kind: 'agent-run', token, run: { id: id ?? 0, ...(url ? { url } : {}) } };
    }
    case 'completed': {
      const pr = reader.has('pr') ? readPullRequest(reader, 'pr') : undefined;
      const note = reader.string('note', { max: API.noteMax, multiline: true });
      return { kind: 'complete', token, report: { ...(pr ? { pr } : {}), ...(note ? { note } : {}) } };
    }
    case 'failed':
    case 'retry':
      return { kind: 'fail', token, report: readFailure(reader, status === 'retry') };
    default:
      return { kind: 'release', token };
  }
}

function readFailure(reader: FieldReader, retry: boolean): FailureReport {
  const err = reader.object('error', { required: true });
  const error: TaskError = {
    category: err?.string('category', { required: true, max: API.errorCategoryMax }) ?? '',
    code: err?.string('code', { required: true, max: API.errorCodeMax }) ?? '',
    message: err?.string('message', { required: true, max: API.errorMessageMax, multiline: true }) ?? '',
  };
  err?.onlyKnown(['category', 'code', 'message']);
  reader.absorb(err);
  const retryAt = reader.timestamp('retryAt', { required: retry });
  if (!retry && retryAt !== undefined) reader.fail('retryAt', 'is only allowed with status retry');
  const countAttempt = reader.boolean('countAttempt');
  const dropRun = reader.boolean('dropRun');
  return {
    error,
    ...(retryAt && retry ? { retryAt } : {}),
    ...(countAttempt !== undefined ? { countAttempt } : {}),
    ...(dropRun !== undefined ? { dropRun } : {}),
  };
}

function readPullRequest(reader: FieldReader, name: string): PullRequestRef | undefined {
  const pr = reader.object(name, { required: true });
  if (!pr) return undefined;
  const value = readPrFields(pr);
  pr.onlyKnown(['url', 'number', 'branch', 'state']);
  reader.absorb(pr);
  return value;
}

function readPrFields(pr: FieldReader): PullRequestRef {
  const url = pr.string('url', { ...URL_FIELD, required: true }) ?? '';
  const number = pr.integer('number', { required: true, min: 1, max: 1_000_000_000 }) ?? 0;
  const branch = pr.string('branch', { required: true, max: API.branchMax }) ?? '';
  const state = pr.oneOf('state', PR_STATES);
  return { url, number, branch, ...(state ? { state } : {}) };
}

function actorOf(reader: FieldReader): { actor?: string } {
  const actor = reader.string('actor', NAME_FIELD);
  return actor ? { actor } : {};
}

function fail<T>(field: string, message: string): Checked<T> {
  return { ok: false, errors: [{ field, message }] };
}

/** PUT /tasks/:id/pr: `{ token, url, number, branch, state? }`, or `{ state }` alone without a token. */
export function parsePullRequestChange(body: unknown): Checked<PullRequestChange> {
  const reader = readBody(body);
  if (Array.isArray(reader)) return { ok: false, errors: reader };
  if (!reader.has('token')) {
    reader.onlyKnown(['state']);
    if (reader.errors.length > 0) reader.fail('token', 'is required to record a pull request');
    const state = reader.oneOf('state', PR_STATES, { required: true });
    return reader.result({ kind: 'state', state: state ?? 'open' });
  }
  const token = reader.string('token', { ...NAME_FIELD, required: true }) ?? '';
  const pr = readPrFields(reader);
  reader.onlyKnown(['token', 'url', 'number', 'branch', 'state']);
  return reader.result({ kind: 'record', token, pr });
}
