/**
 * Malformed requests below the level of one field: bodies that are not JSON objects, wrong content types,
 * bytes that are not UTF-8, repeated keys, batches, query strings, page cursors, path ids and credentials.
 */
import { bad, cursorOf, nestedObjects, type CorpusRequest } from './types.js';

const TASK = '{"title":"t","description":"d"}';
const post = (name: string, raw: string, field: string, contentType?: string | null): CorpusRequest => ({
  name: `body: ${name}`,
  method: 'POST',
  path: '/tasks',
  raw,
  ...(contentType !== undefined ? { contentType } : {}),
  expect: bad(field),
});
const mediaType = (name: string, contentType: string | null): CorpusRequest => ({
  name: `content type: ${name}`,
  method: 'POST',
  path: '/tasks',
  raw: TASK,
  contentType,
  expect: { status: 415, field: 'content-type', error: 'unsupported-media-type' },
});
const batch = (name: string, body: unknown, field: string): CorpusRequest => ({
  name: `batch: ${name}`,
  method: 'POST',
  path: '/tasks',
  body,
  expect: bad(field),
});
const list = (name: string, query: string, field: string, error?: string): CorpusRequest => ({
  name: `list: ${name}`,
  method: 'GET',
  path: `/tasks?${query}`,
  expect: bad(field, error),
});
const cursor = (name: string, value: unknown): CorpusRequest =>
  list(`cursor ${name}`, `cursor=${encodeURIComponent(cursorOf(value))}`, 'cursor', 'invalid-cursor');

const GOOD_TASK = { title: 't', description: 'd' };

