/**
 * The bad-configuration corpus (bad-values.json): every entry must be refused with exit code 78, an issue
 * under its key naming its variable, a message that says what to set, and no secret in the answer. Most
 * entries load in-process; those marked `cli` also run through the built CLI to prove the exit code and the
 * message end to end.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config/load.js';

interface Case {
  name: string;
  env: Record<string, string>;
  files?: Record<string, string>;
  exit: number;
  key: string;
  variable: string | null;
  set: string;
  secret?: string;
  issues?: number;
  cli?: boolean;
}

const corpus = JSON.parse(readFileSync(new URL('./bad-values.json', import.meta.url), 'utf8')) as { cases: Case[] };
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The case's environment, with {dir} replaced by a fresh directory holding its files. */
function prepare(entry: Case): Record<string, string> {
  if (!entry.files) return entry.env;
  const dir = mkdtempSync(path.join(tmpdir(), 'cfg-corpus-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(entry.files)) writeFileSync(path.join(dir, name), content);
  return Object.fromEntries(Object.entries(entry.env).map(([k, v]) => [k, v.replaceAll('{dir}', dir)]));
}

/** The line of `message` that is about the case's key. */
function lineFor(entry: Case, message: string): string {
  const line = message.split('\n').find((l) => l.includes(entry.key));
  expect(line).toBeDefined();
  return line as string;
}

function expectAnswer(entry: Case, message: string): void {
  const line = lineFor(entry, message);
  if (entry.variable) {
    expect(line).toContain(entry.variable);
    expect(line).toMatch(new RegExp(`set ${entry.variable} to .*${escape(entry.set)}`));
  } else {
    expect(line).toContain(entry.set);
  }
  if (entry.secret) expect(message).not.toContain(entry.secret);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('bad configuration corpus', () => {
  it('holds at least 60 cases, each with its expected answer', () => {
    expect(corpus.cases.length).toBeGreaterThanOrEqual(60);
    for (const entry of corpus.cases) {
      expect(entry).toMatchObject({ exit: 78, key: expect.any(String), set: expect.any(String) });
    }
    expect(new Set(corpus.cases.map((c) => c.name)).size).toBe(corpus.cases.length);
  });

  it.each(corpus.cases.map((c) => [c.name, c] as const))('refuses by name: %s', (_name, entry) => {
    let caught: unknown;
    try {
      loadConfig({ env: prepare(entry), dotenvPath: false, configDir: '/nonexistent' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.exitCode).toBe(entry.exit);
    const mine = error.issues.filter((i) => i.key === entry.key);
    expect(mine).toHaveLength(1);
    if (entry.variable) expect(mine[0]?.env).toBe(entry.variable);
    // Only what the case breaks is refused: no other key is dragged in.
    expect(error.issues).toHaveLength(entry.issues ?? 1);
    expectAnswer(entry, error.message);
  });
});

describe('bad configuration through the CLI', () => {
  const main = path.resolve('dist/src/main.js');
  const cwd = mkdtempSync(path.join(tmpdir(), 'cfg-cli-'));
  dirs.push(cwd);

  it.each(corpus.cases.filter((c) => c.cli).map((c) => [c.name, c] as const))(
    'codegen-pr config exits 78 naming the key: %s',
    async (_name, entry) => {
      // A clean working directory: no .env and no config/ of the developer's can leak in.
      const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [main, 'config'],
          { cwd, env: { PATH: process.env.PATH ?? '', ...prepare(entry) } },
          (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
        );
      });
      expect(result.code).toBe(78);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('codegen-pr: invalid configuration');
      expectAnswer(entry, result.stderr);
    },
  );
});
