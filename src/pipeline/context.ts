/**
 * What every step of one task attempt can see: the claim, the task's AbortSignal, its logger, and the
 * daemon's parts (through ports and small in-process interfaces).
 */
import type { ClaimedTask, Task, TaskError } from '../domain/task.js';
import type { DaemonError } from '../domain/errors.js';
import type { DaemonEvents } from '../daemon/events.js';
import type { IntakeGate } from '../daemon/intake.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AgentApi, CodeHost, PullRequestPolicy, TaskStore } from './ports.js';

/** The prompt generator as the pipeline uses it (src/prompt). */
export interface PromptRenderer {
  render(
    task: Task,
    options: {
      repository?: string;
      baseBranch?: string;
      attempt?: number;
      previousError?: TaskError;
      suggestions?: string[];
    },
  ): { content: string; metadata: { template: string; length: number; branch: string } };
}

/** What the feedback handler decides about a failed attempt (src/feedback). */
export type { FailureDecision } from '../feedback/index.js';
import type { FailureDecision } from '../feedback/index.js';

export interface FeedbackPort {
  handleError(taskId: string, error: unknown, task: Task): Promise<FailureDecision>;
  recordSuccess(taskId: string, task: Task, result: { prUrl?: string; durationMs: number }): Promise<void>;
  getImprovementSuggestions(task: Task): {
    promptOptimizations: string[];
    contextImprovements: string[];
    qualityEnhancements: string[];
    processOptimizations: string[];
  };
}

/** How the pipeline waits on an agent run. */
export interface WaitPolicy {
  initialMs: number;
  maxMs: number;
  backoff: number;
  /** processing.timeout: the longest wait for one run in one attempt. */
  timeoutMs: number;
  paused: 'wait' | 'resume' | 'fail';
}

export interface PipelineDeps {
  store: TaskStore;
  agent: AgentApi;
  codeHost: CodeHost;
  prompts: PromptRenderer;
  feedback: FeedbackPort;
  events: DaemonEvents;
  intake: IntakeGate;
  logger: Logger;
  metrics?: Metrics;
  /** Repository used when a task names none ("owner/repo" or ""). */
  defaultRepository: string;
  /** PR policy for a repository: global defaults merged with its overrides. */
  policyFor(repository: string): PullRequestPolicy;
  /** The branch the prompt asks the agent to push for a task. */
  branchFor(taskId: string): string;
  /** A link to the task for PR bodies, if one can be made. */
  taskUrlFor(taskId: string): string | undefined;
  wait: WaitPolicy;
  leaseMs: number;
  /** Called with authentication errors so intake pauses until the token works again. */
  onAuthError?(error: DaemonError): void;
}

export interface TaskContext {
  claim: ClaimedTask;
  /** The task as claimed; steps read from it, never write to it. */
  task: Task;
  token: string;
  signal: AbortSignal;
  logger: Logger;
  startedAt: number;
}
