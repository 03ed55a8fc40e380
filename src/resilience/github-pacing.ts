/**
 * GitHub's write pacing as a Limiter: GitHub asks for at least a second between two mutating requests and more
 * between requests that notify people, per token, so replicas sharing a token share the pacing through Redis.
 * Built on createLimiter, it falls back to local pacing (each replica spacing its requests `replicas` times
 * further apart) while Redis is unreachable, where bottleneck's own Redis clustering would wait for ever.
 */
import type { AppConfig } from '../config/load.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Budget } from './budgets.js';
import { createLimiter, type Limiter } from './limiter.js';

/** The kinds createOctokit schedules: every write, and additionally every write that notifies people. */
export type GitHubPacingKind = 'write' | 'notifications';

/** Spacing only (no reservoir), stretched by the headroom: 1 s at 10 % becomes 1.12 s. */
function spacing(minTimeMs: number, headroomPercent: number): Budget {
  return { max: Infinity, perMs: 60_000, minTimeMs: Math.ceil((minTimeMs * 100) / (100 - headroomPercent)) };
}

/** The pacing budgets from configuration; `standard` is unlimited (reads are not paced). */
export function githubPacingBudgets(config: Pick<AppConfig, 'github' | 'rateLimits'>): Record<string, Budget> {
  const { headroom } = config.rateLimits;
  return {
    write: spacing(config.github.writeMinTimeMs, headroom),
    notifications: spacing(config.github.notificationMinTimeMs, headroom),
    standard: { max: Infinity, perMs: 60_000 },
  };
}

/** The pacing limiter for createOctokit's `pacing` option, shared through REDIS_URL when set. */
export function createGitHubPacing(
  config: Pick<AppConfig, 'github' | 'rateLimits'>,
  deps: { logger: Logger; metrics?: Metrics },
): Limiter {
  return createLimiter({
    id: 'github',
    budgets: githubPacingBudgets(config),
    replicas: config.rateLimits.replicas,
    logger: deps.logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(config.rateLimits.redisUrl ? { redis: { url: config.rateLimits.redisUrl } } : {}),
  });
}
