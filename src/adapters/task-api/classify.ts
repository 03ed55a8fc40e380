/**
 * Task API failures -> DaemonError, in one place. The codes the SQL store throws on purpose (stale-lease,
 * invalid-transition, task-exists, task-duplicate, task-not-found, validation) come back as the same codes and categories, so
 * the daemon treats the HTTP store and the SQL store alike. Nothing here copies a request (it holds the bearer
 * key and lease tokens) into an error: messages come from the server's error body or from our own words.
 */
import { DaemonError, DuplicateTaskError, staleLeaseError, type ErrorCategory } from '../../domain/errors.js';
import { createRedactor } from '../../domain/redact.js';

const DEPENDENCY = 'task-store';
/** Masks credential-shaped text in what the server says; the key itself is masked by the daemon's redactor. */
const SHAPES_ONLY = createRedactor();

/** Longest wait honoured from a Retry-After header. */
const MAX_RETRY_AFTER_MS = 60_000;

/** The error body the Task API sends: `{ error, message, fields? }`. */
interface ApiErrorBody {
  error?: unknown;
  message?: unknown;
  fields?: unknown;
  existingTaskId?: unknown;
}

function make(
  message: string,
  code: string,
  category: ErrorCategory,
  status?: number,
  retryable = false,
  retryAfterMs?: number,
) {
  return new DaemonError(message, {
    code,
    category,
    retryable,
    dependency: DEPENDENCY,
    ...(status !== undefined ? { status } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/** Seconds or an HTTP date, capped; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(0, Math.round(ms)), MAX_RETRY_AFTER_MS);
}

function describeFields(fields: unknown): string {
  if (!Array.isArray(fields)) return '';
  const parts = fields
    .filter(
      (f): f is { field: string; message: string } => typeof f?.field === 'string' && typeof f?.message === 'string',
    )
    .map((f) => `${f.field} ${f.message}`);
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

/**
 * Classify a non-2xx response. `taskId` names the task in stale-lease errors exactly as the SQL store does;
 * `body` is the parsed JSON body, or undefined when there was none or it was not JSON.
 */
export function classifyResponse(
  status: number,
  body: unknown,
  options: { taskId?: string; retryAfter?: string } = {},
): DaemonError {
  const parsed = (typeof body === 'object' && body !== null ? body : {}) as ApiErrorBody;
  const apiCode = typeof parsed.error === 'string' ? parsed.error : undefined;
  // The server's text may echo what we sent (our bearer key): credential shapes are masked before it is kept.
  const serverMessage = typeof parsed.message === 'string' ? SHAPES_ONLY.text(parsed.message.slice(0, 500)) : undefined;
  const message = `Task API ${status}: ${serverMessage ?? 'no error message'}`;

  if (status === 401 || status === 403) {
    return make(
      `Task API refused the API key (${status}); check CLOUDFLARE_API_KEY`,
      'task-api-unauthorized',
      'authentication',
      status,
    );
  }
  if (status === 409 && apiCode === 'stale-lease' && options.taskId !== undefined) {
    return new DaemonError(staleLeaseError(options.taskId).message, {
      code: 'stale-lease',
      category: 'conflict',
      dependency: DEPENDENCY,
      status,
    });
  }
  if (status === 409 && apiCode === 'task-duplicate' && typeof parsed.existingTaskId === 'string') {
    // The same error the SQL store throws, so callers (the CLI, processTask) find the live task either way.
    return new DuplicateTaskError(parsed.existingTaskId.slice(0, 200), undefined, { status });
  }
  if (status === 409) return make(serverMessage ?? message, apiCode ?? 'conflict', 'conflict', status);
  if (status === 404 && apiCode === 'task-not-found')
    return make(serverMessage ?? message, 'task-not-found', 'validation', status);
  if (status === 404) {
    return make(`${message}; is CLOUDFLARE_API_URL the Task API?`, 'task-api-route-not-found', 'configuration', status);
  }
  if (status === 400)
    return make(
      `${serverMessage ?? message}${serverMessage ? '' : describeFields(parsed.fields)}`,
      'validation',
      'validation',
      status,
    );
  if (status === 413) return make(message, 'payload-too-large', 'validation', status);
  if (status === 429) {
    return make(message, 'task-api-rate-limited', 'rate_limit', status, true, parseRetryAfter(options.retryAfter));
  }
  if (status >= 500) {
    return make(message, 'task-api-unavailable', 'server', status, true, parseRetryAfter(options.retryAfter));
  }
  return make(message, 'task-api-unexpected-status', 'unknown', status);
}

/**
 * Classify a request that got no response: cancelled, timed out, or the network failed. The got error is not
 * kept as `cause` because it carries the request options, authorization header included.
 */
export function classifyRequestFailure(error: unknown, timeoutMs: number): DaemonError {
  const err = error as { name?: unknown; code?: unknown; message?: unknown };
  const name = typeof err?.name === 'string' ? err.name : '';
  const code = typeof err?.code === 'string' ? err.code : '';
  if (name === 'AbortError' || code === 'ERR_ABORTED' || name === 'CancelError') {
    return new DaemonError('Task API request was cancelled', {
      code: 'cancelled',
      category: 'cancelled',
      dependency: DEPENDENCY,
    });
  }
  if (name === 'TimeoutError' || code === 'ETIMEDOUT') {
    return make(`Task API did not answer within ${timeoutMs} ms`, 'task-api-timeout', 'timeout', undefined, true);
  }
  const detail = code !== '' ? code : 'request failed';
  return make(`Task API unreachable (${detail})`, 'task-api-unreachable', 'network', undefined, true);
}
