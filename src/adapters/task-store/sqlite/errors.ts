/**
 * Failures of the SQLite store, classified once at the edge into DaemonErrors with the codes the PostgreSQL store
 * uses (dependency `task-store`), so the daemon reacts to both alike. better-sqlite3 throws a SqliteError whose
 * `code` is SQLite's extended result code name (SQLITE_BUSY, SQLITE_CONSTRAINT_CHECK, ...).
 */
import { DaemonError, isDaemonError, type ErrorCategory } from '../../../domain/errors.js';
import type { TaskStore } from '../../../pipeline/ports.js';

type Rule = { code: string; category: ErrorCategory; retryable: boolean };

/** Result code prefix -> how the daemon treats it. First match wins. */
const RULES: Array<[string, Rule]> = [
  // Another connection held a lock past busy_timeout: try again shortly.
  ['SQLITE_BUSY', { code: 'task-store-contention', category: 'server', retryable: true }],
  ['SQLITE_LOCKED', { code: 'task-store-contention', category: 'server', retryable: true }],
  ['SQLITE_CONSTRAINT', { code: 'task-store-rejected', category: 'conflict', retryable: false }],
  ['SQLITE_MISMATCH', { code: 'task-store-rejected', category: 'validation', retryable: false }],
  ['SQLITE_TOOBIG', { code: 'task-store-rejected', category: 'validation', retryable: false }],
  // The disk is full or failing: may pass (space freed), so retried with backoff.
  ['SQLITE_FULL', { code: 'task-store-unavailable', category: 'server', retryable: true }],
  ['SQLITE_IOERR', { code: 'task-store-unavailable', category: 'server', retryable: true }],
  ['SQLITE_CORRUPT', { code: 'task-store-corrupt', category: 'server', retryable: false }],
  ['SQLITE_NOTADB', { code: 'task-store-corrupt', category: 'server', retryable: false }],
  ['SQLITE_CANTOPEN', { code: 'task-store-misconfigured', category: 'configuration', retryable: false }],
  ['SQLITE_READONLY', { code: 'task-store-misconfigured', category: 'configuration', retryable: false }],
  ['SQLITE_PERM', { code: 'task-store-misconfigured', category: 'configuration', retryable: false }],
  ['SQLITE_ERROR', { code: 'task-store-misconfigured', category: 'configuration', retryable: false }],
];

/** Turn anything the SQLite store threw into a DaemonError; DaemonErrors pass through unchanged. */
export function classifySqliteError(error: unknown): DaemonError {
  if (isDaemonError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const raw = (error as { code?: unknown } | null)?.code;
  const sqliteCode = typeof raw === 'string' && raw.startsWith('SQLITE_') ? raw : undefined;
  if (sqliteCode) {
    const rule = RULES.find(([prefix]) => sqliteCode === prefix || sqliteCode.startsWith(`${prefix}_`))?.[1];
    const { code, category, retryable } = rule ?? { code: 'task-store-failed', category: 'server', retryable: false };
    return new DaemonError(`task store: ${message} (${sqliteCode})`, {
      code,
      category,
      retryable,
      dependency: 'task-store',
      cause: error,
    });
  }
  // "The database connection is not open": the store was closed under a caller.
  if (error instanceof TypeError && /not open/i.test(message)) {
    return new DaemonError(`task store: ${message}`, {
      code: 'task-store-closed',
      category: 'server',
      dependency: 'task-store',
      cause: error,
    });
  }
  return new DaemonError(`task store: ${message}`, {
    code: 'task-store-bug',
    category: 'unknown',
    dependency: 'task-store',
    cause: error,
  });
}

/** Wrap every method of `store` so what leaves it is a classified DaemonError. */
export function classifyingSqliteStore<S extends TaskStore>(store: S): S {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(store) as Array<[string, (...args: unknown[]) => Promise<unknown>]>) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await method(...args);
      } catch (error) {
        throw classifySqliteError(error);
      }
    };
  }
  return wrapped as unknown as S;
}
