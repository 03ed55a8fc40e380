/**
 * The shape of one malformed Task API request in the corpus, with its expected answer. `$TASK` in a path or
 * body is replaced by the id of a task the runner created and claimed, `$TOKEN` by that claim's lease token, so
 * leased writes reach the store on code that does not validate them first.
 */

/** What the API must answer. */
export interface Expected {
  status: 400 | 401 | 404 | 413 | 415;
  /** The field the 400 (or 415) must name in `fields`. */
  field?: string;
  /** The error code of the body, when not the default for the status (`validation` for 400). */
  error?: string;
}

export interface CorpusRequest {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, for bodies JSON.stringify cannot produce (bad JSON, repeated keys, deep nesting). */
  raw?: string;
  /** Sent as these bytes (text that is not UTF-8). */
  bytes?: number[];
  /** Content-Type header; default application/json, null for none. */
  contentType?: string | null;
  /** Authorization header; default the right bearer key, null for none. */
  authorization?: string | null;
  expect: Expected;
}

/** A 400 naming `field`. */
export const bad = (field: string, error?: string): Expected => ({ status: 400, field, ...(error ? { error } : {}) });

/** Hostile text: each must be refused where the store cannot keep it or a one-line field must not hold it. */
export const HOSTILE_TEXT = {
  nul: 'a\u0000b',
  'lone high surrogate': 'a\ud800b',
  'lone low surrogate': '\udc00z',
  'ANSI colour (CSI)': '\u001b[31mred',
  'OSC 52 clipboard write': '\u001b]52;c;ZXZpbA==\u0007',
  'screen clear': '\u001b[2J\u001b[H',
  'C1 CSI': 'a\u009b2Jb',
  'bidi override U+202E': 'txt.exe\u202egpj.',
  'bidi isolate U+2066': 'a\u2066b',
  'zero-width space': 'pay\u200bpal',
  'zero-width joiner': 'a\u200db',
  BEL: 'a\u0007b',
  DEL: 'a\u007fb',
  newline: 'a\nb',
  tab: 'a\tb',
  'carriage return': 'safe\rEVIL',
  'line separator': 'a\u2028b',
  'byte-order mark': 'a\ufeffb',
  'Unicode tag characters': 'a\u{e0041}\u{e0042}b',
} as const;

/** The subset no store can keep: refused in every text field, free-form JSON included. */
export const UNSTORABLE_TEXT = {
  nul: HOSTILE_TEXT.nul,
  'lone high surrogate': HOSTILE_TEXT['lone high surrogate'],
  'lone low surrogate': HOSTILE_TEXT['lone low surrogate'],
} as const;

/** Values of the wrong type for a text field. */
export const NOT_TEXT: Record<string, unknown> = {
  number: 7,
  'huge number': 1e308,
  'negative number': -1,
  boolean: true,
  null: null,
  list: ['x'],
  'empty list': [],
  object: { a: 1 },
  'empty object': {},
};

/** `{"a":{"a":...}}` nested `depth` levels, as raw JSON text (a value JSON.stringify would choke on). */
export function nestedObjects(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
}

/** The same as a value, for depths JSON.stringify handles. */
export function nestedValue(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < depth; i += 1) value = { a: value };
  return value;
}

/** base64url of JSON, the way the store encodes page cursors. */
export function cursorOf(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
