/**
 * Checks on free-form JSON values (a task's context, feedback entries, whole request bodies) before they are
 * serialized or stored. Both walks are iterative: a value nested thousands deep must be refused by name, not
 * overflow the stack (JSON.stringify is recursive; PostgreSQL's jsonb parser has a depth limit too).
 */
import { unstorableReason } from './task-text.js';

/** One problem inside a JSON value, at a dotted path such as `context.files[2]`. */
export interface JsonProblem {
  path: string;
  message: string;
}

const isContainer = (value: unknown): value is object => typeof value === 'object' && value !== null;

/** `base.key`, `base[3]`, or a quoted key when it is not a plain identifier. */
export function childPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  const plain = /^[A-Za-z_$][\w$-]{0,63}$/.test(key);
  const part = plain ? key : `[${JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}...` : key)}]`;
  if (base === '') return part;
  return plain ? `${base}.${part}` : `${base}${part}`;
}

/**
 * The depth of `value` (a scalar is 0, `{}` or `[]` is 1, `{"a":[]}` is 2), computed without recursion and
 * stopping as soon as it passes `limit`: returns `limit + 1` then.
 */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (!isContainer(node)) continue;
    if (depth > limit) return limit + 1;
    deepest = Math.max(deepest, depth);
    for (const child of Object.values(node)) if (isContainer(child)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * The first key or string inside `value` that cannot be stored (NUL, unpaired surrogate), with its path under
 * `base`; undefined when every one can. Iterative, so any depth is safe.
 */
export function findUnstorableText(value: unknown, base: string): JsonProblem | undefined {
  const stack: Array<[unknown, string]> = [[value, base]];
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [unknown, string];
    if (typeof node === 'string') {
      const reason = unstorableReason(node);
      if (reason) return { path: path === '' ? 'body' : path, message: reason };
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i -= 1) stack.push([node[i], childPath(path, i)]);
    } else if (isContainer(node)) {
      const entries = Object.entries(node);
      for (let i = entries.length - 1; i >= 0; i -= 1) {
        const [key, child] = entries[i] as [string, unknown];
        const keyReason = unstorableReason(key);
        if (keyReason) return { path: path === '' ? 'body' : path, message: `has a key that ${keyReason}` };
        stack.push([child, childPath(path, key)]);
      }
    }
  }
  return undefined;
}

/**
 * Everything wrong with a free-form JSON object field (context, feedback): too deep, unstorable text, or too
 * large once serialized. Depth is checked first so the serialization below can never overflow the stack.
 */
export function jsonFieldProblems(
  value: Record<string, unknown>,
  field: string,
  limits: { depthMax: number; sizeMax: number },
): JsonProblem[] {
  if (jsonDepth(value, limits.depthMax) > limits.depthMax) {
    return [{ path: field, message: `must not nest objects and arrays more than ${limits.depthMax} levels deep` }];
  }
  const unstorable = findUnstorableText(value, field);
  if (unstorable) return [unstorable];
  const size = JSON.stringify(value).length;
  if (size > limits.sizeMax) {
    return [{ path: field, message: `must serialize to at most ${limits.sizeMax} characters of JSON (got ${size})` }];
  }
  return [];
}
