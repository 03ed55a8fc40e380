/**
 * A process that owns ./data as a daemon does (the built openTaskStore, role daemon: lock, serve) and writes
 * without pause: batches of BATCH tasks named <PREFIX>-<n>, printing `committed <n>` after each batch is
 * committed. The SIGKILL test kills it mid-write and checks that every batch it reported is still there.
 * Run from the repository root: node test/e2e/store-writer.mjs <cwd> <prefix>.
 */
import path from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const [cwd, prefix] = process.argv.slice(2);
const BATCH = 25;
const dist = (file) => pathToFileURL(path.resolve('dist/src', file)).href;

const { loadConfig } = await import(dist('config/load.js'));
const { openTaskStore } = await import(dist('adapters/open-store.js'));
const { silentLogger } = await import(dist('observability/logger.js'));

process.chdir(cwd);
const config = loadConfig({ env: {}, configDir: '/nonexistent', dotenvPath: false });
const { store } = await openTaskStore(config, { logger: silentLogger(), role: 'daemon' });
process.stdout.write('owner\n');
for (let n = 0; ; n++) {
  const tasks = Array.from({ length: BATCH }, (_, i) => ({
    id: `${prefix}-${n * BATCH + i}`,
    title: `Written ${n}.${i}`,
    description: 'x'.repeat(500),
  }));
  await store.addTasks(tasks, 'writer');
  process.stdout.write(`committed ${(n + 1) * BATCH}\n`);
}
