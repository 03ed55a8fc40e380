/**
 * A GitHub REST fake on loopback: in-memory repositories, branches, pull requests, labels, assignees, review
 * requests, commit statuses and installation tokens, with ETags and 304s. Every request is checked against
 * GitHub's official description (@octokit/openapi) and refused with 400 when it breaks it; every 2xx body the
 * fake sends is checked too. Responses are built on the description's own examples, so they carry every field
 * real GitHub sends. Real quirks kept: 422 on a duplicate PR or a review requested from the author, `head`
 * without `owner:` ignored by pulls.list, assignees without push access silently dropped.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createGitHubState,
  DOCS,
  type AgentPullArgs,
  type FakePull,
  type Handler,
  type Reply,
} from './github-fake-state.js';
import { loadGitHubContract, loadGitHubDescription } from './openapi-contract.js';
import { readBody } from './http-body.js';

export type { FakePull } from './github-fake-state.js';

export interface GitHubFakeOptions {
  /** The token the fake accepts (default 'ghp_fake_token'). */
  token?: string;
  /** Users with push access: assignees outside it are dropped and reviewers refused. Default: anyone. */
  collaborators?: string[];
  /** Login of the token's user, the author of PRs opened through the API. Default 'codegen-pr-bot'. */
  login?: string;
  /** Accept GitHub App JWTs signed by this key for POST /app/installations/{id}/access_tokens. */
  app?: { appId: string; publicKey: KeyObject | string };
  /**
   * Check each 2xx body the fake sends against the description (default true). The benchmarks turn it off: the
   * bodies are the fake's own, the tests check them, and checking costs the machine more CPU per task than the
   * daemon spends. Requests are always checked.
   */
  checkResponses?: boolean;
}

/** One request as the fake answered it. */
export interface FakeRequest {
  method: string;
  path: string;
  status: number;
  /** Arrival time (Date.now()). */
  at: number;
  query: Record<string, string>;
  body?: unknown;
  /** Which credential the request carried. */
  auth: 'token' | 'installation' | 'jwt' | 'none' | 'invalid';
}

export interface FailureMatch {
  method?: string;
  pathIncludes: string;
}

export interface GitHubFake {
  url: string;
  /** The token the fake accepts; assign to simulate a revoked or rotated token. */
  token: string;
  requests: FakeRequest[];
  /** Contract violations (requests refused with 400, and any 2xx body the fake sent that breaks the schema). */
  violations: string[];
  /** Installation tokens handed out to GitHub App clients. */
  installationTokens: string[];
  createBranch(owner: string, repo: string, branch: string): void;
  openPullRequestAsAgent(args: AgentPullArgs): { number: number; html_url: string };
  getPull(owner: string, repo: string, number: number): FakePull | undefined;
  listPulls(owner: string, repo: string): FakePull[];
  mergePull(owner: string, repo: string, number: number): void;
  closePull(owner: string, repo: string, number: number): void;
  /** Set the combined commit status of a branch's head (or a sha). */
  setCommitStatus(owner: string, repo: string, ref: string, state: 'pending' | 'success' | 'failure' | 'error'): void;
  /** Answer the next `times` (default 1) matching requests with this status instead of handling them. */
  failNext(match: FailureMatch, status: number, body?: unknown, headers?: Record<string, string>, times?: number): void;
  close(): Promise<void>;
}

/** Verify an RS256 JWT the way GitHub checks an App's: signature, issuer and expiry. */
function verifyAppJwt(jwt: string, app: NonNullable<GitHubFakeOptions['app']>): boolean {
  const [head, payload, signature] = jwt.split('.');
  if (!head || !payload || !signature) return false;
  const key = typeof app.publicKey === 'string' ? createPublicKey(app.publicKey) : app.publicKey;
  const ok = verify('RSA-SHA256', Buffer.from(`${head}.${payload}`), key, Buffer.from(signature, 'base64url'));
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown; exp?: number };
  return ok && String(claims.iss) === String(app.appId) && (claims.exp ?? 0) * 1000 > Date.now();
}

