/**
 * Picks the task store from configuration: the Task API over HTTP when CLOUDFLARE_API_URL is set, PostgreSQL
 * when DATABASE_URL is set, and otherwise the embedded PGlite database under ./data, so that a fresh clone
 * runs on a real local store with nothing to set up.
 */
import type { AppConfig } from '../config/load.js';
import { ConfigError, redactUrl } from '../config/load.js';
import type { Logger } from '../observability/logger.js';
import type { TaskStore } from '../pipeline/ports.js';
import type { Guard } from '../resilience/types.js';
import { createHttpTaskStore } from './task-api/client.js';
import { openPgliteTaskStore, openPostgresTaskStore } from './task-store/index.js';

export type StoreKind = 'http' | 'postgres' | 'pglite';

export function chooseStoreKind(config: Pick<AppConfig, 'taskStore' | 'cloudflareApi'>): StoreKind {
  const { kind, databaseUrl } = config.taskStore;
  if (kind !== 'auto') return kind;
  if (config.cloudflareApi.baseUrl) return 'http';
  if (databaseUrl) return 'postgres';
  return 'pglite';
}

export async function openTaskStore(
  config: Pick<AppConfig, 'taskStore' | 'cloudflareApi' | 'processing'>,
  deps: { logger: Logger; guard?: Guard },
): Promise<{ store: TaskStore; kind: StoreKind; where: string }> {
  const kind = chooseStoreKind(config);
  // A task added without maxAttempts gets the configured retries plus its first attempt.
  const defaultMaxAttempts = config.processing.maxRetries + 1;
  switch (kind) {
    case 'http': {
      const { baseUrl, apiKey, timeout } = config.cloudflareApi;
      if (!baseUrl)
        throw new ConfigError('TASK_STORE=http needs CLOUDFLARE_API_URL (cloudflareApi.baseUrl): the Task API URL');
      if (!apiKey) throw new ConfigError('the Task API needs a token: set CLOUDFLARE_API_KEY (cloudflareApi.apiKey)');
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
    case 'postgres': {
      const { databaseUrl } = config.taskStore;
      if (!databaseUrl) throw new ConfigError('TASK_STORE=postgres needs DATABASE_URL (taskStore.databaseUrl)');
      const store = await openPostgresTaskStore({
        connectionString: databaseUrl,
        schema: config.taskStore.schema,
        defaultMaxAttempts,
      });
      return { store, kind, where: safeDatabaseLocation(databaseUrl) };
    }
    case 'pglite': {
      const store = await openPgliteTaskStore({ dataDir: config.taskStore.pgliteDir, defaultMaxAttempts });
      return { store, kind, where: config.taskStore.pgliteDir };
    }
  }
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
