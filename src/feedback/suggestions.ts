/**
 * Improvement suggestions, derived from a task and the failures seen on it. Pure and deterministic: the same
 * task and history give the same suggestions in the same order (rules run in a fixed order, duplicates dropped).
 * Decisions use the error's category and code, never its message; a message is only quoted back to the reader.
 */
import type { ErrorCategory } from '../domain/errors.js';
import type { Task, TaskError } from '../domain/task.js';

/** The seed's suggestion shape. Meant for the people who write tasks and run the daemon. */
export interface Suggestions {
  promptOptimizations: string[];
  contextImprovements: string[];
  qualityEnhancements: string[];
  processOptimizations: string[];
}

/** One failed attempt, as the feedback handler remembers it. */
export interface FailureRecord {
  /** ISO time the failure was handled. */
  at: string;
  category: ErrorCategory | string;
  code: string;
  /** Shortened; quoted in suggestions, never parsed. */
  message: string;
  /** The attempt that failed (task.attempts when it failed). */
  attempt: number;
  dependency?: string;
}

/** Descriptions shorter than this are flagged as too thin to act on. */
const SHORT_DESCRIPTION = 40;

/** Codes from the agent adapter that mean "the run ended without pushing anything". */
const isNoChanges = (code: string): boolean => /no-changes|no-pr|empty-result/.test(code);
/** Codes that mean the run ran out of room (iterations, tokens, context) before finishing. */
const isOutOfRoom = (code: string): boolean => /max-iterations|out-of-tokens|context-length|too-large/.test(code);

type Bucket = keyof Suggestions;

class Collector {
  readonly out: Suggestions = {
    promptOptimizations: [],
    contextImprovements: [],
    qualityEnhancements: [],
    processOptimizations: [],
  };
  add(bucket: Bucket, text: string): void {
    if (!this.out[bucket].includes(text)) this.out[bucket].push(text);
  }
}

function contextHas(task: Task, ...keys: string[]): boolean {
  return keys.some((key) => {
    const value = task.context?.[key];
    if (Array.isArray(value)) return value.length > 0;
    if (typeof value === 'string') return value.trim() !== '';
    return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
  });
}

/** Suggestions from the task alone: what is missing for an agent to succeed on the first try. */
export function reviewTask(task: Task): Suggestions {
  const c = new Collector();
  const description = task.description.trim();
  if (description.length < SHORT_DESCRIPTION) {
    c.add(
      'promptOptimizations',
      `Describe the change in more detail: the description has only ${description.length} characters`,
    );
  }
  if (!contextHas(task, 'acceptanceCriteria', 'acceptance_criteria')) {
    c.add('promptOptimizations', 'Add acceptance criteria (context.acceptanceCriteria) so "done" is unambiguous');
  }
  if (!contextHas(task, 'files', 'relatedFiles', 'related_files')) {
    c.add(
      'contextImprovements',
      'Name the files to change (context.files) and the files to read (context.relatedFiles)',
    );
  }
  if (task.type === 'bugfix') {
    c.add('qualityEnhancements', 'Ask for a regression test that fails without the fix');
  }
  if (task.type === 'refactor') {
    c.add('qualityEnhancements', 'Say which behaviour must stay unchanged, so existing tests can guard it');
  }
  return c.out;
}

