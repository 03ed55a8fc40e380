/**
 * Loading and validating configuration. The only module that reads the environment; it takes `env` so tests
 * pass their own. Bad configuration throws ConfigError, which the CLI turns into exit code 78 (EX_CONFIG).
 */
import path from 'node:path';
import convict from 'convict';
import { parseConfigJson, readConfigFile, withDotenv, type FileLabel } from './files.js';
import { registerFormats } from './formats.js';
import { configErrorFrom, type ConfigIssue } from './issues.js';
import { checkPromptSettings } from './prompt-checks.js';
import { checkRelations } from './relations.js';
import { schema } from './schema.js';
import { checkValues, flattenAgainstSchema } from './validate.js';

export { ConfigError, type ConfigIssue } from './issues.js';
export { configuredSecrets, redactConfig, redactUrl } from './redact.js';

const NODE_ENVS: readonly string[] = schema.env.format;

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
    kind: 'auto' | 'http' | 'postgres' | 'sqlite' | 'pglite';
    databaseUrl: string;
    schema: string;
    dataDir: string;
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
    taskDeadlineMs: number;
    maxLeaseExpiries: number;
    repoMaxInFlight: number;
    repoMaxInFlightOverrides: Record<string, number>;
    repositoryParkMs: number;
    outageRetryMs: number;
    shutdownGraceMs: number;
    shutdownSignalWindowMs: number;
    dryRun: boolean;
  };
  health: { probeIntervalMs: number; maxProbeIntervalMs: number; probeTimeoutMs: number };
  reconcile: { intervalMs: number; maxPages: number };
  retention: { days: number; ms: number; intervalMs: number; batchSize: number; maxBatches: number };
  replicas: { reportIntervalMs: number };
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
  server: { port: number; host: string; authToken: string };
  taskApi: { port: number; host: string; apiKey: string; statusReadOnlyKey: string; statusReadOnly: boolean };
  log: {
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    format: 'auto' | 'pretty' | 'json';
    heartbeatMs: number;
  };
  worker: { name: string };
}

/** A partial AppConfig, as a library user passes it to CodegenClient. */
export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};

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

/** The files read before the environment, lowest precedence first; only CODEGEN_PR_CONFIG must exist. */
function configFiles(configDir: string, nodeEnv: unknown, env: NodeJS.ProcessEnv): [string, FileLabel][] {
  const files: [string, FileLabel][] = [
    [path.join(configDir, 'default.json'), { label: 'config file', required: false }],
  ];
  // An unknown NODE_ENV is refused by name below; it must not pick a file such as "../x.json".
  if (typeof nodeEnv === 'string' && NODE_ENVS.includes(nodeEnv)) {
    files.push([path.join(configDir, `${nodeEnv}.json`), { label: 'config file', required: false }]);
  }
  // An empty value (a blank line copied from .env.example) names no file.
  if (env.CODEGEN_PR_CONFIG !== undefined && env.CODEGEN_PR_CONFIG !== '') {
    const label = { label: 'CODEGEN_PR_CONFIG', env: 'CODEGEN_PR_CONFIG', required: true };
    files.push([path.resolve(env.CODEGEN_PR_CONFIG), label]);
  }
  return files;
}

/** The one convict method apply() needs, untyped: keys come from the schema walk, not from literals. */
interface Settable {
  set(key: string, value: unknown): unknown;
}

/** Sets every known key of `object` on `config`, returning issues for the keys the schema does not have. */
function apply(config: Settable, object: Record<string, unknown>, source: string): ConfigIssue[] {
  const { entries, issues } = flattenAgainstSchema(object, source);
  // Whole values, key by key: convict would walk into the per-repository map's "owner/repo" keys otherwise.
  for (const [key, value] of entries) config.set(key, value);
  return issues;
}

/**
 * Loads and checks the configuration: defaults, config/default.json, config/<NODE_ENV>.json, the file named by
 * CODEGEN_PR_CONFIG, code overrides, then the environment (.env filling in what it lacks). Every value is
 * checked against its format, then the rules between keys and the prompt templates; any problem throws one
 * ConfigError listing each key, its variable and what to set (exit code 78).
 */
export function loadConfig(options: LoadOptions = {}): AppConfig {
  registerFormats();
  let env = { ...(options.env ?? process.env) };
  const issues: ConfigIssue[] = [];
  if (options.dotenvPath !== false) {
    const read = withDotenv(path.resolve(options.dotenvPath ?? '.env'), env);
    env = read.env;
    if (read.issue) issues.push(read.issue);
  }
  const config = convict(schema, { env, args: [] });
  const configDir = options.configDir ?? path.resolve('config');
  for (const [file, label] of configFiles(configDir, config.get('env'), env)) {
    const read = readConfigFile(file, label);
    if ('absent' in read) continue;
    if ('issue' in read) {
      issues.push(read.issue);
      continue;
    }
    const parsed = parseConfigJson(file, read.content, label);
    if ('issue' in parsed) issues.push(parsed.issue);
    else issues.push(...apply(config as unknown as Settable, parsed.object, `config file "${file}"`));
  }
  if (options.overrides) {
    issues.push(
      ...apply(config as unknown as Settable, options.overrides as Record<string, unknown>, 'code overrides'),
    );
  }
  // convict re-applies the environment on every load: the environment wins over files and code overrides.
  config.load({});
  const values = config.getProperties() as Record<string, unknown>;
  issues.push(...checkValues(values));
  if (issues.length === 0) {
    const result = values as unknown as AppConfig;
    issues.push(...checkRelations(result), ...checkPromptSettings(result));
  }
  if (issues.length > 0) throw configErrorFrom(issues);
  const result = values as unknown as AppConfig;
  result.github.privateKey = result.github.privateKey.replace(/\\n/g, '\n');
  return result;
}
