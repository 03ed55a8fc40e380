/**
 * Picks the task store from configuration: the Task API over HTTP when CLOUDFLARE_API_URL is set, PostgreSQL
 * when DATABASE_URL is set, and otherwise the embedded SQLite database in taskStore.dataDir (./data for the
 * daemon and the CLI), so that a fresh clone runs on a real local store with nothing to set up. PGlite stays
 * available as TASK_STORE=pglite.
 *
 * An embedded store has one owner per data directory (src/adapters/owner/): the first process opens the
 * database, a daemon or task-api owner serves it on loopback, and every other process goes through it.
 * Each kind's modules are loaded only when that kind is chosen: the native SQLite addon, PGlite's WebAssembly,
 * pg and got are not loaded by deployments that do not use them.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AppConfig } from '../config/load.js';
import { TASK_API_LIMITS } from '../domain/task-limits.js';
import { ConfigError, redactUrl } from '../config/load.js';
import type { Logger } from '../observability/logger.js';
import type { TaskStore } from '../pipeline/ports.js';
import type { Guard } from '../resilience/types.js';
import type { OwnerRole, TasksAddedSignal } from './owner/index.js';
import type { TaskNudges } from './task-store/pg-nudges.js';

export type StoreKind = 'http' | 'postgres' | 'sqlite' | 'pglite';

/** A dataDir (or pgliteDir) that keeps the embedded store in memory, in this process only. */
export const MEMORY_DIR = 'memory://';

type StoreConfig = Pick<AppConfig, 'taskStore' | 'cloudflareApi' | 'processing'>;

export function chooseStoreKind(config: Pick<AppConfig, 'taskStore' | 'cloudflareApi'>): StoreKind {
  const { kind, databaseUrl } = config.taskStore;
  if (kind !== 'auto') return kind;
  if (config.cloudflareApi.baseUrl) return 'http';
  if (databaseUrl) return 'postgres';
  return 'sqlite';
}

export interface OpenStoreDeps {
  logger: Logger;
  guard?: Guard;
  /**
   * Who is opening an embedded store: a `daemon` or `task-api` owner serves it to other processes; `cli` and
   * `library` owners do not. Default `library`.
   */
  role?: OwnerRole;
}

export interface OpenedStore {
  store: TaskStore;
  kind: StoreKind;
  /** Where, for logs and /status: never a password. */
  where: string;
  /** Fires when tasks are added through this store (and, for an embedded owner, through its endpoint). */
  signal: TasksAddedSignal;
  /**
   * The most tasks one addTasks call may carry right now: the Task API's batch cap when the store is reached over
   * HTTP (the Task API, or an embedded store's owner), undefined when one call is one local transaction of any size.
   */
  addBatchLimit(): number | undefined;
}

/** After this long without a ready store, say what is taking the time. */
const SLOW_OPEN_MS = 2_000;

export async function openTaskStore(config: StoreConfig, deps: OpenStoreDeps): Promise<OpenedStore> {
  const kind = chooseStoreKind(config);
  const log = deps.logger.child({ component: 'task-store', store: kind });
  const started = Date.now();
  const slow = setTimeout(
    () => log.info({ ms: Date.now() - started }, `still opening the ${kind} task store`),
    SLOW_OPEN_MS,
  );
  slow.unref();
  try {
    const opened = await openByKind(config, kind, { ...deps, logger: log });
    log.info({ where: opened.where, ms: Date.now() - started }, 'task store ready');
    return opened;
  } finally {
    clearTimeout(slow);
  }
}

async function openByKind(config: StoreConfig, kind: StoreKind, deps: OpenStoreDeps): Promise<OpenedStore> {
  if (kind === 'sqlite' || kind === 'pglite') return openEmbedded(config, kind, deps);
  const { createTasksAddedSignal, emittingAdds } = await import('./owner/signals.js');
  const signal = createTasksAddedSignal(deps.logger);
  const opened = await openShared(config, kind, deps);
  const store = emittingAdds(opened.store, signal.emit);
  if (kind !== 'postgres') return { ...opened, store, signal, addBatchLimit: () => TASK_API_LIMITS.batch };
  // PostgreSQL: adds, retries and releases by any process wake every daemon's scheduler (LISTEN/NOTIFY).
  const { createPgTaskNudges } = await import('./task-store/pg-nudges.js');
  const nudges = createPgTaskNudges({
    connectionString: config.taskStore.databaseUrl,
    schema: config.taskStore.schema,
    logger: deps.logger,
  });
  return {
    ...opened,
    addBatchLimit: () => undefined,
    store: nudgingStore(store, nudges, { onFinish: repositoriesCapped(config) }),
    signal: {
      onTasksAdded(listener) {
        const local = signal.onTasksAdded(listener);
        const remote = nudges.onNudge(() => listener([]));
        return () => {
          local();
          remote();
        };
      },
    },
  };
}

