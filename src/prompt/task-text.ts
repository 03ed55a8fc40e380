/**
 * Task text made safe for a prompt: cleaned (untrusted.ts), cut to its cap with a visible marker, and fenced
 * (fence.ts). Every template variable that carries text from a task, from an error recorded on it or from the
 * feedback on it is built here, so a template can place it anywhere without the text becoming instructions.
 * Pure and linear.
 */
import { TASK_LIMITS } from '../domain/task-validation.js';
import { fenceBlock, inlineCode, limitFenceRuns } from './fence.js';
import { asBlock, type BlockValue } from './render.js';
import { capText, cleanBlock, cleanLine } from './untrusted.js';

/**
 * Caps on what reaches a prompt, in characters (UTF-16 code units). The task fields' caps are at least what
 * the Task API accepts, so only rows written around it are ever cut here. `prompt` caps the whole prompt: when
 * it would be longer, the context, then the description, then the commit message are cut until it fits.
 */
export const PROMPT_LIMITS = Object.freeze({
  prompt: 120_000,
  taskId: 200,
  title: TASK_LIMITS.titleMax,
  description: TASK_LIMITS.descriptionMax,
  label: TASK_LIMITS.labelMax,
  labels: TASK_LIMITS.labelsMax,
  repository: 256,
  errorCategory: 50,
  errorCode: 100,
  errorMessage: 500,
  suggestion: 500,
  suggestions: 20,
  commitMessage: 5_000,
});

/** A piece of task text ready for a template, and whether anything was cut from it. */
export interface Fenced<T> {
  value: T;
  /** Characters cut to fit the cap (0 when nothing was). */
  cut: number;
  /** Length of the cleaned text before it was capped. */
  length: number;
}

/**
 * One line of task text as an inline code span, or undefined when nothing is left after cleaning. Line breaks
 * are folded, so the span cannot reach into another block.
 */
export function inlineField(raw: string, max: number): Fenced<string | undefined> {
  const clean = limitFenceRuns(cleanLine(raw));
  const capped = capText(clean.text, max);
  const value = capped.text === '' ? undefined : inlineCode(capped.text);
  return { value, cut: clean.cut + capped.cut, length: clean.text.length };
}

/** Text already cleaned and cut (such as a context item) as an inline code span. */
export function inlineClean(text: string): string {
  return inlineCode(limitFenceRuns(text).text);
}

/** Multi-line task text as a fenced block, or undefined when nothing is left after cleaning. */
export function blockField(raw: string, max: number): Fenced<BlockValue | undefined> {
  const clean = limitFenceRuns(cleanBlock(raw));
  const capped = capText(clean.text, max, '\n');
  const value = capped.text === '' ? undefined : asBlock(fenceBlock(capped.text));
  return { value, cut: clean.cut + capped.cut, length: clean.text.length };
}

/**
 * A list of one-line task values as inline code spans: cleaned, deduplicated, at most `maxItems` of them (a
 * marker says how many more there were), each cut to `maxEach`.
 */
export function inlineList(raw: readonly string[], maxItems: number, maxEach: number): Fenced<string[]> {
  const seen = new Set<string>();
  const out: string[] = [];
  let cut = 0;
  let left = 0;
  let length = 0;
  for (const item of raw) {
    const field = inlineField(typeof item === 'string' ? item : String(item), maxEach);
    if (field.value === undefined || seen.has(field.value)) continue;
    seen.add(field.value);
    if (out.length >= maxItems) {
      left += 1;
      continue;
    }
    out.push(field.value);
    cut += field.cut;
    length += field.length;
  }
  if (left > 0) out.push(`[truncated ${left} more]`);
  return { value: out, cut: cut + left, length };
}

/** A text block built by us around a fenced piece of task text (the prose is ours, the fence holds theirs). */
export function introducedBlock(intro: string, block: BlockValue): BlockValue {
  return asBlock(`${intro}\n\n${block.block}`);
}
