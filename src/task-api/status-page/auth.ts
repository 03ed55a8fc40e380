/**
 * Who may see the status page and who may act on it. Accepted: `Authorization: Bearer <key>` or Basic with the
 * key as password (browsers ask for Basic; the user name is recorded as who acted). The Task API key may act
 * (retry, cancel, pause and resume intake) unless the page is read-only; the read-only key may only look.
 * Keys are compared as SHA-256 digests in constant time (auth.ts). Web Crypto only: runs in the Worker too.
 */
import { bearerToken, keysMatch } from '../auth.js';

export interface StatusAuthOptions {
  /** The Task API key: full access. */
  apiKey: string;
  /** A second credential that may only look. Empty: none. */
  readOnlyKey?: string;
  /** Nobody may act from the page, whatever the credential. */
  readOnly?: boolean;
}

export interface Access {
  /** Recorded in history as who acted: `status-page:<user>` (Basic) or `status-page` (bearer). */
  actor: string;
  canWrite: boolean;
}

/** A Basic user name fit for the history: printable, short, and never an email address (its domain is cut). */
export function actorName(user: string): string {
  const local = user.split('@')[0] ?? '';
  const clean = local.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 64);
  return clean ? `status-page:${clean}` : 'status-page';
}

function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic[ ]+([A-Za-z0-9+/=]+)[ ]*$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  let decoded: string;
  try {
    decoded = new TextDecoder().decode(Uint8Array.from(atob(match[1]), (ch) => ch.charCodeAt(0)));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The access an Authorization header grants, or undefined (refuse with 401). */
export async function authenticate(
  header: string | undefined,
  options: StatusAuthOptions,
): Promise<Access | undefined> {
  const bearer = bearerToken(header);
  const basic = bearer === undefined ? basicCredentials(header) : undefined;
  const presented = bearer ?? basic?.password;
  if (presented === undefined || presented === '') return undefined;
  const actor = basic ? actorName(basic.user) : 'status-page';
  // Both comparisons always run, so the time does not tell which key (if any) matched.
  const [full, readOnly] = await Promise.all([
    keysMatch(presented, options.apiKey),
    options.readOnlyKey ? keysMatch(presented, options.readOnlyKey) : Promise.resolve(false),
  ]);
  if (full) return { actor, canWrite: options.readOnly !== true };
  if (readOnly) return { actor, canWrite: false };
  return undefined;
}
