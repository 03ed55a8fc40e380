/**
 * Long-lived abort signals with many listeners: each statement in flight on a PostgreSQL client listens on the
 * client's closing signal until it settles, so a daemon with CONCURRENCY above 10 had more than 10 at its first
 * busy moment, and Node printed "MaxListenersExceededWarning: Possible EventTarget memory leak detected" on its
 * stderr, which an operator takes for a leak. The listeners are removed as statements settle; the warning was
 * noise. Run in a process of its own (the built code), since the warning is printed once per signal by Node's
 * own process object, which a test inside Jest does not see.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const DATABASE_URL = process.env.DATABASE_URL;
const suite = DATABASE_URL ? describe : describe.skip;
if (!DATABASE_URL) console.warn('listeners.e2e: skipped: set DATABASE_URL to run statements on PostgreSQL');
const STORE = fileURLToPath(new URL('../../dist/src/adapters/task-store/index.js', import.meta.url));

function runScript(source: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: DATABASE_URL ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

suite('listeners on long-lived signals (needs DATABASE_URL and the build)', () => {
  it('40 statements in flight on one PostgreSQL client print no listener-leak warning', async () => {
    const app = `codegen-pr-listeners-${randomBytes(3).toString('hex')}`;
    const { code, stdout, stderr } = await runScript(`
      import { createPostgresClient } from ${JSON.stringify(STORE)};
      const client = createPostgresClient({ connectionString: process.env.DATABASE_URL, applicationName: '${app}', poolSize: 5 });
      const rows = await Promise.all(Array.from({ length: 40 }, (_, i) => client.query('SELECT $1::int AS n, pg_sleep(0.01)', [i])));
      await client.close();
      console.log(rows.map((r) => r.rows[0].n).join(','));
    `);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.trim()).toBe(Array.from({ length: 40 }, (_, i) => i).join(','));
  });
});
