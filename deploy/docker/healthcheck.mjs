#!/usr/bin/env node
/**
 * The container's health check, for both commands the image runs:
 *   run       the daemon: GET http://127.0.0.1:$PORT/healthz          (PORT, default 9464)
 *   task-api  the Task API: GET http://127.0.0.1:$TASK_API_PORT/health (TASK_API_PORT, default 8787; no auth,
 *             answers 503 while its database does not)
 * Usage: node healthcheck.mjs [run|task-api]. Without an argument the command is read from the container's
 * main process (/proc/1/cmdline: tini -- node dist/src/main.js <command>), so one HEALTHCHECK fits both.
 * Exits 0 when healthy, 1 otherwise, within HEALTHCHECK_TIMEOUT_MS (default 3000).
 */
import { readFileSync } from 'node:fs';
import process from 'node:process';
/* global fetch, AbortSignal -- Node's own globals (Node 18 and later) */

/** The codegen-pr command PID 1 runs (the argument after main.js), or 'run', the image's default. */
function containerCommand() {
  try {
    const args = readFileSync('/proc/1/cmdline', 'utf8').split('\0');
    const main = args.findIndex((a) => a.endsWith('main.js'));
    if (main >= 0 && args[main + 1]) return args[main + 1];
  } catch {
    // Not in a container (or no /proc): fall back to the daemon.
  }
  return 'run';
}

const command = process.argv[2] ?? containerCommand();
const env = process.env;
const url =
  command === 'task-api'
    ? `http://127.0.0.1:${env.TASK_API_PORT || 8787}/health`
    : `http://127.0.0.1:${env.PORT || 9464}/healthz`;
const timeoutMs = Number(env.HEALTHCHECK_TIMEOUT_MS) || 3000;

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await response.arrayBuffer();
  if (!response.ok) {
    process.stderr.write(`unhealthy: ${url} answered ${response.status}\n`);
    process.exit(1);
  }
  process.exit(0);
} catch (err) {
  process.stderr.write(`unhealthy: ${url}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
