/**
 * Small decisions CodegenClient makes from configuration: dry run or not, what credentials are missing, the
 * replica's default name, and the fields a new task is stored from.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { ConfigError, type AppConfig } from './config/load.js';
import type { NewTask, Task } from './domain/task.js';
import type { RepositoryCap } from './pipeline/ports.js';

export const VERSION = '0.1.0';

export function defaultWorkerName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(2).toString('hex')}`;
}

export function missingCredentials(config: AppConfig): string[] {
  const missing: string[] = [];
  if (!config.codegen.apiKey) missing.push('CODEGEN_API_KEY');
  if (!config.codegen.orgId) missing.push('CODEGEN_ORG_ID');
  const app = config.github.appId && config.github.privateKey && config.github.installationId;
  if (!config.github.token && !app)
    missing.push('GITHUB_TOKEN (or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID)');
  return missing;
}

/** Dry run when asked, or when credentials are missing outside production; in production they must be set. */
export function decideDryRun(config: AppConfig, partsInjected: boolean): boolean {
  if (config.processing.dryRun) return true;
  if (partsInjected) return false;
  const missing = missingCredentials(config);
  if (missing.length === 0) return false;
  if (config.env === 'production') {
    throw new ConfigError(
      `NODE_ENV=production needs credentials; set: ${missing.join(', ')} (or DRY_RUN=true to only generate prompts)`,
    );
  }
  return true;
}

/**
 * The claim's per-repository cap from REPO_MAX_IN_FLIGHT and REPO_MAX_IN_FLIGHT_OVERRIDES, as `{ repositoryCap }`
 * to spread into the claim options, or `{}` when both cap nothing. Tasks without a repository count as
 * GITHUB_REPOSITORY's, which is where their PRs go.
 */
export function repositoryCapOf(config: AppConfig): { repositoryCap?: RepositoryCap } {
  const { repoMaxInFlight, repoMaxInFlightOverrides } = config.processing;
  const overrides = repoMaxInFlightOverrides ?? {};
  if (repoMaxInFlight === 0 && Object.values(overrides).every((n) => n === 0)) return {};
  const repositoryCap: RepositoryCap = {
    default: repoMaxInFlight,
    ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
    ...(config.github.repository ? { unnamedAs: config.github.repository } : {}),
  };
  return { repositoryCap };
}

export function stripStored(input: NewTask | Task): NewTask {
  const { id, title, description, type, priority, labels, repository, context, dedupeKey } = input as Task;
  const maxAttempts = (input as NewTask).maxAttempts;
  return {
    ...(id !== undefined ? { id } : {}),
    title,
    description,
    ...(type !== undefined ? { type } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(labels !== undefined ? { labels } : {}),
    ...(repository !== undefined ? { repository } : {}),
    ...(context !== undefined ? { context } : {}),
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
    ...(dedupeKey !== undefined ? { dedupeKey } : {}),
  };
}
