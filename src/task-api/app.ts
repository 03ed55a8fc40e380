/**
 * The Task API (the seed's "Cloudflare API"): a Hono app in front of a TaskStore. The same app runs under
 * Node (node-server.ts) and as a Cloudflare Worker (worker.ts); it holds no state of its own besides the store.
 *
 * Everything answers JSON, errors included. /health and /openapi.json are open; every other route needs
 * `Authorization: Bearer <key>`.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { TaskStore } from '../pipeline/ports.js';
import { requireBearer } from './auth.js';
import { errorResponse, type ApiErrorBody, type ApiLogger } from './http-errors.js';
import { TASK_API_OPENAPI } from './openapi.js';
import { registerReplicaRoutes } from './replica-routes.js';
import { registerTaskRoutes } from './routes.js';
import { registerStatusPage } from './status-page/routes.js';

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
   * Request metrics and the /metrics route (Node: metrics-task-api.ts). Absent in the Worker, which serves no
   * /metrics (see metrics-task-api.ts for why).
   */
  metrics?: AppMetrics;
  /** The status page (/status): a read-only credential, or read-only for everyone. */
  statusPage?: { readOnlyKey?: string; readOnly?: boolean };
}

/** The part of the Task API's metrics the app uses (kept free of prom-client for the Worker). */
export interface AppMetrics {
  observe(method: string, route: string, status: number, seconds: number): void;
  render(): Promise<{ contentType: string; body: string }>;
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
    // The matched route's pattern (bounded), not the path, which carries task ids.
    deps.metrics?.observe(c.req.method, matchedRoute(c), c.res.status, (Date.now() - started) / 1000);
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

  app.use(
    '*',
    bodyLimit({
      maxSize: deps.maxBodyBytes ?? 1024 * 1024,
      onError: (c) => c.json<ApiErrorBody>({ error: 'payload-too-large', message: 'request body is too large' }, 413),
    }),
  );
  // The status page has its own sign-in (bearer or Basic, full or read-only): registered before the bearer gate.
  registerStatusPage(app, store, {
    apiKey: deps.apiKey,
    ...(deps.statusPage?.readOnlyKey ? { readOnlyKey: deps.statusPage.readOnlyKey } : {}),
    ...(deps.statusPage?.readOnly ? { readOnly: true } : {}),
  });

  app.use('*', requireBearer(deps.apiKey));
  registerTaskRoutes(app, store);
  registerReplicaRoutes(app, store);
  const metrics = deps.metrics;
  app.get('/metrics', async (c) => {
    if (!metrics) {
      return c.json<ApiErrorBody>(
        { error: 'not-found', message: 'no /metrics here (the Worker keeps no registry)' },
        404,
      );
    }
    const { contentType, body } = await metrics.render();
    return c.body(body, 200, { 'content-type': contentType });
  });

  app.notFound((c) =>
    c.json<ApiErrorBody>({ error: 'not-found', message: `no route ${c.req.method} ${c.req.path}` }, 404),
  );
  app.onError((err, c) => errorResponse(c, err, logger));
  return app;
}

/** The pattern of the route that answered ('unmatched' when none did), e.g. /tasks/:id. */
function matchedRoute(c: Context): string {
  const routes = c.req.matchedRoutes.filter((r) => r.method !== 'ALL' && r.path !== '*' && r.path !== '/*');
  return routes[routes.length - 1]?.path ?? 'unmatched';
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
