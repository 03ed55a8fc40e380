/**
 * codegen-pr as a library. The seed's Basic Usage works as written:
 *
 *   import { CodegenClient } from 'codegen-pr';
 *   const client = new CodegenClient({ cloudflareApi: {...}, github: {...}, processing: {...} });
 *   await client.initialize();
 *   const result = await client.processTask(task);
 */
export { CodegenClient, VERSION, missingCredentials } from './client.js';
export type { CodegenClientConfig, CodegenClientOptions, ProcessResult } from './client.js';
export { loadConfig, redactConfig, ConfigError } from './config/load.js';
export type { AppConfig, DeepPartial, RepoOverride } from './config/load.js';
export {
  DaemonError,
  DuplicateTaskError,
  isDaemonError,
  isDuplicateTaskError,
  toDaemonError,
  ERROR_CATEGORIES,
} from './domain/errors.js';
export type { ErrorCategory } from './domain/errors.js';
export * from './domain/task.js';
export type { DaemonEventMap, DaemonEventName } from './daemon/events.js';
export type * from './pipeline/ports.js';
export { PromptGenerator } from './prompt/index.js';
export type { PromptTaskInput, GeneratedPrompt } from './prompt/index.js';
export { FeedbackHandler } from './feedback/index.js';
export { openPgliteTaskStore, openPostgresTaskStore, createSqlTaskStore } from './adapters/task-store/index.js';
export { createHttpTaskStore } from './adapters/task-api/client.js';
export { createTaskApiApp } from './task-api/app.js';
export { createLogger } from './observability/logger.js';
