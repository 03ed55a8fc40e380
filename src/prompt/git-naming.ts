/**
 * Names the agent is asked to use in git: the branch to push and the commit message. Pure.
 *
 * The pipeline looks for the branch the prompt named (EnsurePullRequestInput.expectedBranch), so the prompt and
 * the pipeline must compute it the same way: both call `branchNameForTask`.
 */
import { renderTemplate } from './render.js';
import { cleanBlock, cleanLine } from './untrusted.js';
import type { Task } from '../domain/task.js';

/** Longest task-id part kept in a branch name before it is shortened (and made unique with a hash). */
const MAX_ID_LENGTH = 64;

/** FNV-1a, 32 bit: a short, stable fingerprint without node:crypto (this module also runs in a Worker). */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** One path component of a ref: only [A-Za-z0-9._-], no leading dot or dash, no "..", no ".lock" ending. */
function cleanComponent(part: string): string {
  return part
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/-{2,}/g, '-')
    .replace(/^[.-]+/, '')
    .replace(/\.lock$/i, '-lock')
    .replace(/\.+$/, '');
}

/**
 * The task-id part: slashes become dashes (a slash would nest refs, and `prefix-a` next to `prefix-a/b` cannot
 * both exist in git). When cleaning changed the id or it was too long, a fingerprint of the original id is
 * appended so two different ids never share a branch ("a b" and "a-b" stay apart).
 */
function cleanTaskId(id: string): string {
  const cleaned = cleanComponent(id.replace(/\//g, '-')).replace(/-+$/, '');
  if (cleaned !== '' && cleaned === id && cleaned.length <= MAX_ID_LENGTH) return cleaned;
  const head = cleaned.slice(0, MAX_ID_LENGTH - 9).replace(/[.-]+$/, '');
  return head === '' ? `task-${fingerprint(id)}` : `${head}-${fingerprint(id)}`;
}

/** The configured prefix, kept as the user wrote it where git allows (its slashes included). */
function cleanPrefix(prefix: string): string {
  const joined = prefix
    .split('/')
    .map(cleanComponent)
    .filter((part) => part !== '')
    .join('/');
  return joined !== '' && prefix.endsWith('/') ? `${joined}/` : joined;
}

/**
 * The branch the agent must push for a task: `${prefix}${task.id}`, made safe for `git check-ref-format`.
 * Deterministic; unchanged for ordinary ids (`codegen/task-` + `123` -> `codegen/task-123`).
 */
export function branchNameForTask(prefix: string, taskId: string): string {
  return `${cleanPrefix(prefix)}${cleanTaskId(taskId)}`;
}

/** True when `name` is a valid branch name by git's rules (check-ref-format --branch), as far as we use them. */
export function isValidBranchName(name: string): boolean {
  if (name === '' || name === '@' || name.length > 255) return false;
  // Control characters, space and DEL are refused by git, as are ~ ^ : ? * [ and backslash.
  if ([...name].some((ch) => ch.charCodeAt(0) <= 0x20 || ch.charCodeAt(0) === 0x7f)) return false;
  if (/[~^:?*[\\]/.test(name)) return false;
  if (name.includes('..') || name.includes('@{') || name.includes('//')) return false;
  if (name.startsWith('/') || name.endsWith('/') || name.endsWith('.') || name.startsWith('-')) return false;
  return name.split('/').every((part) => !part.startsWith('.') && !part.toLowerCase().endsWith('.lock'));
}

/**
 * The commit message from prManager.commits.messageTemplate. {{TASK_TITLE}} and {{TASK_DESCRIPTION}} are the
 * seed's placeholders; {{TASK_ID}} and {{TASK_TYPE}} are also filled. The task's text is cleaned of control and
 * bidi characters first (untrusted.ts); the title is folded to one line so the subject stays a subject;
 * trailing spaces are dropped from every line. The result is task text: the prompt shows it fenced and capped.
 */
export function renderCommitMessage(messageTemplate: string, task: Task): string {
  const message = renderTemplate(messageTemplate.replace(/\r\n/g, '\n'), {
    TASK_TITLE: cleanLine(task.title),
    TASK_DESCRIPTION: cleanBlock(task.description),
    TASK_ID: cleanLine(task.id),
    TASK_TYPE: task.type,
  });
  return message
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim();
}
