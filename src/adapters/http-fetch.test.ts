import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createHttpFetch } from './http-fetch.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

async function serve(handler: Handler): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => handler(req, body, res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('createHttpFetch', () => {
  it('sends method, headers and body, and answers with status, headers and text as fetch does', async () => {
    const seen: Array<{ method?: string; auth?: string; type?: string; body: string }> = [];
    const url = await serve((req, body, res) => {
      seen.push({ method: req.method, auth: req.headers.authorization, type: req.headers['content-type'], body });
      res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', etag: 'W/"1"', link: '<a>; rel="next"' });
      res.end(JSON.stringify({ id: 12345678901234567890n.toString(), ok: true }));
    });
    const response = await createHttpFetch()(`${url}/repos/a/b/issues/1`, {
      method: 'PATCH',
      headers: { Authorization: 'token x', 'content-type': 'application/json' },
      body: JSON.stringify({ labels: ['a'] }),
    });
    expect(seen).toEqual([{ method: 'PATCH', auth: 'token x', type: 'application/json', body: '{"labels":["a"]}' }]);
    expect(response.status).toBe(201);
    expect(response.url).toBe(`${url}/repos/a/b/issues/1`);
    expect(response.headers.get('ETag')).toBe('W/"1"');
    expect(Object.fromEntries(response.headers)).toMatchObject({ link: '<a>; rel="next"' });
    expect(await response.json()).toEqual({ id: '12345678901234567890', ok: true });
    // The answer, already parsed, for Octokit with parseSuccessResponseBody: false.
    expect((response as unknown as { body: unknown }).body).toEqual({ id: '12345678901234567890', ok: true });
  });

  it('follows redirects, turning a 303 into a GET and leaving the credential behind on another origin', async () => {
    const other = await serve((req, body, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${req.method} ${req.url} auth=${req.headers.authorization ?? 'none'} body=${body}`);
    });
    const url = await serve((req, _body, res) => {
      if (req.url === '/first') res.writeHead(303, { location: '/second' }).end();
      else if (req.url === '/second') res.writeHead(307, { location: `${other}/third` }).end();
      else res.writeHead(500).end();
    });
    const response = await createHttpFetch()(`${url}/first`, {
      method: 'POST',
      headers: { authorization: 'token x' },
      body: 'payload',
    });
    expect(response.redirected).toBe(true);
    expect(response.url).toBe(`${other}/third`);
    expect(await response.text()).toBe('GET /third auth=none body=');
    const manual = await createHttpFetch()(`${url}/first`, { redirect: 'manual' });
    expect(manual.status).toBe(303);
  });

  it("rejects with the signal's reason on abort, and with a TypeError carrying the cause when the network fails", async () => {
    const url = await serve(() => undefined); // never answers
    const controller = new AbortController();
    const pending = createHttpFetch()(`${url}/hang`, { signal: controller.signal });
    const reason = new Error('shutting down');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await expect(createHttpFetch()(`${url}/x`, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });

    const closed = await serve((req) => req.socket.destroy());
    const failure = await createHttpFetch()(`${closed}/x`).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(TypeError);
    expect((failure as { cause?: { code?: string } }).cause?.code).toBe('ECONNRESET');
  });
});

describe('keep-alive sockets', () => {
  it("closes an idle socket before the server's announced keep-alive timeout, as Node's own global agent does", async () => {
    // A server drops an idle connection after its keep-alive timeout; a client that sends on it just then reads
    // ECONNRESET, and a run creation that fails so is not retried inline (it may not be sent twice). The server
    // says its timeout (Keep-Alive: timeout=2); the client must close first (Node: 1 s before the hint), which
    // Node does only for an agent that has a socket timeout of its own. Seen: create-run ECONNRESET in replicas.e2e.
    const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      req.resume();
      req.on('end', () =>
        res.writeHead(200, { 'content-type': 'application/json', 'keep-alive': 'timeout=2' }).end('{}'),
      );
    });
    servers.push(server);
    const clientClosed = new Promise<'client closed'>((resolve) =>
      server.on('connection', (socket) => socket.on('end', () => resolve('client closed'))),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    expect((await createHttpFetch()(url)).status).toBe(200);
    // Only a hang detector: the client closes after about 1 s; without its own timeout it never does.
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'still open'>((resolve) => (timer = setTimeout(() => resolve('still open'), 20_000)));
    expect(await Promise.race([clientClosed, hang])).toBe('client closed');
    clearTimeout(timer);
  }, 30_000);
});
