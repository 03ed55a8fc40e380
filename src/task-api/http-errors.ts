/**
 * How the Task API answers when something goes wrong. Every error is JSON `{ error, message, fields? }` where
 * `error` is a stable code the HTTP client maps back into the same DaemonError the SQL store throws. Unknown
 * failures become a generic 500: the detail goes to the log, never to the caller.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isDaemonError, isDuplicateTaskError, toDaemonError, type DaemonError } from '../domain/errors.js';
import type { FieldError } from './validate.js';

/** The body of every error response. */
export interface ApiErrorBody {
  error: string;
  message: string;
  fields?: FieldError[];
  /** With task-duplicate: the live task holding the dedupe key. */
  existingTaskId?: string;
}

/** The logging the app needs; a pino Logger fits, and so does the Worker's console logger. */
export interface ApiLogger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** DaemonError codes the store throws on purpose, with the HTTP status each becomes. */
const STATUS_BY_CODE: Record<string, ContentfulStatusCode> = {
  'stale-lease': 409,
  'invalid-transition': 409,
  'task-exists': 409,
  'task-duplicate': 409,
  'no-pull-request': 409,
  'task-not-found': 404,
  validation: 400,
};

/** The request field a store refusal concerns, for refusals that carry no field list of their own. */
const FIELD_BY_CODE: Record<string, string> = { 'invalid-cursor': 'cursor' };

/**
 * The status for a DaemonError the caller caused: known codes first, then the store's other refusals by
 * category (invalid-cursor, invalid-task: validation -> 400). `task-store-*` codes are the database failing,
 * never the caller: those stay 500.
 */
function statusOf(err: DaemonError): ContentfulStatusCode | undefined {
  const known = STATUS_BY_CODE[err.code];
  if (known !== undefined) return known;
  if (err.code.startsWith('task-store-')) return undefined;
  if (err.category === 'validation') return 400;
  if (err.category === 'conflict') return 409;
  return undefined;
}

/** A 400 naming every bad field. */
export function validationResponse(c: Context, fields: FieldError[], message?: string): Response {
  const summary = message ?? `invalid request: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`;
  const body: ApiErrorBody = { error: 'validation', message: summary, fields };
  return c.json(body, 400);
}

export function notFoundResponse(c: Context, message: string, code = 'not-found'): Response {
  const body: ApiErrorBody = { error: code, message };
  return c.json(body, 404);
}

/** Turn anything a handler threw into a response; log what the caller must not see. */
export function errorResponse(c: Context, raw: unknown, logger: ApiLogger): Response {
  const status = isDaemonError(raw) ? statusOf(raw) : undefined;
  if (isDaemonError(raw) && status !== undefined) {
    if (status === 400) {
      const given = fieldsOf(raw);
      const fields = given.length > 0 ? given : [{ field: FIELD_BY_CODE[raw.code] ?? 'body', message: raw.message }];
      const body: ApiErrorBody = { error: raw.code, message: raw.message, fields };
      return c.json(body, 400);
    }
    const body: ApiErrorBody = { error: raw.code, message: raw.message };
    if (isDuplicateTaskError(raw)) body.existingTaskId = raw.existingTaskId;
    return c.json(body, status);
  }
  logger.error({ err: toDaemonError(raw), method: c.req.method, path: c.req.path }, 'task api request failed');
  const body: ApiErrorBody = { error: 'internal', message: 'internal error; see the server log' };
  return c.json(body, 500);
}

/** A validation DaemonError may carry the field list (the store's own validateNewTask result). */
function fieldsOf(raw: unknown): FieldError[] {
  const fields = (raw as { fields?: unknown }).fields;
  if (!Array.isArray(fields)) return [];
  return fields.filter(
    (f): f is FieldError =>
      typeof f === 'object' && f !== null && typeof f.field === 'string' && typeof f.message === 'string',
  );
}
