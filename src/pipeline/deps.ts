/**
 * The pipeline's dependencies made from configuration: PR policy per repository, the branch and task link of
 * each task, and how long and how often to wait on an agent run.
 */
import type { AppConfig } from '../config/load.js';
import type { Task } from '../domain/task.js';
import { branchNameForTask } from '../prompt/index.js';
import type { PipelineDeps, PromptRenderer } from './context.js';
import { policyForRepository, taskUrl } from './policy.js';

export type PipelineParts = Pick<
  PipelineDeps,
  | 'store'
  | 'agent'
  | 'runs'
  | 'codeHost'
  | 'prompts'
  | 'feedback'
  | 'events'
  | 'intake'
  | 'logger'
  | 'metrics'
  | 'health'
  | 'parks'
  | 'redact'
> & {
  /** A prompt given by the caller (prManager.createPR) instead of a generated one. */
  promptOverride?: string;
};

export function pipelineDepsFrom(config: AppConfig, parts: PipelineParts): PipelineDeps {
  const branchFor = (taskId: string): string => branchNameForTask(config.prManager.branches.prefix, taskId);
  const { promptOverride: override, ...rest } = parts;
  const prompts: PromptRenderer =
    override === undefined
      ? parts.prompts
      : {
          render: (task: Task) => ({
            content: override,
            metadata: { template: 'caller', length: override.length, branch: branchFor(task.id) },
          }),
        };
  return {
    ...rest,
    prompts,
    defaultRepository: config.github.repository,
    policyFor: (repository) => policyForRepository(config, repository),
    branchFor,
    taskUrlFor: (taskId) => taskUrl(config, taskId),
    wait: {
      paused: config.codegen.pausedPolicy,
      probeTimeoutMs: config.health.probeTimeoutMs,
    },
    leaseMs: config.taskStore.leaseMs,
    taskDeadlineMs: config.processing.taskDeadlineMs,
    stepTimeoutMs: config.processing.timeout,
  };
}
