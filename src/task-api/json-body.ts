/**
 * Reading a request body as JSON, refusing by name everything the store could not keep or that would make two
 * readers of the same body disagree:
 *
 * - 415 unless a non-empty body says `Content-Type: application/json` (or `+json`), in UTF-8 if a charset is given;
 * - 400 `body` for bytes that are not UTF-8 (they would be silently replaced) and for text that is not JSON;
 * - 400 naming the member for a key repeated in one object (JSON.parse keeps the last; another parser may keep
 *   the first) and for nesting deeper than MAX_BODY_DEPTH (the validators and PostgreSQL recurse);
 * - 400 naming the member for any key or string holding NUL or an unpaired surrogate, whatever the route.
 *
 * Web APIs only (TextDecoder), so it runs in the Worker too.
 */
import { childPath, findUnstorableText } from '../domain/json-value.js';
import { TASK_LIMITS } from '../domain/task-limits.js';
import type { FieldError } from './validate.js';

/**
 * The deepest a body may nest: a batch puts a task's context at level 3 (body, tasks, task), and context may
 * itself nest TASK_LIMITS.contextDepthMax levels. The field validators then hold context and feedback to their
 * own documented depth; this bound only keeps every later step's recursion shallow.
 */
export const MAX_BODY_DEPTH = TASK_LIMITS.contextDepthMax + 3;

/** What reading a body gave: the value (undefined for an empty body), or the refusal to send. */
export type JsonBody =
  { ok: true; value: unknown } | { ok: false; status: 400 | 415; fields: FieldError[]; message: string };

/** Worded as the context and feedback validators word it: those are the only members meant to nest. */
const DEPTH_MESSAGE = `must not nest objects and arrays more than ${TASK_LIMITS.contextDepthMax} levels deep`;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

function refuse(status: 400 | 415, field: string, message: string, summary?: string): JsonBody {
  return {
    ok: false,
    status,
    fields: [{ field, message }],
    message: summary ?? `invalid request: ${field} ${message}`,
  };
}

/** Check the Content-Type of a non-empty body. */
function contentTypeProblem(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !JSON_TYPE.test(contentType)) return 'must be application/json';
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8' && charset.toLowerCase() !== 'utf8') {
    return 'must declare charset=utf-8 when it declares a charset';
  }
  return undefined;
}

/**
 * Walk valid JSON text once, tracking the path of the current member: report the first key repeated within one
 * object, or the first container nested deeper than `maxDepth`. Only called on text JSON.parse accepted, so
 * the scanner need not handle malformed input.
 */
export function scanJsonStructure(text: string, maxDepth: number): FieldError | undefined {
  type Frame = { keys?: Set<string>; index: number; key?: string; expectKey: boolean };
  const stack: Frame[] = [];
  /** The path of the member being read in the first `frames` containers (all of them by default). */
  const pathOf = (frames = stack.length): string => {
    let path = '';
    for (const frame of stack.slice(0, frames)) {
      if (frame.keys) path = frame.key === undefined ? path : childPath(path, frame.key);
      else path = childPath(path, frame.index);
    }
    return path;
  };
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const frame = stack[stack.length - 1];
      if (frame?.keys && frame.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (frame.keys.has(key)) {
          return {
            field: childPath(pathOf(stack.length - 1), key),
            message: 'appears more than once in the same object',
          };
        }
        frame.keys.add(key);
        frame.key = key;
        frame.expectKey = false;
      }
      i = end;
    } else if (ch === '{' || ch === '[') {
      if (stack.length + 1 > maxDepth) {
        return { field: nestedField(pathOf()), message: DEPTH_MESSAGE };
      }
      stack.push(ch === '{' ? { keys: new Set(), index: 0, expectKey: true } : { index: 0, expectKey: false });
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',') {
      const frame = stack[stack.length - 1];
      if (frame?.keys) frame.expectKey = true;
      else if (frame) frame.index += 1;
    }
  }
  return undefined;
}

/**
 * Name a too-deep member by the field a person would fix: `context` rather than `context.a.a.a...`. Keep
 * the leading `tasks[i]` of a batch, then one more member.
 */
function nestedField(path: string): string {
  const match = /^(tasks\[\d+\]\.)?([A-Za-z_$][\w$-]*|\["[^\]]*\])/.exec(path);
  return match ? `${match[1] ?? ''}${match[2]}` : 'body';
}

/**
 * Read and check a body. `raw` is the body's bytes (empty for none), `contentType` its header. An empty or
 * all-whitespace body gives `value: undefined`, whatever its Content-Type.
 */
export function readJsonBody(raw: ArrayBuffer, contentType: string | undefined): JsonBody {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return refuse(400, 'body', 'is not valid UTF-8');
  }
  if (text.trim() === '') return { ok: true, value: undefined };
  const typeProblem = contentTypeProblem(contentType);
  if (typeProblem)
    return refuse(415, 'content-type', typeProblem, `unsupported media type: Content-Type ${typeProblem}`);
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    const reason = err instanceof Error ? err.message : 'parse error';
    return refuse(400, 'body', `is not valid JSON (${reason})`, `request body is not valid JSON: ${reason}`);
  }
  const structure = scanJsonStructure(text, MAX_BODY_DEPTH);
  if (structure) return refuse(400, structure.field || 'body', structure.message);
  const unstorable = findUnstorableText(value, '');
  if (unstorable) return refuse(400, unstorable.path, unstorable.message);
  return { ok: true, value };
}
