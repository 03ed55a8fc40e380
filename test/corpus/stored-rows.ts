/**
 * Malformed rows written straight into the tasks table (by another tool, by hand, by an older version), each
 * with the field the daemon's validation error must name. Run by test/integration/task-api-stored-rows.test.ts:
 * every row must fail with a validation error naming its field, without reaching Codegen, while a good task
 * beside them completes. Values are column values; jsonb columns are given as JSON text.
 */

export interface StoredRow {
  name: string;
  /** Column overrides of a sound row (title, description, type, priority, labels, repository, context, ...). */
  columns: Partial<Record<RowColumn, string | number>>;
  /** The field the validation error must name. */
  field: string;
}

export type RowColumn =
  'id' | 'title' | 'description' | 'type' | 'priority' | 'labels' | 'repository' | 'context' | 'max_attempts';

const deepJson = (depth: number): string => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
const row = (name: string, columns: StoredRow['columns'], field: string): StoredRow => ({ name, columns, field });

export const STORED_ROW_CORPUS: readonly StoredRow[] = [
  row('title over 300 characters', { title: 't'.repeat(301) }, 'title'),
  row('title of 5,000 characters', { title: 't'.repeat(5_000) }, 'title'),
  row('title empty', { title: '' }, 'title'),
  row('title blank', { title: '  \t ' }, 'title'),
  row('title with an ANSI colour', { title: '\u001b[31mred alert' }, 'title'),
  row('title writing the clipboard (OSC 52)', { title: 'x\u001b]52;c;cm0gLXJmIH4=\u0007' }, 'title'),
  row('title clearing the screen', { title: 'x\u001b[2J\u001b[H' }, 'title'),
  row('title with BEL', { title: 'ding\u0007' }, 'title'),
  row('title with a carriage return', { title: 'safe\rEVIL' }, 'title'),
  row('title with a newline', { title: 'one\ntwo' }, 'title'),
  row('title with U+202E', { title: 'txt.exe\u202egpj.' }, 'title'),
  row('title with a bidi isolate', { title: 'a\u2066b' }, 'title'),
  row('title with a zero-width space', { title: 'pay\u200bpal' }, 'title'),
  row('title with a byte-order mark inside', { title: 'a\ufeffb' }, 'title'),
  row('title with C1 CSI', { title: 'a\u009b2Jb' }, 'title'),
  row('title with DEL', { title: 'a\u007fb' }, 'title'),
  row('title with Unicode tag characters', { title: 'a\u{e0041}\u{e0042}b' }, 'title'),
  row('description of 5 MB', { description: 'd'.repeat(5_000_000) }, 'description'),
  row('description over 64 KiB', { description: 'd'.repeat(65_537) }, 'description'),
  row('description empty', { description: '' }, 'description'),
  row('description blank', { description: ' \n\t ' }, 'description'),
  row('description of escape sequences only', { description: '\u001b[2J\u001b[H\u0007' }, 'description'),
  row('type unknown', { type: 'chore' }, 'type'),
  row('type empty', { type: '' }, 'type'),
  row('type with an escape', { type: 'feature\u001b[0m' }, 'type'),
  row('priority unknown', { priority: 'urgent' }, 'priority'),
  row('priority empty', { priority: '' }, 'priority'),
  row('labels an object', { labels: '{"a": 1}' }, 'labels'),
  row('labels a string', { labels: '"bug"' }, 'labels'),
  row('labels a number', { labels: '7' }, 'labels'),
  row('labels null', { labels: 'null' }, 'labels'),
  row('a label that is a number', { labels: '[1]' }, 'labels[0]'),
  row('a label that is empty', { labels: '[""]' }, 'labels[0]'),
  row('a label over 50 characters', { labels: JSON.stringify(['ok', 'l'.repeat(51)]) }, 'labels[1]'),
  row('51 labels', { labels: JSON.stringify(Array.from({ length: 51 }, (_, i) => `l${i}`)) }, 'labels'),
  row('a label with an escape', { labels: JSON.stringify(['\u001b[8mhidden']) }, 'labels[0]'),
  row('a label with U+202E', { labels: JSON.stringify(['ok', 'a\u202eb']) }, 'labels[1]'),
  row('repository ../..', { repository: '../..' }, 'repository'),
  row('repository ./.', { repository: './.' }, 'repository'),
  row('repository -/-', { repository: '-/-' }, 'repository'),
  row('repository acme/..', { repository: 'acme/..' }, 'repository'),
  row('repository without a slash', { repository: 'acme' }, 'repository'),
  row('repository of three parts', { repository: 'acme/web/x' }, 'repository'),
  row('repository owner of 40 characters', { repository: `${'o'.repeat(40)}/web` }, 'repository'),
  row('repository name of 101 characters', { repository: `acme/${'r'.repeat(101)}` }, 'repository'),
  row('repository owner with a double hyphen', { repository: 'ac--me/web' }, 'repository'),
  row('repository with an escape', { repository: 'acme/web\u001b[2J' }, 'repository'),
  row('repository empty', { repository: '' }, 'repository'),
  row('context a list', { context: '[1, 2]' }, 'context'),
  row('context a string', { context: '"see the wiki"' }, 'context'),
  row('context a number', { context: '42' }, 'context'),
  row('context over 256 KiB', { context: JSON.stringify({ log: 'x'.repeat(262_144) }) }, 'context'),
  row('context 33 levels deep', { context: deepJson(33) }, 'context'),
  row('context 1,000 levels deep', { context: deepJson(1_000) }, 'context'),
  row('maxAttempts 0', { max_attempts: 0 }, 'maxAttempts'),
  row('maxAttempts negative', { max_attempts: -5 }, 'maxAttempts'),
  row('id with a dot', { id: 'row.dot' }, 'id'),
  row('id with a colon', { id: 'row:colon' }, 'id'),
];
