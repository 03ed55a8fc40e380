/**
 * Cleaning of text that comes from a task (or from an error recorded on it) before it reaches a prompt or a PR
 * body. Pure, and linear in the length of the input: every function here is one forward scan with no regular
 * expression that can backtrack and no recursion, so a 5 MB field costs milliseconds, never a stack overflow.
 *
 * What is removed (`isStrippedCodePoint`): C0 controls except tab and line feed, DEL, C1 controls, whole
 * ESC/CSI/OSC/DCS sequences, zero-width and bidirectional controls (U+061C, U+200B-U+200F, U+202A-U+202E,
 * U+2060-U+2064, U+2066-U+206F), U+FEFF, interlinear annotation controls (U+FFF9-U+FFFB), Unicode tag characters
 * (U+E0000-U+E007F, which can spell hidden ASCII an agent still reads), supplementary variation selectors
 * (U+E0100-U+E01EF), and any variation selector right after another (a run of them can smuggle hidden bytes;
 * one after an emoji is kept). CR LF, lone CR, U+2028 and U+2029 become a line feed; a lone surrogate becomes
 * U+FFFD.
 */

/** The marker left where text was cut. N counts UTF-16 code units, as String.length does. */
export function truncationMarker(n: number): string {
  return `[truncated ${n} characters]`;
}

const ESC = 0x1b;
const BEL = 0x07;
const ST_C1 = 0x9c;

/** True for a code point that never reaches a prompt (see the module comment). */
export function isStrippedCodePoint(cp: number): boolean {
  if (cp < 0x20) return cp !== 0x09 && cp !== 0x0a;
  if (cp < 0x7f) return false;
  if (cp <= 0x9f) return true; // DEL and C1
  if (cp < 0x061c) return false;
  return (
    cp === 0x061c ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2060 && cp <= 0x2064) ||
    (cp >= 0x2066 && cp <= 0x206f) ||
    cp === 0xfeff ||
    (cp >= 0xfff9 && cp <= 0xfffb) ||
    (cp >= 0xe0000 && cp <= 0xe007f) ||
    (cp >= 0xe0100 && cp <= 0xe01ef)
  );
}

const isVariationSelector = (cp: number): boolean => cp >= 0xfe00 && cp <= 0xfe0f;

/** Where a control string (OSC, DCS, SOS, PM, APC) that starts at `from` ends, or -1 when it is unterminated. */
function controlStringEnd(text: string, from: number): number {
  for (let j = from; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === BEL || c === ST_C1) return j + 1;
    // ESC \ is the string terminator; any other ESC means this string was never closed. Stopping there keeps
    // the scan linear: no character is looked at by more than one unterminated string.
    if (c === ESC) return text.charCodeAt(j + 1) === 0x5c ? j + 2 : -1;
  }
  return -1;
}

/** After a CSI introducer: parameter bytes, intermediate bytes, one final byte (ECMA-48). */
function csiEnd(text: string, from: number): number {
  let j = from;
  while (j < text.length && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x3f) j++;
  while (j < text.length && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j++;
  const final = text.charCodeAt(j);
  return final >= 0x40 && final <= 0x7e ? j + 1 : j;
}

/** How many code units the escape sequence (7-bit ESC or an 8-bit C1 introducer) at `i` spans. At least 1. */
function escapeLength(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c !== ESC) {
    if (c === 0x9b) return csiEnd(text, i + 1) - i;
    if (c === 0x90 || c === 0x98 || c === 0x9d || c === 0x9e || c === 0x9f) {
      const end = controlStringEnd(text, i + 1);
      return end === -1 ? 1 : end - i;
    }
    return 1;
  }
  const next = text.charCodeAt(i + 1);
  if (next === 0x5b) return csiEnd(text, i + 2) - i; // ESC [
  if (next === 0x5d || next === 0x50 || next === 0x58 || next === 0x5e || next === 0x5f) {
    const end = controlStringEnd(text, i + 2); // ESC ] P X ^ _
    return end === -1 ? 2 : end - i;
  }
  let j = i + 1;
  while (j < text.length && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j++;
  const final = text.charCodeAt(j);
  return final >= 0x30 && final <= 0x7e ? j + 1 - i : j - i;
}

/**
 * `text` without the characters and sequences listed in the module comment, with every line break as `\n`.
 * Line structure and all other characters are kept.
 */
export function stripUnsafe(text: string): string {
  const parts: string[] = [];
  let keptFrom = 0;
  let lastKept = -1;
  const drop = (at: number, length: number, replacement = ''): void => {
    if (at > keptFrom) parts.push(text.slice(keptFrom, at));
    if (replacement !== '') parts.push(replacement);
    keptFrom = at + length;
  };
  let i = 0;
  while (i < text.length) {
    const unit = text.charCodeAt(i);
    let cp = unit;
    let width = 1;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = ((unit - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
        width = 2;
      }
    }
    if (unit === ESC || (unit >= 0x80 && unit <= 0x9f)) width = escapeLength(text, i);
    if (unit === 0x0d) drop(i, text.charCodeAt(i + 1) === 0x0a ? 2 : 1, '\n');
    else if (unit === 0x2028 || unit === 0x2029) drop(i, 1, '\n');
    else if (width === 1 && unit >= 0xd800 && unit <= 0xdfff) drop(i, 1, '\ufffd');
    else if (unit === ESC || isStrippedCodePoint(cp) || (isVariationSelector(cp) && isVariationSelector(lastKept))) {
      drop(i, width);
    } else lastKept = cp;
    // No Math.max here: a global lookup per character is slow where globals are intercepted (vm contexts).
    const next = i + width;
    i = next > keptFrom ? next : keptFrom;
  }
  if (keptFrom === 0) return text;
  if (keptFrom < text.length) parts.push(text.slice(keptFrom));
  return parts.join('');
}

/** `stripUnsafe`, then every run of whitespace (line breaks included) as one space, trimmed: for one-line fields. */
export function cleanLine(text: string): string {
  return stripUnsafe(text).replace(/\s+/g, ' ').trim();
}

/** `stripUnsafe` with trailing spaces cut from each line and blank lines at either end dropped: for prose. */
export function cleanBlock(text: string): string {
  return stripUnsafe(text)
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/^\n+/, '')
    .trimEnd();
}

/**
 * `text` cut to at most `max` code units, the cut part replaced by `separator` and a truncation marker (the
 * marker counts against `max`). A surrogate pair is never split. Unchanged when it fits.
 */
export function capText(text: string, max: number, separator = ' '): { text: string; cut: number } {
  if (text.length <= max) return { text, cut: 0 };
  // Reserve room for the longest marker this cut can need (its count has at most as many digits as length).
  const reserve = separator.length + truncationMarker(text.length).length;
  let keep = Math.max(0, max - reserve);
  const last = text.charCodeAt(keep - 1);
  if (keep > 0 && last >= 0xd800 && last <= 0xdbff) keep -= 1;
  const head = text.slice(0, keep).trimEnd();
  const cut = text.length - head.length;
  return { text: `${head}${head === '' ? '' : separator}${truncationMarker(cut)}`, cut };
}
