/**
 * One redaction for every edge where outside text enters: error messages an upstream service wrote (they may
 * echo our Authorization header back), log lines, what the store keeps of a failure, /status and `config`.
 *
 * Masked: every configured credential verbatim (tokens, keys, passwords, a GitHub App's private key), then
 * anything shaped like a credential whether or not we know it: Authorization header values (Bearer, token,
 * Basic), user:password in a URL, GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_), JSON Web Tokens,
 * PEM private keys, and `key=value` pairs whose key names a secret. Pure and without Node-only imports: the Task
 * API runs it in a Worker too.
 */

export const REDACTED = '[redacted]';

/** Shapes of credentials, masked wherever they appear. Each keeps what names it (a scheme, a key) readable. */
const SHAPES: ReadonlyArray<readonly [RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
  // A header (or field) that carries a credential: its whole value, scheme included.
  [
    /\b(authorization|x-api-key|api-key|private-token)(["']?\s*[:=]\s*["']?)(?!\[redacted\])(?:(?:bearer|token|basic)\s+)?[^\s"',;}]+/gi,
    `$1$2${REDACTED}`,
  ],
  // An Authorization value: after Bearer anything credential-like; after "token" or "Basic" only what is long
  // enough not to be an English word ("token refused" stays readable).
  [/\b(bearer)(\s+)(?!\[redacted\])[A-Za-z0-9._~+/=-]{6,}/gi, `$1$2${REDACTED}`],
  [/\b(token|basic)(\s+)(?!\[redacted\])(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{16,}/gi, `$1$2${REDACTED}`],
  [/([a-z][a-z0-9+.-]*:\/\/)[^/\s:@"']+:[^/\s@"']*@/gi, `$1${REDACTED}@`],
  [/\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,})\b/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, REDACTED],
  [
    /\b((?:api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret|password|passwd|secret|token)["']?\s*[:=]\s*["']?)(?!\[redacted\])[^\s"',;&}]{4,}/gi,
    `$1${REDACTED}`,
  ],
];

/** Credentials shorter than this are not matched verbatim (a 3-character "token" would mask common words). */
const MIN_SECRET_LENGTH = 6;

export interface Redactor {
  /** Text with every known and every credential-shaped secret masked. */
  text(value: string): string;
  /** A copy of `value` with every string inside masked (objects and arrays walked, depth-bounded). */
  deep<T>(value: T): T;
  /** Learn more credentials (configuration read later, a token minted at run time). */
  add(...secrets: Array<string | undefined>): void;
}

/** A redactor that knows `secrets` (the configured credentials) and every credential shape above. */
export function createRedactor(secrets: ReadonlyArray<string | undefined> = []): Redactor {
  const known = new Set<string>();
  let ordered: string[] = [];
  const add = (...more: Array<string | undefined>): void => {
    for (const secret of more) {
      if (typeof secret !== 'string') continue;
      const trimmed = secret.trim();
      if (trimmed.length >= MIN_SECRET_LENGTH) known.add(trimmed);
      // A URL's password is a credential of its own, wherever it turns up without its URL.
      const password = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:([^/\s@]+)@/i.exec(trimmed)?.[1];
      if (password) {
        const decoded = safeDecode(password);
        for (const p of [password, decoded]) if (p.length >= MIN_SECRET_LENGTH) known.add(p);
      }
    }
    // Longest first: a secret that contains another is masked whole.
    ordered = [...known].sort((a, b) => b.length - a.length);
  };
  add(...secrets);

  const text = (value: string): string => {
    let out = value;
    for (const secret of ordered) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    for (const [pattern, replacement] of SHAPES) out = out.replace(pattern, replacement);
    return out;
  };

  const deep = <T>(value: T): T => walk(value, text, 0) as T;
  return { text, deep, add };
}

function walk(value: unknown, text: (s: string) => string, depth: number): unknown {
  if (typeof value === 'string') return text(value);
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => walk(item, text, depth + 1));
  if (value instanceof Error) {
    const copy: Record<string, unknown> = { name: value.name, message: text(value.message) };
    if (value.stack) copy.stack = text(value.stack);
    for (const [k, v] of Object.entries(value)) copy[k] = walk(v, text, depth + 1);
    return copy;
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) out[key] = walk(v, text, depth + 1);
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
