/**
 * One "replica" for test/integration/shared-budget.test.ts: builds a limiter (shared through Redis when a URL is
 * given) and sends `count` requests to the test's loopback server through it, all queued at once.
 *
 * Protocol on stdio: after warming up it prints `ready`, waits for a `go` line on stdin (so no replica starts
 * while the others are still compiling), then prints one JSON line with the response statuses and exits by
 * itself. A deadline makes sure it never outlives the test.
 *
 * Usage (the test transpiles it first, see transpile-script.ts):
 *   node budget-client.js '{"serverUrl":"http://127.0.0.1:1234/hit","id":"x",...}'
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { silentLogger } from '../../../src/observability/logger.js';
import { createLimiter } from '../../../src/resilience/limiter.js';

interface ClientArgs {
  serverUrl: string;
  /** Limiter id; replicas with the same id and Redis share one budget. */
  id: string;
  name: string;
  count: number;
  max: number;
  perMs: number;
  minTimeMs?: number;
  redisUrl?: string;
  /** Exit with code 3 if not done by then, in ms. */
  deadlineMs: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ClientArgs;
const deadline = setTimeout(() => {
  console.error(`${args.name}: deadline of ${args.deadlineMs} ms passed`);
  process.exit(3);
}, args.deadlineMs);
deadline.unref();

/** GET the test server; `warmup` requests are not counted. */
async function hit(params: Record<string, string>): Promise<number> {
  const url = new URL(args.serverUrl);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.status;
}

// A cold process spends tens of ms on its first request; pay that before the measured ones.
await hit({ warmup: args.name });
const lines = createInterface({ input: process.stdin });
console.log('ready');
const [line] = (await once(lines, 'line')) as [string];
lines.close();
if (line.trim() !== 'go') throw new Error(`${args.name}: expected "go", got "${line}"`);

const limiter = createLimiter({
  id: args.id,
  budgets: { standard: { max: args.max, perMs: args.perMs, minTimeMs: args.minTimeMs ?? 0 } },
  logger: silentLogger(),
  ...(args.redisUrl ? { redis: { url: args.redisUrl } } : {}),
});

try {
  const statuses = await Promise.all(
    Array.from({ length: args.count }, (_, i) =>
      limiter.schedule('standard', () => hit({ from: args.name, i: String(i) })),
    ),
  );
  console.log(JSON.stringify({ name: args.name, statuses }));
} finally {
  await limiter.close();
}
