import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, redactConfig, redactUrl } from './load.js';

/** Each URL variable with credentials in it, and the password that must never be shown. */
const URLS = {
  CLOUDFLARE_API_URL: ['https://tasks-user:cf-url-pass@tasks.example.com/api', 'cf-url-pass'],
  CODEGEN_API_URL: ['https://cg-user:cg-url-pass@codegen.example.com', 'cg-url-pass'],
  GITHUB_API_URL: ['https://gh-user:gh-url-pass@github.example.com/api/v3', 'gh-url-pass'],
  DATABASE_URL: ['postgres://app:db-url-pass@db.example.com:5432/tasks?sslmode=require', 'db-url-pass'],
  REDIS_URL: ['rediss://default:redis-url-pass@cache.example.com:6380/2', 'redis-url-pass'],
} as const;

const env = Object.fromEntries(Object.entries(URLS).map(([name, [url]]) => [name, url]));

describe('redactUrl', () => {
  it('masks user-info and keeps the rest readable', () => {
    expect(redactUrl('https://u:p@h.example.com:8443/a?b=c#d')).toBe('https://[redacted]@h.example.com:8443/a?b=c#d');
    expect(redactUrl('https://token-only@h.example.com/')).toBe('https://[redacted]@h.example.com/');
  });

  it('masks credential query parameters and leaves others', () => {
    expect(redactUrl('postgres://h/db?sslmode=require&password=hunter2')).toBe(
      'postgres://h/db?sslmode=require&password=[redacted]',
    );
    expect(redactUrl('https://h/x?access_token=abc&page=2')).toBe('https://h/x?access_token=[redacted]&page=2');
  });

  it('returns a URL without credentials exactly as written', () => {
    expect(redactUrl('https://api.codegen.com')).toBe('https://api.codegen.com');
    expect(redactUrl('')).toBe('');
  });

  it('masks credential-shaped text that does not parse as a URL', () => {
    expect(redactUrl('see http://u:secret-x@ and more')).not.toContain('secret-x');
  });
});

describe('redactConfig', () => {
  it('shows no URL credential and no token, and keeps hosts visible', () => {
    const config = loadConfig({
      env: { ...env, GITHUB_TOKEN: 'ghp_tok-123', CODEGEN_API_KEY: 'cg-key-123', TASK_API_KEY: 'tapi-123' },
      dotenvPath: false,
      configDir: '/nonexistent',
    });
    const shown = JSON.stringify(redactConfig(config));
    for (const [, secret] of Object.values(URLS)) expect(shown).not.toContain(secret);
    for (const secret of ['ghp_tok-123', 'cg-key-123', 'tapi-123']) expect(shown).not.toContain(secret);
    expect(shown).toContain('https://[redacted]@tasks.example.com/api');
    expect(shown).toContain('postgres://[redacted]@db.example.com:5432/tasks?sslmode=require');
    // The loaded configuration itself still carries the credentials the daemon needs.
    expect(config.cloudflareApi.baseUrl).toBe(URLS.CLOUDFLARE_API_URL[0]);
  });

  it('hides a secret URL whole when it cannot be parsed', () => {
    const config = loadConfig({ env: {}, dotenvPath: false, configDir: '/nonexistent' });
    config.taskStore.databaseUrl = 'host=db password=plain-pass';
    expect(JSON.stringify(redactConfig(config))).not.toContain('plain-pass');
  });

  it('`codegen-pr config` prints none of them', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'cfg-redact-'));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [path.resolve('dist/src/main.js'), 'config'],
        { cwd, env: { PATH: process.env.PATH ?? '', ...env } },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
      );
    });
    rmSync(cwd, { recursive: true, force: true });
    expect(JSON.parse(stdout)).toMatchObject({ codegen: { apiUrl: 'https://[redacted]@codegen.example.com/' } });
    for (const [, secret] of Object.values(URLS)) expect(stdout).not.toContain(secret);
  });
});
