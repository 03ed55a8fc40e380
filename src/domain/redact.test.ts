import { describe, expect, it } from '@jest/globals';
import { createRedactor, REDACTED } from './redact.js';

describe('createRedactor', () => {
  const redact = createRedactor(['cg-test-token-0123456789abcdef', 'cf-task-api-key-42', 'short']);

  it('masks every configured secret verbatim, longest first', () => {
    expect(redact.text('key cg-test-token-0123456789abcdef and cf-task-api-key-42')).toBe(
      `key ${REDACTED} and ${REDACTED}`,
    );
    // Too short to mask verbatim without masking ordinary words.
    expect(redact.text('a short note')).toBe('a short note');
  });

  it.each([
    ['an echoed Authorization header', 'Authorization: Bearer abc.def-123_456', `Authorization: ${REDACTED}`],
    ['a bearer value', 'sent Bearer abcdef123456 to the API', `sent Bearer ${REDACTED} to the API`],
    ['a GitHub token header', 'authorization: token ghp_0123456789abcdefABCD0123', `authorization: ${REDACTED}`],
    ['a GitHub token anywhere', 'x ghs_abcdefghijklmnop0123456789 y', `x ${REDACTED} y`],
    ['a fine-grained PAT', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', REDACTED],
    ['URL user-info', 'postgres://user:s3cret-pass@db:5432/x', `postgres://${REDACTED}@db:5432/x`],
    ['a JWT', 'jwt eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjM0NSJ9.c2lnbmF0dXJlLXRleHQ', `jwt ${REDACTED}`],
    ['a PEM key', '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----', REDACTED],
    ['key=value secrets', 'api_key=abcd1234&x=1 password: hunter22', `api_key=${REDACTED}&x=1 password: ${REDACTED}`],
  ])('masks %s', (_name, input, expected) => {
    expect(redact.text(input)).toBe(expected);
  });

  it('leaves ordinary prose and our own messages readable', () => {
    for (const text of [
      'the Codegen token was refused; set CODEGEN_API_KEY',
      'task t-1: lease is no longer held by this worker (stale fencing token)',
      'GitHub pulls.create: validation failed: A pull request already exists for acme:codegen/task-1',
      'basic auth is not configured',
    ]) {
      expect(redact.text(text)).toBe(text);
    }
  });

  it('walks objects, arrays and errors, and learns secrets later', () => {
    const later = createRedactor();
    later.add('postgres://me:pa55word-x@db/tasks');
    const err = Object.assign(new Error('login with pa55word-x failed'), { code: 'E' });
    expect(later.deep({ a: ['pa55word-x'], err })).toEqual({
      a: [REDACTED],
      err: expect.objectContaining({ message: `login with ${REDACTED} failed`, code: 'E' }),
    });
  });
});
