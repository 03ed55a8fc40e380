/**
 * The label values each metric can take, and the series created for them at start. A counter that has never
 * been incremented has no series at all, so `rate()` returns nothing and an alert such as "tasks wait but
 * nothing is claimed" cannot fire before the first claim ever happened; a labelled gauge has the same gap.
 * Every series listed here therefore exists, at 0 (or at its resting value), from the first scrape.
 */
import { ERROR_CATEGORIES } from '../domain/errors.js';
import type { Metrics } from './metrics.js';

/** External systems the daemon depends on (metric label `dependency`, and `system` for credentials). */
export const DEPENDENCIES = ['codegen', 'github', 'task-store'] as const;

/** Where claimed tasks come from (the store kind; `custom` for a store passed in by a library user). */
export const CLAIM_SOURCES = ['http', 'postgres', 'sqlite', 'pglite', 'custom'] as const;

/** Reasons intake can be paused for: the feedback handler's, the auth probe's, the error-rate brake, shutdown. */
export const INTAKE_REASONS = [
  'auth',
  'authentication',
  'quota',
  'rate_limit',
  'error_rate',
  'shutdown',
  // A person paused intake from the status page.
  'operator',
] as const;

/** The pipeline's steps, as named by instrument() in run-task.ts. */
export const PIPELINE_STEPS = [
  'validate',
  'generate-prompt',
  'ensure-agent-run',
  'await-agent-run',
  'ensure-pull-request',
  'report',
] as const;

/** Outcomes of one attempt (codegen_pr_tasks_finished_total{outcome}); the first three carry no error. */
export const ATTEMPT_OUTCOMES = ['completed', 'released', 'lease_lost', 'failed', 'retried'] as const;

/** Create every known series at its resting value. Called once by createMetrics. */
export function initialiseSeries(metrics: Metrics): void {
  for (const source of CLAIM_SOURCES) metrics.tasksClaimed.inc({ source }, 0);
  for (const outcome of ['completed', 'released', 'lease_lost'] as const)
    metrics.tasksFinished.inc({ outcome, category: 'none' }, 0);
  for (const outcome of ['failed', 'retried'] as const)
    for (const category of ERROR_CATEGORIES) metrics.tasksFinished.inc({ outcome, category }, 0);
  for (const outcome of ATTEMPT_OUTCOMES) metrics.taskDuration.zero({ outcome });
  for (const step of PIPELINE_STEPS) metrics.stepDuration.zero({ step, outcome: 'ok' });
  for (const origin of ['agent', 'daemon']) metrics.prsCreated.inc({ origin }, 0);
  for (const dependency of DEPENDENCIES) {
    metrics.rateLimited.inc({ dependency }, 0);
    metrics.credentialsRefused.set({ system: dependency }, 0);
    // Up until an outage is declared, as a breaker starts closed.
    metrics.dependencyUp.set({ dependency }, 1);
  }
  for (const reason of INTAKE_REASONS) metrics.intakePaused.set({ reason }, 0);
  for (const table of ['tasks', 'task_events']) metrics.retentionDeleted.inc({ table }, 0);
}
