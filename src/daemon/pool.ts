/**
 * The bounded worker pool. A fixed number of slots; each job gets its own AbortController whose signal reaches
 * every outbound call of that task. A finished job frees its slot at once: no batch barrier.
 *
 * Whoever claims tasks reserves slots first (reserve, acquire) and claims no more tasks than it holds slots:
 * a claimed task always has a slot to run in, so nothing is ever claimed and then left waiting for its lease to
 * expire because the pool turned out to be full (the scheduler and processTask may claim at the same time).
 */

export interface PoolJob {
  /** Identifies the job in abort and status calls (the task id). */
  id: string;
  run: (signal: AbortSignal) => Promise<void>;
}

/** A reserved slot: start exactly one job in it, or release it. */
export interface Slot {
  start(job: PoolJob): void;
  release(): void;
}

export interface Pool {
  readonly size: number;
  active(): number;
  /** Slots neither running a job nor reserved. */
  free(): number;
  /** Reserve up to `max` free slots now (maybe none). */
  reserve(max: number): Slot[];
  /** Wait for a free slot and reserve it; rejects with the signal's reason when it aborts first. */
  acquire(signal?: AbortSignal): Promise<Slot>;
  activeIds(): string[];
  /** Starts the job now in a free slot; throws if none is free (reserve first when claiming). */
  start(job: PoolJob): void;
  /** Called every time a slot is freed. */
  onSlotFreed(listener: () => void): void;
  /** Resolves when at least one slot is free (at once if one is). */
  waitForFreeSlot(): Promise<void>;
  /** Resolves when no job is running, or after `timeoutMs`; true when idle. */
  waitIdle(timeoutMs?: number): Promise<boolean>;
  /** Aborts every running job with `reason` (their signals fire). */
  abortAll(reason: Error): void;
  /** Aborts one job. */
  abort(id: string, reason: Error): void;
}

export function createPool(size: number): Pool {
  if (!Number.isInteger(size) || size < 1) throw new Error(`pool size must be a whole number >= 1, got ${size}`);
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let reserved = 0;
  const slotListeners: Array<() => void> = [];
  const slotWaiters: Array<() => void> = [];
  const idleWaiters = new Set<() => void>();
  const free = (): number => size - running.size - reserved;

  /** A slot came free: hand it to the oldest waiter first, then tell the listeners (the scheduler). */
  const slotFreed = (): void => {
    while (free() > 0 && slotWaiters.length > 0) slotWaiters.shift()?.();
    if (free() > 0) for (const listener of slotListeners) listener();
  };

  const finished = (id: string): void => {
    running.delete(id);
    slotFreed();
    if (running.size === 0) for (const wake of [...idleWaiters]) wake();
  };

  const run = (job: PoolJob): void => {
    if (running.has(job.id)) throw new Error(`job ${job.id} is already running`);
    const controller = new AbortController();
    // The job's own errors are its business (run-task reports them); the pool only keeps the slot accounting.
    let started: Promise<void>;
    try {
      started = job.run(controller.signal);
    } catch (err) {
      started = Promise.reject(err);
    }
    const done = started.catch(() => undefined).finally(() => finished(job.id));
    running.set(job.id, { controller, done });
  };

  const makeSlot = (): Slot => {
    reserved++;
    let used = false;
    const settle = (): void => {
      if (used) throw new Error('a pool slot can be used once');
      used = true;
      reserved--;
    };
    return {
      start(job) {
        settle();
        try {
          run(job);
        } catch (err) {
          slotFreed();
          throw err;
        }
      },
      release() {
        if (used) return;
        settle();
        slotFreed();
      },
    };
  };

  return {
    size,
    active: () => running.size,
    free,
    activeIds: () => [...running.keys()],
    reserve(max) {
      const n = Math.max(0, Math.min(Math.floor(max), free()));
      return Array.from({ length: n }, makeSlot);
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (free() > 0 && slotWaiters.length === 0) return Promise.resolve(makeSlot());
      return new Promise<Slot>((resolve, reject) => {
        const onAbort = (): void => {
          const i = slotWaiters.indexOf(wake);
          if (i !== -1) slotWaiters.splice(i, 1);
          reject(signal?.reason);
        };
        const wake = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve(makeSlot());
        };
        slotWaiters.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    start(job) {
      if (free() <= 0) throw new Error('pool is full');
      makeSlot().start(job);
    },
    onSlotFreed(listener) {
      slotListeners.push(listener);
    },
    waitForFreeSlot() {
      if (free() > 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const listener = (): void => {
          const i = slotListeners.indexOf(listener);
          if (i !== -1) slotListeners.splice(i, 1);
          resolve();
        };
        slotListeners.push(listener);
      });
    },
    waitIdle(timeoutMs) {
      if (running.size === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const wake = (): void => {
          if (timer) clearTimeout(timer);
          idleWaiters.delete(wake);
          resolve(true);
        };
        idleWaiters.add(wake);
        if (timeoutMs !== undefined) {
          timer = setTimeout(() => {
            idleWaiters.delete(wake);
            resolve(running.size === 0);
          }, timeoutMs);
          timer.unref();
        }
      });
    },
    abortAll(reason) {
      for (const { controller } of running.values()) controller.abort(reason);
    },
    abort(id, reason) {
      running.get(id)?.controller.abort(reason);
    },
  };
}
