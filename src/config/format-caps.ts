/**
 * The per-repository in-flight caps (REPO_MAX_IN_FLIGHT_OVERRIDES): a JSON object keyed by "owner/repo", like
 * GITHUB_REPOSITORIES, each value a whole number of tasks (0: no cap for that repository).
 */
import { TASK_API_LIMITS } from '../domain/task-limits.js';
import { showShort, type ValueFormat } from './format-kit.js';

const { min, max } = TASK_API_LIMITS.repositoryCap;

/** Reads the environment's JSON; an empty value is no overrides, unreadable JSON is kept for `check`. */
function readCaps(raw: string): unknown {
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** The format of processing.repoMaxInFlightOverrides, given the repository rule. */
export function repoCaps(isRepository: (value: string) => boolean): ValueFormat {
  return {
    expected: `a JSON object keyed by "owner/repo", each value a whole number from ${min} (no cap) to ${max}, e.g. {"acme/web": 2}`,
    coerce: readCaps,
    check: (value) => {
      if (typeof value === 'string') return 'is not valid JSON';
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not a JSON object';
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length > TASK_API_LIMITS.capOverridesMax) {
        return `has more than ${TASK_API_LIMITS.capOverridesMax} repositories`;
      }
      for (const [repo, cap] of entries) {
        if (!isRepository(repo)) return `has a key that is not owner/repo: ${showShort(repo)}`;
        if (typeof cap !== 'number' || !Number.isInteger(cap) || cap < min || cap > max) {
          return `has "${repo}" set to something other than a whole number from ${min} to ${max}`;
        }
      }
      return undefined;
    },
  };
}
