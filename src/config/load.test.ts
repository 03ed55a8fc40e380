import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, redactConfig } from './load.js';

const noFiles = { dotenvPath: false as const, configDir: '/nonexistent' };

describe('loadConfig', () => {
  it('uses the seed defaults when nothing is set', () => {
    const c = loadConfig({ env: {}, ...noFiles });
    expect(c.processing).toMatchObject({ pollInterval: 30_000, batchSize: 10, maxRetries: 3, timeout: 300_000 });
    expect(c.codegen.apiUrl).toBe('https://api.codegen.com');
    expect(c.github.apiUrl).toBe('https://api.github.com');
    expect(c.prManager.branches.prefix).toBe('codegen/task-');
  });

  it('reads the seed env var names and lists', () => {
    const c = loadConfig({
      env: {
        CLOUDFLARE_API_URL: 'http://127.0.0.1:1/',
        CLOUDFLARE_API_KEY: 'cf-secret',
        GITHUB_TOKEN: 'gh-secret',
        CODEGEN_API_KEY: 'cg-secret',
        CODEGEN_ORG_ID: '42',
        PR_LABELS: 'a, b',
        CONCURRENCY: '7',
        GITHUB_REPOSITORIES: '{"o/r":{"labels":["x"],"baseBranch":"dev"}}',
      },
      ...noFiles,
    });
    expect(c.cloudflareApi.baseUrl).toBe('http://127.0.0.1:1/');
    expect(c.codegen.orgId).toBe('42');
    expect(c.prManager.pr.labels).toEqual(['a', 'b']);
    expect(c.processing.concurrency).toBe(7);
    expect(c.github.repositories['o/r']).toEqual({ labels: ['x'], baseBranch: 'dev' });
    const shown = JSON.stringify(redactConfig(c));
    for (const secret of ['cf-secret', 'gh-secret', 'cg-secret']) expect(shown).not.toContain(secret);
  });

  it('reads the prompt, PR and feedback options from the environment too', () => {
    const c = loadConfig({
      env: {
        PROMPT_REQUIRE_TESTS: 'false',
        PROMPT_LANGUAGE: 'python',
        PR_COMMIT_SIGN_OFF: 'true',
        FEEDBACK_ERROR_RATE_THRESHOLD: '0.5',
      },
      ...noFiles,
    });
    expect(c.promptGenerator.quality.requireTests).toBe(false);
    expect(c.promptGenerator.codeStyle.language).toBe('python');
    expect(c.prManager.commits.signOff).toBe(true);
    expect(c.feedbackHandler.thresholds.errorRateThreshold).toBe(0.5);
  });

  it('refuses a bad value, naming the key and env var, with exit code 78', () => {
    let caught: unknown;
    try {
      loadConfig({ env: { CONCURRENCY: 'many' }, ...noFiles });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).exitCode).toBe(78);
    expect((caught as Error).message).toContain('processing.concurrency (env CONCURRENCY)');
  });

  it('takes up to 5000 tasks in flight in one process, and names the variable above that', () => {
    const c = loadConfig({ env: { CONCURRENCY: '5000', BATCH_SIZE: '5000' }, ...noFiles });
    expect(c.processing).toMatchObject({ concurrency: 5000, batchSize: 5000 });
    expect(loadConfig({ env: { CONCURRENCY: '2000' }, ...noFiles }).processing.concurrency).toBe(2000);
    let caught: unknown;
    try {
      loadConfig({ env: { CONCURRENCY: '5001' }, ...noFiles });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toContain('processing.concurrency (env CONCURRENCY)');
    expect((caught as Error).message).toContain('from 1 to 5000');
  });

  it('refuses an unknown key in a config file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    writeFileSync(path.join(dir, 'default.json'), JSON.stringify({ processing: { concurency: 3 } }));
    expect(() => loadConfig({ env: {}, dotenvPath: false, configDir: dir })).toThrow(
      /unknown configuration key "processing.concurency"/,
    );
  });

  it('lets the environment win over files and .env fill what the environment lacks', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    writeFileSync(path.join(dir, 'default.json'), JSON.stringify({ processing: { batchSize: 3, concurrency: 4 } }));
    const dotenv = path.join(dir, '.env');
    writeFileSync(dotenv, 'BATCH_SIZE=9\nCODEGEN_ORG_ID=7\n');
    const c = loadConfig({ env: { BATCH_SIZE: '5' }, configDir: dir, dotenvPath: dotenv });
    expect(c.processing.batchSize).toBe(5);
    expect(c.processing.concurrency).toBe(4);
    expect(c.codegen.orgId).toBe('7');
  });
});

