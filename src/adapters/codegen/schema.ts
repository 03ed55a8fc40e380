/**
 * Hand-written guards for the Codegen responses the adapter reads, following the required fields and types of
 * the official OpenAPI document (test/fixtures/codegen-openapi3.json). Nothing leaves the adapter unvalidated:
 * a body that does not match becomes a retryable `codegen-invalid-response` (a half-deployed backend or a
 * proxy error page is usually transient).
 */
import { DaemonError } from '../../domain/errors.js';
import type { AgentIdentity, AgentPullRequest, AgentRun } from '../../pipeline/ports.js';
import { classifyRunStatus } from './status.js';

/** GithubPullRequestResponse: required id, created_at. */
export interface RawPullRequest {
  id: number;
  created_at: string;
  title?: string | null;
  url?: string | null;
  head_branch_name?: string | null;
}

/** AgentRunResponse: required id, organization_id. */
export interface RawAgentRun {
  id: number;
  organization_id: number;
  status?: string | null;
  created_at?: string | null;
  web_url?: string | null;
  result?: string | null;
  summary?: string | null;
  source_type?: string | null;
  github_pull_requests?: RawPullRequest[] | null;
  metadata?: Record<string, unknown> | null;
}

/** RepoResponse: the fields the adapter reads (the spec requires more; they are checked too). */
export interface RawRepo {
  id: number;
  name: string;
  full_name: string;
}

/** UserResponse: required id, github_user_id, github_username. */
export interface RawUser {
  id: number;
  email?: string | null;
  github_user_id: string;
  github_username: string;
}

/** Page[T]: required items, total, page, size, pages. */
export interface RawPage<T> {
  items: T[];
  total: number;
  page: number;
  size: number;
  pages: number;
}

type Guard<T> = (value: unknown) => value is T;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
/** Optional and nullable: absent, null, or passing the guard (the spec's `anyOf [T, null]`, not required). */
const optNull = (v: unknown, guard: (x: unknown) => boolean): boolean => v === undefined || v === null || guard(v);
const nullable = (v: unknown, guard: (x: unknown) => boolean): boolean => v === null || guard(v);

export const isRawPullRequest: Guard<RawPullRequest> = (v): v is RawPullRequest =>
  isObject(v) &&
  isInt(v.id) &&
  isStr(v.created_at) &&
  optNull(v.title, isStr) &&
  optNull(v.url, isStr) &&
  optNull(v.head_branch_name, isStr);

export const isRawAgentRun: Guard<RawAgentRun> = (v): v is RawAgentRun =>
  isObject(v) &&
  isInt(v.id) &&
  isInt(v.organization_id) &&
  optNull(v.status, isStr) &&
  optNull(v.created_at, isStr) &&
  optNull(v.web_url, isStr) &&
  optNull(v.result, isStr) &&
  optNull(v.summary, isStr) &&
  optNull(v.source_type, isStr) &&
  optNull(v.github_pull_requests, (x) => Array.isArray(x) && x.every(isRawPullRequest)) &&
  optNull(v.metadata, isObject);

export const isRawRepo: Guard<RawRepo> = (v): v is RawRepo =>
  isObject(v) &&
  isInt(v.id) &&
  isStr(v.name) &&
  isStr(v.full_name) &&
  nullable(v.description, isStr) &&
  isStr(v.github_id) &&
  isInt(v.organization_id) &&
  nullable(v.visibility, isStr) &&
  nullable(v.archived, (x) => typeof x === 'boolean') &&
  isStr(v.setup_status) &&
  nullable(v.language, isStr);

export const isRawUser: Guard<RawUser> = (v): v is RawUser =>
  isObject(v) && isInt(v.id) && isStr(v.github_user_id) && isStr(v.github_username) && optNull(v.email, isStr);

/** A guard for Page[T] built from the guard of its items. */
export function isRawPage<T>(item: Guard<T>): Guard<RawPage<T>> {
  return (v): v is RawPage<T> =>
    isObject(v) &&
    Array.isArray(v.items) &&
    v.items.every(item) &&
    isInt(v.total) &&
    isInt(v.page) &&
    isInt(v.size) &&
    isInt(v.pages);
}

/** The error for a body that fails its guard. The body itself is not quoted: it may be large or sensitive. */
export function invalidResponseError(what: string, cause?: unknown): DaemonError {
  return new DaemonError(`Codegen returned an invalid ${what} response`, {
    code: 'codegen-invalid-response',
    category: 'server',
    retryable: true,
    dependency: 'codegen',
    cause,
  });
}

/** Check `body` with `guard` or throw `codegen-invalid-response`. */
export function expectShape<T>(body: unknown, guard: Guard<T>, what: string): T {
  if (!guard(body)) throw invalidResponseError(what);
  return body;
}

const orUndefined = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

function toPullRequest(raw: RawPullRequest): AgentPullRequest {
  const pr: AgentPullRequest = { id: raw.id };
  if (raw.url) pr.url = raw.url;
  if (raw.head_branch_name) pr.branch = raw.head_branch_name;
  if (raw.title) pr.title = raw.title;
  return pr;
}

/** Map a validated AgentRunResponse to the port's AgentRun. */
export function toAgentRun(raw: RawAgentRun): AgentRun {
  const status = raw.status ?? null;
  const run: AgentRun = {
    id: raw.id,
    status,
    state: classifyRunStatus(status),
    pullRequests: (raw.github_pull_requests ?? []).map(toPullRequest),
  };
  const webUrl = orUndefined(raw.web_url);
  if (webUrl !== undefined) run.webUrl = webUrl;
  const result = orUndefined(raw.result);
  if (result !== undefined) run.result = result;
  const summary = orUndefined(raw.summary);
  if (summary !== undefined) run.summary = summary;
  const createdAt = orUndefined(raw.created_at);
  if (createdAt !== undefined) run.createdAt = createdAt;
  if (raw.metadata) run.metadata = raw.metadata;
  return run;
}

/** Map a validated UserResponse to the port's AgentIdentity. */
export function toAgentIdentity(raw: RawUser): AgentIdentity {
  const identity: AgentIdentity = { userId: raw.id, username: raw.github_username };
  if (raw.email) identity.email = raw.email;
  return identity;
}

/** Validate and map an AgentRunResponse body. */
export function parseAgentRun(body: unknown): AgentRun {
  return toAgentRun(expectShape(body, isRawAgentRun, 'agent run'));
}

/** Validate a Page[AgentRunResponse] body and map its items. */
export function parseAgentRunPage(body: unknown): RawPage<AgentRun> {
  const page = expectShape(body, isRawPage(isRawAgentRun), 'agent run page');
  return { ...page, items: page.items.map(toAgentRun) };
}

/** Validate a Page[RepoResponse] body. */
export function parseRepoPage(body: unknown): RawPage<RawRepo> {
  return expectShape(body, isRawPage(isRawRepo), 'repository page');
}

/** Validate and map a UserResponse body. */
export function parseUser(body: unknown): AgentIdentity {
  return toAgentIdentity(expectShape(body, isRawUser, 'user'));
}
