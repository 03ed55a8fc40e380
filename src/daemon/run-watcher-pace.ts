/**
 * When the run watcher (run-watcher.ts) reads next. The watcher reads step by step (a window of the run list, or
 * a few single-run GETs); `cycle` is the reads one pass over all its runs takes, as many as the pages a sweep of
 * them read. While runs change, steps start `baseMs` apart: the configured initial interval spread over the
 * cycle, or with a read budget what spends it evenly (a step of r reads every r / readsPer30s of 30 s, and a
 * whole cycle no more often than minIntervalMs), so that a few pages are read often and many no faster than the
 * budget allows. After a whole cycle without a change the interval grows by the backoff factor, once per cycle,
 * up to the maximum. A follower (its states come from a board, not from Codegen) looks again after `followMs`.
 * A run newly watched brings the next step forward.
 */

export interface SweepPaceOptions {
  interval: { initialMs: number; maxMs: number; backoff: number };
  /** Codegen reads per 30 s the watcher may spend; minIntervalMs bounds how often a small sweep repeats. */
  budget?: { readsPer30s: number; minIntervalMs?: number };
  /** Between a follower's looks at the board, in ms. */
  followMs: number;
}

export interface SweepPace {
  /** Resolves when the next sweep is due (or `wake` is called); a sweep starts then. */
  untilNext(): Promise<void>;
  /** The loop (re)starts: the next sweep is due an interval after now. */
  restart(): void;
  /**
   * What the step just done was: it decides the next interval. `cycle` (default 1): the reads one pass over all
   * the watched runs takes.
   */
  swept(result: { following: boolean; changed: boolean; reads: number; cycle?: number }): void;
  /** A run was newly watched: it may end soon, so the next sweep must not wait as long as a quiet spell made it. */
  watched(): void;
  /** End the pause now (the watcher stops, or has nothing left to watch). */
  wake(): void;
}

const MAX_TIMER_MS = 2_147_483_647;

export function createSweepPace(options: SweepPaceOptions): SweepPace {
  const { initialMs, maxMs, backoff } = options.interval;
  let intervalMs = initialMs;
  // With a budget, at first what one read costs, so a first run is looked at soon.
  let baseMs = paced(1, 1);
  /** Steps in a row without a change, the reads a cycle takes, and the time a cycle takes while quiet. */
  let quiet = 0;
  let cycleSteps = 1;
  let cycleMs = initialMs;
  let lastSweep = Date.now();
  let pauseEnds = 0;
  let timer: NodeJS.Timeout | undefined;
  let wakeLoop: (() => void) | undefined;

  function paced(reads: number, cycle: number): number {
    const budget = options.budget;
    const steps = Math.max(1, cycle);
    if (!budget) return Math.ceil(initialMs / steps);
    return Math.max(
      Math.ceil((budget.minIntervalMs ?? Math.min(initialMs, 1_000)) / steps),
      Math.ceil((Math.max(1, reads) * 30_000) / budget.readsPer30s),
    );
  }

  /** Bring the next sweep forward to `at` if it is due later. */
  function shorten(at: number): void {
    if (!timer || !wakeLoop || at >= pauseEnds) return;
    clearTimeout(timer);
    pauseEnds = at;
    timer = setTimeout(wakeLoop, Math.max(0, at - Date.now()));
  }

  return {
    untilNext() {
      const at = lastSweep + intervalMs;
      return new Promise<void>((resolve) => {
        pauseEnds = at;
        // Not unref'd: a task waiting on its run is work in progress, and this timer is what wakes it.
        timer = setTimeout(done, Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS));
        function done(): void {
          clearTimeout(timer);
          timer = undefined;
          wakeLoop = undefined;
          lastSweep = Date.now();
          resolve();
        }
        wakeLoop = done;
      });
    },
    restart() {
      lastSweep = Date.now();
    },
    swept({ following, changed, reads, cycle = 1 }) {
      if (following) {
        intervalMs = options.followMs;
        return;
      }
      cycleSteps = Math.max(1, cycle);
      baseMs = paced(reads, cycleSteps);
      quiet = changed ? 0 : quiet + 1;
      // The backoff stretches a whole cycle (each run is looked at no less often than maxMs), not each step.
      if (quiet === 0) cycleMs = baseMs * cycleSteps;
      else if (quiet % cycleSteps === 0)
        cycleMs = Math.min(maxMs, Math.ceil(Math.max(cycleMs, baseMs * cycleSteps) * backoff));
      intervalMs = Math.max(baseMs, Math.ceil(cycleMs / cycleSteps));
    },
    watched() {
      quiet = 0;
      cycleMs = Math.min(cycleMs, initialMs);
      intervalMs = Math.min(intervalMs, baseMs);
      shorten(lastSweep + intervalMs);
    },
    wake() {
      wakeLoop?.();
    },
  };
}
