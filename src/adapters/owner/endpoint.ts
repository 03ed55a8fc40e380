/**
 * `<dataDir>/owner.json`: who owns the data directory and, when it serves the store, where and with which key.
 * Written by the owner right after it takes the lock (replacing whatever a dead owner left), readable by the user
 * only (mode 0600: it holds the bearer key), replaced atomically (write a temporary file, then rename), and
 * removed when the owner closes. The file is advice: the lock says whether an owner lives, the file says how to
 * reach it, and a stale file is recognised because its endpoint does not answer to its key.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const ENDPOINT_FILE_NAME = 'owner.json';

/** What kind of process owns the directory. */
export type OwnerRole = 'daemon' | 'task-api' | 'cli' | 'library';

/** The contents of owner.json. */
export interface OwnerEndpoint {
  pid: number;
  role: OwnerRole;
  /** When the owner took the lock (ISO). */
  since: string;
  /** Loopback base URL of the store, when the owner serves it. */
  url?: string;
  /** Bearer key for `url`. Never logged. */
  token?: string;
}

/** A fresh bearer key for one owner's life. */
export function newOwnerToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Write owner.json for this owner (readable by the user only). */
export function writeOwnerEndpoint(dataDir: string, endpoint: OwnerEndpoint): void {
  const file = path.join(dataDir, ENDPOINT_FILE_NAME);
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(endpoint)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

/** Remove owner.json (when the owner closes, or a new owner finds a dead one's). */
export function removeOwnerEndpoint(dataDir: string): void {
  rmSync(path.join(dataDir, ENDPOINT_FILE_NAME), { force: true });
}

/** Read owner.json; undefined when it is missing or not what an owner writes. */
export function readOwnerEndpoint(dataDir: string): OwnerEndpoint | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(dataDir, ENDPOINT_FILE_NAME), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<OwnerEndpoint> | null;
    if (!value || typeof value.pid !== 'number' || typeof value.role !== 'string') return undefined;
    const endpoint: OwnerEndpoint = { pid: value.pid, role: value.role, since: String(value.since ?? '') };
    if (typeof value.url === 'string' && typeof value.token === 'string') {
      // Only ever a loopback URL: a tampered file must not send the store's traffic elsewhere.
      if (!/^http:\/\/127\.0\.0\.1:\d{1,5}$/.test(value.url)) return undefined;
      endpoint.url = value.url;
      endpoint.token = value.token;
    }
    return endpoint;
  } catch {
    // Half-written by a process that died mid-write (the rename makes this unlikely) or edited by hand.
    return undefined;
  }
}
