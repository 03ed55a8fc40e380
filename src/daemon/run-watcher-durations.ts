/**
 * How long runs last, as the run watcher learns it from the runs it saw end (run-watcher-place.ts). A run's end
 * is known only to lie between the last read that showed it in progress and the first that showed it ended: an
 * interval, narrow where the watcher reads often and wide where it does not (a run never read before it ended
 * says only "less than its age"). Taking each interval's midpoint would smear a sharp distribution over the
 * width of the intervals, and the watcher reads where that smear says, which keeps the intervals wide. So the
 * distribution is estimated as the intervals allow (Turnbull's self-consistency, a few EM steps at a time over
 * log-spaced bins): mass goes where the intervals overlap, and runs that all last 30 s give a step at 30 s
 * whether their intervals were 1 s or 10 s wide.
 *
 * Pure: no clock, no I/O. Bounded: the most recent `kept` intervals, 700 bins (250 ms to about three days,
 * each 2 % wider than the last).
 */

export interface Durations {
  /** A run ended between these ages (ms since its creation). */
  add(from: number, to: number): void;
  /** Intervals kept. */
  size(): number;
  /** A few EM steps toward the distribution the intervals allow; cheap enough to call before each choice. */
  refine(steps?: number): void;
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
const BINS = 700;
const LOG_RATIO = Math.log(RATIO);
const SETTLE_STEPS = 40;

/** Bin of age x: 0 below the first edge, else k with FIRST_EDGE·RATIO^(k-1) <= x < FIRST_EDGE·RATIO^k. */
function binOf(x: number): number {
  if (!(x >= FIRST_EDGE_MS)) return 0;
  return Math.min(BINS - 1, 1 + Math.floor(Math.log(x / FIRST_EDGE_MS) / LOG_RATIO));
}

/** Lower and upper edge of a bin, ms. */
function lower(bin: number): number {
  return bin === 0 ? 0 : FIRST_EDGE_MS * RATIO ** (bin - 1);
}
function upper(bin: number): number {
  return FIRST_EDGE_MS * RATIO ** bin;
}

/** Where x sits within its bin, 0..1 (log scale; linear in bin 0). */
function within(x: number, bin: number): number {
  if (bin === 0) return Math.max(0, Math.min(1, x / FIRST_EDGE_MS));
  const low = FIRST_EDGE_MS * RATIO ** (bin - 1);
  return Math.max(0, Math.min(1, Math.log(x / low) / LOG_RATIO));
}

export function createDurations(kept = 256): Durations {
  const spans: Array<{ lo: number; hi: number }> = [];
  let mass = new Float64Array(BINS);
  let cumulative = new Float64Array(BINS + 1);
  /** EM steps still worth taking since the last interval came in (the estimate settles in a few dozen). */
  let pending = 0;

  /** ∫ cdf from 0 to each bin's lower edge (cdf taken as linear across a bin). */
  let integral = new Float64Array(BINS + 1);

  function rebuild(): void {
    cumulative = new Float64Array(BINS + 1);
    integral = new Float64Array(BINS + 1);
    for (let k = 0; k < BINS; k += 1) {
      cumulative[k + 1] = (cumulative[k] as number) + (mass[k] as number);
      integral[k + 1] =
        (integral[k] as number) +
        ((upper(k) - lower(k)) * ((cumulative[k] as number) + (cumulative[k + 1] as number))) / 2;
    }
  }

  function share(x: number): number {
    const bin = binOf(x);
    return (cumulative[bin] as number) + (mass[bin] as number) * within(x, bin);
  }

  /** ∫ share from 0 to x. */
  function area(x: number): number {
    const bin = binOf(x);
    const from = lower(bin);
    return (integral[bin] as number) + (Math.max(0, x - from) * ((cumulative[bin] as number) + share(x))) / 2;
  }

  const scale = (): number => spans.length / (spans.length + 1);

  function step(): void {
    const next = new Float64Array(BINS);
    for (const { lo, hi } of spans) {
      let total = 0;
      for (let k = lo; k <= hi; k += 1) total += mass[k] as number;
      if (total > 0) {
        for (let k = lo; k <= hi; k += 1) next[k] = (next[k] as number) + (mass[k] as number) / total;
      } else {
        // An interval where nothing is yet: spread evenly over it.
        const share = 1 / (hi - lo + 1);
        for (let k = lo; k <= hi; k += 1) next[k] = (next[k] as number) + share;
      }
    }
    for (let k = 0; k < BINS; k += 1) next[k] = (next[k] as number) / spans.length;
    mass = next;
  }

  return {
    add(from, to) {
      const lo = binOf(Math.max(0, from));
      spans.push({ lo, hi: Math.max(lo, binOf(Math.max(from, to))) });
      if (spans.length > kept) spans.shift();
      pending = SETTLE_STEPS;
    },
    size: () => spans.length,
    refine(steps = 4) {
      if (pending <= 0 || spans.length === 0) return;
      const n = Math.min(steps, pending);
      for (let i = 0; i < n; i += 1) step();
      pending -= n;
      rebuild();
    },
    cdf(x) {
      if (spans.length === 0) return 0;
      return share(x) * scale();
    },
    lag(from, to) {
      if (spans.length === 0 || to <= from) return 0;
      const gone = share(from) * scale();
      const run = (area(to) - area(from)) * scale() - gone * (to - from);
      return Math.max(0, run / (1 - gone));
    },
  };
}
