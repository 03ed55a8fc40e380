/**
 * A loopback TCP proxy that can play a dependency which stops answering: put it between a client and
 * PostgreSQL or Redis, then
 *
 * - `pause()`: keep every socket open but pass no bytes either way (a hung server, a silent network
 *   partition). New connections are accepted and wait too. What arrives meanwhile is held, as TCP would;
 * - `resume()`: deliver what was held and forward again;
 * - `resetAll()`: cut every connection with a TCP reset (a crashed server, a dropped NAT entry);
 * - `close()`: reset everything and stop listening.
 *
 *   const proxy = await startTcpProxy({ target: process.env.DATABASE_URL });
 *   const client = createPostgresClient({ connectionString: proxy.url(process.env.DATABASE_URL) });
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxyOptions {
  /** Where to forward: `{ host, port }`, or a URL such as postgres://u@127.0.0.1:5432/db or redis://127.0.0.1:6379. */
  target: { host: string; port: number } | string;
}

export interface TcpProxy {
  host: string;
  port: number;
  /** `url` with its host and port replaced by the proxy's (credentials, path and query kept). */
  url(original: string): string;
  pause(): void;
  resume(): void;
  resetAll(): void;
  /** Client connections open right now. */
  connections(): number;
  /** Client connections accepted since start. */
  accepted(): number;
  /** Resolves once exactly `count` client connections are open (at once if they already are). */
  waitForConnections(count: number): Promise<void>;
  /** Resolves once the pause holds back bytes from a client: a request is on the wire and nobody will answer it. */
  waitForHeldRequest(): Promise<void>;
  close(): Promise<void>;
}

interface Pipe {
  client: Socket;
  upstream: Socket;
  /** Bytes held while paused, per direction, in arrival order. */
  held: Array<{ to: Socket; chunk: Buffer }>;
}

function parseTarget(target: TcpProxyOptions['target']): { host: string; port: number } {
  if (typeof target !== 'string') return target;
  const url = new URL(target);
  const defaults: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379 };
  return { host: url.hostname || '127.0.0.1', port: url.port ? Number(url.port) : (defaults[url.protocol] ?? 80) };
}

/** Start the proxy on 127.0.0.1 and a free port. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const target = parseTarget(options.target);
  const pipes = new Set<Pipe>();
  let paused = false;
  let accepted = 0;
  const watchers = new Set<{ count: number; resolve: () => void }>();
  const changed = (): void => {
    for (const watcher of [...watchers]) {
      if (pipes.size === watcher.count) {
        watchers.delete(watcher);
        watcher.resolve();
      }
    }
  };

  const heldWatchers = new Set<() => void>();
  const holdsRequest = (): boolean => [...pipes].some((p) => p.held.some(({ to }) => to === p.upstream));

  const forward = (pipe: Pipe, to: Socket, chunk: Buffer): void => {
    if (paused || pipe.held.length > 0) {
      pipe.held.push({ to, chunk });
      if (to === pipe.upstream) {
        for (const resolve of heldWatchers) resolve();
        heldWatchers.clear();
      }
    } else if (!to.destroyed) to.write(chunk);
  };

  const server: Server = createServer((client) => {
    accepted++;
    const upstream = connect(target.port, target.host);
    const pipe: Pipe = { client, upstream, held: [] };
    pipes.add(pipe);
    changed();
    client.on('data', (chunk: Buffer) => forward(pipe, upstream, chunk));
    upstream.on('data', (chunk: Buffer) => forward(pipe, client, chunk));
    const teardown = (): void => {
      if (!pipes.delete(pipe)) return;
      client.destroy();
      upstream.destroy();
      changed();
    };
    // An end or error on either side ends both: the proxy is a wire, not a buffer that outlives its peers.
    for (const socket of [client, upstream]) {
      socket.on('error', teardown);
      socket.on('close', teardown);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const resetAll = (): void => {
    for (const pipe of [...pipes]) {
      pipes.delete(pipe);
      pipe.client.resetAndDestroy();
      pipe.upstream.resetAndDestroy();
    }
    changed();
  };

  return {
    host: '127.0.0.1',
    port,
    url(original: string): string {
      const url = new URL(original);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    pause(): void {
      paused = true;
    },
    resume(): void {
      paused = false;
      for (const pipe of pipes) {
        for (const { to, chunk } of pipe.held.splice(0)) if (!to.destroyed) to.write(chunk);
      }
    },
    resetAll,
    connections: () => pipes.size,
    accepted: () => accepted,
    waitForHeldRequest: () =>
      new Promise<void>((resolve) => {
        if (holdsRequest()) resolve();
        else heldWatchers.add(resolve);
      }),
    waitForConnections: (count) =>
      new Promise<void>((resolve) => {
        if (pipes.size === count) resolve();
        else watchers.add({ count, resolve });
      }),
    async close(): Promise<void> {
      resetAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
