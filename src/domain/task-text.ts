/**
 * Rules for the characters of task text and for repository names, shared by intake (the Task API, the CLI, the
 * store's add path), the daemon's check of stored rows and the CLI's output.
 *
 * - Nothing stored may hold NUL (PostgreSQL refuses it in text and jsonb) or an unpaired UTF-16 surrogate (it
 *   has no UTF-8 form: drivers would silently replace it, jsonb refuses its escape).
 * - One-line fields (title, labels) refuse every control and invisible character: C0 including tab and newline,
 *   DEL, C1, bidirectional overrides and isolates, zero-width characters, line separators and Unicode tag
 *   characters. These are how text hides from, or takes over, a terminal or a reviewer's eye.
 * - Descriptions keep tab and newline and lose the rest: whole ESC/CSI/OSC sequences first, so no payload is
 *   left behind, then the single characters; CR and CRLF become a newline.
 */

/**
 * Control and invisible characters: C0 and DEL, C1, the Arabic letter mark, zero-width space/joiners and
 * LRM/RLM, line and paragraph separators, bidi embeddings/overrides, word joiner and invisible operators, bidi
 * isolates, the byte-order mark (zero-width no-break space), the Mongolian vowel separator, and the Unicode tag
 * characters (U+E0000-U+E007F, as surrogate pairs) that can smuggle invisible ASCII.
 */
const UNSAFE_SOURCE =
  '[\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\ufeff]' +
  '|\\udb40[\\udc00-\\udc7f]';
const UNSAFE = new RegExp(UNSAFE_SOURCE);
const UNSAFE_ALL = new RegExp(UNSAFE_SOURCE, 'g');
/** An unpaired surrogate: a high one not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/**
 * ESC or C1 introducers with their whole sequence: CSI (parameters + final byte), OSC/DCS/APC/PM strings up to
 * their terminator (BEL or ST), or ESC plus one character.
 */
const ESCAPE_SEQUENCE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?|(?:\x1b[\]P_^X]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[\s\S]?/g;

/**
 * The same rules as JSON Schema patterns (ECMA-262 with the `u` flag, as OpenAPI 3.1 tools compile them), for
 * the OpenAPI document: one-line text free of control and invisible characters, and text any store can keep.
 * (The Unicode tag characters are left out of the pattern: tools that check patterns without the `u` flag
 * reject `\u{...}` escapes. The API refuses them all the same.)
 */
export const LINE_TEXT_PATTERN =
  '^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u2069' +
  '\\ufeff\\ud800-\\udfff]*$';
export const STORABLE_TEXT_PATTERN = '^[^\\u0000\\ud800-\\udfff]*$';

/** `U+001B` for a character, by code point. */
export function codePointName(char: string): string {
  const cp = char.codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Why `text` cannot be stored (a NUL or an unpaired surrogate), or undefined when it can. The message names the
 * character and its position, never the text around it.
 */
export function unstorableReason(text: string): string | undefined {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) return `must not contain NUL (U+0000, at position ${nul})`;
  const lone = LONE_SURROGATE.exec(text);
  if (lone)
    return `must not contain an unpaired UTF-16 surrogate (${codePointName(lone[0])}, at position ${lone.index})`;
  return undefined;
}

/** `text` with every NUL and unpaired surrogate replaced by U+FFFD, so any store can keep it. */
export function toStorableText(text: string): string {
  return text.replace(new RegExp(`\u0000|${LONE_SURROGATE.source}`, 'g'), '\ufffd');
}

/**
 * `text` cut to at most `max` UTF-16 code units, ending with `suffix` when it was cut. Never splits a surrogate
 * pair (half of one is an unpaired surrogate, which no store can keep).
 */
export function truncateText(text: string, max: number, suffix = '...'): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - suffix.length);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}${suffix}`.slice(0, max);
}

/** Why one-line text (a title, a label) is refused, or undefined when it is acceptable. */
export function unsafeLineReason(text: string): string | undefined {
  const unstorable = unstorableReason(text);
  if (unstorable) return unstorable;
  const match = UNSAFE.exec(text);
  if (match) {
    const what = codePointName(match[0]);
    return `must not contain control, escape or invisible characters (${what}, at position ${match.index})`;
  }
  return undefined;
}

/**
 * Multi-line text cleaned for storage and prompts: CRLF and CR become LF, escape sequences are removed whole,
 * and every other control or invisible character except tab and newline is removed. Call only on storable text.
 */
export function stripControls(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(ESCAPE_SEQUENCE, '')
    .replace(UNSAFE_ALL, (char) => (char === '\n' || char === '\t' ? char : ''));
}

/**
 * Text made safe to print on a terminal: every control or invisible character (and an unpaired surrogate)
 * becomes a visible escape such as `\x1b` or `\u202e`. With `keepLineBreaks`, newline and tab stay as they are.
 * Backslashes are not doubled: the output is for people to read, not to parse back.
 */
export function escapeForTerminal(text: string, options: { keepLineBreaks?: boolean } = {}): string {
  const pattern = new RegExp(`${UNSAFE_SOURCE}|${LONE_SURROGATE.source}`, 'g');
  return text.replace(pattern, (char) => {
    if (options.keepLineBreaks && (char === '\n' || char === '\t')) return char;
    const cp = char.codePointAt(0) ?? 0;
    if (cp <= 0xff) return `\\x${cp.toString(16).padStart(2, '0')}`;
    if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, '0')}`;
    return `\\u{${cp.toString(16)}}`;
  });
}

// GitHub's rules: an owner (user or organisation) is 1-39 letters, digits or single hyphens, neither starting nor
// ending with a hyphen; a repository name is 1-100 letters, digits, ".", "_" or "-", and not "." or "..".
const OWNER = /^[A-Za-z0-9](?:-?[A-Za-z0-9])*$/;
const NAME = /^[A-Za-z0-9._-]+$/;

/** The same rule as one regular expression, for the OpenAPI document and query strings. */
export const REPOSITORY_PATTERN =
  /^(?=[A-Za-z0-9-]{1,39}\/)[A-Za-z0-9](?:-?[A-Za-z0-9])*\/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;

/** Why `value` is not a GitHub "owner/name", or undefined when it is one. */
export function repositoryProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be "owner/repo" text';
  const parts = value.split('/');
  if (parts.length !== 2) return 'must be "owner/repo": one owner, one slash, one name';
  const [owner = '', name = ''] = parts;
  if (owner.length < 1 || owner.length > 39 || !OWNER.test(owner)) {
    return 'must be "owner/repo" with an owner of 1-39 letters, digits or single hyphens, not starting or ending with a hyphen';
  }
  if (name.length < 1 || name.length > 100 || !NAME.test(name) || name === '.' || name === '..') {
    return 'must be "owner/repo" with a name of 1-100 letters, digits, ".", "_" or "-" that is not "." or ".."';
  }
  return undefined;
}

/** True when `value` is a GitHub "owner/name". */
export function isRepository(value: unknown): value is string {
  return repositoryProblem(value) === undefined;
}
