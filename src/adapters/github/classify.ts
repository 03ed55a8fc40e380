/**
 * The one place GitHub failures become DaemonErrors (dependency `github`). Octokit throws a RequestError with
 * `status` and `response` for HTTP errors, a RequestError with status 500 and no response for network failures
 * (the fetch error is its `cause`), and the raw AbortError when the caller's signal fired.
 */
import { DaemonError, type DaemonErrorOptions } from '../../domain/errors.js';
import { createRedactor } from '../../domain/redact.js';

interface HttpLikeError {
  name?: string;
  message?: string;
  status?: number;
  code?: string;
  cause?: unknown;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

// GitHub says: with neither retry-after nor a reset header, wait at least a minute after a secondary limit.
const SECONDARY_FALLBACK_MS = 60_000;
/**
 * GitHub gives these 422s no code of their own, only a message; name them here so callers branch on a code.
 * Renovate matches the same texts (lib/workers/repository/update/pr/index.ts, lib/util/http/github.ts).
 */
const KNOWN_422: ReadonlyArray<readonly [RegExp, string]> = [
  [/A pull request already exists/i, 'github-pr-exists'],
  [/Review cannot be requested from pull request author/i, 'github-review-from-author'],
  [/No commits between/i, 'github-no-commits'],
];
/** Masks credential-shaped text (no known secrets: the adapter's own token is masked by the daemon's redactor). */
const SHAPES_ONLY = createRedactor();

/** Operations whose 404 means the repository itself is missing or hidden from the credential. */
const REPOSITORY_OPERATIONS: ReadonlySet<string> = new Set(['pulls.create', 'pulls.list']);
const NETWORK_CODES = /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|UND_ERR_\w+)$/;

function chain(error: unknown): HttpLikeError[] {
  const out: HttpLikeError[] = [];
  for (let e = error, i = 0; typeof e === 'object' && e !== null && i < 5; e = (e as HttpLikeError).cause, i++) {
    out.push(e as HttpLikeError);
  }
  return out;
}

/** GitHub's 422 body: `{ message, errors: [{ message } | { resource, field, code }] }`. */
function validationDetail(data: unknown): string {
  if (typeof data !== 'object' || data === null) return '';
  const { message, errors } = data as { message?: unknown; errors?: unknown };
  const parts = Array.isArray(errors)
    ? errors.map((e: unknown) => {
        if (typeof e === 'string') return e;
        const { message: m, resource, field, code } = (e ?? {}) as Record<string, unknown>;
        return typeof m === 'string' ? m : [resource, field, code].filter((x) => typeof x === 'string').join(' ');
      })
    : [];
  const detail = parts.filter(Boolean).join('; ');
  return detail || (typeof message === 'string' ? message : '');
}

function retryAfterMs(headers: Record<string, string | number | undefined>, now: number): number | undefined {
  const after = headers['retry-after'];
  if (after !== undefined && after !== '') {
    const seconds = Number(after);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(String(after));
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  const reset = Number(headers['x-ratelimit-reset']);
  if (headers['x-ratelimit-remaining'] === '0' && Number.isFinite(reset) && reset > 0) {
    return Math.max(0, reset * 1000 - now);
  }
  return undefined;
}

/**
 * Turn anything thrown by an Octokit call into a DaemonError. `operation` names the call in the message
 * (e.g. `pulls.create`); `now` is the clock for x-ratelimit-reset.
 */
export function classifyGitHubError(error: unknown, operation = 'request', now: number = Date.now()): DaemonError {
  if (error instanceof DaemonError) return error;
  const links = chain(error);
  // GitHub (or a proxy before it) can echo our Authorization header in an error body: mask anything shaped like
  // a credential before the text becomes an error message anyone may log or store.
  const make = (message: string, options: Omit<DaemonErrorOptions, 'dependency' | 'cause'>) =>
    new DaemonError(SHAPES_ONLY.text(`GitHub ${operation}: ${message}`), {
      ...options,
      dependency: 'github',
      cause: error,
    });

  if (links.some((e) => e.name === 'AbortError')) {
    return make('cancelled', { code: 'cancelled', category: 'cancelled' });
  }
  if (links.some((e) => e.name === 'TimeoutError')) {
    return make('timed out', { code: 'github-timeout', category: 'timeout', retryable: true });
  }
  const top = links[0] ?? {};
  const status = typeof top.status === 'number' ? top.status : undefined;
  const response = top.response;
  if (status === undefined || !response) {
    const network = links.some((e) => (e.code && NETWORK_CODES.test(e.code)) || e.name === 'HttpError');
    // Octokit reports a failed fetch as RequestError 500 without a response.
    if (network || status !== undefined || (top.name === 'TypeError' && top.message === 'fetch failed')) {
      return make(`network error: ${links.at(-1)?.message ?? 'no response'}`, {
        code: 'github-network',
        category: 'network',
        retryable: true,
      });
    }
    return make(top.message ?? String(error), { code: 'github-unexpected', category: 'unknown' });
  }

  const headers = response.headers ?? {};
  const data = response.data as { message?: unknown } | undefined;
  const message = typeof data?.message === 'string' ? data.message : (top.message ?? `HTTP ${status}`);
  const base = { status };
  if (status === 401)
    return make('bad credentials', { ...base, code: 'github-unauthorized', category: 'authentication' });
  if (status === 403 || status === 429) {
    const wait = retryAfterMs(headers, now);
    const secondary = /secondary rate|abuse/i.test(message);
    if (status === 429 || wait !== undefined || secondary || /rate limit/i.test(message)) {
      return make(`rate limited: ${message}`, {
        ...base,
        code: secondary ? 'github-secondary-rate-limit' : 'github-rate-limited',
        category: 'rate_limit',
        retryable: true,
        retryAfterMs: wait ?? SECONDARY_FALLBACK_MS,
      });
    }
    // Not a rate limit: the credential works but may not touch this repository ("Resource not accessible by
    // integration"). That concerns the repository's tasks, not every task and not the credential as a whole.
    return make(
      `forbidden: ${message}. Give the GitHub token or App write access to contents and pull requests of this repository`,
      { ...base, code: 'github-forbidden', category: 'configuration', scope: 'repository' },
    );
  }
  if (status === 404) {
    // Listing or opening PRs answers 404 when the repository does not exist or the credential cannot see it.
    const repositoryLevel = REPOSITORY_OPERATIONS.has(operation);
    return make(
      repositoryLevel
        ? `not found: ${message}. Check that the repository exists and that the GitHub token or App can see it`
        : `not found: ${message}`,
      {
        ...base,
        code: 'github-not-found',
        category: 'validation',
        ...(repositoryLevel ? { scope: 'repository' } : {}),
      },
    );
  }
  if (status === 409) return make(`conflict: ${message}`, { ...base, code: 'github-conflict', category: 'conflict' });
  if (status === 422) {
    const detail = validationDetail(response.data) || message;
    const code = KNOWN_422.find(([pattern]) => pattern.test(`${message} ${detail}`))?.[1] ?? 'github-validation-failed';
    return make(`validation failed: ${detail}`, {
      ...base,
      code,
      category: code === 'github-pr-exists' ? 'conflict' : 'validation',
    });
  }
  if (status >= 500) {
    return make(`server error ${status}: ${message}`, {
      ...base,
      code: 'github-server-error',
      category: 'server',
      retryable: true,
    });
  }
  return make(`rejected (${status}): ${message}`, { ...base, code: 'github-request-rejected', category: 'validation' });
}
