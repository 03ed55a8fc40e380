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
