/**
 * Validation of tasks: `validateNewTask` for what users submit (CLI, Task API, files), `validateStoredTask` for
 * rows already in the store (written by another tool or an older version) before the daemon works on them.
 * Pure functions: every problem is reported at once, by field, so a user can fix a file in one go.
 */
import { TASK_PRIORITIES, TASK_TYPES, type NewTask, type Task } from './task.js';

/** Task ids end up in branch names and URLs: letters, digits, `_` and `-`, starting with a letter or digit. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/;
/** GitHub's owner/repo form. */
export const REPOSITORY_PATTERN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** Limits on submitted tasks; generous for real work, small enough to keep prompts and rows sane. */
export const TASK_LIMITS = {
  titleMax: 200,
  descriptionMax: 50_000,
  labelsMax: 50,
  /** GitHub's own limit on a label name. */
  labelMax: 50,
  maxAttemptsMin: 1,
  maxAttemptsMax: 20,
  /** Serialized size of `context`, in characters. */
  contextMax: 100_000,
} as const;

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
]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

function checkText(value: unknown, field: string, max: number, errors: FieldError[]): string | undefined {
  if (value === undefined || value === null) {
    errors.push({ field, message: 'is required' });
  } else if (typeof value !== 'string') {
    errors.push({ field, message: `must be text, got ${show(value)}` });
  } else if (value.trim() === '') {
    errors.push({ field, message: 'must not be empty' });
  } else if (value.length > max) {
    errors.push({ field, message: `must be at most ${max} characters (got ${value.length})` });
  } else {
    return value;
  }
  return undefined;
}

function checkLabels(value: unknown, errors: FieldError[]): string[] | undefined {
  if (!Array.isArray(value)) {
    errors.push({ field: 'labels', message: `must be a list of label names, got ${show(value)}` });
    return undefined;
  }
  if (value.length > TASK_LIMITS.labelsMax) {
    errors.push({ field: 'labels', message: `must have at most ${TASK_LIMITS.labelsMax} labels` });
  }
  const labels: string[] = [];
  value.forEach((label: unknown, i) => {
    if (typeof label !== 'string' || label.trim() === '') {
      errors.push({ field: `labels[${i}]`, message: `must be a non-empty label name, got ${show(label)}` });
    } else if (label.length > TASK_LIMITS.labelMax) {
      errors.push({ field: `labels[${i}]`, message: `must be at most ${TASK_LIMITS.labelMax} characters` });
    } else if (!labels.includes(label.trim())) {
      labels.push(label.trim());
    }
  });
  return labels;
}

/**
 * Check a task as submitted. On success returns a clean NewTask (title trimmed, labels trimmed and
 * de-duplicated, absent optional fields left out); otherwise every problem found, by field.
 */
export function validateNewTask(input: unknown): NewTaskValidation {
  if (!isPlainObject(input)) {
    return { ok: false, errors: [{ field: '(task)', message: `must be an object, got ${show(input)}` }] };
  }
  const errors: FieldError[] = [];
  for (const key of Object.keys(input)) {
    if (!KNOWN_FIELDS.has(key)) {
      errors.push({ field: key, message: `is not a task field (known: ${[...KNOWN_FIELDS].join(', ')})` });
    }
  }
  const title = checkText(input.title, 'title', TASK_LIMITS.titleMax, errors);
  const description = checkText(input.description, 'description', TASK_LIMITS.descriptionMax, errors);
  const task: NewTask = { title: title?.trim() ?? '', description: description ?? '' };

  if (input.id !== undefined) {
    if (typeof input.id !== 'string' || !TASK_ID_PATTERN.test(input.id)) {
      errors.push({
        field: 'id',
        message: 'must be 1-80 letters, digits, "_" or "-", starting with a letter or digit',
      });
    } else task.id = input.id;
  }
  if (input.type !== undefined) {
    if (!TASK_TYPES.includes(input.type as never)) {
      errors.push({ field: 'type', message: `must be one of ${TASK_TYPES.join(', ')}, got ${show(input.type)}` });
    } else task.type = input.type as NewTask['type'];
  }
  if (input.priority !== undefined) {
    if (!TASK_PRIORITIES.includes(input.priority as never)) {
      const allowed = TASK_PRIORITIES.join(', ');
      errors.push({ field: 'priority', message: `must be one of ${allowed}, got ${show(input.priority)}` });
    } else task.priority = input.priority as NewTask['priority'];
  }
  if (input.labels !== undefined) {
    const labels = checkLabels(input.labels, errors);
    if (labels) task.labels = labels;
  }
  if (input.repository !== undefined) {
    if (typeof input.repository !== 'string' || !REPOSITORY_PATTERN.test(input.repository)) {
      errors.push({ field: 'repository', message: `must be "owner/repo", got ${show(input.repository)}` });
    } else task.repository = input.repository;
  }
  if (input.maxAttempts !== undefined) {
    const n = input.maxAttempts;
    const { maxAttemptsMin: min, maxAttemptsMax: max } = TASK_LIMITS;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      errors.push({ field: 'maxAttempts', message: `must be a whole number from ${min} to ${max}, got ${show(n)}` });
    } else task.maxAttempts = n;
  }
  if (input.context !== undefined) {
    if (!isPlainObject(input.context)) {
      errors.push({ field: 'context', message: `must be an object, got ${show(input.context)}` });
    } else if (JSON.stringify(input.context).length > TASK_LIMITS.contextMax) {
      errors.push({ field: 'context', message: `must serialize to at most ${TASK_LIMITS.contextMax} characters` });
    } else task.context = input.context;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, task };
}

/**
 * Check a task read from the store, whose row may have been written by something other than this daemon.
 * Returns one message per problem (empty when the task is sound); the daemon fails such a task with a
 * validation error instead of working on it.
 */
export function validateStoredTask(task: Task): string[] {
  const problems: string[] = [];
  const t = task as unknown as Record<string, unknown>;
  if (typeof t.id !== 'string' || !TASK_ID_PATTERN.test(t.id)) {
    problems.push(`id ${show(t.id)} is not a valid task id (letters, digits, "_" or "-")`);
  }
  if (typeof t.title !== 'string' || t.title.trim() === '') problems.push('title is missing or empty');
  if (typeof t.description !== 'string' || t.description.trim() === '') {
    problems.push('description is missing or empty');
  }
  if (!TASK_TYPES.includes(t.type as never)) {
    problems.push(`type ${show(t.type)} is not one of ${TASK_TYPES.join(', ')}`);
  }
  if (!TASK_PRIORITIES.includes(t.priority as never)) {
    problems.push(`priority ${show(t.priority)} is not one of ${TASK_PRIORITIES.join(', ')}`);
  }
  if (!Array.isArray(t.labels) || t.labels.some((l: unknown) => typeof l !== 'string')) {
    problems.push(`labels must be a list of label names, got ${show(t.labels)}`);
  }
  if (t.repository !== undefined && (typeof t.repository !== 'string' || !REPOSITORY_PATTERN.test(t.repository))) {
    problems.push(`repository ${show(t.repository)} is not "owner/repo"`);
  }
  if (t.context !== undefined && !isPlainObject(t.context)) {
    problems.push(`context must be an object, got ${show(t.context)}`);
  }
  if (typeof t.maxAttempts !== 'number' || !Number.isInteger(t.maxAttempts) || t.maxAttempts < 1) {
    problems.push(`maxAttempts ${show(t.maxAttempts)} is not a whole number of at least 1`);
  }
  return problems;
}
