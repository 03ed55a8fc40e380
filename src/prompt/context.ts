/**
 * What of a task's free-form `context` goes into its prompt. Pure and deterministic.
 *
 * task.context may carry `files`, `relatedFiles`, `dependencies`, `acceptanceCriteria` and `links` (camelCase or
 * snake_case), each a list of strings or objects, or a single string; any other key (not starting with `_`) is
 * shown under "other context". Every item is one line, cleaned of control and bidi characters (untrusted.ts);
 * the prompt generator fences it. The include* flags drop whole kinds. Everything kept must fit in
 * maxContextLength characters: items are taken in a fixed order of importance (acceptance criteria, files,
 * related files, dependencies, links, other) and at the first item that does not fit, the rest is left out
 * (prose items are cut to fit instead, ending in a truncation marker), and `note` says what was left out.
 */
import type { AppConfig } from '../config/load.js';
import type { Task } from '../domain/task.js';
import { compactJson } from './compact-json.js';
import { capText, cleanLine } from './untrusted.js';

/** A stored row's context may be anything JSON; only an object has keys to show. */
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The context kinds, in the order they are given room. */
export const CONTEXT_KINDS = ['acceptanceCriteria', 'files', 'relatedFiles', 'dependencies', 'links', 'notes'] as const;
export type ContextKind = (typeof CONTEXT_KINDS)[number];

/** Task context ready for a template: one display string per item. */
export interface PromptContext {
  acceptanceCriteria: string[];
  files: string[];
  relatedFiles: string[];
  dependencies: string[];
  links: string[];
  /** Other context keys, as "key: value". */
  notes: string[];
  /** True when anything was left out or cut to fit maxContextLength. */
  truncated: boolean;
  /** Items left out, per kind (only kinds with omissions). */
  omitted: Partial<Record<ContextKind, number>>;
  /** A sentence for the prompt when truncated. */
  note?: string;
  /** Characters of context kept. */
  length: number;
}

const KEYS: Record<Exclude<ContextKind, 'notes'>, string[]> = {
  acceptanceCriteria: ['acceptanceCriteria', 'acceptance_criteria'],
  files: ['files', 'fileStructure', 'file_structure'],
  relatedFiles: ['relatedFiles', 'related_files'],
  dependencies: ['dependencies'],
  links: ['links'],
};

/** Prose can be cut mid-item; a path or a URL cut short is useless, so those are left out whole. */
const CUTTABLE: ReadonlySet<ContextKind> = new Set(['acceptanceCriteria', 'notes']);
/** Do not cut prose into a stub shorter than this (the truncation marker takes about 30 of it). */
const MIN_CUT = 48;

const LABEL: Record<ContextKind, [string, string]> = {
  acceptanceCriteria: ['acceptance criterion', 'acceptance criteria'],
  files: ['file', 'files'],
  relatedFiles: ['related file', 'related files'],
  dependencies: ['dependency', 'dependencies'],
  links: ['link', 'links'],
  notes: ['other context entry', 'other context entries'],
};

const HEAD_FIELDS = ['path', 'file', 'name', 'url', 'title', 'id'];
const TAIL_FIELDS = ['description', 'reason', 'note', 'summary', 'title'];

/**
 * One item as a line of display text, cleaned of control and bidi characters (untrusted.ts). `max` bounds the
 * work on values that are not text: they are shown as JSON cut after about `max` characters, never fully
 * serialised (a value nested thousands deep would overflow JSON.stringify's stack).
 */
function describe(value: unknown, max: number): string {
  if (typeof value === 'string') return cleanLine(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const headKey = HEAD_FIELDS.find((k) => typeof obj[k] === 'string' && obj[k].trim() !== '');
    if (headKey !== undefined) {
      const version = typeof obj.version === 'string' ? `@${obj.version}` : '';
      // A link's title describes it: {url, title} reads "url - title".
      const tailKey = TAIL_FIELDS.find((k) => k !== headKey && typeof obj[k] === 'string' && obj[k].trim() !== '');
      return cleanLine(`${String(obj[headKey])}${version}${tailKey ? ` - ${String(obj[tailKey])}` : ''}`);
    }
  }
  return cleanLine(compactJson(value, max));
}

