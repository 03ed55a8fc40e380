/**
 * Codegen's agent-run status is a free string (the spec has no enum, and docs, SDK and first-party clients
 * disagree on case and spelling). This folds every spelling we know of into the few states the daemon acts on.
 */
import type { AgentRunState } from '../../pipeline/ports.js';

/**
 * Upper-cased status -> state. Sources: the Raycast client's AgentRunStatus enum ("matching backend
 * AgentRunStatusType"), the Codegen CLI/TUI, and the lowercase spellings in the docs and SDK README.
 */
const STATUS_TABLE: ReadonlyMap<string, AgentRunState> = new Map<string, AgentRunState>([
  ['COMPLETE', 'succeeded'],
  ['COMPLETED', 'succeeded'],
  ['ERROR', 'failed'],
  ['FAILED', 'failed'],
  ['CANCELLED', 'failed'],
  ['STOPPED', 'failed'],
  ['TIMEOUT', 'failed'],
  ['MAX_ITERATIONS_REACHED', 'failed'],
  ['OUT_OF_TOKENS', 'failed'],
  ['ACTIVE', 'in_progress'],
  ['RUNNING', 'in_progress'],
  ['PENDING', 'in_progress'],
  ['EVALUATION', 'in_progress'],
  ['QUEUED', 'in_progress'],
  ['IN_PROGRESS', 'in_progress'],
  ['PAUSED', 'paused'],
]);

/**
 * Classify a Codegen run status, case-insensitively. Anything unrecognised (and null) is `unknown`, which the
 * caller treats as "keep polling, but do not wait forever": a new backend status must not be read as success.
 */
export function classifyRunStatus(status: string | null | undefined): AgentRunState {
  if (typeof status !== 'string') return 'unknown';
  return STATUS_TABLE.get(status.trim().toUpperCase()) ?? 'unknown';
}

/** True for states after which the run will not change on its own (paused waits for a resume). */
export function isFinalRunState(state: AgentRunState): boolean {
  return state === 'succeeded' || state === 'failed';
}
