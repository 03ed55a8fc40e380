/**
 * One owner per data directory (see lock.ts, elect.ts, serve.ts, connect.ts, failover.ts): open the embedded
 * store as its owner or through its owner, get a store that survives the owner going away, and the "tasks added"
 * signal the scheduler listens to.
 *
 * Files in the data directory: owner.lock (the lock), owner.json (who owns it and how to reach it; mode 0600).
 */
import type { Logger } from '../../observability/logger.js';
import type { TaskStore } from '../../pipeline/ports.js';
import { electOwner, type Elected } from './elect.js';
import type { OwnerRole } from './endpoint.js';
import { withOwnerFailover } from './failover.js';
import { createTasksAddedSignal, emittingAdds, type TasksAddedSignal } from './signals.js';

export { tryOwnerLock, LOCK_FILE_NAME, type OwnerLock } from './lock.js';
export { readOwnerEndpoint, ENDPOINT_FILE_NAME, type OwnerEndpoint, type OwnerRole } from './endpoint.js';
export { servesStore, type Elected } from './elect.js';
export type { TasksAddedSignal, TasksAddedListener } from './signals.js';

export interface OpenOwnedStoreOptions {
  dataDir: string;
  role: OwnerRole;
  /** Open the database itself; called only while this process holds the lock. */
  openLocal: () => Promise<TaskStore>;
  logger: Logger;
  /** Longest wait for an owner that does not serve, in ms. Default 60,000. */
  waitMs?: number;
}

/** The store of a data directory as this process sees it. */
export interface OwnedStore {
  store: TaskStore;
  signal: TasksAddedSignal;
  /** Whether this process owns the directory now, or goes through the owner. */
  current(): Pick<Elected, 'mode' | 'ownerPid' | 'url'>;
}

/** Open the data directory's store as its owner, or through its owner. close() on the store releases all. */
export async function openOwnedStore(options: OpenOwnedStoreOptions): Promise<OwnedStore> {
  const signal = createTasksAddedSignal(options.logger);
  const elect = () =>
    electOwner({
      dataDir: options.dataDir,
      role: options.role,
      openLocal: options.openLocal,
      wrap: (store) => emittingAdds(store, (tasks) => signal.emit(tasks)),
      logger: options.logger,
      ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
    });
  const failover = withOwnerFailover(await elect(), elect, options.logger);
  return {
    store: failover.store,
    signal: { onTasksAdded: signal.onTasksAdded },
    current: () => {
      const { mode, ownerPid, url } = failover.current();
      return { mode, ownerPid, ...(url ? { url } : {}) };
    },
  };
}
