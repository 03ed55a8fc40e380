/**
 * Validation of tasks: `validateNewTask` for what users submit (CLI, Task API, files), `validateStoredTask` for
 * rows already in the store (written by another tool, an older version, or straight into the table) before the
 * daemon works on them. Both apply the same caps and character rules (task-limits.ts, task-text.ts), so a row
 * that intake would refuse is failed by the daemon with a validation error naming the field, never turned into a
 * prompt. Pure functions: every problem is reported at once, by field, so a user can fix a file in one go.
 */
import { jsonFieldProblems } from './json-value.js';
import { DEDUPE_KEY_PATTERN, TASK_LIMITS } from './task-limits.js';
import { repositoryProblem, stripControls, unsafeLineReason, unstorableReason } from './task-text.js';
import { TASK_PRIORITIES, TASK_TYPES, type NewTask, type Task } from './task.js';

export { TASK_LIMITS } from './task-limits.js';
export { REPOSITORY_PATTERN } from './task-text.js';

/** Task ids end up in branch names and URLs: letters, digits, `_` and `-`, starting with a letter or digit. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/;

export interface FieldError {
  field: string;
  message: string;
}

export type NewTaskValidation = { ok: true; task: NewTask } | { ok: false; errors: FieldError[] };

const KNOWN_FIELDS = new Set([
  'id',
  'title',
  'description',
  'type',
  'priority',
  'labels',
  'repository',
  'maxAttempts',
  'context',
  'dedupeKey',
]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short description of a value for messages; only short printable ASCII text is echoed, never escapes. */
function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') {
    return /^[\x20-\x7e]{0,40}$/.test(value) ? `"${value}"` : `text of ${value.length} characters`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

type Problems = FieldError[];
const add = (problems: Problems, field: string, message: string): undefined => {
  problems.push({ field, message });
  return undefined;
};

/** A required one-line text (title): present, text, not blank, within `max`, no control characters. */
function checkLine(value: unknown, field: string, max: number, problems: Problems): string | undefined {
  if (value === undefined || value === null) return add(problems, field, 'is required');
  if (typeof value !== 'string') return add(problems, field, `must be text, got ${show(value)}`);
  const text = value.trim();
  if (text === '') return add(problems, field, 'must not be empty');
  if (text.length > max) return add(problems, field, `must be at most ${max} characters (got ${text.length})`);
  const unsafe = unsafeLineReason(text);
  return unsafe ? add(problems, field, unsafe) : text;
}

/** A required multi-line text (description): storable, within `max`, and not blank once cleaned. */
function checkDescription(value: unknown, problems: Problems, clean: boolean): string | undefined {
  const field = 'description';
  const max = TASK_LIMITS.descriptionMax;
  if (value === undefined || value === null) return add(problems, field, 'is required');
  if (typeof value !== 'string') return add(problems, field, `must be text, got ${show(value)}`);
  if (value.length > max) return add(problems, field, `must be at most ${max} characters (got ${value.length})`);
  const unstorable = unstorableReason(value);
  if (unstorable) return add(problems, field, unstorable);
  // A stored description keeps its characters (the prompt builder strips them) but must say something too.
  const cleaned = stripControls(value);
  if (cleaned.trim() === '') return add(problems, field, 'must not be empty');
  return clean ? cleaned : value;
}

function checkLabels(value: unknown, problems: Problems): string[] | undefined {
  if (!Array.isArray(value)) return add(problems, 'labels', `must be a list of label names, got ${show(value)}`);
  if (value.length > TASK_LIMITS.labelsMax) {
    add(problems, 'labels', `must have at most ${TASK_LIMITS.labelsMax} labels (got ${value.length})`);
    return undefined;
  }
  const labels: string[] = [];
  value.forEach((label: unknown, i) => {
    const field = `labels[${i}]`;
    if (typeof label !== 'string' || label.trim() === '') {
      add(problems, field, `must be a non-empty label name, got ${show(label)}`);
      return;
    }
    const text = checkLine(label, field, TASK_LIMITS.labelMax, problems);
    if (text !== undefined && !labels.includes(text)) labels.push(text);
  });
  return labels;
}

function checkRepository(value: unknown, problems: Problems): string | undefined {
  if (typeof value === 'string' && value.length > TASK_LIMITS.repositoryMax) {
    return add(problems, 'repository', `must be at most ${TASK_LIMITS.repositoryMax} characters (got ${value.length})`);
  }
  const problem = repositoryProblem(value);
  return problem ? add(problems, 'repository', problem) : (value as string);
}

function checkContext(value: unknown, problems: Problems): Record<string, unknown> | undefined {
  if (!isPlainObject(value)) return add(problems, 'context', `must be an object, got ${show(value)}`);
  const found = jsonFieldProblems(value, 'context', {
    depthMax: TASK_LIMITS.contextDepthMax,
    sizeMax: TASK_LIMITS.contextMax,
  });
  for (const p of found) add(problems, p.path, p.message);
  return found.length === 0 ? value : undefined;
}

function checkEnum<T extends string>(
  value: unknown,
  field: string,
  allowed: readonly T[],
  problems: Problems,
  stored = false,
) {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  // A stored row's problem reads as a finding (`type "weird" is not one of ...`), intake's as an instruction.
  const message = stored
    ? `${show(value)} is not one of ${allowed.join(', ')}`
    : `must be one of ${allowed.join(', ')}, got ${show(value)}`;
  return add(problems, field, message);
}

