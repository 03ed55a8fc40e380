/**
 * Response bodies for the GitHub fake, built on the examples in GitHub's own description (so they carry every
 * field the real API sends) with the fake's data written over them.
 */
import { createHash } from 'node:crypto';
import type { FakePull, FakeRepo } from './github-fake-state.js';

type Json = Record<string, unknown>;

export const digest = (seed: string) => createHash('sha1').update(seed).digest('hex');
/** A stable id per seed (memoized: the fake answers thousands of requests in the benchmarks). */
const ids = new Map<string, number>();
export const idOf = (seed: string): number => {
  let id = ids.get(seed);
  if (id === undefined) {
    id = parseInt(digest(seed).slice(0, 8), 16);
    if (ids.size > 100_000) ids.clear();
    ids.set(seed, id);
  }
  return id;
};

/** Freeze a value and everything in it: shared parts of the fake's answers must never be written to. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** JSON builders over the description's examples; `apiUrl` is the fake's base URL. */
export function createGitHubJson(config: {
  examples: Record<string, { value: unknown }>;
  apiUrl: () => string;
  login: string;
}) {
  /** A copy of a description example, for a caller that writes to it (`shared` is the read-only one). */
  const example = <T = Json>(name: string): T => structuredClone(config.examples[name]?.value) as T;
  // The builders below read the examples many times per request: one frozen copy each, spread where it changes.
  const frozen = new Map<string, unknown>();
  const shared = <T = Json>(name: string): T => {
    if (!frozen.has(name)) frozen.set(name, deepFreeze(structuredClone(config.examples[name]?.value)));
    return frozen.get(name) as T;
  };
  // Users and repositories do not change while the fake runs (only the base URL, once, at start).
  const users = new Map<string, Json>();
  const repos = new Map<string, Json>();

  const userJson = (login: string): Json => {
    const key = `${config.apiUrl()} ${login}`;
    let user = users.get(key);
    if (!user) {
      user = deepFreeze({
        ...(shared<Json>('pull-request').user as Json),
        login,
        id: idOf(login),
        node_id: `U_${idOf(login)}`,
        url: `${config.apiUrl()}/users/${encodeURIComponent(login)}`,
        html_url: login.endsWith('[bot]')
          ? `https://github.com/apps/${login.slice(0, -5)}`
          : `https://github.com/${login}`,
        type: login.endsWith('[bot]') ? 'Bot' : 'User',
      });
      users.set(key, user);
    }
    return user;
  };
  const repoJson = (repo: FakeRepo): Json => {
    const full = `${repo.owner}/${repo.name}`;
    const key = `${config.apiUrl()} ${full}`;
    let json = repos.get(key);
    if (!json) {
      const base = shared<Json>('pull-request').head as Json;
      json = deepFreeze({
        ...(base.repo as Json),
        id: idOf(full),
        name: repo.name,
        full_name: full,
        owner: userJson(repo.owner),
        html_url: `https://github.com/${full}`,
        url: `${config.apiUrl()}/repos/${full}`,
      });
      repos.set(key, json);
    }
    return json;
  };
  const labelJson = (repo: FakeRepo, name: string) => ({
    ...shared<Json[]>('label-items')[0],
    id: idOf(name),
    node_id: `LA_${idOf(name)}`,
    url: `${config.apiUrl()}/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(name)}`,
    name,
    description: '',
    color: 'ededed',
    default: false,
  });
  const teamJson = (slug: string) => ({
    ...shared<{ requested_teams: Json[] }>('pull-request').requested_teams[0],
    id: idOf(slug),
    name: slug,
    slug,
    type: 'organization',
    parent: null,
  });

  const pullJson = (pull: FakePull, repo: FakeRepo, simple = false): Json => {
    const base = simple ? (shared<Json[]>('pull-request-simple-items')[0] ?? {}) : shared<Json>('pull-request');
    const api = `${config.apiUrl()}/repos/${repo.owner}/${repo.name}`;
    const html = `https://github.com/${repo.owner}/${repo.name}/pull/${pull.number}`;
    const side = (which: 'head' | 'base', ref: string, sha: string) => ({
      ...(base[which] as Json),
      label: `${repo.owner}:${ref}`,
      ref,
      sha,
      user: userJson(repo.owner),
      repo: repoJson(repo),
    });
    const merged = simple
      ? {}
      : {
          merged: pull.merged,
          merged_by: pull.merged ? userJson(config.login) : null,
          mergeable: pull.state === 'open' ? true : null,
        };
    return {
      ...base,
      ...merged,
      url: `${api}/pulls/${pull.number}`,
      id: idOf(html),
      node_id: `PR_${idOf(html)}`,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: `${api}/issues/${pull.number}`,
      number: pull.number,
      state: pull.state,
      title: pull.title,
      user: userJson(pull.author),
      body: pull.body,
      labels: pull.labels.map((l) => labelJson(repo, l)),
      milestone: null,
      created_at: pull.createdAt,
      updated_at: pull.updatedAt,
      closed_at: pull.closedAt,
      merged_at: pull.mergedAt,
      merge_commit_sha: pull.merged ? digest(`${html}:merge`) : null,
      assignee: pull.assignees[0] ? userJson(pull.assignees[0]) : null,
      assignees: pull.assignees.map(userJson),
      requested_reviewers: pull.requestedReviewers.map(userJson),
      requested_teams: pull.requestedTeams.map(teamJson),
      head: side('head', pull.head, pull.headSha),
      base: side('base', pull.base, repo.branches.get(pull.base) ?? digest(pull.base)),
      draft: pull.draft,
      auto_merge: null,
    };
  };

  return { example, shared, userJson, repoJson, labelJson, teamJson, pullJson };
}
