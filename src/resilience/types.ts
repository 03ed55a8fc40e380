/**
 * The one chokepoint per external system. Every outbound request to Codegen, GitHub or the Task API goes
 * through its system's Guard: rate limiter (bottleneck), circuit breaker (opossum), retry of retryable errors
 * (Retry-After honoured and capped), and a per-request timeout, composed once, never inside steps.
 */

export type CircuitState = 'closed' | 'half-open' | 'open';

/**
 * Where a guard's rate limits are kept: `shared` through Redis with every replica, `local` in this process
 * (no Redis configured, or Redis unreachable: 1/replicas of each limit), `none` for a guard without limits.
 */
export type RateLimitMode = 'shared' | 'local' | 'none';

export interface Guard {
  /** Name of the external system: codegen, github, task-store. */
  readonly dependency: string;
  /**
   * Run one request. `kind` picks the rate-limit budget (for Codegen: `create` for agent-run creation, anything
   * else the standard budget) and labels metrics. `fn` receives a signal that aborts on the caller's signal or
   * on the request timeout. Errors must already be DaemonErrors (the adapter classifies inside `fn`).
   */
  run<T>(kind: string, fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T>;
  circuitState(): CircuitState;
  /**
   * Where the rate limits are kept right now; for /status. Optional so that guards written for tests need not
   * say; a guard without it has no limits of its own (`none`).
   */
  mode?(): RateLimitMode;
  /** Release timers and Redis connections. */
  close(): Promise<void>;
}

/** A guard that only forwards the call: for tests of adapters, and for systems without limits. */
export function passThroughGuard(dependency: string): Guard {
  return {
    dependency,
    run: (_kind, fn, signal) => fn(signal ?? new AbortController().signal),
    circuitState: () => 'closed',
    mode: () => 'none',
    close: async () => {},
  };
}
