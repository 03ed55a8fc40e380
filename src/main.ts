#!/usr/bin/env node
/**
 * The codegen-pr command line, and the daemon's composition root.
 *
 *   codegen-pr run                 start the daemon (default)
 *   codegen-pr task-api            serve the Task API on Node
 *   codegen-pr tasks <sub> ...     add | list | show | retry | cancel tasks in the configured store
 *   codegen-pr config [--env]      print the effective configuration (secrets masked), or the env var table
 */
import { ConfigError, loadConfig, redactConfig, type AppConfig } from './config/load.js';
import { envTable } from './config/docs.js';
import { CodegenClient, VERSION } from './client.js';
import { createLogger } from './observability/logger.js';
import { startHttpServer } from './observability/http-server.js';
import { handleShutdownSignals } from './daemon/shutdown.js';
import { openTaskStore } from './adapters/open-store.js';
import { runTasksCommand } from './cli/tasks-command.js';
import { startTaskApiServer } from './task-api/node-server.js';
import { openPgliteTaskStore, openPostgresTaskStore } from './adapters/task-store/index.js';

const HELP = `codegen-pr ${VERSION}: turns queued coding tasks into GitHub pull requests through Codegen agents.

Usage:
  codegen-pr run                 start the daemon (the default command)
  codegen-pr task-api            serve the Task API (PostgreSQL via DATABASE_URL, else embedded PGlite)
  codegen-pr tasks add ...       add tasks (flags, or --file tasks.json|yaml)
  codegen-pr tasks list          list tasks (--status, --limit)
  codegen-pr tasks show <id>     a task and its history
  codegen-pr tasks retry <id>    put a failed or cancelled task back in the queue
  codegen-pr tasks cancel <id>   cancel a task
  codegen-pr config              print the effective configuration (secrets masked)
  codegen-pr config --env        list every environment variable with its default
  codegen-pr --version | --help

Configuration comes from config/default.json, config/<NODE_ENV>.json, .env and the environment.
See README.md for every option.`;

async function main(argv: string[]): Promise<number> {
  const [command = 'run', ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    console.log(VERSION);
    return 0;
  }
  switch (command) {
    case 'run':
      return runDaemon();
    case 'task-api':
      return runTaskApi();
    case 'tasks':
      return runTasks(rest);
    case 'config':
      if (rest.includes('--env')) console.log(envTable());
      else console.log(JSON.stringify(redactConfig(loadConfig()), null, 2));
      return 0;
    default:
      console.error(`unknown command "${command}"\n\n${HELP}`);
      return 64;
  }
}

async function runDaemon(): Promise<number> {
  const config = loadConfig();
  const logger = createLogger({ level: config.log.level });
  const client = new CodegenClient({}, { env: process.env, configDir: 'config', dotenv: true, logger });
  await client.initialize();
  const server = await startHttpServer(
    {
      registry: client.metricsRegistry.registry,
      readiness: () => client.readiness(),
      status: () => client.getStatus(),
      logger,
    },
    config.server,
  );
  // Before the line that says we are up: logging is synchronous, so whoever reads it may signal at once.
  handleShutdownSignals({
    logger,
    repeatWindowMs: config.processing.shutdownSignalWindowMs,
    drain: async () => {
      await client.shutdown();
      await server.close();
    },
  });
  logger.info({ url: server.url, endpoints: ['/metrics', '/healthz', '/readyz', '/status'] }, 'HTTP endpoint up');
  client.start();
  return new Promise<number>(() => {
    // Runs until a signal; handleShutdownSignals exits the process.
  });
}

async function runTaskApi(): Promise<number> {
  const config = loadConfig();
  const logger = createLogger({ level: config.log.level });
  const apiKey = config.taskApi.apiKey || config.cloudflareApi.apiKey;
  if (!apiKey) {
    throw new ConfigError('the Task API needs a bearer token: set TASK_API_KEY (or CLOUDFLARE_API_KEY)');
  }
  const defaultMaxAttempts = config.processing.maxRetries + 1;
  const store = config.taskStore.databaseUrl
    ? await openPostgresTaskStore({
        connectionString: config.taskStore.databaseUrl,
        schema: config.taskStore.schema,
        defaultMaxAttempts,
      })
    : await openPgliteTaskStore({ dataDir: config.taskStore.pgliteDir, defaultMaxAttempts });
  const server = await startTaskApiServer({
    store,
    apiKey,
    port: config.taskApi.port,
    host: config.taskApi.host,
    logger,
  });
  handleShutdownSignals({
    logger,
    repeatWindowMs: config.processing.shutdownSignalWindowMs,
    drain: async () => {
      await server.close();
      await store.close();
    },
  });
  logger.info({ url: server.url, store: config.taskStore.databaseUrl ? 'postgres' : 'pglite' }, 'Task API listening');
  return new Promise<number>(() => {});
}

async function runTasks(argv: string[]): Promise<number> {
  const config: AppConfig = loadConfig();
  const logger = createLogger({ level: 'warn' });
  const { store } = await openTaskStore(config, { logger });
  try {
    return await runTasksCommand(argv, {
      store,
      out: (line) => console.log(line),
      err: (line) => console.error(line),
    });
  } finally {
    await store.close();
  }
}

/**
 * A reader that went away (`codegen-pr run | head -2`, a log shipper that died) makes every later write to
 * stdout or stderr fail with EPIPE, emitted as an 'error' event: without a listener that event would crash the
 * process mid-drain. Output is lost either way; shutting down cleanly is not.
 */
function ignoreClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'EBADF') throw err;
    });
  }
}

ignoreClosedOutput();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      console.error(`codegen-pr: ${err.message}`);
      process.exit(err.exitCode);
    }
    const message = err instanceof Error ? err.message : String(err);
    console.error(`codegen-pr: ${message}`);
    process.exit(1);
  },
);
