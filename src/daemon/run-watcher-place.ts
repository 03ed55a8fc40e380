/**
 * Which part of the run list the run watcher (run-watcher.ts) reads next. The list endpoint answers any window of
 * 100 runs (`skip`, newest first) and the list's `total`; runs are only ever added at the head (Codegen's API has
 * no delete), so a run's place counted from the oldest end, its rank (`total - offset` when seen), stays put,
 * and its offset now is the total now less its rank. The model keeps:
 *
 * - the rank of every watched run once a read listed it, and for a run not listed yet an estimate interpolated
 *   by creation time between listed runs (or, newer than all of them, from the rate the total grows);
 * - the run durations learned from the runs seen ending, each between last seen in progress and first seen ended,
 *   and from the runs still in progress (run-watcher-durations.ts), from a bounded recent sample;
 * - for each watched run a weight: the notice lag it has likely run up since it was last seen (its chance of
 *   having ended, times how long ago), under the learned durations; with too little learned yet, the time since
 *   it was last seen (which reads the list round-robin). Weighing by lag, not by chance alone, keeps a few runs
 *   left behind from waiting on the many that end each second.
 *
 * Each read takes the 100-wide window with the greatest weight. A run not seen for `staleMs` (new runs at the
 * head included) weighs more than any window of runs that are not, so none starves. A run past the windows
 * the watcher may read (`maxOffset`), or missed twice where it was expected, is read with a single-run GET.
 *
 * Pure: the caller passes `now`; nothing here reads a clock or does I/O.
 */
import { createDurations } from './run-watcher-durations.js';

/** What the model keeps of a watched run; the watcher's entries carry it. */
export interface PlacedRun {
  id: number;
  /** Creation time, epoch ms (Codegen's clock, as the list orders by it). */
  createdAt: number;
  /** Count of listed runs up to and including this one, from the oldest; known once a read listed it. */
  rank?: number;
  /** When it was last seen in progress (a read, or being watched from its creation response), epoch ms. */
  seenAt: number;
  /** Reads in a row that were expected to list it and did not. */
  misses: number;
  /** Read with single-run GETs only (past the windows, or not found where expected). */
  single: boolean;
  /** Its end was seen (and its duration learned once). */
  endSeen?: boolean;
  /** Where its age counts from when not its creation: a run resumed after it ended runs again from then. */
  startedAt?: number;
}

/**
 * The next read: a window of the list at `skip` (with the runs expected inside it), or single-run GETs. `cycle`:
 * the reads one pass over every watched run takes (pages their offsets span, plus the single reads), which paces
 * the reads as a sweep of that many pages was paced.
 */
export type Placement = ({ kind: 'window'; skip: number; expected: number[] } | { kind: 'single'; ids: number[] }) & {
  cycle: number;
};

export interface RunPlacement {
  /** What the next read should be for these runs (none of them empty: the caller has runs to watch). */
  choose(runs: readonly PlacedRun[], now: number): Placement;
  /** A window was read at `skip`: the items as listed, and the total the answer carried. */
  listed(skip: number, items: ReadonlyArray<{ id: number; createdAt?: string }>, total: number, now: number): void;
  /** The rank of a listed item (what `listed` recorded), for the watcher to store on its entry. */
  rankOf(skip: number, index: number, total: number): number;
  /** A watched run was seen ended at `now`; it was last seen in progress at `run.seenAt`. */
  ended(run: PlacedRun, now: number): void;
  /** Durations learned so far (for stats and tests). */
  learned(): number;
}

export interface RunPlacementOptions {
  pageSize: number;
  /** Windows end before this offset (maxPages × pageSize); runs past it are read one by one. */
  maxOffset: number;
  /** A run not seen for this long must be read (ms). */
  staleMs: number;
  /** Most runs one step reads with single-run GETs. */
  maxSingles: number;
}

interface Point {
  createdAt: number;
  id: number;
  rank: number;
}

/** Creation order as the list has it: creation time, then (same millisecond) id. */
const before = (a: { createdAt: number; id: number }, b: { createdAt: number; id: number }): boolean =>
  a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id);

/** Run ends kept to learn the durations from (the most recent ones). */
const SAMPLE_SIZE = 256;
/** Below this many durations the weights are the time since last seen (round-robin). */
const MIN_SAMPLES = 8;
/** Totals kept to estimate how fast the list grows, and the span they cover at most (ms). */
const TOTALS_KEPT = 64;
const RATE_SPAN_MS = 60_000;
/** An overdue run outweighs a whole window of runs that are not (each of those weighs at most its staleMs in s). */
const OVERDUE = 1_000_000;
/** Reads in a row a run may be missing from where it was expected before it is read on its own. */
const MAX_MISSES = 2;
/** Listed runs that are not watched kept as landmarks between watched ones (the edges of the last reads). */
const LANDMARKS_KEPT = 128;
/** Listed runs whose ranks are kept (the most recently listed). */
const RANKS_KEPT = 10_000;

