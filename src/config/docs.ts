/**
 * The configuration table, made from the schema so that it cannot drift: `codegen-pr config --env` prints it,
 * and README.md carries the same table (a test checks every env var appears there).
 */
import { schema } from './schema.js';

export interface OptionDoc {
  key: string;
  env?: string;
  default: unknown;
  doc: string;
  sensitive: boolean;
}

export function listOptions(): OptionDoc[] {
  const out: OptionDoc[] = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${name}` : name;
      const spec = value as { doc?: unknown; env?: string; default?: unknown; sensitive?: boolean };
      if (typeof spec.doc === 'string') {
        out.push({
          key,
          ...(spec.env ? { env: spec.env } : {}),
          default: spec.default,
          doc: spec.doc,
          sensitive: spec.sensitive === true,
        });
      } else if (typeof value === 'object' && value !== null) {
        walk(value as Record<string, unknown>, key);
      }
    }
  };
  walk(schema as unknown as Record<string, unknown>, '');
  return out;
}

function show(value: unknown): string {
  if (value === '') return '(empty)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.replace(/\n/g, '\\n').replace(/\|/g, '\\|');
}

/** A Markdown table of every option that has an environment variable. */
export function envTable(): string {
  const rows = listOptions()
    .filter((o) => o.env)
    .map(
      (o) =>
        `| \`${o.env}\` | \`${o.key}\` | ${o.sensitive ? '(secret)' : `\`${show(o.default)}\``} | ${o.doc.replace(/\|/g, '\\|')} |`,
    );
  return ['| Variable | Key | Default | What it does |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
