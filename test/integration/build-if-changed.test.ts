/**
 * `npm start` builds only what changed (scripts/build-if-changed.mjs, its prestart): an unchanged tree is not
 * compiled again; a source newer than its output, a missing output or a newer tsconfig is.
 */
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const { staleSources } = (await import(pathToFileURL(path.resolve('scripts/build-if-changed.mjs')).href)) as {
  staleSources: (root: string) => string[];
};

/** A tree with src/ and a build in dist/ whose files are `age` seconds old relative to the sources. */
function tree(): { root: string; at: (file: string, secondsAgo: number) => void } {
  const root = mkdtempSync(path.join(tmpdir(), 'codegen-pr-build-'));
  const at = (file: string, secondsAgo: number): void => {
    const full = path.join(root, file);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, '');
    const when = new Date(Date.now() - secondsAgo * 1000);
    utimesSync(full, when, when);
  };
  for (const file of ['tsconfig.json', 'tsconfig.build.json', 'package.json']) at(file, 100);
  at('src/main.ts', 100);
  at('src/cli/tasks.ts', 100);
  at('src/cli/tasks.test.ts', 1); // tests are not built by the build config
  at('dist/src/main.js', 50);
  at('dist/src/cli/tasks.js', 50);
  return { root, at };
}

describe('build-if-changed', () => {
  it('finds nothing to build in an unchanged tree', () => {
    expect(staleSources(tree().root)).toEqual([]);
  });

  it('names a source changed since its output, a source with no output, and a newer tsconfig', () => {
    const { root, at } = tree();
    at('src/cli/tasks.ts', 10);
    at('src/cli/new.ts', 100);
    at('tsconfig.build.json', 10);
    expect(staleSources(root).sort()).toEqual(['src/cli/new.ts', 'src/cli/tasks.ts', 'tsconfig.build.json']);
  });

  it('builds when nothing was built yet', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'codegen-pr-build-'));
    expect(staleSources(root)).toEqual(['dist/src/main.js (not built)']);
  });
});
