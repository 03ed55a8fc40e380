/** The feedback handler: retry decisions, failure patterns, improvement suggestions and intake advice. */
export { FeedbackHandler } from './feedback-handler.js';
export type { FeedbackHandlerOptions, FeedbackMetrics, IntakeAdvice } from './feedback-handler.js';
export { computeRetryDelay, decideOnFailure, MAX_RATE_LIMIT_WAIT_MS, QUOTA_PAUSE_MS } from './retry-policy.js';
export type { FailureDecision, FailureInput, PauseReason, RetryConfig } from './retry-policy.js';
export { agentRetryHints, reviewTask, suggestImprovements } from './suggestions.js';
export type { FailureRecord, Suggestions } from './suggestions.js';
export { LruMap } from './lru-map.js';
