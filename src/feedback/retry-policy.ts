/**
 * The one retry decision: what to do with a task whose attempt failed. Pure: the caller passes `now`, `random`
 * and what a probe found out about the failing dependency, so every row of the tables below is a plain unit test.
 *
 * The scope decides first (STYLE.md habit 15), then the category:
 *
 * | scope / category                      | action                                          | attempt | intake                  |
 * |---------------------------------------|-------------------------------------------------|---------|-------------------------|
 * | cancelled                             | release                                         | no      | -                       |
 * | rate_limit                            | retry after retryAfterMs, else backoff          | no      | paused if wait is long  |
 * | quota                                 | release                                         | no      | paused retryAfter/15min |
 * | credential, probe says refused        | defer (retry soon, checkpoint kept)             | no      | paused by the monitor   |
 * | dependency, probe says unhealthy      | defer (retry soon, checkpoint kept)             | no      | paused by the monitor   |
 * | repository                            | defer until the repository's park ends          | no      | -                       |
 * | task, or the probe found it healthy:  |                                                 |         |                         |
 * |   validation, configuration, conflict | fail                                            | -       | -                       |
 * |   prompt, not retryable               | fail                                            | -       | -                       |
 * |   timeout, not retryable (deadline)   | fail                                            | -       | -                       |
 * |   agent                               | backoff, then fail; the finished run is dropped | yes     | -                       |
 * |   everything else                     | backoff while attempts < max, then fail         | yes     | -                       |
 *
 * A failure of a whole system (dependency, credential) is only excused when a probe confirms the system is
 * unhealthy: a request that fails again and again while the system answers its probe is this task's problem
 * (a server bug its input triggers, say), and spends attempts like any other, so it cannot cycle for ever.
 *
 * `unknown` gets bounded retries: a transient nobody classified recovers, a bug fails after maxAttempts. For the
 * backoff rows the category decides, not `error.retryable`: an adapter that leaves `retryable` unset on an agent
 * failure must not cost the task its retries. Only `prompt` consults the flag (the seed's "prompt with no retry").
 */
import type { AppConfig } from '../config/load.js';
import type { DaemonError } from '../domain/errors.js';

export type RetryConfig = AppConfig['feedbackHandler']['retry'];

/** Why intake should pause (the label of the intake-paused metric). */
export type PauseReason = 'auth' | 'quota' | 'rate_limit';

export type FailureDecision =
  | {
      action: 'retry';
      /** ISO time from which the task may be claimed again (FailureReport.retryAt). */
      retryAt: string;
      delayMs: number;
      /** False for rate limits: the wait is not the task's fault (FailureReport.countAttempt). */
      countAttempt: boolean;
      reason: string;
      /** Set when the wait is so long that every task would hit it: pause this replica's intake too. */
      pauseIntakeMs?: number;
      pauseReason?: PauseReason;
      /** The agent run is over (failed, or ended without changes): the next attempt starts a new one. */
      dropRun?: boolean;
      /** The task's repository cannot be worked on: park its other tasks until retryAt too. */
      parkRepository?: boolean;
    }
  | { action: 'fail'; reason: string; dropRun?: boolean }
  | { action: 'release'; reason: string; pauseIntakeMs?: number; pauseReason?: PauseReason };

export interface FailureInput {
  error: DaemonError;
  /** Attempts used so far, the failed one included (task.attempts). */
  attempts: number;
  maxAttempts: number;
  now: Date;
  retry: RetryConfig;
  random: () => number;
  /** rateLimits.maxRetryAfterMs: a server-advised wait longer than this is treated as global, not per task. */
  maxRetryAfterMs: number;
  /**
   * For dependency- and credential-scoped failures: true when a probe found the system healthy (so the failure is
   * the task's own), false when it confirmed an outage. Undefined: not probed, treated as an outage.
   */
  dependencyHealthy?: boolean;
  /** How long a task waits after an outage or refused credential before it is claimable again. Default 15 s. */
  outageRetryMs?: number;
  /** How long a repository's tasks are parked after a repository-scoped failure. Default 15 minutes. */
  repositoryParkMs?: number;
  /**
   * Rate limits in a row just before this one. They use no attempt, so `attempts` does not grow; without a
   * Retry-After the backoff grows with this instead. Default 0.
   */
  priorRateLimits?: number;
}

/** How long intake pauses on a quota error when the server did not say (a plan limit does not lift in seconds). */
export const QUOTA_PAUSE_MS = 15 * 60_000;
/** Wait after an outage before a task is claimable again (intake stays paused until a probe succeeds anyway). */
export const OUTAGE_RETRY_MS = 15_000;
/** How long a repository's tasks wait after a repository-scoped failure (someone must fix access first). */
export const REPOSITORY_PARK_MS = 15 * 60_000;
/** Longest rate-limit wait honoured; a longer Retry-After is clamped (GitHub's windows are at most an hour). */
export const MAX_RATE_LIMIT_WAIT_MS = 60 * 60_000;

/**
 * The seed's formula: delay = baseDelay * backoffMultiplier^(attempt - 1), plus jitter of up to +-10% when
 * enabled (delay + (random - 0.5) * 2 * delay * 0.1), capped at maxDelay. Whole milliseconds, never negative.
 */
