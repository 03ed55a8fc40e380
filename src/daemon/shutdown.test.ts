import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import { createLogger } from '../observability/logger.js';
import { handleShutdownSignals } from './shutdown.js';

/** Signals from an EventEmitter (never the Jest process), a clock we move by hand, and the exits requested. */
function harness(repeatWindowMs?: number) {
  const source = new EventEmitter();
  const exits: number[] = [];
  const lines: Array<{ msg: string }> = [];
  let clock = 1_000;
  let finishDrain: () => void = () => undefined;
  let drains = 0;
  const drained = new Promise<void>((resolve) => (finishDrain = resolve));
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) },
  });
  const remove = handleShutdownSignals({
    logger,
    drain: () => {
      drains++;
      return drained;
    },
    exit: (code) => exits.push(code),
    now: () => clock,
    source,
    ...(repeatWindowMs !== undefined ? { repeatWindowMs } : {}),
  });
  return {
    exits,
    lines,
    drains: () => drains,
    send: (signal: NodeJS.Signals) => source.emit(signal, signal),
    advance: (ms: number) => void (clock += ms),
    finishDrain: () => finishDrain(),
    drained,
    remove,
    source,
  };
}

describe('handleShutdownSignals', () => {
  it('treats a second SIGTERM within the window as the first: one drain, no forced exit', async () => {
    const h = harness(5_000);
    h.send('SIGTERM');
    h.advance(4_999);
    h.send('SIGTERM');
    expect(h.drains()).toBe(1);
    expect(h.exits).toEqual([]);
    expect(h.lines.map((l) => l.msg)).toEqual([
      'shutting down: no new claims; waiting for in-flight tasks',
      'already shutting down: a repeated signal this soon is the same request; send another later to exit at once',
    ]);
    h.finishDrain();
    await h.drained;
    await Promise.resolve();
    expect(h.exits).toEqual([0]);
    h.remove();
  });

  it('forces an exit on a signal after the window: 143 for SIGTERM, and the drain ending later exits no more', async () => {
    const h = harness(5_000);
    h.send('SIGTERM');
    h.advance(5_000);
    h.send('SIGTERM');
    expect(h.exits).toEqual([143]);
    h.finishDrain();
    await h.drained;
    await Promise.resolve();
    expect(h.exits).toEqual([143]);
    h.remove();
  });

  it('forces with 130 on a late SIGINT, and counts SIGINT and SIGTERM as the same request', () => {
    const h = harness();
    h.send('SIGINT');
    h.advance(1_000);
    h.send('SIGTERM');
    expect(h.exits).toEqual([]);
    h.advance(10_000);
    h.send('SIGINT');
    expect(h.exits).toEqual([130]);
    expect(h.drains()).toBe(1);
    h.remove();
  });

  it('exits 1 when the drain fails, and stops listening once removed', async () => {
    const source = new EventEmitter();
    const exits: number[] = [];
    const remove = handleShutdownSignals({
      logger: createLogger({ level: 'silent' }),
      drain: () => Promise.reject(new Error('store unreachable')),
      exit: (code) => exits.push(code),
      source,
    });
    source.emit('SIGTERM', 'SIGTERM');
    await new Promise((resolve) => setImmediate(resolve));
    expect(exits).toEqual([1]);
    remove();
    expect(source.listenerCount('SIGTERM')).toBe(0);
    expect(source.listenerCount('SIGINT')).toBe(0);
  });
});
