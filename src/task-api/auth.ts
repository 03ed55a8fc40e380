/**
 * Bearer authentication for the Task API. Both the presented and the expected key are hashed with SHA-256 and
 * the digests compared in constant time, so neither the length nor the first differing byte of the key shows in
 * the response time. Web Crypto only: the same code runs on Node and in a Cloudflare Worker.
 */
import type { MiddlewareHandler } from 'hono';

/** SHA-256 of a UTF-8 string. */
export async function sha256(text: string): Promise<Uint8Array> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return new Uint8Array(digest);
}

/**
 * Compare two byte arrays in time that depends only on their length. Callers pass digests, which always have
 * the same length, so the loop never exits early.
 */
export function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** True when `presented` equals `expected`, compared as SHA-256 digests in constant time. */
export async function keysMatch(presented: string, expected: string): Promise<boolean> {
  const [left, right] = await Promise.all([sha256(presented), sha256(expected)]);
  return timingSafeEqualBytes(left, right);
}

/** The token of an `Authorization: Bearer <token>` header; undefined for anything else. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header);
  return match?.[1];
}

/**
 * Middleware that lets a request through only with the right bearer key. The expected digest is computed
 * once; a refused request gets a JSON 401 with `WWW-Authenticate` and learns nothing about why.
 */
export function requireBearer(apiKey: string): MiddlewareHandler {
  if (apiKey.length === 0) throw new Error('the Task API needs a non-empty API key');
  let expected: Promise<Uint8Array> | undefined;
  return async (c, next) => {
    expected ??= sha256(apiKey);
    const presented = bearerToken(c.req.header('authorization'));
    // Hash even when the header is missing so every refusal costs the same work.
    const digest = await sha256(presented ?? '');
    if (presented === undefined || !timingSafeEqualBytes(digest, await expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="task-api"');
      return c.json({ error: 'unauthorized', message: 'a valid bearer token is required' }, 401);
    }
    await next();
    return undefined;
  };
}
