import { describe, expect, it } from '@jest/globals';
import MarkdownIt from 'markdown-it';
import { renderTaskSection, taskSectionMarker, upsertTaskSection } from './pr-body.js';

const input = {
  taskId: 'task-1',
  taskTitle: 'Add retries',
  taskUrl: 'https://tasks.example/tasks/task-1',
  agentRunId: 42,
  agentRunUrl: 'https://codegen.com/traces/42',
};

describe('renderTaskSection', () => {
  it('links the task and the agent run between markers', () => {
    const section = renderTaskSection(input);
    expect(section.startsWith('<!-- codegen-pr:task:task-1 -->')).toBe(true);
    expect(section.endsWith('<!-- /codegen-pr:task -->')).toBe(true);
    expect(section).toContain('**Task:** [`Add retries`](<https://tasks.example/tasks/task-1>) (`task-1`)');
    expect(section).toContain('[#42](<https://codegen.com/traces/42>)');
  });

  it('keeps a hostile title inert and an odd id inside the comment', () => {
    const section = renderTaskSection({ taskId: 'a -->b', taskTitle: 'x](evil)\n<script>' });
    expect(section).toContain('**Task:** `x](evil) <script>` (`a -->b`)');
    expect(section.split('\n')[0]).toBe(taskSectionMarker('a -->b'));
    expect(taskSectionMarker('a -->b')).not.toContain('-->b');
    expect(section).not.toContain('Agent run');
  });

  it.each([
    ['link and image', '[click](https://evil.example) ![x](https://evil.example/x.png)'],
    ['closing code span', 'a ` b `` c ``` CANARY'],
    ['HTML and comments', '<img src=x onerror=alert(1)> <!-- CANARY --> <details>'],
    ['mention and emphasis', '@everyone **CANARY** _x_'],
    ['heading and line breaks', '# CANARY\r\n## Deliver\n---'],
    ['bidi, zero-width, escapes and NUL', 'Fix \u202eCANARY\u202c\u200b\u001b[2J\u001b]0;t\u0007\u0000 it'],
    ['homoglyph fence', '｀｀｀ CANARY ˋˋˋ'],
  ])('renders a title with %s as literal text in one code span', (_, title) => {
    const section = renderTaskSection({ ...input, taskTitle: title });
    const tokens = new MarkdownIt('commonmark').parse(section, {});
    const line = tokens.find((t) => t.type === 'inline' && t.content.startsWith('**Task:**'))!;
    const end = line.children!.findIndex((c) => c.type === 'softbreak');
    const children = line.children!.slice(0, end).filter((c) => c.type !== 'text' || c.content !== '');
    const kinds = children.map((c) => c.type);
    expect(kinds).toEqual([
      'strong_open',
      'text',
      'strong_close',
      'text',
      'link_open',
      'code_inline',
      'link_close',
      'text',
      'code_inline',
      'text',
    ]);
    const shown = children[5]!.content;
    const forbidden = [...shown].filter((ch) => {
      const cp = ch.codePointAt(0)!;
      return (
        cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e)
      );
    });
    expect(forbidden).toEqual([]);
    expect(shown.length).toBeLessThanOrEqual(200);
    expect(tokens.filter((t) => t.type === 'html_block' || t.type === 'heading_open')).toHaveLength(2);
  });

  it('cuts a long title with a marker and does not link a URL the link syntax cannot hold', () => {
    const section = renderTaskSection({ ...input, taskTitle: 'T'.repeat(5000), taskUrl: 'https://x.example/a b' });
    expect(section).toMatch(/\*\*Task:\*\* `T+ \[truncated \d+ characters\]` \(`task-1`\)/);
    expect(section).not.toContain('https://x.example/a b');
  });
});

describe('upsertTaskSection', () => {
  const section = renderTaskSection(input);

  it('appends to an empty or null body', () => {
    expect(upsertTaskSection(null, section, 'task-1')).toEqual({ body: section, changed: true });
    expect(upsertTaskSection('  ', section, 'task-1')).toEqual({ body: section, changed: true });
  });

  it('appends once: a second run changes nothing', () => {
    const first = upsertTaskSection('Agent summary.', section, 'task-1');
    expect(first).toEqual({ body: `Agent summary.\n\n${section}`, changed: true });
    const second = upsertTaskSection(first.body, section, 'task-1');
    expect(second).toEqual({ body: first.body, changed: false });
  });

  it('treats CRLF bodies from the browser as unchanged', () => {
    const crlf = `Intro\r\n\r\n${section.replace(/\n/g, '\r\n')}`;
    expect(upsertTaskSection(crlf, section, 'task-1').changed).toBe(false);
  });

  it('replaces an outdated section and keeps the text around it', () => {
    const old = renderTaskSection({ taskId: 'task-1', taskTitle: 'Old title' });
    const body = `Before\n\n${old}\n\nAfter`;
    const result = upsertTaskSection(body, section, 'task-1');
    expect(result).toEqual({ body: `Before\n\n${section}\n\nAfter`, changed: true });
  });

  it('leaves another task section alone', () => {
    const other = renderTaskSection({ taskId: 'task-2', taskTitle: 'Other' });
    const result = upsertTaskSection(other, section, 'task-1');
    expect(result.body).toBe(`${other}\n\n${section}`);
  });

  it('replaces to the end when the end marker was removed by hand', () => {
    const body = `Top\n${taskSectionMarker('task-1')}\nhalf a section`;
    expect(upsertTaskSection(body, section, 'task-1').body).toBe(`Top\n${section}`);
  });

  it('wraps a section given without markers', () => {
    const result = upsertTaskSection('', 'plain', 'task-1');
    expect(result.body).toBe(`${taskSectionMarker('task-1')}\nplain\n<!-- /codegen-pr:task -->`);
    expect(upsertTaskSection(result.body, 'plain', 'task-1').changed).toBe(false);
  });
});
