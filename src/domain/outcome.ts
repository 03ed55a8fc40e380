/** What one attempt at a task came to. Consumed with exhaustive switches. */
import type { PullRequestRef } from './task.js';
import type { DaemonError } from './errors.js';

export type TaskOutcome =
  | { kind: 'completed'; pr?: PullRequestRef; note?: string; durationMs: number }
  | { kind: 'retry-scheduled'; error: DaemonError; retryAt: string; reason?: string; durationMs: number }
  | { kind: 'failed'; error: DaemonError; durationMs: number }
  | { kind: 'released'; reason: string; durationMs: number }
  | { kind: 'lease-lost'; durationMs: number };
