import { describe, expect, it } from '@jest/globals';
import { capText, cleanBlock, cleanLine, isStrippedCodePoint, stripUnsafe, truncationMarker } from './untrusted.js';

/** The list of ranges, plus what the module adds (tag characters, bidi marks, invisible operators). */
const STRIPPED_RANGES: [number, number][] = [
  [0x00, 0x08],
  [0x0b, 0x0c],
  [0x0e, 0x1a],
  [0x1c, 0x1f],
  [0x7f, 0x9f],
  [0x061c, 0x061c],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2060, 0x2064],
  [0x2066, 0x206f],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffb],
  [0xe0000, 0xe007f],
  [0xe0100, 0xe01ef],
];

function* codePoints(ranges: [number, number][]): Generator<number> {
  for (const [from, to] of ranges) for (let cp = from; cp <= to; cp++) yield cp;
}

describe('stripUnsafe', () => {
  it('removes every listed code point, wherever it stands', () => {
    // A line feed after each: the C1 introducers (CSI, OSC...) would otherwise take a following letter with them.
    for (const cp of codePoints(STRIPPED_RANGES)) {
      const ch = String.fromCodePoint(cp);
      expect([cp, stripUnsafe(`${ch}\na${ch}\nb${ch}`)]).toEqual([cp, '\na\nb']);
      expect([cp, isStrippedCodePoint(cp)]).toEqual([cp, true]);
    }
  });

  it('keeps tab, line feed, and ordinary text in any script', () => {
    const text = 'tab\there\nnew line; Ünïcødé 漢字 العربية עברית 😀 ❤\ufe0f é';
    expect(stripUnsafe(text)).toBe(text);
    for (const cp of [0x09, 0x0a, 0x20, 0x7e, 0xa0, 0x061b, 0x200a, 0x2010, 0x2065, 0xfe0f, 0x1f600]) {
      expect([cp, isStrippedCodePoint(cp)]).toEqual([cp, false]);
    }
  });

  it('turns every line break into a line feed', () => {
    expect(stripUnsafe('a\r\nb\rc\u2028d\u2029e\n')).toBe('a\nb\nc\nd\ne\n');
    expect(stripUnsafe('\r\r\n\r')).toBe('\n\n\n');
  });

  it.each([
    ['CSI: clear screen', 'a\u001b[2Jb', 'ab'],
    ['CSI: colour with parameters', '\u001b[38;5;196mred\u001b[0m', 'red'],
    ['CSI: hidden text', '\u001b[8msecret\u001b[28m', 'secret'],
    ['OSC 52 clipboard write, BEL-terminated', 'x\u001b]52;c;cHVzaA==\u0007y', 'xy'],
    ['OSC window title, ST-terminated', 'x\u001b]0;title\u001b\\y', 'xy'],
    ['OSC 8 hyperlink', '\u001b]8;;https://evil\u0007link\u001b]8;;\u0007', 'link'],
    ['DCS string', 'a\u001bP1$r\u001b\\b', 'ab'],
    ['charset designation', 'a\u001b(Bb', 'ab'],
    ['single-character escape', 'a\u001b7b\u001bcc', 'abc'],
    ['8-bit CSI', 'a\u009b31mb', 'ab'],
    ['8-bit OSC with 8-bit ST', 'a\u009d0;t\u009cb', 'ab'],
    ['unterminated OSC: only the introducer goes', 'a\u001b]52;c;abc', 'a52;c;abc'],
    ['lone ESC at the end', 'a\u001b', 'a'],
  ])('removes a whole escape sequence: %s', (_, input, output) => {
    expect(stripUnsafe(input)).toBe(output);
  });

  it('replaces lone surrogates and keeps pairs', () => {
    expect(stripUnsafe('a\ud800b\udc00c😀')).toBe('a\ufffdb\ufffdc😀');
    expect(stripUnsafe('end\ud83d')).toBe('end\ufffd');
  });

  it('keeps one variation selector after a character but not a run of them', () => {
    expect(stripUnsafe('❤\ufe0f')).toBe('❤\ufe0f');
    expect(stripUnsafe('a\ufe00\ufe01\ufe02\u200b\ufe03b')).toBe('a\ufe00b');
  });

  it('handles megabytes of hostile input in one pass', () => {
    const openers = '\u001b]'.repeat(500_000);
    expect(stripUnsafe(openers)).toBe('');
    const mixed = 'x\u001b[1m\u202e\u0000'.repeat(200_000);
    expect(stripUnsafe(mixed)).toBe('x'.repeat(200_000));
  });

  it('returns the same string when there is nothing to remove', () => {
    const text = 'nothing to do here';
    expect(stripUnsafe(text)).toBe(text);
  });
});

describe('cleanLine and cleanBlock', () => {
  it('cleanLine folds all whitespace, line breaks included, to single spaces', () => {
    expect(cleanLine('  a\r\n\tb \u2028 c\u200b  ')).toBe('a b c');
  });

  it('cleanBlock keeps lines, drops trailing spaces and blank lines at the ends', () => {
    expect(cleanBlock('\n\n  indented  \r\nnext\t\n\n\n')).toBe('  indented\nnext');
  });
});

describe('capText', () => {
  it('leaves text that fits alone', () => {
    expect(capText('short', 5)).toEqual({ text: 'short', cut: 0 });
  });

  it('cuts to the cap, marker included, and counts what it cut', () => {
    const text = 'x'.repeat(1000);
    const { text: out, cut } = capText(text, 100);
    expect(out.length).toBeLessThanOrEqual(100);
    expect(out).toBe(`${'x'.repeat(1000 - cut)} ${truncationMarker(cut)}`);
  });

  it('uses the given separator and never splits a surrogate pair', () => {
    const text = '😀'.repeat(100);
    const { text: out } = capText(text, 61, '\n');
    const head = out.slice(0, out.indexOf('\n'));
    expect(head).toBe('😀'.repeat(head.length / 2));
    expect(out.endsWith(truncationMarker(text.length - head.length))).toBe(true);
  });

  it('still marks the cut when the cap is smaller than the marker', () => {
    expect(capText('abcdef', 0)).toEqual({ text: truncationMarker(6), cut: 6 });
  });
});
