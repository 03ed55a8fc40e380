/**
 * One error type for the whole daemon. Adapters classify raw failures into a DaemonError once, at the edge;
 * everything past the edge decides on `category`, `code` and `retryable`, never on a message or a status code.
 */

/** The seed's error categories, plus the few the daemon needs of its own. */
export const ERROR_CATEGORIES = [
  'network',
  'authentication',
  'rate_limit',
  'validation',
  'server',
  'quota',
  'prompt',
  'configuration',
  'timeout',
  'agent',
  'conflict',
  'cancelled',
  'unknown',
] as const;
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/**
 * Whom a failure concerns; the scope, not the category, decides the reaction (STYLE.md habit 15):
 * - task: this task's own failure (a bad row, an agent that failed, a PR GitHub refused): it spends an attempt;
 * - repository: this task's repository cannot be worked on (no access, not connected to Codegen): that
 *   repository's tasks are parked, the rest flow;
 * - dependency: a whole external system is unhealthy (network, 5xx, timeouts, an open breaker, a store that does
 *   not answer): tasks are handed back without spending attempts and intake pauses until a probe succeeds;
 * - credential: a credential was refused: intake pauses for that credential's system until a probe succeeds.
 */
export const ERROR_SCOPES = ['task', 'repository', 'dependency', 'credential'] as const;
export type ErrorScope = (typeof ERROR_SCOPES)[number];

export interface DaemonErrorOptions {
  /** Stable kebab-case code, e.g. `codegen-quota-exhausted`. */
  code: string;
  category: ErrorCategory;
  retryable?: boolean;
  /** Server-advised wait before trying again (Retry-After, rate-limit reset), in milliseconds. */
  retryAfterMs?: number;
  /** HTTP status that caused the error, when there was one (for logs only; never branch on it). */
  status?: number;
  /** Which external system failed: codegen, github, task-store, redis. */
  dependency?: string;
  /** Whom the failure concerns; derived from the category when the classifier does not say (see defaultScope). */
  scope?: ErrorScope;
  cause?: unknown;
}

export class DaemonError extends Error {
  override readonly name = 'DaemonError';
  readonly code: string;
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly status?: number;
  readonly dependency?: string;
  readonly scope: ErrorScope;

  constructor(message: string, options: DaemonErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.category = options.category;
    this.retryable = options.retryable ?? false;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.status !== undefined) this.status = options.status;
    if (options.dependency !== undefined) this.dependency = options.dependency;
    this.scope = options.scope ?? defaultScope(options.category, options.dependency);
  }

  /** A plain object safe to log or report (no cause chain, no secrets). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      code: this.code,
      category: this.category,
      retryable: this.retryable,
      scope: this.scope,
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
      ...(this.status !== undefined ? { status: this.status } : {}),
      ...(this.dependency !== undefined ? { dependency: this.dependency } : {}),
    };
  }
}

export function isDaemonError(value: unknown): value is DaemonError {
  return value instanceof DaemonError;
}

/**
 * The scope of a failure whose classifier did not name one. An unhealthy or throttling system concerns every
 * task; a refused credential concerns its system; anything else is the task's own (a classifier that knows
 * better, e.g. a GitHub 403 on one repository, says `repository` itself). Failures with no dependency are ours
 * and the task's: a timeout inside the daemon is not an outage of anything.
 */
export function defaultScope(category: ErrorCategory, dependency?: string): ErrorScope {
  if (category === 'authentication') return dependency ? 'credential' : 'task';
  if (dependency === undefined) return 'task';
  if (category === 'network' || category === 'server' || category === 'timeout') return 'dependency';
  if (category === 'rate_limit' || category === 'quota') return 'dependency';
  return 'task';
}

/** Categories worth retrying by default when an adapter did not say otherwise. */
const RETRYABLE_CATEGORIES: ReadonlySet<ErrorCategory> = new Set(['network', 'rate_limit', 'server', 'timeout']);

/**
 * Coerce anything thrown into a DaemonError. Every `catch` calls this first.
 * Aborts become `cancelled`; plain errors become `unknown` and keep their message.
 */
export function toDaemonError(value: unknown, fallbackCode = 'unexpected-error'): DaemonError {
  if (value instanceof DaemonError) return value;
  // Checked by name, not instanceof: an abort reason may be a DOMException from another realm (jest's VM, workers).
  const name = typeof value === 'object' && value !== null ? (value as { name?: unknown }).name : undefined;
  const text = typeof value === 'object' && value !== null ? (value as { message?: unknown }).message : undefined;
  if (name === 'AbortError' || name === 'CancelError') {
    return new DaemonError('operation was cancelled', { code: 'cancelled', category: 'cancelled', cause: value });
  }
  if (name === 'TimeoutError') {
    return new DaemonError(String(text ?? 'timed out'), {
      code: 'timed-out',
      category: 'timeout',
      retryable: true,
      cause: value,
    });
  }
  const message = typeof text === 'string' ? text : String(value);
  return new DaemonError(message, { code: fallbackCode, category: 'unknown', cause: value });
}

export function isRetryableCategory(category: ErrorCategory): boolean {
  return RETRYABLE_CATEGORIES.has(category);
}

/** Errors thrown when a write carries a stale fencing token or breaks the task state machine. */
export function staleLeaseError(taskId: string): DaemonError {
  return new DaemonError(`task ${taskId}: lease is no longer held by this worker (stale fencing token)`, {
    code: 'stale-lease',
    category: 'conflict',
    dependency: 'task-store',
  });
}

/**
 * A task was refused because a live task (not completed, failed or cancelled) already holds its dedupe key.
 * `existingTaskId` is that task: the caller usually wants it rather than a new one.
 */
export class DuplicateTaskError extends DaemonError {
  readonly existingTaskId: string;
  /** The key, when the refusal was made here (an HTTP answer names only the task). */
  readonly dedupeKey?: string;

  constructor(existingTaskId: string, dedupeKey?: string, options: { dependency?: string; status?: number } = {}) {
    super(`a live task with this dedupeKey already exists: ${existingTaskId}`, {
      code: 'task-duplicate',
      category: 'conflict',
      dependency: options.dependency ?? 'task-store',
      ...(options.status !== undefined ? { status: options.status } : {}),
    });
    this.existingTaskId = existingTaskId;
    if (dedupeKey !== undefined) this.dedupeKey = dedupeKey;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), existingTaskId: this.existingTaskId };
  }
}

export function isDuplicateTaskError(value: unknown): value is DuplicateTaskError {
  return value instanceof DuplicateTaskError;
}