function refusal(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig: files', () => {
  const repoConfig = path.resolve('config');

  it.each(['development', 'test', 'production'])('loads the shipped config files for NODE_ENV=%s', (nodeEnv) => {
    const c = loadConfig({ env: { NODE_ENV: nodeEnv }, dotenvPath: false, configDir: repoConfig });
    expect(c.env).toBe(nodeEnv);
  });

  it('reads a template choice and per-repository overrides from a file, key by key', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const file = path.join(dir, 'mine.json');
    writeFileSync(
      file,
      JSON.stringify({
        promptGenerator: { templates: { feature: 'bugfix_template' } },
        github: { repositories: { 'acme/widgets': { reviewers: ['alice'], draft: true } } },
      }),
    );
    const c = loadConfig({ env: { CODEGEN_PR_CONFIG: file }, ...noFiles });
    expect(c.promptGenerator.templates).toEqual({
      feature: 'bugfix_template',
      bugfix: 'bugfix_template',
      refactor: 'refactor_template',
      documentation: 'docs_template',
      test: 'test_template',
      default: 'default_template',
    });
    expect(c.github.repositories).toEqual({ 'acme/widgets': { reviewers: ['alice'], draft: true } });
  });

  it('names a broken config/<env>.json by path without quoting it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    writeFileSync(path.join(dir, 'test.json'), '{"log": {"level": "warn"},\n  "token": ghp_inline_secret }');
    const error = refusal(() => loadConfig({ env: { NODE_ENV: 'test' }, dotenvPath: false, configDir: dir }));
    expect(error.message).toContain(`config file "${path.join(dir, 'test.json')}" is not valid JSON`);
    expect(error.message).not.toContain('ghp_inline_secret');
  });

  it('names an unreadable .env by path', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const error = refusal(() => loadConfig({ env: {}, configDir: '/nonexistent', dotenvPath: dir }));
    expect(error.message).toContain(`.env file "${dir}" is not a regular file`);
  });

  it('refuses an unknown key in code overrides', () => {
    const overrides = { processing: { pollIntervalMs: 5 } } as never;
    const error = refusal(() => loadConfig({ env: {}, ...noFiles, overrides }));
    expect(error.issues.map((i) => i.key)).toEqual(['processing.pollIntervalMs']);
    expect(error.message).toContain('in code overrides');
  });
});

describe('loadConfig: values', () => {
  it('reads lists as JSON arrays or comma-separated, the same way', () => {
    const json = loadConfig({ env: { PR_REVIEWERS: '["a","b"]', PR_LABELS: '["needs review", "bot"]' }, ...noFiles });
    const csv = loadConfig({ env: { PR_REVIEWERS: 'a, b', PR_LABELS: 'needs review,bot' }, ...noFiles });
    expect(json.prManager.pr.defaultReviewers).toEqual(['a', 'b']);
    expect(csv.prManager.pr).toMatchObject({ defaultReviewers: ['a', 'b'], labels: ['needs review', 'bot'] });
    expect(json.prManager.pr.labels).toEqual(['needs review', 'bot']);
  });

  it('reads the six PROMPT_TEMPLATE_* variables', () => {
    const c = loadConfig({ env: { PROMPT_TEMPLATE_TEST: 'feature_template' }, ...noFiles });
    expect(c.promptGenerator.templates.test).toBe('feature_template');
    expect(c.promptGenerator.templates.feature).toBe('feature_template');
  });

  it('reports every bad value at once, one line each, in schema order', () => {
    const error = refusal(() =>
      loadConfig({ env: { DRY_RUN: 'maybe', POLL_INTERVAL_MS: '0', HOST: 'garbage' }, ...noFiles }),
    );
    expect(error.issues.map((i) => i.env)).toEqual(['POLL_INTERVAL_MS', 'DRY_RUN', 'HOST']);
    expect(error.message.split('\n')).toHaveLength(4);
  });

  it('accepts the Task API limits exactly at their bounds', () => {
    const c = loadConfig({
      env: {
        CLOUDFLARE_API_URL: 'http://127.0.0.1:1',
        BATCH_SIZE: '100',
        CONCURRENCY: '100',
        TASK_LEASE_MS: '3600000',
      },
      ...noFiles,
    });
    expect(c.processing).toMatchObject({ batchSize: 100, concurrency: 100 });
    // Off the Task API (PostgreSQL or PGlite) the daemon's own, wider limits apply.
    const local = loadConfig({ env: { BATCH_SIZE: '500', TASK_LEASE_MS: '2147483647' }, ...noFiles });
    expect(local.taskStore.leaseMs).toBe(2_147_483_647);
  });
});