/** Quote an error message back, short and on one line. */
function quote(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

/** Suggestions from a task and its failure history (oldest first), merged with `reviewTask(task)`. */
export function suggestImprovements(task: Task, history: FailureRecord[]): Suggestions {
  const c = new Collector();
  const of = (category: string): FailureRecord[] => history.filter((f) => f.category === category);
  const last = (category: string): FailureRecord | undefined => of(category).at(-1);

  const agent = of('agent');
  if (agent.some((f) => isNoChanges(f.code))) {
    c.add('promptOptimizations', 'Make the requirements more specific: the agent ended without changes');
    c.add('contextImprovements', 'Name the files to change in context.files');
  }
  if (agent.some((f) => isOutOfRoom(f.code))) {
    c.add('processOptimizations', 'Split the task into smaller tasks: the agent ran out of room before finishing');
    c.add('contextImprovements', 'Trim the context to the files that matter');
  }
  if (agent.some((f) => !isNoChanges(f.code) && !isOutOfRoom(f.code))) {
    c.add('promptOptimizations', 'State the expected result concretely, with acceptance criteria the agent can check');
    c.add('qualityEnhancements', 'Ask for tests that pin the expected behaviour, so the agent can check its work');
  }
  if (of('timeout').length > 0) {
    c.add('processOptimizations', 'Split the task into smaller tasks that finish within processing.timeout');
    c.add('processOptimizations', 'Raise processing.timeout (TASK_TIMEOUT_MS) if the work is inherently long');
  }
  const validation = last('validation');
  if (validation) {
    c.add(
      'promptOptimizations',
      `Fix the task fields named in the error, then retry the task: ${quote(validation.message)}`,
    );
  }
  const prompt = last('prompt');
  if (prompt) {
    c.add('promptOptimizations', `Reword the task; the agent could not act on it: ${quote(prompt.message)}`);
    c.add('promptOptimizations', 'Remove ambiguous or contradictory requirements');
  }
  const rateLimits = of('rate_limit').length;
  if (rateLimits >= 2) {
    c.add(
      'processOptimizations',
      `Lower processing.concurrency or rateLimits.codegenCreatePerMinute: the task was rate limited ${rateLimits} times`,
    );
  }
  if (of('quota').length > 0) {
    c.add('processOptimizations', 'Codegen plan quota reached: raise the plan limit or spread tasks over time');
  }
  if (of('authentication').length > 0) {
    const repo = task.repository ? ` for ${task.repository}` : '';
    c.add('processOptimizations', `Check the Codegen and GitHub credentials and their permissions${repo}`);
  }
  const transient = history.filter((f) => f.category === 'network' || f.category === 'server');
  if (transient.length >= 2) {
    const deps = [...new Set(transient.map((f) => f.dependency ?? 'a dependency'))].sort();
    const its = deps.length > 1 ? 'their' : 'its';
    c.add(
      'processOptimizations',
      `${deps.join(', ')} failed ${transient.length} times; check ${its} status before retrying`,
    );
  }
  if (of('conflict').length > 0) {
    c.add('processOptimizations', 'The task or its pull request changed under the run; check the task history');
  }
  const configuration = last('configuration');
  if (configuration) {
    c.add('processOptimizations', `Fix the configuration named in the error: ${quote(configuration.message)}`);
  }
  const unknown = last('unknown');
  if (unknown) {
    c.add('processOptimizations', `Unclassified failure (code ${unknown.code}): look at the logs for this task`);
  }
  for (const [code, times] of repeatedCodes(history)) {
    c.add(
      'processOptimizations',
      `The same failure (${code}) happened ${times} times; retrying unchanged may not help`,
    );
  }

  const review = reviewTask(task);
  for (const bucket of Object.keys(review) as Bucket[]) for (const text of review[bucket]) c.add(bucket, text);
  return c.out;
}

/** Codes seen at least twice among failures an amended task could fix (not infrastructure), sorted. */
function repeatedCodes(history: FailureRecord[]): [string, number][] {
  const taskShaped = new Set(['agent', 'prompt', 'timeout', 'unknown']);
  const counts = new Map<string, number>();
  for (const f of history) if (taskShaped.has(f.category)) counts.set(f.code, (counts.get(f.code) ?? 0) + 1);
  return [...counts].filter(([, n]) => n >= 2).sort(([a], [b]) => a.localeCompare(b));
}

/**
 * Instructions for the agent on the next attempt, from the last error. Unlike `Suggestions` (for people),
 * these speak to the agent; the prompt generator puts them in its "what went wrong last time" section.
 */
export function agentRetryHints(error: TaskError): string[] {
  const carryOn = 'If the branch already has work from the last attempt, continue from it instead of starting over.';
  switch (error.category) {
    case 'agent':
      if (isNoChanges(error.code)) {
        return [
          'The last run ended without pushing any change. Make the change, commit it, push the branch and open the pull request before you finish.',
          'If you believe no change is needed, say why in your final message instead of ending silently.',
        ];
      }
      if (isOutOfRoom(error.code)) {
        return [
          'The last run ran out of room before finishing. Read only the files you need, work in small steps, and commit and push as soon as a part works.',
          carryOn,
        ];
      }
      return [
        'The last run stopped before it delivered a pull request. Keep the change focused and push it early.',
        carryOn,
      ];
    case 'timeout':
      return [
        'The last run took too long. Make the smallest change that meets the requirements, and push early.',
        carryOn,
      ];
    case 'prompt':
      return [
        'Where the task is unclear, make a reasonable assumption, state it in the pull request description, and go on.',
      ];
    case 'conflict':
      return [
        'The branch changed under the last run. Fetch it, rebase on the base branch, and resolve conflicts before pushing.',
      ];
    case 'validation':
    case 'configuration':
      return [carryOn];
    default:
      // Infrastructure (network, server, rate limits, quota, auth, cancellation): the approach was not at fault.
      return ['The last attempt was interrupted by an infrastructure problem, not by your approach.', carryOn];
  }
}
