/**
 * The one retry decision: retry only DaemonErrors that say `retryable`, honour a server-advised wait
 * (Retry-After) up to a cap, otherwise back off exponentially with jitter. Every wait can be cut short by the
 * caller's AbortSignal, and its timer never keeps the process alive on its own.
 */
import { DaemonError, toDaemonError } from '../domain/errors.js';

/** How backoff spreads retries: `full` = random in [0, d], `equal` = d/2 + random in [0, d/2]. */
export type JitterMode = 'full' | 'equal';

export interface BackoffOptions {
  /** First backoff step, in ms. Default 500. */
  baseMs?: number;
  /** Longest backoff, in ms. Default 30_000. */
  maxMs?: number;
  jitter?: JitterMode;
  /** Source of randomness in [0, 1); tests pass a constant. Default Math.random. */
  random?: () => number;
}

export interface RetryOptions extends BackoffOptions {
  /** Attempts in total, the first one included. Default 3. */
  maxAttempts?: number;
  /**
   * Longest server-advised wait honoured inline, in ms. A longer Retry-After is thrown at once, so the task is
   * rescheduled instead of holding a pool slot. Default 60_000.
   */
  maxRetryAfterMs?: number;
  /** Aborts the whole loop, including a wait in progress. */
  signal?: AbortSignal;
  /** Extra veto on top of `retryable`, e.g. for requests that must not be sent twice. */
  shouldRetry?: (error: DaemonError, attempt: number) => boolean;
  /** Waits `ms`; rejects with a cancelled DaemonError when `signal` aborts. Tests replace it. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Told before each wait; for logs. */
  onRetry?: (info: { attempt: number; delayMs: number; error: DaemonError }) => void;
}

const DEFAULTS = { maxAttempts: 3, baseMs: 500, maxMs: 30_000, maxRetryAfterMs: 60_000 } as const;

/** The DaemonError for work stopped by an AbortSignal; keeps a DaemonError reason as it is. */
export function cancelledError(reason?: unknown, message = 'operation was cancelled'): DaemonError {
  if (reason instanceof DaemonError && reason.category === 'cancelled') return reason;
  return new DaemonError(message, { code: 'cancelled', category: 'cancelled', cause: reason });
}

/**
 * Backoff before retry number `attempt` (1 = the wait after the first failure): base * 2^(attempt-1), capped at
 * maxMs, then jittered. Pure.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const baseMs = options.baseMs ?? DEFAULTS.baseMs;
  const maxMs = options.maxMs ?? DEFAULTS.maxMs;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  if (options.jitter === 'equal') return Math.round(ceiling / 2 + random() * (ceiling / 2));
  return Math.round(random() * ceiling);
}

/**
 * Resolve after `ms` by the clock (Date.now), or reject with a cancelled DaemonError as soon as `signal` aborts.
 * The timer is unref'd. A Node timer counts from the event loop's cached time, which on a busy loop is behind the
 * clock, so it can fire a few ms early; a wait asked for by a Retry-After must not end inside the server's window
 * (seen in faults.e2e: a retry 2 ms inside it), so an early timer is armed again for what is left.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelledError(signal.reason));
      return;
    }
    const until = Date.now() + ms;
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelledError(signal?.reason));
    };
    const fire = (): void => {
      const left = until - Date.now();
      if (left > 0) {
        timer = setTimeout(fire, left);
        timer.unref();
        return;
      }
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    let timer = setTimeout(fire, ms);
    // A pending backoff must not be the only thing keeping a shutting-down process alive.
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Run `fn` until it succeeds, throws something not worth retrying, or attempts run out. `fn` gets the attempt
 * number (1-based). Whatever is finally thrown is a DaemonError.
 */
export async function retryWithPolicy<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULTS.maxAttempts);
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs;
  const sleep = options.sleep ?? abortableSleep;
  const { signal } = options;

  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw cancelledError(signal.reason);
    let error: DaemonError;
    try {
      return await fn(attempt);
    } catch (raw) {
      error = toDaemonError(raw);
    }
    // The caller gave up: report that, not whatever the interrupted attempt happened to throw.
    if (signal?.aborted) throw error.category === 'cancelled' ? error : cancelledError(signal.reason);
    if (!error.retryable || attempt >= maxAttempts) throw error;
    if (options.shouldRetry && !options.shouldRetry(error, attempt)) throw error;

    let delayMs: number;
    if (error.retryAfterMs !== undefined) {
      // Waiting longer than the cap would pin a pool slot; the caller reschedules the task instead.
      if (error.retryAfterMs > maxRetryAfterMs) throw error;
      delayMs = Math.max(0, error.retryAfterMs);
    } else {
      delayMs = backoffDelay(attempt, options);
    }
    options.onRetry?.({ attempt, delayMs, error });
    await sleep(delayMs, signal);
  }
}