export function createRunPlacement(options: RunPlacementOptions): RunPlacement {
  const { pageSize, staleMs } = options;
  const lastSkip = Math.max(0, options.maxOffset - pageSize);
  const durations = createDurations(SAMPLE_SIZE);
  /** (our time, total) of recent reads. */
  const totals: Array<{ at: number; total: number }> = [];
  /** Listed runs as landmarks: creation time (and id, for runs created in the same millisecond) -> rank. */
  const landmarks: Point[] = [];
  /** Nothing learned yet: where the next window starts (the list is read in turn). */
  let cursor = 0;
  /** Ranks of the runs recent reads listed, watched or not: a run watched later is placed at once. */
  const ranks = new Map<number, number>();
  function rate(): number {
    const first = totals[0];
    const last = totals.at(-1);
    if (!first || !last || last.at - first.at < 1) return 0;
    return Math.max(0, (last.total - first.total) / (last.at - first.at));
  }

  function totalAt(now: number): number | undefined {
    const last = totals.at(-1);
    if (!last) return undefined;
    return last.total + rate() * (now - last.at);
  }

  /** Weight of a run: its chance of having ended since last seen (or its staleness); an overdue run's is higher. */
  function weight(run: PlacedRun, now: number): number {
    const since = Math.max(0, now - run.seenAt);
    const stale = since / staleMs;
    // Overdue (not seen for staleMs): before any run that is not, whatever its chance of having ended.
    if (durations.size() < MIN_SAMPLES) return stale >= 1 ? OVERDUE * stale : stale;
    const born = run.startedAt ?? run.createdAt;
    const seenAge = Math.max(0, run.seenAt - born);
    const age = Math.max(seenAge, now - born);
    if (stale >= 1) return OVERDUE * stale;
    // The notice lag it has likely run up (s), plus a small staleness share to break ties between runs surely
    // still running.
    return durations.lag(seenAge, age) / 1_000 + 0.01 * stale;
  }

  /**
   * Estimated ranks of runs never listed, by creation time between the listed ones (watched and landmarks).
   */
  function estimate(runs: readonly PlacedRun[], now: number): Map<PlacedRun, number> {
    const points: Point[] = [
      ...landmarks,
      ...runs.flatMap((r) => (r.rank === undefined ? [] : [{ createdAt: r.createdAt, id: r.id, rank: r.rank }])),
    ].sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
    const growth = rate();
    const top = totalAt(now) ?? 0;
    const out = new Map<PlacedRun, number>();
    // The runs not placed yet, by the gap between listed runs they fall in (binary search), in creation order.
    const gaps = new Map<number, PlacedRun[]>();
    for (const run of runs) {
      if (run.rank !== undefined) continue;
      let lo = 0;
      let hi = points.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (!before(run, points[mid] as Point)) lo = mid + 1;
        else hi = mid;
      }
      gaps.set(lo, [...(gaps.get(lo) ?? []), run]);
    }
    for (const [gap, members] of gaps) {
      members.sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
      const older = points[gap - 1];
      const newer = points[gap];
      const k = members.length;
      members.forEach((run, j) => {
        let rank: number;
        // Spread evenly between the two listed runs around them; past the newest, as the list grows; past the
        // oldest, as close together as they can be (each one further back), or evenly down to the list's end.
        if (older && newer) rank = older.rank + ((newer.rank - older.rank) * (j + 1)) / (k + 1);
        else if (older) rank = Math.min(top, older.rank + Math.max(j + 1, growth * (run.createdAt - older.createdAt)));
        else if (newer) rank = newer.rank > k ? newer.rank - (k - j) : (newer.rank * (j + 1)) / (k + 1);
        else rank = top - j;
        out.set(run, rank);
      });
    }
    return out;
  }

  return {
    choose(runs, now) {
      // Every run watched was in progress when last seen: its duration is more than its age then.
      durations.refine(runs.map((run) => Math.max(0, run.seenAt - (run.startedAt ?? run.createdAt))));
      for (const run of runs) {
        if (run.rank !== undefined) continue;
        const rank = ranks.get(run.id);
        if (rank !== undefined) run.rank = rank;
      }
      const top = totalAt(now);
      // Nothing read yet: the head first (new runs are there, and it places everything else).
      if (top === undefined) {
        cursor = pageSize;
        return { kind: 'window', skip: 0, expected: [], cycle: 1 };
      }
      const guesses = estimate(runs, now);
      const last = totals.at(-1) as { at: number };
      // What the growth since the last read may have moved the runs by, as a margin on the window's edges.
      const margin = Math.min(10, Math.ceil(0.1 * rate() * Math.max(0, now - last.at)));
      const placed: Array<{ run: PlacedRun; offset: number; w: number; listed: boolean }> = [];
      const singles: Array<{ run: PlacedRun; w: number }> = [];
      for (const run of runs) {
        const rank = run.rank ?? (guesses.get(run) as number);
        const offset = Math.max(0, Math.round(top - rank));
        const w = weight(run, now);
        if (run.single || offset >= options.maxOffset) singles.push({ run, w });
        else placed.push({ run, offset, w, listed: run.rank !== undefined });
      }
      placed.sort((a, b) => a.offset - b.offset);
      const sums = [0];
      for (const p of placed) sums.push((sums.at(-1) as number) + p.w);
      /** Index of the first placed run at or past `offset`. */
      const at = (offset: number): number => {
        let lo = 0;
        let hi = placed.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if ((placed[mid] as { offset: number }).offset < offset) lo = mid + 1;
          else hi = mid;
        }
        return lo;
      };
      singles.sort((a, b) => b.w - a.w);
      const oldest = placed.length > 0 ? (placed.at(-1) as { offset: number }).offset : -1;
      const cycle = Math.max(
        1,
        Math.ceil((oldest + 1) / pageSize) + Math.ceil(singles.length / Math.max(1, options.maxSingles)),
      );
      const readSingles = (value: number): Placement => {
        const ids = singles
          .filter((s, i) => i === 0 || s.w >= value)
          .slice(0, Math.max(1, options.maxSingles))
          .map((s) => s.run.id);
        return { kind: 'single', ids, cycle };
      };
      if (placed.length === 0) return readSingles(-Infinity);
      let best = { skip: 0, sum: -1, count: 0 };
      if (durations.size() < MIN_SAMPLES) {
        // Nothing learned yet: the list in turn from the head, a window after the other, then the runs read one
        // by one, as a sweep of pages would.
        if (cursor > oldest) {
          cursor = 0;
          if (singles.length > 0) return readSingles(-Infinity);
        }
        best.skip = Math.min(lastSkip, cursor);
        cursor = best.skip + pageSize;
      } else {
        // Of the windows starting or ending at a run (with the margin on that side), the one with the most weight;
        // equal weight, the one that looks at more runs.
        for (const p of placed) {
          for (const start of [p.offset - margin, p.offset + margin - pageSize + 1]) {
            const skip = Math.min(lastSkip, Math.max(0, start));
            const [from, to] = [at(skip), at(skip + pageSize)];
            const sum = (sums[to] as number) - (sums[from] as number);
            if (sum > best.sum || (sum === best.sum && to - from > best.count)) best = { skip, sum, count: to - from };
          }
        }
        // A single read competes with a window by the weight it would read.
        if ((singles[0]?.w ?? -1) > best.sum) return readSingles(best.sum);
      }
      const from = at(best.skip);
      const to = at(best.skip + pageSize);
      // Runs expected inside the window, away from its edges by the margin: for a listed run, a miss says its place
      // changed. A run not listed yet that is not there was guessed wrong, and the window's edges place it better
      // next time; but one overdue that keeps being missed is read on its own rather than looked for again.
      const expected = placed
        .slice(from, to)
        .filter((p) => p.listed || now - p.run.seenAt >= staleMs)
        .filter((p) => p.offset >= best.skip + margin && p.offset < best.skip + pageSize - margin)
        .map((p) => p.run.id);
      return { kind: 'window', skip: best.skip, expected, cycle };
    },
    listed(skip, items, total, now) {
      totals.push({ at: now, total });
      while (
        totals.length > TOTALS_KEPT ||
        (totals.length > 2 && now - (totals[0] as { at: number }).at > RATE_SPAN_MS)
      )
        totals.shift();
      // The window's edges as landmarks: they place the runs not listed yet between them.
      for (const index of [0, items.length - 1]) {
        const item = items[index];
        const createdAt = Date.parse(item?.createdAt ?? '');
        if (!item || !Number.isFinite(createdAt)) continue;
        landmarks.push({ createdAt, id: item.id, rank: total - (skip + index) });
      }
      if (landmarks.length > LANDMARKS_KEPT) landmarks.splice(0, landmarks.length - LANDMARKS_KEPT);
      items.forEach((item, index) => {
        ranks.delete(item.id);
        ranks.set(item.id, total - (skip + index));
      });
      while (ranks.size > RANKS_KEPT) ranks.delete(ranks.keys().next().value as number);
    },
    rankOf(skip, index, total) {
      return total - (skip + index);
    },
    ended(run, now) {
      if (run.endSeen) return;
      run.endSeen = true;
      // A resumed run's second stretch is not a run's duration.
      if (run.startedAt !== undefined) return;
      const seenAge = Math.max(0, run.seenAt - run.createdAt);
      const endAge = Math.max(seenAge, now - run.createdAt);
      durations.add(seenAge, endAge);
    },
    learned: () => durations.size(),
  };
}

/**
 * After a window read: a run expected there and not listed is missed; so is every run not placed yet and older
 * than a window that listed none of the runs (the list is paged back that far without finding any). Missed
 * twice in a row, a run is read on its own.
 */
export function noteMisses(
  runs: Iterable<PlacedRun>,
  expected: readonly number[],
  listed: ReadonlySet<number>,
  oldestListed: { createdAt: number; id: number } | undefined,
): void {
  const wanted = new Set(expected);
  for (const run of runs) {
    if (listed.has(run.id)) continue;
    const further =
      listed.size === 0 && oldestListed !== undefined && run.rank === undefined && before(run, oldestListed);
    if (!wanted.has(run.id) && !further) continue;
    run.misses += 1;
    // Its rank was wrong (or its guess was): place it again from the landmarks.
    delete run.rank;
    if (run.misses >= MAX_MISSES) run.single = true;
  }
}
