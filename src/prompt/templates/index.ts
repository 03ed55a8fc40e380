/**
 * The built-in prompt templates, by the names config promptGenerator.templates uses, and the variables a
 * template (built-in or a user's <name>.md) may use. Templates are TypeScript strings so the build ships them.
 */
import type { TaskType } from '../../domain/task.js';
import { BUGFIX_TEMPLATE } from './bugfix.js';
import { DEFAULT_TEMPLATE } from './default.js';
import { DOCUMENTATION_TEMPLATE } from './documentation.js';
import { FEATURE_TEMPLATE } from './feature.js';
import { REFACTOR_TEMPLATE } from './refactor.js';
import { TEST_TEMPLATE } from './test.js';

/** Built-in templates by name. A user template with the same name replaces one. */
export const BUILT_IN_TEMPLATES: Readonly<Record<string, string>> = Object.freeze({
  feature_template: FEATURE_TEMPLATE,
  bugfix_template: BUGFIX_TEMPLATE,
  refactor_template: REFACTOR_TEMPLATE,
  docs_template: DOCUMENTATION_TEMPLATE,
  test_template: TEST_TEMPLATE,
  default_template: DEFAULT_TEMPLATE,
});

/** The template name each task type uses when config does not say otherwise (the seed's names). */
export const DEFAULT_TEMPLATE_NAMES: Readonly<Record<TaskType, string>> = Object.freeze({
  feature: 'feature_template',
  bugfix: 'bugfix_template',
  refactor: 'refactor_template',
  documentation: 'docs_template',
  test: 'test_template',
  default: 'default_template',
});

/**
 * Every name a template may use, with what it holds. Lists work with `{{#NAME}}- {{.}}{{/NAME}}`; any name
 * works with `{{?NAME}}...{{/NAME}}` (when set) and `{{^NAME}}...{{/NAME}}` (when not). A template that uses
 * another name is refused at startup, so a typo cannot silently render as nothing.
 *
 * Values marked "fenced" carry text from the task (or from an error or feedback recorded on it). They are
 * cleaned of control and bidi characters, capped, and fenced so that a template can put them anywhere without
 * the text becoming instructions: "inline" values are code spans on one line, "block" values are fenced code
 * blocks that always stand on lines of their own. Do not put them inside a code fence of your own: a fence in
 * the task text could close yours.
 */
export const TEMPLATE_VARIABLES: Readonly<Record<string, string>> = Object.freeze({
  TASK_ID: 'fenced inline: the task id',
  TASK_TITLE: 'fenced inline: the title, on one line, or "(untitled)"',
  TASK_DESCRIPTION: 'fenced block: the description, or a note that there is none',
  TASK_TYPE: 'feature, bugfix, refactor, documentation, test or default',
  TASK_PRIORITY: 'low, medium, high, critical, or unspecified',
  TASK_LABELS: 'list, each fenced inline: the task labels',
  REPOSITORY: 'fenced inline: owner/repo, when known',
  REPOSITORY_REF: 'the repository as a phrase: fenced inline owner/repo, or "the repository attached to this run"',
  BASE_BRANCH: 'the branch to start from and open the pull request against',
  BRANCH: 'the exact branch to push (prefix + task id, made safe for git)',
  COMMIT_MESSAGE:
    'fenced block: the commit message from prManager.commits.messageTemplate (same as COMMIT_MESSAGE_BLOCK)',
  COMMIT_MESSAGE_BLOCK: 'fenced block: the commit message from prManager.commits.messageTemplate',
  SIGN_OFF: 'set when commits must be signed off',
  LANGUAGE: 'codeStyle.language',
  FRAMEWORK: 'codeStyle.framework',
  TEST_FRAMEWORK: 'codeStyle.testFramework',
  LINTER: 'codeStyle.linting',
  FORMATTER: 'codeStyle.formatting',
  CODE_STYLE: 'list: "Language: typescript" and so on, for the code style keys that are set',
  QUALITY: 'list: the quality requirements from config.quality',
  CONTEXT: 'set when there is any task context',
  ACCEPTANCE_CRITERIA: 'list, each fenced inline: context.acceptanceCriteria',
  FILES: 'list, each fenced inline: context.files (when includeFileStructure)',
  RELATED_FILES: 'list, each fenced inline: context.relatedFiles (when includeRelatedFiles)',
  DEPENDENCIES: 'list, each fenced inline: context.dependencies (when includeDependencies)',
  LINKS: 'list, each fenced inline: context.links',
  NOTES: 'list, each fenced inline: any other context key, as "key: value"',
  CONTEXT_NOTE: 'set when context was cut to fit maxContextLength; says what was left out',
  ATTEMPT: 'the attempt number, from 1',
  RETRY: 'set on attempt 2 and later',
  PREVIOUS_ERROR: 'on a retry: how the last attempt failed, its recorded message as a fenced block',
  PREVIOUS_ERROR_CATEGORY: 'on a retry, fenced inline: the error category of the last attempt',
  PREVIOUS_ERROR_CODE: 'on a retry, fenced inline: the error code of the last attempt',
  PREVIOUS_ERROR_MESSAGE: 'on a retry, fenced block: the error message of the last attempt (capped)',
  RETRY_HINTS: 'list: on a retry, what to do differently (our advice, from the error category)',
  SUGGESTIONS: 'list, each fenced inline: on a retry, the suggestions recorded for the task',
});
