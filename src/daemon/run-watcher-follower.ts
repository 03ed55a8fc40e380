/**
 * A follower's sweep for the run watcher (run-watcher.ts): while another replica holds the board's lead, this one
 * announces the runs it waits on and takes their states from the board instead of Codegen. Announcing is
 * incremental: a run is announced when first watched, and every run again once a third of the board's
 * announcement lifetime has passed, so that a follower of 2,000 runs polling the board each second does not
 * rewrite 2,000 rows each time.
 */
import type { AgentRun } from '../pipeline/ports.js';
import type { RunBoard } from './run-watcher-board.js';

/** What the follower needs of a watched run; the watcher's own entries carry more. */
export interface FollowedRun {
  id: number;
  createdAt: number;
  /** When a single-run GET last looked at it (0: never). */
  readAt: number;
  /** When the board last told us its state. */
  boardAt: number;
  /** Whether it was announced since it was watched. */
  announced: boolean;
}

export interface FollowerDeps<T extends FollowedRun> {
  board: RunBoard;
  /** The runs waited on now. */
  entries(): T[];
  /** Whether a run is still waited on. */
  isWatched(id: number): boolean;
  /** Hand a state the board published to the run's waiters. */
  deliver(run: AgentRun): void;
  /** Read these runs from Codegen, a single GET each (the board is silent on them). */
  readStale(entries: T[]): Promise<void>;
  /** A run the board has said nothing of for this long is read from Codegen. */
  staleMs: number;
}

export interface Follower {
  /** One follower's sweep; false when the board cannot be reached (the caller reads Codegen itself). */
  follow(): Promise<boolean>;
}

export function createFollower<T extends FollowedRun>(deps: FollowerDeps<T>): Follower {
  let renewedAt = -Infinity;

  return {
    async follow() {
      const { board } = deps;
      const entries = deps.entries();
      const now = Date.now();
      // All again a third into the announcements' lifetime, so none lapses while a follower waits on it.
      const renewAll = now - renewedAt >= board.ttlMs / 3;
      const due = renewAll ? entries : entries.filter((e) => !e.announced);
      let states: AgentRun[];
      try {
        await board.announce(due.map((e) => ({ id: e.id, createdAt: e.createdAt })));
        states = await board.read(entries.map((e) => e.id));
      } catch {
        // Announced anew in full once the board answers again: it may have lost them.
        renewedAt = -Infinity;
        return false;
      }
      if (renewAll) renewedAt = now;
      for (const entry of due) entry.announced = true;
      const seenAt = Date.now();
      const told = new Set<number>();
      for (const run of states) told.add(run.id);
      for (const entry of entries) if (told.has(entry.id)) entry.boardAt = seenAt;
      for (const run of states) deps.deliver(run);
      const stale = entries.filter(
        (e) => deps.isWatched(e.id) && seenAt - Math.max(e.boardAt, e.readAt) > deps.staleMs,
      );
      await deps.readStale(stale);
      return true;
    },
  };
}
