/**
 * The poll loop. Every pollInterval (or at once when a slot frees and the last poll suggested more work is
 * waiting) it claims as many tasks as the pool has free slots, never more, and starts them.
 */
import type { ClaimedTask } from '../domain/task.js';
import { toDaemonError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { RepositoryCap, TaskStore } from '../pipeline/ports.js';
import type { IntakeGate } from './intake.js';
import type { Pool, Slot } from './pool.js';

export interface SchedulerDeps {
  store: Pick<TaskStore, 'claimTasks'>;
  pool: Pool;
  intake: IntakeGate;
  worker: string;
  batchSize: number;
  pollIntervalMs: number;
  leaseMs: number;
  /** ClaimOptions.maxLeaseExpiries. */
  maxLeaseExpiries?: number;
  /** ClaimOptions.repositoryCap: the per-repository in-flight cap (REPO_MAX_IN_FLIGHT and its overrides). */
  repositoryCap?: RepositoryCap;
  /**
   * Long poll (Task API): an empty claim waits this long on the server for a task to arrive. While the server
   * really waits, the loop claims again at once instead of sleeping; a server that answers at once (it cannot
   * wait) leaves the loop polling as usual.
   */
  claimWaitMs?: number;
  /** Multiplier of the poll interval (the feedback handler slows intake while the error rate is high). */
  pollFactor?: () => number;
  /** Starts processing one claimed task in the pool slot reserved for it. */
  startTask: (claim: ClaimedTask, slot: Slot) => void;
  logger: Logger;
  metrics?: Metrics;
  /** Source label for metrics. */
  source: string;
}

export interface Scheduler {
  start(): void;
  /** Stops claiming; resolves when the loop has exited (in-flight tasks keep running). */
  stop(): Promise<void>;
  /** Polls now instead of waiting for the interval. */
  wake(): void;
  readonly running: boolean;
  lastPollAt(): string | undefined;
}

export function createScheduler(deps: SchedulerDeps): Scheduler {
  const { pool, intake, logger } = deps;
  let stopped = true;
  // Aborted by stop(): a claim waiting on a store that stopped answering must not hold shutdown up.
  let stopper = new AbortController();
  /** No claim before this time (a Retry-After the store gave on a claim). */
  let notBefore = 0;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  /** A wake() that came while the loop was not sleeping (claiming, say): the next sleep is skipped. */
  let wakePending = false;
  let moreLikely = false;
  /**
   * The last claim ran under a per-repository cap and came back short: tasks may be waiting on their repository's
   * cap, which one of ours finishing frees, so a freed slot claims at once instead of at the next interval.
   */
  let capMayFree = false;
  let lastPoll: string | undefined;
  /** The last claim was a long poll the server held for most of its wait, and it found nothing. */
  let heldEmpty = false;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (wakePending) {
        wakePending = false;
        resolve();
        return;
      }
      // Deliberately not unref'd: this timer is what keeps an idle daemon alive between polls.
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  pool.onSlotFreed(() => {
    if (moreLikely || capMayFree) wakeUp?.();
  });

  async function pollOnce(): Promise<void> {
    // Slots first, then claims: every task claimed has a slot to run in.
    heldEmpty = false;
    const slots = pool.reserve(deps.batchSize);
    if (slots.length === 0) {
      moreLikely = true;
      return;
    }
    const limit = slots.length;
    lastPoll = new Date().toISOString();
    const claimedAt = Date.now();
    let claims: ClaimedTask[];
    try {
      claims = await deps.store.claimTasks(
        {
          worker: deps.worker,
          limit,
          leaseMs: deps.leaseMs,
          ...(deps.maxLeaseExpiries !== undefined ? { maxLeaseExpiries: deps.maxLeaseExpiries } : {}),
          ...(deps.repositoryCap ? { repositoryCap: deps.repositoryCap } : {}),
          ...(deps.claimWaitMs ? { waitMs: deps.claimWaitMs } : {}),
        },
        stopper.signal,
      );
    } catch (raw) {
      for (const slot of slots) slot.release();
      const err = toDaemonError(raw);
      deps.metrics?.claimErrors.inc();
      logger.warn({ err, code: err.code }, 'could not claim tasks; will try again at the next poll');
      moreLikely = false;
      // The store asked us to wait (Retry-After): the next poll waits at least that long.
      if (err.retryAfterMs !== undefined) notBefore = Date.now() + err.retryAfterMs;
      return;
    }
    moreLikely = claims.length === limit;
    capMayFree = deps.repositoryCap !== undefined && claims.length < limit;
    heldEmpty = claims.length === 0 && !!deps.claimWaitMs && Date.now() - claimedAt >= deps.claimWaitMs / 2;
    if (claims.length > 0) {
      deps.metrics?.tasksClaimed.inc({ source: deps.source }, claims.length);
      logger.debug({ claimed: claims.length, limit }, 'claimed tasks');
    }
    claims.forEach((claim, i) => {
      const slot = slots[i] as Slot;
      try {
        deps.startTask({ ...claim, claimedAt }, slot);
      } catch (err) {
        slot.release();
        // Never let one task stop the loop; its lease expires and the task is claimed again.
        logger.error({ err, taskId: claim.task.id }, 'could not start a claimed task');
      }
    });
    for (const slot of slots.slice(claims.length)) slot.release();
  }

  async function run(): Promise<void> {
    while (!stopped) {
      const now = Date.now();
      const interval = deps.pollIntervalMs * Math.max(1, deps.pollFactor?.() ?? 1);
      if (!intake.isOpen(now)) {
        const openAt = intake.nextOpenAt(now);
        await sleep(openAt === undefined ? interval : Math.min(interval, Math.max(0, openAt - now)));
        continue;
      }
      if (now < notBefore) {
        await sleep(notBefore - now);
        continue;
      }
      await pollOnce();
      if (stopped) break;
      // Claimed a full batch and still have room: look again at once rather than after a whole interval.
      if (moreLikely && pool.free() > 0) continue;
      // A long poll the server held and that found nothing: the next one starts at once.
      if (heldEmpty && !stopped) continue;
      await sleep(interval);
    }
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      stopper = new AbortController();
      loop = run().catch((err: unknown) => logger.fatal({ err }, 'scheduler loop crashed'));
    },
    async stop() {
      stopped = true;
      stopper.abort();
      wakeUp?.();
      await loop;
    },
    wake() {
      // A task added while this loop is claiming was maybe not visible to that claim: look once more.
      if (wakeUp) wakeUp();
      else if (!stopped) wakePending = true;
    },
    get running() {
      return !stopped;
    },
    lastPollAt: () => lastPoll,
  };
}
