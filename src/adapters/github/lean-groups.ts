/**
 * Light stand-ins for the Bottleneck groups plugin-throttling schedules every request through, for when the
 * daemon's own pacing limiter (createGitHubPacing) spaces the writes. plugin-throttling only ever calls
 * `group.key(id).schedule(jobOptions, fn, ...args)`; a Bottleneck job costs about a millisecond of CPU on a
 * small machine (its queue, priorities and async generator machinery), several times per request, even when
 * nothing is limited. With the pacing limiter in charge:
 * - the write and notification groups only ever run a no-op (the plugin awaits them before sending), so their
 *   spacing is the pacing limiter's job and they pass straight through;
 * - the global group keeps its one real duty, at most `max` requests in flight in this process, as a plain
 *   counter with a FIFO of waiters.
 * The search and auth groups stay Bottleneck groups: they are rare, and their spacing is not paced elsewhere.
 *
 * Every request also passes through the plugin's `retryLimiter`, a Bottleneck used only for its retry hook (a
 * 'failed' listener that answers how long to wait before retrying a rate-limited request); retryScheduler does
 * that with a loop.
 */
import type Bottleneck from 'bottleneck';

type Job = (...args: unknown[]) => unknown;

/** The part of a Bottleneck limiter plugin-throttling uses. */
interface Schedulable {
  schedule(options: unknown, fn: Job, ...args: unknown[]): Promise<unknown>;
}

const asGroup = (limiter: Schedulable): Bottleneck.Group => ({ key: () => limiter }) as unknown as Bottleneck.Group;

/** A group that runs every job at once: its spacing is done elsewhere. */
export function passThroughGroup(): Bottleneck.Group {
  return asGroup({
    schedule: async (_options, fn, ...args) => fn(...args),
  });
}

/** A group that lets at most `max` jobs run at once, the rest waiting their turn in arrival order. */
export function concurrencyGroup(max: number): Bottleneck.Group {
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  };
  return asGroup({
    async schedule(_options, fn, ...args) {
      // A slot handed over by release() stays counted: `running` only drops when nobody waits.
      if (running < max) running += 1;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await fn(...args);
      } finally {
        release();
      }
    },
  });
}

type FailedListener = (error: unknown, info: { args: unknown[]; retryCount: number }) => unknown;

/**
 * What plugin-throttling asks of its `retryLimiter`: `schedule(fn, ...args)` runs fn, and when it fails asks
 * the 'failed' listeners; a number from one of them (the first that is not null, as Bottleneck takes it) is the
 * wait in ms before running fn again with retryCount one higher, anything else rejects with the error.
 */
export function retryScheduler(): Bottleneck {
  const listeners: FailedListener[] = [];
  const scheduler = {
    on(event: string, listener: FailedListener) {
      if (event === 'failed') listeners.push(listener);
      return scheduler;
    },
    async schedule(fn: Job, ...args: unknown[]): Promise<unknown> {
      for (let retryCount = 0; ; retryCount++) {
        try {
          return await fn(...args);
        } catch (error) {
          const answers = await Promise.all(listeners.map(async (l) => l(error, { args, retryCount })));
          const wait = answers.find((a) => a !== null && a !== undefined);
          if (wait === undefined) throw error;
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.trunc(Number(wait)) || 0)));
        }
      }
    },
  };
  return scheduler as unknown as Bottleneck;
}
