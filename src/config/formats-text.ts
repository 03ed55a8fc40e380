/**
 * Formats of text settings: URLs, addresses, names, ids, secrets, git names and templates. Each refuses
 * control characters and states what a good value looks like.
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { isValidBranchName } from '../prompt/git-naming.js';
import { templateNames } from '../prompt/render.js';
import { hasControlChar, text, type ValueFormat } from './format-kit.js';
import { repoOverrides } from './format-repos.js';

/** GitHub's owner/name rules: owner 1-39 letters, digits or hyphens (no leading or trailing hyphen); name 1-100. */
export function isRepository(value: string): boolean {
  const [owner, name, ...rest] = value.split('/');
  if (owner === undefined || name === undefined || rest.length > 0) return false;
  const ownerOk = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/.test(owner);
  return ownerOk && /^[A-Za-z0-9._-]{1,100}$/.test(name) && name !== '.' && name !== '..';
}

/** A GitHub login (1-39 letters, digits or hyphens, not starting with one), or an App's bot user "name[bot]". */
export function isGitHubLogin(value: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9-]{0,38}(\[bot\])?$/.test(value);
}

/** Why `value` is not an absolute URL with one of `protocols`, or undefined. Never quotes the value. */
function urlProblem(value: unknown, protocols: string[], allowEmpty: boolean, needsHost = true): string | undefined {
  if (typeof value !== 'string') return 'is not text';
  if (value === '') return allowEmpty ? undefined : 'is empty';
  if (hasControlChar(value) || /\s/.test(value)) return 'contains spaces or control characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (!protocols.includes(url.protocol)) return `does not start with ${protocols.map((p) => `${p}//`).join(' or ')}`;
  if (needsHost && url.hostname === '') return 'has no host';
  return undefined;
}

interface UrlOptions {
  allowEmpty: boolean;
  /** False for PostgreSQL, whose postgres:///db?host=/run/postgresql reaches a Unix socket. Default true. */
  needsHost?: boolean;
  extra?: (url: URL) => string | undefined;
}

function url(expected: string, protocols: string[], { allowEmpty, needsHost = true, extra }: UrlOptions): ValueFormat {
  return {
    expected,
    // A URL may carry user:password, so no message ever shows it.
    showValue: false,
    check: (value: unknown) =>
      urlProblem(value, protocols, allowEmpty, needsHost) ?? (value ? extra?.(new URL(value as string)) : undefined),
  };
}

/** Where a server may listen: an IP literal, localhost, or this machine's own name. */
function isBindAddress(value: string): boolean {
  return isIP(value) !== 0 || value === 'localhost' || value.toLowerCase() === hostname().toLowerCase();
}

/** Variables a commit message template may use (src/prompt/prompt-generator.ts COMMIT_VARIABLES). */
export const COMMIT_VARIABLES = ['TASK_TITLE', 'TASK_DESCRIPTION', 'TASK_ID', 'TASK_TYPE'] as const;

function commitTemplateProblem(value: string): string | undefined {
  let names: string[];
  try {
    names = templateNames(value);
  } catch {
    return 'has a section that is not closed, or closed without being opened';
  }
  const unknown = names.filter((name) => !(COMMIT_VARIABLES as readonly string[]).includes(name));
  return unknown.length > 0 ? `uses unknown variable(s) ${unknown.join(', ')}` : undefined;
}

const NO_CONTROL = 'without control characters';