export function computeRetryDelay(attempt: number, config: RetryConfig, random: () => number): number {
  const n = Math.max(1, Math.trunc(attempt));
  const delay = config.baseDelay * Math.pow(config.backoffMultiplier, n - 1);
  // Past this point even the lowest jitter lands above the cap; also keeps Infinity out of the arithmetic.
  if (!Number.isFinite(delay) || delay * 0.9 >= config.maxDelay) return config.maxDelay;
  const jittered = config.jitter ? delay + (random() - 0.5) * 2 * (delay * 0.1) : delay;
  return Math.max(0, Math.round(Math.min(config.maxDelay, jittered)));
}

function retryAt(now: Date, delayMs: number): string {
  return new Date(now.getTime() + delayMs).toISOString();
}

function describe(error: DaemonError): string {
  return `${error.category} error (${error.code})`;
}

function backoff(input: FailureInput): Extract<FailureDecision, { action: 'retry' | 'fail' }> {
  const { error, attempts, maxAttempts, now, retry, random } = input;
  if (attempts >= maxAttempts) {
    return { action: 'fail', reason: `${describe(error)}; no attempts left (${attempts} of ${maxAttempts} used)` };
  }
  const delayMs = computeRetryDelay(attempts, retry, random);
  return {
    action: 'retry',
    retryAt: retryAt(now, delayMs),
    delayMs,
    countAttempt: true,
    reason: `${describe(error)}; retry ${attempts + 1} of ${maxAttempts} in ${delayMs} ms`,
  };
}

/** Defer the task without spending an attempt: the failure is not its own. */
function defer(input: FailureInput, delayMs: number, why: string, extra: { parkRepository?: boolean } = {}) {
  const decision: FailureDecision = {
    action: 'retry',
    retryAt: retryAt(input.now, delayMs),
    delayMs,
    countAttempt: false,
    reason: `${describe(input.error)}; ${why}; retry in ${delayMs} ms, attempt not counted`,
    ...extra,
  };
  return decision;
}

/** Decide what happens to a task after a failed attempt (see the table at the top of this file). */
export function decideOnFailure(input: FailureInput): FailureDecision {
  const { error } = input;
  // Categories whose handling does not depend on scope: they say exactly what to do.
  if (error.category === 'cancelled') {
    return { action: 'release', reason: `${describe(error)}; task released without using an attempt` };
  }
  if (error.category === 'rate_limit') return decideRateLimit(input);
  if (error.category === 'quota') {
    const pauseIntakeMs = error.retryAfterMs ?? QUOTA_PAUSE_MS;
    return {
      action: 'release',
      reason: `${describe(error)}; task released without using an attempt, intake paused for ${pauseIntakeMs} ms`,
      pauseIntakeMs,
      pauseReason: 'quota',
    };
  }
  switch (error.scope) {
    case 'credential':
      if (input.dependencyHealthy === true) break;
      return defer(input, input.outageRetryMs ?? OUTAGE_RETRY_MS, `${who(error)} refused the credential`);
    case 'dependency':
      if (input.dependencyHealthy === true) break;
      return defer(input, input.outageRetryMs ?? OUTAGE_RETRY_MS, `${who(error)} is unavailable`);
    case 'repository':
      return defer(input, input.repositoryParkMs ?? REPOSITORY_PARK_MS, 'the repository is parked', {
        parkRepository: true,
      });
    case 'task':
      break;
  }
  return decideTaskFailure(input);
}

function who(error: DaemonError): string {
  return error.dependency ?? 'a dependency';
}

function decideRateLimit(input: FailureInput): FailureDecision {
  const { error, now, retry, maxRetryAfterMs } = input;
  const advised = error.retryAfterMs !== undefined && error.retryAfterMs >= 0;
  const delayMs = advised
    ? Math.min(Math.round(error.retryAfterMs!), MAX_RATE_LIMIT_WAIT_MS)
    : computeRetryDelay(input.attempts + (input.priorRateLimits ?? 0), retry, input.random);
  const decision: FailureDecision = {
    action: 'retry',
    retryAt: retryAt(now, delayMs),
    delayMs,
    countAttempt: false,
    reason: `${describe(error)}; retry in ${delayMs} ms${advised ? ' as the server advised' : ''}, attempt not counted`,
  };
  if (delayMs > maxRetryAfterMs) return { ...decision, pauseIntakeMs: delayMs, pauseReason: 'rate_limit' };
  return decision;
}

/** The task's own failure: the category decides. */
function decideTaskFailure(input: FailureInput): FailureDecision {
  const { error } = input;
  switch (error.category) {
    case 'validation':
    case 'configuration':
    case 'conflict':
      return { action: 'fail', reason: `${describe(error)}; retrying cannot help` };
    case 'prompt':
      return error.retryable ? backoff(input) : { action: 'fail', reason: `${describe(error)}; not retryable` };
    case 'agent': {
      // The run is over; a retry starts a new run (with the failure in its prompt) instead of re-reading it.
      const decision = backoff(input);
      return { ...decision, dropRun: true };
    }
    case 'timeout':
      // A timeout nobody may retry is a deadline that passed: more time will not bring it back.
      return error.retryable ? backoff(input) : { action: 'fail', reason: `${describe(error)}; not retryable` };
    case 'authentication':
    case 'network':
    case 'server':
    case 'unknown':
    case 'rate_limit':
    case 'quota':
    case 'cancelled':
      return backoff(input);
    default: {
      // A category added to ERROR_CATEGORIES later must be placed in this table deliberately.
      const unhandled: never = error.category;
      return { action: 'fail', reason: `unhandled error category ${String(unhandled)}` };
    }
  }
}
