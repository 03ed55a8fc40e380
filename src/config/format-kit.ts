/**
 * The building blocks of configuration formats: what a format is, and makers for numbers, booleans, text and
 * lists. A format reads an environment string (`coerce`, which never throws: a string it cannot read is kept
 * as it is so that `check` can refuse it by name) and says what is wrong with a value (`check`).
 */

/** Node's setTimeout/setInterval clamp anything above this to 1 ms, turning a long wait into a busy loop. */
export const MAX_TIMER_MS = 2_147_483_647;

/** One configuration value format. */
export interface ValueFormat {
  /** What a good value is, phrased to follow "set VAR to"; also the README's "Accepts" column. */
  expected: string;
  /** Turns an environment (or config file) string into the value; keeps what it cannot read as the string. */
  coerce?: (raw: string) => unknown;
  /** Undefined for a good value, else why it is refused ("is above 100"), never quoting the value itself. */
  check: (value: unknown) => string | undefined;
  /** False when the value may carry credentials (URLs), so messages never show it. Default true. */
  showValue?: boolean;
}

/** Zero-width and bidirectional formatting characters: they hide or reorder text on the operator's screen. */
function isInvisibleFormat(code: number): boolean {
  return (
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0xfeff
  );
}

/**
 * True when `text` holds a C0 or C1 control character, DEL, or a zero-width or bidirectional formatting
 * character: never part of a name, a token or a one-line setting. Multi-line settings (templates, PEM keys)
 * may keep tab and line breaks.
 */
export function hasControlChar(text: string, allowLineBreaks = false): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (allowLineBreaks && (code === 0x09 || code === 0x0a || code === 0x0d)) continue;
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f) || isInvisibleFormat(code)) return true;
  }
  return false;
}

interface IntegerOptions {
  min: number;
  max: number;
  /** "milliseconds", "characters"; empty for plain counts. */
  unit?: string;
  /** Said after "is above max", e.g. why the maximum is what it is. */
  maxReason?: string;
  /** Said after "is below min". */
  minReason?: string;
}

/** A whole number within [min, max]; the environment must spell it in decimal digits ("1e3" is refused). */
export function integer({ min, max, unit = '', maxReason, minReason }: IntegerOptions): ValueFormat {
  return {
    expected: `a whole number${unit ? ` of ${unit}` : ''} from ${min} to ${max}`,
    coerce: (raw) => (/^\s*[-+]?\d+\s*$/.test(raw) ? Number(raw) : raw),
    check: (value) => {
      if (typeof value !== 'number' || !Number.isInteger(value)) return 'is not a whole number';
      if (value < min) return `is below ${min}${minReason ? ` (${minReason})` : ''}`;
      if (value > max) return `is above ${max}${maxReason ? ` (${maxReason})` : ''}`;
      return undefined;
    },
  };
}

/** A timer length in ms: Node cannot wait longer than MAX_TIMER_MS. */
export function timer(min: number, minReason?: string): ValueFormat {
  const maxReason = 'the longest timer Node allows';
  return integer({ min, max: MAX_TIMER_MS, unit: 'milliseconds', maxReason, ...(minReason ? { minReason } : {}) });
}

interface DecimalOptions {
  min: number;
  max: number;
  /** True when min itself is refused (a growth factor must be above 1). */
  minExclusive?: boolean;
}

/** A finite decimal number within its bounds; NaN, Infinity and "1e3" are refused. */
export function decimal({ min, max, minExclusive = false }: DecimalOptions): ValueFormat {
  return {
    expected: `a number ${minExclusive ? `above ${min} and at most` : `from ${min} to`} ${max}`,
    coerce: (raw) => (/^\s*[-+]?(\d+\.?\d*|\.\d+)\s*$/.test(raw) ? Number(raw) : raw),
    check: (value) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'is not a number';
      if (minExclusive ? value <= min : value < min) return minExclusive ? `is not above ${min}` : `is below ${min}`;
      if (value > max) return `is above ${max}`;
      return undefined;
    },
  };
}

const TRUE_WORDS = new Set(['true', '1']);
const FALSE_WORDS = new Set(['false', '0']);

/** true or false (1 or 0); any other word is refused rather than read as true. */
export const strictBoolean: ValueFormat = {
  expected: 'true or false',
  coerce: (raw) => {
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return raw;
  },
  check: (value) => (typeof value === 'boolean' ? undefined : 'is not true or false'),
};

interface TextOptions {
  expected: string;
  max: number;
  /** When set, the whole value must match (after the empty check). */
  pattern?: RegExp;
  allowEmpty?: boolean;
  /** One-line text refuses line breaks and other control characters. Default true. */
  oneLine?: boolean;
  /** An extra rule, for what a pattern cannot say. */
  extra?: (value: string) => string | undefined;
  showValue?: boolean;
}

/** A string with a length cap, no control characters, and optionally a pattern. */
export function text(options: TextOptions): ValueFormat {
  const { expected, max, pattern, allowEmpty = false, oneLine = true, extra, showValue = true } = options;
  return {
    expected,
    showValue,
    check: (value) => {
      if (typeof value !== 'string') return 'is not text';
      if (value === '') return allowEmpty ? undefined : 'is empty';
      if (value.length > max) return `is longer than ${max} characters`;
      if (oneLine && hasControlChar(value))
        return 'contains a line break, a control character or an invisible formatting character';
      if (!oneLine && hasControlChar(value, true)) return 'contains a control or invisible formatting character';
      if (pattern && !pattern.test(value)) return 'is not in the expected form';
      return extra?.(value);
    },
  };
}

/**
 * Reads a list from the environment: a JSON array when the value starts with "[", else comma-separated items
 * (trimmed, empty ones dropped). An unreadable JSON array is kept as the string for `check` to refuse.
 */
export function readList(raw: string): unknown {
  const trimmed = raw.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      return raw;
    }
  }
  return trimmed
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** The phrase every list format ends with, so lists are documented one way. */
export const LIST_SYNTAX = 'comma-separated or as a JSON array';

/** A list of strings, each accepted by `item`; at most `maxItems`. */
export function list(what: string, item: (value: string) => boolean, maxItems = 100): ValueFormat {
  return {
    expected: `${what}, ${LIST_SYNTAX}`,
    coerce: readList,
    check: (value) => checkList(value, item, maxItems),
  };
}

/** Why `value` is not a list of at most `maxItems` strings that `item` accepts, or undefined. */
export function checkList(value: unknown, item: (value: string) => boolean, maxItems = 100): string | undefined {
  if (typeof value === 'string' && value.trim().startsWith('[')) return 'starts with "[" but is not a JSON array';
  if (!Array.isArray(value)) return 'is not a list';
  if (value.length > maxItems) return `has more than ${maxItems} items`;
  const bad = value.find((entry) => typeof entry !== 'string' || !item(entry));
  if (bad !== undefined) return `has an item that does not fit: ${showShort(bad)}`;
  return undefined;
}

/**
 * A value as shown in a message: JSON, cut to 80 characters, with everything outside printable ASCII
 * escaped so that no terminal escape or bidirectional override reaches the operator's screen.
 */
export function showShort(value: unknown): string {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  return shown.replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
