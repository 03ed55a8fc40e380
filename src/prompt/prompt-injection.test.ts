/**
 * Task text cannot pose as our instructions. Each attempt in the corpus (test/fixtures/injection-corpus.ts) is
 * rendered, kept as a golden file (test/golden/prompts/injection/), and checked for structure with a CommonMark
 * parser: the headings are exactly ours, the canary is only ever inside code, the delivery section is last and
 * the same as for a harmless task, no forbidden character remains, and the prompt is within its cap. The last
 * block shows that these checks fail on prompts that are not contained.
 */
import { describe, expect, it } from '@jest/globals';
import { INJECTION_CORPUS, type InjectionCase } from '../../test/fixtures/injection-corpus.js';
import { checkGolden } from '../../test/fixtures/golden.js';
import { defaultConfig, gitSettings, makeTask } from '../../test/fixtures/prompt-fixtures.js';
import { promptStructure } from '../../test/fixtures/prompt-structure.js';
import { PromptGenerator } from './prompt-generator.js';
import { PROMPT_LIMITS } from './task-text.js';

const config = defaultConfig();
const generator = new PromptGenerator(config.promptGenerator, gitSettings(config));

/** The list, written out here rather than imported, so the check does not share the code it checks. */
const FORBIDDEN_RANGES: [number, number][] = [
  [0x00, 0x08],
  [0x0b, 0x1f],
  [0x7f, 0x9f],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2066, 0x2069],
  [0xfeff, 0xfeff],
  [0xe0000, 0xe007f],
];
const BACKTICK_LOOKALIKES = new Set(['`', '\uff40', '\u02cb', '\u1fef', '\u0300']);
const TILDE_LOOKALIKES = new Set(['~', '\uff5e', '\u223c']);

function firstForbidden(text: string): number | undefined {
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (FORBIDDEN_RANGES.some(([from, to]) => cp >= from && cp <= to)) return cp;
  }
  return undefined;
}

function longestRun(text: string, chars: ReadonlySet<string>): number {
  let longest = 0;
  let run = 0;
  for (const ch of text) {
    run = chars.has(ch) ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  return longest;
}

function headingsFor(retry: boolean): string[] {
  return [
    '# Feature',
    '## The task',
    '## How to approach it',
    '## Code style',
    '## Quality requirements',
    ...(retry ? ['## Attempt 2: what went wrong last time'] : []),
    '## Commit message',
    '## Deliver it as one pull request',
  ];
}

/** Every structural property a contained prompt has; returns the ones `content` breaks (empty when none). */
function violations(content: string, c: InjectionCase, retry: boolean): string[] {
  const found: string[] = [];
  const s = promptStructure(content);
  const benignTask = makeTask({ attempts: retry ? 2 : 1, ...c.benign });
  const benign = promptStructure(generator.render(benignTask, c.options).content);
  if (JSON.stringify(s.headings) !== JSON.stringify(headingsFor(retry))) found.push(`headings: ${s.headings}`);
  if (s.prose.includes(c.canary)) found.push('canary in prose');
  if (s.html.length > 0) found.push(`raw HTML: ${s.html.join(' | ').slice(0, 200)}`);
  if (c.canarySurvives === false) {
    if (content.includes(c.canary)) found.push('canary present');
  } else if (!s.code.some((code) => code.includes(c.canary))) found.push('canary not in code');
  if (JSON.stringify(s.lastSection) !== JSON.stringify(benign.lastSection)) found.push('delivery section changed');
  const bad = firstForbidden(content);
  if (bad !== undefined) found.push(`forbidden U+${bad.toString(16).padStart(4, '0')}`);
  if (content.includes('\r')) found.push('carriage return');
  if (content.length > PROMPT_LIMITS.prompt) found.push(`length ${content.length}`);
  for (const fence of s.fences) {
    const inside = Math.max(
      longestRun(fence.content, BACKTICK_LOOKALIKES),
      longestRun(fence.content, TILDE_LOOKALIKES),
    );
    if (fence.markup.length <= inside) found.push(`fence of ${fence.markup.length} around a run of ${inside}`);
  }
  return found;
}

describe('prompt injection corpus', () => {
  it('has at least 20 attempts, with distinct names and canaries', () => {
    expect(INJECTION_CORPUS.length).toBeGreaterThanOrEqual(20);
    expect(new Set(INJECTION_CORPUS.map((c) => c.name)).size).toBe(INJECTION_CORPUS.length);
    expect(new Set(INJECTION_CORPUS.map((c) => c.canary)).size).toBe(INJECTION_CORPUS.length);
  });

  it.each(INJECTION_CORPUS.map((c) => [c.name, c] as const))('contains %s', (name, c) => {
    const task = makeTask(c.task);
    const prompt = generator.render(task, c.options);
    expect(violations(prompt.content, c, task.attempts > 1)).toEqual([]);
    if (c.truncates) {
      expect(prompt.content).toMatch(/\[truncated \d+ (characters|more)\]/);
      expect(prompt.metadata.truncated).toBe(true);
    }
    // Last: a byte change is worth reading only once the structure is known to hold.
    checkGolden(`prompts/injection/${name}.md`, prompt.content);
  });
});

describe('the structural checks can fail', () => {
  const c = INJECTION_CORPUS.find((x) => x.name === 'fake-delivery-section')!;
  const content = generator.render(makeTask(c.task)).content;

  it('pass on the real prompt', () => {
    expect(violations(content, c, false)).toEqual([]);
  });

  it('catch task text let out of its fences (what the old generator did)', () => {
    const unfenced = content.replace(/^`{3,}(text)?$/gm, '').replace(/`+/g, '');
    expect(violations(unfenced, c, false)).toEqual(
      expect.arrayContaining(['canary in prose', expect.stringMatching(/^headings: /)]),
    );
  });

  it('catch a delivery section that is not last, a forbidden character, and a prompt over the cap', () => {
    const [head, delivery] = content.split('## Deliver it as one pull request');
    const moved = `## Deliver it as one pull request${delivery}\n${head}`;
    expect(violations(moved, c, false)).toContain('delivery section changed');
    expect(violations(content.replace('Title:', 'Title:\u202e'), c, false)).toContain('forbidden U+202e');
    expect(violations(content + 'x'.repeat(PROMPT_LIMITS.prompt), c, false)).toContainEqual(
      expect.stringMatching(/^length /),
    );
  });

  it('catch a fence no longer than a look-alike run inside it', () => {
    const short = '```text\n｀｀｀｀\n```\n';
    expect(violations(content.replace('## Commit message', `${short}\n## Commit message`), c, false)).toContain(
      'fence of 3 around a run of 4',
    );
  });
});
