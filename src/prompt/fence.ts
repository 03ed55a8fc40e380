/**
 * Fences for untrusted text: a fenced block or an inline code span that the text inside cannot close. Pure and
 * linear (one scan per call, no regular expression, no recursion, no spread of a large array).
 *
 * Why the fence holds: CommonMark closes a backtick fence only with a run of at least as many backticks (a
 * tilde run never closes it), and closes a code span only with a run of exactly as many. Our fence is longer
 * than the longest run inside, so neither can happen. Runs of look-alikes (fullwidth backtick, modifier grave,
 * combining grave, tildes and their look-alikes) count as runs too, so the fence is also longer than anything
 * that merely looks like a fence to a reader. Runs longer than MAX_FENCE_RUN are cut first, which bounds the
 * fence at MAX_FENCE_RUN + 1 backticks however many backticks the text holds.
 */
import { truncationMarker } from './untrusted.js';

/** Longest run of fence-like characters kept in untrusted text; a longer run is cut and marked. */
export const MAX_FENCE_RUN = 16;

/** The characters that are, or look like, a backtick: ` ´ ˊ ˋ ˴ combining grave/acute (and tone marks) ῭ ` ´ ‵ ｀. */
const BACKTICK_LIKE = new Set([
  0x60, 0xb4, 0x2ca, 0x2cb, 0x2f4, 0x300, 0x301, 0x340, 0x341, 0x1fed, 0x1fef, 0x1ffd, 0x2035, 0xff40,
]);
/** The characters that are, or look like, a tilde: ~ ˜ combining tilde ῀ ⁓ ∼ 〜 ～. */
const TILDE_LIKE = new Set([0x7e, 0x2dc, 0x303, 0x1fc0, 0x2053, 0x223c, 0x301c, 0xff5e]);

/** 1 for a backtick-like character, 2 for a tilde-like one, 0 otherwise (all are in the BMP). */
function fenceClass(unit: number): 0 | 1 | 2 {
  if (BACKTICK_LIKE.has(unit)) return 1;
  return TILDE_LIKE.has(unit) ? 2 : 0;
}

/**
 * Length of the longest run of backtick-like or of tilde-like characters in `text`; with `backticksOnly`, of
 * backtick-like characters alone (what matters inside a code span, where tildes are plain text).
 */
export function longestFenceRun(text: string, backticksOnly = false): number {
  let longest = 0;
  let run = 0;
  let runClass = 0;
  for (let i = 0; i < text.length; i++) {
    let cls = fenceClass(text.charCodeAt(i));
    if (backticksOnly && cls === 2) cls = 0;
    run = cls !== 0 && cls === runClass ? run + 1 : cls === 0 ? 0 : 1;
    runClass = cls;
    if (run > longest) longest = run;
  }
  return longest;
}

/**
 * `text` with every run of fence-like characters longer than `max` cut to `max`, followed by a truncation
 * marker for the rest of the run, and how many characters were cut. Unchanged when no run is that long.
 */
export function limitFenceRuns(text: string, max = MAX_FENCE_RUN): { text: string; cut: number } {
  if (longestFenceRun(text) <= max) return { text, cut: 0 };
  const parts: string[] = [];
  let keptFrom = 0;
  let cut = 0;
  let i = 0;
  while (i < text.length) {
    const cls = fenceClass(text.charCodeAt(i));
    if (cls === 0) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < text.length && fenceClass(text.charCodeAt(end)) === cls) end++;
    if (end - i > max) {
      parts.push(text.slice(keptFrom, i + max), ` ${truncationMarker(end - i - max)} `);
      cut += end - i - max;
      keptFrom = end;
    }
    i = end;
  }
  parts.push(text.slice(keptFrom));
  return { text: parts.join(''), cut };
}

/**
 * A fenced code block holding `text` (which may span lines), with a backtick fence longer than any fence-like
 * run inside and at least three long. Callers cut long runs first (limitFenceRuns) to bound the fence.
 */
export function fenceBlock(text: string, info = 'text'): string {
  const fence = '`'.repeat(Math.max(3, longestFenceRun(text) + 1));
  return `${fence}${info}\n${text}\n${fence}`;
}

/**
 * An inline code span holding `text`, which must be one line (no line break: a span cannot cross into a new
 * block). Padded with a space on each side when it starts or ends with a fence-like character, as CommonMark
 * asks; the padding is not part of the displayed text. Tildes do not count here: they never end a span.
 */
export function inlineCode(text: string): string {
  const fence = '`'.repeat(longestFenceRun(text, true) + 1);
  const pad =
    text !== '' && (fenceClass(text.charCodeAt(0)) === 1 || fenceClass(text.charCodeAt(text.length - 1)) === 1);
  return pad ? `${fence} ${text} ${fence}` : `${fence}${text}${fence}`;
}
