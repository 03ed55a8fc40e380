/**
 * Rate-limit budgets as numbers: a documented limit turned into a spaced budget with headroom, and one
 * replica's share of a budget for when the replicas cannot share it through Redis. Pure.
 */

/**
 * One rate-limit budget: a reservoir of `max` request starts, refilled to `max` every `perMs`.
 *
 * The reservoir alone counts in its own fixed windows: `max` late in one window and `max` early in the next
 * can start within moments of each other. The server's windows do not line up with ours, so to stay within
 * "max per perMs" over every window set `minTimeMs` to perMs / max (spacedBudget does): starts are then
 * spaced so that no interval of perMs holds more than `max`, at the price of no bursts.
 */
export interface Budget {
  /** Request starts per `perMs`; Infinity for a budget that only spaces requests. */
  max: number;
  perMs: number;
  /** Most requests in flight at once (across replicas with Redis). */
  maxConcurrent?: number;
  /** Least time between two request starts, in ms (across replicas with Redis). Default 0. */
  minTimeMs?: number;
}

/**
 * The budget that keeps `limit` requests per `perMs` with `headroomPercent` to spare: max = limit less the
 * headroom (at least 1), starts spaced a little more than perMs / max apart. Starts spaced s apart put
 * floor(perMs / s) + 1 of them in a closed window of perMs, so the spacing must be strictly more than
 * perMs / max to keep that at max: spacing of exactly 60 s / 10 fit 11 Codegen run creations in one closed
 * minute. The headroom is the margin for what arithmetic does not see: timers that fire late next to ones
 * that fire on time, and a server that counts from a slightly different moment than we do.
 */
export function spacedBudget(limit: number, perMs: number, headroomPercent = 0): Budget {
  const max = Math.max(1, Math.floor((limit * (100 - headroomPercent)) / 100));
  // More than 1,000 starts a second (a budget lifted in configuration): no timer spaces finer than 1 ms, and
  // every spaced start waits for one, which a busy event loop fires once per turn, so spacing would cap such a
  // budget far below itself (runs waited hundreds of ms to be created). Its reservoir alone bounds it.
  if (perMs / max < 1) return { max, perMs };
  return { max, perMs, minTimeMs: Math.floor(perMs / max) + 1 };
}

/**
 * One replica's share of `budget` when `replicas` replicas each keep their own: max, and concurrency, divided
 * (at least 1 each), spacing stretched to match, so that together they stay within the whole budget.
 */
export function replicaShare(budget: Budget, replicas: number): Budget {
  if (!(replicas > 1)) return budget;
  const max = Number.isFinite(budget.max) ? Math.max(1, Math.floor(budget.max / replicas)) : budget.max;
  // The same spacing per request the whole budget had, times how many fewer requests this share may start.
  const stretch = Number.isFinite(budget.max) ? budget.max / max : replicas;
  return {
    max,
    perMs: budget.perMs,
    ...(budget.minTimeMs ? { minTimeMs: Math.ceil(budget.minTimeMs * stretch) } : {}),
    ...(budget.maxConcurrent ? { maxConcurrent: Math.max(1, Math.floor(budget.maxConcurrent / replicas)) } : {}),
  };
}
