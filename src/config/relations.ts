/**
 * Rules between keys, checked once every value is valid on its own: an initial wait no longer than its
 * maximum, a slowed poll that is still a valid timer, the Task API's limits when it is the store, a store
 * kind with what it needs, and a GitHub App configured whole or not at all.
 */
import { MAX_TIMER_MS } from './format-kit.js';
import { TASK_API_LIMITS } from './formats.js';
import { valueIssue, type ConfigIssue } from './issues.js';
import type { AppConfig } from './load.js';
import { specOf } from './validate.js';

function envOf(key: string): string {
  return specOf(key)?.env ?? key;
}

/** "codegen.pollMaxMs (CODEGEN_POLL_MAX_MS = 60000)": another key, named for the operator. */
function other(key: string, value: unknown): string {
  return `${key} (${envOf(key)}${value === undefined ? '' : ` = ${String(value)}`})`;
}

function issue(key: string, problem: string, expected: string, shown?: unknown): ConfigIssue {
  return valueIssue({
    key,
    env: envOf(key),
    problem,
    expected,
    ...(shown === undefined ? {} : { shown: String(shown) }),
  });
}

/** True when the daemon talks to the Task API (the same choice as chooseStoreKind in src/adapters/open-store.ts). */
export function usesTaskApi(config: Pick<AppConfig, 'taskStore' | 'cloudflareApi'>): boolean {
  const { kind } = config.taskStore;
  return kind === 'http' || (kind === 'auto' && config.cloudflareApi.baseUrl !== '');
}

function orderedPairs(config: AppConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { pollInitialMs, pollMaxMs } = config.codegen;
  if (pollInitialMs > pollMaxMs) {
    issues.push(
      issue(
        'codegen.pollInitialMs',
        `is above ${other('codegen.pollMaxMs', pollMaxMs)}`,
        `at most ${pollMaxMs}, or raise ${envOf('codegen.pollMaxMs')}`,
        pollInitialMs,
      ),
    );
  }
  const { baseDelay, maxDelay } = config.feedbackHandler.retry;
  if (baseDelay > maxDelay) {
    issues.push(
      issue(
        'feedbackHandler.retry.baseDelay',
        `is above ${other('feedbackHandler.retry.maxDelay', maxDelay)}`,
        `at most ${maxDelay}, or raise ${envOf('feedbackHandler.retry.maxDelay')}`,
        baseDelay,
      ),
    );
  }
  // While the error rate is high the scheduler waits pollInterval x retryDelayIncrease; that wait is a timer too.
  const factor = config.feedbackHandler.thresholds.retryDelayIncrease;
  const slowed = config.processing.pollInterval * factor;
  if (slowed > MAX_TIMER_MS) {
    issues.push(
      issue(
        'processing.pollInterval',
        `times ${other('feedbackHandler.thresholds.retryDelayIncrease', factor)} is ${slowed}, ` +
          `above ${MAX_TIMER_MS} (the longest timer Node allows)`,
        `at most ${Math.floor(MAX_TIMER_MS / factor)}, or lower ${envOf('feedbackHandler.thresholds.retryDelayIncrease')}`,
        config.processing.pollInterval,
      ),
    );
  }
  return issues;
}

/** What the Task API accepts: a claim of at most 100 tasks, a lease of 1 s to 1 h. */
function taskApiLimits(config: AppConfig): ConfigIssue[] {
  if (!usesTaskApi(config)) return [];
  const issues: ConfigIssue[] = [];
  const why = 'the Task API store (CLOUDFLARE_API_URL) accepts';
  for (const key of ['processing.batchSize', 'processing.concurrency'] as const) {
    const value = key === 'processing.batchSize' ? config.processing.batchSize : config.processing.concurrency;
    if (value > TASK_API_LIMITS.claimMax) {
      issues.push(issue(key, `is above the ${TASK_API_LIMITS.claimMax} tasks per claim ${why}`, `at most 100`, value));
    }
  }
  const { leaseMs } = config.taskStore;
  if (leaseMs < TASK_API_LIMITS.leaseMinMs || leaseMs > TASK_API_LIMITS.leaseMaxMs) {
    issues.push(
      issue(
        'taskStore.leaseMs',
        `is outside the leases ${why} (${TASK_API_LIMITS.leaseMinMs} to ${TASK_API_LIMITS.leaseMaxMs} ms)`,
        `a whole number of milliseconds from ${TASK_API_LIMITS.leaseMinMs} to ${TASK_API_LIMITS.leaseMaxMs}`,
        leaseMs,
      ),
    );
  }
  return issues;
}

function storeNeeds(config: AppConfig): ConfigIssue[] {
  const { kind, databaseUrl } = config.taskStore;
  if (kind === 'http' && config.cloudflareApi.baseUrl === '') {
    return [issue('cloudflareApi.baseUrl', 'is empty, but TASK_STORE=http needs it', 'the Task API URL')];
  }
  if (kind === 'postgres' && databaseUrl === '') {
    return [issue('taskStore.databaseUrl', 'is empty, but TASK_STORE=postgres needs it', 'a postgres:// URL')];
  }
  return [];
}

function githubAppWhole(config: AppConfig): ConfigIssue[] {
  const parts = {
    'github.appId': config.github.appId,
    'github.privateKey': config.github.privateKey,
    'github.installationId': config.github.installationId,
  };
  const set = Object.entries(parts).filter(([, v]) => v !== '');
  if (set.length === 0 || set.length === 3) return [];
  const given = set.map(([k]) => envOf(k)).join(', ');
  return Object.entries(parts)
    .filter(([, v]) => v === '')
    .map(([key]) =>
      issue(key, `is empty, but a GitHub App needs it (${given} set)`, `the App's value, or unset ${given}`),
    );
}

/** Every rule between keys that `config` breaks; run after each value passed its own format. */
export function checkRelations(config: AppConfig): ConfigIssue[] {
  return [...orderedPairs(config), ...taskApiLimits(config), ...storeNeeds(config), ...githubAppWhole(config)];
}
