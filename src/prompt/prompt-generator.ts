/**
 * PromptGenerator: turns a task into the prompt of one Codegen agent run. The seed's component, with its
 * configuration (templates, codeStyle, context, quality). Rendering is pure and deterministic: the same task,
 * options and configuration give the same bytes (no clock, no randomness, no environment). Templates come
 * from memory (built-ins, plus user templates the composition root loaded with `loadUserTemplates`).
 */
import type { AppConfig } from '../config/load.js';
import { DaemonError } from '../domain/errors.js';
import { TASK_TYPES, type Task, type TaskType } from '../domain/task.js';

/**
 * A task as the seed's callers hand it to generatePrompt and getImprovementSuggestions: `{ id, title,
 * description }` and any of the other fields (priority, labels, type, repository, context, ...). A stored Task is
 * one too.
 */
export type PromptTaskInput = Pick<Task, 'id' | 'title' | 'description'> &
  Partial<Omit<Task, 'id' | 'title' | 'description'>>;

/** `input` with what it leaves out filled in as a new task would have it (no labels, medium, first attempt). */
export function toPromptTask(input: PromptTaskInput): Task {
  const now = new Date(0).toISOString();
  return {
    type: 'default',
    priority: 'medium',
    status: 'pending',
    attempts: 0,
    maxAttempts: 3,
    checkpoint: {},
    createdAt: now,
    updatedAt: now,
    // A field given as undefined is left out, as the seed's callers often build tasks from optional values.
    ...(Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as PromptTaskInput),
    labels: Array.isArray(input.labels) ? input.labels : [],
  };
}
import { reviewTask, type Suggestions } from '../feedback/suggestions.js';
import { extractContext } from './context.js';
import { branchNameForTask, renderCommitMessage } from './git-naming.js';
import { buildTemplateVars, type GitSettings, type PromptOptions } from './prompt-vars.js';
import { renderTemplate, templateNames } from './render.js';
import { PROMPT_LIMITS } from './task-text.js';
import { capText, cleanLine } from './untrusted.js';
import { BUILT_IN_TEMPLATES, DEFAULT_TEMPLATE_NAMES, TEMPLATE_VARIABLES } from './templates/index.js';

export type { GitSettings, PromptOptions } from './prompt-vars.js';

/** A prompt and what it was made from. */
export interface GeneratedPrompt {
  content: string;
  metadata: {
    /** Name of the template used (e.g. feature_template). */
    template: string;
    taskType: TaskType;
    /** content.length */
    length: number;
    /** True when any task text was cut: context to fit maxContextLength, a field to its cap, or the prompt. */
    truncated: boolean;
    attempt: number;
    /** The branch the prompt asks the agent to push: pass it on as EnsurePullRequestInput.expectedBranch. */
    branch: string;
  };
}

export interface PromptGeneratorStatus {
  templates: Record<TaskType, { name: string; source: 'user' | 'built-in' }>;
  /** Names of the user templates loaded (sorted). */
  userTemplates: string[];
  maxContextLength: number;
  promptsGenerated: number;
  promptsTruncated: number;
}

interface ResolvedTemplate {
  name: string;
  source: 'user' | 'built-in';
  text: string;
}

const COMMIT_VARIABLES = new Set(['TASK_TITLE', 'TASK_DESCRIPTION', 'TASK_ID', 'TASK_TYPE']);

/** The long texts cut, in this order, when a prompt would exceed PROMPT_LIMITS.prompt. */
const SHRINK_ORDER = ['context', 'description', 'commitMessage'] as const;
/** Room for a truncation marker (and a context note) on top of the excess, so one cut usually suffices. */
const MARKER_ROOM = 200;
/** One render, then at most two cuts per long text: each cut brings the text down by at least the excess. */
const MAX_RENDER_PASSES = 1 + 2 * SHRINK_ORDER.length;

function configError(message: string, code: string): DaemonError {
  return new DaemonError(message, { code, category: 'configuration' });
}

/** Refuse a template that names a variable we never set: a typo would otherwise render as nothing. */
function checkNames(text: string, allowed: ReadonlySet<string>, what: string): void {
  const unknown = templateNames(text).filter((name) => !allowed.has(name));
  if (unknown.length > 0) {
    throw configError(
      `${what} uses unknown variable(s) ${unknown.join(', ')}; known: ${[...allowed].join(', ')}`,
      'prompt-template-unknown-variable',
    );
  }
}

export class PromptGenerator {
  private readonly templates: Record<TaskType, ResolvedTemplate>;
  private readonly userTemplateNames: string[];
  private generated = 0;
  private truncated = 0;

  /**
   * Resolves and checks every task type's template up front, so a missing or broken template stops startup
   * (a configuration DaemonError) rather than failing tasks one by one.
   */
  constructor(
    private readonly config: AppConfig['promptGenerator'],
    private readonly git: GitSettings,
    userTemplates: Record<string, string> = {},
  ) {
    const allowed = new Set(Object.keys(TEMPLATE_VARIABLES));
    this.userTemplateNames = Object.keys(userTemplates).sort();
    const resolved = {} as Record<TaskType, ResolvedTemplate>;
    for (const type of TASK_TYPES) {
      const name = config.templates[type] || DEFAULT_TEMPLATE_NAMES[type];
      const user = Object.hasOwn(userTemplates, name) ? userTemplates[name] : undefined;
      const text = user ?? (Object.hasOwn(BUILT_IN_TEMPLATES, name) ? BUILT_IN_TEMPLATES[name] : undefined);
      if (text === undefined) {
        throw configError(
          `promptGenerator.templates.${type} names template "${name}", which is neither built in ` +
            `(${Object.keys(BUILT_IN_TEMPLATES).join(', ')}) nor a <name>.md file in promptGenerator.templatesDir`,
          'prompt-template-missing',
        );
      }
      checkNames(text, allowed, `prompt template "${name}" (${user === undefined ? 'built-in' : 'user'})`);
      resolved[type] = { name, source: user === undefined ? 'built-in' : 'user', text };
    }
    checkNames(git.commitMessageTemplate, COMMIT_VARIABLES, 'prManager.commits.messageTemplate');
    this.templates = resolved;
  }

