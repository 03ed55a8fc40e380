/**
 * The status page in headless Chromium (Debian's chromium driven by playwright-core): the Task API on Node over
 * the embedded SQLite store; a task added through the API shows on the page (its hostile title as text, not
 * markup); Cancel and then Retry clicked in the page reach the store, recorded with the signed-in name.
 * CI installs chromium (.ci/run); elsewhere the test is skipped, saying why, when /usr/bin/chromium is missing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser } from 'playwright-core';
import { openSqliteTaskStore } from '../../src/adapters/task-store/sqlite/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { startTaskApiServer, type TaskApiServer } from '../../src/task-api/node-server.js';

const CHROMIUM = '/usr/bin/chromium';
const KEY = 'browser-test-task-api-key';
const TITLE = '<b>Bold</b> & "quoted" <script>window.pwned=1</script>';

const skipWhy = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install -y chromium)`;
if (skipWhy && process.env.CI) throw new Error(`CI must run the browser test, but ${skipWhy}`);
if (skipWhy) console.warn(`status page browser test skipped: ${skipWhy}`);

(skipWhy ? describe.skip : describe)('status page in headless Chromium', () => {
  let dir: string;
  let store: TaskStore;
  let server: TaskApiServer;
  let browser: Browser;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'codegen-pr-status-browser-'));
    store = await openSqliteTaskStore({ file: path.join(dir, 'codegen-pr.db') });
    server = await startTaskApiServer({ store, apiKey: KEY, port: 0, host: '127.0.0.1', logger: silentLogger() });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a task added through the API, and Cancel then Retry clicked in the page reach the store', async () => {
    const added = await fetch(`${server.url}/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'browser-1', title: TITLE, description: 'Clicked from a browser.' }),
    });
    expect(added.status).toBe(201);

    const context = await browser.newContext({ httpCredentials: { username: 'alice', password: KEY } });
    const page = await context.newPage();
    const response = await page.goto(`${server.url}/status`);
    expect(response?.status()).toBe(200);
    // The title is shown as text: the markup in it did not become elements, the script did not run.
    await page.getByText(TITLE).waitFor();
    expect(await page.evaluate('typeof globalThis.pwned')).toBe('undefined');

    await page.getByRole('link', { name: 'browser-1' }).click();
    await page.waitForURL(/\/status\/tasks\/browser-1$/);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL(/\/status\/tasks\/browser-1$/);
    expect((await store.getTask('browser-1'))?.status).toBe('cancelled');

    await page.getByRole('button', { name: 'Retry' }).click();
    await page.waitForURL(/\/status\/tasks\/browser-1$/);
    await page.getByRole('button', { name: 'Cancel' }).waitFor();
    expect((await store.getTask('browser-1'))?.status).toBe('pending');
    const history = await store.getTaskHistory('browser-1');
    expect(history.map((e) => [e.kind, e.actor])).toEqual([
      ['created', 'api'],
      ['cancelled', 'status-page:alice'],
      ['retried', 'status-page:alice'],
    ]);
    // The page's own history shows who did it.
    await page.getByRole('cell', { name: 'retried' }).waitFor();
    await context.close();
  }, 60_000);
});
