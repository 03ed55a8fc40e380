import { describe, expect, it } from '@jest/globals';
import { RequestError } from '@octokit/request-error';
import { DaemonError } from '../../domain/errors.js';
import { classifyGitHubError } from './classify.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const request = {
  method: 'POST' as const,
  url: 'https://api.github.com/x',
  headers: { authorization: 'token ghp_secret' },
};

function httpError(status: number, data: unknown, headers: Record<string, string> = {}): RequestError {
  const message = typeof data === 'object' && data && 'message' in data ? String(data.message) : `HTTP ${status}`;
  return new RequestError(message, status, { request, response: { status, url: request.url, headers, data } });
}

const classify = (error: unknown) => classifyGitHubError(error, 'pulls.create', NOW);

describe('classifyGitHubError', () => {
  it('maps statuses to categories and codes', () => {
    const cases: Array<[RequestError, Partial<DaemonError>]> = [
      [httpError(401, { message: 'Bad credentials' }), { code: 'github-unauthorized', category: 'authentication' }],
      [httpError(403, { message: 'Resource not accessible' }), { code: 'github-forbidden', retryable: false }],
      [httpError(404, { message: 'Not Found' }), { code: 'github-not-found', category: 'validation' }],
      [httpError(409, { message: 'Conflict' }), { code: 'github-conflict', category: 'conflict' }],
      [
        httpError(502, { message: 'Bad gateway' }),
        { code: 'github-server-error', category: 'server', retryable: true },
      ],
      [httpError(418, 'teapot'), { code: 'github-request-rejected', category: 'validation' }],
    ];
    for (const [error, expected] of cases) {
      expect(classify(error)).toMatchObject({ ...expected, dependency: 'github', status: error.status });
    }
  });

  it('reads the wait of a rate limit from retry-after (seconds or date) or x-ratelimit-reset', () => {
    const secondary = { message: 'You have exceeded a secondary rate limit' };
    expect(classify(httpError(403, secondary, { 'retry-after': '30' }))).toMatchObject({
      code: 'github-secondary-rate-limit',
      category: 'rate_limit',
      retryable: true,
      retryAfterMs: 30_000,
    });
    const date = new Date(NOW + 5_000).toUTCString();
    expect(classify(httpError(429, { message: 'slow down' }, { 'retry-after': date })).retryAfterMs).toBe(5_000);
    const primary = httpError(
      403,
      { message: 'API rate limit exceeded' },
      {
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(NOW / 1000 + 120),
      },
    );
    expect(classify(primary)).toMatchObject({ code: 'github-rate-limited', retryAfterMs: 120_000 });
    // A secondary limit with no hint: GitHub says wait at least a minute.
    expect(classify(httpError(403, secondary)).retryAfterMs).toBe(60_000);
  });

  it("names the 422s callers act on and joins GitHub's messages", () => {
    const exists = httpError(422, {
      message: 'Validation Failed',
      errors: [{ resource: 'PullRequest', code: 'custom', message: 'A pull request already exists for acme:b.' }],
    });
    expect(classify(exists)).toMatchObject({ code: 'github-pr-exists', category: 'conflict' });
    const author = httpError(422, { message: 'Review cannot be requested from pull request author.' });
    expect(classify(author).code).toBe('github-review-from-author');
    const invalid = httpError(422, {
      message: 'Validation Failed',
      errors: [{ resource: 'PullRequest', field: 'base', code: 'invalid' }, { message: 'second' }],
    });
    expect(classify(invalid)).toMatchObject({ code: 'github-validation-failed', category: 'validation' });
    expect(classify(invalid).message).toBe('GitHub pulls.create: validation failed: PullRequest base invalid; second');
  });

  it('treats network failures as retryable, aborts as cancelled, timeouts as timeouts', () => {
    const network = new RequestError('connect ECONNREFUSED', 500, { request });
    network.cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(classify(network)).toMatchObject({ code: 'github-network', category: 'network', retryable: true });
    const abort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
    expect(classify(abort)).toMatchObject({ code: 'cancelled', category: 'cancelled', retryable: false });
    const timeout = new RequestError('aborted due to timeout', 500, { request });
    timeout.cause = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(classify(timeout)).toMatchObject({ code: 'github-timeout', category: 'timeout', retryable: true });
    expect(classify(new Error('boom'))).toMatchObject({ code: 'github-unexpected', category: 'unknown' });
  });

  it('passes DaemonErrors through and keeps secrets out of messages', () => {
    const own = new DaemonError('x', { code: 'c', category: 'unknown' });
    expect(classify(own)).toBe(own);
    expect(classify(httpError(401, { message: 'Bad credentials' })).message).not.toContain('ghp_secret');
  });
});
