/**
 * The Task API (the seed's "Cloudflare API"): a Hono app in front of a TaskStore. The same app runs under
 * Node (node-server.ts) and as a Cloudflare Worker (worker.ts); it holds no state of its own besides the store.
 *
 * Everything answers JSON, errors included. /health and /openapi.json are open; every other route needs
 * `Authorization: Bearer <key>`.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { TaskStore } from '../pipeline/ports.js';
import { requireBearer } from './auth.js';
import { errorResponse, type ApiErrorBody, type ApiLogger } from './http-errors.js';
import { TASK_API_OPENAPI } from './openapi.js';
import { registerTaskRoutes, type ClaimWakeups } from './routes.js';

export type { ApiLogger } from './http-errors.js';

/** What the Task API app is built from. */
export interface TaskApiDeps {
  store: TaskStore;
  /** The bearer key callers must present. */
  apiKey: string;
  /** Where request failures are logged; a pino Logger fits. Silent when absent. */
  logger?: ApiLogger;
  /** Largest accepted request body, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** How long /health waits for the store's ping, in ms. Default 5000. */
  healthTimeoutMs?: number;
  /**
   * Told when a task may have become claimable (added, retried, released): a claim with `waitMs` waits on it.
   * Without it (the Worker) a claim answers at once.
   */
  tasksAdded?: ClaimWakeups;
}

const SILENT: ApiLogger = { error() {}, warn() {}, info() {}, debug() {} };

/** Build the Task API app. */
export function createTaskApiApp(deps: TaskApiDeps): Hono {
  const { store } = deps;
  const logger = deps.logger ?? SILENT;
  const app = new Hono();

  app.use('*', async (c, next) => {
    const started = Date.now();
    await next();
    // Route pattern, not the path: ids stay out of aggregated fields; the path is there for one-off debugging.
    logger.debug(
      {
        method: c.req.method,
        route: c.req.routePath,
        path: c.req.path,
        status: c.res.status,
        ms: Date.now() - started,
      },
      'task api request',
    );
  });

  app.get('/health', async (c) => {
    try {
      await pingWithin(store, deps.healthTimeoutMs ?? 5_000);
      return c.json({ status: 'ok' });
    } catch (err) {
      logger.warn({ err }, 'task api health check failed');
      return c.json({ status: 'unavailable' }, 503);
    }
  });

  app.get('/openapi.json', (c) => c.json(TASK_API_OPENAPI));

  app.use('*', requireBearer(deps.apiKey));
  app.use(
    '*',
    bodyLimit({
      maxSize: deps.maxBodyBytes ?? 1024 * 1024,
      onError: (c) => c.json<ApiErrorBody>({ error: 'payload-too-large', message: 'request body is too large' }, 413),
    }),
  );
  registerTaskRoutes(app, store, deps.tasksAdded);

  app.notFound((c) =>
    c.json<ApiErrorBody>({ error: 'not-found', message: `no route ${c.req.method} ${c.req.path}` }, 404),
  );
  app.onError((err, c) => errorResponse(c, err, logger));
  return app;
}

/** Ping the store, giving up after `timeoutMs` so a hung database makes /health answer 503, not hang. */
async function pingWithin(store: TaskStore, timeoutMs: number): Promise<void> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`store ping timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    await Promise.race([store.ping(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
