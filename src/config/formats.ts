/**
 * Every named value format the schema uses, registered with convict (which uses `coerce` while it reads the
 * environment and files) and checked by validate.ts (which uses `check` and `expected` to say what to set).
 */
import convict from 'convict';
import { hasControlChar, decimal, integer, list, strictBoolean, text, timer, type ValueFormat } from './format-kit.js';
import { repoCaps } from './format-caps.js';
import { NAMED_TEXT_FORMATS, isGitHubLogin, isRepository } from './formats-text.js';

/**
 * The Task API's limits on what the daemon sends it (src/task-api/requests.ts LIMITS: claim 1-100,
 * leaseMs 1000-3600000, names 200 printable characters). Repeated here until they move into one shared module.
 */
export const TASK_API_LIMITS = { claimMax: 100, leaseMinMs: 1_000, leaseMaxMs: 3_600_000 } as const;

/** A lease shorter than this leaves the heartbeat (at half the lease) too little time to land. */
export const MIN_LEASE_MS = 1_000;

const LABEL_MAX = 50; // GitHub refuses longer label names.

export const FORMATS: Readonly<Record<string, ValueFormat>> = {
  // Waits and timeouts: positive, and within what a Node timer can hold.
  'timer-ms': timer(1),
  'timer-ms-or-zero': timer(0),
  'lease-ms': timer(MIN_LEASE_MS, 'the heartbeat runs at half the lease and needs time to land'),
  // Sizes and counts, with a ceiling that catches a typo (CONCURRENCY=1e9) before it exhausts the machine.
  // 5,000 tasks in flight fit one process: BENCHMARKS.md (memory) measures the memory each in-flight task holds.
  'claim-size': integer({ min: 1, max: 5_000 }),
  retries: integer({ min: 0, max: 100 }),
  count: integer({ min: 1, max: 1_000_000 }),
  percent: integer({ min: 0, max: 100 }),
  // Retention: up to a century; 0 keeps finished tasks for ever. Batches stay small transactions.
  'retention-days': integer({ min: 0, max: 36_500 }),
  'retention-ms': integer({ min: 0, max: 36_500 * 86_400_000 }),
  'batch-size': integer({ min: 1, max: 10_000 }),
  // A margin of more than 90 % below a rate limit is surely a typo; 100 % would leave no budget at all.
  'headroom-percent': integer({ min: 0, max: 90 }),
  'tcp-port': integer({ min: 0, max: 65_535 }),
  // Tasks in flight per repository: 0 is no cap; the Task API accepts no more than 1000.
  'repo-cap': integer({ min: 0, max: 1_000 }),
  'repo-caps': repoCaps(isRepository),
  ratio: decimal({ min: 0, max: 1 }),
  'growth-factor': decimal({ min: 1, max: 10, minExclusive: true }),
  'strict-boolean': strictBoolean,
  'login-list': list('GitHub logins (bots as name[bot])', isGitHubLogin),
  'team-list': list('team slugs', (v) => /^[A-Za-z0-9_.-]{1,100}$/.test(v)),
  'label-list': list(`label names of at most ${LABEL_MAX} characters`, isLabel),
  // Older names, kept so keys written against them still load; new keys use a bounded format above.
  'positive-int': integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  'non-negative-int': integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  'string-list': list('text items', isLabel),
  ...NAMED_TEXT_FORMATS,
};

function isLabel(value: string): boolean {
  return value.trim() !== '' && value.length <= LABEL_MAX && !hasControlChar(value);
}

/** The format of a schema entry: a named one, an enum (an array of allowed values), or a built-in type. */
export function formatOf(format: unknown): ValueFormat | undefined {
  if (typeof format === 'string') return FORMATS[format];
  if (Array.isArray(format)) {
    const allowed = format.map((v) => String(v));
    return {
      expected: `one of: ${allowed.map((v) => (v === '' ? '(empty)' : v)).join(', ')}`,
      check: (value) => (format.includes(value) ? undefined : 'is not one of the allowed values'),
    };
  }
  // Built-in constructors: convict's own reading; kept for keys that still name them.
  if (format === String) return text({ expected: 'text', max: 100_000, allowEmpty: true, oneLine: false });
  if (format === Number) return decimal({ min: -Number.MAX_VALUE, max: Number.MAX_VALUE });
  if (format === Boolean) return strictBoolean;
  return undefined;
}

let registered = false;

/** Teaches convict our formats (once per process): their coercion, and their check as its validator. */
export function registerFormats(): void {
  if (registered) return;
  registered = true;
  for (const [name, format] of Object.entries(FORMATS)) {
    convict.addFormat({
      name,
      coerce: format.coerce ?? ((raw: string) => raw),
      validate: (value: unknown) => {
        const problem = format.check(value);
        if (problem) throw new Error(problem);
      },
    });
  }
  // convict reads keys declared with the Boolean or Number constructor through converters of these names;
  // left to itself it reads DRY_RUN=maybe as true and "abc" as NaN.
  const builtIns = { boolean: strictBoolean, number: formatOf(Number) as ValueFormat };
  for (const [name, format] of Object.entries(builtIns)) {
    convict.addFormat({ name, coerce: format.coerce as (raw: string) => unknown, validate: () => undefined });
  }
}
