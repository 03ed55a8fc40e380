/**
 * `codegen-pr tasks add|list|show|retry|cancel`: managing the queue by hand. Output goes through the `out` and
 * `err` callbacks so tests read it. Exit codes: 0 done, 1 the store refused (not found, wrong state, duplicate
 * id, unreachable), 2 bad usage or invalid task input (nothing was added), 3 already queued: a live task holds
 * the dedupe key (its id is printed; nothing was added). `--help` on any of them is answered by tasksHelp()
 * before a store is opened.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { DaemonError, isDuplicateTaskError, toDaemonError } from '../domain/errors.js';
import { escapeForTerminal } from '../domain/task-text.js';
import { batchProblems, validateNewTask, type FieldError } from '../domain/task-validation.js';
import {
  TASK_PRIORITIES,
  TASK_STATUSES,
  type NewTask,
  type Task,
  type TaskPriority,
  type TaskStatus,
} from '../domain/task.js';
import type { TaskStore } from '../pipeline/ports.js';
import { formatHistory, formatTaskDetails, formatTaskTable, jsonText } from './tasks-format.js';

export interface TasksCommandDeps {
  store: TaskStore;
  out: (line: string) => void;
  err: (line: string) => void;
  /**
   * Reports progress while many tasks are added (`tasks add --file`); given only when stderr is a terminal, so
   * a pipe or a log never gets progress lines.
   */
  progress?: (done: number, total: number) => void;
  /**
   * The most tasks one store call may carry now (the Task API's cap when the store is reached over HTTP), or
   * undefined for a local store, where one call of any size is one transaction: a file is added all or nothing.
   * Absent: ADD_BATCH.
   */
  addBatchLimit?: () => number | undefined;
}

/** `tasks add` refused because a live task holds the dedupe key; nothing was added. */
export const EXIT_ALREADY_QUEUED = 3;

/** Tasks per store call when adding from a file over HTTP: the Task API's batch limit, and a progress step. */
export const ADD_BATCH = 500;

const SUBCOMMAND_USAGE: Record<string, string> = {
  add: `usage: codegen-pr tasks add --title T --description D [options]
       codegen-pr tasks add --file tasks.yaml|tasks.json [--json]
  --title T                  one line, at most 300 characters (required)
  --description D            what to do, at most 64 KiB (required)
  --type T                   feature, bugfix, refactor, documentation, test or default
  --priority P               low, medium (default), high or critical
  --label L                  a label for the PR; repeat for more
  --repository owner/repo    where the PR goes (default: GITHUB_REPOSITORY)
  --id ID                    your own id (default: a generated one)
  --max-attempts N           attempts before the task fails
  --dedupe-key K             refuse the task (exit 3, printing the live task's id) while a task with this key
                             is pending, retrying or running; printable ASCII without spaces, at most 200
  -f, --file F               one task, a list of tasks, or { tasks: [...] } in JSON or YAML; all are checked
                             before any is added; progress is shown on a terminal
  --json                     print the added tasks as JSON`,
  list: `usage: codegen-pr tasks list [--status S] [--priority P] [--repository owner/repo] [--limit N] [--cursor C] [--json]
  --status S                 pending, claimed, awaiting_agent, retry, completed, failed or cancelled
  --priority P               low, medium, high or critical
  --repository owner/repo    only this repository's tasks
  --limit N                  1 to 500 (default 50)
  --cursor C                 the next page, as printed under the previous one
  --json                     { "tasks": [...], "nextCursor": ... } instead of the table`,
  show: `usage: codegen-pr tasks show <id> [--json]
  the task and its history; --json prints { "task": ..., "history": [...] }`,
  retry: `usage: codegen-pr tasks retry <id>
  put a failed or cancelled task back in the queue (pending)`,
  cancel: `usage: codegen-pr tasks cancel <id>
  cancel a task that has not finished`,
};

export const TASKS_USAGE = `usage: codegen-pr tasks <command> [--help]
  add --title T --description D [--type feature|bugfix|refactor|documentation|test|default]
      [--priority low|medium|high|critical] [--label L]... [--repository owner/repo] [--id ID] [--max-attempts N]
      [--dedupe-key K]                   exit 3 with the live task's id while a task with K is live
  add --file tasks.yaml|tasks.json       one task or a list of tasks
  list [--status S] [--priority P] [--repository owner/repo] [--limit N] [--cursor C] [--json]
  show <id> [--json]                     the task and its history
  retry <id>                             failed or cancelled -> pending
  cancel <id>                            any unfinished task -> cancelled
codegen-pr tasks <command> --help describes one command.`;

/**
 * The help `argv` asks for, if it asks for help: `tasks`, `tasks help`, `tasks --help`, `tasks <command> --help`
 * (or -h anywhere before a lone `--`). Answered without opening a store. `code` is 2 for a bare `tasks` (a usage
 * error: no command given), else 0.
 */
export function tasksHelp(argv: string[]): { text: string; code: number } | undefined {
  const [command, ...rest] = argv;
  if (command === undefined) return { text: TASKS_USAGE, code: 2 };
  if (command === 'help' || command === '--help' || command === '-h') {
    const topic = rest[0] !== undefined ? SUBCOMMAND_USAGE[rest[0]] : undefined;
    return { text: topic ?? TASKS_USAGE, code: 0 };
  }
  const end = rest.indexOf('--');
  const flags = end === -1 ? rest : rest.slice(0, end);
  if (!flags.includes('--help') && !flags.includes('-h')) return undefined;
  return { text: SUBCOMMAND_USAGE[command] ?? TASKS_USAGE, code: 0 };
}

class UsageError extends Error {}

