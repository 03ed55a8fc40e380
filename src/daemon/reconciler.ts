/**
 * The reconciler: at a low rate, reads the organization's newest API-created agent runs and compares them with
 * the task store, as Renovate derives its state from the platform on every run. Creating a run and recording it
 * are two steps, and the answer in between can be lost; the attempt that asked finds its run by its intent, but
 * an attempt that never comes back (its task failed for good, was cancelled, or waits for a claim) cannot. So:
 * - a run nobody recorded, asked for under its task's current intent, is adopted (the next claim waits on it);
 * - a PR from a run whose task already failed or was cancelled is recorded on that task ("late PR");
 * - a second run of a task that has its own is noted in the task's history for people to look at.
 * Each run is reported to the store once per state it is seen in; a run that needed nothing is looked at again
 * only after a while (its task's lease may lapse meanwhile).
 */
import { toDaemonError } from '../domain/errors.js';
import type { PullRequestRef } from '../domain/task.js';
import { LruMap } from '../feedback/lru-map.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AgentApi, AgentRun, AgentRunSighting, SightingOutcome, TaskStore } from '../pipeline/ports.js';
import type { DaemonEvents } from './events.js';

export interface ReconcilerOptions {
  agent: Pick<AgentApi, 'listAgentRuns'>;
  store: Pick<TaskStore, 'noteAgentRun'>;
  logger: Logger;
  events: DaemonEvents;
  metrics?: Metrics;
  /** Time between passes, in ms. */
  intervalMs: number;
  /** Pages of 100 runs read per pass, newest first. */
  maxPages: number;
  /** How long a sighting that needed nothing is not reported again, in ms. Default 30 minutes. */
  recheckAfterMs?: number;
}

export interface Reconciler {
  start(): void;
  /** One pass now; resolves with what it found. */
  reconcileOnce(signal?: AbortSignal): Promise<Record<SightingOutcome, number>>;
  stop(): void;
}

const PAGE = 100;
/** The metadata key our runs carry; runs of other tools (or people) are none of our business. */
const SOURCE = 'codegen-pr';

export function createReconciler(options: ReconcilerOptions): Reconciler {
  const log = options.logger.child({ component: 'reconciler' });
  const recheckAfterMs = options.recheckAfterMs ?? 30 * 60_000;
  // key -> when it was reported (definite outcomes are never reported again; 'none' after recheckAfterMs).
  const reported = new LruMap<string, { at: number; final: boolean }>(20_000);
  const stopper = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  async function reconcileOnce(signal?: AbortSignal): Promise<Record<SightingOutcome, number>> {
    const counts: Record<SightingOutcome, number> = { adopted: 0, 'late-pr': 0, 'extra-run': 0, none: 0 };
    const combined = signal ? AbortSignal.any([signal, stopper.signal]) : stopper.signal;
    for (let page = 0; page < options.maxPages; page++) {
      const result = await options.agent.listAgentRuns({ skip: page * PAGE, limit: PAGE, sourceType: 'API' }, combined);
      for (const run of result.items) {
        const taskId = run.metadata?.task_id;
        if (run.metadata?.source !== SOURCE || typeof taskId !== 'string') continue;
        const sighting = toSighting(run);
        const key = `${run.id}|${sighting.state}|${sighting.pr?.url ?? ''}`;
        const seen = reported.get(key);
        if (seen && (seen.final || Date.now() - seen.at < recheckAfterMs)) continue;
        const outcome = await options.store.noteAgentRun(taskId, sighting, combined);
        reported.set(key, { at: Date.now(), final: outcome !== 'none' });
        counts[outcome] += 1;
        if (outcome !== 'none') report(taskId, run, sighting, outcome);
      }
      if (result.items.length < PAGE || (page + 1) * PAGE >= result.total) break;
    }
    return counts;
  }

  function report(taskId: string, run: AgentRun, sighting: AgentRunSighting, outcome: SightingOutcome): void {
    options.metrics?.reconcileSightings.inc({ outcome });
    if (outcome === 'adopted') {
      options.metrics?.agentRunsAdopted.inc({ how: 'reconciler' });
      options.events.emit('agent_run_adopted', { taskId, runId: run.id, how: 'reconciler' });
      log.warn({ taskId, runId: run.id }, 'adopted an agent run no task had recorded');
    } else if (outcome === 'late-pr' && sighting.pr) {
      options.events.emit('late_pr', { taskId, url: sighting.pr.url, runId: run.id });
      log.warn({ taskId, runId: run.id, pr: sighting.pr.url }, 'recorded a late PR on a task that had ended');
    } else {
      log.warn({ taskId, runId: run.id, state: sighting.state }, 'a task has a second agent run; noted in its history');
    }
  }

  function schedule(): void {
    if (stopper.signal.aborted) return;
    timer = setTimeout(() => {
      running = reconcileOnce()
        .then((counts) => log.debug(counts, 'reconcile pass done'))
        .catch((raw: unknown) => {
          const err = toDaemonError(raw);
          if (err.category !== 'cancelled') log.warn({ err }, 'reconcile pass failed; will try at the next one');
        })
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, options.intervalMs);
    timer.unref();
  }

  return {
    start() {
      if (timer || options.intervalMs <= 0) return;
      schedule();
    },
    reconcileOnce,
    stop() {
      stopper.abort();
      if (timer) clearTimeout(timer);
      void running;
    },
  };
}

/** What the store needs to know of a run. */
export function toSighting(run: AgentRun): AgentRunSighting {
  const state = run.state === 'succeeded' ? 'succeeded' : run.state === 'failed' ? 'failed' : 'live';
  const sighting: AgentRunSighting = { runId: run.id, state };
  if (run.webUrl) sighting.url = run.webUrl;
  const intent = run.metadata?.intent;
  if (typeof intent === 'string') sighting.intent = intent;
  const pr = firstPullRequest(run);
  if (pr) sighting.pr = pr;
  return sighting;
}

function firstPullRequest(run: AgentRun): PullRequestRef | undefined {
  for (const p of run.pullRequests) {
    const number = p.url ? Number(/\/pull\/(\d+)(?:[/?#]|$)/.exec(p.url)?.[1]) : NaN;
    if (p.url && Number.isInteger(number) && number > 0) return { url: p.url, number, branch: p.branch || '(unknown)' };
  }
  return undefined;
}
