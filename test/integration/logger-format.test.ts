/**
 * Log formats: JSON lines for machines, pino-pretty lines for people, chosen by LOG_FORMAT or by whether the output
 * is a terminal; credentials masked in both. The heartbeat line says what an idle daemon holds.
 */
import { Writable } from 'node:stream';
import { describe, expect, it, jest } from '@jest/globals';
import { createLogger, resolveLogFormat } from '../../src/observability/logger.js';
import { heartbeatMessage, startHeartbeat } from '../../src/observability/heartbeat.js';
import { createRedactor } from '../../src/domain/redact.js';
import { promptHead, PROMPT_HEAD_CHARS } from '../../src/daemon/dry-run.js';
import { loadConfig, ConfigError } from '../../src/config/load.js';

const SECRET = 'sk-live-0123456789abcdefSECRET';

/** A destination that keeps every line written to it. */
function capture(): { stream: Writable & { write(line: string): boolean }; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

function logWithSecrets(format: 'pretty' | 'json'): string {
  const out = capture();
  const log = createLogger({ destination: out.stream, format, redactor: createRedactor([SECRET]) });
  log.info({ headers: { authorization: `Bearer ${SECRET}` }, taskId: 't-1' }, `calling with ${SECRET}`);
  log.error({ err: new Error(`upstream echoed ${SECRET}`) }, 'request failed');
  log.warn({ config: { codegen: { apiKey: SECRET } } }, 'config');
  return out.text();
}

describe('log format', () => {
  it('is pretty on a terminal and JSON elsewhere, unless LOG_FORMAT says', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it('writes human-readable lines in pretty format, with the message and its fields on one line', () => {
    const out = capture();
    createLogger({ destination: out.stream, format: 'pretty' }).info({ taskId: 't-1' }, 'task t-1 started');
    const lines = out.text().trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(codegen-pr\/\d+\): task t-1 started \{"taskId":"t-1"\}$/,
    );
  });

  it('writes JSON lines by default to a given destination', () => {
    const out = capture();
    createLogger({ destination: out.stream }).info({ taskId: 't-1' }, 'hello');
    expect(JSON.parse(out.text())).toMatchObject({ msg: 'hello', taskId: 't-1', level: 30 });
  });

  it.each(['pretty', 'json'] as const)('masks credentials in %s lines: message, fields, errors', (format) => {
    const text = logWithSecrets(format);
    expect(text).toContain('calling with');
    expect(text).toContain('upstream echoed');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('SECRET');
  });

  it('is validated by the configuration: LOG_FORMAT names its allowed values', () => {
    expect(loadConfig({ env: { LOG_FORMAT: 'pretty' }, configDir: '/nonexistent', dotenvPath: false }).log.format).toBe(
      'pretty',
    );
    expect(() => loadConfig({ env: { LOG_FORMAT: 'xml' }, configDir: '/nonexistent', dotenvPath: false })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ env: { LOG_FORMAT: 'xml' }, configDir: '/nonexistent', dotenvPath: false })).toThrow(
      /LOG_FORMAT/,
    );
  });
});

describe('a prompt in a log line', () => {
  it('is its head on one line, cut with an ellipsis', () => {
    const head = promptHead(`# Task\n\n${'word '.repeat(1000)}`);
    expect(head.length).toBe(PROMPT_HEAD_CHARS);
    expect(head).toMatch(/^# Task word word .*…$/);
    expect(head).not.toContain('\n');
    expect(promptHead('short\nprompt')).toBe('short prompt');
  });
});

describe('heartbeat', () => {
  it('says what is waiting, what is in flight and why intake is paused', () => {
    expect(
      heartbeatMessage({ queue: { pending: 2, retry: 1, completed: 9 }, inFlight: 1, paused: [], dryRun: false }),
    ).toBe('heartbeat: 3 waiting, 1 in flight, intake open');
    expect(heartbeatMessage({ queue: {}, inFlight: 0, paused: ['dependency:codegen', 'shutdown'], dryRun: true })).toBe(
      'heartbeat: 0 waiting, 0 in flight, intake paused (dependency:codegen, shutdown), dry run',
    );
  });

  it('logs a line every interval until stopped, and none when the interval is 0', async () => {
    jest.useFakeTimers();
    try {
      const out = capture();
      const logger = createLogger({ destination: out.stream });
      let reads = 0;
      const read = () => {
        reads += 1;
        return { queue: { pending: reads }, inFlight: 0, paused: [], dryRun: false };
      };
      const beat = startHeartbeat({ intervalMs: 1_000, logger, read });
      await jest.advanceTimersByTimeAsync(3_000);
      beat.stop();
      await jest.advanceTimersByTimeAsync(3_000);
      const lines = out
        .text()
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { msg: string; queue: object; inFlight: number });
      expect(lines.map((l) => l.msg)).toEqual([
        'heartbeat: 1 waiting, 0 in flight, intake open',
        'heartbeat: 2 waiting, 0 in flight, intake open',
        'heartbeat: 3 waiting, 0 in flight, intake open',
      ]);
      expect(lines[0]).toMatchObject({ queue: { pending: 1 }, inFlight: 0 });

      const off = startHeartbeat({ intervalMs: 0, logger, read });
      await jest.advanceTimersByTimeAsync(10_000);
      off.stop();
      expect(reads).toBe(3);
    } finally {
      jest.useRealTimers();
    }
  });
});
