/**
 * Every documented variable takes effect: each is set to a good value other than its default and must show
 * up under its key, alone in-process, and all together in `codegen-pr config` output (secrets masked).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { listOptions } from './docs.js';
import { loadConfig } from './load.js';

/** The value at a dotted path (kept here so this test also runs against older loaders). */
function valueAt(object: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], object);
}

const PEM = '-----BEGIN RSA PRIVATE KEY-----\\nMIIBOgIBAAJBAK\\n-----END RSA PRIVATE KEY-----';
const APP = { GITHUB_APP_ID: '12345', GITHUB_APP_PRIVATE_KEY: PEM, GITHUB_APP_INSTALLATION_ID: '678' };
const templatesDir = mkdtempSync(path.join(tmpdir(), 'cfg-templates-'));
writeFileSync(path.join(templatesDir, 'mine.md'), '# {{TASK_TITLE}}\n');

afterAll(() => rmSync(templatesDir, { recursive: true, force: true }));

/** A good value per variable, and (when reading it is not plain) the value expected under its key. */
const SAMPLES: Record<string, { value: string; expected?: unknown; with?: Record<string, string> }> = {
  NODE_ENV: { value: 'test' },
  CLOUDFLARE_API_URL: { value: 'https://tasks.example.com/' },
  CLOUDFLARE_API_KEY: { value: 'cf-key-123' },
  CLOUDFLARE_API_TIMEOUT_MS: { value: '12000' },
  TASK_STORE: { value: 'pglite' },
  DATABASE_URL: { value: 'postgres://db.example.com:5432/tasks' },
  DATABASE_SCHEMA: { value: 'tasks_v2' },
  DATA_DIR: { value: '/var/lib/codegen-pr' },
  PGLITE_DIR: { value: 'memory://' },
  TASK_LEASE_MS: { value: '90000' },
  GITHUB_TOKEN: { value: 'ghp_sampletoken' },
  GITHUB_REPOSITORY: { value: 'acme/widgets' },
  GITHUB_API_URL: { value: 'https://github.example.com/api/v3' },
  GITHUB_APP_ID: { value: APP.GITHUB_APP_ID, with: APP },
  GITHUB_APP_PRIVATE_KEY: { value: PEM, expected: PEM.replace(/\\n/g, '\n'), with: APP },
  GITHUB_APP_INSTALLATION_ID: { value: APP.GITHUB_APP_INSTALLATION_ID, with: APP },
  GITHUB_REPOSITORIES: {
    value: '{"acme/widgets":{"labels":["x"],"draft":true}}',
    expected: { 'acme/widgets': { labels: ['x'], draft: true } },
  },
  GITHUB_WRITE_MIN_TIME_MS: { value: '1500' },
  GITHUB_NOTIFICATION_MIN_TIME_MS: { value: '4000' },
  GITHUB_TIMEOUT_MS: { value: '20000' },
  CODEGEN_API_URL: { value: 'https://codegen.example.com' },
  CODEGEN_API_KEY: { value: 'cg-sample' },
  CODEGEN_ORG_ID: { value: '42' },
  CODEGEN_TIMEOUT_MS: { value: '25000' },
  CODEGEN_POLL_INITIAL_MS: { value: '2000' },
  CODEGEN_POLL_MAX_MS: { value: '30000' },
  CODEGEN_POLL_BACKOFF: { value: '2' },
  CODEGEN_PAUSED_POLICY: { value: 'fail' },
  CODEGEN_MODEL: { value: 'claude-sonnet' },
  CODEGEN_AGENT_TYPE: { value: 'claude_code' },
  POLL_INTERVAL_MS: { value: '15000' },
  BATCH_SIZE: { value: '20' },
  CONCURRENCY: { value: '8' },
  MAX_RETRIES: { value: '5' },
  TASK_TIMEOUT_MS: { value: '600000' },
  TASK_DEADLINE_MS: { value: '7200000' },
  TASK_MAX_LEASE_EXPIRIES: { value: '5' },
  REPO_MAX_IN_FLIGHT: { value: '3', expected: 3 },
  REPO_MAX_IN_FLIGHT_OVERRIDES: {
    value: '{"acme/web": 2, "acme/docs": 0}',
    expected: { 'acme/web': 2, 'acme/docs': 0 },
  },
  REPOSITORY_PARK_MS: { value: '120000' },
  OUTAGE_RETRY_MS: { value: '5000' },
  DEPENDENCY_PROBE_INTERVAL_MS: { value: '1000' },
  DEPENDENCY_PROBE_MAX_INTERVAL_MS: { value: '20000' },
  DEPENDENCY_PROBE_TIMEOUT_MS: { value: '4000' },
  RECONCILE_INTERVAL_MS: { value: '0' },
  RECONCILE_MAX_PAGES: { value: '3' },
  RETENTION_DAYS: { value: '7' },
  RETENTION_MS: { value: '60000' },
  RETENTION_INTERVAL_MS: { value: '120000' },
  RETENTION_BATCH_SIZE: { value: '100' },
  RETENTION_MAX_BATCHES: { value: '20' },
  REPLICA_REPORT_INTERVAL_MS: { value: '5000' },
  STATUS_PAGE_READ_ONLY_KEY: { value: 'read-only-status-key-123' },
  STATUS_PAGE_READ_ONLY: { value: 'true', expected: true },
  SHUTDOWN_GRACE_MS: { value: '45000' },
  SHUTDOWN_SIGNAL_WINDOW_MS: { value: '3000' },
  DRY_RUN: { value: 'true' },
  AUTH_VALIDATE_ON_STARTUP: { value: 'false' },
  AUTH_PROBE_INTERVAL_MS: { value: '30000' },
  PROMPT_TEMPLATE_FEATURE: { value: 'bugfix_template' },
  PROMPT_TEMPLATE_BUGFIX: { value: 'feature_template' },
  PROMPT_TEMPLATE_REFACTOR: { value: 'default_template' },
  PROMPT_TEMPLATE_DOCUMENTATION: { value: 'feature_template' },
  PROMPT_TEMPLATE_TEST: { value: 'default_template' },
  PROMPT_TEMPLATE_DEFAULT: { value: 'feature_template' },
  PROMPT_TEMPLATES_DIR: { value: templatesDir },
  PROMPT_LANGUAGE: { value: 'python' },
  PROMPT_FRAMEWORK: { value: 'django' },
  PROMPT_TEST_FRAMEWORK: { value: 'pytest' },
  PROMPT_LINTER: { value: 'ruff' },
  PROMPT_FORMATTER: { value: 'black' },
  PROMPT_INCLUDE_FILE_STRUCTURE: { value: 'false' },
  PROMPT_INCLUDE_RELATED_FILES: { value: '0' },
  PROMPT_INCLUDE_DEPENDENCIES: { value: 'FALSE' },
  PROMPT_MAX_CONTEXT_LENGTH: { value: '4000' },
  PROMPT_REQUIRE_TESTS: { value: 'false' },
  PROMPT_REQUIRE_DOCUMENTATION: { value: 'false' },
  PROMPT_REQUIRE_TYPE_CHECKING: { value: '1' },
  PROMPT_REQUIRE_ERROR_HANDLING: { value: 'false' },
  PR_BRANCH_PREFIX: { value: 'bot/task-' },
  PR_BASE_BRANCH: { value: 'develop' },
  PR_BRANCH_AUTO_DELETE: { value: 'true' },
  PR_AUTO_ASSIGN: { value: 'false' },
  PR_ASSIGNEES: { value: 'carol', expected: ['carol'] },
  PR_REVIEWERS: { value: '["alice", "codegen-sh[bot]"]', expected: ['alice', 'codegen-sh[bot]'] },
  PR_TEAM_REVIEWERS: { value: 'platform, infra', expected: ['platform', 'infra'] },
  PR_LABELS: { value: 'bot', expected: ['bot'] },
  PR_DRAFT: { value: 'true' },
  PR_ON_NO_CHANGES: { value: 'complete' },
  PR_TASK_URL_TEMPLATE: { value: 'https://tasks.example.com/t/{id}' },
  PR_COMMIT_MESSAGE_TEMPLATE: { value: 'chore: {{TASK_TITLE}} ({{TASK_ID}})' },
  PR_COMMIT_SIGN_OFF: { value: 'true' },
  PR_COMMIT_GPG_SIGN: { value: 'true' },
  FEEDBACK_MAX_RETRIES: { value: '4' },
  RETRY_BASE_DELAY_MS: { value: '2000' },
  RETRY_MAX_DELAY_MS: { value: '40000' },
  RETRY_BACKOFF_MULTIPLIER: { value: '3' },
  RETRY_JITTER: { value: 'false' },
  FEEDBACK_ENABLE_LEARNING: { value: 'false' },
  FEEDBACK_PATTERN_ANALYSIS: { value: 'false' },
  FEEDBACK_ERROR_CATEGORIZATION: { value: 'false' },
  FEEDBACK_SUCCESS_PATTERN_TRACKING: { value: 'false' },
  FEEDBACK_ERROR_RATE_THRESHOLD: { value: '0.5' },
  FEEDBACK_RETRY_DELAY_INCREASE: { value: '2' },
  FEEDBACK_MAX_CONSECUTIVE_FAILURES: { value: '7' },
  CODEGEN_CREATE_PER_MINUTE: { value: '5' },
  CODEGEN_REQUESTS_PER_30S: { value: '30' },
  RATE_LIMIT_HEADROOM: { value: '20' },
  REPLICAS: { value: '3' },
  REDIS_URL: { value: 'redis://cache.example.com:6379/1' },
  MAX_RETRY_AFTER_MS: { value: '120000' },
  BREAKER_ERROR_PERCENT: { value: '75' },
  BREAKER_RESET_MS: { value: '45000' },
  BREAKER_VOLUME_THRESHOLD: { value: '20' },
  PORT: { value: '9000' },
  HOST: { value: '0.0.0.0' },
  STATUS_TOKEN: { value: 'status-token-123456' },
  TASK_API_PORT: { value: '8080' },
  TASK_API_HOST: { value: '::1' },
  TASK_API_KEY: { value: 'tapi-key' },
  LOG_LEVEL: { value: 'debug' },
  LOG_FORMAT: { value: 'json' },
  LOG_HEARTBEAT_MS: { value: '15000' },
  WORKER_NAME: { value: 'worker-7' },
};

