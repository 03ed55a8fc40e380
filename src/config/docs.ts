/**
 * The configuration table, made from the schema so that it cannot drift: `codegen-pr config --env` prints it,
 * and README.md carries the same table (a test checks every env var appears there).
 */
import { formatOf } from './formats.js';
import { schemaLeaves } from './validate.js';

/** One configuration key as the docs show it. */
export interface OptionDoc {
  key: string;
  env?: string;
  default: unknown;
  doc: string;
  /** What a good value is (from the key's format): the "Accepts" column. */
  accepts: string;
  sensitive: boolean;
}

/** Every configuration key, in schema order. */
export function listOptions(): OptionDoc[] {
  return schemaLeaves().map(({ key, spec }) => ({
    key,
    ...(spec.env ? { env: spec.env } : {}),
    default: spec.default,
    doc: spec.doc,
    accepts: formatOf(spec.format)?.expected ?? '',
    sensitive: spec.sensitive === true,
  }));
}

function show(value: unknown): string {
  if (value === '') return '(empty)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return cell(text.replace(/\n/g, '\\n'));
}

/** Text safe inside a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** A Markdown table of every option that has an environment variable. */
export function envTable(): string {
  const rows = listOptions()
    .filter((o) => o.env)
    .map(
      (o) =>
        `| \`${o.env}\` | \`${o.key}\` | ${o.sensitive ? '(secret)' : `\`${show(o.default)}\``} | ${cell(o.doc)} | ${cell(o.accepts)} |`,
    );
  return ['| Variable | Key | Default | What it does | Accepts |', '| --- | --- | --- | --- | --- |', ...rows].join(
    '\n',
  );
}