async function openShared(config: StoreConfig, kind: 'http' | 'postgres', deps: OpenStoreDeps) {
  // A task added without maxAttempts gets the configured retries plus its first attempt.
  const defaultMaxAttempts = config.processing.maxRetries + 1;
  if (kind === 'http') {
    const { baseUrl, apiKey, timeout } = config.cloudflareApi;
    if (!baseUrl)
      throw new ConfigError('TASK_STORE=http needs CLOUDFLARE_API_URL (cloudflareApi.baseUrl): the Task API URL');
    if (!apiKey) throw new ConfigError('the Task API needs a token: set CLOUDFLARE_API_KEY (cloudflareApi.apiKey)');
    const { createHttpTaskStore } = await import('./task-api/client.js');
    const store = createHttpTaskStore({
      baseUrl,
      apiKey,
      timeoutMs: timeout,
      logger: deps.logger,
      ...(deps.guard ? { guard: deps.guard } : {}),
    });
    // `where` is logged and shown in /status: never the user:password a URL may carry.
    return { store, kind, where: redactUrl(baseUrl) };
  }
  const { databaseUrl } = config.taskStore;
  if (!databaseUrl) throw new ConfigError('TASK_STORE=postgres needs DATABASE_URL (taskStore.databaseUrl)');
  const { openPostgresTaskStore } = await import('./task-store/index.js');
  const open = () =>
    openPostgresTaskStore({ connectionString: databaseUrl, schema: config.taskStore.schema, defaultMaxAttempts });
  // A service (the daemon, the Task API) waits for a database that is not up yet or drops the first connections;
  // a command or a library call reports the failure at once.
  const service = deps.role === 'daemon' || deps.role === 'task-api';
  const store = service ? await openRetrying(open, deps.logger) : await open();
  return { store, kind, where: safeDatabaseLocation(databaseUrl) };
}

/** The longest wait between two tries to open the PostgreSQL store at start. */
const OPEN_RETRY_MAX_MS = 15_000;

/**
 * Opens the store, trying again after a transient failure (refused, reset or timed-out connections, a server
 * starting or shutting down: a compose file starting PostgreSQL beside the daemon, a restart, a network that
 * drops the first statements). Each failure is logged with the wait before the next try, growing from 0.5 s to
 * 15 s; a failure that will not pass by waiting (wrong password, no such database) ends the start at once.
 */
