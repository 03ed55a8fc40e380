#!/usr/bin/env node
/**
 * The codegen-pr command line, and the daemon's composition root.
 *
 *   codegen-pr run                 start the daemon (default)
 *   codegen-pr task-api            serve the Task API on Node
 *   codegen-pr tasks <sub> ...     add | list | show | retry | cancel tasks in the configured store
 *   codegen-pr config [--env]      print the effective configuration (secrets masked), or the env var table
 *
 * Exit codes (README "Exit codes"; test/e2e/cli-conventions checks both agree): 0 done, 1 the operation failed,
 * 2 bad usage (unknown command or option, invalid task input), 78 bad configuration. `--help` on any command is
 * answered before any configuration is read or store opened.
 */
// Only what the first log line needs is imported up front; the daemon's heavy parts (Octokit, prom-client, the
// store drivers, the Task API) are imported once the command is known, so a start is visible within a second.
import { ConfigError, configuredSecrets, loadConfig, redactConfig, type AppConfig } from './config/load.js';
import { createRedactor } from './domain/redact.js';
import { isDaemonError } from './domain/errors.js';
import { envTable, listOptions } from './config/docs.js';
import { VERSION } from './client-support.js';
import { createLogger } from './observability/logger.js';
import { handleShutdownSignals } from './daemon/shutdown.js';
import { openTaskStore } from './adapters/open-store.js';

/** Exit codes, as documented in the README. */
const EXIT = { ok: 0, failed: 1, usage: 2, config: 78 } as const;

const HELP = `codegen-pr ${VERSION}: turns queued coding tasks into GitHub pull requests through Codegen agents.

Usage:
  codegen-pr run                 start the daemon (the default command)
  codegen-pr task-api            serve the Task API (PostgreSQL via DATABASE_URL, else the embedded store)
  codegen-pr tasks add ...       add tasks (flags, or --file tasks.json|yaml)
  codegen-pr tasks list          list tasks (--status, --limit, --json)
  codegen-pr tasks show <id>     a task and its history (--json)
  codegen-pr tasks retry <id>    put a failed or cancelled task back in the queue
  codegen-pr tasks cancel <id>   cancel a task
  codegen-pr config              print the effective configuration as JSON (secrets masked)
  codegen-pr config --env        list every environment variable with its default (--json)
  codegen-pr --version | --help
  codegen-pr <command> --help    help on one command

Exit codes: 0 done, 1 failed, 2 bad usage, 78 bad configuration.
Configuration comes from config/default.json, config/<NODE_ENV>.json, .env and the environment.
See README.md for every option.`;

const COMMAND_HELP: Record<string, string> = {
  run: `usage: codegen-pr run

Starts the daemon: claims pending tasks, starts a Codegen agent run for each and makes sure it ends in one PR.
Without Codegen and GitHub credentials (outside production) it is a dry run: prompts are logged, nothing is sent.
Logs go to stdout (human-readable on a terminal, JSON lines otherwise; LOG_FORMAT, LOG_LEVEL); /metrics, /healthz,
/readyz and /status are served on HOST:PORT. SIGTERM or SIGINT drains and exits 0.
Configuration: environment variables (codegen-pr config --env lists them), .env, config/*.json.`,
  'task-api': `usage: codegen-pr task-api

Serves the Task API (HTTP + JSON, bearer token TASK_API_KEY) on TASK_API_HOST:TASK_API_PORT, in front of
PostgreSQL (DATABASE_URL) or the embedded store (./data). SIGTERM or SIGINT stops it.`,
  config: `usage: codegen-pr config [--json]
       codegen-pr config --env [--json]

Prints the effective configuration as JSON, secrets masked (--json says so explicitly). --env lists every
environment variable with its key, default and meaning: a Markdown table, or JSON with --json.`,
};

/** Whether argv asks for help (before a lone `--`). */
function asksForHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  const flags = end === -1 ? argv : argv.slice(0, end);
  return flags.includes('--help') || flags.includes('-h');
}

class UsageError extends Error {}

/** Refuses anything in `argv` that is not one of `allowed` flags. */
function onlyFlags(command: string, argv: string[], allowed: string[]): void {
  const unknown = argv.find((arg) => !allowed.includes(arg));
  if (unknown !== undefined) {
    throw new UsageError(
      `${command}: unexpected ${unknown.startsWith('-') ? 'option' : 'argument'} "${unknown}"\n\n${COMMAND_HELP[command] ?? ''}`,
    );
  }
}

