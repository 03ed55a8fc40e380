/**
 * Every Codegen failure becomes a DaemonError here, once. Callers past the adapter decide on category, code
 * and retryable; they never see a status code or an HTTP client's error. Messages quote Codegen's own
 * `message`/`detail` but never the token: a client's errors may keep the request options (Authorization header
 * included), so they are never kept as `cause`; a scrubbed stand-in is kept instead.
 */
import { DaemonError, type DaemonErrorOptions } from '../../domain/errors.js';

/** What the adapter was doing: 404 means different things for different operations. */
export type CodegenOperation = 'create-run' | 'get-run' | 'list-runs' | 'resume-run' | 'list-repos' | 'who-am-i';

/** A failure as the client sees it: an HTTP response it did not like, or something thrown on the way. */
export type CodegenFailure =
  | { kind: 'response'; status: number; headers?: Record<string, string | string[] | undefined>; body?: unknown }
  | { kind: 'thrown'; error: unknown };

/** Codegen documents no Retry-After header; without one, a rate-limited request waits this long. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 30_000;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

const MAX_MESSAGE = 500;

/** Remove every secret (the token, a Bearer header) from text bound for a message or a log line. */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/Bearer\s+[^\s"',;]+/gi, 'Bearer [redacted]');
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}...` : out;
}

/** Codegen's error text: `message` (its error responses) or FastAPI's `detail` (string or a list of msgs). */
function describeBody(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() ? body.trim() : undefined;
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  if (typeof record.message === 'string') return record.message;
  if (typeof record.detail === 'string') return record.detail;
  if (Array.isArray(record.detail)) {
    const parts = record.detail.map((d) => {
      if (typeof d !== 'object' || d === null) return String(d);
      const item = d as { loc?: unknown; msg?: unknown };
      const loc = Array.isArray(item.loc) ? item.loc.join('.') : undefined;
      const msg = typeof item.msg === 'string' ? item.msg : JSON.stringify(d);
      return loc ? `${loc}: ${msg}` : msg;
    });
    return parts.join('; ');
  }
  return undefined;
}

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

type Verdict = Omit<DaemonErrorOptions, 'dependency' | 'status' | 'cause'>;

/** The table: status (and operation) -> code, category, retryable. */
function verdictForStatus(status: number, operation: CodegenOperation): Verdict {
  if (status === 402) return { code: 'codegen-quota-exhausted', category: 'quota' };
  if (status === 401) return { code: 'codegen-unauthorized', category: 'authentication' };
  if (status === 403) return { code: 'codegen-forbidden', category: 'authentication' };
  if (status === 404) {
    if (operation === 'create-run' || operation === 'list-repos') {
      // "No repos found in the organization": no repository can be worked on until one is connected.
      return { code: 'codegen-no-repos', category: 'configuration', scope: 'repository' };
    }
    if (operation === 'get-run' || operation === 'resume-run') {
      return { code: 'codegen-run-not-found', category: 'validation' };
    }
    return { code: 'codegen-not-found', category: 'configuration' };
  }
  if (status === 422) return { code: 'codegen-validation-failed', category: 'validation' };
  if (status === 429) return { code: 'codegen-rate-limited', category: 'rate_limit', retryable: true };
  if (status === 408) return { code: 'codegen-timeout', category: 'timeout', retryable: true };
  // Too Early: the server declined to process the request at all, so sending it again is safe and may succeed.
  if (status === 425) return { code: 'codegen-too-early', category: 'timeout', retryable: true };
  if (status >= 500) return { code: 'codegen-server-error', category: 'server', retryable: true };
  if (status >= 400) return { code: 'codegen-request-rejected', category: 'validation' };
  return { code: 'codegen-unexpected-status', category: 'unknown' };
}

function fromResponse(
  failure: Extract<CodegenFailure, { kind: 'response' }>,
  operation: CodegenOperation,
  secrets: readonly string[],
): DaemonError {
  const verdict = verdictForStatus(failure.status, operation);
  const detail = describeBody(failure.body);
  const message = scrubSecrets(
    `Codegen ${operation} failed with HTTP ${failure.status}${detail ? `: ${detail}` : ''}`,
    secrets,
  );
  const retryAfterMs =
    verdict.category === 'rate_limit'
      ? (parseRetryAfter(failure.headers?.['retry-after']) ?? DEFAULT_RATE_LIMIT_WAIT_MS)
      : undefined;
  return new DaemonError(message, {
    ...verdict,
    status: failure.status,
    dependency: 'codegen',
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

function fromThrown(error: unknown, operation: CodegenOperation, secrets: readonly string[]): DaemonError {
  if (error instanceof DaemonError) return error;
  // Duck-typed: abort reasons (DOMException) and system errors made by Node's core are not instances of this
  // realm's Error under a VM context such as jest's, yet carry the same name, code and message.
  const shaped = typeof error === 'object' && error !== null && typeof (error as Error).message === 'string';
  const err: Error & { code?: unknown } = shaped ? (error as Error) : new Error(String(error));
  const code = typeof err.code === 'string' ? err.code : undefined;
  const text = scrubSecrets(err.message, secrets);
  // The stand-in cause: name, code and scrubbed message only, so no request options reach a log line.
  const cause = Object.assign(new Error(text), { name: err.name, ...(code ? { code } : {}) });
  const base = { dependency: 'codegen', cause };
  if (err.name === 'AbortError' || err.name === 'CancelError' || code === 'ERR_ABORTED' || code === 'ABORT_ERR') {
    return new DaemonError(`Codegen ${operation} was cancelled`, { ...base, code: 'cancelled', category: 'cancelled' });
  }
  if (err.name === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new DaemonError(`Codegen ${operation} timed out: ${text}`, {
      ...base,
      code: 'codegen-timeout',
      category: 'timeout',
      retryable: true,
    });
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return new DaemonError(`Codegen ${operation} could not reach the API (${code}): ${text}`, {
      ...base,
      code: 'codegen-network-error',
      category: 'network',
      retryable: true,
    });
  }
  if (err.name === 'ParseError' || err.name === 'SyntaxError') {
    return new DaemonError(`Codegen ${operation} returned a body that is not JSON`, {
      ...base,
      code: 'codegen-invalid-response',
      category: 'server',
      retryable: true,
    });
  }
  return new DaemonError(`Codegen ${operation} failed: ${text}`, {
    ...base,
    code: 'codegen-request-failed',
    category: 'unknown',
  });
}

/**
 * Turn a Codegen failure into a DaemonError with dependency `codegen`. `secrets` (the token) are scrubbed from
 * every message, whatever the server or the HTTP client put into it.
 */
export function classifyCodegenFailure(
  failure: CodegenFailure,
  operation: CodegenOperation,
  secrets: readonly string[] = [],
): DaemonError {
  return failure.kind === 'response'
    ? fromResponse(failure, operation, secrets)
    : fromThrown(failure.error, operation, secrets);
}
