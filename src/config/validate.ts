/**
 * Checks every key's value against its format, and walks configuration objects (files, code overrides) against
 * the schema so that an unknown or misplaced key is named with where it came from.
 */
import { showShort } from './format-kit.js';
import { formatOf } from './formats.js';
import { sourceIssue, valueIssue, type ConfigIssue } from './issues.js';
import { schema } from './schema.js';

/** One schema entry as convict sees it. */
export interface KeySpec {
  doc: string;
  format: unknown;
  default: unknown;
  env?: string;
  sensitive?: boolean;
}

/** A configuration key and its schema entry. */
export interface SchemaLeaf {
  key: string;
  spec: KeySpec;
}

function isLeaf(node: unknown): node is KeySpec {
  return typeof node === 'object' && node !== null && typeof (node as { doc?: unknown }).doc === 'string';
}

/** Every key of the schema, in schema order. */
export function schemaLeaves(): SchemaLeaf[] {
  const out: SchemaLeaf[] = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [name, child] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${name}` : name;
      if (isLeaf(child)) out.push({ key, spec: child });
      else if (typeof child === 'object' && child !== null) walk(child as Record<string, unknown>, key);
    }
  };
  walk(schema as unknown as Record<string, unknown>, '');
  return out;
}

/** The schema entry of `key`, if it is one. */
export function specOf(key: string): KeySpec | undefined {
  return schemaLeaves().find((leaf) => leaf.key === key)?.spec;
}

/** The value at a dotted path of a plain object. */
export function valueAt(object: unknown, key: string): unknown {
  let node = object;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** One issue per key whose value its format refuses. Secrets and URLs are never shown. */
export function checkValues(config: Record<string, unknown>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const { key, spec } of schemaLeaves()) {
    const format = formatOf(spec.format);
    // A schema entry without a known format is a programming error, not a user's: say so loudly.
    if (!format) throw new Error(`configuration key ${key} has no known format`);
    const value = valueAt(config, key);
    const problem = format.check(value);
    if (problem === undefined) continue;
    const hidden = spec.sensitive === true || format.showValue === false;
    issues.push(
      valueIssue({
        key,
        ...(spec.env ? { env: spec.env } : {}),
        problem,
        expected: format.expected,
        ...(hidden ? {} : { shown: showShort(value) }),
      }),
    );
  }
  return issues;
}

/**
 * Splits a configuration object (a file's content, or a library user's overrides) into [key, value] pairs
 * for the schema's keys, with an issue for every key the schema does not have and every group given a
 * non-object. `source` says where the object came from ("/etc/codegen-pr.json", "code overrides").
 */
export function flattenAgainstSchema(
  object: Record<string, unknown>,
  source: string,
): { entries: [string, unknown][]; issues: ConfigIssue[] } {
  const entries: [string, unknown][] = [];
  const issues: ConfigIssue[] = [];
  const walk = (value: Record<string, unknown>, node: Record<string, unknown>, prefix: string): void => {
    for (const [name, child] of Object.entries(value)) {
      const key = prefix ? `${prefix}.${name}` : name;
      // hasOwn, not `in` or a plain read: "__proto__" or "constructor" in a file must be an unknown key.
      const spec = Object.hasOwn(node, name) ? node[name] : undefined;
      if (child === undefined) continue;
      if (spec === undefined) {
        issues.push(
          sourceIssue(key, `unknown configuration key ${showShort(key)} in ${source}: remove it or fix its spelling`),
        );
      } else if (isLeaf(spec)) {
        entries.push([key, child]);
      } else if (typeof child === 'object' && child !== null && !Array.isArray(child)) {
        walk(child as Record<string, unknown>, spec as Record<string, unknown>, key);
      } else {
        issues.push(
          sourceIssue(key, `"${key}" in ${source} is a group of settings: give it an object of its keys, or remove it`),
        );
      }
    }
  };
  walk(object, schema as unknown as Record<string, unknown>, '');
  return { entries, issues };
}
