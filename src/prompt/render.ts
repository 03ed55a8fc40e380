/**
 * A small mustache-like renderer for prompt templates. Pure: no I/O, no code execution, one pass (a value that
 * itself contains `{{X}}` is inserted literally, never expanded again).
 *
 * Syntax:
 * - `{{NAME}}`                 the value; a list renders comma-separated; a missing value renders empty.
 * - `{{#NAME}}...{{/NAME}}`    repeat the body for each item of a list (a string counts as one item);
 *                              inside, `{{.}}` is the current item. Nothing when missing or empty.
 * - `{{?NAME}}...{{/NAME}}`    render the body once when NAME is non-empty (`{{.}}` is the whole value).
 * - `{{^NAME}}...{{/NAME}}`    render the body once when NAME is missing or empty.
 * A section tag alone on its line takes the whole line with it, so optional blocks leave no blank lines behind.
 * Names are letters, digits and underscores. Anything else between braces is left as literal text.
 *
 * A `BlockValue` (a fenced block of task text) always stands on lines of its own: when the template puts it
 * mid-line, a line break is added before it and after it. A fence that does not start a line is no fence, and
 * the task text after it would be read as markdown; so no template, built-in or user, can place it wrongly.
 */
import { DaemonError } from '../domain/errors.js';

/** A value that must start and end on a line of its own, such as a fenced block. */
export interface BlockValue {
  readonly block: string;
}

/** One template value: text, a list, a block, or nothing. */
export type TemplateValue = string | string[] | BlockValue | undefined;

/** The values a template is rendered with. */
export type TemplateVars = Record<string, TemplateValue>;

/** Wrap `text` as a value that always stands on lines of its own. */
export function asBlock(text: string): BlockValue {
  return { block: text };
}

type SectionKind = '#' | '?' | '^';
type Node =
  | { type: 'text'; text: string }
  | { type: 'var'; name: string }
  | { type: 'section'; kind: SectionKind; name: string; children: Node[] };

type Token =
  | { type: 'text'; text: string }
  | { type: 'var'; name: string }
  | { type: 'open'; kind: SectionKind; name: string; at: number }
  | { type: 'close'; name: string; at: number };

