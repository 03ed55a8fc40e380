import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { envTable, listOptions } from './docs.js';
import { LIST_SYNTAX } from './format-kit.js';
import { schemaLeaves } from './validate.js';

/** Cells of a Markdown table, trimmed, so column padding (prettier aligns tables) does not matter. */
function cells(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .map((row) =>
      row
        .replace(/^\|/, '')
        .replace(/\|$/, '')
        .split(/(?<!\\)\|/)
        .map((c) => c.trim().replace(/^-+$/, '---')),
    );
}

describe('configuration docs', () => {
  it('README carries the table made from the schema, so the two cannot drift', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('<!-- config-table:start -->\n');
    const end = readme.indexOf('\n<!-- config-table:end -->');
    expect(start).toBeGreaterThan(0);
    expect(cells(readme.slice(start + '<!-- config-table:start -->\n'.length, end))).toEqual(cells(envTable()));
  });

  it('gives every key its own environment variable', () => {
    const options = listOptions();
    expect(options.filter((o) => !o.env).map((o) => o.key)).toEqual([]);
    const names = options.map((o) => o.env);
    expect(new Set(names).size).toBe(names.length);
  });

  it('documents every key and gives every secret no default', () => {
    for (const option of listOptions()) {
      expect(option.doc.length).toBeGreaterThan(5);
      if (option.sensitive) expect(option.default).toBe('');
    }
    expect(
      listOptions()
        .filter((o) => o.env)
        .map((o) => o.env),
    ).toEqual(
      expect.arrayContaining([
        'CLOUDFLARE_API_URL',
        'CLOUDFLARE_API_KEY',
        'GITHUB_TOKEN',
        'CODEGEN_API_KEY',
        'CODEGEN_ORG_ID',
      ]),
    );
  });

  it('gives every key a bounded, strict format and says what it accepts', () => {
    // Built-in constructors read loosely (Number takes NaN) and the old names have no upper bound.
    const loose = schemaLeaves()
      .filter(({ spec }) => !Array.isArray(spec.format))
      .filter(
        ({ spec }) =>
          typeof spec.format !== 'string' || ['positive-int', 'non-negative-int', 'string-list'].includes(spec.format),
      )
      .map(({ key }) => key);
    expect(loose).toEqual([]);
    for (const option of listOptions()) expect(option.accepts.length).toBeGreaterThan(5);
  });

  it('documents every list one way', () => {
    const lists = listOptions().filter((o) => Array.isArray(o.default));
    expect(lists.map((o) => o.env)).toEqual(['PR_ASSIGNEES', 'PR_REVIEWERS', 'PR_TEAM_REVIEWERS', 'PR_LABELS']);
    for (const option of lists) expect(option.accepts).toContain(LIST_SYNTAX);
  });
});
