/**
 * The per-repository in-flight cap of a claim (ClaimOptions.repositoryCap), checked once for every store. A
 * repository's in-flight tasks are those held under a live lease (claimed or awaiting_agent, lease not expired):
 * a task whose worker was lost is claimable again and counts once it is re-claimed. Tasks that name no
 * repository count as `unnamedAs` when given, else as one group of their own (the empty name).
 * No Node-only imports: the Task API runs this in a Worker too.
 */
import { DaemonError } from '../../domain/errors.js';
import { TASK_API_LIMITS } from '../../domain/task-limits.js';
import { REPOSITORY_PATTERN } from '../../domain/task-text.js';
import type { RepositoryCap } from '../../pipeline/ports.js';

const { min, max } = TASK_API_LIMITS.repositoryCap;

function invalid(field: string, message: string): DaemonError {
  return new DaemonError(`repositoryCap.${field} ${message}`, {
    code: 'invalid-argument',
    category: 'validation',
    dependency: 'task-store',
  });
}

function checkCount(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `must be a whole number from ${min} (no cap) to ${max}, got ${String(value)}`);
  }
  return value;
}

/** A checked cap in the shape the stores use. */
export interface ActiveCap {
  default: number;
  /** Overrides by repository name; a 0 entry lifts the default for that repository. */
  overrides: Record<string, number>;
  /** Name under which tasks without a repository are counted ('' when none was given). */
  unnamedAs: string;
}

/**
 * Check a claim's cap; undefined when it caps nothing (absent, or every cap 0), so the store takes its uncapped
 * path. Bad values are refused with code invalid-argument naming the field.
 */
export function activeCap(cap: RepositoryCap | undefined): ActiveCap | undefined {
  if (cap === undefined) return undefined;
  const fallback = checkCount(cap.default, 'default');
  const overrides: Record<string, number> = {};
  const entries = Object.entries(cap.overrides ?? {});
  if (entries.length > TASK_API_LIMITS.capOverridesMax) {
    throw invalid('overrides', `must name at most ${TASK_API_LIMITS.capOverridesMax} repositories`);
  }
  for (const [repo, value] of entries) {
    if (!REPOSITORY_PATTERN.test(repo)) throw invalid('overrides', `has a key that is not "owner/repo"`);
    overrides[repo] = checkCount(value, `overrides["${repo}"]`);
  }
  if (cap.unnamedAs !== undefined && cap.unnamedAs !== '' && !REPOSITORY_PATTERN.test(cap.unnamedAs)) {
    throw invalid('unnamedAs', 'must be "owner/repo"');
  }
  if (fallback === 0 && Object.values(overrides).every((n) => n === 0)) return undefined;
  return { default: fallback, overrides, unnamedAs: cap.unnamedAs ?? '' };
}

/** The cap of `repository` (0: none). */
export function capOf(cap: ActiveCap, repository: string): number {
  return Object.hasOwn(cap.overrides, repository) ? (cap.overrides[repository] ?? 0) : cap.default;
}
