/**
 * The CLI follows the conventions a person expects: `--help` on every command and subcommand, answered without
 * reading configuration or opening a store; `--json` for scripts; titles in `tasks list`; the exit codes the
 * README documents (every example in its table is run here); progress on a terminal, and only there, when adding
 * thousands of tasks from a file.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { runCli } from './cli-process.js';

const MAIN = path.resolve('dist/src/main.js');
const fresh = (): string => mkdtempSync(path.join(tmpdir(), 'codegen-pr-cli-'));

describe('--help', () => {
  const commands = [
    ['--help'],
    ['help'],
    ['run', '--help'],
    ['task-api', '--help'],
    ['config', '--help'],
    ['tasks', '--help'],
    ['tasks', 'help'],
    ['tasks', 'add', '--help'],
    ['tasks', 'list', '--help'],
    ['tasks', 'show', '-h'],
    ['tasks', 'retry', '--help'],
    ['tasks', 'cancel', '--help'],
  ];

  it.each(commands.map((args) => [args.join(' '), args] as const))(
    '%s prints usage and exits 0, opening no store',
    async (_name, args) => {
      const cwd = fresh();
      // A store that cannot be reached, and a configuration that does not load: help needs neither.
      const result = await runCli(cwd, args, {
        TASK_STORE: 'postgres',
        DATABASE_URL: 'postgres://127.0.0.1:1/none',
        LOG_LEVEL: 'loud',
      });
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/usage|Usage/);
      expect(existsSync(path.join(cwd, 'data'))).toBe(false);
    },
  );

  it('describes each tasks subcommand by its own options', async () => {
    const add = await runCli(fresh(), ['tasks', 'add', '--help']);
    expect(add.stdout).toContain('--max-attempts');
    expect(add.stdout).toContain('--file');
    const list = await runCli(fresh(), ['tasks', 'list', '--help']);
    expect(list.stdout).toContain('--status');
    expect(list.stdout).not.toContain('--max-attempts');
  });
});

describe('exit codes', () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('### Exit codes'));
  const rows = [...section.matchAll(/^\| (\d+) +\| [^|]+\| `([^`]+)` +\|$/gm)].map((m) => ({
    code: Number(m[1]),
    example: m[2] ?? '',
  }));

  it('are documented in the README with an example each', () => {
    expect(rows.map((r) => r.code)).toEqual([0, 1, 2, 3, 78]);
  });

  it.each(rows.map((r) => [r.example, r] as const))('`%s` exits as documented', async (_example, row) => {
    // "A=b C=d codegen-pr args...": the environment first, then the command's arguments.
    const words = row.example.split(' ');
    const env: Record<string, string> = {};
    while (words[0]?.includes('=')) {
      const [key = '', value = ''] = (words.shift() ?? '').split('=');
      env[key] = value;
    }
    expect(words.shift()).toBe('codegen-pr');
    const cwd = fresh();
    // 3 (already queued) is the answer to adding the same dedupe key twice: the first run adds it.
    if (row.code === 3) expect((await runCli(cwd, words, env)).code).toBe(0);
    const result = await runCli(cwd, words, env);
    expect(result.code).toBe(row.code);
  });

  it('2 for an unknown command or option, with the usage', async () => {
    const unknown = await runCli(fresh(), ['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const option = await runCli(fresh(), ['run', '--frobnicate']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('unexpected option "--frobnicate"');
  });
});

describe('output for people and for scripts', () => {
  it('lists titles, and prints list, show, add and config as JSON with --json', async () => {
    const cwd = fresh();
    const title = 'Add a /health endpoint to the café';
    const added = await runCli(cwd, ['tasks', 'add', '--json', '--title', title, '--description', 'Return 200']);
    expect(added.code).toBe(0);
    const { tasks } = JSON.parse(added.stdout) as { tasks: Array<{ id: string; title: string }> };
    const id = tasks[0]?.id ?? '';
    expect(tasks[0]?.title).toBe(title);
    // Non-ASCII text travels as JSON escapes (bidirectional controls included): nothing a terminal acts on.
    expect(added.stdout).not.toContain('café');
    expect(added.stdout).toContain('caf\\u00e9');

    const table = await runCli(cwd, ['tasks', 'list']);
    expect(table.stdout.split('\n')[0]).toMatch(/ TITLE$/);
    expect(table.stdout).toContain('Add a /health endpoint');

    const list = JSON.parse((await runCli(cwd, ['tasks', 'list', '--json'])).stdout) as {
      tasks: Array<{ id: string; title: string }>;
      nextCursor: string | null;
    };
    expect(list).toMatchObject({ tasks: [{ id, title }], nextCursor: null });

    const show = JSON.parse((await runCli(cwd, ['tasks', 'show', id, '--json'])).stdout) as {
      task: { id: string; status: string };
      history: Array<{ kind: string }>;
    };
    expect(show.task).toMatchObject({ id, status: 'pending' });
    expect(show.history.length).toBeGreaterThan(0);

    const config = await runCli(cwd, ['config', '--json'], {
      GITHUB_TOKEN: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    });
    expect(JSON.parse(config.stdout)).toMatchObject({ log: { level: 'info' } });
    expect(config.stdout).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
    const options = JSON.parse((await runCli(cwd, ['config', '--env', '--json'])).stdout) as Array<{ env?: string }>;
    expect(options.map((o) => o.env)).toContain('LOG_FORMAT');
  });

  it('shows progress on a terminal when adding thousands of tasks from a file, and never in a pipe', async () => {
    const cwd = fresh();
    const file = path.join(cwd, 'tasks.json');
    const many = Array.from({ length: 1_200 }, (_, i) => ({ title: `Task ${i}`, description: 'Bulk.' }));
    writeFileSync(file, JSON.stringify(many));

    const piped = await runCli(cwd, ['tasks', 'add', '--file', file]);
    expect(piped.code).toBe(0);
    expect(piped.stdout.trimEnd().split('\n')).toHaveLength(1_200);
    expect(piped.stderr).toBe('');

    // script(1) gives the CLI a terminal; stderr and stdout both arrive on it.
    const command = `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} tasks add --file tasks.json --json`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', TERM: 'dumb' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let shown = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (shown += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(shown).toContain('adding tasks: 0 of 1200 (0%)');
    // The CLI owns ./data here, so the file goes in as one transaction: progress from nothing to all. Over the
    // Task API (or an owner) it moves in steps of 500: test/integration/tasks-command.test.ts.
    expect(shown).toContain('adding tasks: 1200 of 1200 (100%)');
  });
});
