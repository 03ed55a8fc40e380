/**
 * Malformed bodies for every other write route: claim, heartbeat, status, pull request, feedback, retry and
 * cancel. `$TASK` is a claimed task and `$TOKEN` its lease token (see types.ts).
 */
import { bad, HOSTILE_TEXT, nestedObjects, nestedValue, UNSTORABLE_TEXT, type CorpusRequest } from './types.js';

const each = <T>(values: Record<string, T>, make: (label: string, value: T) => CorpusRequest): CorpusRequest[] =>
  Object.entries(values).map(([label, value]) => make(label, value));

const CLAIM = { worker: 'corpus-worker', limit: 1, leaseMs: 60_000 };
const claim = (name: string, body: Record<string, unknown>, field: string): CorpusRequest => ({
  name: `claim: ${name}`,
  method: 'POST',
  path: '/tasks/claim',
  body: { ...CLAIM, ...body },
  expect: bad(field),
});

const status = (name: string, body: Record<string, unknown>, field: string): CorpusRequest => ({
  name: `status: ${name}`,
  method: 'PUT',
  path: '/tasks/$TASK/status',
  body,
  expect: bad(field),
});

const ERROR = { category: 'agent', code: 'agent-run-error', message: 'the run failed' };
const fail = (name: string, error: Record<string, unknown>, field: string) =>
  status(`failed with ${name}`, { status: 'failed', token: '$TOKEN', error: { ...ERROR, ...error } }, field);
const retry = (name: string, extra: Record<string, unknown>, field: string) =>
  status(`retry ${name}`, { status: 'retry', token: '$TOKEN', error: ERROR, ...extra }, field);

const PR = { token: '$TOKEN', url: 'https://github.com/acme/web/pull/7', number: 7, branch: 'codegen/task-1' };
const pr = (name: string, body: Record<string, unknown>, field: string): CorpusRequest => ({
  name: `pr: ${name}`,
  method: 'PUT',
  path: '/tasks/$TASK/pr',
  body,
  expect: bad(field),
});

const feedback = (name: string, body: unknown, field: string): CorpusRequest => ({
  name: `feedback: ${name}`,
  method: 'POST',
  path: '/tasks/$TASK/feedback',
  body,
  expect: bad(field),
});

