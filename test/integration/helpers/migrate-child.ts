/**
 * Child process of migrations-race.test.ts: migrates DATABASE_URL's schema MIGRATE_SCHEMA as a replica
 * starting up would. It prints `ready` once loaded, waits for `go` on stdin (so all children start together),
 * then prints one JSON line: the versions this process applied. Run through ts-node's ESM loader.
 */
import { createPostgresClient, migrate, openPostgresTaskStore } from '../../../src/adapters/task-store/index.js';

const connectionString = process.env.DATABASE_URL ?? '';
const schema = process.env.MIGRATE_SCHEMA ?? '';

async function waitForGo(): Promise<void> {
  process.stdin.setEncoding('utf8');
  let received = '';
  for await (const chunk of process.stdin) {
    received += String(chunk);
    if (received.includes('go')) return;
  }
}

async function main(): Promise<void> {
  process.stdout.write('ready\n');
  await waitForGo();
  const sql = createPostgresClient({ connectionString, poolSize: 1 });
  try {
    const { applied } = await migrate(sql, { schema });
    process.stdout.write(`${JSON.stringify({ applied })}\n`);
  } finally {
    await sql.close();
  }
  // The store's own opener migrates again (a no-op now) and must then work.
  const store = await openPostgresTaskStore({ connectionString, schema, poolSize: 1 });
  await store.ping();
  await store.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
