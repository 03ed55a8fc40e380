/**
 * The one chokepoint per external system. Every outbound request to Codegen, GitHub or the Task API goes
 * through its system's Guard: rate limiter (bottleneck), circuit breaker (opossum), retry of retryable errors
 * (Retry-After honoured and capped), and a per-request timeout, composed once, never inside steps.
 */

export type CircuitState = 'closed' | 'half-open' | 'open';

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
  /** Release timers and Redis connections. */
  close(): Promise<void>;
}

/** A guard that only forwards the call: for tests of adapters, and for systems without limits. */
export function passThroughGuard(dependency: string): Guard {
  return {
    dependency,
    run: (_kind, fn, signal) => fn(signal ?? new AbortController().signal),
    circuitState: () => 'closed',
    close: async () => {},
  };
}