/** What the subcommands print through: lines made terminal-safe, and JSON documents for `--json`. */
type Deps = TasksCommandDeps & { json: (value: unknown) => void };

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
  copy('dedupe-key', 'dedupeKey');
  const max = values['max-attempts'];
  // Left as text when not a number, so validation names the field and shows what was given.
  if (typeof max === 'string') input.maxAttempts = /^\d+$/.test(max) ? Number(max) : max;
  return input;
}

async function add(argv: string[], deps: Deps): Promise<number> {
  const { values, positionals } = parse(argv, {
    title: { type: 'string' },
    description: { type: 'string' },
    type: { type: 'string' },
    priority: { type: 'string' },
    label: { type: 'string', multiple: true },
    repository: { type: 'string' },
    id: { type: 'string' },
    'max-attempts': { type: 'string' },
    'dedupe-key': { type: 'string' },
    file: { type: 'string', short: 'f' },
    json: { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const { file, json, ...fields } = values;
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
  // Two tasks of one file with the same dedupe key: the second could never be added while the first is live.
  if (errors.length === 0) {
    const repeated = batchProblems(tasks, (i) => `task ${i + 1}`, ': ');
    errors.push(...repeated.map((e) => ({ ...e, index: -1 })));
  }
  if (errors.length > 0) {
    const flagged = typeof file !== 'string';
    for (const e of errors) {
      const where = flagged || e.index < 0 ? e.field : `task ${e.index + 1}: ${e.field}`;
      deps.err(`invalid task: ${where} ${e.message}`);
    }
    deps.err(`nothing was added (${errors.length} problem${errors.length === 1 ? '' : 's'})`);
    return 2;
  }
  let added: Task[];
  /** What earlier batches stored before a refusal (over HTTP, a file goes in batches). */
  const stored: Task[] = [];
  try {
    added = await addInBatches(tasks, deps, stored);
  } catch (error) {
    const failure = toDaemonError(error);
    if (failure.code !== 'task-duplicate') throw error;
    // Not a failure of the store: the work is already queued. Say which task holds it, for people and scripts.
    const existing = isDuplicateTaskError(failure) ? failure.existingTaskId : undefined;
    const kept =
      stored.length === 0
        ? 'nothing was added'
        : `the first ${stored.length} of ${tasks.length} tasks were added, the rest were not`;
    deps.err(`already queued: ${failure.message}; ${kept}`);
    if (json === true) deps.json({ error: 'task-duplicate', ...(existing ? { existingTaskId: existing } : {}) });
    return EXIT_ALREADY_QUEUED;
  }
  if (json === true) {
    deps.json({ tasks: added });
    return 0;
  }
  for (const task of added)
    deps.out(`added ${task.id} (${task.status}, ${task.priority}, ${task.type}): ${task.title}`);
  return 0;
}

/**
 * Adds `tasks` in store calls of at most the store's batch limit, reporting progress after each: one call, all or
 * nothing, on a local store or when they fit in one; over HTTP a store that refuses a later batch leaves the
 * earlier ones added, and the error says how many.
 */
async function addInBatches(tasks: NewTask[], deps: Deps, added: Task[] = []): Promise<Task[]> {
  deps.progress?.(0, tasks.length);
  const size = deps.addBatchLimit ? (deps.addBatchLimit() ?? tasks.length) : ADD_BATCH;
  for (let start = 0; start < tasks.length; start += size) {
    try {
      added.push(...(await deps.store.addTasks(tasks.slice(start, start + size), 'cli')));
    } catch (error) {
      if (added.length === 0) throw error;
      const failure = toDaemonError(error);
      // The caller says what was added before a duplicate; the live task's id stays on the error.
      if (isDuplicateTaskError(failure)) throw failure;
      throw new DaemonError(
        `added ${added.length} of ${tasks.length} tasks, then the store refused the rest: ${failure.message}`,
        { code: failure.code, category: failure.category, cause: error },
      );
    }
    deps.progress?.(added.length, tasks.length);
  }
  return added;
}

async function list(argv: string[], deps: Deps): Promise<number> {
  const { values, positionals } = parse(argv, {
    status: { type: 'string' },
    priority: { type: 'string' },
    repository: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    json: { type: 'boolean' },
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
  if (values.json === true) {
    deps.json({ tasks: page.tasks, nextCursor: page.nextCursor ?? null });
    return 0;
  }
  if (page.tasks.length === 0) {
    deps.out('no tasks');
    return 0;
  }
  for (const line of formatTaskTable(page.tasks)) deps.out(line);
  if (page.nextCursor) deps.out(`more: codegen-pr tasks list --cursor ${page.nextCursor}`);
  return 0;
}

async function show(argv: string[], deps: Deps): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } });
  const id = oneId(positionals, 'show');
  const task = await deps.store.getTask(id);
  if (!task) {
    deps.err(`task ${id} does not exist`);
    return 1;
  }
  if (values.json === true) {
    deps.json({ task, history: await deps.store.getTaskHistory(id) });
    return 0;
  }
  for (const line of formatTaskDetails(task)) deps.out(line);
  deps.out('');
  deps.out('history:');
  for (const line of formatHistory(await deps.store.getTaskHistory(id))) deps.out(`  ${line}`);
  return 0;
}

async function changeStatus(argv: string[], deps: Deps, command: 'retry' | 'cancel'): Promise<number> {
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
  const deps: Deps = { ...raw, out: safe(raw.out), err: safe(raw.err), json: (value) => raw.out(jsonText(value)) };
  const help = tasksHelp(argv);
  if (help) {
    (help.code === 0 ? raw.out : raw.err)(help.text);
    return help.code;
  }
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
