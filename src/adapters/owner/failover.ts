/**
 * A store that outlives its owner. A process that reaches the store through the owner (a second daemon,
 * `task-api`, a long CLI command) keeps working when the owner stops or dies: the first call that finds the
 * owner gone (connection refused, or a new owner's key) runs the election again, which makes this process the
 * owner (serving, when it is a daemon) or points it at the new one, and the call is made once more there.
 *
 * Only failures that prove the request was never handled switch over: a refused connection or a refused key.
 * A timeout does not (the owner may have applied the write), so it reaches the caller as it is.
 */
import { isDaemonError } from '../../domain/errors.js';
import type { Logger } from '../../observability/logger.js';
import type { TaskStore } from '../../pipeline/ports.js';
import type { Elected } from './elect.js';

const OWNER_GONE = new Set(['task-api-unreachable', 'task-api-unauthorized']);

export interface FailoverStore {
  store: TaskStore;
  /** Where the store is now. */
  current(): Elected;
}

/** Wrap the elected store so that a lost owner is replaced by electing again (see the file comment). */
export function withOwnerFailover(first: Elected, reelect: () => Promise<Elected>, logger: Logger): FailoverStore {
  let current = first;
  let switching: Promise<Elected> | undefined;
  let closed = false;

  /** One election at a time: callers that failed on the same lost owner share it. */
  function switchFrom(lost: Elected): Promise<Elected> {
    if (current !== lost) return Promise.resolve(current);
    switching ??= reelect()
      .then((next) => {
        current = next;
        logger.warn(
          { lostOwnerPid: lost.ownerPid, mode: next.mode, ownerPid: next.ownerPid, url: next.url },
          next.mode === 'owner'
            ? 'the owner of the data directory is gone; this process owns it now'
            : 'the owner of the data directory changed; going through the new one',
        );
        return next;
      })
      .finally(() => {
        switching = undefined;
      });
    return switching;
  }

  const store = {} as Record<string, unknown>;
  for (const name of Object.keys(first.store) as Array<keyof TaskStore>) {
    if (name === 'close') continue;
    store[name] = async (...args: unknown[]) => {
      const used = current;
      const call = (elected: Elected) =>
        (elected.store[name] as (...a: unknown[]) => Promise<unknown>).apply(elected.store, args);
      try {
        return await call(used);
      } catch (error) {
        if (closed || used.mode !== 'client' || !isDaemonError(error) || !OWNER_GONE.has(error.code)) throw error;
        return call(await switchFrom(used));
      }
    };
  }
  store.close = async () => {
    if (closed) return;
    closed = true;
    await switching?.catch(() => undefined);
    if (current.mode === 'client') await current.store.close();
    await current.close();
  };
  return { store: store as unknown as TaskStore, current: () => current };
}
