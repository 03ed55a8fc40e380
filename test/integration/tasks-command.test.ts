/**
 * `codegen-pr tasks ...` against a real in-memory SQLite store (the embedded default, and quick to open on a
 * loaded machine, where PGlite's start alone could outlast the hook's timeout): what a person types and reads.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  createSqliteTaskStore,
  migrateSqlite,
  openSqliteDatabase,
  SQLITE_MEMORY,
} from '../../src/adapters/task-store/sqlite/index.js';
import { runTasksCommand } from '../../src/cli/tasks-command.js';
import type { TaskStore } from '../../src/pipeline/ports.js';

describe('tasks command (SQLite in memory)', () => {
  let store: TaskStore;
  let dir: string;
  let out: string[];
  let err: string[];
  const run = (...argv: string[]) =>
    runTasksCommand(argv, { store, out: (line) => out.push(line), err: (line) => err.push(line) });

  beforeAll(async () => {
    const database = openSqliteDatabase(SQLITE_MEMORY);
    migrateSqlite(database);
    store = createSqliteTaskStore(database);
    dir = await mkdtemp(path.join(tmpdir(), 'codegen-pr-tasks-'));
  });
  afterAll(async () => {
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    out = [];
    err = [];
  });

  it('adds a task from flags', async () => {
    const code = await run(
      'add',
      '--id',
      'cli-1',
      '--title',
      'Add dark mode',
      '--description',
      'Follow the design doc',
      '--type',
      'feature',
      '--priority',
      'high',
      '--label',
      'ui',
      '--label',
      'codegen',
      '--repository',
      'acme/web',
      '--max-attempts',
      '4',
    );
    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(out).toEqual(['added cli-1 (pending, high, feature): Add dark mode']);
    expect(await store.getTask('cli-1')).toMatchObject({
      labels: ['ui', 'codegen'],
      repository: 'acme/web',
      maxAttempts: 4,
      type: 'feature',
    });
  });

  it('adds every task of a YAML file', async () => {
    const file = path.join(dir, 'tasks.yaml');
    await writeFile(
      file,
      [
        '- id: yaml-1',
        '  title: Fix the login bug',
        '  description: |',
        '    Users are logged out after 5 minutes.',
        '  type: bugfix',
        '  priority: critical',
        '  labels: [bug]',
        '- id: yaml-2',
        '  title: Document the API',
        '  description: Every endpoint.',
        '  type: documentation',
        '  context:',
        '    files: [docs/api.md]',
      ].join('\n'),
    );
    expect(await run('add', '--file', file)).toBe(0);
    expect(out).toHaveLength(2);
    expect(await store.getTask('yaml-1')).toMatchObject({ type: 'bugfix', priority: 'critical', labels: ['bug'] });
    expect(await store.getTask('yaml-2')).toMatchObject({ context: { files: ['docs/api.md'] } });
  });

  it('prints every field error of invalid input and adds nothing', async () => {
    const before = await store.countByStatus();
    const file = path.join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify([
        { id: 'ok-but-not-added', title: 'fine', description: 'fine' },
        { title: '', description: 'x', priority: 'urgent', repository: 'no-slash' },
      ]),
    );
    expect(await run('add', '--file', file)).toBe(2);
    expect(err.join('\n')).toMatch(/task 2: title must not be empty/);
    expect(err.join('\n')).toMatch(/task 2: priority must be one of low, medium, high, critical/);
    expect(err.join('\n')).toMatch(/task 2: repository must be "owner\/repo"/);
    expect(err.at(-1)).toBe('nothing was added (3 problems)');
    expect(await store.getTask('ok-but-not-added')).toBeUndefined();

    err = [];
    expect(await run('add', '--title', 'No description', '--max-attempts', 'lots')).toBe(2);
    expect(err).toContain('invalid task: description is required');
    expect(err.join('\n')).toMatch(/maxAttempts must be a whole number from 1 to 20, got "lots"/);
    expect(await store.countByStatus()).toEqual(before);
  });

  it('lists tasks as an aligned table, with a status filter and a limit', async () => {
    expect(await run('list')).toBe(0);
    expect(out[0]).toMatch(/^ID\s+STATUS\s+PRIORITY\s+TYPE\s+ATTEMPTS\s+REPOSITORY\s+PR\s+UPDATED\s+TITLE$/);
    const statusColumn = out[0]!.indexOf('STATUS');
    const rows = out.slice(1);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(['yaml-2', 'yaml-1', 'cli-1']);
    expect(rows.every((r) => r.slice(statusColumn).startsWith('pending'))).toBe(true);
    expect(rows[2]).toMatch(
      /cli-1\s+pending\s+high\s+feature\s+0\/4\s+acme\/web\s+-\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}Add dark mode$/,
    );

    out = [];
    expect(await run('list', '--limit', '1')).toBe(0);
    expect(out).toHaveLength(3);
    expect(out[2]).toMatch(/^more: codegen-pr tasks list --cursor \S+$/);

    out = [];
    expect(await run('list', '--status', 'failed')).toBe(0);
    expect(out).toEqual(['no tasks']);
    expect(await run('list', '--status', 'bogus')).toBe(2);
    expect(err[0]).toMatch(/--status must be one of/);
  });

  it('shows a task with its history', async () => {
    const [claimed] = await store.claimTasks({ worker: 'host:1:abc', limit: 1, leaseMs: 60_000 });
    expect(claimed!.task.id).toBe('yaml-1'); // critical first
    await store.recordAgentRun('yaml-1', claimed!.lease.token, { id: 321, url: 'https://codegen.com/321' });
    expect(await run('show', 'yaml-1')).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/^id:\s+yaml-1$/m);
    expect(text).toMatch(/^status:\s+awaiting_agent$/m);
    expect(text).toMatch(/^agent run:\s+321$/m);
    expect(text).toMatch(/^ {2}Users are logged out after 5 minutes\.$/m);
    expect(text).toMatch(/history:\n.*cli\s+created\s+- -> pending/);
    expect(text).toMatch(/host:1:abc\s+claimed\s+pending -> claimed/);
    expect(text).toMatch(/host:1:abc\s+agent-run-recorded\s+claimed -> awaiting_agent\s+\{"agentRunId":321/);

    expect(await run('show', 'missing')).toBe(1);
    expect(err).toEqual(['task missing does not exist']);
  });

  it('cancels and retries, printing the new status', async () => {
    expect(await run('cancel', 'yaml-1')).toBe(0);
    expect(await run('retry', 'yaml-1')).toBe(0);
    expect(out).toEqual(['yaml-1: cancelled', 'yaml-1: pending']);
    expect(await store.getTask('yaml-1')).toMatchObject({ status: 'pending', attempts: 0 });

    expect(await run('retry', 'yaml-2')).toBe(1);
    expect(err).toEqual([
      'error: task yaml-2 is pending: cannot retry it (only failed or cancelled) (invalid-transition)',
    ]);
  });

  it('explains bad usage', async () => {
    expect(await run('frobnicate')).toBe(2);
    expect(err[0]).toBe('error: unknown tasks command "frobnicate"');
    err = [];
    expect(await run('add', '--nope')).toBe(2);
    expect(err[0]).toMatch(/--nope/);
    err = [];
    expect(await run('show')).toBe(2);
    expect(err[0]).toBe('error: tasks show takes exactly one task id');
    err = [];
    expect(await run('add', '--file', path.join(dir, 'absent.yaml'))).toBe(2);
    expect(err[0]).toMatch(/cannot read .*absent\.yaml/);
  });

  it('adds a long file 500 at a time with progress, and says how far it got when the store refuses a batch', async () => {
    const file = path.join(dir, 'many.json');
    const many = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, title: `Bulk ${i}`, description: 'Bulk.' }));
    await writeFile(file, JSON.stringify(many('bulk', 1_200)));
    const steps: string[] = [];
    const progress = (done: number, total: number) => steps.push(`${done}/${total}`);
    const code = await runTasksCommand(['add', '--file', file], {
      store,
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      progress,
    });
    expect(code).toBe(0);
    expect(out).toHaveLength(1_200);
    expect(steps).toEqual(['0/1200', '500/1200', '1000/1200', '1200/1200']);

    // The second batch repeats an id the first batch added: the first 500 stay, the error says so.
    await writeFile(file, JSON.stringify([...many('more', 500), ...many('more', 10)]));
    out = [];
    expect(await run('add', '--file', file)).toBe(1);
    expect(err[0]).toMatch(/^error: added 500 of 510 tasks, then the store refused the rest: /);
    expect(await store.getTask('more-499')).toBeDefined();
  });

  it('adds a file in one call, all or nothing, when the store is local (no batch limit)', async () => {
    const file = path.join(dir, 'local.json');
    const many = Array.from({ length: 1_200 }, (_, i) => ({ id: `local-${i}`, title: `L ${i}`, description: 'd' }));
    // The last task repeats the first one's id: the store refuses the call, and nothing of the file is kept.
    await writeFile(file, JSON.stringify([...many, many[0]]));
    const steps: string[] = [];
    const deps = {
      store,
      out: (line: string) => out.push(line),
      err: (line: string) => err.push(line),
      progress: (done: number, total: number) => steps.push(`${done}/${total}`),
      addBatchLimit: () => undefined,
    };
    expect(await runTasksCommand(['add', '--file', file], deps)).toBe(1);
    expect(await store.getTask('local-0')).toBeUndefined();
    expect(await store.getTask('local-1199')).toBeUndefined();

    await writeFile(file, JSON.stringify(many));
    out = [];
    steps.length = 0;
    expect(await runTasksCommand(['add', '--file', file], deps)).toBe(0);
    expect(out).toHaveLength(1_200);
    expect(steps).toEqual(['0/1200', '1200/1200']);
  });

  it('exits 3 with the live task’s id when its dedupe key is taken, and adds nothing', async () => {
    const first = [
      'add',
      '--id',
      'dd-1',
      '--title',
      'Fix #12',
      '--description',
      'd',
      '--dedupe-key',
      'issue:acme/web#12',
    ];
    expect(await run(...first)).toBe(0);
    expect((await store.getTask('dd-1'))!.dedupeKey).toBe('issue:acme/web#12');
    out = [];
    expect(await run('show', 'dd-1')).toBe(0);
    expect(out).toContainEqual(expect.stringMatching(/^dedupe key: +issue:acme\/web#12$/));

    err = [];
    out = [];
    const again = ['add', '--title', 'Fix #12 again', '--description', 'd', '--dedupe-key', 'issue:acme/web#12'];
    expect(await run(...again)).toBe(3);
    expect(out).toEqual([]);
    expect(err).toEqual(['already queued: a live task with this dedupeKey already exists: dd-1; nothing was added']);
    // For scripts, --json names the live task on stdout.
    err = [];
    expect(await run(...again, '--json')).toBe(3);
    expect(JSON.parse(out.join('\n'))).toEqual({ error: 'task-duplicate', existingTaskId: 'dd-1' });

    // A file that repeats a key is invalid input (2), naming both tasks; a bad key names the flag's field.
    const file = path.join(dir, 'dupes.json');
    await writeFile(
      file,
      JSON.stringify([
        { title: 'a', description: 'd', dedupeKey: 'k-file' },
        { title: 'b', description: 'd', dedupeKey: 'k-file' },
      ]),
    );
    err = [];
    expect(await run('add', '--file', file)).toBe(2);
    expect(err).toEqual([
      'invalid task: task 2: dedupeKey repeats the dedupeKey of task 1',
      'nothing was added (1 problem)',
    ]);
    err = [];
    expect(await run('add', '--title', 't', '--description', 'd', '--dedupe-key', 'two words')).toBe(2);
    expect(err[0]).toMatch(/^invalid task: dedupeKey must be 1 to 200 printable ASCII characters without spaces/);

    // Once the live task is final, the key can be used again.
    await store.cancelTask('dd-1');
    out = [];
    expect(await run(...again)).toBe(0);
    expect(out[0]).toMatch(/^added t-[0-9a-f]{16} \(pending, medium, default\): Fix #12 again$/);
  });

  it('says how far it got when a later batch holds a key a live task has, and still exits 3 with its id', async () => {
    await store.addTasks([{ id: 'holder', title: 'h', description: 'd', dedupeKey: 'k-held' }]);
    const file = path.join(dir, 'batches.json');
    await writeFile(
      file,
      JSON.stringify([
        { id: 'batch-1', title: 'a', description: 'd' },
        { id: 'batch-2', title: 'b', description: 'd' },
        { id: 'batch-3', title: 'c', description: 'd', dedupeKey: 'k-held' },
      ]),
    );
    const deps = { store, out: (l: string) => out.push(l), err: (l: string) => err.push(l), addBatchLimit: () => 2 };
    expect(await runTasksCommand(['add', '--file', file, '--json'], deps)).toBe(3);
    expect(err).toEqual([
      'already queued: a live task with this dedupeKey already exists: holder; the first 2 of 3 tasks were added, the rest were not',
    ]);
    expect(JSON.parse(out.join('\n'))).toEqual({ error: 'task-duplicate', existingTaskId: 'holder' });
    expect(await store.getTask('batch-2')).toBeDefined();
  });
});
