/**
 * The values a prompt template is rendered with, computed from the task, the options of this attempt and the
 * configuration. Pure: no clock, no randomness, no environment.
 */
import type { AppConfig } from '../config/load.js';
import { agentRetryHints } from '../feedback/suggestions.js';
import type { Task, TaskError, TaskType } from '../domain/task.js';
import type { PromptContext } from './context.js';
import { fenced, oneLine } from './git-naming.js';
import type { TemplateVars } from './render.js';

/** What one attempt's prompt needs beyond the task. */
export interface PromptOptions {
  /** owner/repo; defaults to task.repository. */
  repository?: string;
  /** Base branch for this repository (a per-repository override); defaults to prManager.branches.baseBranch. */
  baseBranch?: string;
  /** Attempt number from 1; defaults to task.attempts (at least 1). */
  attempt?: number;
  /** How the last attempt failed; defaults to task.lastError. Shown from attempt 2 on. */
  previousError?: TaskError;
  /** Extra advice for the agent on a retry, after the hints derived from previousError. */
  suggestions?: string[];
}

/** The git side of the prompt (from prManager.branches and prManager.commits). */
export interface GitSettings {
  branchPrefix: string;
  commitMessageTemplate: string;
  signOff: boolean;
  baseBranch: string;
}

export interface VarsInput {
  task: Task;
  type: TaskType;
  options: PromptOptions;
  config: AppConfig['promptGenerator'];
  git: GitSettings;
  context: PromptContext;
  branch: string;
  commitMessage: string;
  attempt: number;
}

/** Longest error message quoted in a prompt. */
const MAX_ERROR_MESSAGE = 500;

function shorten(text: string, max: number): string {
  const line = oneLine(text);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function codeStyle(style: AppConfig['promptGenerator']['codeStyle']): string[] {
  const rows: [string, string][] = [
    ['Language', style.language],
    ['Framework', style.framework],
    ['Tests', style.testFramework],
    ['Linter', style.linting],
    ['Formatter', style.formatting],
  ];
  return rows.filter(([, value]) => value.trim() !== '').map(([label, value]) => `${label}: ${value.trim()}`);
}

/** The quality bar from config.quality, worded for the kind of task (tests mean something else for docs). */
export function qualityRequirements(type: TaskType, config: AppConfig['promptGenerator']): string[] {
  const { quality, codeStyle: style } = config;
  const tests = style.testFramework.trim() ? `${style.testFramework.trim()} tests` : 'tests';
  const out: string[] = [];
  if (quality.requireTests) {
    if (type === 'documentation') out.push('Keep the existing test suite passing.');
    else if (type === 'test') out.push(`Make sure the new ${tests} pass, and the whole test suite with them.`);
    else out.push(`Add or update ${tests} that cover the change, and make sure the whole test suite passes.`);
  }
  if (quality.requireTypeChecking) out.push('Type checking must pass with no errors.');
  if (quality.requireErrorHandling && type !== 'documentation') {
    out.push('Handle errors explicitly: validate inputs, give errors clear messages, and never swallow a failure.');
  }
  if (quality.requireDocumentation && type !== 'documentation') {
    out.push('Update the documentation (README, docs, doc comments) for anything a user or maintainer would notice.');
  }
  const tools = [style.linting, style.formatting].map((t) => t.trim()).filter(Boolean);
  if (tools.length > 0) out.push(`Run ${tools.join(' and ')} on the files you change and fix what they report.`);
  out.push('Keep the change focused on this task; do not touch unrelated code.');
  return out;
}

function dedupe(items: string[]): string[] {
  return [...new Set(items.map(oneLine).filter(Boolean))];
}

function retryVars(attempt: number, error: TaskError | undefined, suggestions: string[]): TemplateVars {
  if (attempt <= 1) return {};
  const summary = error
    ? `The previous attempt failed (category ${error.category}, code \`${error.code}\`): ` +
      shorten(error.message, MAX_ERROR_MESSAGE)
    : 'The previous attempt did not succeed; its error was not recorded.';
  return {
    RETRY: 'yes',
    PREVIOUS_ERROR: summary,
    PREVIOUS_ERROR_CATEGORY: error?.category,
    PREVIOUS_ERROR_CODE: error?.code,
    PREVIOUS_ERROR_MESSAGE: error ? shorten(error.message, MAX_ERROR_MESSAGE) : undefined,
    RETRY_HINTS: dedupe([...(error ? agentRetryHints(error) : []), ...suggestions]),
  };
}

/** Every template variable (see templates/index.ts TEMPLATE_VARIABLES) for one prompt. */
export function buildTemplateVars(input: VarsInput): TemplateVars {
  const { task, type, options, config, git, context, branch, commitMessage, attempt } = input;
  const repository = options.repository ?? task.repository;
  const description = task.description.replace(/\r\n?/g, '\n').trim();
  const style = config.codeStyle;
  const hasContext = [context.files, context.relatedFiles, context.dependencies, context.links, context.notes].some(
    (list) => list.length > 0,
  );
  return {
    TASK_ID: task.id,
    TASK_TITLE: oneLine(task.title) || '(untitled)',
    TASK_DESCRIPTION: description || '_No description was given; work from the title._',
    TASK_TYPE: type,
    TASK_PRIORITY: task.priority,
    TASK_LABELS: dedupe(task.labels),
    REPOSITORY: repository,
    REPOSITORY_REF: repository ? `\`${repository}\`` : 'the repository attached to this run',
    BASE_BRANCH: options.baseBranch ?? git.baseBranch,
    BRANCH: branch,
    COMMIT_MESSAGE: commitMessage,
    COMMIT_MESSAGE_BLOCK: fenced(commitMessage),
    SIGN_OFF: git.signOff ? 'yes' : undefined,
    LANGUAGE: style.language,
    FRAMEWORK: style.framework,
    TEST_FRAMEWORK: style.testFramework,
    LINTER: style.linting,
    FORMATTER: style.formatting,
    CODE_STYLE: codeStyle(style),
    QUALITY: qualityRequirements(type, config),
    CONTEXT: hasContext || context.note ? 'yes' : undefined,
    ACCEPTANCE_CRITERIA: context.acceptanceCriteria,
    FILES: context.files,
    RELATED_FILES: context.relatedFiles,
    DEPENDENCIES: context.dependencies,
    LINKS: context.links,
    NOTES: context.notes,
    CONTEXT_NOTE: context.note,
    ATTEMPT: String(attempt),
    ...retryVars(attempt, options.previousError ?? task.lastError, options.suggestions ?? []),
  };
}