export const BODY_AND_QUERY_CASES: CorpusRequest[] = [
  post('empty', '', 'body'),
  post('truncated JSON', '{"title": "x",', 'body'),
  post('single quotes', "{'title': 'x'}", 'body'),
  post('trailing comma', '{"title":"t","description":"d",}', 'body'),
  post('trailing garbage', `${TASK} x`, 'body'),
  post('two objects', `${TASK}${TASK}`, 'body'),
  post('NaN', '{"title":"t","description":"d","maxAttempts":NaN}', 'body'),
  post('a comment', '{"title":"t", /* hi */ "description":"d"}', 'body'),
  post('a raw control character in a string', '{"title":"a\u0001b","description":"d"}', 'body'),
  post('a list', '[]', 'body'),
  post('null', 'null', 'body'),
  post('a number', '7', 'body'),
  post('a string', '"task"', 'body'),
  post('true', 'true', 'body'),
  post('lists 5,000 deep', `${'['.repeat(5_000)}${']'.repeat(5_000)}`, 'body'),
  post('repeated title', '{"title":"a","title":"b","description":"d"}', 'title'),
  post('repeated key spelt with an escape', '{"title":"a","\\u0074itle":"b","description":"d"}', 'title'),
  post('repeated key inside context', '{"title":"t","description":"d","context":{"a":1,"a":2}}', 'context.a'),
  post(
    'repeated key inside a batch',
    `{"tasks":[{"title":"t","description":"d","description":"e"}]}`,
    'tasks[0].description',
  ),
  post('an escaped NUL in a key', '{"title":"t","description":"d","x\\u0000":1}', 'body'),
  post('an escaped lone surrogate in a key', '{"title":"t","description":"d","\\udfff":1}', 'body'),
  post(
    'a batch nested 5,000 deep in context',
    `{"tasks":[{"title":"t","description":"d","context":${nestedObjects(5_000)}}]}`,
    'tasks[0].context',
  ),
  {
    name: 'body: bytes that are not UTF-8',
    method: 'POST',
    path: '/tasks',
    bytes: [...Buffer.from('{"title":"'), 0xff, 0xfe, ...Buffer.from('","description":"d"}')],
    expect: bad('body'),
  },
  {
    name: 'body: an overlong UTF-8 encoding of "/"',
    method: 'POST',
    path: '/tasks',
    bytes: [...Buffer.from('{"title":"a'), 0xc0, 0xaf, ...Buffer.from('b","description":"d"}')],
    expect: bad('body'),
  },
  {
    name: 'body: a UTF-8 encoded surrogate (CESU)',
    method: 'POST',
    path: '/tasks',
    bytes: [...Buffer.from('{"title":"a'), 0xed, 0xa0, 0x80, ...Buffer.from('","description":"d"}')],
    expect: bad('body'),
  },
  {
    name: 'body: over 1 MiB',
    method: 'POST',
    path: '/tasks',
    body: { title: 't', description: 'd'.repeat(1_100_000) },
    expect: { status: 413, error: 'payload-too-large' },
  },
  mediaType('none', null),
  mediaType('text/plain', 'text/plain'),
  mediaType('a form', 'application/x-www-form-urlencoded'),
  mediaType('multipart', 'multipart/form-data; boundary=x'),
  mediaType('XML', 'application/xml'),
  mediaType('JSON in Latin-1', 'application/json; charset=iso-8859-1'),
  mediaType('JSON in UTF-16', 'application/json; charset=utf-16'),
  mediaType('a prefix of json', 'application/jsonx'),

  batch('tasks is text', { tasks: 'all' }, 'tasks'),
  batch('tasks is empty', { tasks: [] }, 'tasks'),
  batch('501 tasks', { tasks: Array.from({ length: 501 }, () => GOOD_TASK) }, 'tasks'),
  batch('a task that is a number', { tasks: [GOOD_TASK, 7] }, 'tasks[1]'),
  batch(
    'a bad title in the second task',
    { tasks: [GOOD_TASK, { ...GOOD_TASK, title: '\u001b[2J' }] },
    'tasks[1].title',
  ),
  batch(
    'a bad repository in the first task',
    { tasks: [{ ...GOOD_TASK, repository: '../..' }] },
    'tasks[0].repository',
  ),
  batch(
    'a repeated id',
    {
      tasks: [
        { ...GOOD_TASK, id: 'same' },
        { ...GOOD_TASK, id: 'same' },
      ],
    },
    'tasks[1].id',
  ),
  batch('actor with a space', { tasks: [GOOD_TASK], actor: 'a b' }, 'actor'),
  batch('actor with an escape', { tasks: [GOOD_TASK], actor: 'bot\u001b[8m' }, 'actor'),
  batch('an unknown field', { tasks: [GOOD_TASK], dryRun: true }, 'dryRun'),

  list('limit 0', 'limit=0', 'limit'),
  list('limit 501', 'limit=501', 'limit'),
  list('limit negative', 'limit=-1', 'limit'),
  list('limit a word', 'limit=ten', 'limit'),
  list('limit 1e3', 'limit=1e3', 'limit'),
  list('limit a fraction', 'limit=1.5', 'limit'),
  list('limit empty', 'limit=', 'limit'),
  list('limit twice', 'limit=1&limit=2', 'limit'),
  list('status unknown', 'status=done', 'status'),
  list('status with a NUL', 'status=pending%00', 'status'),
  list('priority unknown', 'priority=urgent', 'priority'),
  list('repository ../..', 'repository=../..', 'repository'),
  list('repository -/-', 'repository=-/-', 'repository'),
  list('repository without a slash', 'repository=acme', 'repository'),
  list('repository with a NUL', 'repository=acme/web%00', 'repository'),
  list('repository with U+202E', 'repository=acme/%E2%80%AEweb', 'repository'),
  list('repository over 140 characters', `repository=${'o'.repeat(39)}/${'r'.repeat(101)}`, 'repository'),
  list('an unknown parameter', 'colour=red', 'colour'),
  list('a bracketed parameter', 'status[]=pending', '"status[]"'),
  list('a parameter named with an escape', '%1B%5B2J=1', JSON.stringify('\u001b[2J')),
  list('a parameter with a 5,000-character name', `${'k'.repeat(5_000)}=1`, JSON.stringify('k'.repeat(64))),
  list('cursor garbage', 'cursor=garbage', 'cursor', 'invalid-cursor'),
  list('cursor with a NUL', 'cursor=%00', 'cursor'),
  list('cursor over 500 characters', `cursor=${'A'.repeat(501)}`, 'cursor'),
  cursor('month 13', ['2024-13-01T00:00:00.000000Z', '1']),
  cursor('February 30', ['2024-02-30T00:00:00.000000Z', '1']),
  cursor('hour 99', ['2024-01-01T99:00:00.000000Z', '1']),
  cursor('year 0', ['0000-01-01T00:00:00.000000Z', '1']),
  cursor('time made of colons', ['2024-01-01T::Z', '1']),
  cursor('seq beyond bigint', ['2024-01-01T00:00:00.000000Z', '9999999999999999999']),
  cursor('seq negative', ['2024-01-01T00:00:00.000000Z', '-1']),
  cursor('seq a number', ['2024-01-01T00:00:00.000000Z', 1]),
  cursor('seven fraction digits', ['2024-01-01T00:00:00.1234567Z', '1']),
  cursor('three parts', ['2024-01-01T00:00:00.000000Z', '1', 'x']),
  cursor('an object', { at: '2024-01-01T00:00:00Z', seq: '1' }),

  ...['a%20b', '%00', '%1B%5B2J', '%E2%80%AE', 'x'.repeat(201)].flatMap((id): CorpusRequest[] => [
    { name: `path id ${id.slice(0, 12)}: get`, method: 'GET', path: `/tasks/${id}`, expect: bad('id') },
    {
      name: `path id ${id.slice(0, 12)}: cancel`,
      method: 'POST',
      path: `/tasks/${id}/cancel`,
      body: {},
      expect: bad('id'),
    },
  ]),

  {
    name: 'auth: no header',
    method: 'GET',
    path: '/tasks',
    authorization: null,
    expect: { status: 401, error: 'unauthorized' },
  },
  {
    name: 'auth: Basic scheme',
    method: 'GET',
    path: '/tasks',
    authorization: 'Basic a2V5',
    expect: { status: 401, error: 'unauthorized' },
  },
  {
    name: 'auth: a NUL-free wrong key',
    method: 'POST',
    path: '/tasks',
    body: GOOD_TASK,
    authorization: 'Bearer wrong',
    expect: { status: 401, error: 'unauthorized' },
  },
  { name: 'route: DELETE /tasks', method: 'DELETE', path: '/tasks', expect: { status: 404, error: 'not-found' } },
  {
    name: 'route: unknown path',
    method: 'GET',
    path: '/tasks/$TASK/secrets',
    expect: { status: 404, error: 'not-found' },
  },
];
