/**
 * Make what the daemon writes fit what the Task API accepts (TASK_API_LIMITS), so a write is never refused for
 * its size or characters. A refused failTask would leave the task to cycle until "lease expired" with its real
 * reason lost; a refused claim would leave the daemon idle for ever. Text is cut (never mid surrogate pair) and
 * NUL or unpaired surrogates become U+FFFD; claim sizes and leases are clamped into range.
 */
import { jsonDepth } from '../../domain/json-value.js';
import { TASK_API_LIMITS as API } from '../../domain/task-limits.js';
import type { TaskError } from '../../domain/task.js';
import { escapeForTerminal, toStorableText, truncateText } from '../../domain/task-text.js';

/** `value` clamped into `[range.min, range.max]`; a non-number becomes the minimum. */
export function clampToRange(value: number, range: { min: number; max: number }): number {
  if (!Number.isFinite(value)) return range.min;
  return Math.min(range.max, Math.max(range.min, Math.round(value)));
}

/** Multi-line text (an error message, a note): storable, non-blank, at most `max`. */
export function fitText(text: string, max: number, fallback = '(no message)'): string {
  const storable = toStorableText(text);
  const cut = truncateText(storable, max, ` ... [cut from ${storable.length} characters]`);
  return cut.trim() === '' ? fallback : cut;
}

/** One-line text (a code, a category): control characters made visible, then cut. */
function fitLine(text: string, max: number, fallback: string): string {
  return fitText(escapeForTerminal(toStorableText(text)), max, fallback);
}

/** A failure as the API accepts it: category, code and message within their caps. */
export function fitError(error: TaskError): TaskError {
  return {
    category: fitLine(String(error.category), API.errorCategoryMax, 'unknown'),
    code: fitLine(String(error.code), API.errorCodeMax, 'unknown'),
    message: fitText(String(error.message), API.errorMessageMax),
  };
}

const TOO_DEEP = '[nested too deep]';
const HTTP_URL = /^https?:\/\/\S+$/;

/** An agent run URL the API accepts, or undefined (the URL is optional; the run id is what matters). */
export function fitUrl(url: string | undefined): string | undefined {
  if (url === undefined || url.length > API.urlMax || !HTTP_URL.test(url)) return undefined;
  return escapeForTerminal(url) === url ? url : undefined;
}

/** A copy with storable keys and strings, strings cut to `maxString`, containers below `depthLeft` replaced. */
function copyFitted(value: unknown, maxString: number, depthLeft: number): unknown {
  if (typeof value === 'string') return truncateText(toStorableText(value), maxString);
  if (typeof value !== 'object' || value === null) return value;
  if (depthLeft <= 0) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((v) => copyFitted(v, maxString, depthLeft - 1));
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[toStorableText(key)] = copyFitted(child, maxString, depthLeft - 1);
  }
  return out;
}

/**
 * A feedback entry within the API's size and depth caps. Already fitting entries are returned as they are;
 * otherwise strings are cut ever shorter until the entry fits, and as a last resort it is replaced by a note.
 */
export function fitFeedback(feedback: Record<string, unknown>): Record<string, unknown> {
  const depthMax = API.feedbackDepthMax;
  // jsonDepth is iterative, so an entry nested thousands deep is measured without recursing.
  const tooDeep = jsonDepth(feedback, depthMax) > depthMax;
  if (!tooDeep) {
    const fitted = copyFitted(feedback, Number.MAX_SAFE_INTEGER, depthMax) as Record<string, unknown>;
    if (JSON.stringify(fitted).length <= API.feedbackMax) return fitted;
  }
  for (let maxString = 4_096; maxString >= 64; maxString = Math.floor(maxString / 2)) {
    const fitted = copyFitted(feedback, maxString, depthMax) as Record<string, unknown>;
    if (JSON.stringify(fitted).length <= API.feedbackMax) return fitted;
  }
  const keys = Object.keys(feedback)
    .slice(0, 50)
    .map((key) => truncateText(toStorableText(key), 100));
  return { note: 'feedback too large for the Task API; it was not recorded', keys };
}
