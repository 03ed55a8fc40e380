/**
 * The pino logger. Created once in the composition root and injected; modules take child loggers.
 * Tokens and authorization headers are redacted wherever they appear in a logged object.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

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
  /** Where to write; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
  name?: string;
}

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const opts: LoggerOptions = {
    name: options.name ?? 'codegen-pr',
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.err },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** A logger that writes nothing, for library users who pass none and for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
