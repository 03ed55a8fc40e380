import { describe, expect, it } from '@jest/globals';
import { LruMap } from './lru-map.js';

describe('LruMap', () => {
  it('never holds more than its capacity and forgets the least recently used first', () => {
    const lru = new LruMap<string, number>(3);
    lru.set('a', 1).set('b', 2).set('c', 3);
    expect(lru.get('a')).toBe(1); // a is now the most recent
    lru.set('d', 4);
    expect(lru.size).toBe(3);
    expect(lru.has('b')).toBe(false);
    expect([lru.get('a'), lru.get('c'), lru.get('d')]).toEqual([1, 3, 4]);
  });

  it('treats re-setting a key as a use, not a new entry', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1).set('b', 2).set('a', 10).set('c', 3);
    expect(lru.has('b')).toBe(false);
    expect(lru.get('a')).toBe(10);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new LruMap(0)).toThrow(RangeError);
  });
});
