/**
 * How long runs last, as the run watcher learns it from the runs it sees (run-watcher-place.ts). A run's end is
 * known only to lie between the last read that showed it in progress and the first that showed it ended: an
 * interval, narrow where the watcher reads often and wide where it does not (a run never read before it ended
 * says only "less than its age"). A run still in progress says its duration is more than its age when last seen
 * (right-censored). Taking each end's midpoint would smear a sharp distribution over the width of the intervals
 * (and the watcher reads where that smear says, which keeps them wide); counting only the ends would say runs are
 * short while the long ones still run. So the distribution is estimated as all the intervals allow (Turnbull's
 * self-consistency, a few EM steps at a time over log-spaced bins): mass goes where the intervals overlap, runs
 * that all last 30 s give a step at 30 s whether their intervals were 1 s or 10 s wide, and runs that outlive
 * every end seen keep mass beyond it.
 *
 * Pure: no clock, no I/O. Bounded: the most recent `kept` ends, the runs in progress the caller passes, 700 bins
 * (250 ms to about three days, each 2 % wider than the last) and one for "longer than that".
 */

export interface Durations {
  /** A run ended between these ages (ms since its creation). */
  add(from: number, to: number): void;
  /** Ends kept. */
  size(): number;
  /**
   * A few EM steps toward the distribution the ends and the runs in progress allow (`running`: the age of each
   * when last seen in progress, ms). Each step costs the intervals plus the bins, not their product.
   */
  refine(running: readonly number[], steps?: number): void;
  /**
   * Share of runs ended by age `x` (ms). One pseudo-run that never ends keeps 1 - cdf above 0 (a run older than
   * all seen so far is not certainly over).
   */
  cdf(x: number): number;
  /**
   * For a run in progress at age `from` and not seen since: how long it has been over by age `to`, expected
   * (ms; 0 where it surely still runs): the notice lag it has run up, which a read would end.
   */
  lag(from: number, to: number): number;
}

const FIRST_EDGE_MS = 250;
const RATIO = 1.02;
/** Finite bins; bin BINS holds "longer than the last edge". */
const BINS = 700;
const LOG_RATIO = Math.log(RATIO);

/** Bin of age x: 0 below the first edge, else k with FIRST_EDGE·RATIO^(k-1) <= x < FIRST_EDGE·RATIO^k. */
function binOf(x: number): number {
  if (!(x >= FIRST_EDGE_MS)) return 0;
  return Math.min(BINS - 1, 1 + Math.floor(Math.log(x / FIRST_EDGE_MS) / LOG_RATIO));
}

/** Lower and upper edge of a finite bin, ms. */
function lower(bin: number): number {
  return bin === 0 ? 0 : FIRST_EDGE_MS * RATIO ** (bin - 1);
}
function upper(bin: number): number {
  return FIRST_EDGE_MS * RATIO ** bin;
}

/** Where x sits within its bin, 0..1 (log scale; linear in bin 0). */
function within(x: number, bin: number): number {
  if (bin === 0) return Math.max(0, Math.min(1, x / FIRST_EDGE_MS));
  return Math.max(0, Math.min(1, Math.log(x / lower(bin)) / LOG_RATIO));
}

export function createDurations(kept = 256): Durations {
  const ends: Array<{ lo: number; hi: number }> = [];
  /** Mass per bin (the last: longer than every finite bin); all zero until the first step. */
  let mass = new Float64Array(BINS + 1);
  /** Mass below each finite bin, and ∫ of that share from 0 to each bin's lower edge (linear across a bin). */
  let cumulative = new Float64Array(BINS + 1);
  let integral = new Float64Array(BINS + 1);

  function rebuild(): void {
    cumulative = new Float64Array(BINS + 1);
    integral = new Float64Array(BINS + 1);
    for (let k = 0; k < BINS; k += 1) {
      cumulative[k + 1] = (cumulative[k] as number) + (mass[k] as number);
      const mean = ((cumulative[k] as number) + (cumulative[k + 1] as number)) / 2;
      integral[k + 1] = (integral[k] as number) + (upper(k) - lower(k)) * mean;
    }
  }

  /** One EM step over the intervals [lo, hi] (bin indices, hi may be BINS). */
  function step(intervals: ReadonlyArray<{ lo: number; hi: number }>): void {
    const before = new Float64Array(BINS + 2);
    for (let k = 0; k <= BINS; k += 1) before[k + 1] = (before[k] as number) + (mass[k] as number);
    // Each interval hands its unit to its bins in proportion to their mass (evenly where it has none): summed
    // with difference arrays, one pass over the intervals and one over the bins.
    const scaled = new Float64Array(BINS + 2);
    const even = new Float64Array(BINS + 2);
    for (const { lo, hi } of intervals) {
      const total = (before[hi + 1] as number) - (before[lo] as number);
      const [into, share] = total > 0 ? [scaled, 1 / total] : [even, 1 / (hi - lo + 1)];
      into[lo] = (into[lo] as number) + share;
      into[hi + 1] = (into[hi + 1] as number) - share;
    }
    const next = new Float64Array(BINS + 1);
    let a = 0;
    let b = 0;
    for (let k = 0; k <= BINS; k += 1) {
      a += scaled[k] as number;
      b += even[k] as number;
      next[k] = ((mass[k] as number) * a + b) / intervals.length;
    }
    mass = next;
  }

  function share(x: number): number {
    const bin = binOf(x);
    return (cumulative[bin] as number) + (mass[bin] as number) * within(x, bin);
  }

  /** ∫ share from 0 to x. */
  function area(x: number): number {
    const bin = binOf(x);
    return (integral[bin] as number) + (Math.max(0, x - lower(bin)) * ((cumulative[bin] as number) + share(x))) / 2;
  }

  const scale = (): number => ends.length / (ends.length + 1);

  return {
    add(from, to) {
      const lo = binOf(Math.max(0, from));
      ends.push({ lo, hi: Math.max(lo, binOf(Math.max(from, to))) });
      if (ends.length > kept) ends.shift();
    },
    size: () => ends.length,
    refine(running, steps = 3) {
      if (ends.length === 0) return;
      const intervals = [...ends, ...running.map((age) => ({ lo: binOf(Math.max(0, age)), hi: BINS }))];
      for (let i = 0; i < steps; i += 1) step(intervals);
      rebuild();
    },
    cdf(x) {
      if (ends.length === 0) return 0;
      return share(x) * scale();
    },
    lag(from, to) {
      if (ends.length === 0 || to <= from) return 0;
      const gone = share(from) * scale();
      const run = (area(to) - area(from)) * scale() - gone * (to - from);
      return Math.max(0, run / (1 - gone));
    },
  };
}
