/**
 * The one retry decision: what to do with a task whose attempt failed. Pure: the caller passes `now` and
 * `random`, so every row of the table below is a plain unit test.
 *
 * | category                            | action                                  | uses an attempt | pauses intake                         |
 * |-------------------------------------|-----------------------------------------|-----------------|---------------------------------------|
 * | rate_limit                          | retry after retryAfterMs, else backoff  | no              | if the wait exceeds maxRetryAfterMs   |
 * | quota                               | release (global: do not burn retries)   | no (refunded)   | retryAfterMs, else QUOTA_PAUSE_MS     |
 * | authentication                      | release                                 | no (refunded)   | >= retry.maxDelay; auth probe resumes |
 * | cancelled                           | release                                 | no (refunded)   | no                                    |
 * | validation, configuration, conflict | fail                                    | -               | no                                    |
 * | prompt, not retryable               | fail                                    | -               | no                                    |
 * | prompt, retryable                   | backoff while attempts < max, then fail | yes             | no                                    |
 * | network, server, timeout, agent     | backoff while attempts < max, then fail | yes             | no                                    |
 * | unknown                             | backoff while attempts < max, then fail | yes             | no                                    |
 *
 * `unknown` gets bounded retries: a transient nobody classified recovers, a bug fails after maxAttempts.
 *
 * For the backoff rows the category decides, not `error.retryable`: an adapter that leaves `retryable` unset on an
 * agent failure must not cost the task its retries. Only `prompt` consults the flag (the seed's "prompt with no
 * retry").
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
    }
  | { action: 'fail'; reason: string }
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
   * Rate limits in a row just before this one. They use no attempt, so `attempts` does not grow; without a
   * Retry-After the backoff grows with this instead. Default 0.
   */
  priorRateLimits?: number;
}

/** How long intake pauses on a quota error when the server did not say (a plan limit does not lift in seconds). */
export const QUOTA_PAUSE_MS = 15 * 60_000;
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

function backoff(input: FailureInput): FailureDecision {
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

/** Decide what happens to a task after a failed attempt (see the table at the top of this file). */
export function decideOnFailure(input: FailureInput): FailureDecision {
  const { error, now, retry, maxRetryAfterMs } = input;
  switch (error.category) {
    case 'rate_limit': {
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
    case 'quota': {
      const pauseIntakeMs = error.retryAfterMs ?? QUOTA_PAUSE_MS;
      return {
        action: 'release',
        reason: `${describe(error)}; task released without using an attempt, intake paused for ${pauseIntakeMs} ms`,
        pauseIntakeMs,
        pauseReason: 'quota',
      };
    }
    case 'authentication':
      return {
        action: 'release',
        reason: `${describe(error)}; task released without using an attempt, intake paused until credentials work`,
        pauseIntakeMs: Math.max(retry.maxDelay, error.retryAfterMs ?? 0),
        pauseReason: 'auth',
      };
    case 'cancelled':
      return { action: 'release', reason: `${describe(error)}; task released without using an attempt` };
    case 'validation':
    case 'configuration':
    case 'conflict':
      return { action: 'fail', reason: `${describe(error)}; retrying cannot help` };
    case 'prompt':
      return error.retryable ? backoff(input) : { action: 'fail', reason: `${describe(error)}; not retryable` };
    case 'network':
    case 'server':
    case 'timeout':
    case 'agent':
    case 'unknown':
      return backoff(input);
    default: {
      // A category added to ERROR_CATEGORIES later must be placed in this table deliberately.
      const unhandled: never = error.category;
      return { action: 'fail', reason: `unhandled error category ${String(unhandled)}` };
    }
  }
}