/** The text formats by the names schema.ts uses. */
export const NAMED_TEXT_FORMATS: Readonly<Record<string, ValueFormat>> = {
  'http-url': url('an http:// or https:// URL', ['http:', 'https:'], { allowEmpty: false }),
  'optional-url': url('an http:// or https:// URL, or nothing', ['http:', 'https:'], { allowEmpty: true }),
  'postgres-url': url('a postgres:// or postgresql:// URL, or nothing', ['postgres:', 'postgresql:'], {
    allowEmpty: true,
    needsHost: false,
  }),
  'redis-url': url('a redis:// or rediss:// URL (path: a database number), or nothing', ['redis:', 'rediss:'], {
    allowEmpty: true,
    extra: (u) => (/^\/?(\d{1,2})?$/.test(u.pathname) ? undefined : 'has a path that is not a database number'),
  }),
  'bind-address': text({
    expected:
      "an IP address (0.0.0.0 or :: for every interface, 127.0.0.1 or ::1 for this machine only), localhost, or this machine's host name",
    max: 253,
    extra: (v) => (isBindAddress(v) ? undefined : "is neither an IP address, localhost, nor this machine's host name"),
  }),
  secret: text({
    expected: 'the token alone (no spaces, quotes or line breaks), or nothing',
    max: 8_192,
    allowEmpty: true,
    showValue: false,
    extra: (v) => (/[\s"']/.test(v) ? 'contains spaces or quotes' : undefined),
  }),
  'pem-key': text({
    expected:
      'the App\'s private key in PEM ("-----BEGIN ... PRIVATE KEY-----", \\n allowed for line breaks), or nothing',
    max: 16_384,
    allowEmpty: true,
    oneLine: false,
    showValue: false,
    extra: (v) => (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v) ? undefined : 'is not a PEM private key'),
  }),
  'numeric-id': text({ expected: 'a number (digits only), or nothing', max: 20, allowEmpty: true, pattern: /^\d+$/ }),
  'app-id': text({
    expected: 'the App id or client id (letters, digits, ".", "_" or "-"), or nothing',
    max: 100,
    allowEmpty: true,
    pattern: /^[A-Za-z0-9._-]+$/,
  }),
  'schema-name': text({
    // The same rule as quoteSchema in src/adapters/task-store/sql.ts: schema names cannot be bound as parameters.
    expected: 'a lower-case SQL name: a letter or "_", then letters, digits or "_", at most 63 characters',
    max: 63,
    pattern: /^[a-z_][a-z0-9_]*$/,
  }),
  path: text({ expected: `a path (or memory://), ${NO_CONTROL}`, max: 4_096 }),
  'optional-path': text({ expected: `a path to a directory, or nothing`, max: 4_096, allowEmpty: true }),
  'template-name': text({
    expected: 'a template name: a built-in one or <name> of a <name>.md in PROMPT_TEMPLATES_DIR',
    max: 100,
    pattern: /^[A-Za-z0-9_.-]+$/,
  }),
  'short-text': text({ expected: `text of at most 200 characters, ${NO_CONTROL}`, max: 200, allowEmpty: true }),
  'optional-repo': text({
    expected: "owner/repo by GitHub's rules (owner up to 39 characters, name up to 100), or nothing",
    max: 140,
    allowEmpty: true,
    extra: (v) => (isRepository(v) ? undefined : 'is not owner/repo'),
  }),
  'repo-overrides': repoOverrides(isRepository, isGitHubLogin),
  'branch-name': text({
    expected: 'a git branch name (no spaces, "..", "~", "^", ":", "?", "*", "[" or "\\")',
    max: 200,
    extra: (v) => (isValidBranchName(v) ? undefined : 'is not a valid git branch name'),
  }),
  'branch-prefix': text({
    expected: 'the start of a git branch name (the task id follows it), e.g. codegen/task-',
    max: 100,
    extra: (v) => (isValidBranchName(`${v}1`) ? undefined : 'does not make a valid git branch name'),
  }),
  'commit-template': text({
    expected: `a message using only ${COMMIT_VARIABLES.map((n) => `{{${n}}}`).join(', ')}, with every section closed`,
    max: 4_000,
    oneLine: false,
    extra: commitTemplateProblem,
  }),
  'task-url-template': text({
    expected: 'an http(s) URL with {id} where the task id goes, or nothing',
    max: 500,
    allowEmpty: true,
    extra: (v) => urlProblem(v.replaceAll('{id}', 'x'), ['http:', 'https:'], false),
  }),
  'worker-name': text({
    // The Task API takes worker names of 1-200 printable ASCII characters without spaces (src/task-api/requests.ts).
    expected: 'printable ASCII without spaces, at most 200 characters, or nothing (host:pid)',
    max: 200,
    allowEmpty: true,
    pattern: /^[\x21-\x7e]+$/,
  }),
};