function checkMaxAttempts(value: unknown, problems: Problems, max: number): number | undefined {
  const min = TASK_LIMITS.maxAttemptsMin;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  const range = Number.isFinite(max) ? `from ${min} to ${max}` : `of at least ${min}`;
  return add(problems, 'maxAttempts', `must be a whole number ${range}, got ${show(value)}`);
}

function checkDedupeKey(value: unknown, problems: Problems): string | undefined {
  const max = TASK_LIMITS.dedupeKeyMax;
  if (typeof value === 'string' && value.length >= 1 && value.length <= max && DEDUPE_KEY_PATTERN.test(value)) {
    return value;
  }
  return add(
    problems,
    'dedupeKey',
    `must be 1 to ${max} printable ASCII characters without spaces, got ${show(value)}`,
  );
}

/**
 * Problems of a batch as a whole: two tasks with the same dedupe key cannot both be live, so a batch that
 * repeats one is refused (naming both places) instead of adding the first and refusing the second. `place`
 * names a task by its index (`tasks[2]` by default; the CLI says `task 3`).
 */
export function batchProblems(
  tasks: readonly NewTask[],
  place: (index: number) => string = (i) => `tasks[${i}]`,
  separator = '.',
): FieldError[] {
  const seen = new Map<string, number>();
  const problems: FieldError[] = [];
  tasks.forEach((task, i) => {
    if (task.dedupeKey === undefined) return;
    const first = seen.get(task.dedupeKey);
    if (first !== undefined) {
      problems.push({ field: `${place(i)}${separator}dedupeKey`, message: `repeats the dedupeKey of ${place(first)}` });
    } else seen.set(task.dedupeKey, i);
  });
  return problems;
}

function checkId(value: unknown, problems: Problems): string | undefined {
  if (typeof value === 'string' && TASK_ID_PATTERN.test(value)) return value;
  return add(problems, 'id', 'must be 1-80 letters, digits, "_" or "-", starting with a letter or digit');
}

/**
 * Check a task as submitted. On success returns a clean NewTask (title and labels trimmed, labels
 * de-duplicated, control characters removed from the description, absent optional fields left out); otherwise
 * every problem found, by field.
 */
export function validateNewTask(input: unknown): NewTaskValidation {
  if (!isPlainObject(input)) {
    return { ok: false, errors: [{ field: '(task)', message: `must be an object, got ${show(input)}` }] };
  }
  const errors: Problems = [];
  for (const key of Object.keys(input)) {
    if (!KNOWN_FIELDS.has(key)) {
      const name = /^[\w-]{1,64}$/.test(key) ? key : JSON.stringify(key.slice(0, 64));
      add(errors, name, `is not a task field (known: ${[...KNOWN_FIELDS].join(', ')})`);
    }
  }
  const title = checkLine(input.title, 'title', TASK_LIMITS.titleMax, errors);
  const description = checkDescription(input.description, errors, true);
  const task: NewTask = { title: title ?? '', description: description ?? '' };
  if (input.id !== undefined) {
    const id = checkId(input.id, errors);
    if (id !== undefined) task.id = id;
  }
  if (input.type !== undefined) {
    const type = checkEnum(input.type, 'type', TASK_TYPES, errors);
    if (type !== undefined) task.type = type;
  }
  if (input.priority !== undefined) {
    const priority = checkEnum(input.priority, 'priority', TASK_PRIORITIES, errors);
    if (priority !== undefined) task.priority = priority;
  }
  if (input.labels !== undefined) {
    const labels = checkLabels(input.labels, errors);
    if (labels) task.labels = labels;
  }
  if (input.repository !== undefined) {
    const repository = checkRepository(input.repository, errors);
    if (repository !== undefined) task.repository = repository;
  }
  if (input.maxAttempts !== undefined) {
    const n = checkMaxAttempts(input.maxAttempts, errors, TASK_LIMITS.maxAttemptsMax);
    if (n !== undefined) task.maxAttempts = n;
  }
  if (input.context !== undefined) {
    const context = checkContext(input.context, errors);
    if (context !== undefined) task.context = context;
  }
  if (input.dedupeKey !== undefined) {
    const key = checkDedupeKey(input.dedupeKey, errors);
    if (key !== undefined) task.dedupeKey = key;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, task };
}

/**
 * Check a task read from the store, whose row may have been written by something other than this daemon, with
 * the caps and character rules of intake. Returns one problem per field (empty when the task is sound); the
 * daemon fails such a task with a validation error instead of working on it.
 */
export function checkStoredTask(task: Task): FieldError[] {
  const problems: Problems = [];
  const t = task as unknown as Record<string, unknown>;
  checkId(t.id, problems);
  checkLine(t.title, 'title', TASK_LIMITS.titleMax, problems);
  // Descriptions are cleaned at intake; a stored one keeps its characters and the prompt builder strips them.
  checkDescription(t.description, problems, false);
  checkEnum(t.type, 'type', TASK_TYPES, problems, true);
  checkEnum(t.priority, 'priority', TASK_PRIORITIES, problems, true);
  checkLabels(t.labels, problems);
  if (t.repository !== undefined && t.repository !== null) checkRepository(t.repository, problems);
  if (t.context !== undefined && t.context !== null) checkContext(t.context, problems);
  // A stored row may allow more attempts than intake does (an operator's choice); it must allow at least one.
  checkMaxAttempts(t.maxAttempts, problems, Number.POSITIVE_INFINITY);
  return problems;
}

/** checkStoredTask as messages that start with the field they concern, e.g. `title must not be empty`. */
export function validateStoredTask(task: Task): string[] {
  return checkStoredTask(task).map((p) => `${p.field} ${p.message}`);
}
