/** The TCP proxy the bound tests rely on, against a loopback echo server. */
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

let echo: Server;
let proxy: TcpProxy;
const received: string[] = [];

beforeAll(async () => {
  echo = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk.toString());
      socket.write(chunk);
    });
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: (echo.address() as AddressInfo).port } });
});
afterAll(async () => {
  await proxy.close();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

async function client(): Promise<Socket> {
  const socket = connect(proxy.port, proxy.host);
  await once(socket, 'connect');
  return socket;
}

const reply = (socket: Socket): Promise<string> => once(socket, 'data').then(([chunk]) => (chunk as Buffer).toString());

describe('startTcpProxy', () => {
  it('forwards, holds everything while paused, and delivers it on resume', async () => {
    const socket = await client();
    socket.write('a');
    expect(await reply(socket)).toBe('a');
    proxy.pause();
    const answer = reply(socket);
    socket.write('b');
    await proxy.waitForHeldRequest();
    expect(received).toEqual(['a']);
    proxy.resume();
    expect(await answer).toBe('b');
    socket.destroy();
    await proxy.waitForConnections(0);
  });

  it('accepts connections while paused and cuts every one on resetAll', async () => {
    proxy.pause();
    const socket = await client();
    await proxy.waitForConnections(1);
    // once() would reject on the reset's 'error'; the close after it is what matters.
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.on('error', () => undefined);
    proxy.resetAll();
    await closed;
    expect(proxy.connections()).toBe(0);
    proxy.resume();
  });

  it('rewrites a URL to point at itself, keeping credentials, path and query', () => {
    expect(proxy.url('postgres://u:p@db.internal:5432/app?sslmode=disable')).toBe(
      `postgres://u:p@127.0.0.1:${proxy.port}/app?sslmode=disable`,
    );
  });
});
