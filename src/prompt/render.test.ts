import { describe, expect, it } from '@jest/globals';
import { DaemonError } from '../domain/errors.js';
import { asBlock, parseTemplate, renderTemplate, templateNames } from './render.js';

describe('renderTemplate', () => {
  it('replaces variables and renders missing ones as nothing', () => {
    expect(renderTemplate('Hi {{NAME}}, {{ MISSING }}!', { NAME: 'Ada' })).toBe('Hi Ada, !');
  });

  it('joins a list used as a plain variable with commas', () => {
    expect(renderTemplate('Labels: {{L}}', { L: ['a', 'b'] })).toBe('Labels: a, b');
  });

  it('repeats a # section per item with {{.}} as the item, and treats a string as one item', () => {
    const t = '{{#L}}- {{.}}\n{{/L}}';
    expect(renderTemplate(t, { L: ['x', 'y'] })).toBe('- x\n- y\n');
    expect(renderTemplate(t, { L: 'only' })).toBe('- only\n');
    expect(renderTemplate(t, { L: [] })).toBe('');
    expect(renderTemplate(t, {})).toBe('');
  });

  it('renders ? once when set and ^ only when missing or empty', () => {
    const t = '{{?L}}has {{.}}{{/L}}{{^L}}none{{/L}}';
    expect(renderTemplate(t, { L: ['a', 'b'] })).toBe('has a, b');
    expect(renderTemplate(t, { L: [] })).toBe('none');
    expect(renderTemplate(t, { L: '' })).toBe('none');
    expect(renderTemplate(t, { L: [''] })).toBe('none');
  });

  it('drops the whole line of a standalone section tag, so optional blocks leave no blank lines', () => {
    const t = 'A\n\n{{?X}}\n## X\n\n{{#X}}\n- {{.}}\n{{/X}}\n\n{{/X}}\nB\n';
    expect(renderTemplate(t, { X: ['1', '2'] })).toBe('A\n\n## X\n\n- 1\n- 2\n\nB\n');
    expect(renderTemplate(t, {})).toBe('A\n\nB\n');
  });

  it('strips indentation before a standalone tag and handles a tag at the very start and end', () => {
    expect(renderTemplate('  {{?X}}  \nin\n  {{/X}}', { X: 'y' })).toBe('in\n');
    expect(renderTemplate('a {{?X}}b{{/X}} c', { X: 'y' })).toBe('a b c');
  });

  it('keeps a line where a section tag shares the line with text or another tag', () => {
    expect(renderTemplate('x{{?X}}\ny\n{{/X}}', { X: '1' })).toBe('x\ny\n');
    expect(renderTemplate('{{?X}}  {{?Y}}\nz\n{{/Y}}{{/X}}', { X: '1', Y: '1' })).toBe('  \nz\n');
  });

  it('nests sections; the innermost {{.}} wins and other names still resolve', () => {
    const t = '{{?A}}[{{#B}}{{.}}{{C}};{{/B}}]{{/A}}';
    expect(renderTemplate(t, { A: 'on', B: ['1', '2'], C: '!' })).toBe('[1!;2!;]');
  });

  it('never expands a value a second time (no template injection from task text)', () => {
    expect(renderTemplate('{{D}}', { D: 'use {{SECRET}} and {{#X}}y{{/X}}', SECRET: 'leak' })).toBe(
      'use {{SECRET}} and {{#X}}y{{/X}}',
    );
  });

  it('leaves unknown brace syntax as text', () => {
    expect(renderTemplate('{{> partial}} {{a-b}} {x}', {})).toBe('{{> partial}} {{a-b}} {x}');
  });

  it.each([
    ['{{#A}}never closed', /"\{\{#A\}\}" on line 1 is never closed/],
    ['x\n{{/A}}', /"\{\{\/A\}\}" on line 2 closes nothing/],
    ['{{#A}}{{?B}}{{/A}}{{/B}}', /does not match "\{\{\?B\}\}" opened on line 1/],
    ['{{#.}}{{/.}}', /is not a section name/],
  ])('refuses the malformed template %j with a configuration error', (template, message) => {
    let caught: unknown;
    try {
      parseTemplate(template);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DaemonError);
    expect((caught as DaemonError).code).toBe('prompt-template-invalid');
    expect((caught as DaemonError).category).toBe('configuration');
    expect((caught as Error).message).toMatch(message);
  });

  it('lists the names a template uses', () => {
    expect(templateNames('{{B}} {{#A}}{{.}}{{C}}{{/A}} {{^D}}{{/D}}')).toEqual(['A', 'B', 'C', 'D']);
  });
});

describe('block values', () => {
  const B = asBlock('```text\nbody\n```');

  it('stand on lines of their own when the template puts them mid-line', () => {
    expect(renderTemplate('Do: {{B}} now.', { B })).toBe('Do: \n```text\nbody\n```\n now.');
  });

  it('add no line break where the template already has one', () => {
    expect(renderTemplate('Do:\n\n{{B}}\n\nnext', { B })).toBe('Do:\n\n```text\nbody\n```\n\nnext');
    expect(renderTemplate('{{B}}', { B })).toBe('```text\nbody\n```');
  });

  it('keep two blocks in a row apart', () => {
    expect(renderTemplate('{{B}}{{B}}', { B })).toBe('```text\nbody\n```\n```text\nbody\n```');
  });

  it('work as the item of a section, and an empty block renders nothing', () => {
    expect(renderTemplate('{{?B}}x {{.}} y{{/B}}', { B })).toBe('x \n```text\nbody\n```\n y');
    expect(renderTemplate('{{#B}}- {{.}}{{/B}}', { B })).toBe('- \n```text\nbody\n```');
    expect(renderTemplate('a{{?E}}never{{/E}}{{^E}}none{{/E}}', { E: asBlock('') })).toBe('anone');
  });
});