export const OTHER_ROUTE_CASES: CorpusRequest[] = [
  // POST /tasks/claim
  ...each({ missing: undefined, number: 7, empty: '', 'a space': 'a b', '201 characters': 'w'.repeat(201) }, (l, v) =>
    claim(`worker ${l}`, { worker: v }, 'worker'),
  ),
  ...each(HOSTILE_TEXT, (label, v) => claim(`worker with ${label}`, { worker: `w${v}` }, 'worker')),
  ...each({ zero: 0, '101': 101, fraction: 1.5, text: '5', null: null, negative: -1 }, (label, v) =>
    claim(`limit ${label}`, { limit: v }, 'limit'),
  ),
  ...each({ '999': 999, 'over an hour': 3_600_001, text: 'soon', negative: -1, huge: 2 ** 53 }, (label, v) =>
    claim(`leaseMs ${label}`, { leaseMs: v }, 'leaseMs'),
  ),
  ...each({ empty: [], text: 'x', '101 ids': Array.from({ length: 101 }, (_, i) => `t${i}`) }, (label, v) =>
    claim(`taskIds ${label}`, { taskIds: v }, 'taskIds'),
  ),
  claim('taskIds with a space', { taskIds: ['ok', 'a b'] }, 'taskIds[1]'),
  claim('taskIds with a number', { taskIds: [7] }, 'taskIds[0]'),
  claim('taskIds with a NUL', { taskIds: ['a\u0000'] }, 'taskIds[0]'),
  claim('an unknown field', { priority: 'high' }, 'priority'),
  // repositoryCap: { default (required), overrides: { "owner/repo": n }, unnamedAs }, caps 0-1000.
  ...each({ text: '2', list: [2], null: null }, (label, v) =>
    claim(`repositoryCap ${label}`, { repositoryCap: v }, 'repositoryCap'),
  ),
  ...each({ missing: undefined, negative: -1, '1001': 1001, fraction: 0.5, text: '2' }, (label, v) =>
    claim(`repositoryCap.default ${label}`, { repositoryCap: { default: v } }, 'repositoryCap.default'),
  ),
  claim('repositoryCap.overrides a list', { repositoryCap: { default: 1, overrides: [1] } }, 'repositoryCap.overrides'),
  claim(
    'repositoryCap.overrides key not a repository',
    { repositoryCap: { default: 1, overrides: { '../..': 1 } } },
    'repositoryCap.overrides',
  ),
  claim(
    'repositoryCap.overrides value negative',
    { repositoryCap: { default: 1, overrides: { 'acme/web': -1 } } },
    'repositoryCap.overrides.acme/web',
  ),
  claim(
    'repositoryCap.unnamedAs not a repository',
    { repositoryCap: { default: 1, unnamedAs: 'no slash' } },
    'repositoryCap.unnamedAs',
  ),
  claim('repositoryCap unknown key', { repositoryCap: { default: 1, max: 2 } }, 'repositoryCap.max'),

  // POST /tasks/:id/heartbeat
  ...each({ missing: undefined, number: 7, NUL: 't\u0000', escape: 't\u001b[0m', 'zero-width': 't\u200b' }, (l, v) => ({
    name: `heartbeat: token ${l}`,
    method: 'POST' as const,
    path: '/tasks/$TASK/heartbeat',
    body: { token: v, leaseMs: 60_000 },
    expect: bad('token'),
  })),
  ...each({ '10': 10, 'two hours': 7_200_000, text: '60s' }, (l, v) => ({
    name: `heartbeat: leaseMs ${l}`,
    method: 'POST' as const,
    path: '/tasks/$TASK/heartbeat',
    body: { token: '$TOKEN', leaseMs: v },
    expect: bad('leaseMs'),
  })),

  // PUT /tasks/:id/status
  status('no status', { token: '$TOKEN' }, 'status'),
  status('unknown status', { status: 'done', token: '$TOKEN' }, 'status'),
  status('status a number', { status: 3 }, 'status'),
  status('completed without a token', { status: 'completed' }, 'token'),
  status('cancelled with a token', { status: 'cancelled', token: '$TOKEN' }, 'status'),
  status('awaiting_agent without agentRun', { status: 'awaiting_agent', token: '$TOKEN' }, 'agentRun'),
  ...each({ zero: 0, fraction: 1.5, text: '5', 'beyond 2^53': 2 ** 53 + 2, null: null }, (label, v) =>
    status(`agentRun.id ${label}`, { status: 'awaiting_agent', token: '$TOKEN', agentRun: { id: v } }, 'agentRun.id'),
  ),
  ...each(
    {
      'ftp URL': 'ftp://codegen.com/run/1',
      'javascript URL': 'javascript:alert(1)',
      'over 2,000 characters': `https://codegen.com/${'r'.repeat(2_000)}`,
      'with an escape': 'https://codegen.com/run/1\u001b[2J',
      'with a NUL': 'https://codegen.com/run/1\u0000',
      'with U+202E': 'https://codegen.com/\u202e1/nur',
    },
    (label, v) =>
      status(
        `agentRun.url ${label}`,
        { status: 'awaiting_agent', token: '$TOKEN', agentRun: { id: 1, url: v } },
        'agentRun.url',
      ),
  ),
  status(
    'agentRun with an unknown field',
    { status: 'awaiting_agent', token: '$TOKEN', agentRun: { id: 1, x: 1 } },
    'agentRun.x',
  ),
  ...each(UNSTORABLE_TEXT, (label, v) =>
    status(`completed note with ${label}`, { status: 'completed', token: '$TOKEN', note: v }, 'note'),
  ),
  status(
    'completed note over 2,000 characters',
    { status: 'completed', token: '$TOKEN', note: 'n'.repeat(2_001) },
    'note',
  ),
  status(
    'completed pr without url',
    { status: 'completed', token: '$TOKEN', pr: { number: 1, branch: 'b' } },
    'pr.url',
  ),
  status('failed without error', { status: 'failed', token: '$TOKEN' }, 'error'),
  ...each(UNSTORABLE_TEXT, (label, v) => fail(`a message with ${label}`, { message: `boom ${v}` }, 'error.message')),
  fail('a message over 4,000 characters', { message: 'm'.repeat(4_001) }, 'error.message'),
  fail('an empty message', { message: '' }, 'error.message'),
  fail('a message that is a number', { message: 500 }, 'error.message'),
  fail('a code with an escape', { code: 'x\u001b[31m' }, 'error.code'),
  fail('a code over 100 characters', { code: 'c'.repeat(101) }, 'error.code'),
  fail('a category with U+202E', { category: 'a\u202eb' }, 'error.category'),
  fail('a category over 50 characters', { category: 'c'.repeat(51) }, 'error.category'),
  fail('an unknown error field', { stack: 'at x' }, 'error.stack'),
  status(
    'failed with retryAt',
    { status: 'failed', token: '$TOKEN', error: ERROR, retryAt: '2030-01-01T00:00:00Z' },
    'retryAt',
  ),
  status(
    'failed with countAttempt text',
    { status: 'failed', token: '$TOKEN', error: ERROR, countAttempt: 'yes' },
    'countAttempt',
  ),
  retry('without retryAt', {}, 'retryAt'),
  ...each(
    {
      'a word': 'tomorrow',
      'no timezone': '2030-01-01T00:00:00',
      'month 13': '2030-13-01T00:00:00Z',
      'year 0': '0000-01-01T00:00:00Z',
      'before 1970': '1969-12-31T23:59:59Z',
      'a six-digit year': '+275760-09-13T00:00:00Z',
      'a number': 1_893_456_000_000,
      'with a NUL': '2030-01-01T00:00:00Z\u0000',
    },
    (label, v) => retry(`retryAt ${label}`, { retryAt: v }, 'retryAt'),
  ),
  status('pending without token, actor with an escape', { status: 'pending', actor: 'a\u001b[8m' }, 'actor'),
  status('cancelled, actor too long', { status: 'cancelled', actor: 'a'.repeat(201) }, 'actor'),
  status('cancelled with an unknown field', { status: 'cancelled', reason: 'x' }, 'reason'),

  // PUT /tasks/:id/pr
  pr('state unknown', { state: 'draft' }, 'state'),
  pr('empty body object', {}, 'state'),
  pr('record without a token', { url: PR.url, number: 7, branch: 'b' }, 'token'),
  ...each(
    { ftp: 'ftp://github.com/x', 'with an escape': `${PR.url}\u001b[2J`, long: `https://x/${'p'.repeat(2_000)}` },
    (l, v) => pr(`url ${l}`, { ...PR, url: v }, 'url'),
  ),
  ...each({ zero: 0, fraction: 7.5, huge: 1e10, text: '7' }, (label, v) =>
    pr(`number ${label}`, { ...PR, number: v }, 'number'),
  ),
  ...each(
    {
      empty: '',
      NUL: 'b\u0000',
      escape: 'b\u001b]0;title\u0007',
      newline: 'b\nc',
      'over 255 characters': 'b'.repeat(256),
    },
    (label, v) => pr(`branch ${label}`, { ...PR, branch: v }, 'branch'),
  ),
  pr('an unknown field', { ...PR, merged: true }, 'merged'),

  // PUT /tasks/:id/intent and POST /tasks/:id/sightings
  ...each(
    {
      missing: undefined,
      'too short': 'abc',
      NUL: 'nonce-123\u0000',
      escape: 'nonce-123\u001b[2J',
      space: 'nonce 1234',
    },
    (label, v): CorpusRequest => ({
      name: `intent: nonce ${label}`,
      method: 'PUT',
      path: '/tasks/$TASK/intent',
      body: { token: '$TOKEN', nonce: v },
      expect: bad('nonce'),
    }),
  ),
  {
    name: 'intent: no token',
    method: 'PUT',
    path: '/tasks/$TASK/intent',
    body: { nonce: 'nonce-1234' },
    expect: bad('token'),
  },
  ...each(
    {
      'runId 0': [{ runId: 0, state: 'live' }, 'runId'],
      'runId text': [{ runId: '7', state: 'live' }, 'runId'],
      'state unknown': [{ runId: 7, state: 'dead' }, 'state'],
      'url with an escape': [{ runId: 7, state: 'live', url: 'https://codegen.com/7\u001b[2J' }, 'url'],
      'intent with U+202E': [{ runId: 7, state: 'live', intent: 'nonce-\u202e1234' }, 'intent'],
      'pr branch with a NUL': [
        { runId: 7, state: 'succeeded', pr: { url: 'https://x/p/1', number: 1, branch: 'b\u0000' } },
        'pr.branch',
      ],
      'an unknown field': [{ runId: 7, state: 'live', token: 'x' }, 'token'],
    } as Record<string, [Record<string, unknown>, string]>,
    (label, [body, field]): CorpusRequest => ({
      name: `sightings: ${label}`,
      method: 'POST',
      path: '/tasks/$TASK/sightings',
      body,
      expect: bad(field),
    }),
  ),

  // POST /tasks/:id/feedback
  feedback('no feedback', {}, 'feedback'),
  feedback('feedback is text', { feedback: 'be brief' }, 'feedback'),
  feedback('feedback is a list', { feedback: ['x'] }, 'feedback'),
  feedback('feedback is empty', { feedback: {} }, 'feedback'),
  ...each(UNSTORABLE_TEXT, (label, v) => feedback(`value with ${label}`, { feedback: { note: v } }, 'feedback.note')),
  ...each(UNSTORABLE_TEXT, (label, v) => feedback(`key with ${label}`, { feedback: { [`k${v}`]: 1 } }, 'feedback')),
  feedback('33 levels deep', { feedback: nestedValue(33) }, 'feedback'),
  feedback('over 64 KiB', { feedback: { log: 'x'.repeat(65_536) } }, 'feedback'),
  {
    name: 'feedback: 5,000 levels deep',
    method: 'POST',
    path: '/tasks/$TASK/feedback',
    raw: `{"feedback":${nestedObjects(5_000)}}`,
    expect: bad('feedback'),
  },
  feedback('actor with a space', { feedback: { a: 1 }, actor: 'a b' }, 'actor'),
  feedback('an unknown field', { feedback: { a: 1 }, at: 'now' }, 'at'),

  // POST /tasks/:id/retry and /cancel
  ...(['retry', 'cancel'] as const).flatMap((verb): CorpusRequest[] => [
    {
      name: `${verb}: actor a number`,
      method: 'POST',
      path: `/tasks/$TASK/${verb}`,
      body: { actor: 7 },
      expect: bad('actor'),
    },
    {
      name: `${verb}: actor with U+202E`,
      method: 'POST',
      path: `/tasks/$TASK/${verb}`,
      body: { actor: 'a\u202e' },
      expect: bad('actor'),
    },
    {
      name: `${verb}: an unknown field`,
      method: 'POST',
      path: `/tasks/$TASK/${verb}`,
      body: { force: true },
      expect: bad('force'),
    },
    { name: `${verb}: a list body`, method: 'POST', path: `/tasks/$TASK/${verb}`, body: [], expect: bad('body') },
  ]),
];
