/**
 * FeedbackHandler: the seed's component for failures and successes. It decides what happens to a failed task
 * (via the pure `decideOnFailure`), remembers failure patterns per task (in memory, bounded), turns them into
 * improvement suggestions, and advises the scheduler when to slow down or pause intake.
 *
 * It keeps no durable state: saving feedback on the task in the store is the caller's job, and a restarted
 * daemon starts with empty memory (the task's own lastError still feeds suggestions).
 */
import type { AppConfig } from '../config/load.js';
import { toDaemonError } from '../domain/errors.js';
import type { Task } from '../domain/task.js';
import { LruMap } from './lru-map.js';
import { decideOnFailure, type FailureDecision } from './retry-policy.js';
import { suggestImprovements, type FailureRecord, type Suggestions } from './suggestions.js';

export interface FeedbackHandlerOptions {
  /** processing.maxRetries: used when a task carries no maxAttempts of its own (attempts = retries + 1). */
  maxRetries: number;
  /** rateLimits.maxRetryAfterMs. */
  maxRetryAfterMs: number;
  now?: () => Date;
  random?: () => number;
  /** Tasks whose failure history is remembered; the least recently touched are forgotten first. Default 10,000. */
  historyCapacity?: number;
  /** Wait before a task deferred by an outage is claimable again, in ms (retry-policy's default otherwise). */
  outageRetryMs?: number;
  /** How long a repository's tasks are parked after a repository-scoped failure, in ms. */
  repositoryParkMs?: number;
}

/** What the caller learned about the failure before asking: whether a probe found the dependency healthy. */
export interface FailureAssessment {
  dependencyHealthy?: boolean;
}

export interface IntakeAdvice {
  /** Multiply the poll interval by this (1 = normal). */
  pollFactor: number;
  /** Claim nothing before this ISO time. */
  pauseUntil?: string;
  reason?: string;
}

export interface FeedbackMetrics {
  failuresByCategory: Record<string, number>;
  successes: number;
  failures: number;
  consecutiveFailures: number;
  /** Failures among the last 20 outcomes (0..1). */
  errorRate: number;
  retriesScheduled: number;
  /** Successes of tasks that had failed before in this process (the seed's error recovery). */
  recovered: number;
  /** Mean duration of successful attempts, ms (0 until one succeeds, or with successPatternTracking off). */
  averageSuccessDurationMs: number;
}

/** Outcomes the error rate looks at. */
const WINDOW = 20;
/** Failures remembered per task (the newest). */
const PER_TASK = 20;
const MAX_MESSAGE = 300;
/** Failures that say something about one task's data, never about the system (see handleError). */
const TASK_DATA_CATEGORIES: ReadonlySet<string> = new Set(['validation', 'configuration', 'conflict']);

const noSuggestions = (): Suggestions => ({
  promptOptimizations: [],
  contextImprovements: [],
  qualityEnhancements: [],
  processOptimizations: [],
});

export class FeedbackHandler {
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly history: LruMap<string, FailureRecord[]>;
  /** true = failure, newest last. Cancellations are not outcomes. */
  private readonly outcomes: boolean[] = [];
  private readonly byCategory: Record<string, number> = {};
  private successes = 0;
  private failures = 0;
  private consecutive = 0;
  private lastFailureAt = 0;
  private retriesScheduled = 0;
  private recovered = 0;
  private successDurationTotal = 0;
  private successDurationCount = 0;
  /** The longest pause a decision asked for (quota, auth, long rate limit). */
  private pause: { until: number; reason: string } | undefined;

  constructor(
    private readonly config: AppConfig['feedbackHandler'],
    private readonly options: FeedbackHandlerOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.history = new LruMap(options.historyCapacity ?? 10_000);
  }

  /** The seed's method: record a failed attempt of `task` and decide whether it retries, fails or is released. */
  async handleError(
    taskId: string,
    error: unknown,
    task: Task,
    assessment: FailureAssessment = {},
  ): Promise<FailureDecision> {
    const err = toDaemonError(error);
    const now = this.now();
    const past = this.history.get(taskId) ?? [];
    const decision = decideOnFailure({
      ...assessment,
      ...(this.options.outageRetryMs !== undefined ? { outageRetryMs: this.options.outageRetryMs } : {}),
      ...(this.options.repositoryParkMs !== undefined ? { repositoryParkMs: this.options.repositoryParkMs } : {}),
      error: err,
      attempts: Math.max(1, task.attempts),
      maxAttempts: task.maxAttempts > 0 ? task.maxAttempts : this.options.maxRetries + 1,
      now,
      retry: this.config.retry,
      random: this.random,
      maxRetryAfterMs: this.options.maxRetryAfterMs,
      priorRateLimits: trailingRateLimits(past),
    });
    if (decision.action === 'retry') this.retriesScheduled += 1;
    if (decision.action !== 'fail' && decision.pauseIntakeMs !== undefined) {
      const until = now.getTime() + decision.pauseIntakeMs;
      if (!this.pause || until > this.pause.until) this.pause = { until, reason: decision.reason };
    }
    // A cancellation (shutdown, a person cancelling) says nothing about how well tasks go, and neither does a
    // task handed back because a system it needs is down or its repository is parked: no attempt was spent.
    if (err.category === 'cancelled') return decision;
    if (decision.action === 'retry' && !decision.countAttempt && err.category !== 'rate_limit') return decision;

    this.pushOutcome(true);
    this.failures += 1;
    // A malformed row or a refused change is that task's own problem: failures in a row of that kind say nothing
    // about the system and must not pause intake for every other task.
    if (!TASK_DATA_CATEGORIES.has(err.category)) this.consecutive += 1;
    this.lastFailureAt = now.getTime();
    const label = this.config.feedback.errorCategorization ? err.category : 'uncategorized';
    if (this.config.feedback.patternAnalysis) {
      this.byCategory[label] = (this.byCategory[label] ?? 0) + 1;
      const record: FailureRecord = {
        at: now.toISOString(),
        category: err.category,
        code: err.code,
        message: err.message.length > MAX_MESSAGE ? `${err.message.slice(0, MAX_MESSAGE - 1)}…` : err.message,
        attempt: task.attempts,
        ...(err.dependency !== undefined ? { dependency: err.dependency } : {}),
      };
      this.history.set(taskId, [...past, record].slice(-PER_TASK));
    }
    return decision;
  }

