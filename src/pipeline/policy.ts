/**
 * Pure helpers that turn configuration into what one task needs: the PR policy of its repository (global
 * defaults with the repository's overrides on top) and the link to the task for PR bodies.
 */
import type { AppConfig } from '../config/load.js';
import type { PullRequestPolicy } from './ports.js';

export function policyForRepository(
  config: Pick<AppConfig, 'github' | 'prManager'>,
  repository: string,
): PullRequestPolicy {
  const override = config.github.repositories[repository] ?? {};
  const { pr, branches } = config.prManager;
  return {
    baseBranch: override.baseBranch ?? branches.baseBranch,
    labels: override.labels ?? pr.labels,
    assignees: pr.autoAssign ? (override.assignees ?? pr.assignees) : [],
    reviewers: override.reviewers ?? pr.defaultReviewers,
    teamReviewers: override.teamReviewers ?? pr.teamReviewers,
    draft: override.draft ?? pr.draft,
    onNoChanges: pr.onNoChanges,
  };
}

export function taskUrl(config: Pick<AppConfig, 'prManager' | 'cloudflareApi'>, taskId: string): string | undefined {
  const template = config.prManager.pr.taskUrlTemplate;
  if (template) return template.replaceAll('{id}', encodeURIComponent(taskId));
  if (config.cloudflareApi.baseUrl) {
    return `${config.cloudflareApi.baseUrl.replace(/\/+$/, '')}/tasks/${encodeURIComponent(taskId)}`;
  }
  return undefined;
}
