/**
 * One run watcher per process. Every task waiting on an agent run registers here instead of polling its run on
 * its own: the watcher reads the organization's API runs from the list endpoint (pages of 100, newest first, only
 * as many pages as it takes to see every watched run), asks for a run that is past the listed window with a
 * single-run GET, and wakes each waiting task when its run's status changes. The read budget then grows with the
 * number of pages (a hundred runs each), not with the number of runs. While runs change, sweeps are paced by the
 * read budget the watcher is given: a few pages often, many no faster than the budget allows.
 *
 * Replicas share one watcher's reads through a board (run-watcher-board.ts on Redis, run-watcher-pg-board.ts on
 * the PostgreSQL store): the leader reads for all, the others follow (run-watcher-follower.ts).
 *
 * Every read goes through the Codegen guard (the shared read budget). During a declared Codegen outage the
 * watcher reads nothing: only the health monitor's probe asks Codegen, and the waits go on with the last known
 * state until it answers again.
 */
import { toDaemonError, type DaemonError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { AgentApi, AgentRun } from '../pipeline/ports.js';
import type { DependencyHealth } from './health.js';
import type { RunBoard } from './run-watcher-board.js';
import { createFollower, type FollowedRun } from './run-watcher-follower.js';
import { createSweepPace } from './run-watcher-pace.js';
import { createLeadKeeper, type LeadKeeper } from './run-watcher-lead.js';

/** How a task waits on its run (the pipeline's view of the watcher). */
export interface RunWatch {
  /**
   * Resolves with the run as Codegen reports it once its status differs from `run.status`; with undefined when
   * `until` (epoch ms) passes first. Rejects with the signal's reason when it aborts, and with the failure of a
   * single-run GET that is the task's own (the health monitor found Codegen answering).
   */
  waitForChange(run: AgentRun, options: { signal: AbortSignal; until: number }): Promise<AgentRun | undefined>;
}

export interface RunWatcher extends RunWatch {
  /** Runs waited on now. */
  watching(): number;
  /** What the last sweeps cost and found, for /status and the benchmark. */
  stats(): RunWatcherStats;
  /**
   * Stops reading; waits in progress keep their deadlines and signals but learn nothing new. Resolves once the
   * board (if any) has the lead back and its connections are closed; never rejects.
   */
  stop(): Promise<void>;
}

export interface RunWatcherStats {
  sweeps: number;
  /** Sweeps this replica read Codegen for the replicas sharing the board. */
  led: number;
  /** Sweeps that took the states from the board. */
  boardReads: number;
  listReads: number;
  singleReads: number;
  /** Wake-ups delivered (a status change seen). */
  changes: number;
}

export interface RunWatcherOptions {
  agent: Pick<AgentApi, 'listAgentRuns' | 'getAgentRun'>;
  health: Pick<DependencyHealth, 'assess' | 'isDown'>;
  logger: Logger;
  /**
   * Time between the starts of two sweeps, in ms: `initialMs` after a sweep that saw a change (or when a new run
   * is watched), growing by `backoff` while nothing changes, up to `maxMs`.
   */
  interval: { initialMs: number; maxMs: number; backoff: number };
  /**
   * Most pages of 100 runs one sweep reads; runs past them are read one by one. A sweep also stops after two
   * pages in a row without a watched run.
   */
  maxPages: number;
  /** Most single-run GETs one sweep spends on runs past the listed window (oldest looked at first). */
  singleReadsPerSweep?: number;
  /**
   * Shared with the other replicas (REDIS_URL, or a PostgreSQL store): one of them reads Codegen and publishes, the others read the
   * board. A follower reads a run itself when the board has said nothing of it for `staleMs` (default: three
   * times interval.maxMs).
   */
  board?: RunBoard;
  staleMs?: number;
  /**
   * The part of Codegen's read budget the watcher may spend (reads per 30 s, after headroom). With it, sweeps
   * are paced by the reads they take instead of interval.initialMs (run-watcher-pace.ts); minIntervalMs (default
   * interval.initialMs, at most 1 s) bounds how often a small sweep repeats.
   */
  budget?: { readsPer30s: number; minIntervalMs?: number };
  /**
   * Time between a follower's looks at the board, in ms (default: interval.initialMs, at most 1 s). They cost
   * no Codegen read, so a follower notices a run's end soon after the leader published it.
   */
  followMs?: number;
}

interface Waiter {
  status: string | null;
  resolve(run: AgentRun | undefined): void;
  reject(error: unknown): void;
}

interface Watched extends FollowedRun {
  waiters: Set<Waiter>;
}

const PAGE_SIZE = 100;
/** Pages in a row without a watched run after which a sweep stops paging (the rest are read one by one). */
const BARREN_PAGES = 2;
/** A listed run older than the oldest watched one by more than this ends the paging (clock skew margin). */
const CREATED_MARGIN_MS = 60_000;
const MAX_TIMER_MS = 2_147_483_647;

export function createRunWatcher(options: RunWatcherOptions): RunWatcher {
  const { agent, health } = options;
  const log = options.logger.child({ component: 'run-watcher' });
  const singleReadsPerSweep = options.singleReadsPerSweep ?? 10;
  const staleMs = options.staleMs ?? 3 * options.interval.maxMs;
  const watched = new Map<number, Watched>();
  const stopper = new AbortController();
  const stats: RunWatcherStats = { sweeps: 0, led: 0, boardReads: 0, listReads: 0, singleReads: 0, changes: 0 };
  let loop: Promise<void> | undefined;
  /** Whether the current sweep saw a run change (ours, or as leader, another replica's). */
  let changed = false;
  /** As leader: the statuses published last, to tell the other replicas' runs changing. */
  let published = new Map<number, string | null>();
  /** Whether the last sweep took the states from the board (it costs no Codegen read: the next comes soon). */
  let following = false;
  const pace = createSweepPace({
    interval: options.interval,
    ...(options.budget ? { budget: options.budget } : {}),
    followMs: options.followMs ?? Math.min(options.interval.initialMs, 1_000),
  });
  // A new run another replica waits on brings our next sweep forward, as one of ours does.
  const lead = options.board
    ? createLeadKeeper(options.board, { logger: log, onAnnounced: () => pace.watched() })
    : undefined;
  const follower = options.board
    ? createFollower<Watched>({
        board: options.board,
        entries: () => [...watched.values()],
        isWatched: (id) => watched.has(id),
        deliver: (run) => deliver(run.id, run),
        readStale: (entries) => readEach(entries, singleReadsPerSweep),
        staleMs,
      })
    : undefined;

  /** Wake the waiters of run `id` whose status is not `run`'s (`run` is what Codegen answered for that id). */
  function deliver(id: number, run: AgentRun): void {
    const entry = watched.get(id);
    if (!entry) return;
    for (const waiter of [...entry.waiters]) {
      if (run.status !== waiter.status) {
        stats.changes += 1;
        changed = true;
        waiter.resolve(run);
      }
    }
  }

  function fail(id: number, error: DaemonError): void {
    for (const waiter of [...(watched.get(id)?.waiters ?? [])]) waiter.reject(error);
  }

  /**
   * Read pages until every run in `ids` was seen (or the pages are older than `oldest`, epoch ms); wakes the
   * local waiters, puts what it read of `ids` into `seen`, and answers the ids not seen.
   */
  async function readList(
    ids: Set<number>,
    oldest: number,
    seen: AgentRun[],
    onPage?: (runs: AgentRun[]) => Promise<void>,
  ): Promise<Set<number> | undefined> {
    const unseen = new Set(ids);
    // Pages without a watched run in a row: past them, the runs still unseen are much older than the rest (resumed
    // after a restart, hours old in a busy organization), cheaper read on their own than by paging back each sweep.
    let barren = 0;
    for (let page = 0; page < options.maxPages && unseen.size > 0; page += 1) {
      if (health.isDown('codegen') || stopper.signal.aborted) return undefined;
      stats.listReads += 1;
      const result = await agent.listAgentRuns(
        { skip: page * PAGE_SIZE, limit: PAGE_SIZE, sourceType: 'API' },
        stopper.signal,
      );
      const found: AgentRun[] = [];
      for (const run of result.items) {
        if (!unseen.delete(run.id)) continue;
        found.push(run);
        seen.push(run);
        deliver(run.id, run);
      }
      if (onPage && found.length > 0) await onPage(found);
      barren = found.length > 0 ? 0 : barren + 1;
      if (barren >= BARREN_PAGES) break;
      if (result.items.length < PAGE_SIZE || (page + 1) * PAGE_SIZE >= result.total) break;
      // Newest first: once a page ends before the oldest watched run was created, no later page holds one.
      const last = Date.parse(result.items.at(-1)?.createdAt ?? '');
      if (Number.isFinite(last) && Number.isFinite(oldest) && last < oldest - CREATED_MARGIN_MS) break;
    }
    return unseen;
  }

  /** A single-run GET; false when Codegen is down (the sweep stops reading). */
  async function readOne(id: number, seen?: AgentRun[]): Promise<boolean> {
    const entry = watched.get(id);
    if (!entry) return true;
    entry.readAt = Date.now();
    stats.singleReads += 1;
    try {
      const run = await agent.getAgentRun(id, stopper.signal);
      seen?.push({ ...run, id });
      deliver(id, run);
      return true;
    } catch (raw) {
      const err = toDaemonError(raw);
      if (stopper.signal.aborted) return false;
      if (await health.assess(err, stopper.signal)) {
        // Codegen answers: the failure concerns this run (gone, say), so it ends the waits on it.
        fail(id, err);
        return true;
      }
      log.debug({ runId: id, code: err.code }, 'codegen is down; still waiting on the runs');
      return false;
    }
  }

  /** Read `entries` one by one, the ones looked at longest ago first, at most `max`; stops during an outage. */
  async function readEach(entries: Watched[], max: number, seen?: AgentRun[]): Promise<void> {
    const due = [...entries].sort((a, b) => a.readAt - b.readAt).slice(0, max);
    for (const entry of due) {
      if (stopper.signal.aborted || health.isDown('codegen')) return;
      if (!(await readOne(entry.id, seen))) return;
    }
  }

  async function sweep(): Promise<void> {
    following = false;
    if (health.isDown('codegen')) return;
    stats.sweeps += 1;
    const board = options.board;
    let leading = board === undefined;
    if (board) {
      // A board that cannot be reached leaves this replica reading for itself, as without one.
      leading = await (lead as LeadKeeper).take().catch(() => true);
      following = !leading && follower !== undefined && (await follower.follow());
      if (following) {
        stats.boardReads += 1;
        return;
      }
    }
    const ids = new Set(watched.keys());
    let oldest = Infinity;
    for (const entry of watched.values()) oldest = Math.min(oldest, entry.createdAt);
    if (board && leading) {
      for (const run of await (lead as LeadKeeper).announced().catch(() => [])) {
        ids.add(run.id);
        oldest = Math.min(oldest, run.createdAt);
      }
      stats.led += 1;
    }
    const seen: AgentRun[] = [];
    let unseen: Set<number> | undefined;
    try {
      // As leader, each page's news for the other replicas goes on the board at once, not at the end of a
      // sweep that may take many seconds at the read budget: a follower then notices about as soon as we do.
      const share =
        board && leading
          ? (runs: AgentRun[]) => board.update(runs.filter((run) => !watched.has(run.id))).catch(() => undefined)
          : undefined;
      unseen = await readList(ids, oldest, seen, share);
    } catch (raw) {
      const err = toDaemonError(raw);
      if (stopper.signal.aborted) return;
      if (!(await health.assess(err, stopper.signal))) return;
      // Codegen answers but the listing failed: look at our runs one by one this time.
      log.warn({ err, code: err.code }, 'could not list agent runs; reading the watched runs one by one');
      unseen = undefined;
      await readEach([...watched.values()], watched.size, seen);
    }
    if (unseen && unseen.size > 0) {
      // Our runs past the listed window (a follower reads its own the same way when the board is silent on them).
      const local = [...unseen].map((id) => watched.get(id)).filter((e): e is Watched => e !== undefined);
      await readEach(local, singleReadsPerSweep, seen);
    }
    if (board && leading) {
      if (seen.some((run) => published.has(run.id) && published.get(run.id) !== run.status)) changed = true;
      published = new Map(seen.map((run) => [run.id, run.status]));
      await board.publish(seen).catch(() => undefined);
    }
  }

  async function run(): Promise<void> {
    pace.restart();
    while (watched.size > 0 && !stopper.signal.aborted) {
      await pace.untilNext();
      if (watched.size === 0 || stopper.signal.aborted) break;
      changed = false;
      const readsBefore = stats.listReads + stats.singleReads;
      try {
        await sweep();
      } catch (err) {
        // Never let one sweep end the loop: the next one looks again.
        log.error({ err }, 'run watcher sweep failed');
      }
      pace.swept({ following, changed, reads: stats.listReads + stats.singleReads - readsBefore });
    }
    // Nothing of ours left to watch: no more sweeps here, so another replica must read the runs it announced.
    await lead?.resign();
  }

  function ensureLoop(): void {
    if (loop || stopper.signal.aborted) return;
    loop = run().finally(() => {
      loop = undefined;
      if (watched.size > 0) ensureLoop();
    });
  }

  function remove(id: number, waiter: Waiter): void {
    const entry = watched.get(id);
    if (!entry) return;
    entry.waiters.delete(waiter);
    if (entry.waiters.size === 0) watched.delete(id);
    if (watched.size === 0) pace.wake();
  }

  return {
    waitForChange(run, { signal, until }) {
      if (signal.aborted) return Promise.reject(signal.reason);
      if (Date.now() >= until) return Promise.resolve(undefined);
      return new Promise<AgentRun | undefined>((resolve, reject) => {
        let deadline: NodeJS.Timeout | undefined;
        const arm = (): void => {
          const left = until - Date.now();
          if (left <= 0) return settle(() => resolve(undefined));
          deadline = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
          deadline.unref();
        };
        const onAbort = (): void => settle(() => reject(signal.reason));
        const waiter: Waiter = {
          status: run.status,
          resolve: (next) => settle(() => resolve(next)),
          reject: (error) => settle(() => reject(error)),
        };
        let settled = false;
        function settle(finish: () => void): void {
          if (settled) return;
          settled = true;
          if (deadline) clearTimeout(deadline);
          signal.removeEventListener('abort', onAbort);
          remove(run.id, waiter);
          finish();
        }
        let entry = watched.get(run.id);
        if (!entry) {
          const created = Date.parse(run.createdAt ?? '');
          entry = {
            id: run.id,
            createdAt: Number.isFinite(created) ? created : Date.now(),
            waiters: new Set(),
            readAt: 0,
            boardAt: Date.now(),
            announced: false,
          };
          watched.set(run.id, entry);
          pace.watched();
        }
        entry.waiters.add(waiter);
        signal.addEventListener('abort', onAbort, { once: true });
        arm();
        ensureLoop();
      });
    },
    watching: () => watched.size,
    stats: () => ({ ...stats }),
    stop() {
      stopper.abort();
      pace.wake();
      const board = options.board;
      if (!board) return Promise.resolve();
      return (lead as LeadKeeper)
        .resign()
        .then(() => board.close())
        .catch(() => undefined);
    },
  };
}
