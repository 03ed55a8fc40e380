/**
 * The intake gate: whether the scheduler may claim new work. Several reasons can close it at once (the Codegen
 * token was refused, the plan's quota is spent, too many failures in a row, shutdown); it opens when all clear.
 * In-flight tasks are not affected: only new claims stop.
 */

export interface IntakeGate {
  /** Close for `reason`, until `until` (epoch ms) or until resume(reason). Returns true when newly closed. */
  pause(reason: string, until?: number): boolean;
  /** Clear `reason`. Returns true when it was set. */
  resume(reason: string): boolean;
  isOpen(now?: number): boolean;
  /** Reasons in force now, with their end when timed. */
  reasons(now?: number): Array<{ reason: string; until?: string }>;
  /** When a timed pause ends (the earliest), if the gate is closed only by timed reasons. */
  nextOpenAt(now?: number): number | undefined;
}

export function createIntakeGate(clock: () => number = Date.now): IntakeGate {
  const paused = new Map<string, number | undefined>();

  const expire = (now: number): void => {
    for (const [reason, until] of paused) if (until !== undefined && until <= now) paused.delete(reason);
  };

  return {
    pause(reason, until) {
      const had = paused.has(reason);
      paused.set(reason, until);
      return !had;
    },
    resume(reason) {
      return paused.delete(reason);
    },
    isOpen(now = clock()) {
      expire(now);
      return paused.size === 0;
    },
    reasons(now = clock()) {
      expire(now);
      return [...paused].map(([reason, until]) =>
        until === undefined ? { reason } : { reason, until: new Date(until).toISOString() },
      );
    },
    nextOpenAt(now = clock()) {
      expire(now);
      if (paused.size === 0) return now;
      const ends = [...paused.values()];
      if (ends.some((u) => u === undefined)) return undefined;
      return Math.max(...(ends as number[]));
    },
  };
}