/** Start the fake on 127.0.0.1 on a free port. */
export async function startGitHubFake(options: GitHubFakeOptions = {}): Promise<GitHubFake> {
  let token = options.token ?? 'ghp_fake_token';
  const contract = loadGitHubContract();
  const examples = (loadGitHubDescription().components as { examples: Record<string, { value: unknown }> }).examples;
  const requests: FakeRequest[] = [];
  const violations: string[] = [];
  const installationTokens: string[] = [];
  const failures: Array<{ match: FailureMatch; reply: Reply; times: number }> = [];
  let baseUrl = '';
  const state = createGitHubState({
    examples,
    login: options.login ?? 'codegen-pr-bot',
    apiUrl: () => baseUrl,
    ...(options.collaborators ? { collaborators: options.collaborators } : {}),
  });

  const handlers: Record<string, Handler> = {
    ...state.handlers,
    // GET /rate_limit: what the daemon probes GitHub with.
    'rate-limit/get': () => ({ status: 200, body: examples['rate-limit-overview']?.value }),
    'apps/create-installation-access-token': () => {
      const issued = `ghs_fake_installation_${installationTokens.length + 1}`;
      installationTokens.push(issued);
      const base = examples['installation-token']?.value as Record<string, unknown>;
      const expires = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
      const permissions = { pull_requests: 'write', issues: 'write', contents: 'read', metadata: 'read' };
      const { repositories: _all, ...rest } = base;
      return {
        status: 201,
        body: { ...rest, token: issued, expires_at: expires, permissions, repository_selection: 'all' },
      };
    },
  };

  const authOf = (header: string | undefined, appRoute: boolean): FakeRequest['auth'] => {
    const credential = /^(?:token|bearer)\s+(.+)$/i.exec(header ?? '')?.[1];
    if (!credential) return 'none';
    if (appRoute) return options.app && verifyAppJwt(credential, options.app) ? 'jwt' : 'invalid';
    if (credential === token) return 'token';
    return installationTokens.includes(credential) ? 'installation' : 'invalid';
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const method = (req.method ?? 'GET').toUpperCase();
      const query = Object.fromEntries(url.searchParams);
      const text = await readBody(req);
      const appRoute = url.pathname.startsWith('/app/');
      const entry: FakeRequest = { method, path: url.pathname, status: 0, at: Date.now(), query, auth: 'none' };
      entry.auth = authOf(req.headers.authorization, appRoute);
      requests.push(entry);
      const send = (reply: Reply) => {
        let { status, body } = reply;
        const headers: Record<string, string> = {
          'content-type': 'application/json; charset=utf-8',
          'x-github-request-id': `FAKE:${requests.length}`,
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': '4999',
          'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 3600),
          ...reply.headers,
        };
        if (status === 200 && method === 'GET') {
          const etag = `W/"${createHash('sha1').update(JSON.stringify(body)).digest('hex')}"`;
          headers.etag = etag;
          // GitHub answers a matching If-None-Match with 304 and no body; it costs no rate limit.
          if (req.headers['if-none-match'] === etag) {
            status = 304;
            body = undefined;
          }
        }
        entry.status = status;
        res.writeHead(status, headers);
        res.end(body === undefined ? '' : JSON.stringify(body));
      };

      let body: unknown;
      if (text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          violations.push(`${method} ${url.pathname}: body is not JSON`);
          return send({ status: 400, body: { message: 'Problems parsing JSON', documentation_url: DOCS } });
        }
      }
      if (body !== undefined) entry.body = body;
      const check = contract.checkRequest({ method, path: url.pathname, query, headers: req.headers, body });
      if (check.violations.length) {
        violations.push(...check.violations);
        return send({ status: 400, body: { message: check.violations.join('; '), documentation_url: DOCS } });
      }
      const failure = failures.find(
        (f) =>
          f.times > 0 &&
          url.pathname.includes(f.match.pathIncludes) &&
          (!f.match.method || f.match.method.toUpperCase() === method),
      );
      if (failure) {
        failure.times--;
        return send(failure.reply);
      }
      if (entry.auth === 'none' || entry.auth === 'invalid') {
        return send({ status: 401, body: { message: 'Bad credentials', documentation_url: DOCS } });
      }
      const handler = check.operationId ? handlers[check.operationId] : undefined;
      if (!handler) {
        violations.push(`fake does not implement ${check.operationId ?? `${method} ${url.pathname}`}`);
        return send({ status: 404, body: { message: 'Not Found', documentation_url: DOCS } });
      }
      const reply = handler({ params: check.params ?? {}, query, body });
      if (reply.status < 300 && check.pathTemplate && options.checkResponses !== false) {
        violations.push(...contract.checkResponse(method, check.pathTemplate, reply.status, reply.body));
      }
      send(reply);
    })().catch((err: unknown) => {
      violations.push(`fake crashed: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    get token() {
      return token;
    },
    set token(value: string) {
      token = value;
    },
    requests,
    violations,
    installationTokens,
    createBranch: state.createBranch,
    openPullRequestAsAgent: state.openPullRequestAsAgent,
    getPull: state.getPull,
    listPulls: state.listPulls,
    mergePull: state.mergePull,
    closePull: state.closePull,
    setCommitStatus: state.setCommitStatus,
    failNext(match, status, body, headers, times = 1) {
      const reply: Reply = {
        status,
        body: body ?? { message: `Injected failure ${status}`, documentation_url: DOCS },
      };
      if (headers) reply.headers = headers;
      failures.push({ match, reply, times });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
