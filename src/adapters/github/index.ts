/**
 * The GitHub adapter: an Octokit with throttling, retry and timeouts (octokit.ts), the error classifier
 * (classify.ts), the PR body task section (pr-body.ts) and the CodeHost port implementation (pr-manager.ts).
 */
export { createOctokit, type CreateOctokitOptions, type GitHubAppCredentials, type GitHubOctokit } from './octokit.js';
export { classifyGitHubError } from './classify.js';
export { renderTaskSection, taskSectionMarker, upsertTaskSection, type TaskSectionInput } from './pr-body.js';
export { createPullRequestManager, type PullRequestManagerDeps } from './pr-manager.js';
export { parsePullUrl } from './pull-reader.js';
