/**
 * A small hand-written validation kit for request bodies and query strings. Every reader records what is wrong
 * under the field's dotted path instead of stopping at the first problem, so one 400 names every bad field.
 * It runs unchanged on Node and in a Worker (no dependencies).
 */
import { unsafeLineReason, unstorableReason } from '../domain/task-text.js';

/** How FieldReader.string checks a value. */
export interface StringOptions {
  required?: boolean;
  max?: number;
  pattern?: RegExp;
  hint?: string;
  /** Text that may span lines (error messages, notes): only NUL and unpaired surrogates are refused. */
  multiline?: boolean;
}

/** One problem with one field of a request. */
export interface FieldError {
  field: string;
  message: string;
}

/** The result of validating one request part. */
export type Checked<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** A record of named values under a path prefix, collecting errors as fields are read. */
export class FieldReader {
  readonly errors: FieldError[] = [];

  constructor(
    private readonly source: Record<string, unknown>,
    private readonly prefix = '',
  ) {}

  /** The dotted path of a field, for messages. */
  path(name: string): string {
    return this.prefix === '' ? name : `${this.prefix}.${name}`;
  }

  fail(name: string, message: string): undefined {
    this.errors.push({ field: this.path(name), message });
    return undefined;
  }

  has(name: string): boolean {
    return this.source[name] !== undefined;
  }

  raw(name: string): unknown {
    return this.source[name];
  }

  /** Refuse fields that are not in `allowed`: a typo should be an error, not a silently ignored option. */
  onlyKnown(allowed: readonly string[]): void {
    for (const key of Object.keys(this.source)) {
      // The key is the caller's text: quote it, and cut it, when it is not a plain name.
      const name = /^[\w$-]{1,64}$/.test(key) ? key : JSON.stringify(key.slice(0, 64));
      if (!allowed.includes(key)) this.fail(name, 'is not a known field');
    }
  }

  /**
   * A non-blank string of at most `max` (default 1000) characters. One-line by default: control, escape and
   * invisible characters are refused; `multiline` text (messages, notes) may hold them but never NUL or an
   * unpaired surrogate, which no store can keep.
   */
  string(name: string, opts: StringOptions = {}): string | undefined {
    const value = this.source[name];
    if (value === undefined) return opts.required ? this.fail(name, 'is required') : undefined;
    if (typeof value !== 'string') return this.fail(name, 'must be a string');
    if (value.trim() === '') return this.fail(name, 'must not be empty');
    const max = opts.max ?? 1000;
    if (value.length > max) return this.fail(name, `must be at most ${max} characters`);
    const unsafe = opts.multiline ? unstorableReason(value) : unsafeLineReason(value);
    if (unsafe) return this.fail(name, unsafe);
    if (opts.pattern && !opts.pattern.test(value)) return this.fail(name, opts.hint ?? 'has an invalid format');
    return value;
  }

  integer(name: string, opts: { required?: boolean; min: number; max: number }): number | undefined {
    const value = this.source[name];
    if (value === undefined) return opts.required ? this.fail(name, 'is required') : undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) return this.fail(name, 'must be an integer');
    if (value < opts.min || value > opts.max) return this.fail(name, `must be between ${opts.min} and ${opts.max}`);
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.source[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') return this.fail(name, 'must be true or false');
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], opts: { required?: boolean } = {}): T | undefined {
    const value = this.source[name];
    if (value === undefined) return opts.required ? this.fail(name, 'is required') : undefined;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      return this.fail(name, `must be one of ${allowed.join(', ')}`);
    }
    return value as T;
  }

  /** An ISO 8601 date-time with a timezone, returned normalised to UTC. */
  timestamp(name: string, opts: { required?: boolean } = {}): string | undefined {
    const value = this.source[name];
    if (value === undefined) return opts.required ? this.fail(name, 'is required') : undefined;
    const ms = typeof value === 'string' && ISO_DATE_TIME.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(ms)) {
      return this.fail(name, 'must be an ISO 8601 date-time with a timezone, e.g. 2026-01-01T00:00:00Z');
    }
    // PostgreSQL has no year 0, and JavaScript and PostgreSQL disagree on far dates: keep to years 1970-9999.
    if (ms < 0 || ms >= LATEST_DATE_MS) return this.fail(name, 'must be between 1970 and 9999');
    return new Date(ms).toISOString();
  }

  /** A nested object, read with its own reader so its errors carry the full path. */
  object(name: string, opts: { required?: boolean } = {}): FieldReader | undefined {
    const value = this.source[name];
    if (value === undefined) return opts.required ? this.fail(name, 'is required') : undefined;
    if (!isPlainObject(value)) return this.fail(name, 'must be an object');
    return new FieldReader(value, this.path(name));
  }

  /** Collect the errors of nested readers into this one. */
  absorb(...readers: Array<FieldReader | undefined>): void {
    for (const reader of readers) if (reader) this.errors.push(...reader.errors);
  }

  result<T>(value: T): Checked<T> {
    return this.errors.length === 0 ? { ok: true, value } : { ok: false, errors: this.errors };
  }
}

const LATEST_DATE_MS = Date.UTC(10_000, 0, 1);
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Start reading a body that must be a JSON object. */
export function readBody(body: unknown): FieldReader | FieldError[] {
  if (!isPlainObject(body)) return [{ field: 'body', message: 'must be a JSON object' }];
  return new FieldReader(body);
}