async function main(argv: string[]): Promise<number> {
  const [command = 'run', ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    // `help tasks [add]` is `tasks [add] --help`.
    if (rest[0] === 'tasks') return runTasks(['help', ...rest.slice(1)]);
    const topic = rest[0] !== undefined ? COMMAND_HELP[rest[0]] : undefined;
    console.log(topic ?? HELP);
    return EXIT.ok;
  }
  if (command === '--version' || command === '-v') {
    console.log(VERSION);
    return EXIT.ok;
  }
  // Help is answered before anything is loaded or opened: `tasks --help` on a fresh clone creates no ./data.
  if (command !== 'tasks' && COMMAND_HELP[command] && asksForHelp(rest)) {
    console.log(COMMAND_HELP[command]);
    return EXIT.ok;
  }
  switch (command) {
    case 'run':
      onlyFlags('run', rest, []);
      return runDaemon();
    case 'task-api':
      onlyFlags('task-api', rest, []);
      return runTaskApi();
    case 'tasks':
      return runTasks(rest);
    case 'config': {
      onlyFlags('config', rest, ['--env', '--json']);
      const json = rest.includes('--json');
      if (rest.includes('--env')) console.log(json ? JSON.stringify(listOptions(), null, 2) : envTable());
      else console.log(JSON.stringify(redactConfig(loadConfig()), null, 2));
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown command "${command}"\n\n${HELP}`);
  }
}

async function runDaemon(): Promise<number> {
  const config = loadConfig();
  const redactor = createRedactor(configuredSecrets(config));
  const logger = createLogger({ level: config.log.level, format: config.log.format, redactor });
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
  const logger = createLogger({
    level: config.log.level,
    format: config.log.format,
    redactor: createRedactor(configuredSecrets(config)),
  });
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
  const [{ startTaskApiServer }, { startTaskApiDuties }] = await Promise.all([
    import('./task-api/node-server.js'),
    import('./task-api/node-duties.js'),
  ]);
  // /metrics, and retention when the Task API holds the database (daemons behind it have no direct access).
  const duties = startTaskApiDuties({ store, config, logger, version: VERSION });
  const server = await startTaskApiServer({
    store,
    apiKey,
    port: config.taskApi.port,
    host: config.taskApi.host,
    logger,
    metrics: duties.metrics,
    statusPage: { readOnlyKey: config.taskApi.statusReadOnlyKey, readOnly: config.taskApi.statusReadOnly },
    tasksAdded: signal,
  });
  handleShutdownSignals({
    logger,
    repeatWindowMs: config.processing.shutdownSignalWindowMs,
    drain: async () => {
      duties.stop();
      await server.close();
      await store.close();
    },
  });
  // Logged once the signal handlers are in place: whoever waits for this line may signal at once.
  logger.info({ url: server.url, store: kind, where }, 'Task API listening');
  return new Promise<number>(() => {});
}

async function runTasks(argv: string[]): Promise<number> {
  const { runTasksCommand, tasksHelp } = await import('./cli/tasks-command.js');
  const help = tasksHelp(argv);
  if (help) {
    (help.code === 0 ? console.log : console.error)(help.text);
    return help.code;
  }
  const config: AppConfig = loadConfig();
  const redactor = createRedactor(configuredSecrets(config));
  const logger = createLogger({ level: 'warn', redactor });
  // The CLI owns the data directory for its short life when nothing else does, else goes through the owner.
  const { store, addBatchLimit } = await openTaskStore(config, { logger, role: 'cli' });
  try {
    return await runTasksCommand(argv, {
      store,
      // Stored text was redacted when written; printing passes through the redactor once more all the same.
      out: (line) => console.log(redactor.text(line)),
      err: (line) => console.error(redactor.text(line)),
      ...(process.stderr.isTTY ? { progress: progressOnTerminal() } : {}),
      addBatchLimit,
    });
  } finally {
    await store.close();
  }
}

/**
 * A progress line on stderr (a terminal), rewritten in place, for adding many tasks; short runs print nothing.
 * The line is finished with a newline once everything is added, so the command's own output starts on its own.
 */
function progressOnTerminal(): (done: number, total: number) => void {
  return (done, total) => {
    if (total < 1_000) return;
    process.stderr.write(`\radding tasks: ${done} of ${total} (${Math.floor((done / total) * 100)}%)`);
    if (done === total) process.stderr.write('\n');
  };
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
    if (err instanceof UsageError) {
      console.error(`codegen-pr: ${err.message}`);
      process.exit(EXIT.usage);
    }
    if (err instanceof ConfigError) {
      console.error(`codegen-pr: ${err.message}`);
      process.exit(err.exitCode);
    }
    // A configuration problem found past loading (a schema name, a template) is still the operator's to fix.
    if (isDaemonError(err) && err.category === 'configuration') {
      console.error(`codegen-pr: ${err.message}`);
      process.exit(EXIT.config);
    }
    const message = err instanceof Error ? err.message : String(err);
    console.error(`codegen-pr: ${message}`);
    process.exit(EXIT.failed);
  },
);