/** A list from whatever shape the user gave: list, single string, or a map such as package.json dependencies. */
function toItems(value: unknown, kind: ContextKind, max: number): string[] {
  let items: string[];
  if (Array.isArray(value)) items = value.map((item) => describe(item, max));
  else if (typeof value === 'object' && value !== null) {
    const joiner = kind === 'dependencies' ? '@' : ': ';
    items = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `${cleanLine(k)}${joiner}${describe(v, max)}`,
    );
  } else items = value === undefined || value === null ? [] : [describe(value, max)];
  return items.filter((item) => item !== '');
}

function enabled(kind: ContextKind, flags: AppConfig['promptGenerator']['context']): boolean {
  if (kind === 'files') return flags.includeFileStructure;
  if (kind === 'relatedFiles') return flags.includeRelatedFiles;
  if (kind === 'dependencies') return flags.includeDependencies;
  return true;
}

/** Gather every kind's items from the task, before the length limit. */
export function collectContext(
  task: Task,
  flags: AppConfig['promptGenerator']['context'],
): Record<ContextKind, string[]> {
  const raw = isRecord(task.context) ? task.context : {};
  // Anything longer than the whole context budget is cut anyway; describing more of it would be wasted work.
  const max = flags.maxContextLength + 1;
  const known = new Set(Object.values(KEYS).flat());
  const lists = {} as Record<ContextKind, string[]>;
  for (const [kind, keys] of Object.entries(KEYS) as [Exclude<ContextKind, 'notes'>, string[]][]) {
    lists[kind] = enabled(kind, flags) ? keys.flatMap((key) => toItems(raw[key], kind, max)) : [];
  }
  lists.notes = Object.keys(raw)
    .filter((key) => !known.has(key) && !key.startsWith('_') && raw[key] !== undefined && raw[key] !== null)
    .sort()
    .map((key) => {
      const value = raw[key];
      const shown = Array.isArray(value) ? value.map((item) => describe(item, max)).join(', ') : describe(value, max);
      return `${cleanLine(key)}: ${shown}`;
    });
  return lists;
}

/** The task's context for its prompt, within `flags.maxContextLength` characters. */
export function extractContext(task: Task, flags: AppConfig['promptGenerator']['context']): PromptContext {
  const lists = collectContext(task, flags);
  const limit = flags.maxContextLength;
  let remaining = limit;
  let full = false;
  let cut = 0;
  const kept = {} as Record<ContextKind, string[]>;
  const omitted: Partial<Record<ContextKind, number>> = {};
  for (const kind of CONTEXT_KINDS) {
    kept[kind] = [];
    for (const item of lists[kind]) {
      if (!full && item.length <= remaining) {
        kept[kind].push(item);
        remaining -= item.length;
        continue;
      }
      if (!full && CUTTABLE.has(kind) && remaining >= MIN_CUT) {
        kept[kind].push(capText(item, remaining).text);
        cut += 1;
        remaining = 0;
      } else omitted[kind] = (omitted[kind] ?? 0) + 1;
      full = true;
    }
  }
  const truncated = full;
  const result: PromptContext = { ...kept, truncated, omitted, length: limit - remaining };
  if (truncated) result.note = truncationNote(limit, omitted, cut);
  return result;
}

function truncationNote(limit: number, omitted: Partial<Record<ContextKind, number>>, cut: number): string {
  const parts = CONTEXT_KINDS.filter((kind) => omitted[kind]).map((kind) => {
    const n = omitted[kind] ?? 0;
    return `${n} ${LABEL[kind][n === 1 ? 0 : 1]}`;
  });
  const left = parts.length > 0 ? `left out ${parts.join(', ')}` : '';
  const shortened = cut > 0 ? 'shortened the last entry kept' : '';
  const what = [left, shortened].filter(Boolean).join(' and ');
  return `The task context was cut to fit ${limit} characters: ${what}. Look in the repository for anything missing.`;
}
