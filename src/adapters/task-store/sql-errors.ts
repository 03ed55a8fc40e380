/**
 * Failures of the SQL task store, classified once at the edge into DaemonErrors (dependency `task-store`).
 * PostgreSQL and PGlite both report a SQLSTATE in `code`; transport failures carry a Node error code or none.
 * No Node-only imports: this runs in the Task API's Worker too.
 */
import { DaemonError, isDaemonError, type ErrorCategory } from '../../domain/errors.js';
import type { SqlClient } from './sql.js';

const dependency = 'task-store';

/** Node socket errors: the database could not be reached. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

type Rule = { code: string; category: ErrorCategory; retryable: boolean };

/** SQLSTATE (exact, or its two-character class) -> how the daemon should treat it. First match wins. */
const SQLSTATE_RULES: Array<[string, Rule]> = [
  ['57014', { code: 'task-store-timeout', category: 'timeout', retryable: true }], // query_canceled
  ['57P01', { code: 'task-store-unavailable', category: 'network', retryable: true }], // admin_shutdown
  ['57P02', { code: 'task-store-unavailable', category: 'network', retryable: true }], // crash_shutdown
  ['57P03', { code: 'task-store-unavailable', category: 'network', retryable: true }], // cannot_connect_now
  ['53300', { code: 'task-store-unavailable', category: 'server', retryable: true }], // too_many_connections
  ['40001', { code: 'task-store-contention', category: 'server', retryable: true }], // serialization_failure
  ['40P01', { code: 'task-store-contention', category: 'server', retryable: true }], // deadlock_detected
  ['3D000', { code: 'task-store-misconfigured', category: 'configuration', retryable: false }], // no database
  ['3F000', { code: 'task-store-misconfigured', category: 'configuration', retryable: false }], // no schema
  ['42P01', { code: 'task-store-misconfigured', category: 'configuration', retryable: false }], // no table
  ['08', { code: 'task-store-unavailable', category: 'network', retryable: true }], // connection_exception
  ['28', { code: 'task-store-auth', category: 'authentication', retryable: false }], // invalid_authorization
  ['53', { code: 'task-store-unavailable', category: 'server', retryable: true }], // insufficient_resources
  ['22', { code: 'task-store-rejected', category: 'validation', retryable: false }], // data_exception
  ['23', { code: 'task-store-rejected', category: 'conflict', retryable: false }], // integrity_constraint
];

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** SQLSTATE of a driver error, when it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = errorCode(error);
  return code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Turn anything a driver threw into a DaemonError; DaemonErrors pass through unchanged. */
export function classifySqlError(error: unknown): DaemonError {
  if (isDaemonError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const state = sqlState(error);
  if (state) {
    const rule = SQLSTATE_RULES.find(([key]) => state === key || (key.length === 2 && state.startsWith(key)))?.[1];
    const { code, category, retryable } = rule ?? { code: 'task-store-failed', category: 'server', retryable: false };
    return new DaemonError(`task store: ${message} (SQLSTATE ${state})`, {
      code,
      category,
      retryable,
      dependency,
      cause: error,
    });
  }
  const nodeCode = errorCode(error);
  if (nodeCode && NETWORK_CODES.has(nodeCode)) {
    return new DaemonError(`task store unreachable: ${nodeCode}`, {
      code: 'task-store-unreachable',
      category: 'network',
      retryable: true,
      dependency,
      cause: error,
    });
  }
  if (error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError) {
    return new DaemonError(`task store: ${message}`, {
      code: 'task-store-bug',
      category: 'unknown',
      dependency,
      cause: error,
    });
  }
  // The driver failed without naming why (pg: "Connection terminated unexpectedly"): a transport problem.
  return new DaemonError(`task store: ${message}`, {
    code: 'task-store-failed',
    category: 'network',
    retryable: true,
    dependency,
    cause: error,
  });
}

/** Wrap a SqlClient so every failure leaving it is already a classified DaemonError. */
export function classifyingClient(sql: SqlClient): SqlClient {
  return {
    async query(text, params, signal) {
      try {
        return await sql.query(text, params, signal);
      } catch (error) {
        throw classifySqlError(error);
      }
    },
    async transaction(fn, signal) {
      try {
        return await sql.transaction((tx) => fn(classifyingClient(tx)), signal);
      } catch (error) {
        throw classifySqlError(error);
      }
    },
    close: () => sql.close(),
  };
}

/** Refuse to start work on an aborted signal. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new DaemonError('task store call was cancelled', {
      code: 'cancelled',
      category: 'cancelled',
      cause: signal.reason,
    });
  }
}

export function taskNotFoundError(taskId: string): DaemonError {
  return new DaemonError(`task ${taskId} does not exist`, {
    code: 'task-not-found',
    category: 'validation',
    dependency,
  });
}

export function taskExistsError(taskId: string): DaemonError {
  return new DaemonError(`task ${taskId} already exists`, { code: 'task-exists', category: 'conflict', dependency });
}
