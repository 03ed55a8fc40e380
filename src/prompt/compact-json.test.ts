import { describe, expect, it } from '@jest/globals';
import { compactJson } from './compact-json.js';

describe('compactJson', () => {
  it.each([
    [{ a: 1, b: [true, null, 'x'], c: { d: {} } }],
    [[1, [2, [3, []]]]],
    ['just text'],
    [42],
    [null],
    [{ skipped: undefined, kept: 0 }],
  ])('matches JSON.stringify for %j', (value) => {
    expect(compactJson(value, 10_000)).toBe(JSON.stringify(value));
  });

  it('writes null where JSON.stringify would (non-finite numbers, undefined in arrays)', () => {
    expect(compactJson([NaN, Infinity, undefined], 100)).toBe('[null,null,null]');
  });

  it('stops soon after max characters on a large value', () => {
    const big = Array.from({ length: 100_000 }, (_, i) => ({ i }));
    const out = compactJson(big, 500);
    expect(out.length).toBeGreaterThanOrEqual(500);
    expect(out.length).toBeLessThan(520);
    expect(JSON.stringify(big).startsWith(out)).toBe(true);
  });

  it('walks a value nested deeper than JSON.stringify can', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = { n: deep };
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    const out = compactJson(deep, 1000);
    expect(out.startsWith('{"n":{"n":')).toBe(true);
    expect(out.length).toBeLessThan(1010);
  });
});
