/**
 * The in-memory side of the GitHub fake: repositories, branches, pull requests, labels, assignees, review
 * requests and commit statuses, and one handler per GitHub operation id (bodies from github-fake-json.ts).
 */
import { createGitHubJson, digest, idOf } from './github-fake-json.js';

/** What a test passes to open a PR the way Codegen's GitHub App does. */
export interface AgentPullArgs {
  owner: string;
  repo: string;
  head: string;
  base?: string;
  title: string;
  body?: string;
  /** Default 'codegen-sh[bot]'. */
  author?: string;
}

/** A pull request as the fake stores it. */
export interface FakePull {
  owner: string;
  repo: string;
  number: number;
  title: string;
  body: string | null;
  head: string;
  headSha: string;
  base: string;
  draft: boolean;
  state: 'open' | 'closed';
  merged: boolean;
  author: string;
  labels: string[];
  assignees: string[];
  requestedReviewers: string[];
  requestedTeams: string[];
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
}

/** What a handler (or an injected failure) answers. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
export type Handler = (req: { params: Record<string, string>; query: Record<string, string>; body: unknown }) => Reply;
type Json = Record<string, unknown>;

/** One repository of the fake. */
export interface FakeRepo {
  owner: string;
  name: string;
  branches: Map<string, string>;
  pulls: Map<number, FakePull>;
  /** Combined status per commit sha. */
  statuses: Map<string, 'pending' | 'success' | 'failure' | 'error'>;
  nextNumber: number;
}

export const DOCS = 'https://docs.github.com/rest';
const notFound = (): Reply => ({ status: 404, body: { message: 'Not Found', documentation_url: DOCS } });
const unprocessable = (message: string, errors?: Json[]): Reply => ({
  status: 422,
  body: { message, ...(errors ? { errors } : {}), documentation_url: DOCS },
});

