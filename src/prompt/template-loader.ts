/**
 * Reads user templates from promptGenerator.templatesDir. The only module in src/prompt that does I/O; it runs
 * once at startup (composition root) and hands plain strings to the pure PromptGenerator.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DaemonError } from '../domain/errors.js';
import { parseTemplate } from './render.js';

/** A prompt template larger than this is surely a mistake (a prompt is a page or two, not a book). */
const MAX_TEMPLATE_BYTES = 64 * 1024;

function configError(message: string, code: string, cause?: unknown): DaemonError {
  return new DaemonError(message, { code, category: 'configuration', cause });
}

/**
 * Every `<name>.md` file directly in `dir`, keyed by `<name>`: a name the config's promptGenerator.templates
 * can point at (replacing the built-in template of that name, or adding a new one). An empty `dir` means no
 * user templates. Line endings become `\n` and a byte-order mark is dropped, so a template renders the same
 * on every platform. Throws a configuration DaemonError naming the file when the directory or a template is
 * unreadable, too large, or malformed.
 */
export function loadUserTemplates(dir: string): Record<string, string> {
  if (dir === '') return {};
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    entries = readdirSync(dir);
  } catch (err) {
    throw configError(
      `promptGenerator.templatesDir (env PROMPT_TEMPLATES_DIR): cannot read directory "${dir}": ${(err as Error).message}`,
      'prompt-templates-dir-unreadable',
      err,
    );
  }
  const templates: Record<string, string> = {};
  for (const entry of entries.filter((name) => name.endsWith('.md')).sort()) {
    const file = path.join(dir, entry);
    const stats = statSync(file);
    if (!stats.isFile()) continue;
    if (stats.size > MAX_TEMPLATE_BYTES) {
      throw configError(
        `prompt template ${file} is ${stats.size} bytes; the limit is ${MAX_TEMPLATE_BYTES}`,
        'prompt-template-too-large',
      );
    }
    const text = readFileSync(file, 'utf8')
      .replace(/^\uFEFF/, '')
      .replace(/\r\n?/g, '\n');
    try {
      parseTemplate(text);
    } catch (err) {
      throw configError(`prompt template ${file}: ${(err as Error).message}`, 'prompt-template-invalid', err);
    }
    templates[entry.slice(0, -'.md'.length)] = text;
  }
  return templates;
}
