/**
 * Loading and validating configuration. The only module that reads the environment; it takes `env` so tests
 * pass their own. Bad configuration throws ConfigError, which the CLI turns into exit code 78 (EX_CONFIG).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import convict from 'convict';
import dotenv from 'dotenv';
import { schema } from './schema.js';

export interface RepoOverride {
  labels?: string[];
  reviewers?: string[];
  teamReviewers?: string[];
  assignees?: string[];
  baseBranch?: string;
  draft?: boolean;
}

/** The validated configuration, as the rest of the daemon sees it. */
export interface AppConfig {
  env: 'development' | 'test' | 'production';
  cloudflareApi: { baseUrl: string; apiKey: string; timeout: number };
  taskStore: {
    kind: 'auto' | 'http' | 'postgres' | 'pglite';
    databaseUrl: string;
    schema: string;
    pgliteDir: string;
    leaseMs: number;
  };
  github: {
    token: string;
    repository: string;
    apiUrl: string;
    appId: string;
    privateKey: string;
    installationId: string;
    repositories: Record<string, RepoOverride>;
    writeMinTimeMs: number;
    notificationMinTimeMs: number;
    requestTimeout: number;
  };
  codegen: {
    apiUrl: string;
    apiKey: string;
    orgId: string;
    requestTimeout: number;
    pollInitialMs: number;
    pollMaxMs: number;
    pollBackoff: number;
    pausedPolicy: 'wait' | 'resume' | 'fail';
    model: string;
    agentType: '' | 'codegen' | 'claude_code';
  };
  processing: {
    pollInterval: number;
    batchSize: number;
    concurrency: number;
    maxRetries: number;
    timeout: number;
    shutdownGraceMs: number;
    shutdownSignalWindowMs: number;
    dryRun: boolean;
  };
  auth: { validateOnStartup: boolean; probeIntervalMs: number };
  promptGenerator: {
    templates: Record<'feature' | 'bugfix' | 'refactor' | 'documentation' | 'test' | 'default', string>;
    templatesDir: string;
    codeStyle: { language: string; framework: string; testFramework: string; linting: string; formatting: string };
    context: {
      includeFileStructure: boolean;
      includeRelatedFiles: boolean;
      includeDependencies: boolean;
      maxContextLength: number;
    };
    quality: {
      requireTests: boolean;
      requireDocumentation: boolean;
      requireTypeChecking: boolean;
      requireErrorHandling: boolean;
    };
  };
  prManager: {
    branches: { prefix: string; baseBranch: string; autoDelete: boolean };
    pr: {
      autoAssign: boolean;
      assignees: string[];
      defaultReviewers: string[];
      teamReviewers: string[];
      labels: string[];
      draft: boolean;
      onNoChanges: 'fail' | 'complete';
      taskUrlTemplate: string;
    };
    commits: { messageTemplate: string; signOff: boolean; gpgSign: boolean };
  };
  feedbackHandler: {
    retry: { maxRetries: number; baseDelay: number; maxDelay: number; backoffMultiplier: number; jitter: boolean };
    feedback: {
      enableLearning: boolean;
      patternAnalysis: boolean;
      errorCategorization: boolean;
      successPatternTracking: boolean;
    };
    thresholds: { errorRateThreshold: number; retryDelayIncrease: number; maxConsecutiveFailures: number };
  };
  rateLimits: {
    codegenCreatePerMinute: number;
    codegenRequestsPer30s: number;
    /** Percent of each documented limit kept free (0-99). */
    headroom: number;
    replicas: number;
    redisUrl: string;
    maxRetryAfterMs: number;
  };
  breaker: { errorThresholdPercentage: number; resetTimeoutMs: number; volumeThreshold: number };
  server: { port: number; host: string };
  taskApi: { port: number; host: string; apiKey: string };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  worker: { name: string };
}

/** A partial AppConfig, as a library user passes it to CodegenClient. */
export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};

