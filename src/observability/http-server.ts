/**
 * The daemon's own HTTP endpoint: /metrics for Prometheus, /healthz (alive), /readyz (ready to take work:
 * initialized, the task store answers, not shutting down) and /status (the redacted getStatus()).
 *
 * /status and /metrics describe the deployment (repositories, task ids, error texts, volumes): with a token
 * configured they need "Authorization: Bearer <token>", compared in constant time. /healthz and /readyz say
 * only ok or not, and stay open for orchestrators' probes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

export interface HttpServerDeps {
  registry: Registry;
  /** Resolves with the reasons the daemon is not ready (empty: ready). */
  readiness: () => Promise<string[]>;
  status: () => unknown;
  logger: Logger;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startHttpServer(
  deps: HttpServerDeps,
  options: { port: number; host: string; authToken?: string },
): Promise<RunningHttpServer> {
  const authorized = bearerCheck(options.authToken);
  const server = http.createServer((req, res) => {
    void handle(req, res, deps, authorized).catch((err: unknown) => {
      deps.logger.error({ err, url: req.url }, 'status endpoint failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal error' }));
    });
  });
  // Prometheus scrapes keep connections open; they must not hold shutdown back.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Whether a request may read /status and /metrics: always without a token, else with the right bearer. */
function bearerCheck(token: string | undefined): (req: http.IncomingMessage) => boolean {
  if (!token) return () => true;
  // Hash both sides: timingSafeEqual needs equal lengths, and the length of the token must not leak either.
  const want = createHash('sha256').update(token).digest();
  return (req) => {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const got = createHash('sha256')
      .update(match?.[1] ?? '')
      .digest();
    return match !== null && timingSafeEqual(got, want);
  };
}

async function handle(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  deps: HttpServerDeps,
  authorized: (req: http.IncomingMessage) => boolean,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'method not allowed' }));
    return;
  }
  if ((path === '/status' || path === '/metrics') && !authorized(req)) {
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="codegen-pr"' });
    res.end(JSON.stringify({ error: 'a bearer token is required (STATUS_TOKEN)' }));
    return;
  }
  switch (path) {
    case '/metrics': {
      const body = await deps.registry.metrics();
      res.writeHead(200, { 'content-type': deps.registry.contentType });
      res.end(body);
      return;
    }
    case '/healthz':
      json(res, 200, { status: 'ok' });
      return;
    case '/readyz': {
      const reasons = await deps.readiness();
      json(
        res,
        reasons.length === 0 ? 200 : 503,
        reasons.length === 0 ? { status: 'ready' } : { status: 'not ready', reasons },
      );
      return;
    }
    case '/status':
      json(res, 200, deps.status());
      return;
    default:
      json(res, 404, { error: 'not found', endpoints: ['/metrics', '/healthz', '/readyz', '/status'] });
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
