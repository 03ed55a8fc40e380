/**
 * What is wrong with a configuration, one issue per key, and the error that carries them. Every issue names
 * the key and its environment variable and says what to set, so the operator can fix it without the docs.
 */

/** One refused setting (or file). */
export interface ConfigIssue {
  /** Schema path, e.g. processing.pollInterval; for a file problem, the variable or file that named it. */
  key: string;
  /** The environment variable that sets the key, when it has one. */
  env?: string;
  /** What is wrong, e.g. "is above 2147483647 (the longest timer Node allows)". */
  problem: string;
  /** What to set instead, phrased to follow "set VAR to", e.g. "a whole number from 1 to 1000". */
  expected: string;
  /** The full line shown to the operator. */
  message: string;
}

/** Configuration that cannot start the daemon. The message names each key, its variable and what to set. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** sysexits.h EX_CONFIG */
  readonly exitCode = 78;
  /** Each problem found, in schema order; empty for errors raised with a message only. */
  readonly issues: readonly ConfigIssue[];

  constructor(message: string, issues: readonly ConfigIssue[] = []) {
    super(message);
    this.issues = issues;
  }
}

/**
 * An issue about a key's value: 'processing.concurrency (env CONCURRENCY) = "many" is not a whole number;
 * set CONCURRENCY to a whole number from 1 to 1000'. `shown` is the value as it may be shown, or undefined for
 * secrets and URLs.
 */
export function valueIssue(args: {
  key: string;
  env?: string;
  problem: string;
  expected: string;
  shown?: string;
}): ConfigIssue {
  const { key, env, problem, expected, shown } = args;
  const where = env ? `${key} (env ${env})` : key;
  const value = shown === undefined ? '' : ` = ${shown}`;
  const fix = env ? `set ${env} to ${expected}` : `set "${key}" in a config file to ${expected}`;
  return { key, ...(env ? { env } : {}), problem, expected, message: `${where}${value} ${problem}; ${fix}` };
}

/** An issue about a configuration file or other source, with a message of its own. */
export function sourceIssue(key: string, message: string, env?: string): ConfigIssue {
  return { key, ...(env ? { env } : {}), problem: message, expected: '', message };
}

/** The ConfigError for a list of issues, one line each. */
export function configErrorFrom(issues: readonly ConfigIssue[]): ConfigError {
  return new ConfigError(`invalid configuration:\n${issues.map((i) => i.message).join('\n')}`, issues);
}