async function openRetrying<T>(open: () => Promise<T>, log: Logger): Promise<T> {
  const { classifySqlError } = await import('./task-store/sql-errors.js');
  for (let attempt = 1, waitMs = 500; ; attempt += 1, waitMs = Math.min(waitMs * 2, OPEN_RETRY_MAX_MS)) {
    try {
      return await open();
    } catch (error) {
      const failure = classifySqlError(error);
      if (!failure.retryable) throw error;
      log.warn({ err: failure, attempt, retryInMs: waitMs }, 'task store not reachable yet; trying again');
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/** Where an embedded store keeps its database: the SQLite file, or PGlite's directory. */
export function embeddedLocation(config: Pick<AppConfig, 'taskStore'>, kind: 'sqlite' | 'pglite'): string {
  const { dataDir, pgliteDir } = config.taskStore;
  if (kind === 'pglite') return pgliteDir;
  return dataDir === MEMORY_DIR ? MEMORY_DIR : path.join(dataDir, 'codegen-pr.db');
}

async function openEmbedded(config: StoreConfig, kind: 'sqlite' | 'pglite', deps: OpenStoreDeps) {
  const defaultMaxAttempts = config.processing.maxRetries + 1;
  const location = embeddedLocation(config, kind);
  const log = deps.logger;
  const openLocal = async (): Promise<TaskStore> => {
    const fresh = location === MEMORY_DIR || !existsSync(location);
    if (kind === 'pglite') {
      log.info(
        { where: location },
        fresh ? 'creating the embedded PGlite database (10 to 20 s on first start)' : 'opening the PGlite database',
      );
      const { openPgliteTaskStore } = await import('./task-store/index.js');
      return openPgliteTaskStore({ dataDir: location, defaultMaxAttempts });
    }
    if (fresh && location !== MEMORY_DIR) log.info({ where: location }, 'creating the embedded SQLite database');
    const { openSqliteTaskStore } = await import('./task-store/sqlite/index.js');
    return openSqliteTaskStore({ file: location, defaultMaxAttempts });
  };

  const { createTasksAddedSignal, emittingAdds } = await import('./owner/signals.js');
  if (location === MEMORY_DIR) {
    // In memory: this process alone can see it, so there is nothing to own or share.
    const signal = createTasksAddedSignal(deps.logger);
    const store = emittingAdds(await openLocal(), signal.emit);
    return { store, kind, where: MEMORY_DIR, signal, addBatchLimit: () => undefined };
  }
  const { openOwnedStore } = await import('./owner/index.js');
  const owned = await openOwnedStore({
    // The owner's files live beside the database: in dataDir for SQLite, beside pgliteDir for PGlite.
    dataDir: kind === 'sqlite' ? config.taskStore.dataDir : path.dirname(path.resolve(location)),
    role: deps.role ?? 'library',
    openLocal,
    logger: log,
  });
  const now = owned.current();
  if (now.mode === 'client') {
    log.info({ where: location, ownerPid: now.ownerPid }, 'the store is owned by another process; going through it');
  } else if (now.url) {
    log.info({ where: location, url: now.url }, 'sharing the store with other local processes');
  }
  const where = now.mode === 'owner' ? location : `${location} (through process ${now.ownerPid})`;
  // The owner may change while this process runs (it exits, this one takes over): asked at each call.
  const addBatchLimit = () => (owned.current().mode === 'owner' ? undefined : TASK_API_LIMITS.batch);
  return { store: owned.store, kind, where, signal: owned.signal, addBatchLimit };
}

/** host:port/database of a connection string, without user or password. */
function safeDatabaseLocation(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'postgresql';
  }
}

/** Whether claims are capped per repository (REPO_MAX_IN_FLIGHT or one of its overrides above 0). */
function repositoriesCapped(config: StoreConfig): boolean {
  const { repoMaxInFlight, repoMaxInFlightOverrides } = config.processing;
  return repoMaxInFlight > 0 || Object.values(repoMaxInFlightOverrides ?? {}).some((n) => n > 0);
}

/**
 * `store` nudging every listening daemon after each write that may make a task claimable now. With `onFinish`
 * (claims capped per repository), a task completed or failed nudges too: it frees a place under its repository's
 * cap, and a replica whose claim came back short for that cap takes the next task at once, not at its next poll.
 */
function nudgingStore(store: TaskStore, nudges: TaskNudges, options: { onFinish: boolean }): TaskStore {
  const finishing = options.onFinish
    ? {
        async completeTask(...args: Parameters<TaskStore['completeTask']>) {
          await store.completeTask(...args);
          await nudges.nudge();
        },
        async failTask(...args: Parameters<TaskStore['failTask']>) {
          const task = await store.failTask(...args);
          await nudges.nudge();
          return task;
        },
      }
    : {};
  return {
    ...store,
    ...finishing,
    async addTasks(tasks, actor, signal) {
      const added = await store.addTasks(tasks, actor, signal);
      if (added.length > 0) await nudges.nudge();
      return added;
    },
    async retryTask(taskId, actor, signal) {
      const task = await store.retryTask(taskId, actor, signal);
      await nudges.nudge();
      return task;
    },
    async releaseTask(taskId, token, signal) {
      await store.releaseTask(taskId, token, signal);
      await nudges.nudge();
    },
    async close() {
      await nudges.close();
      await store.close();
    },
  };
}
