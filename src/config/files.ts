/**
 * Reading the files configuration comes from: config/*.json, the file CODEGEN_PR_CONFIG names, and .env.
 * A problem names the file's path and never quotes its content (a config file may hold tokens).
 */
import { readFileSync, statSync } from 'node:fs';
import dotenv from 'dotenv';
import { sourceIssue, type ConfigIssue } from './issues.js';

/** A configuration file is a few kilobytes; a large one is the wrong file (or /dev/zero). */
const MAX_FILE_BYTES = 1024 * 1024;

/** What reading one file gave: its content, nothing (an optional file that is absent), or an issue. */
export type FileRead = { content: string } | { absent: true } | { issue: ConfigIssue };

/** How a file is named in messages: by the variable that named it (CODEGEN_PR_CONFIG), or as what it is. */
export interface FileLabel {
  /** "config file", ".env file", or the variable's name. */
  label: string;
  /** The variable that named the file, when one did: the issue is filed under it. */
  env?: string;
  /** Optional files may be absent; a required one (named by a variable) must exist. */
  required: boolean;
}

function fileIssue(file: string, why: string, { label, env, required }: FileLabel): ConfigIssue {
  const fix = required ? `set ${label} to the path of a readable JSON file, or unset it` : 'fix the file or remove it';
  const what = env ? `${env} names "${file}", which` : `${label} "${file}"`;
  return sourceIssue(env ?? file, `${what} ${why}; ${fix}`, env);
}

/** Reads a regular file of at most 1 MiB, or says why it cannot. */
export function readConfigFile(file: string, label: FileLabel): FileRead {
  let size: number;
  try {
    const stats = statSync(file);
    if (!stats.isFile()) return { issue: fileIssue(file, 'is not a regular file', label) };
    size = stats.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !label.required) return { absent: true };
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'unknown error'})`;
    return { issue: fileIssue(file, why, label) };
  }
  if (size > MAX_FILE_BYTES) return { issue: fileIssue(file, `is larger than ${MAX_FILE_BYTES} bytes`, label) };
  try {
    return { content: readFileSync(file, 'utf8').replace(/^\uFEFF/, '') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    return { issue: fileIssue(file, `cannot be read (${code})`, label) };
  }
}

/**
 * Where JSON.parse stopped, as "line L, column C", from the position V8 reports. Only the number is taken
 * from the parser's message: the rest of it quotes the file's content.
 */
function errorPosition(content: string, err: unknown): string {
  const match = /position (\d+)/.exec(err instanceof Error ? err.message : '');
  if (!match) return '';
  const lines = content.slice(0, Number(match[1])).split('\n');
  return ` (line ${lines.length}, column ${(lines[lines.length - 1]?.length ?? 0) + 1})`;
}

/** Parses a JSON configuration file that must hold one object. */
export function parseConfigJson(
  file: string,
  content: string,
  label: FileLabel,
): { object: Record<string, unknown> } | { issue: ConfigIssue } {
  let value: unknown;
  try {
    value = JSON.parse(content) as unknown;
  } catch (err) {
    return { issue: fileIssue(file, `is not valid JSON${errorPosition(content, err)}`, label) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { issue: fileIssue(file, 'does not hold a JSON object', label) };
  }
  return { object: value as Record<string, unknown> };
}

/**
 * The environment with a .env file's values filled in where the environment has none (the real environment
 * wins, as users expect). An absent .env is fine; an unreadable one is an issue naming its path.
 */
export function withDotenv(file: string, env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; issue?: ConfigIssue } {
  const read = readConfigFile(file, { required: false, label: '.env file' });
  if ('absent' in read) return { env };
  if ('issue' in read) return { env, issue: read.issue };
  return { env: { ...dotenv.parse(read.content), ...env } };
}
