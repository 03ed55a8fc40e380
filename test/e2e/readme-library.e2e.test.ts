/**
 * The README's library example, read from README.md at test time and run verbatim as a user's module that imports
 * `codegen-pr`: against the Codegen and GitHub fakes on loopback it prints the PR it made; with no variables set at
 * all it is a dry run that says so. Either way it exits by itself and leaves no ./data in the caller's directory.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCodegenFake, type CodegenFake } from '../fakes/codegen-fake.js';
import { startGitHubFake, type GitHubFake } from '../fakes/github-fake.js';

/** The first ```js block under "## Using it as a library". */
function readmeSnippet(): string {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Using it as a library'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error('README.md has no ```js block under "## Using it as a library"');
  return match[1];
}

/** A user's project: the snippet as index.mjs, and `codegen-pr` installed (a link to this package). */
function userProject(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'codegen-pr-user-'));
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(path.resolve('.'), path.join(dir, 'node_modules', 'codegen-pr'), 'dir');
  writeFileSync(path.join(dir, 'index.mjs'), readmeSnippet());
  return dir;
}

function runNode(cwd: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['index.mjs'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

describe("the README's library example, verbatim", () => {
  let codegen: CodegenFake;
  let github: GitHubFake;

  beforeAll(async () => {
    github = await startGitHubFake();
    codegen = await startCodegenFake({
      repos: [{ id: 7, full_name: 'acme/widgets' }],
      pollsUntilDone: 1,
      onRunFinished: async (run) => {
        const branch = `codegen-bot/run-${run.id}`;
        github.createBranch('acme', 'widgets', branch);
        const pr = github.openPullRequestAsAgent({ owner: 'acme', repo: 'widgets', head: branch, title: 'JWT' });
        return { url: pr.html_url, branch };
      },
    });
  });
  afterAll(async () => {
    await codegen?.close();
    await github?.close();
  });

  it('makes a PR through the fakes and prints it', async () => {
    const cwd = userProject();
    const { code, out } = await runNode(cwd, {
      GITHUB_TOKEN: github.token,
      GITHUB_API_URL: github.url,
      CODEGEN_API_KEY: codegen.token,
      CODEGEN_ORG_ID: String(codegen.orgId),
      CODEGEN_API_URL: codegen.url,
    });
    expect({ code, out }).toMatchObject({ code: 0 });
    const url = /PR created: (\S+)/.exec(out)?.[1];
    expect(url).toMatch(/^https?:\/\/\S+\/acme\/widgets\/pull\/\d+$/);
    expect(out).toContain(`PR ${url}`); // the pr_created event
    expect(out).not.toContain('undefined');
    expect(codegen.runs.some((r) => r.metadata?.task_id === 'task-123')).toBe(true);
    expect(existsSync(path.join(cwd, 'data'))).toBe(false);
  }, 90_000);

  it('is a dry run with no variables set, and says so', async () => {
    const cwd = userProject();
    const { code, out } = await runNode(cwd, {});
    expect({ code, out }).toMatchObject({ code: 0 });
    expect(out).toMatch(/^dry run \(no credentials\): a \d+-character prompt, no PR$/m);
    expect(out).not.toContain('undefined');
    expect(existsSync(path.join(cwd, 'data'))).toBe(false);
  }, 60_000);
});