  /** The seed's method: a task finished well. Its failure history is dropped (nothing left to learn for it). */
  async recordSuccess(taskId: string, _task: Task, result: { prUrl?: string; durationMs: number }): Promise<void> {
    this.pushOutcome(false);
    this.successes += 1;
    this.consecutive = 0;
    if (this.history.has(taskId)) this.recovered += 1;
    this.history.delete(taskId);
    if (this.config.feedback.successPatternTracking && Number.isFinite(result.durationMs) && result.durationMs >= 0) {
      this.successDurationTotal += result.durationMs;
      this.successDurationCount += 1;
    }
  }

  /** The seed's method: suggestions from this task's failures in this process (or its lastError after a restart). */
  getImprovementSuggestions(task: Task): Suggestions {
    if (!this.config.feedback.enableLearning) return noSuggestions();
    return suggestImprovements(task, this.getFailureHistory(task));
  }

  /** What this process remembers of a task's failures, oldest first; falls back to task.lastError. */
  getFailureHistory(task: Task): FailureRecord[] {
    const known = this.history.get(task.id);
    if (known) return [...known];
    if (!task.lastError) return [];
    return [{ ...task.lastError, at: task.updatedAt, attempt: task.attempts }];
  }

  /** Forget a task (for example once it failed for good and its feedback was saved). */
  forget(taskId: string): void {
    this.history.delete(taskId);
  }

  /**
   * How the scheduler should take in work: poll slower while the error rate over the last 20 outcomes is above
   * thresholds.errorRateThreshold; pause for retry.maxDelay after maxConsecutiveFailures failures in a row;
   * and pause as long as a decision asked (quota, authentication, a long rate limit). The latest pause wins.
   */
  intakeAdvice(): IntakeAdvice {
    const now = this.now().getTime();
    const { errorRateThreshold, retryDelayIncrease, maxConsecutiveFailures } = this.config.thresholds;
    const rate = this.errorRate();
    const slow = rate > errorRateThreshold;
    const pauses: { until: number; reason: string }[] = [];
    if (this.consecutive >= maxConsecutiveFailures) {
      pauses.push({
        until: this.lastFailureAt + this.config.retry.maxDelay,
        reason: `${this.consecutive} failures in a row (threshold ${maxConsecutiveFailures})`,
      });
    }
    if (this.pause) pauses.push(this.pause);
    const pause = pauses.filter((p) => p.until > now).sort((a, b) => b.until - a.until)[0];
    const advice: IntakeAdvice = { pollFactor: slow ? retryDelayIncrease : 1 };
    if (pause) {
      advice.pauseUntil = new Date(pause.until).toISOString();
      advice.reason = pause.reason;
    } else if (slow) {
      advice.reason = `error rate ${Math.round(rate * 100)}% over the last ${this.outcomes.length} outcomes is above ${Math.round(errorRateThreshold * 100)}%`;
    }
    return advice;
  }

  getMetrics(): FeedbackMetrics {
    return {
      failuresByCategory: { ...this.byCategory },
      successes: this.successes,
      failures: this.failures,
      consecutiveFailures: this.consecutive,
      errorRate: this.errorRate(),
      retriesScheduled: this.retriesScheduled,
      recovered: this.recovered,
      averageSuccessDurationMs:
        this.successDurationCount === 0 ? 0 : Math.round(this.successDurationTotal / this.successDurationCount),
    };
  }

  private errorRate(): number {
    if (this.outcomes.length === 0) return 0;
    return this.outcomes.filter(Boolean).length / this.outcomes.length;
  }

  private pushOutcome(failed: boolean): void {
    this.outcomes.push(failed);
    if (this.outcomes.length > WINDOW) this.outcomes.shift();
  }
}

function trailingRateLimits(history: FailureRecord[]): number {
  let n = 0;
  for (let i = history.length - 1; i >= 0 && history[i]!.category === 'rate_limit'; i--) n += 1;
  return n;
}