/** What `value` reads as under a key whose default is `defaultValue`, unless the sample says otherwise. */
function expectedFor(env: string, defaultValue: unknown): unknown {
  const sample = SAMPLES[env] as { value: string; expected?: unknown };
  if ('expected' in sample) return sample.expected;
  if (typeof defaultValue === 'number') return Number(sample.value);
  if (typeof defaultValue === 'boolean') return ['true', '1'].includes(sample.value.toLowerCase());
  return sample.value;
}

const documented = listOptions().filter((o) => o.env) as { key: string; env: string; default: unknown }[];

describe('every documented variable', () => {
  it('has a sample here, so a new variable cannot go untested', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(documented.map((o) => o.env).sort());
  });

  it.each(documented.map((o) => [o.env, o] as const))('%s takes effect', (env, option) => {
    const sample = SAMPLES[env];
    if (!sample) throw new Error(`no sample for ${env}`);
    const expected = expectedFor(env, option.default);
    expect(expected).not.toEqual(option.default);
    const config = loadConfig({
      env: { ...sample.with, [env]: sample.value },
      dotenvPath: false,
      configDir: '/nonexistent',
    });
    expect(valueAt(config, option.key)).toEqual(expected);
  });

  it('all together, in `codegen-pr config` output, secrets masked', async () => {
    const env = Object.fromEntries(Object.entries(SAMPLES).map(([name, s]) => [name, s.value]));
    const cwd = mkdtempSync(path.join(tmpdir(), 'cfg-all-'));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [path.resolve('dist/src/main.js'), 'config'],
        { cwd, env: { PATH: process.env.PATH ?? '', ...env } },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
      );
    });
    rmSync(cwd, { recursive: true, force: true });
    const shown = JSON.parse(stdout) as Record<string, unknown>;
    const secrets = new Set(
      listOptions().filter((o) => o.sensitive && o.env !== 'DATABASE_URL' && o.env !== 'REDIS_URL'),
    );
    for (const option of documented) {
      const expected = [...secrets].some((s) => s.key === option.key)
        ? '[redacted]'
        : expectedFor(option.env, option.default);
      expect({ key: option.key, value: valueAt(shown, option.key) }).toEqual({ key: option.key, value: expected });
    }
    for (const secret of ['cf-key-123', 'ghp_sampletoken', 'cg-sample', 'tapi-key', 'MIIBOgIBAAJBAK']) {
      expect(stdout).not.toContain(secret);
    }
  });
});
