/**
 * Deciding who opens a data directory's embedded store. The first process to take the owner lock opens the
 * database itself; a daemon or `task-api` owner also serves it on loopback. Every other process goes through a
 * serving owner; when the owner does not serve (a CLI command, a library user) the newcomer waits for it to end,
 * bounded, saying so once in the log, and then takes the lock itself.
 */
import { DaemonError } from '../../domain/errors.js';
import type { Logger } from '../../observability/logger.js';
import type { TaskStore } from '../../pipeline/ports.js';
import { storeThroughOwner } from './connect.js';
import { readOwnerEndpoint, removeOwnerEndpoint, writeOwnerEndpoint, type OwnerRole } from './endpoint.js';
import { tryOwnerLock } from './lock.js';
import { serveStore } from './serve.js';
import { timeoutSignal } from '../../resilience/timeout-signal.js';

export interface ElectOptions {
  dataDir: string;
  /** What this process is; daemons and task-api serve the store when they own it. */
  role: OwnerRole;
  /** Open the database itself (called only while holding the lock). */
  openLocal: () => Promise<TaskStore>;
  /** Wrap the store this process will use (and serve), e.g. to fire the tasks-added signal. */
  wrap: (store: TaskStore) => TaskStore;
  logger: Logger;
  /** Longest wait for an owner that does not serve, in ms. Default 60,000. */
  waitMs?: number;
  /** Timeout of one request to a serving owner, in ms. Default 30,000. */
  requestTimeoutMs?: number;
}

/** The outcome: this process owns the directory, or reaches its owner. */
export interface Elected {
  store: TaskStore;
  /** `owner` (opened here) or `client` (through the owner with pid `ownerPid`). */
  mode: 'owner' | 'client';
  ownerPid: number;
  /** Serving endpoint of this owner, when it serves. */
  url?: string;
  /** Release everything this side holds: server, database, lock. The store's own close() does not. */
  close(): Promise<void>;
}

const POLL_MS = 200;

/** Roles that serve their store to others when they own it. */
export function servesStore(role: OwnerRole): boolean {
  return role === 'daemon' || role === 'task-api';
}

async function becomeOwner(options: ElectOptions, lock: { release(): void }): Promise<Elected> {
  const since = new Date().toISOString();
  // Replace what a dead owner left with who holds the lock now; waiters name us in their log line.
  removeOwnerEndpoint(options.dataDir);
  writeOwnerEndpoint(options.dataDir, { pid: process.pid, role: options.role, since });
  let local: TaskStore;
  try {
    local = await options.openLocal();
  } catch (error) {
    removeOwnerEndpoint(options.dataDir);
    lock.release();
    throw error;
  }
  const store = options.wrap(local);
  let server: Awaited<ReturnType<typeof serveStore>> | undefined;
  try {
    if (servesStore(options.role)) {
      server = await serveStore({ store, dataDir: options.dataDir, role: options.role, logger: options.logger, since });
    }
  } catch (error) {
    // Could not listen on loopback: give the directory back rather than hold it unreachable.
    await local.close();
    removeOwnerEndpoint(options.dataDir);
    lock.release();
    throw error;
  }
  return {
    store,
    mode: 'owner',
    ownerPid: process.pid,
    ...(server ? { url: server.url } : {}),
    async close() {
      try {
        if (server) await server.close();
        else removeOwnerEndpoint(options.dataDir);
        await local.close();
      } finally {
        lock.release();
      }
    },
  };
}

/** Take the lock and open the store, or reach the owner; see the file comment. */
export async function electOwner(options: ElectOptions): Promise<Elected> {
  const waitMs = options.waitMs ?? 60_000;
  const deadline = Date.now() + waitMs;
  let announced = false;
  for (;;) {
    const lock = tryOwnerLock(options.dataDir);
    if (lock) return becomeOwner(options, lock);
    const endpoint = readOwnerEndpoint(options.dataDir);
    if (endpoint?.url) {
      const remote = storeThroughOwner(endpoint, {
        logger: options.logger,
        timeoutMs: options.requestTimeoutMs ?? 30_000,
      });
      try {
        // An authenticated read, not /health (which is open): a stale owner.json naming a port that some other
        // server took since must not pass.
        const limit = timeoutSignal(5_000);
        await remote.listTasks({ limit: 1 }, limit.signal).finally(() => limit.clear());
        return {
          store: options.wrap(remote),
          mode: 'client',
          ownerPid: endpoint.pid,
          close: async () => {},
        };
      } catch {
        // The owner is starting, stopping or gone: look again.
      }
    }
    if (Date.now() >= deadline) {
      const holder = endpoint ? `${endpoint.role} process ${endpoint.pid}` : 'another process';
      throw new DaemonError(
        `the data directory ${options.dataDir} (taskStore.dataDir) is held by ${holder} that does not share it; ` +
          `gave up after ${Math.round(waitMs / 1000)} s. Stop that process, or start the daemon first: ` +
          'other commands then go through it',
        { code: 'store-owner-busy', category: 'conflict', dependency: 'task-store' },
      );
    }
    if (!announced) {
      announced = true;
      const holder = endpoint ? `the ${endpoint.role} process ${endpoint.pid}` : 'another process';
      const until = endpoint && servesStore(endpoint.role) ? 'start serving it' : 'finish';
      options.logger.warn(
        { dataDir: options.dataDir, holder: endpoint ? { pid: endpoint.pid, role: endpoint.role } : undefined },
        `${holder} holds the data directory; waiting for it to ${until} (at most ${Math.round(waitMs / 1000)} s)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
