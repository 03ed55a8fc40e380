/**
 * `codegen-pr tasks add|list|show|retry|cancel`: managing the queue by hand. Output goes through the `out` and
 * `err` callbacks so tests read it. Exit codes: 0 done, 1 the store refused (not found, wrong state, duplicate
 * id, unreachable), 2 bad usage or invalid task input (nothing was added).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { toDaemonError } from '../domain/errors.js';
import { escapeForTerminal } from '../domain/task-text.js';
import { validateNewTask, type FieldError } from '../domain/task-validation.js';
import { TASK_PRIORITIES, TASK_STATUSES, type NewTask, type TaskPriority, type TaskStatus } from '../domain/task.js';
import type { TaskStore } from '../pipeline/ports.js';
import { formatHistory, formatTaskDetails, formatTaskTable } from './tasks-format.js';

export interface TasksCommandDeps {
  store: TaskStore;
  out: (line: string) => void;
  err: (line: string) => void;
}

export const TASKS_USAGE = `usage: codegen-pr tasks <command>
  add --title T --description D [--type feature|bugfix|refactor|documentation|test|default]
      [--priority low|medium|high|critical] [--label L]... [--repository owner/repo] [--id ID] [--max-attempts N]
  add --file tasks.yaml|tasks.json       one task or a list of tasks
  list [--status S] [--priority P] [--repository owner/repo] [--limit N] [--cursor C]
  show <id>                              the task and its history
  retry <id>                             failed or cancelled -> pending
  cancel <id>                            any unfinished task -> cancelled`;

class UsageError extends Error {}

function parse(argv: string[], options: NonNullable<Parameters<typeof parseArgs>[0]>['options']) {
  try {
    return parseArgs({ args: argv, options: options ?? {}, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function oneId(positionals: string[], command: string): string {
  const [id, ...extra] = positionals;
  if (!id || extra.length > 0) throw new UsageError(`tasks ${command} takes exactly one task id`);
  return id;
}

/** Tasks from a JSON or YAML file (YAML is a superset of JSON, so one parser reads both). */
async function readTaskFile(path: string): Promise<unknown[]> {
  let textValue: string;
  try {
    textValue = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let data: unknown;
  try {
    data = parseYaml(textValue);
  } catch (error) {
    throw new UsageError(
      `${path} is not valid JSON or YAML: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  // Accept a bare list, one task, or { tasks: [...] }.
  if (Array.isArray(data)) return data;
  if (data && typeof data === 'object' && Array.isArray((data as { tasks?: unknown }).tasks)) {
    return (data as { tasks: unknown[] }).tasks;
  }
  return [data];
}

function taskFromFlags(values: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const copy = (flag: string, field: string) => {
    if (values[flag] !== undefined) input[field] = values[flag];
  };
  copy('title', 'title');
  copy('description', 'description');
  copy('type', 'type');
  copy('priority', 'priority');
  copy('repository', 'repository');
  copy('id', 'id');
  copy('label', 'labels');
  const max = values['max-attempts'];
  // Left as text when not a number, so validation names the field and shows what was given.
  if (typeof max === 'string') input.maxAttempts = /^\d+$/.test(max) ? Number(max) : max;
  return input;
}

async function add(argv: string[], deps: TasksCommandDeps): Promise<number> {
  const { values, positionals } = parse(argv, {
    title: { type: 'string' },
    description: { type: 'string' },
    type: { type: 'string' },
    priority: { type: 'string' },
    label: { type: 'string', multiple: true },
    repository: { type: 'string' },
    id: { type: 'string' },
    'max-attempts': { type: 'string' },
    file: { type: 'string', short: 'f' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const { file, ...fields } = values;
  if (typeof file === 'string' && Object.keys(fields).length > 0) {
    throw new UsageError('use either --file or the task flags, not both');
  }
  const inputs = typeof file === 'string' ? await readTaskFile(file) : [taskFromFlags(fields)];
  if (inputs.length === 0) throw new UsageError(`${String(file)} holds no tasks`);

  const tasks: NewTask[] = [];
  const errors: Array<FieldError & { index: number }> = [];
  inputs.forEach((input, index) => {
    const result = validateNewTask(input);
    if (result.ok) tasks.push(result.task);
    else errors.push(...result.errors.map((e) => ({ ...e, index })));
  });
  if (errors.length > 0) {
    const flagged = typeof file !== 'string';
    for (const e of errors) {
      const where = flagged ? e.field : `task ${e.index + 1}: ${e.field}`;
      deps.err(`invalid task: ${where} ${e.message}`);
    }
    deps.err(`nothing was added (${errors.length} problem${errors.length === 1 ? '' : 's'})`);
    return 2;
  }
  const added = await deps.store.addTasks(tasks, 'cli');
  for (const task of added)
    deps.out(`added ${task.id} (${task.status}, ${task.priority}, ${task.type}): ${task.title}`);
  return 0;
}

async function list(argv: string[], deps: TasksCommandDeps): Promise<number> {
  const { values, positionals } = parse(argv, {
    status: { type: 'string' },
    priority: { type: 'string' },
    repository: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const status = values.status as string | undefined;
  if (status !== undefined && !TASK_STATUSES.includes(status as TaskStatus)) {
    throw new UsageError(`--status must be one of ${TASK_STATUSES.join(', ')}`);
  }
  const priority = values.priority as string | undefined;
  if (priority !== undefined && !TASK_PRIORITIES.includes(priority as TaskPriority)) {
    throw new UsageError(`--priority must be one of ${TASK_PRIORITIES.join(', ')}`);
  }
  const limitText = values.limit as string | undefined;
  const limit = limitText === undefined ? 50 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit must be 1 to 500');
  const page = await deps.store.listTasks({
    limit,
    ...(status ? { status: status as TaskStatus } : {}),
    ...(priority ? { priority: priority as TaskPriority } : {}),
    ...(typeof values.repository === 'string' ? { repository: values.repository } : {}),
    ...(typeof values.cursor === 'string' ? { cursor: values.cursor } : {}),
  });
  if (page.tasks.length === 0) {
    deps.out('no tasks');
    return 0;
  }
  for (const line of formatTaskTable(page.tasks)) deps.out(line);
  if (page.nextCursor) deps.out(`more: codegen-pr tasks list --cursor ${page.nextCursor}`);
  return 0;
}

async function show(argv: string[], deps: TasksCommandDeps): Promise<number> {
  const id = oneId(parse(argv, {}).positionals, 'show');
  const task = await deps.store.getTask(id);
  if (!task) {
    deps.err(`task ${id} does not exist`);
    return 1;
  }
  for (const line of formatTaskDetails(task)) deps.out(line);
  deps.out('');
  deps.out('history:');
  for (const line of formatHistory(await deps.store.getTaskHistory(id))) deps.out(`  ${line}`);
  return 0;
}

async function changeStatus(argv: string[], deps: TasksCommandDeps, command: 'retry' | 'cancel'): Promise<number> {
  const id = oneId(parse(argv, {}).positionals, command);
  const task = command === 'retry' ? await deps.store.retryTask(id, 'cli') : await deps.store.cancelTask(id, 'cli');
  deps.out(`${task.id}: ${task.status}`);
  return 0;
}

/** Run `tasks <argv>`; resolves to the process exit code and never throws. */
export async function runTasksCommand(argv: string[], raw: TasksCommandDeps): Promise<number> {
  // Every line printed is made terminal-safe, messages from the store included (tasks-format escapes cells).
  const safe = (print: (line: string) => void) => (line: string) =>
    print(escapeForTerminal(line, { keepLineBreaks: true }));
  const deps: TasksCommandDeps = { ...raw, out: safe(raw.out), err: safe(raw.err) };
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'add':
        return await add(rest, deps);
      case 'list':
        return await list(rest, deps);
      case 'show':
        return await show(rest, deps);
      case 'retry':
      case 'cancel':
        return await changeStatus(rest, deps, command);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        deps.out(TASKS_USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown tasks command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      deps.err(`error: ${error.message}`);
      deps.err(TASKS_USAGE);
      return 2;
    }
    const failure = toDaemonError(error);
    deps.err(`error: ${failure.message} (${failure.code})`);
    return 1;
  }
}
