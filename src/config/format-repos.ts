/**
 * The per-repository overrides (GITHUB_REPOSITORIES): a JSON object keyed by "owner/repo". Each entry is
 * checked key by key with the same rules as the global PR settings, and a problem names the entry and key.
 */
import { isValidBranchName } from '../prompt/git-naming.js';
import { checkList, hasControlChar, showShort, type ValueFormat } from './format-kit.js';

const LIST_KEYS = ['labels', 'reviewers', 'teamReviewers', 'assignees'] as const;
const ALLOWED = [...LIST_KEYS, 'baseBranch', 'draft'];

/** Reads the environment's JSON; an empty value is no overrides, unreadable JSON is kept for `check`. */
function readOverrides(raw: string): unknown {
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function entryProblem(repo: string, override: unknown, isLogin: (value: string) => boolean): string | undefined {
  if (typeof override !== 'object' || override === null || Array.isArray(override)) {
    return `has "${repo}" set to something other than an object`;
  }
  for (const [key, value] of Object.entries(override as Record<string, unknown>)) {
    if (!ALLOWED.includes(key))
      return `has an unknown key ${showShort(key)} under "${repo}" (allowed: ${ALLOWED.join(', ')})`;
    if (key === 'draft' && typeof value !== 'boolean') return `has "${repo}".draft that is not true or false`;
    if (key === 'baseBranch' && (typeof value !== 'string' || !isValidBranchName(value))) {
      return `has "${repo}".baseBranch that is not a git branch name`;
    }
    const item =
      key === 'labels'
        ? (v: string) => v.trim() !== '' && v.length <= 50 && !hasControlChar(v)
        : key === 'teamReviewers'
          ? (v: string) => /^[A-Za-z0-9_.-]{1,100}$/.test(v)
          : isLogin;
    if ((LIST_KEYS as readonly string[]).includes(key)) {
      // A list here is always JSON, so a comma-separated string is a mistake worth naming.
      const problem = Array.isArray(value) ? checkList(value, item) : 'is not a JSON array';
      if (problem) return `has "${repo}".${key} that ${problem}`;
    }
  }
  return undefined;
}

/** The format of github.repositories, given the repository and login rules. */
export function repoOverrides(
  isRepository: (value: string) => boolean,
  isLogin: (value: string) => boolean,
): ValueFormat {
  return {
    expected:
      'a JSON object keyed by "owner/repo", each value holding any of labels, reviewers, teamReviewers, assignees ' +
      '(JSON arrays), baseBranch (a branch name) and draft (true or false)',
    coerce: readOverrides,
    check: (value) => {
      if (typeof value === 'string') return 'is not valid JSON';
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not a JSON object';
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length > 1_000) return 'has more than 1000 repositories';
      for (const [repo, override] of entries) {
        if (!isRepository(repo)) return `has a key that is not owner/repo: ${showShort(repo)}`;
        const problem = entryProblem(repo, override, isLogin);
        if (problem) return problem;
      }
      return undefined;
    },
  };
}
