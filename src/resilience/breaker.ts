/**
 * One opossum circuit breaker per dependency. Only failures that say the dependency itself is unhealthy
 * (network, server, timeout) count towards opening it; a 4xx-type answer (validation, authentication, quota,
 * rate_limit, conflict, ...) proves the dependency is up and passes through untouched. While open, calls fail
 * fast with a retryable `circuit-open` DaemonError that says when the next trial will be let through.
 */
import CircuitBreaker from 'opossum';
import { DaemonError, toDaemonError, type ErrorCategory } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { CircuitState } from './types.js';

/** Categories that mean "the dependency is unhealthy"; everything else is the dependency answering. */
const UNHEALTHY: ReadonlySet<ErrorCategory> = new Set(['network', 'server', 'timeout']);

const STATE_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

export interface BreakerOptions {
  dependency: string;
  /** Failure percentage (of counted calls in the rolling window) that opens the circuit. */
  errorThresholdPercentage: number;
  /** How long the circuit stays open before one trial call is let through, in ms. */
  resetTimeoutMs: number;
  /** Calls in the rolling window before the circuit may open at all. */
  volumeThreshold: number;
  /** Length of the rolling statistics window, in ms. Default 10_000 (opossum's). */
  rollingCountTimeoutMs?: number;
  metrics?: Metrics;
  logger: Logger;
  /** Told of every state change (after metrics and logs); tests await it instead of sleeping. */
  onStateChange?: (state: CircuitState) => void;
  /** Clock for the circuit-open wait hint. Default Date.now. */
  now?: () => number;
}

export interface Breaker {
  /** Run `task` through the circuit. Rejects with `circuit-open` at once while the circuit is open. */
  fire<T>(task: () => Promise<T>): Promise<T>;
  /** Throw `circuit-open` if a call now would be refused, without running anything (to skip queues). */
  assertCallable(): void;
  state(): CircuitState;
  /** Stop timers and refuse further calls. */
  shutdown(): void;
}

/** Whether a failure counts against the dependency's health. */
export function countsAgainstCircuit(error: DaemonError): boolean {
  return UNHEALTHY.has(error.category);
}

/** Create the breaker of one dependency; see the module comment for what counts. */
export function createBreaker(options: BreakerOptions): Breaker {
  const { dependency, logger, metrics } = options;
  const now = options.now ?? Date.now;
  const log = logger.child({ dependency, component: 'breaker' });
  let openedAt = 0;

  const breaker: CircuitBreaker<[() => Promise<unknown>], unknown> = new CircuitBreaker(
    (task: () => Promise<unknown>) => task(),
    {
      name: dependency,
      // Timeouts are per attempt and abort the request; the guard owns them, not opossum.
      timeout: false,
      resetTimeout: options.resetTimeoutMs,
      errorThresholdPercentage: options.errorThresholdPercentage,
      volumeThreshold: options.volumeThreshold,
      rollingCountTimeout: options.rollingCountTimeoutMs ?? 10_000,
      // Returning true means "not a failure". A cancelled half-open trial proves nothing either way, so it counts
      // as a failure there: the circuit re-opens and a later trial decides, instead of closing on no evidence.
      errorFilter: (raw: unknown): boolean => {
        const error = toDaemonError(raw);
        if (error.category === 'cancelled') return !breaker.halfOpen;
        return !countsAgainstCircuit(error);
      },
    },
  );

  const state = (): CircuitState => (breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed');
  const report = (next: CircuitState): void => {
    metrics?.circuitState.set({ dependency }, STATE_VALUE[next]);
  };
  const changed = (next: CircuitState): void => {
    try {
      options.onStateChange?.(next);
    } catch (err) {
      log.warn({ err }, 'circuit state listener failed');
    }
  };
  report('closed');
  breaker.on('open', () => {
    openedAt = now();
    report('open');
    log.warn({ resetTimeoutMs: options.resetTimeoutMs }, 'circuit opened: failing fast');
    changed('open');
  });
  breaker.on('halfOpen', () => {
    report('half-open');
    log.info('circuit half-open: letting one trial request through');
    changed('half-open');
  });
  breaker.on('close', () => {
    report('closed');
    log.info('circuit closed');
    changed('closed');
  });

  const openError = (cause?: unknown): DaemonError => {
    // Point callers at the moment the trial request will be allowed, never past resetTimeout.
    const remaining = Math.min(options.resetTimeoutMs, Math.max(1, openedAt + options.resetTimeoutMs - now()));
    return new DaemonError(`${dependency} circuit is open after repeated failures`, {
      code: 'circuit-open',
      category: 'server',
      retryable: true,
      retryAfterMs: breaker.opened ? remaining : options.resetTimeoutMs,
      dependency,
      cause,
    });
  };

  return {
    async fire<T>(task: () => Promise<T>): Promise<T> {
      try {
        return (await breaker.fire(task)) as T;
      } catch (raw) {
        const code = (raw as { code?: unknown } | null)?.code;
        if (code === 'EOPENBREAKER') throw openError(raw);
        if (code === 'ESHUTDOWN')
          throw new DaemonError(`${dependency} guard is closed`, {
            code: 'guard-closed',
            category: 'cancelled',
            dependency,
            cause: raw,
          });
        throw toDaemonError(raw);
      }
    },
    assertCallable(): void {
      // Half-open with the trial already taken refuses calls too (opossum lets only one through).
      if (breaker.opened || (breaker.halfOpen && !breaker.pendingClose)) throw openError();
    },
    state,
    shutdown(): void {
      breaker.shutdown();
    },
  };
}
