/**
 * The owner serving its store to other local processes: the Task API app (src/task-api/app.ts, used as it is)
 * on 127.0.0.1 and a random port, behind a random bearer key that lives only in `<dataDir>/owner.json` (mode
 * 0600). A second daemon, `codegen-pr task-api` or the CLI reach the store through it and get the same answers
 * as the owner itself, because the same store object serves both.
 *
 * One route is added beside the Task API's: POST /owner/tasks adds a whole batch in one transaction, however
 * large (the public API takes 500 tasks and 1 MiB per request), so `tasks add --file` with thousands of tasks
 * stays all-or-nothing through the owner as it is without one.
 */
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from '../../observability/logger.js';
import type { TaskStore } from '../../pipeline/ports.js';
import { createTaskApiApp } from '../../task-api/app.js';
import { requireBearer } from '../../task-api/auth.js';
import { errorResponse, validationResponse } from '../../task-api/http-errors.js';
import { newOwnerToken, removeOwnerEndpoint, writeOwnerEndpoint, type OwnerRole } from './endpoint.js';

/** The path of the bulk add route. */
export const BULK_ADD_PATH = '/owner/tasks';

/** Largest bulk add body: about 100,000 small tasks. */
const BULK_MAX_BYTES = 64 * 1024 * 1024;

export interface ServeStoreOptions {
  store: TaskStore;
  dataDir: string;
  role: OwnerRole;
  logger: Logger;
  /** When the lock was taken (ISO), for owner.json. */
  since: string;
}

export interface StoreServer {
  url: string;
  /** Stop serving and remove owner.json. Does not close the store. */
  close(): Promise<void>;
}

function bulkAddApp(store: TaskStore, token: string, logger: Logger): Hono {
  const app = new Hono();
  app.use('*', requireBearer(token));
  app.use('*', bodyLimit({ maxSize: BULK_MAX_BYTES }));
  app.post(BULK_ADD_PATH, async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return validationResponse(c, [{ field: 'body', message: 'is not valid JSON' }]);
    }
    const { tasks, actor } = (body ?? {}) as { tasks?: unknown; actor?: unknown };
    if (!Array.isArray(tasks)) return validationResponse(c, [{ field: 'tasks', message: 'must be an array' }]);
    if (actor !== undefined && (typeof actor !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(actor))) {
      return validationResponse(c, [{ field: 'actor', message: 'must be 1 to 200 printable characters' }]);
    }
    // The store validates every task and names the field of each problem (tasks[i].title ...).
    return c.json({ tasks: await store.addTasks(tasks, actor ?? 'api') }, 201);
  });
  app.onError((err, c) => errorResponse(c, err, logger));
  return app;
}

/** Serve `store` on loopback and publish the endpoint in owner.json. */
export async function serveStore(options: ServeStoreOptions): Promise<StoreServer> {
  const logger = options.logger.child({ component: 'store-owner' });
  const token = newOwnerToken();
  const api = createTaskApiApp({ store: options.store, apiKey: token, logger });
  const bulk = bulkAddApp(options.store, token, logger);
  const server = createAdaptorServer({
    fetch: (request: Request) => (new URL(request.url).pathname === BULK_ADD_PATH ? bulk : api).fetch(request),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'store server error'));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeOwnerEndpoint(options.dataDir, { pid: process.pid, role: options.role, since: options.since, url, token });

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        // First, so no one is sent to a server that is going away.
        removeOwnerEndpoint(options.dataDir);
        server.close(() => resolve());
        // Keep-alive connections of clients would hold close() open until they time out.
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      return closing;
    },
  };
}
