import { describe, expect, it } from '@jest/globals';
import { createIntakeGate } from './intake.js';

describe('createIntakeGate', () => {
  it('is closed while any reason holds and opens when timed reasons pass', () => {
    let now = 1_000;
    const gate = createIntakeGate(() => now);
    expect(gate.isOpen()).toBe(true);
    expect(gate.pause('quota', 5_000)).toBe(true);
    expect(gate.pause('quota', 5_000)).toBe(false);
    expect(gate.isOpen()).toBe(false);
    expect(gate.nextOpenAt()).toBe(5_000);
    gate.pause('authentication');
    expect(gate.nextOpenAt()).toBeUndefined();
    expect(
      gate
        .reasons()
        .map((r) => r.reason)
        .sort(),
    ).toEqual(['authentication', 'quota']);
    now = 6_000;
    expect(gate.isOpen()).toBe(false);
    expect(gate.resume('authentication')).toBe(true);
    expect(gate.isOpen()).toBe(true);
  });
});
