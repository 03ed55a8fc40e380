/**
 * The bounded worker pool. A fixed number of slots; each job gets its own AbortController whose signal reaches
 * every outbound call of that task. A finished job frees its slot at once: no batch barrier.
 */

export interface PoolJob {
  /** Identifies the job in abort and status calls (the task id). */
  id: string;
  run: (signal: AbortSignal) => Promise<void>;
}

export interface Pool {
  readonly size: number;
  active(): number;
  free(): number;
  activeIds(): string[];
  /** Starts the job now; throws if no slot is free (the scheduler claims only as many as there are slots). */
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
  const slotListeners: Array<() => void> = [];
  const slotWaiters = new Set<() => void>();
  const idleWaiters = new Set<() => void>();

  const finished = (id: string): void => {
    running.delete(id);
    for (const listener of slotListeners) listener();
    for (const wake of [...slotWaiters]) wake();
    if (running.size === 0) for (const wake of [...idleWaiters]) wake();
  };

  return {
    size,
    active: () => running.size,
    free: () => size - running.size,
    activeIds: () => [...running.keys()],
    start(job) {
      if (running.size >= size) throw new Error('pool is full');
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
    },
    onSlotFreed(listener) {
      slotListeners.push(listener);
    },
    waitForFreeSlot() {
      if (running.size < size) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const wake = (): void => {
          slotWaiters.delete(wake);
          resolve();
        };
        slotWaiters.add(wake);
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
