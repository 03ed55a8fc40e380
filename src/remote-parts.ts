/**
 * Builds the parts that talk to Codegen and GitHub, each behind its own guard (rate limits, breaker, retry,
 * timeout), and the Codegen token tracker (the seed's auth status). Pausing intake while a token is refused is
 * the dependency health monitor's job. Used only by CodegenClient (the composition root).
 */
import type { AppConfig } from './config/load.js';
import type { DaemonError } from './domain/errors.js';
import { toDaemonError } from './domain/errors.js';
import type { DaemonEvents } from './daemon/events.js';
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import type { AgentApi, CodeHost } from './pipeline/ports.js';
import { createCodegenApi, createCodegenAuth, type CodegenAuth } from './adapters/codegen/index.js';
import { createOctokit, createPullRequestManager } from './adapters/github/index.js';
import { recordGitHubRequests } from './adapters/github/request-metrics.js';
import { createCodegenGuard } from './resilience/index.js';
import { createGitHubPacing } from './resilience/github-pacing.js';
import type { Limiter } from './resilience/limiter.js';
import type { CircuitState, Guard } from './resilience/types.js';

export interface RemoteParts {
  agent: AgentApi;
  codeHost: CodeHost;
  auth?: CodegenAuth;
  reportAuthFailure(error: DaemonError): void;
  /** The Codegen token was refused at startup: the caller hands this to the health monitor. */
  startupAuthError?: DaemonError;
  circuits(): Record<string, CircuitState>;
  /** Whether each system's rate budgets are shared through Redis, local (Redis down, or none set), or absent. */
  budgets(): Record<string, string>;
  close(): Promise<void>;
}

export async function buildRemoteParts(
  config: AppConfig,
  deps: {
    logger: Logger;
    metrics: Metrics;
    events: DaemonEvents;
    agent?: AgentApi;
    codeHost?: CodeHost;
  },
): Promise<RemoteParts> {
  const { logger, events } = deps;
  const guards: Guard[] = [];
  let agent = deps.agent;
  if (!agent) {
    const guard = createCodegenGuard(config, { logger, metrics: deps.metrics });
    guards.push(guard);
    agent = createCodegenApi({
      baseUrl: config.codegen.apiUrl,
      apiKey: config.codegen.apiKey,
      orgId: config.codegen.orgId,
      timeoutMs: config.codegen.requestTimeout,
      guard,
      logger: logger.child({ dependency: 'codegen' }),
      ...(config.codegen.model ? { model: config.codegen.model } : {}),
      ...(config.codegen.agentType ? { agentType: config.codegen.agentType } : {}),
    });
  }

  let codeHost: CodeHost | undefined = deps.codeHost;
  let pacing: Limiter | undefined;
  if (codeHost === undefined) {
    const { github } = config;
    // GitHub's write pacing, shared by every replica through REDIS_URL like the Codegen budgets, and local
    // (each replica spacing its writes REPLICAS times further apart) while Redis is unreachable.
    pacing = createGitHubPacing(config, { logger: logger.child({ dependency: 'github' }), metrics: deps.metrics });
    const octokit = createOctokit({
      baseUrl: github.apiUrl,
      ...(github.token ? { token: github.token } : {}),
      ...(!github.token && github.appId
        ? { app: { appId: github.appId, privateKey: github.privateKey, installationId: github.installationId } }
        : {}),
      writeMinTimeMs: github.writeMinTimeMs,
      notificationMinTimeMs: github.notificationMinTimeMs,
      timeoutMs: github.requestTimeout,
      logger: logger.child({ dependency: 'github' }),
      pacing,
    });
    recordGitHubRequests(octokit, deps.metrics);
    codeHost = createPullRequestManager({ octokit, logger: logger.child({ dependency: 'github' }) });
  }

  const auth = createCodegenAuth({
    api: agent,
    orgId: config.codegen.orgId,
    probeIntervalMs: config.auth.probeIntervalMs,
    logger: logger.child({ component: 'auth' }),
  });
  // Pausing intake for a refused token is the dependency health monitor's job (credential:codegen); the
  // tracker keeps the seed's auth status and events.
  auth.on('auth_error', ({ error }) => {
    events.emit('auth_error', { dependency: 'codegen', code: error.code, message: error.message });
  });
  auth.on('auth_restored', () => {
    events.emit('auth_restored', { dependency: 'codegen' });
  });

  let startupAuthError: DaemonError | undefined;
  if (config.auth.validateOnStartup) {
    try {
      const me = await auth.validate();
      logger.info({ codegenUser: me.username ?? me.userId, orgId: config.codegen.orgId }, 'Codegen token accepted');
    } catch (raw) {
      const err = toDaemonError(raw);
      if (err.category === 'authentication') startupAuthError = err;
      else logger.warn({ err }, 'could not check the Codegen token at startup; going on');
    }
  }

  return {
    ...(startupAuthError ? { startupAuthError } : {}),
    agent,
    codeHost: codeHost as CodeHost,
    auth,
    reportAuthFailure: (error) => auth.reportFailure(error),
    circuits: () => Object.fromEntries(guards.map((g) => [g.dependency, g.circuitState()])),
    budgets: () => ({
      ...Object.fromEntries(guards.map((g) => [g.dependency, g.mode?.() ?? 'none'])),
      ...(pacing ? { github: pacing.mode() } : {}),
    }),
    close: async () => {
      auth.stop();
      await Promise.all(guards.map((g) => g.close()));
      await pacing?.close();
    },
  };
}