  /** The seed's method: the prompt for one attempt of `task` (a stored Task, or just `{ id, title, description }`). */
  async generatePrompt(task: PromptTaskInput, options: PromptOptions = {}): Promise<GeneratedPrompt> {
    const prompt = this.render(toPromptTask(task), options);
    this.generated += 1;
    if (prompt.metadata.truncated) this.truncated += 1;
    return prompt;
  }

  /**
   * The pure, synchronous core of generatePrompt. Throws a validation DaemonError (code `task-empty`) for a
   * task with neither title nor description (after cleaning): no prompt can say what to do.
   *
   * The prompt never exceeds PROMPT_LIMITS.prompt characters: when it would, the context, then the
   * description, then the commit message are cut (each with a visible marker) and it is rendered again. Only
   * a user template that repeats the task text many times can still be too long; that is a `prompt-too-large`
   * DaemonError rather than a prompt that loses its delivery instructions.
   */
  render(task: Task, options: PromptOptions = {}): GeneratedPrompt {
    // The id goes into error messages, which reach logs and stored rows: cleaned and capped like task text.
    const shownId = capText(cleanLine(String(task.id)), PROMPT_LIMITS.taskId).text;
    if (cleanLine(String(task.title)) === '' && cleanLine(String(task.description)) === '') {
      throw new DaemonError(`task ${shownId} has neither a title nor a description`, {
        code: 'task-empty',
        category: 'validation',
      });
    }
    // Stored data may carry a type from an older version; anything unknown uses the default template.
    const type: TaskType = TASK_TYPES.includes(task.type) ? task.type : 'default';
    const template = this.templates[type];
    const attempt = Math.max(1, Math.trunc(options.attempt ?? task.attempts) || 1);
    const branch = branchNameForTask(this.git.branchPrefix, String(task.id));
    const commitMessage = renderCommitMessage(this.git.commitMessageTemplate, task);
    const budget: Record<(typeof SHRINK_ORDER)[number], number> = {
      context: this.config.context.maxContextLength,
      description: PROMPT_LIMITS.description,
      commitMessage: PROMPT_LIMITS.commitMessage,
    };
    for (let pass = 0; pass < MAX_RENDER_PASSES; pass++) {
      const context = extractContext(task, { ...this.config.context, maxContextLength: budget.context });
      const built = buildTemplateVars({
        task,
        type,
        options,
        config: this.config,
        git: this.git,
        context,
        branch,
        commitMessage,
        attempt,
        budget,
      });
      // Templates leave no stray blank lines (standalone section tags take their line), so user text in the
      // description and commit message is never reflowed here.
      const content = `${renderTemplate(template.text, built.vars).trim()}\n`;
      const excess = content.length - PROMPT_LIMITS.prompt;
      if (excess <= 0) {
        const truncated = context.truncated || built.cut > 0 || pass > 0;
        return {
          content,
          metadata: { template: template.name, taskType: type, length: content.length, truncated, attempt, branch },
        };
      }
      // Cut the first long text that can still give, by the excess plus room for its truncation marker.
      const sizes = { context: context.length, ...built.sizes };
      const key = SHRINK_ORDER.find((k) => Math.min(budget[k], sizes[k]) > 0);
      if (key === undefined) break;
      budget[key] = Math.max(0, Math.min(budget[key], sizes[key]) - excess - MARKER_ROOM);
    }
    throw new DaemonError(
      `the prompt for task ${shownId} does not fit in ${PROMPT_LIMITS.prompt} characters even with its context, ` +
        `description and commit message cut: template "${template.name}" repeats too much task text`,
      { code: 'prompt-too-large', category: 'configuration' },
    );
  }

  /**
   * The seed's method: what would make this task's prompt work better, from the task alone (the feedback
   * handler adds what its failures teach). Deterministic.
   */
  getImprovementSuggestions(input: PromptTaskInput): Suggestions {
    const task = toPromptTask(input);
    const suggestions = reviewTask(task);
    const context = extractContext(task, this.config.context);
    if (context.truncated) {
      suggestions.contextImprovements.push(
        `Trim the task context to what matters: it does not fit promptGenerator.context.maxContextLength ` +
          `(${this.config.context.maxContextLength} characters) and was cut`,
      );
    }
    return suggestions;
  }

  getStatus(): PromptGeneratorStatus {
    const templates = {} as PromptGeneratorStatus['templates'];
    for (const type of TASK_TYPES)
      templates[type] = { name: this.templates[type].name, source: this.templates[type].source };
    return {
      templates,
      userTemplates: [...this.userTemplateNames],
      maxContextLength: this.config.context.maxContextLength,
      promptsGenerated: this.generated,
      promptsTruncated: this.truncated,
    };
  }
}
