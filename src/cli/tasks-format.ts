/**
 * Plain-text rendering of tasks for the `tasks` CLI: an aligned table, a detail view and a history. Pure
 * functions of their input. Every value goes through `cell()`: String() because a stored row may be malformed,
 * then escapeForTerminal because a row written straight into the table bypasses intake, and its text could
 * otherwise clear the operator's screen, write the clipboard (OSC 52), hide text or reorder it (U+202E).
 */
import type { Task } from '../domain/task.js';
import { escapeForTerminal, truncateText } from '../domain/task-text.js';
import type { TaskEvent } from '../pipeline/ports.js';

/** Any stored value as one line safe to print: control and invisible characters become visible escapes. */
export function cell(value: unknown): string {
  return escapeForTerminal(typeof value === 'string' ? value : String(value));
}

/** `2024-05-01 12:00:00Z` from an ISO timestamp; anything else is shown as it is. */
export function shortTime(iso: string | undefined): string {
  if (!iso) return '-';
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]}Z` : cell(iso);
}

/** Rows padded so columns line up; the last column is not padded. */
export function alignColumns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** Characters of a title shown in the `tasks list` table (`tasks show` and `--json` give it whole). */
export const TITLE_COLUMN_CHARS = 60;

/** The `tasks list` table: id, status, priority, type, attempts, repository, pr, updated, title (last, cut). */
export function formatTaskTable(tasks: Task[]): string[] {
  const header = ['ID', 'STATUS', 'PRIORITY', 'TYPE', 'ATTEMPTS', 'REPOSITORY', 'PR', 'UPDATED', 'TITLE'];
  const rows = tasks.map((t) => [
    cell(t.id),
    cell(t.status),
    cell(t.priority),
    cell(t.type),
    `${t.attempts}/${t.maxAttempts}`,
    t.repository ? cell(t.repository) : '-',
    t.checkpoint.pr ? `#${t.checkpoint.pr.number}` : '-',
    shortTime(t.updatedAt),
    truncateText(cell(t.title), TITLE_COLUMN_CHARS, '…'),
  ]);
  return alignColumns([header, ...rows]);
}

/** The fields of one task, one per line. */
export function formatTaskDetails(task: Task): string[] {
  const labels = Array.isArray(task.labels) ? task.labels.map(cell).join(', ') : cell(JSON.stringify(task.labels));
  const pr = task.checkpoint.pr;
  const error = task.lastError;
  const pairs: Array<[string, string | undefined]> = [
    ['id', task.id],
    ['title', task.title],
    ['status', task.status],
    ['type', task.type],
    ['priority', task.priority],
    ['labels', labels || '-'],
    ['repository', task.repository],
    ['dedupe key', task.dedupeKey],
    ['attempts', `${task.attempts} of ${task.maxAttempts}`],
    ['next run', task.nextRunAt ? shortTime(task.nextRunAt) : undefined],
    ['agent run', task.checkpoint.agentRunId?.toString()],
    ['agent run url', task.checkpoint.agentRunUrl],
    ['pull request', pr ? `${pr.url} (${pr.state ?? 'open'})` : undefined],
    ['branch', pr?.branch],
    ['last error', error ? `${error.code} (${error.category}): ${error.message}` : undefined],
    [
      'feedback',
      task.feedback?.length ? `${task.feedback.length} entr${task.feedback.length === 1 ? 'y' : 'ies'}` : undefined,
    ],
    ['created', shortTime(task.createdAt)],
    ['updated', shortTime(task.updatedAt)],
  ];
  const lines = alignColumns(pairs.filter(([, v]) => v !== undefined).map(([k, v]) => [`${k}:`, cell(v)]));
  // The description keeps its line breaks and tabs; everything else in it is escaped like any other cell.
  const description = String(task.description)
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => `  ${escapeForTerminal(line, { keepLineBreaks: true })}`);
  return [...lines, 'description:', ...description];
}

/** One line per history event: when, who, what, and the status change. */
export function formatHistory(events: TaskEvent[]): string[] {
  if (events.length === 0) return ['(no history)'];
  return alignColumns(
    events.map((e) => {
      const change = e.fromStatus || e.toStatus ? `${e.fromStatus ?? '-'} -> ${e.toStatus ?? '-'}` : '';
      const detail = e.detail && Object.keys(e.detail).length > 0 ? JSON.stringify(e.detail) : '';
      return [shortTime(e.at), cell(e.actor), cell(e.kind), cell(change), cell(detail)];
    }),
  );
}

/**
 * A value as JSON for scripts (`--json`), safe to print on a terminal: JSON.stringify escapes C0 controls and lone
 * surrogates, and every other character outside printable ASCII (DEL, C1 controls, bidirectional and zero-width
 * characters, and all other non-ASCII text) is written as a \uXXXX escape, so a JSON parser reads back the stored
 * text exactly while a terminal shows nothing it would act on.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
