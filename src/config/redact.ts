/**
 * Making configuration safe to print (`codegen-pr config`, /status): secrets masked, and credentials inside
 * URLs (user:password, token query parameters) masked while the rest of the URL stays readable.
 */
import type { AppConfig } from './load.js';
import { schemaLeaves, valueAt } from './validate.js';

export const REDACTED = '[redacted]';

/** Query parameters whose values are credentials (postgres ?password=, presigned ?sig=, ?access_token=). */
const SECRET_PARAM = /pass|pwd|secret|token|key|auth|sig|credential/i;

/** Formats whose values are URLs and may carry credentials. */
const URL_FORMATS = new Set(['http-url', 'optional-url', 'postgres-url', 'redis-url', 'task-url-template']);

/**
 * `value` with any user-info replaced by [redacted] and secret-looking query values masked. Text that is not
 * a URL is returned with anything shaped like "scheme://user:pass@" masked, so nothing slips through.
 */
export function redactUrl(value: string): string {
  if (value === '') return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/\s@]*@/g, `$1${REDACTED}@`);
  }
  const params = [...url.searchParams.keys()];
  const hasUserInfo = url.username !== '' || url.password !== '';
  // Nothing to mask: keep the text as written rather than URL's normalised form.
  if (!hasUserInfo && !params.some((name) => SECRET_PARAM.test(name))) return value;
  const userInfo = hasUserInfo ? `${REDACTED}@` : '';
  let search = url.search;
  if (params.some((name) => SECRET_PARAM.test(name))) {
    search = `?${params
      .map((name, i) => {
        const shown = SECRET_PARAM.test(name) ? REDACTED : ([...url.searchParams.values()][i] ?? '');
        return `${encodeURIComponent(name)}=${shown === REDACTED ? shown : encodeURIComponent(shown)}`;
      })
      .join('&')}`;
  }
  // Built by hand: URL's own setters would percent-encode the brackets of the marker.
  return `${url.protocol}//${userInfo}${url.host}${url.pathname}${search}${url.hash}`;
}

function setAt(object: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  const last = parts.pop() as string;
  let node = object;
  for (const part of parts) node = node[part] as Record<string, unknown>;
  node[last] = value;
}

/** A copy of the configuration safe to print: every sensitive value masked, URL credentials masked. */
export function redactConfig(config: AppConfig): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  for (const { key, spec } of schemaLeaves()) {
    const value = valueAt(copy, key);
    if (typeof value !== 'string' || value === '') continue;
    const isUrl = typeof spec.format === 'string' && URL_FORMATS.has(spec.format);
    const secret = spec.sensitive === true;
    // A secret that does not parse as a URL cannot be masked piece by piece: hide it whole.
    if (isUrl && (!secret || URL.canParse(value))) setAt(copy, key, redactUrl(value));
    else if (secret) setAt(copy, key, REDACTED);
  }
  return copy;
}

/**
 * Every credential the configuration holds, for the redactor that masks them wherever outside text enters
 * (src/domain/redact.ts): the sensitive keys' values and the URLs that may carry user-info.
 */
export function configuredSecrets(config: AppConfig): string[] {
  const out: string[] = [];
  for (const { key, spec } of schemaLeaves()) {
    const value = valueAt(config as unknown as Record<string, unknown>, key);
    if (typeof value !== 'string' || value === '') continue;
    const isUrl = typeof spec.format === 'string' && URL_FORMATS.has(spec.format);
    if (spec.sensitive === true || isUrl) out.push(value);
  }
  return out;
}
