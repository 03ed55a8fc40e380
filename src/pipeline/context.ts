/**
 * What every step of one task attempt can see: the claim, the task's AbortSignal, its logger, and the
 * daemon's parts (through ports and small in-process interfaces).
 */
import type { ClaimedTask, Task, TaskError } from '../domain/task.js';
import type { DaemonEvents } from '../daemon/events.js';
import type { IntakeGate } from '../daemon/intake.js';
import type { DependencyHealth } from '../daemon/health.js';
import type { RunWatch } from '../daemon/run-watcher.js';
import type { RepositoryParks } from '../daemon/parking.js';
import type { Redactor } from '../domain/redact.js';
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
  handleError(
    taskId: string,
    error: unknown,
    task: Task,
    assessment?: { dependencyHealthy?: boolean },
  ): Promise<FailureDecision>;
  recordSuccess(taskId: string, task: Task, result: { prUrl?: string; durationMs: number }): Promise<void>;
  getImprovementSuggestions(task: Task): {
    promptOptimizations: string[];
    contextImprovements: string[];
    qualityEnhancements: string[];
    processOptimizations: string[];
  };
}

/** How the pipeline waits on an agent run (how often the run watcher reads is its own configuration). */
export interface WaitPolicy {
  paused: 'wait' | 'resume' | 'fail';
  /** Longest a probe of a failing dependency may take before the failure is taken as an outage, in ms. */
  probeTimeoutMs: number;
}

export interface PipelineDeps {
  store: TaskStore;
  agent: AgentApi;
  /** The process's run watcher: how a task learns that its agent run changed state. */
  runs: RunWatch;
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
  /** processing.taskDeadlineMs: a task not done this long after its first claim fails (its run may go on). */
  taskDeadlineMs: number;
  /** processing.timeout: the longest any step other than waiting on the agent may take. */
  stepTimeoutMs: number;
  /** Tells an outage (or a refused credential) from the task's own failure, and pauses intake for an outage. */
  health: Pick<DependencyHealth, 'assess' | 'isDown'>;
  /** Repositories whose tasks wait after a repository-scoped failure. */
  parks: RepositoryParks;
  /** Masks credentials in text the store keeps (failure messages, feedback): upstream errors may echo them. */
  redact?: Pick<Redactor, 'text' | 'deep'>;
}

export interface TaskContext {
  claim: ClaimedTask;
  /** The task as claimed; steps read from it, never write to it. */
  task: Task;
  token: string;
  signal: AbortSignal;
  logger: Logger;
  startedAt: number;
  /** For the step histogram (instrument). */
  metrics?: Metrics;
}
