/**
 * One run watcher per process. Every task waiting on an agent run registers here instead of polling its run on
 * its own: the watcher reads the organization's API runs from the list endpoint (windows of 100, newest first),
 * asks for a run that is past the listed window with a single-run GET, and wakes each waiting task when its run's
 * status changes. The read budget then grows with the number of pages (a hundred runs each), not with the number
 * of runs. Each read takes the window where the runs most likely to have ended unnoticed are (run-watcher-place.ts:
 * where each run sits in the list, and how long runs last as learned from those seen ending), not page 0, 1, 2,
 * ... in turn: runs that end in the order they started sit at the list's old end, and are read there. Reads are
 * paced by the read budget the watcher is given: a few pages often, many no faster than the budget allows.
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
import { createRunPlacement, noteMisses, type PlacedRun } from './run-watcher-place.js';
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
   * The list is read no further back than this many pages of 100 runs; runs past them are read one by one, and so
   * is a run not found twice where it was expected.
   */
  maxPages: number;
  /** Most single-run GETs one step spends on runs read one by one (the likeliest to have ended first). */
  singleReadsPerSweep?: number;
  /**
   * A run not looked at for this long is read whatever the learned durations say (default interval.maxMs):
   * new runs and long ones are not starved by the runs likelier to have ended.
   */
  lookAtLeastEveryMs?: number;
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

interface Watched extends FollowedRun, PlacedRun {
  waiters: Set<Waiter>;
}

/** A run another replica waits on, as the leader places and reads it. */
interface Announced extends PlacedRun {
  status?: string | null;
}

