/**
 * Malformed POST /tasks bodies: one bad field at a time on an otherwise good task, so each case names exactly
 * the field that is wrong. Caps come from the documentation (README, OpenAPI), written out here on purpose.
 */
import {
  bad,
  HOSTILE_TEXT,
  nestedObjects,
  nestedValue,
  NOT_TEXT,
  UNSTORABLE_TEXT,
  type CorpusRequest,
} from './types.js';

const GOOD = { title: 'Add a health endpoint', description: 'Expose GET /health.' };

const create = (name: string, body: Record<string, unknown>, field: string): CorpusRequest => ({
  name: `create: ${name}`,
  method: 'POST',
  path: '/tasks',
  body: { ...GOOD, ...body },
  expect: bad(field),
});

const createRaw = (name: string, raw: string, field: string): CorpusRequest => ({
  name: `create: ${name}`,
  method: 'POST',
  path: '/tasks',
  raw,
  expect: bad(field),
});

const each = <T>(values: Record<string, T>, make: (label: string, value: T) => CorpusRequest): CorpusRequest[] =>
  Object.entries(values).map(([label, value]) => make(label, value));

export const CREATE_TASK_CASES: CorpusRequest[] = [
  // title: one line, at most 300 characters, no control, escape or invisible characters.
  ...each(HOSTILE_TEXT, (label, v) => create(`title with ${label}`, { title: `Title ${v}` }, 'title')),
  ...each(NOT_TEXT, (label, v) => create(`title is ${label}`, { title: v }, 'title')),
  create('title is empty', { title: '' }, 'title'),
  create('title is blank', { title: '   ' }, 'title'),
  create('title over 300 characters', { title: 't'.repeat(301) }, 'title'),
  create('title missing', { title: undefined }, 'title'),

  // description: multi-line, at most 65,536 characters; NUL and unpaired surrogates refused, escapes stripped.
  ...each(UNSTORABLE_TEXT, (label, v) => create(`description with ${label}`, { description: `D ${v}` }, 'description')),
  ...each(NOT_TEXT, (label, v) => create(`description is ${label}`, { description: v }, 'description')),
  create('description is only escape sequences', { description: '\u001b[2J\u0007\u202e' }, 'description'),
  create('description over 64 KiB', { description: 'd'.repeat(65_537) }, 'description'),
  create('description missing', { description: undefined }, 'description'),

  // labels: a list of at most 50 one-line names of at most 50 characters.
  ...each(HOSTILE_TEXT, (label, v) => create(`label with ${label}`, { labels: ['ok', `x${v}`] }, 'labels[1]')),
  ...each({ number: 7, null: null, boolean: true, object: {}, list: ['x'], empty: '', blank: ' ' }, (label, v) =>
    create(`label is ${label}`, { labels: [v] }, 'labels[0]'),
  ),
  ...each({ text: 'bug', number: 7, object: { a: 'b' }, null: null, boolean: false }, (label, v) =>
    create(`labels is ${label}`, { labels: v }, 'labels'),
  ),
  create('label over 50 characters', { labels: ['l'.repeat(51)] }, 'labels[0]'),
  create('51 labels', { labels: Array.from({ length: 51 }, (_, i) => `l${i}`) }, 'labels'),

  // repository: GitHub's owner/name rules.
  ...each(
    {
      '../..': '../..',
      './.': './.',
      '-/-': '-/-',
      'name ..': 'acme/..',
      'name .': 'acme/.',
      'owner starting with a hyphen': '-acme/web',
      'owner ending with a hyphen': 'acme-/web',
      'owner with a double hyphen': 'ac--me/web',
      'owner with an underscore': 'ac_me/web',
      'owner with a dot': 'ac.me/web',
      'three parts': 'acme/web/extra',
      'no slash': 'acme',
      'no owner': '/web',
      'no name': 'acme/',
      'a space': 'acme/my web',
      'fullwidth letters': 'ａｃｍｅ/web',
      'a URL': 'https://github.com/acme/web',
      'owner over 39 characters': `${'o'.repeat(40)}/web`,
      'name over 100 characters': `acme/${'r'.repeat(101)}`,
      'over 140 characters': `${'o'.repeat(39)}/${'r'.repeat(120)}`,
      empty: '',
    },
    (label, v) => create(`repository ${label}`, { repository: v }, 'repository'),
  ),
  ...each(HOSTILE_TEXT, (label, v) => create(`repository with ${label}`, { repository: `acme/web${v}` }, 'repository')),
  ...each(NOT_TEXT, (label, v) => create(`repository is ${label}`, { repository: v }, 'repository')),

  // context: an object, at most 32 levels deep and 256 KiB of JSON, with storable keys and strings.
  ...each({ text: 'x', number: 7, list: [1], null: null, boolean: true }, (label, v) =>
    create(`context is ${label}`, { context: v }, 'context'),
  ),
  ...each(UNSTORABLE_TEXT, (label, v) =>
    create(`context value with ${label}`, { context: { notes: v } }, 'context.notes'),
  ),
  ...each(UNSTORABLE_TEXT, (label, v) =>
    create(`context deep value with ${label}`, { context: { a: { b: [{ c: v }] } } }, 'context.a.b[0].c'),
  ),
  ...each(UNSTORABLE_TEXT, (label, v) => create(`context key with ${label}`, { context: { [`k${v}`]: 1 } }, 'context')),
  create('context 33 levels deep', { context: nestedValue(33) }, 'context'),
  create('context over 256 KiB', { context: { log: 'x'.repeat(262_144) } }, 'context'),
  createRaw(
    'context 5,000 levels deep',
    `{"title":"t","description":"d","context":${nestedObjects(5_000)}}`,
    'context',
  ),
  createRaw(
    'context with arrays 100,000 deep',
    `{"title":"t","description":"d","context":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`,
    'context',
  ),

  // dedupeKey: 1-200 printable ASCII characters without spaces.
  ...each(
    {
      empty: '',
      'a space': 'a b',
      '201 characters': 'k'.repeat(201),
      'an accent': 'clé',
      'a NUL': 'k\u0000',
      'an escape': 'k\u001b[0m',
      'zero-width': 'k\u200b',
      number: 7,
      null: null,
      'a list': ['k'],
    },
    (label, v) => create(`dedupeKey ${label}`, { dedupeKey: v }, 'dedupeKey'),
  ),

  // id, type, priority, maxAttempts, unknown fields.
  ...each(
    {
      'a path': '../etc',
      'a space': 'a b',
      empty: '',
      'a leading hyphen': '-a',
      '81 characters': 'a'.repeat(81),
      'an accent': 'tâche',
      'a NUL': 'a\u0000',
      'an escape': 'a\u001b',
      number: 7,
      null: null,
    },
    (label, v) => create(`id with ${label}`, { id: v }, 'id'),
  ),
  ...each({ unknown: 'chore', 'wrong case': 'Feature', number: 7, null: null, NUL: 'feature\u0000' }, (label, v) =>
    create(`type ${label}`, { type: v }, 'type'),
  ),
  ...each({ unknown: 'urgent', 'wrong case': 'HIGH', number: 1, empty: '', 'lone surrogate': '\ud83d' }, (label, v) =>
    create(`priority ${label}`, { priority: v }, 'priority'),
  ),
  ...each(
    { zero: 0, '21': 21, negative: -3, fraction: 1.5, text: '3', boolean: true, null: null, 'huge number': 1e308 },
    (label, v) => create(`maxAttempts ${label}`, { maxAttempts: v }, 'maxAttempts'),
  ),
  createRaw('maxAttempts 1e400 (Infinity)', '{"title":"t","description":"d","maxAttempts":1e400}', 'maxAttempts'),
  create('an unknown field', { colour: 'blue' }, 'colour'),
  createRaw('a __proto__ field', '{"title":"t","description":"d","__proto__":{"admin":true}}', '__proto__'),
  create('a constructor field', { constructor: 'x' }, 'constructor'),
];
