/**
 * The Task API on Node: the same Hono app as the Worker, served by @hono/node-server. Used by the CLI's
 * `serve-api` command and by tests (port 0 on 127.0.0.1).
 */
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Logger } from '../observability/logger.js';
import type { TaskStore } from '../pipeline/ports.js';
import { storeOperations } from '../adapters/task-store/operations.js';
import { createTaskApiMetrics, type TaskApiMetrics } from '../observability/metrics-task-api.js';
import { createTaskApiApp } from './app.js';

export interface TaskApiServerOptions {
  store: TaskStore;
  apiKey: string;
  /** 0 picks a free port. */
  port: number;
  host: string;
  logger: Logger;
  /** The status page's read-only credential, or read-only for everyone. */
  statusPage?: { readOnlyKey?: string; readOnly?: boolean };
  /** The registry behind /metrics; default a new one reading the store's live queue at scrape time. */
  metrics?: TaskApiMetrics;
}

/** A listening Task API server. */
export interface TaskApiServer {
  /** http://host:port, without a trailing slash. */
  url: string;
  /** Stop accepting connections and close open ones. Does not close the store (the caller owns it). */
  close(): Promise<void>;
}

/** Start the Task API on `host:port`; resolves once it is listening, rejects when it cannot listen. */
export async function startTaskApiServer(options: TaskApiServerOptions): Promise<TaskApiServer> {
  const logger = options.logger.child({ component: 'task-api' });
  const ops = storeOperations(options.store);
  const metrics =
    options.metrics ??
    createTaskApiMetrics({
      ...(ops ? { ops } : {}),
      onError: (err) => logger.debug({ err }, 'could not read the queue for /metrics'),
    });
  const app = createTaskApiApp({
    store: options.store,
    apiKey: options.apiKey,
    logger,
    metrics,
    ...(options.statusPage ? { statusPage: options.statusPage } : {}),
  });
  const server = createAdaptorServer({ fetch: app.fetch });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'task api server error'));

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info({ url }, 'task api listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive connections would hold close() open until they time out.
        if ('closeAllConnections' in server) server.closeAllConnections();
      }).then(() => logger.info({ url }, 'task api stopped'));
      return closing;
    },
  };
}
