/**
 * JSON text of a value, cut off after a number of characters: how context values that are neither text nor a
 * known shape are shown in a prompt. Iterative (an explicit stack, no recursion), so a value nested thousands
 * deep, which makes JSON.stringify overflow the stack, costs nothing special; and it stops as soon as it has
 * written `max` characters, so a megabyte of context costs no more than the part that can be shown.
 */

type Frame =
  | { kind: 'array'; items: readonly unknown[]; next: number }
  | { kind: 'object'; entries: [string, unknown][]; next: number };

function scalar(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'object') return undefined;
  return 'null'; // undefined, functions and symbols: JSON.stringify drops or nulls them
}

/** The JSON text of `value`; once `max` characters are written it stops (the last piece may run past `max`). */
export function compactJson(value: unknown, max: number): string {
  const parts: string[] = [];
  let length = 0;
  const push = (text: string): void => {
    parts.push(text);
    length += text.length;
  };
  const stack: Frame[] = [];
  const open = (item: unknown): void => {
    const text = scalar(item);
    if (text !== undefined) return push(text);
    if (Array.isArray(item)) {
      push('[');
      stack.push({ kind: 'array', items: item, next: 0 });
    } else {
      push('{');
      const entries = Object.entries(item as Record<string, unknown>).filter(([, v]) => v !== undefined);
      stack.push({ kind: 'object', entries, next: 0 });
    }
  };
  open(value);
  while (stack.length > 0 && length < max) {
    const frame = stack[stack.length - 1]!;
    const size = frame.kind === 'array' ? frame.items.length : frame.entries.length;
    if (frame.next >= size) {
      push(frame.kind === 'array' ? ']' : '}');
      stack.pop();
      continue;
    }
    if (frame.next > 0) push(',');
    const index = frame.next++;
    if (frame.kind === 'array') open(frame.items[index]);
    else {
      const [key, item] = frame.entries[index]!;
      push(`${JSON.stringify(key)}:`);
      open(item);
    }
  }
  return parts.join('');
}
