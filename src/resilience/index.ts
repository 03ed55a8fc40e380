/**
 * Resilience: one Guard per external system (rate limiter, circuit breaker, retry, timeout), built once in the
 * composition root. Adapters receive a Guard and call `guard.run(kind, fn, signal)`.
 */
export { createGuard, createCodegenGuard, codegenBudgets, type GuardOptions } from './guard.js';
export { spacedBudget, replicaShare, type Budget } from './budgets.js';
export { createGitHubPacing, githubPacingBudgets, type GitHubPacingKind } from './github-pacing.js';
export {
  createLimiter,
  budgetId,
  redisClientOptions,
  type Limiter,
  type LimiterMode,
  type LimiterOptions,
} from './limiter.js';
export { createBreaker, countsAgainstCircuit, type Breaker, type BreakerOptions } from './breaker.js';
export {
  retryWithPolicy,
  backoffDelay,
  abortableSleep,
  cancelledError,
  type RetryOptions,
  type BackoffOptions,
  type JitterMode,
} from './retry.js';
export { passThroughGuard, type Guard, type CircuitState, type RateLimitMode } from './types.js';
