/**
 * A loopback HTTP proxy that puts faults between the daemon and one of its dependencies (the Codegen fake, the
 * GitHub fake, the Task API), at a rate, from a seeded random source so a failing run can be replayed:
 *
 * - status-500 / status-502 / status-503: answered at once, the request never reaches the service;
 * - rate-limit: 429 with Retry-After; secondary-limit: GitHub's 403 "secondary rate limit" with Retry-After;
 * - reset: the connection is destroyed without an answer;
 * - timeout: no answer at all until the client gives up;
 * - lost-answer: the request IS carried out by the service, and the answer is then dropped (the fault that
 *   makes a non-idempotent create dangerous);
 * - slow-body: the service's answer arrives in small pieces with pauses between them;
 * - malformed-json: the service's answer (request carried out) arrives with a 200 and a truncated body;
 * - echo-credentials: a 500 whose body quotes the request's headers back, Authorization included, in every
 *   field an error reader looks at (as some proxies and misconfigured servers do). Not in the default draw.
 *
 * It also keeps the daemon honest about Retry-After: a request for the same method and path that arrives
 * inside a window the proxy asked for is recorded in `violations`, unless it arrived within `graceMs` of the
 * 429 (it was already on its way, sent by a concurrent caller before the answer could reach the client).
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readBody } from './http-body.js';

export const FAULT_KINDS = [
  'status-500',
  'status-502',
  'status-503',
  'rate-limit',
  'secondary-limit',
  'reset',
  'timeout',
  'lost-answer',
  'slow-body',
  'malformed-json',
  'echo-credentials',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultProxyOptions {
  /** Base URL of the service, e.g. the Codegen fake's url. */
  target: string;
  /** Share of requests that get a fault, 0..1. */
  rate: number;
  /** Which faults to draw from (evenly). Default: all but secondary-limit. */
  kinds?: readonly FaultKind[];
  /** Seed of the fault draw. */
  seed?: number;
  /** Retry-After of rate-limit faults, in seconds. Default 2. */
  retryAfterS?: number;
  /** Requests arriving this soon after the 429 were already on their way: not violations. Default 500 ms. */
  graceMs?: number;
  /** Status of echo-credentials answers. Default 500 (a 4xx is not retried: its text reaches the caller). */
  echoStatus?: number;
  /** Requests that never get a fault (a probe path, say), by path prefix. */
  spare?: (method: string, path: string) => boolean;
}

export interface FaultProxy {
  url: string;
  /** Faults injected so far, by kind. */
  injected: Record<FaultKind, number>;
  requests: number;
  /** Requests that came back inside a Retry-After window given for the same method and path. */
  violations: string[];
  /** Stop injecting (everything is forwarded as is). */
  setRate(rate: number): void;
  close(): Promise<void>;
}

/** mulberry32: small, seeded, good enough to spread faults. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const random = seeded(options.seed ?? 1);
  const kinds = options.kinds ?? FAULT_KINDS.filter((k) => k !== 'secondary-limit' && k !== 'echo-credentials');
  const retryAfterS = options.retryAfterS ?? 2;
  const graceMs = options.graceMs ?? 500;
  let rate = options.rate;
  /** method+path -> when its window was given and until when it lasts. */
  const windows = new Map<string, { from: number; until: number }>();
  const sockets = new Set<Socket>();
  const hung = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  const proxy: FaultProxy = {
    url: '',
    injected: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
    requests: 0,
    violations: [],
    setRate: (next) => (rate = next),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const res of hung) res.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  /** Forward to the service; resolves with its status, headers and body. */
  function forward(req: IncomingMessage, body: string) {
    return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>(
      (resolve, reject) => {
        const out = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, host: target.host },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
            );
            res.on('error', reject);
          },
        );
        out.on('error', reject);
        out.end(body);
      },
    );
  }

  /**
   * A Retry-After window opens when its answer was written out to a client still waiting for it: an answer the
   * client had already given up on (it timed out while this loaded process was slow to reply) asked nothing.
   */
  const openWindowWhenDelivered = (res: ServerResponse, key: string): void => {
    res.on('finish', () => {
      if (res.socket?.destroyed) return;
      windows.set(key, { from: Date.now(), until: Date.now() + retryAfterS * 1000 });
    });
  };

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const key = `${method} ${path}`;
    proxy.requests += 1;
    const window = windows.get(key);
    const now = Date.now();
    if (window && now > window.from + graceMs && now < window.until) {
      proxy.violations.push(`${key} came back ${window.until - now} ms inside its Retry-After window`);
    }
    const spared = options.spare?.(method, path) ?? false;
    const kind = !spared && random() < rate ? kinds[Math.floor(random() * kinds.length)] : undefined;
    if (kind) proxy.injected[kind] += 1;
    const json = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    switch (kind) {
      case 'status-500':
      case 'status-502':
      case 'status-503': {
        const status = Number(kind.slice(-3));
        return json(status, { message: `injected ${status}`, status_code: status });
      }
      case 'rate-limit':
        openWindowWhenDelivered(res, key);
        return json(
          429,
          { message: 'Rate limit exceeded. Please try again later.', status_code: 429 },
          {
            'retry-after': String(retryAfterS),
          },
        );
      case 'secondary-limit':
        openWindowWhenDelivered(res, key);
        return json(
          403,
          { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' },
          { 'retry-after': String(retryAfterS) },
        );
      case 'reset':
        req.socket.destroy();
        return;
      case 'echo-credentials': {
        const said = `upstream failed for ${method} ${path} with headers ${JSON.stringify(req.headers)}; authorization was ${String(req.headers.authorization)}`;
        const status = options.echoStatus ?? 500;
        return json(status, { message: said, detail: said, error: said, status_code: status, headers: req.headers });
      }
      case 'timeout':
        hung.add(res);
        res.on('close', () => hung.delete(res));
        return;
      default:
        break;
    }
    const answer = await forward(req, body);
    const headers = { ...answer.headers };
    delete headers['content-length'];
    delete headers['transfer-encoding'];
    switch (kind) {
      case 'lost-answer':
        req.socket.destroy();
        return;
      case 'malformed-json':
        res.writeHead(200, { ...headers, 'content-type': 'application/json' });
        res.end(answer.body.subarray(0, Math.max(1, Math.floor(answer.body.length / 2))));
        return;
      case 'slow-body': {
        res.writeHead(answer.status, headers);
        const pieces = Math.min(5, Math.max(1, answer.body.length));
        const size = Math.ceil(answer.body.length / pieces);
        for (let i = 0; i < pieces; i++) {
          later(i * 40, () => res.write(answer.body.subarray(i * size, (i + 1) * size)));
        }
        later(pieces * 40, () => res.end());
        return;
      }
      default:
        res.writeHead(answer.status, headers);
        res.end(answer.body);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname.replace(/\/$/, '')}`;
  return proxy;
}