const TAG = /\{\{\s*([#?^/]?)\s*([A-Za-z_][A-Za-z0-9_]*|\.)\s*\}\}/g;

function invalid(message: string): DaemonError {
  return new DaemonError(`invalid prompt template: ${message}`, {
    code: 'prompt-template-invalid',
    category: 'configuration',
  });
}

function lineOf(template: string, at: number): number {
  return template.slice(0, at).split('\n').length;
}

function tokenize(template: string): Token[] {
  const tokens: Token[] = [];
  let last = 0;
  for (const match of template.matchAll(TAG)) {
    const at = match.index;
    if (at > last) tokens.push({ type: 'text', text: template.slice(last, at) });
    const sigil = match[1] ?? '';
    const name = match[2] ?? '';
    if (sigil === '') tokens.push({ type: 'var', name });
    else if (name === '.') throw invalid(`"{{${sigil}.}}" on line ${lineOf(template, at)} is not a section name`);
    else if (sigil === '/') tokens.push({ type: 'close', name, at });
    else tokens.push({ type: 'open', kind: sigil as SectionKind, name, at });
    last = at + match[0].length;
  }
  if (last < template.length) tokens.push({ type: 'text', text: template.slice(last) });
  return stripStandaloneLines(tokens);
}

/**
 * A section tag with only whitespace around it on its line is "standalone": drop that line entirely (the
 * indentation before it and the newline after it). Decided on the original texts, then applied, so several
 * standalone tags on consecutive lines all qualify.
 */
function stripStandaloneLines(tokens: Token[]): Token[] {
  const cutHead = new Set<number>();
  const cutTail = new Set<number>();
  tokens.forEach((token, i) => {
    if (token.type !== 'open' && token.type !== 'close') return;
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    // Only whitespace since the last newline, and that newline (or the template start) really is in this text:
    // a text without a newline after another tag means two tags share the line.
    const startsLine =
      prev === undefined ||
      (prev.type === 'text' && /(^|\n)[ \t]*$/.test(prev.text) && (prev.text.includes('\n') || i === 1));
    const endsLine =
      next === undefined ||
      (next.type === 'text' &&
        /^[ \t]*(\r?\n|$)/.test(next.text) &&
        (next.text.includes('\n') || i + 1 === tokens.length - 1));
    if (!startsLine || !endsLine) return;
    if (prev) cutTail.add(i - 1);
    if (next) cutHead.add(i + 1);
  });
  return tokens.map((token, i) => {
    if (token.type !== 'text') return token;
    let text = token.text;
    if (cutHead.has(i)) text = text.replace(/^[ \t]*(\r?\n)?/, '');
    if (cutTail.has(i)) {
      const nl = token.text.lastIndexOf('\n');
      const keep = nl === -1 ? 0 : nl + 1;
      // Only the part after the last newline is the tag's own line; the head cut (if any) came from before it.
      const removedHead = token.text.length - text.length;
      text = text.slice(0, Math.max(0, keep - removedHead));
    }
    return { type: 'text', text };
  });
}

/** Parse a template into a tree; throws a `prompt-template-invalid` DaemonError when sections do not balance. */
export function parseTemplate(template: string): Node[] {
  const root: Node[] = [];
  const stack: { node: Extract<Node, { type: 'section' }>; at: number }[] = [];
  const source = template;
  for (const token of tokenize(template)) {
    const into = stack.length > 0 ? stack[stack.length - 1]!.node.children : root;
    if (token.type === 'text' || token.type === 'var') into.push(token);
    else if (token.type === 'open') {
      const node = { type: 'section' as const, kind: token.kind, name: token.name, children: [] };
      into.push(node);
      stack.push({ node, at: token.at });
    } else {
      const open = stack.pop();
      if (!open) throw invalid(`"{{/${token.name}}}" on line ${lineOf(source, token.at)} closes nothing`);
      if (open.node.name !== token.name) {
        throw invalid(
          `"{{/${token.name}}}" on line ${lineOf(source, token.at)} does not match ` +
            `"{{${open.node.kind}${open.node.name}}}" opened on line ${lineOf(source, open.at)}`,
        );
      }
    }
  }
  const unclosed = stack.pop();
  if (unclosed) {
    throw invalid(
      `"{{${unclosed.node.kind}${unclosed.node.name}}}" on line ${lineOf(source, unclosed.at)} is never closed`,
    );
  }
  return root;
}

/** Every variable and section name a template uses (sorted), so callers can reject typos. */
export function templateNames(template: string): string[] {
  const names = new Set<string>();
  const walk = (nodes: Node[]): void => {
    for (const node of nodes) {
      if (node.type === 'var' && node.name !== '.') names.add(node.name);
      if (node.type === 'section') {
        names.add(node.name);
        walk(node.children);
      }
    }
  };
  walk(parseTemplate(template));
  return [...names].sort();
}

function isBlock(value: TemplateValue): value is BlockValue {
  return typeof value === 'object' && !Array.isArray(value);
}

/** The items a `{{#NAME}}` section repeats for (a string or a block counts as one item). */
function asList(value: TemplateValue): (string | BlockValue)[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.filter((item) => item !== '');
  if (isBlock(value)) return value.block === '' ? [] : [value];
  return value === '' ? [] : [value];
}

/** Collects the output; keeps every block on lines of its own. */
class Output {
  text = '';
  private breakBeforeNext = false;

  write(value: TemplateValue): void {
    if (isBlock(value)) {
      if (value.block === '') return;
      if (this.text !== '' && !this.text.endsWith('\n')) this.text += '\n';
      this.text += value.block;
      this.breakBeforeNext = true;
      return;
    }
    const text = Array.isArray(value) ? value.join(', ') : (value ?? '');
    if (text === '') return;
    if (this.breakBeforeNext && !text.startsWith('\n')) this.text += '\n';
    this.breakBeforeNext = false;
    this.text += text;
  }
}

function renderNodes(nodes: Node[], vars: TemplateVars, dot: string | BlockValue, out: Output): void {
  for (const node of nodes) {
    if (node.type === 'text') out.write(node.text);
    else if (node.type === 'var') out.write(node.name === '.' ? dot : vars[node.name]);
    else {
      const value = vars[node.name];
      const items = asList(value);
      if (node.kind === '#') for (const item of items) renderNodes(node.children, vars, item, out);
      else if (node.kind === '?' && items.length > 0) {
        renderNodes(node.children, vars, Array.isArray(value) ? value.join(', ') : (value ?? ''), out);
      } else if (node.kind === '^' && items.length === 0) renderNodes(node.children, vars, '', out);
    }
  }
}

/** Render `template` with `vars`. Missing values render empty; throws only on a malformed template. */
export function renderTemplate(template: string, vars: TemplateVars): string {
  const out = new Output();
  renderNodes(parseTemplate(template), vars, '', out);
  return out.text;
}
