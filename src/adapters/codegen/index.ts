/** The Codegen adapter: the AgentApi implementation, its auth tracker, and the pure pieces they are built from. */
export {
  createCodegenApi,
  type CodegenApi,
  type CodegenApiOptions,
  type ListAgentRunsParams,
  type AgentRunPage,
} from './client.js';
export {
  createCodegenAuth,
  type CodegenAuth,
  type CodegenAuthOptions,
  type CodegenAuthStatus,
  type CodegenAuthUser,
  type CodegenAuthEvent,
  type CodegenAuthEvents,
  type CodegenAuthListener,
} from './auth.js';
export { classifyRunStatus, isFinalRunState } from './status.js';
export {
  classifyCodegenFailure,
  scrubSecrets,
  parseRetryAfter,
  DEFAULT_RATE_LIMIT_WAIT_MS,
  type CodegenFailure,
  type CodegenOperation,
} from './classify.js';
export {
  parseAgentRun,
  parseAgentRunPage,
  parseRepoPage,
  parseUser,
  type RawAgentRun,
  type RawPage,
} from './schema.js';