const PAGE_SIZE = 100;
const MAX_TIMER_MS = 2_147_483_647;
/** What the watcher remembers of runs no longer waited on (a task waits again at once after each change). */
const REMEMBERED = 10_000;

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
  /** As leader: the runs the other replicas announced, placed like ours. */
  let others = new Map<number, Announced>();
  /** As leader: what this cycle's reads saw, published as one sweep's states once a cycle of reads is done. */
  let cycleSeen = new Map<number, AgentRun>();
  let cycleReads = 0;
  /** Where runs no longer waited on were, kept for a task that waits on the same run again. */
  const remembered = new Map<number, PlacedRun>();
  const placement = createRunPlacement({
    pageSize: PAGE_SIZE,
    maxOffset: options.maxPages * PAGE_SIZE,
    staleMs: options.lookAtLeastEveryMs ?? options.interval.maxMs,
    maxSingles: singleReadsPerSweep,
  });
  /** The reads one pass over the watched runs takes (the pace spreads a sweep's interval over them). */
  let cycle = 1;
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

  /** Note what a read of ours showed of a run: when it was last in progress, or that it ended. */
  function saw(entry: PlacedRun, run: AgentRun, at: number): void {
    if (run.state === 'in_progress') entry.seenAt = at;
    else placement.ended(entry, at);
  }

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
   * Read the window of the list at `skip`: wakes the local waiters, places every watched (and, as leader,
   * announced) run it lists, and puts what it read of them into `seen`.
   */
  async function readWindow(skip: number, expected: number[], seen: AgentRun[]): Promise<AgentRun[]> {
    stats.listReads += 1;
    const result = await agent.listAgentRuns({ skip, limit: PAGE_SIZE, sourceType: 'API' }, stopper.signal);
    const at = Date.now();
    placement.listed(skip, result.items, result.total, at);
    const listed = new Set<number>();
    const theirs: AgentRun[] = [];
    result.items.forEach((run, index) => {
      const entry: PlacedRun | undefined = watched.get(run.id) ?? others.get(run.id);
      if (!entry) return;
      listed.add(run.id);
      entry.rank = placement.rankOf(skip, index, result.total);
      // Codegen's creation time is the one the list is ordered by (a caller's copy may lack it).
      const created = Date.parse(run.createdAt ?? '');
      if (Number.isFinite(created)) entry.createdAt = created;
      entry.misses = 0;
      entry.single = false;
      saw(entry, run, at);
      seen.push(run);
      if (watched.has(run.id)) deliver(run.id, run);
      else theirs.push(run);
    });
    const oldest = result.items.at(-1);
    const oldestAt = Date.parse(oldest?.createdAt ?? '');
    noteMisses(
      [...watched.values(), ...others.values()],
      expected,
      listed,
      oldest && Number.isFinite(oldestAt) ? { createdAt: oldestAt, id: oldest.id } : undefined,
    );
    return theirs;
  }

  /** A single-run GET; false when Codegen is down (the sweep stops reading). */
  async function readOne(id: number, seen?: AgentRun[]): Promise<boolean> {
    const entry = watched.get(id);
    if (!entry) return true;
    entry.readAt = Date.now();
    stats.singleReads += 1;
    try {
      const run = await agent.getAgentRun(id, stopper.signal);
      saw(entry, run, Date.now());
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

  /** One step: a window of the list, or a few single-run GETs, where runs most likely ended unnoticed. */
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
    if (board && leading) {
      await refreshOthers();
      stats.led += 1;
    } else others = new Map();
    // Another replica's run seen ended is on the board already; one we could not find in the list is its own to
    // read (it does when the board is silent).
    const runs: PlacedRun[] = [...watched.values(), ...[...others.values()].filter((r) => !r.single && !r.endSeen)];
    if (runs.length === 0) return;
    const choice = placement.choose(runs, Date.now());
    cycle = choice.cycle;
    const seen: AgentRun[] = [];
    try {
      if (choice.kind === 'window') {
        const theirs = await readWindow(choice.skip, choice.expected, seen);
        // As leader, each window's news for the other replicas goes on the board at once.
        if (board && leading && theirs.length > 0) await board.update(theirs).catch(() => undefined);
      } else {
        const local = choice.ids.map((id) => watched.get(id)).filter((e): e is Watched => e !== undefined);
        await readEach(local, local.length, seen);
      }
    } catch (raw) {
      const err = toDaemonError(raw);
      if (stopper.signal.aborted) return;
      if (!(await health.assess(err, stopper.signal))) return;
      // Codegen answers but the listing failed: look at our runs one by one this time.
      log.warn({ err, code: err.code }, 'could not list agent runs; reading the watched runs one by one');
      await readEach([...watched.values()], watched.size, seen);
    }
    if (board && leading) await share(board, seen);
  }

  /** As leader: the runs the other replicas announced, placed as they were (a new one is placed from scratch). */
  async function refreshOthers(): Promise<void> {
    const next = new Map<number, Announced>();
    for (const run of await (lead as LeadKeeper).announced().catch(() => [])) {
      if (watched.has(run.id)) continue;
      const now = Date.now();
      // Known in progress since its creation, as our own runs are when first watched.
      const fresh = {
        id: run.id,
        createdAt: run.createdAt,
        seenAt: Math.min(now, run.createdAt),
        misses: 0,
        single: false,
      };
      next.set(run.id, others.get(run.id) ?? fresh);
    }
    others = next;
  }

  /**
   * As leader: collect what the reads saw for the board, and publish it as one sweep's states (replacing the
   * last) once a cycle of reads has passed over every run. A status of another replica's run that changed is a
   * change for the pace too.
   */
  async function share(board: RunBoard, seen: AgentRun[]): Promise<void> {
    for (const run of seen) {
      const other = others.get(run.id);
      if (other) {
        if (other.status !== undefined && other.status !== run.status) changed = true;
        other.status = run.status;
      }
      cycleSeen.set(run.id, run);
    }
    cycleReads += 1;
    if (cycleReads < cycle) return;
    const states = [...cycleSeen.values()];
    cycleSeen = new Map();
    cycleReads = 0;
    await board.publish(states).catch(() => undefined);
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
      pace.swept({ following, changed, reads: stats.listReads + stats.singleReads - readsBefore, cycle });
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
    if (entry.waiters.size === 0) {
      watched.delete(id);
      const { createdAt, rank, seenAt, misses, single, endSeen, startedAt } = entry;
      remembered.delete(id);
      remembered.set(id, {
        id,
        createdAt,
        seenAt,
        misses,
        single,
        ...(rank !== undefined ? { rank } : {}),
        ...(endSeen ? { endSeen } : {}),
        ...(startedAt !== undefined ? { startedAt } : {}),
      });
      if (remembered.size > REMEMBERED) remembered.delete(remembered.keys().next().value as number);
    }
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
          const now = Date.now();
          let known = remembered.get(run.id);
          remembered.delete(run.id);
          // Waited on again after it was seen ended: resumed, so it runs again from now (its place is the same).
          if (known?.endSeen && run.state === 'in_progress') {
            known = { ...known, endSeen: false, startedAt: now, seenAt: now, misses: 0 };
          }
          entry = {
            id: run.id,
            createdAt: Number.isFinite(created) ? created : now,
            // In progress when it was created: a run resumed long after that is looked at soon.
            seenAt: Number.isFinite(created) ? Math.min(now, created) : now,
            misses: 0,
            single: false,
            ...known,
            waiters: new Set(),
            readAt: 0,
            boardAt: now,
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