/** Configuration that cannot start the daemon. The message names the key and what to set. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** sysexits.h EX_CONFIG */
  readonly exitCode = 78;
}

export interface LoadOptions {
  /** Environment to read; defaults to process.env. Not modified. */
  env?: NodeJS.ProcessEnv;
  /** Directory holding default.json and <env>.json. Defaults to ./config under the working directory. */
  configDir?: string;
  /** Read ./.env (or this file) into the environment copy first. Default true. */
  dotenvPath?: string | false;
  /** Values from code (library use); applied after files, before the environment. */
  overrides?: DeepPartial<AppConfig>;
}

/** Schema paths to env var names, for messages that say what to set. */
function envNameFor(key: string): string | undefined {
  let node: unknown = schema;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  const env = (node as { env?: string } | undefined)?.env;
  return typeof env === 'string' ? env : undefined;
}

/** Turn convict's multi-line validation message into lines that each name the key and the env var to set. */
function explain(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const unknown = /^configuration param '([^']+)' not declared in the schema/.exec(line);
      if (unknown) return `unknown configuration key "${unknown[1]}": remove it or fix its spelling`;
      const bad = /^([A-Za-z0-9_.]+): (.*)$/.exec(line);
      if (bad && bad[1] && bad[2]) {
        const env = envNameFor(bad[1]);
        return `${bad[1]}${env ? ` (env ${env})` : ''}: ${bad[2].replace(/: value was ".*"$/, '')}`;
      }
      return line;
    })
    .join('\n');
}

function readDotenv(file: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!existsSync(file)) return env;
  const parsed = dotenv.parse(readFileSync(file));
  // Real environment wins over .env, as users expect.
  return { ...parsed, ...env };
}

export function loadConfig(options: LoadOptions = {}): AppConfig {
  let env = { ...(options.env ?? process.env) };
  if (options.dotenvPath !== false) env = readDotenv(path.resolve(options.dotenvPath ?? '.env'), env);

  const config = convict(schema, { env, args: [] });
  const configDir = options.configDir ?? path.resolve('config');
  const files = [path.join(configDir, 'default.json'), path.join(configDir, `${config.get('env')}.json`)];
  if (env.CODEGEN_PR_CONFIG) files.push(path.resolve(env.CODEGEN_PR_CONFIG));
  try {
    for (const file of files) if (existsSync(file)) config.loadFile(file);
    // convict re-applies the environment after every load, so env vars win over files and code overrides.
    if (options.overrides) {
      // convict walks objects it is given key by key into the schema, and "owner/repo" keys are not schema keys:
      // the per-repository map is set as one value instead.
      const { github, ...rest } = options.overrides;
      const { repositories, ...githubRest } = github ?? {};
      config.load({ ...rest, ...(github ? { github: githubRest } : {}) });
      if (repositories !== undefined && env.GITHUB_REPOSITORIES === undefined) {
        config.set('github.repositories', repositories as never);
      }
    }
    config.validate({ allowed: 'strict' });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`invalid configuration:\n${explain(message)}`);
  }
  const result = config.getProperties() as unknown as AppConfig;
  result.github.privateKey = result.github.privateKey.replace(/\\n/g, '\n');
  return result;
}

/** A copy of the configuration safe to print: every sensitive value masked. */
export function redactConfig(config: AppConfig): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(config)) as Record<string, Record<string, unknown>>;
  const mask = (section: string, key: string): void => {
    const s = copy[section];
    if (s && typeof s[key] === 'string' && s[key] !== '') s[key] = '[redacted]';
  };
  mask('cloudflareApi', 'apiKey');
  mask('taskStore', 'databaseUrl');
  mask('github', 'token');
  mask('github', 'privateKey');
  mask('codegen', 'apiKey');
  mask('rateLimits', 'redisUrl');
  mask('taskApi', 'apiKey');
  return copy;
}
