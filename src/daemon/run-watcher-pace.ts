/**
 * When the run watcher (run-watcher.ts) sweeps next. While runs change, sweeps start `baseMs` apart: the
 * configured initial interval, or with a read budget what spends it evenly (a sweep of r reads every
 * r / readsPer30s of 30 s), so that a few pages are read often and many no faster than the budget allows. While
 * nothing changes the interval grows by the backoff factor up to the maximum. A follower (its states come from a
 * board, not from Codegen) looks again after `followMs`. A run newly watched brings the next sweep forward.
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
  /** What the sweep just done was: it decides the next interval. */
  swept(result: { following: boolean; changed: boolean; reads: number }): void;
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
  let baseMs = paced(1);
  let lastSweep = Date.now();
  let pauseEnds = 0;
  let timer: NodeJS.Timeout | undefined;
  let wakeLoop: (() => void) | undefined;

  function paced(reads: number): number {
    const budget = options.budget;
    if (!budget) return initialMs;
    return Math.max(
      budget.minIntervalMs ?? Math.min(initialMs, 1_000),
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
    swept({ following, changed, reads }) {
      if (following) {
        intervalMs = options.followMs;
        return;
      }
      baseMs = paced(reads);
      intervalMs = changed ? baseMs : Math.min(maxMs, Math.ceil(Math.max(intervalMs, baseMs) * backoff));
    },
    watched() {
      intervalMs = Math.min(initialMs, baseMs);
      shorten(lastSweep + intervalMs);
    },
    wake() {
      wakeLoop?.();
    },
  };
}
