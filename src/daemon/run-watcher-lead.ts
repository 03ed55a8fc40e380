/**
 * The lead on a run board (run-watcher-board.ts), as the run watcher holds it. The lease is taken or renewed at
 * each sweep, and also every third of its lifetime in between, so that it stays short (a leader that died is
 * replaced within one lifetime) however long the watcher pauses between sweeps while nothing changes. The same
 * timer looks at the announced runs: a run another replica began to wait on brings the next sweep forward
 * instead of waiting out the leader's quiet spell.
 */
import type { Logger } from '../observability/logger.js';
import type { AnnouncedRun, RunBoard } from './run-watcher-board.js';

export interface LeadKeeper {
  /** Take or renew the lead (a sweep starts); true when this replica reads Codegen for all. May reject. */
  take(): Promise<boolean>;
  /** The runs other replicas wait on, for the leader's sweep. May reject. */
  announced(): Promise<AnnouncedRun[]>;
  /** Give the lead up if held (nothing left to watch, or stopping); never rejects. */
  resign(): Promise<void>;
}

export function createLeadKeeper(
  board: RunBoard,
  deps: { logger: Logger; /** A run was newly announced between two sweeps. */ onAnnounced(): void },
): LeadKeeper {
  let holds = false;
  let timer: NodeJS.Timeout | undefined;
  /** Announced runs the leader knows of: a new one between sweeps wakes it. */
  let known = new Set<number>();

  function drop(): void {
    holds = false;
    if (timer) clearInterval(timer);
    timer = undefined;
  }

  async function renew(): Promise<void> {
    try {
      if (!(await board.lead())) return drop();
      if (!holds) return;
      const runs = await board.announced();
      if (runs.some((run) => !known.has(run.id))) deps.onAnnounced();
    } catch (err) {
      // The next sweep finds out too, and reads for itself if the board is away.
      deps.logger.debug({ err }, 'could not renew the run board lead');
    }
  }

  function keep(): void {
    holds = true;
    if (timer) return;
    timer = setInterval(() => void (holds ? renew() : undefined), Math.max(100, Math.floor(board.ttlMs / 3)));
    // The watcher's own sweep timer keeps the process up while tasks wait; this one never needs to.
    timer.unref();
  }

  return {
    async take() {
      const lead = await board.lead();
      if (lead) keep();
      else drop();
      return lead;
    },
    async announced() {
      const runs = await board.announced();
      known = new Set(runs.map((run) => run.id));
      return runs;
    },
    async resign() {
      if (!holds) return;
      drop();
      await board.resign().catch((err: unknown) => deps.logger.debug({ err }, 'could not give the run board lead up'));
    },
  };
}
