import { describe, expect, it } from '@jest/globals';
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
    expect(section).toContain('[Add retries](https://tasks.example/tasks/task-1)');
    expect(section).toContain('[#42](https://codegen.com/traces/42)');
  });

  it('keeps a hostile title inert and an odd id inside the comment', () => {
    const section = renderTaskSection({ taskId: 'a -->b', taskTitle: 'x](evil)\n<script>' });
    expect(section).toContain('x\\](evil) \\<script\\>');
    expect(section.split('\n')[0]).toBe(taskSectionMarker('a -->b'));
    expect(taskSectionMarker('a -->b')).not.toContain('-->b');
    expect(section).not.toContain('Agent run');
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
