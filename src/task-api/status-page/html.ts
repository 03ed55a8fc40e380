/**
 * HTML building blocks of the status page: every value goes through `t()` (secrets masked by the redactor,
 * email addresses masked, then HTML-escaped), links only to http(s) URLs, and one small stylesheet inline.
 * No front-end build, no script: forms post and the server redirects.
 */
import type { Redactor } from '../../domain/redact.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

/** Text helpers bound to a redactor. */
export function textKit(redactor: Redactor) {
  /** A value as safe HTML text. */
  const t = (value: unknown): string => {
    const raw = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
    return escapeHtml(redactor.text(raw).replace(EMAIL, '[email]'));
  };
  /** A link when `url` is http(s), else the text alone. */
  const link = (url: string | undefined, label: string): string => {
    if (!url) return '';
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(url).protocol);
    } catch {
      ok = false;
    }
    return ok ? `<a href="${t(url)}" rel="noopener noreferrer">${t(label)}</a>` : t(label);
  };
  return { t, link };
}

/** "3 min", "2 h 5 min", "4 d 1 h" for a number of seconds. */
export function ago(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}th{background:#f3f3f3}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}.muted{color:#777}.bad{color:#b00}form{display:inline}
code{font-size:12px}.banner{background:#fff3cd;padding:.5em;border:1px solid #e0c36c}`;

/** A whole page. `title` and `body` must already be safe HTML. */
export function page(title: string, body: string, readOnly: boolean): string {
  const banner = readOnly ? '<p class="banner">Read-only: actions are not available with this credential.</p>' : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>${STYLE}</style></head>
<body><p><a href="/status">codegen-pr status</a></p>${banner}${body}</body></html>`;
}

/** A table from safe HTML cells; an empty list says so. */
export function table(headers: string[], rows: string[][], empty = 'None.'): string {
  if (rows.length === 0) return `<p class="muted">${empty}</p>`;
  const head = headers.map((h) => `<th>${h}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A button that posts to `action` (no body besides an optional hidden field). */
export function button(action: string, label: string, hidden: Record<string, string> = {}): string {
  const fields = Object.entries(hidden)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('');
  return `<form method="post" action="${escapeHtml(action)}">${fields}<button type="submit">${escapeHtml(label)}</button></form>`;
}
