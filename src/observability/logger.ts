/**
 * The pino logger. Created once in the composition root and injected; modules take child loggers.
 * Tokens and authorization headers are redacted wherever they appear in a logged object.
 *
 * Two formats: JSON lines (for log shippers, the default when stdout is not a terminal) and human-readable lines
 * (pino-pretty, the default on a terminal). Both are written by the daemon's own process, in batches after each
 * turn of the event loop (standardOutput), from the same redacted record: the pretty form is rendered from the
 * JSON line pino has already censored.
 */
import { createRequire } from 'node:module';
import { pino, type Logger, type LoggerOptions } from 'pino';
import type { Redactor } from '../domain/redact.js';

export type { Logger } from 'pino';

/** Paths pino censors in every log line. */
export const REDACT_PATHS = [
  'token',
  'apiKey',
  'privateKey',
  'password',
  'authorization',
  'Authorization',
  '*.token',
  '*.apiKey',
  '*.privateKey',
  '*.password',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'err.request.headers.authorization',
  'err.options.headers.authorization',
  'config.github.token',
  'config.codegen.apiKey',
  'config.cloudflareApi.apiKey',
];

export interface CreateLoggerOptions {
  level?: LoggerOptions['level'];
  /** Where to write; defaults to stdout (see standardOutput). Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
  name?: string;
  /**
   * Masks every credential (configured ones and anything shaped like one) in each line's message and fields,
   * on top of the path-based redaction: an upstream error can echo a token anywhere in its text.
   */
  redactor?: Redactor;
  /**
   * `json`, `pretty`, or `auto` (pretty when the output is a terminal). Default: `json` when a destination is
   * given, else `auto` on stdout.
   */
  format?: LogFormatSetting;
  /** Whether the output is a terminal, for `auto`; default: process.stdout.isTTY. Colours follow it. */
  isTTY?: boolean;
}

/** The LOG_FORMAT values. */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormatSetting = (typeof LOG_FORMATS)[number];

/** The format `auto` stands for: human-readable on a terminal, JSON lines for everything else. */
export function resolveLogFormat(setting: LogFormatSetting, isTTY: boolean): 'pretty' | 'json' {
  if (setting === 'auto') return isTTY ? 'pretty' : 'json';
  return setting;
}

/**
 * Stdout as a log destination that can never keep the process from exiting, and that writes off the hot path.
 *
 * pino's default destination writes asynchronously and flushes what is left synchronously when the process
 * exits; that flush retries every failed write after a 100 ms sleep, EPIPE included, so a daemon whose stdout
 * is a closed pipe (`codegen-pr run | head -2`) hangs for ever inside process.exit and ignores every later
 * SIGTERM. Here lines are gathered and written together once the current turn of the event loop is over
 * (batchLines), each batch by one synchronous write: a burst of lines from many tasks costs one system call
 * instead of one each, and nothing is left pending at exit but what the exit handler writes at once. The first
 * failed write (EPIPE, or EBADF for a closed descriptor) turns logging off instead of throwing or retrying:
 * there is nobody left to read it.
 */
export function standardOutput(fd = 1): pino.DestinationStream {
  const stream = pino.destination({ dest: fd, sync: true });
  // pino already silences the stream on EPIPE; any other write error would be an uncaught 'error' event.
  stream.on('error', () => {
    Object.assign(stream, { write: () => true });
  });
  return batchLines(stream);
}

/**
 * What batchLines destinations still hold is written when the process exits. One 'exit' listener for all of
 * them (a listener each would trip Node's max-listeners warning in a process that builds many loggers).
 */
const flushAtExit = new Set<() => void>();

/**
 * A destination that hands `destination` the lines written during one turn of the event loop as one chunk,
 * after that turn (setImmediate), and everything still held when the process exits (its 'exit' handlers run
 * synchronously, so `destination` must write synchronously). `flush()` writes what is held at once.
 */
export function batchLines(destination: pino.DestinationStream): pino.DestinationStream & { flush(): void } {
  let held: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (held.length === 0) return;
    const chunk = held.length === 1 ? (held[0] as string) : held.join('');
    held = [];
    destination.write(chunk);
  };
  flushAtExit.add(flush);
  if (flushAtExit.size === 1) process.once('exit', () => flushAtExit.forEach((f) => f()));
  return {
    write(line: string) {
      held.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** The daemon's logger: JSON lines or pretty lines, secrets redacted, to `destination` or stdout. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const isTTY = options.isTTY ?? (options.destination ? false : Boolean(process.stdout.isTTY));
  const format = resolveLogFormat(options.format ?? (options.destination ? 'json' : 'auto'), isTTY);
  const destination = options.destination ?? standardOutput();
  const opts: LoggerOptions = {
    name: options.name ?? 'codegen-pr',
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.err },
    ...(options.redactor ? redactingHooks(options.redactor) : {}),
  };
  return pino(opts, format === 'pretty' ? prettyOutput(destination, isTTY) : destination);
}

const require = createRequire(import.meta.url);

/**
 * A destination that renders each JSON line with pino-pretty before writing it to `destination`. pino-pretty's
 * own stream (and pino's transports) would render on a worker thread or through buffered streams, losing the
 * last lines at process.exit and the closed-pipe handling of standardOutput; its line formatter is a plain
 * synchronous function, used here in the daemon's own process. Loaded only when asked for.
 */
function prettyOutput(destination: pino.DestinationStream, colorize: boolean): pino.DestinationStream {
  const { prettyFactory } = require('pino-pretty') as typeof import('pino-pretty');
  const render = prettyFactory({
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'hostname',
    // Fields on one line after the message: a task's lines stay one line each, grep-able by task id.
    singleLine: true,
  });
  return {
    write(line: string) {
      destination.write(render(line));
    },
  };
}

/** pino hooks that pass every message and every field of a line through `redactor`. */
function redactingHooks(redactor: Redactor): Pick<LoggerOptions, 'hooks' | 'formatters'> {
  return {
    hooks: {
      logMethod(args, method) {
        // args: [object?, message?, ...interpolation]; strings anywhere among them are masked.
        const masked = args.map((arg) => (typeof arg === 'string' ? redactor.text(arg) : arg)) as unknown as Parameters<
          typeof method
        >;
        method.apply(this, masked);
      },
    },
    formatters: { log: (object) => redactor.deep(object) },
  };
}

/** A logger that writes nothing, for library users who pass none and for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
