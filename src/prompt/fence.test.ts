import { describe, expect, it } from '@jest/globals';
import MarkdownIt from 'markdown-it';
import { fenceBlock, inlineCode, limitFenceRuns, longestFenceRun, MAX_FENCE_RUN } from './fence.js';

const md = new MarkdownIt('commonmark');

/** A small seeded generator, so a failing case can be replayed. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const ALPHABET = [
  '`',
  '`',
  '`',
  '~',
  '~',
  '｀',
  'ˋ',
  '～',
  '\u0300',
  ' ',
  ' ',
  'a',
  '#',
  '-',
  '>',
  '<',
  '\\',
  '\n',
  '\n',
];

function randomText(next: () => number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return text;
}

describe('longestFenceRun', () => {
  it('counts backticks and their look-alikes as one kind, tildes and theirs as another', () => {
    expect(longestFenceRun('a ``` b')).toBe(3);
    expect(longestFenceRun('｀`ˋ\u0300\u1fef x')).toBe(5);
    expect(longestFenceRun('~～∼~ ``')).toBe(4);
    expect(longestFenceRun('`~`~`~')).toBe(1);
    expect(longestFenceRun('~~~~ `', true)).toBe(1);
    expect(longestFenceRun('')).toBe(0);
  });
});

describe('limitFenceRuns', () => {
  it('cuts a run longer than the limit and marks how much', () => {
    const { text, cut } = limitFenceRuns(`a${'`'.repeat(1_000_000)}b`);
    expect(text).toBe(`a${'`'.repeat(MAX_FENCE_RUN)} [truncated ${1_000_000 - MAX_FENCE_RUN} characters] b`);
    expect(cut).toBe(1_000_000 - MAX_FENCE_RUN);
  });

  it('leaves runs up to the limit alone', () => {
    const text = `${'`'.repeat(MAX_FENCE_RUN)} ${'～'.repeat(MAX_FENCE_RUN)}`;
    expect(limitFenceRuns(text)).toEqual({ text, cut: 0 });
  });
});

describe('fenceBlock', () => {
  it('uses a fence longer than any run inside, at least three', () => {
    expect(fenceBlock('plain')).toBe('```text\nplain\n```');
    expect(fenceBlock('has ``` inside')).toBe('````text\nhas ``` inside\n````');
    expect(fenceBlock('｀｀｀｀｀')).toBe('``````text\n｀｀｀｀｀\n``````');
  });

  it('cannot be closed or escaped by what it holds (500 random texts, read by a CommonMark parser)', () => {
    const next = lcg(20240611);
    for (let n = 0; n < 500; n++) {
      const raw = randomText(next, 1 + Math.floor(next() * 80));
      const text = limitFenceRuns(raw).text;
      const tokens = md.parse(`before\n\n${fenceBlock(text)}\n\nafter`, {});
      const fences = tokens.filter((t) => t.type === 'fence');
      expect([raw, fences.length, fences[0]?.content]).toEqual([raw, 1, `${text}\n`]);
      expect(fences[0]!.markup.length).toBeLessThanOrEqual(MAX_FENCE_RUN + 1);
    }
  });
});

describe('inlineCode', () => {
  it('pads text that starts or ends with a backtick', () => {
    expect(inlineCode('plain')).toBe('`plain`');
    expect(inlineCode('a`b')).toBe('``a`b``');
    expect(inlineCode('`x')).toBe('`` `x ``');
    expect(inlineCode('~/x')).toBe('`~/x`');
  });

  it('shows any one line literally in one span (500 random lines, read by a CommonMark parser)', () => {
    const next = lcg(7);
    for (let n = 0; n < 500; n++) {
      const line = randomText(next, 1 + Math.floor(next() * 40))
        .replace(/\n/g, ' ')
        .trim();
      if (line === '') continue;
      const tokens = md.parse(`Title: ${inlineCode(line)} end`, {});
      const children = tokens.find((t) => t.type === 'inline')!.children!;
      const spans = children.filter((c) => c.type === 'code_inline');
      expect([line, spans.length, spans[0]?.content]).toEqual([line, 1, line]);
      expect(children.at(-1)!.content).toBe(' end');
    }
  });
});
