/**
 * Prompt settings that can only be checked against the templates themselves: PROMPT_TEMPLATES_DIR must be a
 * readable directory of usable templates, and each PROMPT_TEMPLATE_* must name a template that exists. The
 * prompt generator checks the same at startup; doing it here names the key and variable, with exit code 78.
 */
import { statSync } from 'node:fs';
import { TASK_TYPES } from '../domain/task.js';
import { templateNames } from '../prompt/render.js';
import { loadUserTemplates } from '../prompt/template-loader.js';
import { BUILT_IN_TEMPLATES, TEMPLATE_VARIABLES } from '../prompt/templates/index.js';
import { showShort } from './format-kit.js';
import { valueIssue, type ConfigIssue } from './issues.js';
import type { AppConfig } from './load.js';
import { specOf } from './validate.js';

const DIR_KEY = 'promptGenerator.templatesDir';
const DIR_ENV = 'PROMPT_TEMPLATES_DIR';
const DIR_EXPECTED = 'a readable directory of <name>.md templates (at most 64 KiB each, sections closed), or nothing';

function dirIssue(dir: string, problem: string, expected = DIR_EXPECTED): ConfigIssue {
  return valueIssue({ key: DIR_KEY, env: DIR_ENV, problem, expected, shown: showShort(dir) });
}

/** The user templates in `dir`, or the issue that stops them being used. */
function readUserTemplates(dir: string): { templates: Record<string, string> } | { issue: ConfigIssue } {
  if (dir === '') return { templates: {} };
  try {
    if (!statSync(dir).isDirectory()) return { issue: dirIssue(dir, 'is not a directory') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { issue: dirIssue(dir, code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'unknown'})`) };
  }
  try {
    return { templates: loadUserTemplates(dir) };
  } catch (err) {
    // The loader names the file and what is wrong with it (size, unbalanced sections); it quotes no content.
    return { issue: dirIssue(dir, `holds a template that cannot be used: ${(err as Error).message}`) };
  }
}

/** Issues with the templates directory and the template each task type names. */
export function checkPromptSettings(config: AppConfig): ConfigIssue[] {
  const read = readUserTemplates(config.promptGenerator.templatesDir);
  if ('issue' in read) return [read.issue];
  const user = read.templates;
  const issues: ConfigIssue[] = [];
  const known = new Set(Object.keys(TEMPLATE_VARIABLES));
  const available = [...new Set([...Object.keys(BUILT_IN_TEMPLATES), ...Object.keys(user)])].sort();
  for (const type of TASK_TYPES) {
    const key = `promptGenerator.templates.${type}`;
    const name = config.promptGenerator.templates[type];
    const userText = Object.hasOwn(user, name) ? user[name] : undefined;
    if (userText === undefined && !Object.hasOwn(BUILT_IN_TEMPLATES, name)) {
      issues.push(
        valueIssue({
          key,
          env: specOf(key)?.env ?? `PROMPT_TEMPLATE_${type.toUpperCase()}`,
          problem: `names a template that is neither built in nor a ${name}.md in ${DIR_ENV}`,
          expected: `one of ${available.join(', ')} (or add ${name}.md to ${DIR_ENV})`,
          shown: showShort(name),
        }),
      );
      continue;
    }
    if (userText === undefined) continue;
    const unknown = templateNames(userText).filter((n) => !known.has(n));
    if (unknown.length > 0) {
      issues.push(
        dirIssue(
          config.promptGenerator.templatesDir,
          `holds ${name}.md, which uses unknown variable(s) ${unknown.join(', ')}`,
          `a directory whose templates use only ${[...known].join(', ')}`,
        ),
      );
    }
  }
  return issues;
}
