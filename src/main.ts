#!/usr/bin/env node
/**
 * The codegen-pr command line, and the daemon's composition root.
 *
 *   codegen-pr run                 start the daemon (default)
 *   codegen-pr task-api            serve the Task API on Node
 *   codegen-pr tasks <sub> ...     add | list | show | retry | cancel tasks in the configured store
 *   codegen-pr config [--env]      print the effective configuration (secrets masked), or the env var table
 */
// Only what the first log line needs is imported up front; the daemon's heavy parts (Octokit, prom-client, the
// store drivers, the Task API) are imported once the command is known, so a start is visible within a second.
import { ConfigError, configuredSecrets, loadConfig, redactConfig, type AppConfig } from './config/load.js';
import { createRedactor } from './domain/redact.js';
import { isDaemonError } from './domain/errors.js';
import { envTable } from './config/docs.js';
import { VERSION } from './client-support.js';
import { createLogger } from './observability/logger.js';
import { handleShutdownSignals } from './daemon/shutdown.js';
import { openTaskStore } from './adapters/open-store.js';

const HELP = `codegen-pr ${VERSION}: turns queued coding tasks into GitHub pull requests through Codegen agents.

Usage:
  codegen-pr run                 start the daemon (the default command)
  codegen-pr task-api            serve the Task API (PostgreSQL via DATABASE_URL, else the embedded store)
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
  const redactor = createRedactor(configuredSecrets(config));
  const logger = createLogger({ level: config.log.level, redactor });
  logger.info({ version: VERSION, pid: process.pid }, 'codegen-pr starting');
  const [{ CodegenClient }, { startHttpServer }] = await Promise.all([
    import('./client.js'),
    import('./observability/http-server.js'),
  ]);
  const client = new CodegenClient(
    {},
    { env: process.env, configDir: 'config', dotenv: true, logger, storeRole: 'daemon', redactor },
  );
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
  const logger = createLogger({ level: config.log.level, redactor: createRedactor(configuredSecrets(config)) });
  const apiKey = config.taskApi.apiKey || config.cloudflareApi.apiKey;
  if (!apiKey) {
    throw new ConfigError('the Task API needs a bearer token: set TASK_API_KEY (or CLOUDFLARE_API_KEY)');
  }
  if (config.taskStore.kind === 'http') {
    throw new ConfigError('task-api serves a database: use TASK_STORE=postgres, sqlite or pglite, not http');
  }
  // The Task API serves PostgreSQL (DATABASE_URL) or the embedded store, never another Task API: a
  // CLOUDFLARE_API_URL set for daemons of the same deployment must not make it call itself.
  const { store, kind, where, signal } = await openTaskStore(
    { ...config, cloudflareApi: { ...config.cloudflareApi, baseUrl: '' } },
    { logger, role: 'task-api' },
  );
  const { startTaskApiServer } = await import('./task-api/node-server.js');
  const server = await startTaskApiServer({
    store,
    apiKey,
    port: config.taskApi.port,
    host: config.taskApi.host,
    logger,
    tasksAdded: signal,
  });
  handleShutdownSignals({
    logger,
    repeatWindowMs: config.processing.shutdownSignalWindowMs,
    drain: async () => {
      await server.close();
      await store.close();
    },
  });
  // Logged once the signal handlers are in place: whoever waits for this line may signal at once.
  logger.info({ url: server.url, store: kind, where }, 'Task API listening');
  return new Promise<number>(() => {});
}

async function runTasks(argv: string[]): Promise<number> {
  const config: AppConfig = loadConfig();
  const redactor = createRedactor(configuredSecrets(config));
  const logger = createLogger({ level: 'warn', redactor });
  // The CLI owns the data directory for its short life when nothing else does, else goes through the owner.
  const { store } = await openTaskStore(config, { logger, role: 'cli' });
  const { runTasksCommand } = await import('./cli/tasks-command.js');
  try {
    return await runTasksCommand(argv, {
      store,
      // Stored text was redacted when written; printing passes through the redactor once more all the same.
      out: (line) => console.log(redactor.text(line)),
      err: (line) => console.error(redactor.text(line)),
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
    // A configuration problem found past loading (a schema name, a template) is still the operator's to fix.
    if (isDaemonError(err) && err.category === 'configuration') {
      console.error(`codegen-pr: ${err.message}`);
      process.exit(78);
    }
    const message = err instanceof Error ? err.message : String(err);
    console.error(`codegen-pr: ${message}`);
    process.exit(1);
  },
);
