/**
 * The `fetch` the daemon sends GitHub requests (through Octokit) and Codegen requests through: node:http(s) with
 * keep-alive, instead of the global fetch (undici's WHATWG layer of web streams, Request and Response objects,
 * which costs several times the CPU of node:http for each small JSON request: a daemon finishing PRs spent most of
 * its GitHub time there) or got (about 0.35 ms more CPU per request than node:http here, for options, hooks and
 * streams the Codegen adapter does not use).
 *
 * It covers what @octokit/request asks of a fetch: method, string or byte body, headers, an AbortSignal and
 * the redirect mode; it answers with the parts of a Response Octokit reads (status, statusText, url, headers,
 * text(), arrayBuffer(), json()). It behaves as fetch does where callers can tell: redirects are followed (up to
 * 20; 301/302 turn a POST into a GET and 303 anything but HEAD, dropping the body; an Authorization header is not
 * carried to another origin), an abort rejects with the signal's reason, and a network failure rejects with a
 * TypeError whose cause is the system error (ECONNRESET, ECONNREFUSED, ...), which is how Octokit and our
 * classifier read it. A body it cannot send itself (a stream) goes through the global fetch instead.
 *
 * One deliberate difference: a Response's `body` is a stream, here it is the answer already read, parsed with
 * JSON.parse when it is JSON, else the text. createOctokit turns Octokit's own parsing of successful answers
 * off (parseSuccessResponseBody: false, so Octokit hands over `body` as the data), because Octokit parses with
 * a pure-JS BigInt-aware parser that costs several times JSON.parse on a pull request's JSON; GitHub's ids and
 * numbers fit a double. Errors and 304s are still read by Octokit through text().
 */
import http from 'node:http';
import https from 'node:https';

type FetchInput = Parameters<typeof fetch>[0];
type FetchInit = NonNullable<Parameters<typeof fetch>[1]>;

/** The part of a Response @octokit/request reads. */
export interface LeanResponse {
  status: number;
  statusText: string;
  url: string;
  ok: boolean;
  redirected: boolean;
  headers: Headers;
  /** The answer, read: parsed JSON for a JSON content type, else text (see the module comment). */
  readonly body: unknown;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface HttpFetchOptions {
  /** Most sockets per host (Octokit's own bound keeps 10 requests in flight). Default 16. */
  maxSockets?: number;
}

const MAX_REDIRECTS = 20;
/** How long an idle keep-alive socket is kept when the server announces no shorter timeout (Node's default). */
const IDLE_SOCKET_TIMEOUT_MS = 5_000;

/** A fetch over node:http(s) for Octokit's `request.fetch` option (see the module comment). */
export function createHttpFetch(options: HttpFetchOptions = {}): typeof fetch {
  // As Node's own global agent: keep-alive, the most recently used socket first, and a socket timeout. Node closes
  // an idle socket 1 s before the timeout a server announces (Keep-Alive: timeout=N) only for an agent that has a
  // timeout of its own; without one an idle socket stayed open until the server dropped it, and a request sent on
  // it just then read ECONNRESET (a run creation failed so, which is not retried inline). The timeout closes only
  // idle sockets: a request in progress is bounded by its caller's signal, not by this.
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets ?? 16,
    scheduling: 'lifo' as const,
    timeout: IDLE_SOCKET_TIMEOUT_MS,
  };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

  const send = (
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
    signal: AbortSignal | null | undefined,
  ): Promise<{ res: http.IncomingMessage; data: Buffer }> =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const transport = url.protocol === 'https:' ? https : http;
      const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
      const outgoing = { ...headers };
      if (body !== undefined) outgoing['content-length'] = String(Buffer.byteLength(body));
      const req = transport.request(url, { method, headers: outgoing, agent });
      const onAbort = () => {
        reject(abortReason(signal));
        req.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      req.on('error', (err) => {
        done();
        reject(signal?.aborted ? abortReason(signal) : networkError(err));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err) => {
          done();
          reject(signal?.aborted ? abortReason(signal) : networkError(err));
        });
        res.on('end', () => {
          done();
          resolve({ res, data: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) });
        });
      });
      req.end(body);
    });

  const leanFetch = async (input: FetchInput, init: FetchInit = {}): Promise<LeanResponse> => {
    const rawBody = init.body ?? undefined;
    const plainBody = rawBody === undefined || typeof rawBody === 'string' || rawBody instanceof Uint8Array;
    const plainInput = typeof input === 'string' || input instanceof URL;
    if (!plainBody || !plainInput) {
      // Streams, forms, Request objects: not what Octokit sends for GitHub's JSON API; fetch knows them.
      const response = await fetch(input, init);
      const data = Buffer.from(await response.arrayBuffer());
      return leanResponse(response, data, response.url, response.redirected);
    }
    let url = new URL(String(input));
    let method = (init.method ?? 'GET').toUpperCase();
    let body = rawBody as string | Uint8Array | undefined;
    const headers = plainHeaders(init.headers);
    for (let redirects = 0; ; redirects++) {
      const { res, data } = await send(url, method, headers, body, init.signal);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (init.redirect !== 'manual' && [301, 302, 303, 307, 308].includes(status) && location) {
        if (init.redirect === 'error' || redirects >= MAX_REDIRECTS) {
          throw networkError(new Error(`redirect ${status} to ${location} not followed`));
        }
        const next = new URL(location, url);
        if (next.origin !== url.origin) {
          delete headers.authorization;
          delete headers.Authorization;
        }
        if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
          delete headers['content-type'];
        }
        url = next;
        continue;
      }
      const responseHeaders = new Headers();
      const raw = res.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i] as string, raw[i + 1] as string);
      const head = { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: responseHeaders };
      return leanResponse(head, data, url.href, redirects > 0);
    }
  };
  return leanFetch as unknown as typeof fetch;
}

function leanResponse(
  head: { status: number; statusText: string; headers: Headers },
  data: Buffer,
  url: string,
  redirected: boolean,
): LeanResponse {
  const { status, statusText, headers } = head;
  const text = () => data.toString('utf8');
  const isJson = /^application\/(?:[\w.+-]*\+)?json\b/i.test(headers.get('content-type') ?? '');
  let parsed: { value: unknown } | undefined;
  return {
    status,
    statusText,
    url,
    ok: status >= 200 && status < 300,
    redirected,
    headers,
    get body() {
      if (!parsed) {
        const body = text();
        try {
          parsed = { value: isJson && body.length > 0 ? (JSON.parse(body) as unknown) : body };
        } catch {
          parsed = { value: body };
        }
      }
      return parsed.value;
    },
    text: async () => text(),
    json: async () => JSON.parse(text()) as unknown,
    arrayBuffer: async () => data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
  };
}

/** Headers as a plain object with lower-case names, from any form fetch accepts. */
function plainHeaders(init: FetchInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!init) return out;
  const entries =
    init instanceof Headers ? [...init.entries()] : Array.isArray(init) ? init : Object.entries(init as object);
  for (const [name, value] of entries as Array<[string, unknown]>) out[name.toLowerCase()] = String(value);
  return out;
}

/** What fetch rejects with on abort: the signal's reason, or an AbortError. */
function abortReason(signal: AbortSignal | null | undefined): unknown {
  return signal?.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** What fetch rejects with when the network fails: a TypeError carrying the system error as its cause. */
function networkError(cause: Error): TypeError {
  return Object.assign(new TypeError('fetch failed'), { cause });
}
