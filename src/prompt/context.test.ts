import { describe, expect, it } from '@jest/globals';
import { defaultConfig, makeTask } from '../../test/fixtures/prompt-fixtures.js';
import { collectContext, extractContext } from './context.js';

const flags = defaultConfig().promptGenerator.context;

describe('collectContext', () => {
  it('reads lists, single strings, objects and maps, in camelCase or snake_case', () => {
    const task = makeTask({
      context: {
        acceptance_criteria: 'Returns 401\n  without a token',
        files: ['src/a.ts', { path: 'src/b.ts', description: 'the handler' }],
        related_files: [{ name: 'README.md' }],
        dependencies: { got: '^14', pino: '^10' },
        links: [{ url: 'https://example.com/spec', title: 'Spec' }],
      },
    });
    expect(collectContext(task, flags)).toEqual({
      acceptanceCriteria: ['Returns 401 without a token'],
      files: ['src/a.ts', 'src/b.ts - the handler'],
      relatedFiles: ['README.md'],
      dependencies: ['got@^14', 'pino@^10'],
      links: ['https://example.com/spec - Spec'],
      notes: [],
    });
  });

  it('shows other keys as sorted "key: value" notes and skips _private and null ones', () => {
    const task = makeTask({
      context: { zeta: 1, alpha: ['x', 'y'], _internal: 'hidden', nothing: null, obj: { a: 1 } },
    });
    expect(collectContext(task, flags).notes).toEqual(['alpha: x, y', 'obj: {"a":1}', 'zeta: 1']);
  });

  it('drops files, related files and dependencies when their include flag is off, without leaking them as notes', () => {
    const task = makeTask({ context: { files: ['a'], relatedFiles: ['b'], dependencies: ['c'], links: ['d'] } });
    const off = { ...flags, includeFileStructure: false, includeRelatedFiles: false, includeDependencies: false };
    const got = collectContext(task, off);
    expect(got).toMatchObject({ files: [], relatedFiles: [], dependencies: [], links: ['d'], notes: [] });
  });

  it('copes with no context at all', () => {
    expect(extractContext(makeTask({ context: undefined }), flags)).toMatchObject({ truncated: false, length: 0 });
  });
});

describe('extractContext truncation', () => {
  const task = makeTask({
    context: {
      acceptanceCriteria: ['criterion one', 'criterion two'],
      files: Array.from({ length: 10 }, (_, i) => `src/module-${i}/index.ts`),
      links: ['https://example.com/1', 'https://example.com/2'],
      notes: 'n'.repeat(50),
    },
  });

  it('keeps everything and says nothing when it fits', () => {
    const got = extractContext(task, { ...flags, maxContextLength: 10_000 });
    expect(got.truncated).toBe(false);
    expect(got.note).toBeUndefined();
    expect(got.files).toHaveLength(10);
  });

  it('keeps items in order of importance until one does not fit, then leaves out the rest and says what', () => {
    // 13 + 13 criteria, then files of 22 characters each: 3 fit in 100.
    const got = extractContext(task, { ...flags, maxContextLength: 100 });
    expect(got.acceptanceCriteria).toEqual(['criterion one', 'criterion two']);
    expect(got.files).toEqual(['src/module-0/index.ts', 'src/module-1/index.ts', 'src/module-2/index.ts']);
    expect(got.links).toEqual([]);
    expect(got.notes).toEqual([]);
    expect(got.truncated).toBe(true);
    expect(got.omitted).toEqual({ files: 7, links: 2, notes: 1 });
    expect(got.length).toBeLessThanOrEqual(100);
    expect(got.note).toBe(
      'The task context was cut to fit 100 characters: left out 7 files, 2 links, 1 other context entry. ' +
        'Look in the repository for anything missing.',
    );
  });

  it('is deterministic', () => {
    const limits = [1, 20, 57, 100, 150];
    for (const maxContextLength of limits) {
      expect(extractContext(task, { ...flags, maxContextLength })).toEqual(
        extractContext(structuredClone(task), { ...flags, maxContextLength }),
      );
    }
  });

  it('cuts a long prose item to fit instead of dropping it, but never a path', () => {
    const prose = makeTask({ context: { acceptanceCriteria: ['word '.repeat(40)], files: ['src/x.ts'] } });
    const got = extractContext(prose, { ...flags, maxContextLength: 60 });
    expect(got.acceptanceCriteria).toHaveLength(1);
    expect(got.acceptanceCriteria[0]!).toMatch(/^word word .* \[truncated \d+ characters\]$/);
    expect(got.acceptanceCriteria[0]!.length).toBeLessThanOrEqual(60);
    expect(got.files).toEqual([]);
    expect(got.note).toContain('left out 1 file and shortened the last entry kept');

    const paths = makeTask({ context: { files: ['src/' + 'deep/'.repeat(20) + 'x.ts'] } });
    const cut = extractContext(paths, { ...flags, maxContextLength: 60 });
    expect(cut.files).toEqual([]);
    expect(cut.omitted).toEqual({ files: 1 });
  });
});
