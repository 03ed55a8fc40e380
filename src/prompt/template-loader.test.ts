import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DaemonError } from '../domain/errors.js';
import { loadUserTemplates } from './template-loader.js';

const dirs: string[] = [];
function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'prompt-templates-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function caught(fn: () => unknown): DaemonError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DaemonError) return err;
    throw err;
  }
  throw new Error('expected a DaemonError');
}

describe('loadUserTemplates', () => {
  it('returns nothing when no directory is configured', () => {
    expect(loadUserTemplates('')).toEqual({});
  });

  it('reads <name>.md files by name, ignoring other files and subdirectories', () => {
    const dir = tempDir({ 'feature_template.md': '# {{TASK_TITLE}}\n', 'notes.txt': 'x', 'mine.md': 'Mine\n' });
    mkdirSync(path.join(dir, 'sub.md'));
    expect(loadUserTemplates(dir)).toEqual({ feature_template: '# {{TASK_TITLE}}\n', mine: 'Mine\n' });
  });

  it('normalises CRLF line endings and drops a byte-order mark', () => {
    const dir = tempDir({ 'a.md': '\uFEFFline 1\r\nline 2\r\n' });
    expect(loadUserTemplates(dir)).toEqual({ a: 'line 1\nline 2\n' });
  });

  it('refuses a directory that does not exist, naming the setting', () => {
    const err = caught(() => loadUserTemplates(path.join(tmpdir(), 'no-such-dir-for-templates')));
    expect(err.category).toBe('configuration');
    expect(err.code).toBe('prompt-templates-dir-unreadable');
    expect(err.message).toContain('PROMPT_TEMPLATES_DIR');
  });

  it('refuses a malformed template, naming the file', () => {
    const dir = tempDir({ 'bad.md': 'hello {{#X}} never closed' });
    const err = caught(() => loadUserTemplates(dir));
    expect(err.code).toBe('prompt-template-invalid');
    expect(err.message).toContain(path.join(dir, 'bad.md'));
  });

  it('refuses a template larger than 64 KiB', () => {
    const dir = tempDir({ 'big.md': 'x'.repeat(64 * 1024 + 1) });
    expect(caught(() => loadUserTemplates(dir)).code).toBe('prompt-template-too-large');
  });
});