/** The repositories and what is in them, plus the REST handlers over them. */
export function createGitHubState(config: {
  examples: Record<string, { value: unknown }>;
  login: string;
  apiUrl: () => string;
  collaborators?: string[];
}) {
  const repos = new Map<string, FakeRepo>();
  let clock = 0;
  // Strictly increasing whole seconds, so every change moves updated_at and with it the ETag.
  const now = () => new Date((clock = Math.max(Date.now(), clock + 1000))).toISOString().replace(/\.\d+Z$/, 'Z');
  const canPush = (login: string) =>
    !config.collaborators || config.collaborators.some((c) => c.toLowerCase() === login.toLowerCase());

  const repoOf = (owner: string, name: string, create = false): FakeRepo | undefined => {
    const key = `${owner}/${name}`.toLowerCase();
    let repo = repos.get(key);
    if (!repo && create) {
      repo = {
        owner,
        name,
        branches: new Map([['main', digest(`${key}:main`)]]),
        pulls: new Map(),
        statuses: new Map(),
        nextNumber: 1,
      };
      repos.set(key, repo);
    }
    return repo;
  };
  const pullOf = (p: Record<string, string>) =>
    repoOf(p.owner ?? '', p.repo ?? '')?.pulls.get(Number(p.pull_number ?? p.issue_number));

  const json = createGitHubJson({ examples: config.examples, apiUrl: config.apiUrl, login: config.login });
  const { shared, labelJson, repoJson } = json;
  const pullJson = (pull: FakePull, simple = false) =>
    json.pullJson(pull, repoOf(pull.owner, pull.repo) as FakeRepo, simple);

  const touch = (pull: FakePull) => (pull.updatedAt = now());
  /** A PR as the issues API shows it. */
  const issueJson = (pull: FakePull) => {
    const json = pullJson(pull);
    return {
      ...shared<Json>('issue'),
      number: pull.number,
      title: pull.title,
      body: pull.body,
      state: pull.state,
      user: json.user,
      labels: json.labels,
      assignee: json.assignee,
      assignees: json.assignees,
      html_url: json.html_url,
    };
  };
  const addPull = (
    repo: FakeRepo,
    args: { head: string; base: string; title: string; body: string | null; draft: boolean; author: string },
  ) => {
    const at = now();
    const pull: FakePull = {
      ...args,
      owner: repo.owner,
      repo: repo.name,
      number: repo.nextNumber++,
      headSha: repo.branches.get(args.head) ?? digest(args.head),
      state: 'open',
      merged: false,
      labels: [],
      assignees: [],
      requestedReviewers: [],
      requestedTeams: [],
      createdAt: at,
      updatedAt: at,
      closedAt: null,
      mergedAt: null,
    };
    repo.pulls.set(pull.number, pull);
    return pull;
  };

  const handlers: Record<string, Handler> = {
    'pulls/get': ({ params }) => {
      const pull = pullOf(params);
      return pull ? { status: 200, body: pullJson(pull) } : notFound();
    },
    'pulls/list': ({ params, query }) => {
      const repo = repoOf(params.owner ?? '', params.repo ?? '');
      if (!repo) return notFound();
      // GitHub's order: sort created (default) or updated; direction desc by default for created, else asc.
      const sort = query.sort ?? 'created';
      const direction = query.direction ?? (sort === 'created' ? 'desc' : 'asc');
      const key = (p: FakePull) => (sort === 'updated' ? Date.parse(p.updatedAt) : p.number);
      let list = [...repo.pulls.values()].sort((a, b) =>
        direction === 'desc' ? key(b) - key(a) || b.number - a.number : key(a) - key(b) || a.number - b.number,
      );
      const state = query.state ?? 'open';
      if (state !== 'all') list = list.filter((p) => p.state === state);
      // Real GitHub quirk: a head without the owner: prefix is silently ignored and every PR comes back.
      const head = /^([^:]+):(.+)$/.exec(query.head ?? '');
      if (head) list = list.filter((p) => head[1]?.toLowerCase() === repo.owner.toLowerCase() && p.head === head[2]);
      if (query.base) list = list.filter((p) => p.base === query.base);
      const perPage = Number(query.per_page ?? 30);
      const page = Number(query.page ?? 1);
      return { status: 200, body: list.slice((page - 1) * perPage, page * perPage).map((p) => pullJson(p, true)) };
    },
    'pulls/create': ({ params, body }) => {
      const repo = repoOf(params.owner ?? '', params.repo ?? '');
      if (!repo) return notFound();
      const b = body as { title?: string; head: string; base: string; body?: string; draft?: boolean };
      const [headOwner, headRef] = b.head.includes(':') ? b.head.split(':', 2) : [repo.owner, b.head];
      if (headOwner?.toLowerCase() !== repo.owner.toLowerCase() || !headRef || !repo.branches.has(headRef)) {
        return unprocessable('Validation Failed', [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
      }
      if (!repo.branches.has(b.base))
        return unprocessable('Validation Failed', [{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
      if (!b.title)
        return unprocessable('Validation Failed', [{ resource: 'PullRequest', field: 'title', code: 'missing_field' }]);
      if ([...repo.pulls.values()].some((p) => p.state === 'open' && p.head === headRef && p.base === b.base)) {
        const message = `A pull request already exists for ${repo.owner}:${headRef}.`;
        return unprocessable('Validation Failed', [{ resource: 'PullRequest', code: 'custom', message }]);
      }
      const pull = addPull(repo, {
        head: headRef,
        base: b.base,
        title: b.title,
        body: b.body ?? null,
        draft: b.draft === true,
        author: config.login,
      });
      return {
        status: 201,
        body: pullJson(pull),
        headers: { location: `${config.apiUrl()}/repos/${repo.owner}/${repo.name}/pulls/${pull.number}` },
      };
    },
    'pulls/update': ({ params, body }) => {
      const pull = pullOf(params);
      if (!pull) return notFound();
      const b = body as { title?: string; body?: string; state?: 'open' | 'closed'; base?: string };
      if (b.title !== undefined) pull.title = b.title;
      if (b.body !== undefined) pull.body = b.body;
      if (b.base !== undefined) pull.base = b.base;
      if (b.state !== undefined && !pull.merged) {
        pull.state = b.state;
        pull.closedAt = b.state === 'closed' ? now() : null;
      }
      touch(pull);
      return { status: 200, body: pullJson(pull) };
    },
    'pulls/request-reviewers': ({ params, body }) => {
      const pull = pullOf(params);
      if (!pull) return notFound();
      const { reviewers = [], team_reviewers: teams = [] } = (body ?? {}) as {
        reviewers?: string[];
        team_reviewers?: string[];
      };
      if (reviewers.some((r) => r.toLowerCase() === pull.author.toLowerCase())) {
        return unprocessable('Review cannot be requested from pull request author.');
      }
      if (!reviewers.every(canPush)) {
        return unprocessable(
          `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ${pull.owner}/${pull.repo} repository.`,
        );
      }
      pull.requestedReviewers = [...new Set([...pull.requestedReviewers, ...reviewers])];
      pull.requestedTeams = [...new Set([...pull.requestedTeams, ...teams])];
      touch(pull);
      return { status: 201, body: pullJson(pull, true) };
    },
    'issues/add-labels': ({ params, body }) => {
      const pull = pullOf(params);
      if (!pull) return notFound();
      const names = ((body as { labels?: Array<string | { name: string }> } | undefined)?.labels ?? []).map((l) =>
        typeof l === 'string' ? l : l.name,
      );
      pull.labels = [...new Set([...pull.labels, ...names])];
      touch(pull);
      return { status: 200, body: pull.labels.map((l) => labelJson(repoOf(pull.owner, pull.repo) as FakeRepo, l)) };
    },
    'issues/add-assignees': ({ params, body }) => {
      const pull = pullOf(params);
      if (!pull) return notFound();
      const wanted = ((body as { assignees?: Array<string | { login: string }> } | undefined)?.assignees ?? []).map(
        (a) => (typeof a === 'string' ? a : a.login),
      );
      // GitHub drops users without push access without saying so.
      pull.assignees = [...new Set([...pull.assignees, ...wanted.filter(canPush)])];
      touch(pull);
      return { status: 201, body: issueJson(pull) };
    },
    // PATCH issues/{n} on a PR: labels and assignees are replaced, not added to. An assignee without push
    // access fails the whole write with 422 (where addAssignees drops them silently), as GitHub does.
    'issues/update': ({ params, body }) => {
      const pull = pullOf(params);
      if (!pull) return notFound();
      const b = (body ?? {}) as { labels?: Array<string | { name: string }>; assignees?: string[]; body?: string };
      if (b.assignees && !b.assignees.every(canPush)) {
        const bad = b.assignees.filter((a) => !canPush(a));
        return unprocessable('Validation Failed', [
          { value: bad[0], resource: 'Issue', field: 'assignees', code: 'invalid' },
        ]);
      }
      if (b.labels) pull.labels = [...new Set(b.labels.map((l) => (typeof l === 'string' ? l : l.name)))];
      if (b.assignees) pull.assignees = [...new Set(b.assignees)];
      if (b.body !== undefined) pull.body = b.body;
      touch(pull);
      return { status: 200, body: issueJson(pull) };
    },
    'git/get-ref': ({ params }) => {
      const repo = repoOf(params.owner ?? '', params.repo ?? '');
      const branch = params.ref?.startsWith('heads/') ? params.ref.slice('heads/'.length) : undefined;
      const sha = branch ? repo?.branches.get(branch) : undefined;
      if (!repo || !sha) return notFound();
      const api = `${config.apiUrl()}/repos/${repo.owner}/${repo.name}`;
      return {
        status: 200,
        body: {
          ref: `refs/${params.ref}`,
          node_id: `REF_${idOf(sha)}`,
          url: `${api}/git/refs/${params.ref}`,
          object: { type: 'commit', sha, url: `${api}/git/commits/${sha}` },
        },
      };
    },
    'repos/get-combined-status-for-ref': ({ params }) => {
      const repo = repoOf(params.owner ?? '', params.repo ?? '');
      if (!repo) return notFound();
      const ref = params.ref ?? '';
      const sha = repo.branches.get(ref.replace(/^heads\//, '')) ?? ref;
      const state = repo.statuses.get(sha);
      const base = shared<{ statuses: Json[] } & Json>('combined-commit-status');
      const api = `${config.apiUrl()}/repos/${repo.owner}/${repo.name}`;
      return {
        status: 200,
        body: {
          ...base,
          state: state === 'error' ? 'failure' : (state ?? 'pending'),
          statuses: state ? [{ ...base.statuses[0], state }] : [],
          sha,
          total_count: state ? 1 : 0,
          repository: repoJson(repo),
          commit_url: `${api}/commits/${sha}`,
          url: `${api}/commits/${sha}/status`,
        },
      };
    },
  };

  const mustFind = (owner: string, repo: string, number: number) => {
    const pull = repoOf(owner, repo)?.pulls.get(number);
    if (!pull) throw new Error(`fake: no pull ${owner}/${repo}#${number}`);
    return pull;
  };

  return {
    handlers,
    createBranch(owner: string, repo: string, branch: string) {
      repoOf(owner, repo, true)?.branches.set(branch, digest(`${owner}/${repo}:${branch}:${now()}`));
    },
    openPullRequestAsAgent(args: AgentPullArgs) {
      const repo = repoOf(args.owner, args.repo, true) as FakeRepo;
      if (!repo.branches.has(args.head))
        repo.branches.set(args.head, digest(`${args.owner}/${args.repo}:${args.head}`));
      const pull = addPull(repo, {
        head: args.head,
        base: args.base ?? 'main',
        title: args.title,
        body: args.body ?? null,
        draft: false,
        author: args.author ?? 'codegen-sh[bot]',
      });
      return { number: pull.number, html_url: `https://github.com/${repo.owner}/${repo.name}/pull/${pull.number}` };
    },
    getPull: (owner: string, repo: string, number: number): FakePull | undefined => {
      const pull = repoOf(owner, repo)?.pulls.get(number);
      return pull && structuredClone(pull);
    },
    listPulls: (owner: string, repo: string): FakePull[] =>
      [...(repoOf(owner, repo)?.pulls.values() ?? [])].map((p) => structuredClone(p)),
    mergePull(owner: string, repo: string, number: number) {
      const pull = mustFind(owner, repo, number);
      Object.assign(pull, { state: 'closed', merged: true, mergedAt: now(), closedAt: now() });
      touch(pull);
    },
    closePull(owner: string, repo: string, number: number) {
      const pull = mustFind(owner, repo, number);
      Object.assign(pull, { state: 'closed', closedAt: now() });
      touch(pull);
    },
    setCommitStatus(owner: string, repo: string, ref: string, state: 'pending' | 'success' | 'failure' | 'error') {
      const r = repoOf(owner, repo, true) as FakeRepo;
      r.statuses.set(r.branches.get(ref) ?? ref, state);
    },
  };
}
